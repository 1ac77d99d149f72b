"""One decode pass: ffmpeg decodes the video once, downscaled in its filter graph, and every visual
analyser (shots, picture features, faces) is fed from that single stream of small frames.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from filmscore.config.settings import default
from filmscore.core.errors import InputError
from filmscore.core.workers import usable_cores
from filmscore.media.probe import MediaInfo, require_program

PIPE_BYTES = 1 << 20  # 1 MiB, the default most that an unprivileged process may ask for
ONE_THREAD_PIXEL_RATE = 1280 * 720 * 30  # pixels a second one decoder thread keeps up with beside the rest
READ_AHEAD_FRAMES = 32  # frames decoded ahead of the analysers: about 3.5 MB at 256x144
# The cut detector sees every frame up to this rate, whatever the analysis rate: a cut lands on its frame
# in every preset. Past it (a high-speed take) the film is decoded at this rate.
MAX_DECODE_FPS = 120.0


@dataclass(frozen=True)
class DecodeOptions:
    """How the shared analysis stream is made."""

    # analysis width in pixels; PySceneDetect itself downscales to about this
    width: int = default("analysis.width")
    # frames above this rate are dropped; shot times stay exact to this rate
    max_fps: float = default("analysis.max_fps")


@dataclass(frozen=True)
class FrameGeometry:
    """The size and rate of the analysis frames, as the analysers receive them. The film is decoded at
    `step` times that rate: analysers that must see every frame (the shot analyser, `every_frame`) get
    each one, the others every `step`-th."""

    width: int
    height: int
    fps: float
    step: int = 1

    @property
    def decode_fps(self) -> float:
        return self.fps * self.step

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 3


class FrameAnalyser(Protocol):
    """Anything that reads the shared frame stream. Frames are BGR uint8 arrays, read-only. One with a
    true `every_frame` attribute is fed every decoded frame, numbered at the decode rate."""

    def consume(self, index: int, frame: np.ndarray) -> None: ...

    def finish(self, frame_count: int) -> None: ...


def analysis_geometry(info: MediaInfo, opts: DecodeOptions) -> FrameGeometry:
    """Scale to the analysis width, keeping the aspect ratio; both sides even, as the scaler needs."""
    width = max(2, min(opts.width, info.width) // 2 * 2)
    height = max(2, round(width * info.height / info.width / 2) * 2)
    decode_fps = min(info.fps, max(MAX_DECODE_FPS, opts.max_fps))
    step = max(1, math.ceil(decode_fps / opts.max_fps - 1e-9))
    return FrameGeometry(width=width, height=height, fps=decode_fps / step, step=step)


def decoder_threads(info: MediaInfo, beside: int) -> int | None:
    """Threads for the analysis decode while `beside` other processes keep a core each busy (the speech
    workers): the cores this process may use less those, when two or more are left. Where fewer are,
    ffmpeg's own choice (frame threads on every core, and one more) is kept for large pictures, whose
    decode needs more than one core, and one thread decodes up to ONE_THREAD_PIXEL_RATE: there, frame
    threads only added switching beside the other work. Measured on 2 cores beside a speech worker and
    the audio helper (benchmarks/ab_run.py, 60 s runs): 720p 0.35 s faster with one thread (0.4 core-s
    less), 1080p 0.49 s slower. None means ffmpeg's choice."""
    cores = usable_cores()
    share = os.environ.get("OMP_NUM_THREADS", "")  # a batch gives each film its share of the cores
    if share.isdigit() and int(share) > 0:
        cores = min(cores, int(share))
    if cores - beside >= 2:
        return cores - beside
    return 1 if info.width * info.height * info.fps <= ONE_THREAD_PIXEL_RATE else None


