"""filmscore's own cut detector, for footage a frame-difference detector misreads: film grain, high-ISO
noise, rain, smoke, hand-held shake, churning patterns, fast pans.

Three signals, each measured between the frames just before a moment and the frames just after it
(their means over `window` frames each side), so that what changes in every frame of a shot (grain, a
pattern's cells, sparks) averages out and only a change that lasts is left:
- the colour's distribution: quantiles of each channel over the whole picture, which grain widens but
  barely moves, and a change of scene shifts (dark red to a red and black pattern, a grey to a warmer
  grey);
- its chroma: quantiles of red and blue against green, which a strobe, lightning or a lamp switched on
  does not move (they add to every channel alike), so a cut out of a strobing shot still stands out;
- the picture's layout: the mean colour of each block of a 16x9 grid, for a cut between two shots of
  one palette.
A moment is a cut where a signal peaks there, clears its floor, and is several times what it is
typically within the shot so far (a fast pan moves the blocks in every frame, so the blocks' own level
there is high, and only a larger change counts), and where the change was sudden: most of it in one
frame's step, where a swelling shape, a zoom or a dissolve spreads it over the window. The cut goes on
the first sharp step there that lasts. Flashes (the picture comes back at once) are left to the shot
analyser's check (analysis/shots.py).

The detector speaks PySceneDetect's detector interface (`process_frame`, `post_process`), so it is one more
entry in the shot detectors' registry. Measured on the tests' cut set in docs/cut-detection.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

QUANTILES = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
GRID = (16, 9)
# Floors (as fractions of full scale): a change smaller than these is no cut however still the shot was.
COLOUR_FLOOR = 0.012  # 3 levels of 255, on average over the quantiles
LAYOUT_FLOOR = 0.02
# The shot's own typical change is the median over its last TYPICAL_S, plus these, so a still clean
# shot (typical change 0) does not make every flicker of the encoder a cut.
COLOUR_QUIET = 0.002
LAYOUT_QUIET = 0.003
# A cut is at least this many times the shot's typical change, in one signal. On the cut test set under
# twelve draws of its grain and patterns, both presets (docs/cut-detection.md), true cuts came to 9.9
# times and more in colour, the rest of the moments to 2.5 at most; in chroma, 22 and more where it alone
# told a cut, the rest to 1.8 at most. Each is about the geometric middle.
COLOUR_TIMES_TYPICAL = 5.0
CHROMA_TIMES_TYPICAL = 6.0
LAYOUT_TIMES_TYPICAL = 5.0
# A step from one frame to the next is sharp at this share of the largest nearby, and at least this (in
# floors: twice a colour floor, or a colour floor and half a layout floor); grain steps are under one.
SHARP_SHARE = 0.3
SHARP_STEP = 2.0
# ... and at least this many times the shot's typical step: in a small, grainy picture (fast-preview's)
# the grain's own steps reach two floors, and the first of them near a cut was taken for it.
STEP_TIMES_TYPICAL = 3.0
# A cut's largest step is at least this share of the change between the windows (in floors); a change
# spread evenly over a window's frames has steps of about a quarter of it.
SUDDEN_SHARE = 0.6
TYPICAL_S = 2.0
WINDOW_S = 0.15  # each side's frames, at most 4 and at least 2
STEP = -1  # a change's last value: the step from the frame before, in floors


def frame_signature(frame: np.ndarray) -> np.ndarray:
    """A frame's colour quantiles (3 channels x 5), its chroma quantiles (red and blue against green, 2 x
    5), then its block means (16x9x3), all 0..1. Read from every other pixel of every other row: a
    pattern's cells keep their contrast (an average would blur them away), and the histograms cost a
    quarter. Chroma does not move when the light does (a strobe, lightning, a lamp switched on adds to
    every channel alike), so a cut out of a strobing shot still stands out in it."""
    import cv2

    half = np.ascontiguousarray(frame[::2, ::2])
    wide = half.astype(np.int16)
    planes = [half[..., c] for c in range(3)]
    planes += [((wide[..., c] - wide[..., 1] + 255) >> 1).astype(np.uint8) for c in (2, 0)]  # R-G, B-G
    quantiles = []
    for plane in planes:
        counts = cv2.calcHist([plane], [0], None, [256], [0, 256]).ravel()
        cumulative = np.cumsum(counts) / max(counts.sum(), 1.0)
        quantiles.append(np.searchsorted(cumulative, QUANTILES))
    blocks = cv2.resize(half, GRID, interpolation=cv2.INTER_AREA).reshape(-1)
    return np.concatenate([np.concatenate(quantiles), blocks]).astype(np.float32) / 255


_COLOURS, _CHROMAS = 3 * len(QUANTILES), 5 * len(QUANTILES)  # where the colour and chroma quantiles end


@dataclass(frozen=True)
class Signal:
    """A part of the signature, read as one signal. A colour signal is its most changed plane's: a cut
    from dark red to black moves the red plane alone, and the mean over all planes would water that down
    by the still ones, to where a grainy shot's own flicker came near it. Chroma steps are two levels of
    255 (see frame_signature), so its own flicker is coarser and a cut must clear more of it."""

    part: slice  # its values in a signature
    planes: int  # how many planes they hold, one after the other
    floor: float
    quiet: float  # added to its typical change
    times_typical: float  # how many times its typical change a cut is


SIGNALS = (
    Signal(slice(0, _COLOURS), 3, COLOUR_FLOOR, COLOUR_QUIET, COLOUR_TIMES_TYPICAL),  # colour quantiles
    Signal(slice(_COLOURS, _CHROMAS), 2, COLOUR_FLOOR, COLOUR_QUIET, CHROMA_TIMES_TYPICAL),  # chroma
    Signal(slice(_CHROMAS, None), 1, LAYOUT_FLOOR, LAYOUT_QUIET, LAYOUT_TIMES_TYPICAL),  # block means
)


def signal_values(difference: np.ndarray) -> tuple[float, ...]:
    """Each signal's value for a difference of two signatures: the mean over its most changed plane."""
    return tuple(float(difference[s.part].reshape(s.planes, -1).mean(axis=1).max()) for s in SIGNALS)


