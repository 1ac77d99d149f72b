"""Valence/arousal values and the mood words shared by every emotion source, fusion, the cue planner, the
composer and the report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


@dataclass(frozen=True)
class Affect:
    """One source's reading of a stretch of film."""

    valence: float  # -1 (unpleasant) .. 1 (pleasant)
    arousal: float  # -1 (calm) .. 1 (excited)
    weight: float  # 0 .. 1, how much this reading should count (0 = no evidence)


class Mood(StrEnum):
    """The moods a shot and a cue are labelled with: the nearest prototype on the valence/arousal plane
    (analysis/fusion.py places them). A StrEnum, so each is written to JSON and CSV as its word."""

    NEUTRAL = "neutral"
    JOYFUL = "joyful"
    TENSE = "tense"
    AFRAID = "afraid"
    SAD = "sad"
    CALM = "calm"


def clip_unit(value: float, low: float = -1.0, high: float = 1.0) -> float:
    """Clamp to a range (default [-1, 1]) and return a plain float, NaN treated as 0."""
    if not np.isfinite(value):
        return 0.0
    return float(min(high, max(low, value)))


def to_signed(unit_value: float) -> float:
    """Map a score in [0, 1] onto [-1, 1]."""
    return clip_unit(2.0 * unit_value - 1.0)