def iter_frames(info: MediaInfo, geometry: FrameGeometry, threads: int | None = None) -> Iterator[np.ndarray]:
    """Yield the film's frames at the analysis size and a constant rate (ffmpeg applies rotation), decoded
    with `threads` threads (ffmpeg's choice when None)."""
    cmd = [
        # The deblocking filter polishes detail that the downscale to analysis size throws away anyway,
        # but only where no other frame is predicted from the frame: skipped on reference frames too, the
        # error builds up from frame to frame until the next key frame, and on grainy footage the colours
        # drifted by up to 10 levels of 255 and jumped back at each key frame, which read as a cut.
        require_program("ffmpeg"), "-nostdin", "-v", "error",
        "-skip_loop_filter", "noref", *(["-threads", str(threads)] if threads else []), "-i", str(info.path),
        # One filter thread: ffmpeg slices the scaler over every core by default, which for a 256 px
        # picture only adds switching (60 s 720p visual pass: 2.26 s to 2.15 s, the same frames).
        "-map", "0:v:0", "-an", "-sn", "-dn", "-filter_threads", "1",
        "-vf", f"scale={geometry.width}:{geometry.height}:flags=fast_bilinear",
        # A constant rate makes frame index / fps the frame's time, also for variable-rate sources.
        "-fps_mode", "cfr", "-r", f"{geometry.decode_fps:.6f}",
        "-pix_fmt", "bgr24", "-f", "rawvideo", "-",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs, set just above
    with contextlib.suppress(OSError):
        # A pipe of 64 KiB holds less than one frame, which keeps ffmpeg and the analysers in lockstep.
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    shape = (geometry.height, geometry.width, 3)
    frames: queue.Queue[bytes | None] = queue.Queue(maxsize=READ_AHEAD_FRAMES)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_frames, args=(proc.stdout, geometry.frame_bytes, frames, stop), daemon=True
    )
    reader.start()
    count = 0
    try:
        while (data := frames.get()) is not None:
            count += 1
            yield np.frombuffer(data, dtype=np.uint8).reshape(shape)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(queue.Empty):
            while True:  # unblock the reader if it waits on a full queue
                frames.get_nowait()
        reader.join()
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        returncode = proc.wait()
    if count == 0:
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else f"ffmpeg exit {returncode}"
        raise InputError(f"{info.path}: no video frame could be decoded ({reason}). The file may be corrupt.")


def _read_frames(stream, frame_bytes: int, frames: queue.Queue[bytes | None], stop: threading.Event) -> None:
    """Read whole frames from ffmpeg on a thread of its own (reads release the GIL), so decoding runs
    ahead of the analysers instead of waiting on them. Ends the queue with None."""
    try:
        while not stop.is_set():
            data = stream.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            frames.put(data)
    except (OSError, ValueError):
        pass  # the pipe was closed under us: the consumer has stopped
    finally:
        with contextlib.suppress(queue.Full):
            frames.put(None, timeout=1.0)


def scan(
    info: MediaInfo,
    geometry: FrameGeometry,
    analysers: Sequence[FrameAnalyser],
    on_progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> int:
    """Decode once (with `threads` decoder threads, see decoder_threads) and feed the frames to the
    analysers: every decoded frame to those that ask for each (`every_frame`), every `geometry.step`-th
    to the rest, numbered at the analysis rate. Returns the number of analysis frames."""
    _opencv_on_one_thread()
    every = [a for a in analysers if getattr(a, "every_frame", False)]
    sampled = [a for a in analysers if not getattr(a, "every_frame", False)]
    decoded = 0
    report_every = max(1, round(geometry.decode_fps))  # about once a second of film
    for index, frame in enumerate(iter_frames(info, geometry, threads)):
        for analyser in every:
            analyser.consume(index, frame)
        if index % geometry.step == 0:
            for analyser in sampled:
                analyser.consume(index // geometry.step, frame)
        decoded = index + 1
        if on_progress is not None and index % report_every == 0:
            on_progress(min(1.0, index / geometry.decode_fps / info.duration_s))
    for analyser in every:
        analyser.finish(decoded)
    count = -(-decoded // geometry.step)  # the sampled frames: 0, step, 2 step ... below decoded
    for analyser in sampled:
        analyser.finish(count)
    return count


def _opencv_on_one_thread() -> None:
    """The analysers' OpenCV calls (face detection above all) run on this thread alone: ffmpeg's decoder
    threads and the speech workers fill the cores already, and OpenCV's own thread pool only contended
    with them (the 60 s 720p visual pass took 2.14 s against 2.06 s, medians of 20 runs each)."""
    import cv2

    cv2.setNumThreads(1)
