"""Cue planning: group shots into musical sections (cues), give each a key, mode, tempo, meter, density,
instrumentation and dynamic curve from its valence and arousal, and mark the cuts that earn an accent.

The music changes only where the film's emotion changes enough, not at every cut. Each cue holds a whole
number of beats, so the next cue's downbeat falls exactly on its cut; the last bar of a cue glides in
tempo toward the next one, so there is no jump in pace at the join.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.config.settings import default
from filmscore.core.affect import Mood, clip_unit
from filmscore.music.styles import DEFAULT_STYLE, STYLES, Orchestration

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NEUTRAL_TEMPO_BPM = 96.0  # the pace of a cue with arousal 0: a moderate walking tempo
TEMPO_OCTAVES_PER_AROUSAL = 0.6  # arousal -1 .. 1 spans 63 .. 145 bpm
DYNAMICS_STEP_S = 0.5  # spacing of the points of each cue's dynamic curve
VELOCITY_SOFT, VELOCITY_LOUD = 58, 118  # main-beat velocity at energy 0 and 1 (about 13 dB in a GM synth)
EXPRESSION_FLOOR = 0.68  # the dynamic curve's level at energy 0 (CC11; 1 at energy 1): about 7 dB more


@dataclass(frozen=True)
class CueOptions:
    home_key: int = 2  # pitch class of the score's home tonic (2 = D: open strings sit well there)
    change_threshold: float = 0.35  # distance on the valence/arousal plane that starts a new cue
    # shorter stretches join their neighbour: music needs time to say anything
    min_cue_s: float = default("cues.min_cue_s")
    # longer stretches are split at a cut, so a long film keeps moving
    max_cue_s: float = default("cues.max_cue_s")
    hit_threshold: float = 0.25  # rise in arousal across a cut that earns an accent
    mode_hysteresis: float = 0.1  # |valence| below this keeps the previous cue's mode
    strong: float = 0.55  # a shot this far from neutral is a strong emotion, which is not averaged away:
    strong_cue_s: float = 2.0  # one this long gets a cue of its own, however short; a shorter one a sting
    style: str = DEFAULT_STYLE  # the orchestra and the room (music/styles.py)


@dataclass(frozen=True)
class Hit:
    """An accent on a cut that matters: a sudden rise in arousal, a new cue, or a sting: a strong emotion
    too short for a cue of its own (a scream, a jump scare, a burst of joy), struck on its shot."""

    t_s: float
    strength: float  # 0 .. 1
    shot_index: int
    sting: Mood | None = None  # the mood of a sting; None for an accent


@dataclass(frozen=True)
class Cue:
    id: int
    start_s: float
    end_s: float
    shot_indices: tuple[int, ...]
    valence: float
    arousal: float
    mood: Mood  # the nearest label on the valence/arousal plane
    tonic: int  # pitch class
    mode: str  # "major" or "minor"
    tension: float  # 0 .. 1: chromatic and diminished harmony for fear
    energy: float  # 0 (a near-still pad) .. 1 (a driving cue): how busy, loud and bright, by the style
    tempo_bpm: float  # the cue's pace (before the glide into the next cue)
    meter: int  # beats per bar
    beat_times: tuple[float, ...]  # onset of every beat of the cue, from start_s, then end_s
    subdivision: int  # accompaniment notes per beat: 1, 2 or 4
    register: int  # octave shift of melody and accompaniment, -1 .. 1
    articulation: float  # fraction of each note's value that sounds: legato 0.95 .. staccato 0.45
    velocity: int  # MIDI velocity of the cue's main beats
    style: str  # the style's name (music/styles.py)
    instruments: Orchestration
    dynamics: tuple[tuple[float, float], ...]  # (t_s, level 0 .. 1) following the film's arousal

    @property
    def key(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class CuePlan:
    cues: tuple[Cue, ...]
    hits: tuple[Hit, ...]
    shot_cues: tuple[int, ...]  # the cue id of every shot
    duration_s: float


def plan_cues(
    emotions: tuple[ShotEmotion, ...],
    points: tuple[TimelinePoint, ...],
    duration_s: float,
    opts: CueOptions | None = None,
) -> CuePlan:
    opts = opts or CueOptions()
    groups = group_shots(emotions, duration_s, opts)
    moods = [_group_affect(emotions, group) for group in groups]
    bounds = [(emotions[g[0]].start_s if i else 0.0, _group_end(emotions, groups, i, duration_s))
              for i, g in enumerate(groups)]  # fmt: skip
    tempos = [tempo_for(arousal) for _, arousal in moods]
    cues: list[Cue] = []
    previous_mode: str | None = None
    for i, (group, (valence, arousal), (start_s, end_s)) in enumerate(
        zip(groups, moods, bounds, strict=True)
    ):
        mode = mode_for(valence, previous_mode, opts.mode_hysteresis)
        next_tempo = tempos[i + 1] if i + 1 < len(groups) else None
        cues.append(
            _make_cue(i, group, valence, arousal, mode, start_s, end_s, tempos[i], next_tempo, points, opts)
        )
        previous_mode = mode
    shot_cues = tuple(next(c.id for c in cues if e.shot.index in c.shot_indices) for e in emotions)
    return CuePlan(tuple(cues), find_hits(emotions, cues, opts), shot_cues, duration_s)


def group_shots(
    emotions: tuple[ShotEmotion, ...], duration_s: float, opts: CueOptions
) -> list[tuple[int, ...]]:
    """Walk the shots, opening a new cue where the emotion moves far from the current cue's mean, once the
    current cue has had time to say something. A strong emotion long enough for it (strong_cue_s) opens
    its own cue at once, and is closed by the next change: a frightened two-second shot between calm ones
    gets frightened music, not a calm cue's average."""
    groups: list[list[int]] = []
    for i, emotion in enumerate(emotions):
        if not groups:
            groups.append([i])
            continue
        current = groups[-1]
        length = emotions[current[-1]].end_s - emotions[current[0]].start_s
        valence, arousal = _group_affect(emotions, tuple(current))
        far = math.dist((valence, arousal), (emotion.valence, emotion.arousal)) > opts.change_threshold
        too_long = length + emotion.shot.duration_s > opts.max_cue_s
        strong_now = _strong(emotions, current, opts)
        long_enough = length >= opts.min_cue_s or (strong_now and length >= opts.strong_cue_s)
        strong = _is_strong(emotion, opts)
        if far and strong and emotion.shot.duration_s >= opts.strong_cue_s:
            if not long_enough and len(groups) > 1 and not strong_now:
                groups[-2].extend(groups.pop())  # a short, weak stretch joins the cue before it
            groups.append([i])
        elif strong and emotion.shot.duration_s < opts.strong_cue_s:
            current.append(i)  # too brief for a cue: a sting (find_hits) in the one it is in
        elif long_enough and (far or too_long):
            groups.append([i])
        else:
            current.append(i)
    # A short last cue joins the one before: the music should not change for a closing moment.
    last = groups[-1]
    short = emotions[last[-1]].end_s - emotions[last[0]].start_s < opts.min_cue_s
    if len(groups) > 1 and short and not _strong(emotions, last, opts):
        groups[-2].extend(groups.pop())
    return [tuple(group) for group in groups]


