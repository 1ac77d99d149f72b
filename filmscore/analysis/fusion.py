"""Fusion: one valence/arousal reading per shot from the text, visual and audio sources, a discrete
mood label, and a smoothed timeline at a fixed step.

Each source's reading counts by its own weight (text weighs nothing in a shot with no words) times how
far that source is trusted on each axis. Words carry valence best, voice and loudness carry arousal
best, and the picture sits between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from filmscore.analysis.shots import Shot
from filmscore.core.affect import Affect, Mood, clip_unit

SOURCES = ("text", "visual", "audio")

# How far each source is trusted on each axis (valence, arousal): words carry valence best, the voice
# arousal, the picture both a little less. Calibrated on benchmarks/fidelity.py's evaluation set.
RELIABILITY: dict[str, tuple[float, float]] = {
    "text": (1.0, 0.6),
    "visual": (0.6, 0.7),
    "audio": (0.2, 1.0),
}
# A reading counts by how far it is from neutral too, so one strong, confident source is not averaged
# back to neutral by an uninformative one; a reading at neutral still counts this much.
EVIDENCE_FLOOR = 0.2
# Plain words, calmly spoken, are evidence of their own: a full line (weight PLAIN_WORDS_WEIGHT or more)
# whose valence is within PLAIN_VALENCE of neutral, in a voice no more aroused than CALM_VOICE, counts on
# valence as a clear reading does, and the picture's valence counts PICTURE_UNDER_PLAIN_WORDS as much: a
# corporate voice-over over a bright gradient is not a joyful scene.
PLAIN_WORDS_WEIGHT = 0.5
PLAIN_VALENCE = 0.15
CALM_VOICE = 0.2
PLAIN_WORDS_EVIDENCE = 1.0
PICTURE_UNDER_PLAIN_WORDS = 0.2

# Prototype points of the moods on Russell's valence/arousal plane; a shot takes the nearest, unless it is
# near the middle (inside the NEUTRAL ellipse: arousal alone, a quiet shot or a busy one, says less of a
# mood than valence). Fear sits past tension: both unpleasant and aroused, fear more.
LABELS: dict[Mood, tuple[float, float]] = {
    Mood.JOYFUL: (0.6, 0.5),
    Mood.TENSE: (-0.35, 0.4),
    Mood.AFRAID: (-0.65, 0.75),
    Mood.SAD: (-0.5, -0.4),
    Mood.CALM: (0.45, -0.45),
}
NEUTRAL = (0.22, 0.45)  # the neutral ellipse's half-axes: valence, arousal


@dataclass(frozen=True)
class FusionOptions:
    timeline_step_s: float = 0.5  # spacing of the timeline points
    smoothing_s: float = 1.0  # Gaussian sigma of the timeline, so the music does not jump at every cut


@dataclass(frozen=True)
class ShotEmotion:
    shot: Shot
    valence: float
    arousal: float
    confidence: float  # 0 .. 1: how much evidence there was, and how well the sources agree
    label: Mood
    sources: dict[str, Affect | None]  # each source's own reading; None where it had nothing

    @property
    def start_s(self) -> float:
        return self.shot.start_s

    @property
    def end_s(self) -> float:
        return self.shot.end_s


@dataclass(frozen=True)
class TimelinePoint:
    t_s: float
    valence: float
    arousal: float


def label_for(valence: float, arousal: float) -> Mood:
    """Neutral near the middle; else the mood whose place is nearest."""
    if (valence / NEUTRAL[0]) ** 2 + (arousal / NEUTRAL[1]) ** 2 < 1:
        return Mood.NEUTRAL
    return min(LABELS, key=lambda name: math.dist((valence, arousal), LABELS[name]))


def fuse_shot(shot: Shot, readings: dict[str, Affect]) -> ShotEmotion:
    """Weighted mean of the sources on each axis, each counting by its evidence, its reliability on the
    axis and its distance from neutral; with a confidence that falls when they disagree."""
    plain = plain_words(readings)
    axes = []
    for axis in (0, 1):
        pairs = [
            (value, reading.weight * RELIABILITY[name][axis] * _evidence(name, axis, value, plain))
            for name, reading in readings.items()
            for value in (reading.valence if axis == 0 else reading.arousal,)
        ]
        total = sum(w for _, w in pairs)
        mean = sum(v * w for v, w in pairs) / total if total > 0 else 0.0
        spread = math.sqrt(sum(w * (v - mean) ** 2 for v, w in pairs) / total) if total > 0 else 0.0
        coverage = min(1.0, total / sum(RELIABILITY[name][axis] * 0.6 for name in SOURCES))
        axes.append((mean, coverage, spread))
    (valence, v_cov, v_spread), (arousal, a_cov, a_spread) = axes
    # Full confidence needs every source present and agreeing; a spread of 1 (opposite ends) halves it.
    confidence = clip_unit((v_cov + a_cov) / 2 * (1 - 0.5 * min(1.0, (v_spread + a_spread) / 2)), 0.0, 1.0)
    valence, arousal = clip_unit(valence), clip_unit(arousal)
    return ShotEmotion(
        shot=shot,
        valence=valence,
        arousal=arousal,
        confidence=confidence,
        label=label_for(valence, arousal),
        sources={
            name: readings.get(name) if readings.get(name, Affect(0, 0, 0)).weight > 0 else None
            for name in SOURCES
        },
    )


def plain_words(readings: dict[str, Affect]) -> bool:
    """Whether the shot's words are plainly neutral and calmly spoken (or not voiced at all)."""
    text, voice = readings.get("text"), readings.get("audio")
    return (
        text is not None
        and text.weight >= PLAIN_WORDS_WEIGHT
        and abs(text.valence) <= PLAIN_VALENCE
        and (voice is None or voice.weight == 0 or voice.arousal <= CALM_VOICE)
    )


