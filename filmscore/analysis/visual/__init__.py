"""Visual emotion: valence and arousal of each shot from what is seen.

The embedded `features` backend maps picture features with published relations:
- Valdez and Mehrabian (1994), "Effects of color on emotions": pleasure = 0.69 B + 0.22 S and
  arousal = -0.31 B + 0.60 S, for brightness B and saturation S in [0, 1];
- Hanjalic and Xu (2005), "Affective video content representation and modeling": arousal rises with
  motion activity and with the cut rate (shorter shots);
- colourfulness and warm hues lean valence positive; smiling faces lean it positive too.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict
from typing import cast

from filmscore.analysis.shots import Shot
from filmscore.analysis.visual.features import (
    FaceAnalyser,
    PictureFeatureAnalyser,
    ShotPicture,
    summarise_shots,
)
from filmscore.config import backends
from filmscore.core.affect import Affect, clip_unit, to_signed
from filmscore.core.registry import Registry
from filmscore.media.decode import FrameAnalyser, FrameGeometry


class VisualEmotionBackend(ABC):
    """Reads the shared frame stream, then rates each shot."""

    name: str = ""

    @abstractmethod
    def analysers(
        self, geometry: FrameGeometry, expected_frames: int, cuts: Sequence[int] = ()
    ) -> Sequence[FrameAnalyser]:
        """The analysers this backend needs fed during the single decode pass. `cuts` grows with the cuts
        found so far (ShotAnalyser.cuts_so_far, fed before these), for analysers that follow the shots."""

    @abstractmethod
    def estimate(self, shots: tuple[Shot, ...]) -> tuple[Affect, ...]:
        """One Affect per shot, after the decode pass has finished."""

    def shot_details(self) -> tuple[dict[str, float], ...]:
        """What the last estimate saw in each shot, for the report (empty when the backend keeps nothing)."""
        return ()


# The registry's entries are data, in config/backends.py; here it is typed with its base class.
VISUAL_EMOTION_BACKENDS = cast("Registry[VisualEmotionBackend]", backends.VISUAL_EMOTION)

# Valdez and Mehrabian's pleasure for a mid-grey, moderately saturated graded frame (B=0.5, S=0.3):
# the neutral point of our valence scale.
_NEUTRAL_PLEASURE = 0.69 * 0.5 + 0.22 * 0.3
_PLEASURE_SPAN = 0.3  # pleasure this far from neutral reads as fully (un)pleasant
_MOTION_FULL = 0.08  # mean frame difference of 8% of full scale is a fast pan or action
_FLICKER_FULL = 0.04  # brightness jumping 4% a frame on average is strobing
_SHOT_RHYTHM_S = 4.0  # Hanjalic-Xu style decay: a 1 s shot is fast cutting, 5 s and more calm


class PictureFeatureEmotion(VisualEmotionBackend):
    """The embedded visual backend: signal features and published relations, no model weights."""

    name = "features"

    def __init__(self) -> None:
        self._features: PictureFeatureAnalyser | None = None
        self._faces: FaceAnalyser | None = None
        self.pictures: tuple[ShotPicture, ...] = ()

    def analysers(
        self, geometry: FrameGeometry, expected_frames: int, cuts: Sequence[int] = ()
    ) -> Sequence[FrameAnalyser]:
        self._features = PictureFeatureAnalyser(expected_frames)
        self._faces = FaceAnalyser(geometry.fps, cuts)
        return (self._features, self._faces)

    def estimate(self, shots: tuple[Shot, ...]) -> tuple[Affect, ...]:
        if self._features is None or self._faces is None:
            raise RuntimeError("estimate() called before the decode pass fed this backend")
        self.pictures = summarise_shots(shots, self._features.table, self._faces.samples)
        return tuple(
            picture_affect(picture, shot.duration_s)
            for shot, picture in zip(shots, self.pictures, strict=True)
        )

    def shot_details(self) -> tuple[dict[str, float], ...]:
        return tuple({k: round(float(v), 4) for k, v in asdict(p).items()} for p in self.pictures)


def picture_affect(picture: ShotPicture, shot_s: float) -> Affect:
    """Map one shot's picture features onto valence and arousal."""
    pleasure = 0.69 * picture.brightness + 0.22 * picture.saturation
    colour_arousal = -0.31 * picture.brightness + 0.60 * picture.saturation
    valence = (
        0.6 * clip_unit((pleasure - _NEUTRAL_PLEASURE) / _PLEASURE_SPAN)
        + 0.15 * clip_unit((picture.colourfulness - 0.35) / 0.35)
        + 0.1 * clip_unit(picture.warmth / 0.2)
        + 0.15 * picture.face_share * (2.0 * picture.smile_share - 1.0)
    )
    rhythm = math.exp(-max(0.0, shot_s - 1.0) / _SHOT_RHYTHM_S)
    arousal_unit = (
        0.45 * clip_unit(picture.motion / _MOTION_FULL, 0.0, 1.0)
        + 0.2 * rhythm
        + 0.1 * clip_unit(picture.flicker / _FLICKER_FULL, 0.0, 1.0)
        # Valdez-Mehrabian arousal runs from -0.31 (white) to 0.6 (saturated black); rescale to [0, 1].
        + 0.25 * clip_unit((colour_arousal + 0.31) / 0.91, 0.0, 1.0)
    )
    # A handful of frames says little: full weight from half a second of picture.
    weight = clip_unit(picture.frames / 12.0, 0.0, 1.0)
    return Affect(valence=clip_unit(valence), arousal=to_signed(arousal_unit), weight=weight)