def _is_strong(emotion: ShotEmotion, opts: CueOptions) -> bool:
    """Whether a shot holds a strong emotion: far from neutral, and not calm. Calm is the absence of one,
    and a composer does not break into a cue for a brief, pleasant picture (a bright title card)."""
    far = math.hypot(emotion.valence, emotion.arousal) >= opts.strong
    return far and label_for(emotion.valence, emotion.arousal) not in (Mood.CALM, Mood.NEUTRAL)


def _strong(emotions: tuple[ShotEmotion, ...], group: list[int], opts: CueOptions) -> bool:
    """Whether a group of shots reads as a strong emotion as a whole (as _is_strong judges a shot)."""
    valence, arousal = _group_affect(emotions, tuple(group))
    far = math.hypot(valence, arousal) >= opts.strong
    return far and label_for(valence, arousal) not in (Mood.CALM, Mood.NEUTRAL)


def _group_affect(emotions: tuple[ShotEmotion, ...], group: tuple[int, ...]) -> tuple[float, float]:
    """Duration- and confidence-weighted mean valence and arousal of a group of shots."""
    weights = np.array([emotions[i].shot.duration_s * (0.5 + emotions[i].confidence) for i in group])
    if weights.sum() <= 0:
        weights = np.ones(len(group))
    valence = float(np.average([emotions[i].valence for i in group], weights=weights))
    arousal = float(np.average([emotions[i].arousal for i in group], weights=weights))
    return valence, arousal


