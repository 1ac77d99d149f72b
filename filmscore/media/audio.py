"""Audio too long to hold in memory: float32 samples in a raw file, read and written a block at a time.

A feature's soundtrack at 48 kHz stereo is 1.4 GB for each hour in float32, and a mix needs several such
signals at once. So a run keeps them on disk, beside its output, and every stage of the mix streams them
in blocks of BLOCK_FRAMES. Stages take either an in-memory `AudioClip` or an `AudioFile`; both have
`frames`, `channels`, `sample_rate` and `read(first, last)`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from filmscore.core.atomic import work_folder
from filmscore.core.errors import InputError, OutputError
from filmscore.media.probe import SPEECH_SAMPLE_RATE, AudioClip, MediaInfo

BLOCK_FRAMES = 1 << 18  # 5.5 s at 48 kHz: 2 MiB a block in stereo float32
SAMPLE_BYTES = 4  # float32


class Audio(Protocol):
    """What the mix needs of a signal: its size and rate, and a block of frames at a time."""

    @property
    def frames(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def sample_rate(self) -> int: ...
    def read(self, first: int, last: int) -> np.ndarray: ...


@dataclass(frozen=True)
class AudioFile:
    """Interleaved native float32 frames in a raw file (what `ffmpeg -f f32le` and `fluidsynth -T raw
    -O float` write)."""

    path: Path
    frames: int
    channels: int
    sample_rate: int

    def read(self, first: int, last: int) -> np.ndarray:
        first, last = max(0, first), min(self.frames, last)
        count = max(0, last - first) * self.channels
        offset = first * self.channels * SAMPLE_BYTES
        samples = np.fromfile(self.path, dtype="<f4", count=count, offset=offset)
        return samples.reshape(-1, self.channels)

    @classmethod
    def fitted(cls, path: Path, frames: int, channels: int, sample_rate: int) -> AudioFile:
        """A raw file cut or padded with silence to exactly `frames`."""
        os.truncate(path, frames * channels * SAMPLE_BYTES)
        return cls(path, frames, channels, sample_rate)


def blocks(frames: int, size: int | None = None) -> Iterator[tuple[int, int]]:
    """(first, last) of consecutive blocks covering `frames`, BLOCK_FRAMES long unless told."""
    size = size or BLOCK_FRAMES
    for first in range(0, frames, size):
        yield first, min(frames, first + size)


class AudioWriter:
    """Collects blocks written in order, in memory (`folder` None) or in a raw file in `folder`."""

    def __init__(self, frames: int, channels: int, sample_rate: int, folder: Path | None, name: str) -> None:
        self.frames, self.channels, self.sample_rate = frames, channels, sample_rate
        self._written = 0
        self._path = folder / f"{name}.f32" if folder is not None else None
        self._memory = np.zeros((frames, channels), np.float32) if folder is None else None
        self._stream = self._path.open("wb") if self._path is not None else None

    def write(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32).reshape(-1, self.channels)
        if self._memory is not None:
            self._memory[self._written : self._written + len(block)] = block
        else:
            try:
                self._stream.write(block.astype("<f4", copy=False).tobytes())  # type: ignore[union-attr]
            except OSError as exc:
                raise OutputError(f"cannot write a work file in {self._path.parent}: {exc.strerror}. "  # type: ignore[union-attr]
                                  "Check free space.") from None  # fmt: skip
        self._written += len(block)

    def finish(self) -> AudioClip | AudioFile:
        if self._written != self.frames:
            raise ValueError(f"wrote {self._written} frames of {self.frames}")
        if self._memory is not None:
            samples = self._memory if self.channels > 1 else self._memory[:, 0]
            return AudioClip(samples, self.sample_rate)
        self._stream.close()  # type: ignore[union-attr]
        return AudioFile(self._path, self.frames, self.channels, self.sample_rate)  # type: ignore[arg-type]


def extract_audio_file(info: MediaInfo, sample_rate: int, channels: int, path: Path) -> AudioFile:
    """The film's first audio stream decoded by ffmpeg straight into a raw float32 file, exactly the
    film's length (cut, or padded with silence); nothing passes through memory."""
    from filmscore.media.probe import audio_decode_command, last_line

    command = audio_decode_command(info, sample_rate, channels, str(path))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if not path.parent.exists() or "No space" in result.stderr:
            raise OutputError(f"cannot write a work file in {path.parent}: {last_line(result.stderr)}")
        raise InputError(f"{info.path}: cannot decode its audio ({last_line(result.stderr)}). "
                         "The file may be corrupt.")  # fmt: skip
    return AudioFile.fitted(path, round(info.duration_s * sample_rate), channels, sample_rate)


@contextlib.contextmanager
def speech_track(info: MediaInfo, folder: Path | None = None) -> Iterator[AudioFile]:
    """The film's soundtrack as 16 kHz mono, exactly the film's length, in a raw file in a temporary folder
    inside `folder` (else the system's), removed on leaving. Analysis reads it a block or a passage at a
    time: a feature's is 230 MB an hour. A film without audio gives silence (a sparse file)."""
    with work_folder(folder) as work:
        path = Path(work) / "speech.f32"
        if info.has_audio:
            yield extract_audio_file(info, SPEECH_SAMPLE_RATE, 1, path)
        else:
            path.touch()
            yield AudioFile.fitted(path, round(info.duration_s * SPEECH_SAMPLE_RATE), 1, SPEECH_SAMPLE_RATE)


def load(audio: Audio) -> np.ndarray:
    """All of a signal in memory, (frames, channels): for short signals and tests only."""
    return audio.read(0, audio.frames)
