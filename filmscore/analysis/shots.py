"""Shot detection, fed every frame of the shared decode (no second decode): filmscore's own detector
(analysis/cut_detector.py, the default) or one of PySceneDetect's, then a check that drops flashes.

The detector sees every decoded frame, also where the other analysers see fewer (`--analysis-fps`, the
fast-preview preset): each cut lands on its frame. The shots are given at the analysis rate for the
analysers (their frames) and in exact seconds for everything else."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from filmscore.analysis.cut_list import CutList
from filmscore.config.backends import SHOT_DETECTORS
from filmscore.config.settings import default


@dataclass(frozen=True)
class ShotOptions:
    detector: str = default("analysis.shot_detector")  # one of SHOT_DETECTORS
    min_shot_s: float = 0.5  # shorter shots merge into their neighbour
    flash_s: float = 0.3  # a "cut" whose picture comes back within this long was a flash, not a cut
    cut_list: CutList | None = None  # the editor's cut list (--cuts): its edits are the shots


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
# Two frames show one picture where their thumbnails differ by under a share of the change at the cut (a
# cut from dark red to a dark red pattern changes the thumbnail by a few levels, and the new shot stays
# that few levels away), and by under twice this (mean, of 255) whatever the change.
SAME_PICTURE_LEVELS = 10.0
SAME_PICTURE_SHARE = 0.35
RECENT_S = 4.0  # the detectors report a cut a few frames after it (the adaptive one two frames)


def _make_detector(name: str, min_frames: int) -> Any:
    """The registered detector, filmscore's own or PySceneDetect's (imported only now: both pull in
    OpenCV, which costs import time `filmscore --help` need not pay)."""
    return SHOT_DETECTORS.create(name, min_scene_len=min_frames)


class ShotAnalyser:
    """A frame analyser that collects the detector's cuts as every frame streams past. `fps` is the
    analysis rate and `step` how many decoded frames each analysis frame stands for (FrameGeometry)."""

    every_frame = True

    def __init__(self, fps: float, opts: ShotOptions, step: int = 1) -> None:
        import cv2
        from scenedetect import FrameTimecode

        self._cv2 = cv2
        self._step = step
        fps = fps * step  # the detector works at the decode rate
        self._fps = fps
        self._flash_frames = max(1, round(opts.flash_s * fps))
        # The last frames' signatures, a row each, the frame i in row i % len: no per-frame objects.
        kept = max(round(RECENT_S * fps), 4 * self._flash_frames)
        self._recent = np.zeros((kept, SIGNATURE_BYTES), np.uint8)
        self._timecode = FrameTimecode
        self._detector = _make_detector(opts.detector, max(1, round(opts.min_shot_s * fps)))
        self._detector_name = opts.detector
        self._cut_list = opts.cut_list
        self._min_shot_s = opts.min_shot_s
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
        """The cuts found so far (as analysis frames), growing as frames are fed: for analysers that follow
        the shots during the pass. Flashes are still among them; shots() leaves them out at the end."""
        return _AtAnalysisRate(self._cuts, self._step)

    def finish(self, frame_count: int) -> None:
        self.frame_count = frame_count
        if frame_count:
            last = self._timecode(frame_count - 1, self._fps)
            self._cuts.extend(cut.frame_num for cut in self._detector.post_process(last))
        for cut in self._cuts:
            if cut not in self._judged:
                self._judged[cut] = self._is_flash(cut)

    def cut_times(self) -> list[float]:
        """The cuts, flashes left out, in seconds: the cut list's edits where it has one, and the cuts
        detected where it says nothing (a gap, or past its last event)."""
        detected = [c / self._fps for c in self._cuts if not self._judged.get(c)]
        if self._cut_list is None:
            return detected
        margin = self._min_shot_s
        film_end = self.frame_count / self._fps
        # The list's end is a cut only where the film goes on past it: a list that stops a frame or two
        # before the film's end (a last frame dropped in the render) leaves no sliver of a shot.
        edits = [t for t in self._cut_list.edits_s if t < self._cut_list.end_s or film_end - t >= margin]
        return sorted([*edits, *(t for t in detected if not self._cut_list.covers(t, margin))])

    @property
    def source(self) -> str:
        """Where the shots came from, for the report."""
        if self._cut_list is None:
            return f"detected ({self._detector_name})"
        events = len(self._cut_list.events)
        return f"cut list {self._cut_list.source} ({events} events; {self._detector_name} in its gaps)"

    def shots(self, duration_s: float | None = None) -> tuple[Shot, ...]:
        """The shots at the analysis rate, their times exact; the last ends with the film (`duration_s`,
        where known: the decode may run a frame past it)."""
        end_s = self.frame_count / self._fps
        if duration_s is not None and abs(duration_s - end_s) < 2 / self._fps:
            end_s = duration_s
        return shots_at(self.cut_times(), end_s, self._fps / self._step)

    def _is_flash(self, cut: int) -> bool:
        """A camera flash, lightning or a muzzle flare: the picture from before the cut comes back at once.

        Every PySceneDetect detector reports these as cuts (see benchmarks/shot_detectors.py). A cut judged
        too late for its frames to be among the recent ones is kept.
        """
        kept = len(self._recent)
        if cut < 1 or cut >= self.frame_count or cut - 1 - self._flash_frames < self.frame_count - kept:
            return False
        before, at = self._signature(cut - 1), self._signature(cut)
        jump = np.abs(at - before).mean()
        # The picture from before the cut comes back soon after it (a flash starts here) ...
        after = self._signatures(range(cut + 1, min(self.frame_count, cut + 1 + self._flash_frames)))
        # ... or the picture after it was there just before the frames before the cut (a flash ends here).
        earlier = self._signatures(range(max(0, cut - 1 - self._flash_frames), cut - 1))
        return _returns(after, before, jump) or _returns(earlier, at, jump)

    def _signature(self, frame: int) -> np.ndarray:
        return self._recent[frame % len(self._recent)].astype(np.int16)

    def _signatures(self, frames: range) -> np.ndarray:
        return self._recent[[f % len(self._recent) for f in frames]].astype(np.int16)


def _returns(frames: np.ndarray, picture: np.ndarray, jump: float) -> bool:
    """Whether one of `frames` shows `picture` again, near enough against the change at the cut."""
    if not len(frames):
        return False
    nearest = float(np.abs(frames - picture).mean(axis=1).min())
    return nearest < 2 * SAME_PICTURE_LEVELS and nearest < SAME_PICTURE_SHARE * jump


class _AtAnalysisRate(Sequence[int]):
    """A growing list of cuts at the decode rate, read as analysis frames (the first at or after each)."""

    def __init__(self, cuts: list[int], step: int) -> None:
        self._cuts, self._step = cuts, step

    def __len__(self) -> int:
        return len(self._cuts)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [-(-c // self._step) for c in self._cuts[index]]
        return -(-self._cuts[index] // self._step)


def shots_from_cuts(cut_frames: list[int], frame_count: int, fps: float) -> tuple[Shot, ...]:
    """Turn cut frame numbers (each the first frame of a new shot) into consecutive shots."""
    return shots_at([c / fps for c in cut_frames], frame_count / fps, fps)


def shots_at(cut_times: Sequence[float], end_s: float, fps: float) -> tuple[Shot, ...]:
    """Consecutive shots from cut times (each a new shot's first moment, in seconds) to `end_s`, each
    with the analysis frames (at `fps`) it holds: the first at or after its start. Cuts that fall before
    the same analysis frame (a shot shorter than one, from a cut list) make one shot, from the first."""
    frame_count = round(end_s * fps)
    starts: dict[int, float] = {0: 0.0}
    for t in sorted(t for t in cut_times if 0 < t < end_s):
        starts.setdefault(math.ceil(t * fps - 1e-6), t)  # a later cut on the same frame joins the first
    firsts = sorted(f for f in starts if f < frame_count) or [0]
    bounds = [(f, starts[f]) for f in firsts] + [(max(frame_count, firsts[-1] + 1), end_s)]
    return tuple(
        Shot(index=i, start_frame=a, end_frame=b, start_s=a_s, end_s=b_s)
        for i, ((a, a_s), (b, b_s)) in enumerate(itertools.pairwise(bounds))
    )