def _group_end(
    emotions: tuple[ShotEmotion, ...], groups: list[tuple[int, ...]], i: int, duration_s: float
) -> float:
    return emotions[groups[i + 1][0]].start_s if i + 1 < len(groups) else duration_s


def mode_for(valence: float, previous: str | None, hysteresis: float) -> str:
    """Major for positive valence, minor for negative; a near-neutral cue keeps the previous mode."""
    if previous is not None and abs(valence) < hysteresis:
        return previous
    return "major" if valence >= 0 else "minor"


def tempo_for(arousal: float) -> float:
    return NEUTRAL_TEMPO_BPM * 2 ** (TEMPO_OCTAVES_PER_AROUSAL * clip_unit(arousal))


def tonic_for(mood: str, mode: str, home_key: int) -> int:
    """Calm major cues move to the subdominant, warmer than home; everything else stays on the home tonic,
    so changes of mood are heard as a change of mode on one tonic (the film-score habit)."""
    return (home_key + 5) % 12 if mood == Mood.CALM and mode == "major" else home_key


def _make_cue(
    index: int,
    group: tuple[int, ...],
    valence: float,
    arousal: float,
    mode: str,
    start_s: float,
    end_s: float,
    tempo_bpm: float,
    next_tempo_bpm: float | None,
    points: tuple[TimelinePoint, ...],
    opts: CueOptions,
) -> Cue:
    mood = label_for(valence, arousal)
    meter = 3 if mood == Mood.CALM and arousal < -0.35 else 4
    beat_times = fit_beats(start_s, end_s, tempo_bpm, next_tempo_bpm, meter)
    fitted_bpm = 60.0 / (beat_times[1] - beat_times[0]) if len(beat_times) > 1 else tempo_bpm
    excitement = (arousal + 1) / 2  # 0 .. 1
    style = STYLES[opts.style]
    energy = style.energy(arousal)
    subdivision, register, articulation, velocity = arrangement_for(energy, valence)
    return Cue(
        id=index,
        start_s=start_s,
        end_s=end_s,
        shot_indices=group,
        valence=valence,
        arousal=arousal,
        mood=mood,
        tonic=tonic_for(mood, mode, opts.home_key),
        mode=mode,
        tension=clip_unit(-valence * excitement * 2, 0.0, 1.0) if valence < 0 else 0.0,
        energy=round(energy, 3),
        tempo_bpm=round(fitted_bpm, 2),
        meter=meter,
        beat_times=beat_times,
        subdivision=subdivision,
        register=register,
        articulation=articulation,
        velocity=velocity,
        style=style.name,
        instruments=style.orchestration(mood),
        dynamics=dynamic_curve(points, start_s, end_s, style.energy),
    )


def arrangement_for(energy: float, valence: float) -> tuple[int, int, float, int]:
    """How busy, high, detached and loud a cue is, from its energy: from a near-still pad (whole notes,
    legato, soft) to a driving cue (sixteenths, detached, loud). Low and dark only for sorrow: a calm
    cue stays in the middle register, soft rather than dark."""
    subdivision = 1 if energy < 0.3 else 2 if energy < 0.6 else 4  # notes a beat in the accompaniment
    register = -1 if energy < 0.3 and valence < 0 else 1 if energy > 0.72 else 0
    articulation = round(0.95 - 0.5 * max(0.0, 2 * energy - 1), 3)
    velocity = round(VELOCITY_SOFT + (VELOCITY_LOUD - VELOCITY_SOFT) * energy)
    return subdivision, register, articulation, velocity


