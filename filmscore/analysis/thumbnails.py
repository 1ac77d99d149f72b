"""Shot thumbnails, taken from the shared analysis stream (no second decode).

Shots are only known once the stream ends, so small JPEGs are kept twice a second, and each shot takes
the one nearest its middle. Shots are at least 0.5 s long, so every shot holds a sample of its own.
"""

from __future__ import annotations

import numpy as np

from filmscore.analysis.shots import Shot

SAMPLES_PER_S = 2.0
THUMBNAIL_WIDTH = 160  # pixels; about 3 KB a JPEG, 40 MB for a two-hour film
JPEG_QUALITY = 75


class ThumbnailAnalyser:
    def __init__(self, fps: float) -> None:
        import cv2

        self._cv2 = cv2
        self._step = max(1, round(fps / SAMPLES_PER_S))
        self._frames: list[int] = []
        self._jpegs: list[bytes] = []

    def consume(self, index: int, frame: np.ndarray) -> None:
        if index % self._step:
            return
        cv2 = self._cv2
        height = max(2, round(frame.shape[0] * THUMBNAIL_WIDTH / frame.shape[1]))
        small = cv2.resize(frame, (THUMBNAIL_WIDTH, height), interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self._frames.append(index)
            self._jpegs.append(encoded.tobytes())

    def finish(self, frame_count: int) -> None:
        """Nothing to flush: every sample is encoded as it arrives."""

    def for_shots(self, shots: tuple[Shot, ...]) -> tuple[bytes, ...]:
        """A JPEG per shot: the sample nearest the shot's middle frame (empty if nothing was decoded)."""
        if not self._frames:
            return tuple(b"" for _ in shots)
        middles = np.array([(s.start_frame + s.end_frame - 1) / 2 for s in shots])
        return tuple(self._jpegs[i] for i in nearest_indices(np.asarray(self._frames), middles))


def nearest_indices(ascending: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target, the index of the nearest value in `ascending` (the earlier one on a tie). A sorted
    search, not a targets x values table: a two-hour film has about 1,500 shots and 14,400 samples, and
    that table took 170 MB."""
    after = np.clip(np.searchsorted(ascending, targets), 1, len(ascending) - 1)
    before = after - 1
    if len(ascending) == 1:
        return np.zeros(len(targets), dtype=np.intp)
    closer_before = targets - ascending[before] <= ascending[after] - targets
    return np.where(closer_before, before, after)


HASH_SIDE = 8  # a 64-bit difference hash


def picture_hash(jpeg: bytes) -> int | None:
    """A perceptual hash of a thumbnail (a difference hash: whether each of 8x8 points of the grey picture
    is brighter than its right-hand neighbour), so the same shot is recognised after a re-encode or a
    rescale; None for a thumbnail that does not decode."""
    import cv2

    grey = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE) if jpeg else None
    if grey is None:
        return None
    small = cv2.resize(grey, (HASH_SIDE + 1, HASH_SIDE), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))
