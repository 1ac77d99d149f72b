"""Worker processes for the stages that use the second core: speech recognition beside the picture pass,
and the audio helper, which measures the soundtrack and listens to the music."""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from collections.abc import Callable, Iterator

# The audio helper's import and soundtrack measures start while the picture pass and the speech workers
# keep both cores busy. At normal priority it slowed them more than it saved (benchmarks/ab_run.py); at a
# lower one it takes what they leave (the probe, pipe waits). 10 rather than 19, so that in a batch of
# films, where other films' stages fill every core, it is slowed rather than starved.
HELPER_NICENESS = 10


@contextlib.contextmanager
def worker_pool(
    count: int, warm_up: Callable[[], None] | None = None, wait_for_exit: bool = True
) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of spawned workers that leave Ctrl-C to the main process, which stops them itself (so no
    worker prints a traceback of its own). SIGINT is ignored while they start: an ignored signal stays
    ignored across exec, so even a worker still starting up is covered. "spawn" because forking a process
    that already runs BLAS threads is unsafe. `warm_up` runs in each worker as it starts (imports), so
    that cost overlaps whatever the main process does next. Without `wait_for_exit` idle workers are ended
    at once instead of being left to exit on their own (a process that imported librosa and scipy takes
    0.3 s to tear them down)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    try:
        pool = multiprocessing.get_context("spawn").Pool(count, initializer=warm_up)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
    with pool:  # leaving terminates the workers, on an error too
        yield pool
        if wait_for_exit:
            # Done: let them exit on their own, so what they set up (torch's semaphores) is released cleanly.
            pool.close()
            pool.join()


@contextlib.contextmanager
def audio_helper(warm_up: Callable[[], None] | None = None) -> Iterator[multiprocessing.pool.Pool]:
    """The one process of a run that imports librosa: it measures the soundtrack's pitch and loudness
    beside the picture pass, then listens to each render (the music check). The main process never pays
    librosa's import (about 1.3 s on one core, when the other has nothing to do) nor its teardown. Start
    it first: its import overlaps the probe. It holds no resources of its own, so it is ended, not awaited."""
    with worker_pool(1, functools.partial(_start_helper, warm_up), wait_for_exit=False) as pool:
        yield pool


def _start_helper(warm_up: Callable[[], None] | None) -> None:
    os.nice(HELPER_NICENESS)
    if warm_up is not None:
        warm_up()
