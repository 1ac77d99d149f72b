"""Picture features, computed on the shared analysis stream, and summarised per shot.

Per frame: brightness and saturation (HSV), colourfulness (Hasler and Süsstrunk, 2003), warmth (red over
blue), motion energy (mean absolute change from the previous frame) and flicker (change in brightness).
Faces (OpenCV's Haar cascades) are looked for once a second within each shot, starting a quarter of a
second after its cut, with smiles inside the faces found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from filmscore.analysis.shots import Shot
from filmscore.analysis.visual.expressions import Expression, expression_model

# Columns of the per-frame feature table.
BRIGHTNESS, SATURATION, COLOURFULNESS, WARMTH, MOTION, FLICKER = range(6)
FEATURE_COUNT = 6
# Face detection is the costly part of the picture pass: on the benchmark clip 4 ms a look, against 0.25 ms
# a frame for shots and picture features together. Looks follow the shots, as faces come and go with cuts.
FACE_LOOKS_PER_S = 1.0  # within a shot
FACE_SETTLE_S = 0.25  # the first look into a shot: past the cut, inside a shot of the least length (0.5 s)
FACE_WEIGHT_FULL = 0.15  # a face filling 15% of the frame (a close-up) decides as much as the scene
FACE_SHARE_MAX = 0.6  # the most weight faces take from the scene
# Hasler and Süsstrunk's opponent colours from a BGR pixel: rg = R - G and yb = (R + G) / 2 - B.
_OPPONENT = np.array([[0.0, -1.0, 1.0], [-1.0, 0.5, 0.5]], dtype=np.float32)


@dataclass(frozen=True)
class ShotPicture:
    """A shot's picture features, each in [0, 1] except warmth in [-1, 1]."""

    brightness: float
    saturation: float
    colourfulness: float  # Hasler-Süsstrunk M divided by 100 (M above 100 is "extremely colourful")
    warmth: float
    motion: float  # mean absolute frame difference, as a fraction of full scale
    flicker: float  # mean absolute change in brightness from frame to frame
    face_share: float  # fraction of sampled frames with at least one face
    smile_share: float  # fraction of the frames with a face in which a smile was found
    frames: int
    face_area: float = 0.0  # how much of the frame faces fill, on average over the looks (0 .. 1)
    face_valence: float = 0.0  # the faces' expressions, weighted by their size (expression model)
    face_arousal: float = 0.0
    face_sureness: float = 0.0  # 0 where no expression was read


class PictureFeatureAnalyser:
    """Fills a table of per-frame features as the frames stream past."""

    def __init__(self, expected_frames: int = 0) -> None:
        import cv2

        self._cv2 = cv2
        self._rows = np.zeros((max(expected_frames, 16), FEATURE_COUNT), dtype=np.float32)
        self._previous_grey: np.ndarray | None = None
        self._count = 0

    def consume(self, index: int, frame: np.ndarray) -> None:
        cv2 = self._cv2
        if index >= len(self._rows):
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        # Means and spreads of colour need no full resolution: every second pixel quarters the cost.
        small = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_NEAREST)
        _, sat_mean, value_mean, _ = cv2.mean(cv2.cvtColor(small, cv2.COLOR_BGR2HSV))
        blue_mean, _, red_mean, _ = cv2.mean(small)
        # The two opponent channels in one pass of OpenCV, not five numpy passes over the picture.
        opponent_mean, opponent_std = cv2.meanStdDev(cv2.transform(small.astype(np.float32), _OPPONENT))
        colourfulness = np.hypot(*opponent_std[:, 0]) + 0.3 * np.hypot(*opponent_mean[:, 0])
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        motion = 0.0
        if self._previous_grey is not None:
            motion = cv2.mean(cv2.absdiff(grey, self._previous_grey))[0] / 255.0
        self._previous_grey = grey
        brightness = value_mean / 255.0
        flicker = abs(brightness - self._rows[index - 1, BRIGHTNESS]) if index else 0.0
        self._rows[index] = (
            brightness,
            sat_mean / 255.0,
            colourfulness / 100.0,
            (red_mean - blue_mean) / 255.0,
            motion,
            flicker,
        )
        self._count = index + 1

    def finish(self, frame_count: int) -> None:
        self._count = frame_count
        self._rows = self._rows[:frame_count]

    @property
    def table(self) -> np.ndarray:
        return self._rows[: self._count]


def haar_cascade(name: str) -> Any:
    """One of the OpenCV Haar cascades bundled with opencv-python 4.x ("frontalface_default", "smile")."""
    import cv2

    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # present in 4.x, missing from the stubs
    return cv2.CascadeClassifier(f"{cascades}haarcascade_{name}.xml")


def find_faces(detector: Any, frame: np.ndarray) -> tuple[np.ndarray, Any]:
    """The frame as equalised grey, and the frontal faces in it as (x, y, w, h) boxes."""
    import cv2

    grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    min_side = max(16, grey.shape[0] // 8)  # faces smaller than an eighth of the frame read as crowd
    faces = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(min_side, min_side))
    return grey, faces


