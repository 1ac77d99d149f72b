"""Visual emotion: valence and arousal of each shot from what is seen.

The embedded `features` backend maps picture features with published relations:
- Valdez and Mehrabian (1994), "Effects of color on emotions": pleasure = 0.69 B + 0.22 S for brightness
  B and saturation S in [0, 1], and saturation raises arousal;
- Hanjalic and Xu (2005), "Affective video content representation and modeling": arousal rises with
  motion activity and with the cut rate (shorter shots);
- colourfulness and warm hues lean valence positive in the light; darkness and strobing lean it negative;
  faces lean it by their expression.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict
from typing import cast

from filmscore.analysis.shots import Shot
from filmscore.analysis.visual.features import (
    FACE_SHARE_MAX,
    FACE_WEIGHT_FULL,
    FaceAnalyser,
    PictureFeatureAnalyser,
    ShotPicture,
    summarise_shots,
)
from filmscore.config import backends
from filmscore.core.affect import Affect, clip_unit
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

# The neutral point of the picture scale: Valdez and Mehrabian's pleasure for a frame of middling
# brightness and low saturation (B=0.45, S=0.2), as much ordinary footage is graded.
NEUTRAL_PLEASURE = 0.69 * 0.45 + 0.22 * 0.2
PLEASURE_SPAN = 0.3  # pleasure this far from neutral reads as fully (un)pleasant
MOTION_FULL = 0.08  # mean frame difference of 8% of full scale is a fast pan or action
FLICKER_FULL = 0.04  # brightness jumping 4% a frame on average is strobing
SHOT_RHYTHM_S = 4.0  # Hanjalic-Xu style decay: a 1 s shot is fast cutting, 5 s and more calm
STILL_AROUSAL = -0.35  # a still frame of ordinary colour: quiet, not inert
DARK = 0.3  # brightness below this leans unpleasant (night, shadow), whatever the colour


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
    """Map one shot's picture features onto valence and arousal. Each term is centred on ordinary footage:
    a still frame of middling brightness and colour reads a little calm and neither pleasant nor not."""
    pleasure = 0.69 * picture.brightness + 0.22 * picture.saturation
    lit = clip_unit((picture.brightness - 0.25) / 0.5, 0.0, 1.0)  # colour and warmth count in the light
    flicker = clip_unit(picture.flicker / FLICKER_FULL, 0.0, 1.5)
    valence = (
        0.55 * clip_unit((pleasure - NEUTRAL_PLEASURE) / PLEASURE_SPAN)
        + 0.25 * lit * clip_unit((picture.colourfulness - 0.3) / 0.5)
        + 0.2 * lit * clip_unit(picture.warmth / 0.3)
        - 0.5 * min(flicker, 1.0)  # a strobing picture is agitated, not festive
        - 0.3 * clip_unit((DARK - picture.brightness) / DARK, 0.0, 1.0)
    )
    if not picture.face_sureness:  # no expression model: smiles, as OpenCV finds them
        valence += 0.3 * picture.face_share * (2.0 * picture.smile_share - 1.0)
    rhythm = math.exp(-max(0.0, shot_s - 1.0) / SHOT_RHYTHM_S)
    arousal = (
        STILL_AROUSAL
        + 1.3 * clip_unit(picture.motion / MOTION_FULL, 0.0, 1.5)
        + 0.8 * flicker
        + 0.25 * (picture.saturation - 0.4)
        + 0.15 * clip_unit((picture.colourfulness - 0.3) / 0.7)
        + 0.3 * (rhythm - 0.3)
    )
    # Faces decide by how much of the frame they fill: a close-up as much as the scene, a crowd little.
    face = min(FACE_SHARE_MAX, picture.face_area / FACE_WEIGHT_FULL) * picture.face_sureness
    valence = (1 - face) * valence + face * picture.face_valence
    arousal = (1 - face / 2) * arousal + face / 2 * picture.face_arousal  # a face says less of arousal
    # A handful of frames says little: full weight from half a second of picture.
    weight = clip_unit(picture.frames / 12.0, 0.0, 1.0)
    return Affect(valence=clip_unit(valence), arousal=clip_unit(arousal), weight=weight)
