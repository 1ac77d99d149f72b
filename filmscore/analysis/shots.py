"""Shot detection with PySceneDetect, fed from the shared frame stream (no second decode)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from filmscore.config.backends import SHOT_DETECTORS
from filmscore.config.settings import default


@dataclass(frozen=True)
class ShotOptions:
    detector: str = default("analysis.shot_detector")  # one of SHOT_DETECTORS
    min_shot_s: float = 0.5  # shorter shots merge into their neighbour
    flash_s: float = 0.3  # a "cut" whose picture comes back within this long was a flash, not a cut


@dataclass(frozen=True)
class Shot:
    index: int
    start_frame: int  # first frame of the shot, at the analysis frame rate
    end_frame: int  # one past the last frame
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


# Each frame is remembered as an 8x8 colour thumbnail, for the flash check. In colour: two dark scenes of
# one brightness (a night street, a red-lit room) look alike in grey, and a cut between them was taken
# for a flash and dropped. Only the last RECENT_S are kept: a cut is judged as soon as the frames after
# it have been seen, so memory does not grow with the film.
SIGNATURE_SIDE = 8
SIGNATURE_BYTES = SIGNATURE_SIDE * SIGNATURE_SIDE * 3
SAME_PICTURE_LEVELS = 10.0  # mean thumbnail difference (of 255) under which two frames show one picture
RECENT_S = 4.0  # the detectors report a cut a few frames after it (the adaptive one two frames)


def _make_detector(name: str, min_frames: int) -> Any:
    """The registered PySceneDetect detector (imported only now: scenedetect pulls in OpenCV, which costs
    import time `filmscore --help` need not pay)."""
    return SHOT_DETECTORS.create(name, min_scene_len=min_frames)


class ShotAnalyser:
    """A frame analyser that collects PySceneDetect's cuts as frames stream past."""

    def __init__(self, fps: float, opts: ShotOptions) -> None:
        import cv2
        from scenedetect import FrameTimecode

        self._cv2 = cv2
        self._fps = fps
        self._flash_frames = max(1, round(opts.flash_s * fps))
        # The last frames' signatures, a row each, the frame i in row i % len: no per-frame objects.
        kept = max(round(RECENT_S * fps), 4 * self._flash_frames)
        self._recent = np.zeros((kept, SIGNATURE_BYTES), np.uint8)
        self._timecode = FrameTimecode
        self._detector = _make_detector(opts.detector, max(1, round(opts.min_shot_s * fps)))
        self._cuts: list[int] = []
        self._judged: dict[int, bool] = {}  # cut -> whether it was a flash, once the frames after it came
        self.frame_count = 0

    def consume(self, index: int, frame: np.ndarray) -> None:
        cuts = self._detector.process_frame(self._timecode(index, self._fps), frame)
        self._cuts.extend(cut.frame_num for cut in cuts)
        side = (SIGNATURE_SIDE, SIGNATURE_SIDE)
        self._recent[index % len(self._recent)] = self._cv2.resize(
            frame, side, interpolation=self._cv2.INTER_AREA
        ).reshape(-1)
        self.frame_count = index + 1
        for cut in self._cuts[-4:]:  # only the latest cuts can still be waiting
            if cut not in self._judged and index >= cut + self._flash_frames:
                self._judged[cut] = self._is_flash(cut)

    @property
    def cuts_so_far(self) -> Sequence[int]:
        """The cuts found so far, growing as frames are fed: for analysers that follow the shots during the
        pass. Flashes are still among them; shots() leaves them out at the end."""
        return self._cuts

    def finish(self, frame_count: int) -> None:
        self.frame_count = frame_count
        if frame_count:
            last = self._timecode(frame_count - 1, self._fps)
            self._cuts.extend(cut.frame_num for cut in self._detector.post_process(last))
        for cut in self._cuts:
            if cut not in self._judged:
                self._judged[cut] = self._is_flash(cut)

    def shots(self) -> tuple[Shot, ...]:
        cuts = [c for c in self._cuts if not self._judged.get(c)]
        return shots_from_cuts(cuts, self.frame_count, self._fps)

    def _is_flash(self, cut: int) -> bool:
        """A camera flash, lightning or a muzzle flare: the picture from before the cut comes back at once.

        Every PySceneDetect detector reports these as cuts (see benchmarks/shot_detectors.py). A cut judged
        too late for its frames to be among the recent ones is kept.
        """
        kept = len(self._recent)
        if cut < 1 or cut >= self.frame_count or cut - 1 < self.frame_count - kept:
            return False
        before = self._recent[(cut - 1) % kept].astype(np.int16)
        frames = range(cut + 1, min(self.frame_count, cut + 1 + self._flash_frames))
        after = self._recent[[f % kept for f in frames]].astype(np.int16)
        return bool(len(after) and (np.abs(after - before).mean(axis=1) < SAME_PICTURE_LEVELS).any())


def shots_from_cuts(cut_frames: list[int], frame_count: int, fps: float) -> tuple[Shot, ...]:
    """Turn cut frame numbers (each the first frame of a new shot) into consecutive shots."""
    bounds = [0, *sorted({c for c in cut_frames if 0 < c < frame_count}), frame_count]
    return tuple(
        Shot(index=i, start_frame=a, end_frame=b, start_s=a / fps, end_s=b / fps)
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
        if b > a
    )