class FaceAnalyser:
    """Looks for frontal faces, and smiles inside them, once a second within each shot.

    `cuts` is the shot analyser's list of cuts as it grows during the pass (the shot analyser is fed each
    frame first). A new cut restarts the looks FACE_SETTLE_S after it, so every shot gets a look clear of
    its cut, and a shot of n seconds about n looks. Before, looks came twice a second on the film's clock:
    twice the cost, and a short shot's one look could fall on the cut's blurred or dissolving frames.
    """

    def __init__(self, fps: float, cuts: Sequence[int] = ()) -> None:
        self._every = max(1, round(fps / FACE_LOOKS_PER_S))
        self._settle = round(fps * FACE_SETTLE_S)
        self._cuts = cuts
        self._cuts_seen = 0
        self._next_look = self._settle  # the film's start is the first shot's cut
        self._faces = haar_cascade("frontalface_default")
        self._smiles = haar_cascade("smile")
        self._expressions = expression_model()  # None where the shipped model is not installed
        self.samples: list[FaceLook] = []

    def consume(self, index: int, frame: np.ndarray) -> None:
        if len(self._cuts) > self._cuts_seen:
            # Detectors report a cut a few frames late (PySceneDetect's adaptive one two frames, filmscore's
            # own up to six): a look taken since the cut, before it was known, was on the new shot's first
            # unsettled frames and is dropped; the next comes at once if the settling time is already past.
            self._cuts_seen = len(self._cuts)
            cut = self._cuts[-1]
            self.samples = [look for look in self.samples if look.index < cut]
            self._next_look = max(index, cut + self._settle)
        if index < self._next_look:
            return
        self._next_look = index + self._every
        self.samples.append(self._look(index, frame))

    def _look(self, index: int, frame: np.ndarray) -> FaceLook:
        """The faces in the frame: how many smile, how much of the frame they fill, and their expressions,
        each counting by its size."""
        grey, faces = find_faces(self._faces, frame)
        smiling, area, expressions = 0, 0.0, []
        for x, y, w, h in faces:
            mouth = grey[y + h // 2 : y + h, x : x + w]  # smiles live in the lower half of the face
            found = self._smiles.detectMultiScale(
                mouth, scaleFactor=1.1, minNeighbors=12, minSize=(w // 4, h // 8)
            )
            smiling += int(len(found) > 0)
            share = w * h / (grey.shape[0] * grey.shape[1])
            area += share
            if self._expressions is not None:
                expressions.append((self._expressions.classify(grey, (x, y, w, h)), share))
        return FaceLook(index, len(faces), smiling, min(1.0, area), *_mean_expression(expressions))

    def finish(self, frame_count: int) -> None:
        return None


@dataclass(frozen=True)
class FaceLook:
    """One look for faces: where, how many, how many smiling, how much of the frame they fill, and their
    expression (size-weighted; sureness 0 where none was read)."""

    index: int
    faces: int
    smiling: int
    area: float
    valence: float
    arousal: float
    sureness: float


def _mean_expression(readings: list[tuple[Expression, float]]) -> tuple[float, float, float]:
    total = sum(share for _, share in readings)
    if not total:
        return 0.0, 0.0, 0.0
    return (
        sum(e.valence * share for e, share in readings) / total,
        sum(e.arousal * share for e, share in readings) / total,
        sum(e.sureness * share for e, share in readings) / total,
    )


def summarise_shots(
    shots: tuple[Shot, ...], table: np.ndarray, face_samples: list[FaceLook]
) -> tuple[ShotPicture, ...]:
    """Average the per-frame features over each shot.

    The first frame of a shot is left out of motion and flicker: its difference is the cut itself.
    """
    face_index = np.array([s.index for s in face_samples], dtype=np.int64)
    face_counts = np.array([s.faces for s in face_samples], dtype=np.int64)
    smile_counts = np.array([s.smiling for s in face_samples], dtype=np.int64)
    pictures = []
    for shot in shots:
        rows = table[shot.start_frame : shot.end_frame]
        inner = rows[1:] if len(rows) > 1 else rows
        in_shot = (face_index >= shot.start_frame) & (face_index < shot.end_frame)
        with_face = face_counts[in_shot] > 0
        looks = [look for look, inside in zip(face_samples, in_shot, strict=True) if inside]
        pictures.append(
            ShotPicture(
                brightness=float(rows[:, BRIGHTNESS].mean()),
                saturation=float(rows[:, SATURATION].mean()),
                colourfulness=float(rows[:, COLOURFULNESS].mean()),
                warmth=float(rows[:, WARMTH].mean()),
                motion=float(inner[:, MOTION].mean()) if len(rows) > 1 else 0.0,
                flicker=float(inner[:, FLICKER].mean()) if len(rows) > 1 else 0.0,
                face_share=float(with_face.mean()) if in_shot.any() else 0.0,
                smile_share=float((smile_counts[in_shot][with_face] > 0).mean()) if with_face.any() else 0.0,
                frames=len(rows),
                **_expressions_in(looks),
            )
        )
    return tuple(pictures)


def _expressions_in(looks: list[FaceLook]) -> dict[str, float]:
    """The faces of a shot's looks: the area they fill on average, and their expression weighted by it."""
    if not looks:
        return {}
    read = [look for look in looks if look.sureness > 0]
    total = sum(look.area for look in read)
    if not total:
        return {"face_area": sum(look.area for look in looks) / len(looks)}
    return {
        "face_area": sum(look.area for look in looks) / len(looks),
        "face_valence": sum(look.valence * look.area for look in read) / total,
        "face_arousal": sum(look.arousal * look.area for look in read) / total,
        "face_sureness": sum(look.sureness * look.area for look in read) / total,
    }