def fit_beats(
    start_s: float, end_s: float, tempo_bpm: float, next_tempo_bpm: float | None, meter: int
) -> tuple[float, ...]:
    """Beat onsets filling [start_s, end_s) with a whole number of beats near `tempo_bpm`.

    Over the last bar the beat length glides linearly toward the next cue's, so the join has no jump in
    pace. With n beats, the last k gliding from b to b_next: (n - k) b + k (b + b_next) / 2 = duration,
    which fixes b.
    """
    duration = end_s - start_s
    beat = 60.0 / tempo_bpm
    count = max(1, round(duration / beat))
    glide = 0 if next_tempo_bpm is None else min(meter, count - 1)
    lengths = [duration / count] * count
    if glide:
        next_beat = 60.0 / next_tempo_bpm  # type: ignore[operator]
        base = (duration - glide / 2 * next_beat) / (count - glide / 2)
        if 0.67 < base / beat < 1.5:
            ramp = [base + (next_beat - base) * (j + 1) / (glide + 1) for j in range(glide)]
            lengths = [base] * (count - glide) + ramp
            lengths[-1] += duration - sum(lengths)  # float drift only
    onsets = start_s + np.concatenate([[0.0], np.cumsum(lengths)])
    onsets[-1] = end_s
    return tuple(round(float(t), 6) for t in onsets)


def dynamic_curve(
    points: tuple[TimelinePoint, ...], start_s: float, end_s: float, energy: Callable[[float], float]
) -> tuple[tuple[float, float], ...]:
    """The film's smoothed arousal over the cue, as the style hears its energy, as a loudness level every
    DYNAMICS_STEP_S. Velocity, density and instrumentation carry most of the contrast; this adds the
    swell within a cue, and keeps a still cue within earshot (EXPRESSION_FLOOR)."""
    times = np.arange(start_s, end_s, DYNAMICS_STEP_S)
    if not points:
        return tuple((round(float(t), 3), 0.8) for t in times)
    arousal = np.interp(times, [p.t_s for p in points], [p.arousal for p in points])
    levels = [EXPRESSION_FLOOR + (1 - EXPRESSION_FLOOR) * energy(float(a)) for a in arousal]
    return tuple((round(float(t), 3), round(float(v), 3)) for t, v in zip(times, levels, strict=True))


def find_hits(emotions: tuple[ShotEmotion, ...], cues: list[Cue], opts: CueOptions) -> tuple[Hit, ...]:
    """Accents on cuts where arousal jumps up, softer ones where a livelier cue begins, and a sting on each
    strong shot too short for a cue of its own whose mood its cue does not share."""
    cue_starts = {c.shot_indices[0]: c for c in cues if c.id > 0}
    cue_of = {i: cue for cue in cues for i in cue.shot_indices}
    hits = []
    for i in range(1, len(emotions)):
        rise = emotions[i].arousal - emotions[i - 1].arousal
        strength = 0.0
        if rise >= opts.hit_threshold:
            strength = min(1.0, rise / (2 * opts.hit_threshold))
        cue = cue_starts.get(i)
        if cue is not None and cue.arousal > -0.2:
            strength = max(strength, 0.35)
        emotion = emotions[i]
        mood = label_for(emotion.valence, emotion.arousal)
        sting = None
        brief = _is_strong(emotion, opts) and emotion.shot.duration_s < opts.strong_cue_s
        if brief and mood != cue_of[i].mood:
            sting, strength = mood, 1.0
        if strength > 0:
            hits.append(Hit(round(emotion.start_s, 6), round(strength, 3), emotion.shot.index, sting))
    return tuple(hits)
