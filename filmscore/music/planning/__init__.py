"""Cue planning: group shots into musical sections (cues), give each a key, mode, tempo, meter, density,
instrumentation and dynamic curve from its valence and arousal, and mark the cuts that earn an accent.

The music changes only where the film's emotion changes enough, not at every cut. Each cue holds a whole
number of beats, so the next cue's downbeat falls exactly on its cut; the last bar of a cue glides in
tempo toward the next one, so there is no jump in pace at the join.

The planner's parts: types.py (the plan's types and the music's limits), sections.py (where the cues fall),
beats.py (each cue's pace and swell) and hits.py (its accents); this module makes each cue from them.
"""

from __future__ import annotations

from dataclasses import replace

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.core.affect import Mood, clip_unit
from filmscore.music.planning.beats import beat_count, beats_through, dynamic_curve, fit_beats, tempo_for
from filmscore.music.planning.hits import find_hits, read_hits
from filmscore.music.planning.sections import film_sections, group_shots, spotted_sections, without_slivers
from filmscore.music.planning.types import (
    CLOSE,
    DYNAMICS_STEP_S,
    EXPRESSION_FLOOR,
    FASTEST_BPM,
    FILM_END,
    JOIN,
    NEUTRAL_TEMPO_BPM,
    PITCH_NAMES,
    SHORT_GAP_S,
    SHORTEST_CUE_S,
    SLOWEST_BPM,
    TEMPO_OCTAVES_PER_AROUSAL,
    VELOCITY_LOUD,
    VELOCITY_SOFT,
    Cue,
    CueOptions,
    CuePlan,
    Hit,
    KeptCue,
    Section,
)
from filmscore.music.spotting import Spotting
from filmscore.music.styles import STYLES

__all__ = [
    "CLOSE",
    "DYNAMICS_STEP_S",
    "EXPRESSION_FLOOR",
    "FASTEST_BPM",
    "FILM_END",
    "JOIN",
    "NEUTRAL_TEMPO_BPM",
    "PITCH_NAMES",
    "SHORTEST_CUE_S",
    "SHORT_GAP_S",
    "SLOWEST_BPM",
    "TEMPO_OCTAVES_PER_AROUSAL",
    "VELOCITY_LOUD",
    "VELOCITY_SOFT",
    "Cue",
    "CueOptions",
    "CuePlan",
    "Hit",
    "KeptCue",
    "Section",
    "arrangement_for",
    "beat_count",
    "beats_through",
    "dynamic_curve",
    "find_hits",
    "fit_beats",
    "group_shots",
    "mode_for",
    "plan_cues",
    "read_hits",
    "spotted_sections",
    "tempo_for",
    "tonic_for",
    "without_slivers",
]


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
    sections = film_sections(emotions, duration_s, opts, spotting, keep)
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
            previous = cues[-1] if cues else None
            cues.append(_make_cue(i, section, mode, tempos[i], next_tempo, ending, points, opts, previous))
        previous_mode = cues[-1].mode
    cues = [_with_take(cue, spotting) for cue in cues]
    silences = spotting.silences(duration_s) if spotting else ()
    hits = find_hits(emotions, cues, opts, spotting)
    shot_cues = _shot_cues(emotions, cues)
    return CuePlan(tuple(cues), hits, shot_cues, duration_s, silences, spotting, opts.home_key)


def _with_take(cue: Cue, spotting: Spotting | None) -> Cue:
    """The cue playing the take the spotting chose for it (the one over its middle), if it chose one. A
    kept cue keeps the take it had: a re-cut keeps a cue only where the spotting asks for no other."""
    take = spotting.take_at((cue.start_s + cue.end_s) / 2) if spotting is not None else None
    return cue if take is None or cue.kept_from is not None else replace(cue, take=take)


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


def _shot_cues(emotions: tuple[ShotEmotion, ...], cues: list[Cue]) -> tuple[int | None, ...]:
    """Each shot's cue: the one that covers most of it; None for a shot in silence."""

    def overlap(emotion: ShotEmotion, cue: Cue) -> float:
        return min(emotion.end_s, cue.end_s) - max(emotion.start_s, cue.start_s)

    result: list[int | None] = []
    for emotion in emotions:
        best = max(cues, key=lambda cue: overlap(emotion, cue), default=None)
        result.append(best.id if best is not None and overlap(emotion, best) > 0 else None)
    return tuple(result)


def mode_for(valence: float, previous: str | None, hysteresis: float) -> str:
    """Major for positive valence, minor for negative; a near-neutral cue keeps the previous mode."""
    if previous is not None and abs(valence) < hysteresis:
        return previous
    return "major" if valence >= 0 else "minor"


def tonic_for(mood: str, mode: str, home_key: int, previous: Cue | None = None) -> tuple[int, str]:
    """A cue's tonic and why, as a score relates its cues to its home key: joy at home, calm in the
    subdominant (warmer than home), sorrow in the relative minor, fear and tension in the parallel minor
    (home darkened, the same tonic; tension holds its dominant in the bass: music/symbolic/parts.py); a joyful
    cue that lifts out of another major cue rises a whole step."""
    home = PITCH_NAMES[home_key]
    if mode == "major":
        if mood == Mood.CALM:
            return (home_key + 5) % 12, f"the subdominant of {home} major: warmer than home"
        lifted = previous is not None and previous.mode == "major" and previous.tonic == home_key
        if mood == Mood.JOYFUL and lifted:
            return (home_key + 2) % 12, f"a step up from {home} major: a lift"
        return home_key, f"the home key, {home} major"
    if mood == Mood.SAD:
        return (home_key + 9) % 12, f"the relative minor of {home} major"
    if mood == Mood.TENSE:
        return home_key, f"the parallel minor of {home} major, over a dominant pedal: unresolved"
    return home_key, f"the parallel minor of {home} major: home darkened"


def _make_cue(
    index: int,
    section: Section,
    mode: str,
    tempo_bpm: float,
    next_tempo_bpm: float | None,
    ending: str,
    points: tuple[TimelinePoint, ...],
    opts: CueOptions,
    previous: Cue | None = None,
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
    tonic, reason = tonic_for(mood, mode, opts.home_key, previous)
    return Cue(
        id=index,
        start_s=section.start_s,
        end_s=section.end_s,
        shot_indices=section.shots,
        valence=valence,
        arousal=arousal,
        mood=mood,
        tonic=tonic,
        key_reason=reason,
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