def in_floors(values: Any) -> float:
    """Each signal's value (a change, or a difference's) in its floors, summed."""
    return sum(value / signal.floor for value, signal in zip(values, SIGNALS, strict=False))


class LayeredDetector:
    """Finds cuts as frames stream past, a few frames late (the frames after a moment must be seen)."""

    def __init__(self, min_scene_len: int = 12) -> None:
        self._min_frames = max(1, int(min_scene_len))
        self._fps = 0.0  # the film's rate and the window, set from the first frame's
        self._window = 0
        self._ring = np.zeros((0, 0), np.float32)  # the last frames' signatures, frame n in row n % len
        self._seen = 0  # frames taken so far
        # frame -> each signal's change there between the windows, then the step from the frame before
        self._changes: dict[int, tuple[float, ...]] = {}
        self._last_cut = 0
        self._decided = 0  # frames before this one are decided
        self._end: int | None = None  # the frame count, once the film has ended

    def process_frame(self, timecode: Any, frame: np.ndarray) -> list[Any]:
        """Take the next frame; return the cuts now decided (PySceneDetect FrameTimecodes)."""
        signature = frame_signature(frame)
        if not self._window:
            self._start(float(timecode.frame_rate), len(signature))
        number = timecode.frame_num
        self._ring[number % len(self._ring)] = signature
        self._seen = number + 1
        self._measure(number - self._window + 1)
        cuts = self._decide(up_to=number - 2 * self._window + 2)
        self._forget()
        return [timecode.__class__(cut, timecode.frame_rate) for cut in cuts]

    def post_process(self, timecode: Any) -> list[Any]:
        """The cuts left undecided at the end of the film."""
        last = timecode.frame_num
        self._end = last + 1
        for moment in range(self._decided, last + 1):
            self._measure(moment)
        cuts = self._decide(up_to=last + 1)
        return [timecode.__class__(cut, timecode.frame_rate) for cut in cuts]

    def _start(self, fps: float, size: int) -> None:
        self._fps = fps
        self._window = int(np.clip(round(WINDOW_S * fps), 2, 4))
        # enough for a moment's windows and the frames _comes_back looks at around it
        self._ring = np.zeros((6 * self._window + 4, size), np.float32)

    def _kept(self, first: int, end: int) -> np.ndarray:
        """The signatures of frames first .. end - 1 (all still kept)."""
        return self._ring[[f % len(self._ring) for f in range(first, end)]]

    def _measure(self, moment: int) -> None:
        """The change at `moment`: the frames before it (up to `window`) against those from it on."""
        if moment < 1 or moment in self._changes or moment >= self._seen:
            return
        before = self._kept(max(0, moment - self._window), moment).mean(axis=0)
        after = self._kept(moment, min(self._seen, moment + self._window)).mean(axis=0)
        values = signal_values(np.abs(before - after))
        self._changes[moment] = (*values, self._distance(moment - 1, moment))

    def _decide(self, up_to: int) -> list[int]:
        cuts = []
        for moment in range(max(self._decided, 1), up_to):
            if self._is_cut(moment):
                cut = self._sharpest(moment)
                cuts.append(cut)
                self._last_cut = cut
        self._decided = max(self._decided, up_to)
        return cuts

    def _is_cut(self, moment: int) -> bool:
        if moment not in self._changes or moment - self._last_cut < self._min_frames:
            return False
        if self._end is not None and self._end - moment < self._min_frames:
            return False  # a cut this near the end would leave a sliver
        changes = self._changes[moment]
        # The floors and peaks first: most frames fail them, and the shot's typical change costs more.
        above = [k for k, s in enumerate(SIGNALS) if changes[k] >= s.floor and self._peaks(moment, k)]
        if not above:
            return False
        typical = self._typical(moment)
        strong = any(changes[k] >= SIGNALS[k].times_typical * typical[k] for k in above)
        return strong and self._sudden(moment)

    def _sudden(self, moment: int) -> bool:
        """Whether the change happened from one frame to the next: a cut's whole change is in one step,
        a growing or moving picture's (a zoom, a shape that swells, a slow dissolve) is spread over the
        window's frames, each step a small part of it."""
        change = in_floors(self._changes[moment])  # zip stops before the step
        near = range(moment - self._window + 1, moment + self._window)
        step = max((self._changes[m][STEP] for m in near if m in self._changes), default=0.0)
        return step >= SUDDEN_SHARE * change

    def _sharpest(self, moment: int) -> int:
        """The cut's frame: near a moment the windows found, the first sharp change from the frame before
        that lasts. The windows' means place a hard cut on its frame, but a flash or a strobe a few
        frames from a cut moves them too: a flash two frames long anywhere in a window moves them alike,
        and a strobe just after a cut pulls them late. A change whose picture comes back (a flash
        starts) or was there a moment before (one ends) does not last."""
        near = [m for m in range(moment - self._window + 1, moment + self._window) if m in self._changes]
        sharpest = max((self._changes[m][STEP] for m in near), default=0.0)
        least = max(SHARP_SHARE * sharpest, SHARP_STEP, STEP_TIMES_TYPICAL * self._typical(moment)[STEP])
        sharp = [m for m in near if self._changes[m][STEP] >= least]
        lasting = [m for m in sharp if not self._comes_back(m)]
        return (lasting or sharp or [moment])[0]

    def _comes_back(self, frame: int) -> bool:
        """Whether the picture before `frame` shows again in the window after it, or the picture at it
        showed in the window before the frame before: near, against the step at `frame`."""
        step = self._distance(frame - 1, frame)
        after = range(frame + 1, frame + self._window + 1)
        before = range(frame - self._window - 1, frame - 1)
        return any(self._distance(frame - 1, other) < SHARP_SHARE * step for other in after) or any(
            self._distance(frame, other) < SHARP_SHARE * step for other in before
        )

    def _distance(self, one: int, other: int) -> float:
        """Two frames' difference, in floors (as a step's); infinite for a frame not kept."""
        oldest = self._seen - len(self._ring)
        if not (max(0, oldest) <= min(one, other) and max(one, other) < self._seen):
            return float("inf")
        difference = np.abs(self._ring[one % len(self._ring)] - self._ring[other % len(self._ring)])
        return in_floors(signal_values(difference))

    def _peaks(self, moment: int, signal: int) -> bool:
        """The signal is highest here among the moments a window either side (ties go to the first)."""
        value = self._changes[moment][signal]
        near = range(moment - self._window, moment + self._window + 1)
        return all(
            self._changes[m][signal] < value or (m > moment and self._changes[m][signal] <= value)
            for m in near
            if m != moment and m in self._changes
        )

    def _typical(self, moment: int) -> list[float]:
        """The shot's typical change in each signal, then its typical step: the medians over its last
        TYPICAL_S, before the window of `moment`, plus each signal's quiet."""
        first = max(self._last_cut + self._window, moment - round(TYPICAL_S * self._fps), 1)
        past = [self._changes[m] for m in range(first, moment - self._window) if m in self._changes]
        medians = np.median(np.array(past), axis=0) if len(past) >= 3 else np.zeros(len(SIGNALS) + 1)
        return [float(medians[k]) + signal.quiet for k, signal in enumerate(SIGNALS)] + [float(medians[STEP])]

    def _forget(self) -> None:
        """Keep only the changes the next decisions need: the shot's last TYPICAL_S and the windows."""
        keep = round(TYPICAL_S * self._fps) + 4 * self._window + 2
        for moment in [m for m in self._changes if m < self._decided - keep]:
            del self._changes[moment]