def _evidence(source: str, axis: int, value: float, plain: bool) -> float:
    """How much a reading counts for being away from neutral (see EVIDENCE_FLOOR and PLAIN_WORDS_*)."""
    evidence = EVIDENCE_FLOOR + abs(value)
    if plain and axis == 0 and source == "text":
        return max(evidence, PLAIN_WORDS_EVIDENCE)
    if plain and axis == 0 and source == "visual":
        return evidence * PICTURE_UNDER_PLAIN_WORDS
    return evidence


def fuse(
    shots: tuple[Shot, ...],
    text: tuple[Affect, ...],
    visual: tuple[Affect, ...],
    audio: tuple[Affect, ...],
) -> tuple[ShotEmotion, ...]:
    return tuple(
        fuse_shot(shot, {"text": t, "visual": v, "audio": a})
        for shot, t, v, a in zip(shots, text, visual, audio, strict=True)
    )


def timeline(
    emotions: tuple[ShotEmotion, ...], duration_s: float, opts: FusionOptions
) -> tuple[TimelinePoint, ...]:
    """Sample the per-shot values every `timeline_step_s` and smooth them over time."""
    times = np.arange(0.0, max(duration_s, opts.timeline_step_s), opts.timeline_step_s)
    starts = np.array([e.start_s for e in emotions])
    which = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(emotions) - 1)
    valence = np.array([e.valence for e in emotions])[which]
    arousal = np.array([e.arousal for e in emotions])[which]
    sigma = opts.smoothing_s / opts.timeline_step_s
    if sigma > 0 and len(times) > 1:
        valence, arousal = gaussian_smoothed(valence, sigma), gaussian_smoothed(arousal, sigma)
    return tuple(
        TimelinePoint(round(float(t), 3), round(float(v), 4), round(float(a), 4))
        for t, v, a in zip(times, valence, arousal, strict=True)
    )


def gaussian_smoothed(values: np.ndarray, sigma: float) -> np.ndarray:
    """scipy.ndimage.gaussian_filter1d(values, sigma, mode="nearest"), to within 1e-15, in numpy: the
    same kernel (truncated at four sigma), with the ends repeated. The main process imports nothing of
    scipy otherwise, and scipy.ndimage's import took 0.14 s between the analysis and the music."""
    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / sigma**2 * offsets**2)
    return np.convolve(np.pad(values, radius, mode="edge"), kernel / kernel.sum(), mode="valid")
