"""Cue planning: group shots into musical sections (cues), give each a key, mode, tempo, meter, density,
instrumentation and dynamic curve from its valence and arousal, and mark the cuts that earn an accent.

The music changes only where the film's emotion changes enough, not at every cut. Each cue holds a whole
number of beats, so the next cue's downbeat falls exactly on its cut; the last bar of a cue glides in
tempo toward the next one, so there is no jump in pace at the join.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.config.settings import default
from filmscore.core.affect import Mood, clip_unit
from filmscore.music.spotting import AUTO, Spot, Spotting
from filmscore.music.styles import DEFAULT_STYLE, STYLES, Orchestration

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NEUTRAL_TEMPO_BPM = 96.0  # the pace of a cue with arousal 0: a moderate walking tempo
TEMPO_OCTAVES_PER_AROUSAL = 0.6  # arousal -1 .. 1 spans 63 .. 145 bpm
DYNAMICS_STEP_S = 0.5  # spacing of the points of each cue's dynamic curve
VELOCITY_SOFT, VELOCITY_LOUD = 58, 118  # main-beat velocity at energy 0 and 1 (about 13 dB in a GM synth)
EXPRESSION_FLOOR = 0.68  # the dynamic curve's level at energy 0 (CC11; 1 at energy 1): about 7 dB more
SHORT_GAP_S = 1.0  # unspotted time shorter than this between spots joins the stretch before it
# The music's own limits, whatever the film, the spotting or an earlier cut asks: no cue is shorter than
# two beats of a brisk tempo (a shorter stretch joins its neighbour, or stays silent between kept cues),
# and every beat lies within a tempo a player can take.
SHORTEST_CUE_S = 1.0
SLOWEST_BPM, FASTEST_BPM = 40.0, 220.0
# How a cue ends: the next cue enters on its last beat; silence follows (a spotted `none`), so it closes on
# a held chord; or the film ends.
JOIN, CLOSE, FILM_END = "join", "close", "film end"


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
    spotted: bool = False  # asked for by the spotting (a `hit`), struck on its frame


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
    # The film's reading over the cue; valence and arousal differ from it where a spot set the mood.
    read_valence: float = 0.0
    read_arousal: float = 0.0
    spot: Spot | None = None  # the spot that set the cue's place and mood, if any
    ending: str = FILM_END  # JOIN, CLOSE or FILM_END
    kept_from: KeptCue | None = None  # in a re-cut, the earlier cut's cue this one keeps

    @property
    def spotted_mood(self) -> bool:
        """Whether the spotting, not the reading, chose the cue's mood."""
        return self.spot is not None and self.spot.sets_mood

    @property
    def key(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class KeptCue:
    """A cue of an earlier cut that a re-cut keeps note for note: its shots all came back, in order and at
    their lengths, so it moves with them."""

    cue: Cue  # as the earlier cut planned it
    hits: tuple[Hit, ...]  # the earlier cut's hits in it
    shots: tuple[int, ...]  # its shots in this cut
    shift_s: float  # where it starts now, less where it started

    @property
    def start_s(self) -> float:
        return self.cue.start_s + self.shift_s

    @property
    def end_s(self) -> float:
        return self.cue.end_s + self.shift_s


@dataclass(frozen=True)
class CuePlan:
    cues: tuple[Cue, ...]
    hits: tuple[Hit, ...]
    shot_cues: tuple[int | None, ...]  # the cue id of every shot (the cue holding most of it); None: silent
    duration_s: float
    silences: tuple[tuple[float, float], ...] = ()  # the spotted `none` ranges: no music there
    spotting: Spotting | None = None  # the editor's spotting followed, if any


@dataclass(frozen=True)
class Section:
    """A stretch of film that becomes one cue: its shots, the feeling it is scored with, and the spotted
    hits in it."""

    start_s: float
    end_s: float
    shots: tuple[int, ...]  # indices into the emotions
    valence: float
    arousal: float
    read_valence: float  # the reading's, where a spot set the feeling
    read_arousal: float
    spot: Spot | None = None
    hits: tuple[float, ...] = ()  # times of the spotted hits in it
    kept: KeptCue | None = None  # the earlier cut's cue it keeps, in a re-cut

    @property
    def spotted_mood(self) -> Mood | None:
        """The mood a spot set for it, if one did."""
        return Mood(self.spot.mood) if self.spot is not None and self.spot.sets_mood else None


def plan_cues(
    emotions: tuple[ShotEmotion, ...],
    points: tuple[TimelinePoint, ...],
    duration_s: float,
    opts: CueOptions | None = None,
    spotting: Spotting | None = None,
    keep: tuple[KeptCue, ...] = (),
) -> CuePlan:
    """The cues: where the music changes, and how each one sounds. A spotting places the cues it spots,
    sets their moods and keeps its `none` ranges silent; in a re-cut, the earlier cut's cues in `keep`
    stay as they were, moved to their shots' new times; the reading decides everywhere else."""
    opts = opts or CueOptions()
    sections = _sections(emotions, duration_s, opts, spotting, keep)
    tempos = [
        section.kept.cue.tempo_bpm if section.kept else tempo_for(section.arousal) for section in sections
    ]
    cues: list[Cue] = []
    previous_mode: str | None = None
    for i, section in enumerate(sections):
        following = sections[i + 1] if i + 1 < len(sections) else None
        joins = following is not None and abs(following.start_s - section.end_s) < 1e-6
        ending = JOIN if joins else CLOSE if section.end_s < duration_s - 1e-6 else FILM_END
        if section.kept is not None:
            cues.append(_kept_cue(i, section.kept, ending))
        else:
            hysteresis = 0.0 if section.spotted_mood else opts.mode_hysteresis
            mode = mode_for(section.valence, previous_mode, hysteresis)
            next_tempo = tempos[i + 1] if joins else None
            cues.append(_make_cue(i, section, mode, tempos[i], next_tempo, ending, points, opts))
        previous_mode = cues[-1].mode
    silences = spotting.silences(duration_s) if spotting else ()
    hits = find_hits(emotions, cues, opts, spotting)
    return CuePlan(tuple(cues), hits, _shot_cues(emotions, cues), duration_s, silences, spotting)


def _sections(
    emotions: tuple[ShotEmotion, ...],
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting | None,
    keep: tuple[KeptCue, ...],
) -> list[Section]:
    """The film's stretches that become cues: the kept cues where they now are, and between them the
    spotting's or the reading's."""
    sections: list[Section] = []
    at = 0.0
    for kept in sorted(keep, key=lambda k: k.start_s):
        if kept.start_s > at + 1e-6:
            sections += _sections_within(emotions, at, kept.start_s, duration_s, opts, spotting)
        cue = kept.cue
        sections.append(Section(kept.start_s, kept.end_s, kept.shots, cue.valence, cue.arousal,
                                cue.read_valence, cue.read_arousal, cue.spot, kept=kept))  # fmt: skip
        at = kept.end_s
    if at < duration_s - 1e-6:
        sections += _sections_within(emotions, at, duration_s, duration_s, opts, spotting)
    return without_slivers(sections)


def without_slivers(sections: list[Section]) -> list[Section]:
    """The sections with none shorter than SHORTEST_CUE_S where it has a neighbour: a sliver (a re-cut's
    frame-rounded gap between kept cues, a sub-second spot, a stretch between markers that nearly meet)
    joins the section it touches, the one before first; one touching only kept cues, which cannot change,
    is left silent. A film shorter than that keeps its one section."""
    result = list(sections)
    while len(result) > 1:
        short = next((k for k, s in enumerate(result) if s.end_s - s.start_s < SHORTEST_CUE_S), None)
        if short is None:
            break
        sliver = result.pop(short)
        before = result[short - 1] if short > 0 else None
        after = result[short] if short < len(result) else None
        if _can_take(before, sliver) and before is not None:
            result[short - 1] = _absorbed(before, sliver, at_end=True)
        elif _can_take(after, sliver) and after is not None:
            result[short] = _absorbed(after, sliver, at_end=False)
    return result


def _can_take(neighbour: Section | None, sliver: Section) -> bool:
    """Whether a neighbour can grow over a sliver: it is composed anew and touches it."""
    if neighbour is None or neighbour.kept is not None:
        return False
    return neighbour.end_s >= sliver.start_s - 1e-6 and neighbour.start_s <= sliver.end_s + 1e-6


def _absorbed(section: Section, sliver: Section, at_end: bool) -> Section:
    """`section` grown over the sliver beside it, with its shots and hits."""
    shots = (*section.shots, *sliver.shots) if at_end else (*sliver.shots, *section.shots)
    return replace(
        section,
        start_s=min(section.start_s, sliver.start_s),
        end_s=max(section.end_s, sliver.end_s),
        shots=tuple(dict.fromkeys(shots)),
        hits=tuple(sorted({*section.hits, *sliver.hits})),
    )


def _sections_within(
    emotions: tuple[ShotEmotion, ...],
    start_s: float,
    end_s: float,
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting | None,
) -> list[Section]:
    if spotting is not None:
        return spotted_sections(emotions, duration_s, opts, spotting, (start_s, end_s))
    shots = _shots_between(emotions, start_s, end_s)
    return _grouped(emotions, shots, start_s, end_s, opts) if shots else []


def _shots_between(emotions: tuple[ShotEmotion, ...], start_s: float, end_s: float) -> tuple[int, ...]:
    """The shots that show at least in part between the two times."""
    return tuple(i for i, e in enumerate(emotions) if e.end_s > start_s and e.start_s < end_s)


def _kept_cue(index: int, kept: KeptCue, ending: str) -> Cue:
    """The earlier cut's cue, moved to its shots' new place: the same beats, dynamics and arrangement."""

    def moved(t: float) -> float:
        return round(t + kept.shift_s, 6)

    cue = kept.cue
    return replace(
        cue,
        id=index,
        start_s=moved(cue.start_s),
        end_s=moved(cue.end_s),
        shot_indices=kept.shots,
        beat_times=tuple(moved(t) for t in cue.beat_times),
        dynamics=tuple((moved(t), level) for t, level in cue.dynamics),
        ending=ending,
        kept_from=kept,
    )


def _grouped(
    emotions: tuple[ShotEmotion, ...], shots: tuple[int, ...], start_s: float, end_s: float, opts: CueOptions
) -> list[Section]:
    """`shots` (consecutive, cut to [start_s, end_s]) grouped into cues as the reading decides."""
    local = tuple(_clipped(emotions[i], start_s, end_s) for i in shots)
    groups = group_shots(local, end_s - start_s, opts)
    sections = []
    for k, group in enumerate(groups):
        first = start_s if k == 0 else local[group[0]].start_s
        last = local[groups[k + 1][0]].start_s if k + 1 < len(groups) else end_s
        valence, arousal = _group_affect(local, group)
        sections.append(
            Section(first, last, tuple(shots[j] for j in group), valence, arousal, valence, arousal)
        )
    return sections


def spotted_sections(
    emotions: tuple[ShotEmotion, ...],
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting,
    window: tuple[float, float] | None = None,
) -> list[Section]:
    """The cues of a spotted film (within `window`, the whole film by default): one per spot that sets a
    mood, none in `none` spots, and the reading's grouping in `auto` spots and between spots. Unspotted
    time shorter than SHORT_GAP_S (markers that do not quite meet) joins the stretch before it, so it
    never becomes a cue of its own."""
    low, high = window or (0.0, duration_s)
    stretches = [(max(a, low), min(b, high), spot) for a, b, spot in spotting.sections(duration_s)
                 if b > low + 1e-6 and a < high - 1e-6]  # fmt: skip
    merged: list[tuple[float, float, Spot | None]] = []
    for start, end, spot in stretches:
        if spot is None and end - start < SHORT_GAP_S and merged:
            merged[-1] = (merged[-1][0], end, merged[-1][2])
        else:
            merged.append((start, end, spot))
    sections: list[Section] = []
    hit_times = [hit.t_s for hit in spotting.hits]
    for start, end, spot in merged:
        shots = _shots_between(emotions, start, end)
        if (spot is not None and spot.is_silent) or not shots:
            continue
        if spot is None or spot.mood == AUTO:
            for section in _grouped(emotions, shots, start, end, opts):
                inside = tuple(t for t in hit_times if section.start_s < t < section.end_s)
                sections.append(replace(section, spot=spot, hits=inside))
            continue
        read_valence, read_arousal = _group_affect(
            tuple(_clipped(emotions[i], start, end) for i in shots), tuple(range(len(shots)))
        )
        valence, arousal = spot.affect()
        inside = tuple(t for t in hit_times if start < t < end)
        sections.append(
            Section(start, end, shots, valence, arousal, read_valence, read_arousal, spot, inside)
        )
    return sections


def _clipped(emotion: ShotEmotion, start_s: float, end_s: float) -> ShotEmotion:
    """The shot's reading over the part of it within [start_s, end_s]."""
    shot = replace(emotion.shot, start_s=max(emotion.start_s, start_s), end_s=min(emotion.end_s, end_s))
    return replace(emotion, shot=shot)


def _shot_cues(emotions: tuple[ShotEmotion, ...], cues: list[Cue]) -> tuple[int | None, ...]:
    """Each shot's cue: the one that covers most of it; None for a shot in silence."""

    def overlap(emotion: ShotEmotion, cue: Cue) -> float:
        return min(emotion.end_s, cue.end_s) - max(emotion.start_s, cue.start_s)

    result: list[int | None] = []
    for emotion in emotions:
        best = max(cues, key=lambda cue: overlap(emotion, cue), default=None)
        result.append(best.id if best is not None and overlap(emotion, best) > 0 else None)
    return tuple(result)


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
    section: Section,
    mode: str,
    tempo_bpm: float,
    next_tempo_bpm: float | None,
    ending: str,
    points: tuple[TimelinePoint, ...],
    opts: CueOptions,
) -> Cue:
    valence, arousal, spot = section.valence, section.arousal, section.spot
    mood = section.spotted_mood or label_for(valence, arousal)
    meter = 3 if mood == Mood.CALM and arousal < -0.35 else 4
    beat_times = beats_through(section, tempo_bpm, next_tempo_bpm, meter)
    fitted_bpm = 60.0 / (beat_times[1] - beat_times[0]) if len(beat_times) > 1 else tempo_bpm
    excitement = (arousal + 1) / 2  # 0 .. 1
    style = STYLES[spot.style if spot is not None and spot.style else opts.style]
    energy = style.energy(arousal)
    subdivision, register, articulation, velocity = arrangement_for(energy, valence)
    # A spotted mood keeps the film's swells, moved to the mood's arousal.
    shift = arousal - section.read_arousal if section.spotted_mood else 0.0
    return Cue(
        id=index,
        start_s=section.start_s,
        end_s=section.end_s,
        shot_indices=section.shots,
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
        dynamics=dynamic_curve(points, section.start_s, section.end_s, style.energy, shift),
        read_valence=section.read_valence,
        read_arousal=section.read_arousal,
        spot=spot,
        ending=ending,
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


def beats_through(
    section: Section, tempo_bpm: float, next_tempo_bpm: float | None, meter: int
) -> tuple[float, ...]:
    """The cue's beats, with a beat on every spotted hit at least two beats from the cue's ends and from
    the hit before (as a composer's click track has hit points): each stretch between them holds a whole
    number of beats near the tempo, so the music's accent and the hit's stroke coincide."""
    beat = 60.0 / tempo_bpm
    points = [section.start_s]
    for t in section.hits:
        if t - points[-1] >= 2 * beat and section.end_s - t >= 2 * beat:
            points.append(t)
    points.append(section.end_s)
    beats: list[float] = []
    for k, (first, last) in enumerate(itertools.pairwise(points)):
        final = k == len(points) - 2
        beats.extend(fit_beats(first, last, tempo_bpm, next_tempo_bpm if final else None, meter)[:-1])
    return (*beats, section.end_s)


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
    count = beat_count(duration, beat)
    glide = 0 if next_tempo_bpm is None else min(meter, count - 1)
    lengths = [duration / count] * count
    if glide:
        next_beat = 60.0 / next_tempo_bpm  # type: ignore[operator]
        base = (duration - glide / 2 * next_beat) / (count - glide / 2)
        ramp = [base + (next_beat - base) * (j + 1) / (glide + 1) for j in range(glide)]
        if 0.67 < base / beat < 1.5 and all(_playable(length) for length in (base, *ramp)):
            lengths = [base] * (count - glide) + ramp
            lengths[-1] += duration - sum(lengths)  # float drift only
    onsets = start_s + np.concatenate([[0.0], np.cumsum(lengths)])
    onsets[-1] = end_s
    return tuple(round(float(t), 6) for t in onsets)


def beat_count(duration_s: float, beat_s: float) -> int:
    """How many beats of about `beat_s` fill `duration_s`, kept within SLOWEST_BPM .. FASTEST_BPM: a
    stretch too short for one beat at the fastest tempo gets one."""
    fewest = math.ceil(duration_s * SLOWEST_BPM / 60.0 - 1e-9)
    most = math.floor(duration_s * FASTEST_BPM / 60.0 + 1e-9)
    return max(1, min(max(round(duration_s / beat_s), fewest), most))


def _playable(beat_s: float) -> bool:
    return 60.0 / FASTEST_BPM - 1e-9 <= beat_s <= 60.0 / SLOWEST_BPM + 1e-9


def dynamic_curve(
    points: tuple[TimelinePoint, ...],
    start_s: float,
    end_s: float,
    energy: Callable[[float], float],
    arousal_shift: float = 0.0,
) -> tuple[tuple[float, float], ...]:
    """The film's smoothed arousal over the cue (moved by `arousal_shift`), as the style hears its energy,
    as a loudness level every DYNAMICS_STEP_S. Velocity, density and instrumentation carry most of the
    contrast; this adds the swell within a cue, and keeps a still cue within earshot (EXPRESSION_FLOOR)."""
    times = np.arange(start_s, end_s, DYNAMICS_STEP_S)
    if not points:
        return tuple((round(float(t), 3), 0.8) for t in times)
    arousal = np.interp(times, [p.t_s for p in points], [p.arousal for p in points]) + arousal_shift
    levels = [EXPRESSION_FLOOR + (1 - EXPRESSION_FLOOR) * energy(clip_unit(float(a))) for a in arousal]
    return tuple((round(float(t), 3), round(float(v), 3)) for t, v in zip(times, levels, strict=True))


def find_hits(
    emotions: tuple[ShotEmotion, ...], cues: list[Cue], opts: CueOptions, spotting: Spotting | None = None
) -> tuple[Hit, ...]:
    """The reading's accents and stings (read_hits) in the cues whose mood the reading chose, and every
    spotted hit, struck at full strength on its frame with its cue's mood chord (an accent the reading
    put within a beat of one gives way to it)."""
    spotted = [
        Hit(round(hit.t_s, 6), 1.0, _shot_at(emotions, hit.t_s), cue.mood, spotted=True)
        for hit in (spotting.hits if spotting else ())
        if (cue := _cue_at(cues, hit.t_s)) is not None and cue.kept_from is None
    ]

    def the_readings(hit: Hit) -> bool:
        """Whether the reading chose the mood of the cue it falls in, and no spotted hit is near."""
        cue = _cue_at(cues, hit.t_s)
        chosen = cue is not None and not cue.spotted_mood and cue.kept_from is None
        return chosen and not any(abs(hit.t_s - s.t_s) < 0.25 for s in spotted)

    read = [hit for hit in read_hits(emotions, cues, opts) if the_readings(hit)]
    return tuple(sorted([*read, *spotted, *_kept_hits(emotions, cues)], key=lambda hit: hit.t_s))


def _kept_hits(emotions: tuple[ShotEmotion, ...], cues: list[Cue]) -> list[Hit]:
    """The earlier cut's hits in each kept cue, moved with it."""
    moved = []
    for cue in cues:
        if cue.kept_from is None:
            continue
        for hit in cue.kept_from.hits:
            t_s = round(hit.t_s + cue.kept_from.shift_s, 6)
            moved.append(replace(hit, t_s=t_s, shot_index=_shot_at(emotions, t_s)))
    return moved


def _cue_at(cues: list[Cue], t_s: float) -> Cue | None:
    """The cue playing at a time; None in silence."""
    return next((cue for cue in cues if cue.start_s <= t_s < cue.end_s), None)


def _shot_at(emotions: tuple[ShotEmotion, ...], t_s: float) -> int:
    return next((e.shot.index for e in emotions if e.start_s <= t_s < e.end_s), emotions[-1].shot.index)


def read_hits(emotions: tuple[ShotEmotion, ...], cues: list[Cue], opts: CueOptions) -> list[Hit]:
    """Accents on cuts where arousal jumps up, softer ones where a livelier cue begins, and a sting on each
    strong shot too short for a cue of its own whose mood its cue does not share. None in silence."""
    hits = []
    for i in range(1, len(emotions)):
        emotion = emotions[i]
        cue = _cue_at(cues, emotion.start_s)
        if cue is None:
            continue
        rise = emotion.arousal - emotions[i - 1].arousal
        strength = 0.0
        if rise >= opts.hit_threshold:
            strength = min(1.0, rise / (2 * opts.hit_threshold))
        if cue.id > 0 and abs(cue.start_s - emotion.start_s) < 1e-6 and cue.arousal > -0.2:
            strength = max(strength, 0.35)
        mood = label_for(emotion.valence, emotion.arousal)
        sting = None
        brief = _is_strong(emotion, opts) and emotion.shot.duration_s < opts.strong_cue_s
        if brief and mood != cue.mood:
            sting, strength = mood, 1.0
        if strength > 0:
            hits.append(Hit(round(emotion.start_s, 6), round(strength, 3), emotion.shot.index, sting))
    return hits
