"""A cue's pace and swell: its tempo from its arousal, its beats (a whole number of them, on its spotted hits,
gliding into the next cue's tempo, always within the music's tempo range) and its dynamic curve."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from filmscore.analysis.fusion import TimelinePoint
from filmscore.core.affect import clip_unit
from filmscore.music.planning.types import (
    DYNAMICS_STEP_S,
    EXPRESSION_FLOOR,
    FASTEST_BPM,
    NEUTRAL_TEMPO_BPM,
    SLOWEST_BPM,
    TEMPO_OCTAVES_PER_AROUSAL,
    Section,
)


def tempo_for(arousal: float) -> float:
    return NEUTRAL_TEMPO_BPM * 2 ** (TEMPO_OCTAVES_PER_AROUSAL * clip_unit(arousal))


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
