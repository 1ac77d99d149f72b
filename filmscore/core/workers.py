"""Worker processes for the stages that use the second core: speech recognition beside the picture pass,
and the audio helper, which measures the soundtrack, listens to the music, mixes it and runs the mux."""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.pool
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing import resource_tracker
from typing import IO

# The audio helper's import and soundtrack measures start while the picture pass and the speech workers
# keep both cores busy. At normal priority it slowed them more than it saved (benchmarks/ab_run.py); at a
# lower one it takes what they leave (the probe, pipe waits). 10 rather than 19, so that in a batch of
# films, where other films' stages fill every core, it is slowed rather than starved.
HELPER_NICENESS = 10
DIE_WITH_PARENT_ENV = "FILMSCORE_DIE_WITH_PARENT"  # set for a batch's film processes: stop if the batch dies

Stream = int | IO[bytes] | None
_programs: set[subprocess.Popen] = set()  # what this process runs through `program`


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one (a container given
    some of the machine's CPUs, `taskset`), else every CPU. os.cpu_count() counts the machine's CPUs even
    where the process may use only a few of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def worker_pool(
    count: int, warm_up: Callable[[], None] | None = None, wait_for_exit: bool = True
) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of spawned workers that leave Ctrl-C to the main process, which stops them itself (so no
    worker prints a traceback of its own). "spawn" because forking a process that already runs BLAS
    threads is unsafe. `warm_up` runs in each worker as it starts (imports), so that cost overlaps
    whatever the main process does next. Without `wait_for_exit` idle workers are ended at once instead
    of being left to exit on their own (a process that imported librosa and scipy takes 0.3 s to tear
    them down)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    with contextlib.ExitStack() as running:  # leaving terminates the workers, on an error too
        with _signals_held() if in_main_thread else contextlib.nullcontext():
            context = multiprocessing.get_context("spawn")
            start = functools.partial(_start_worker, warm_up)
            pool = running.enter_context(context.Pool(count, initializer=start))
        yield pool
        if wait_for_exit:
            # Done: let them exit on their own, so what they set up (torch's semaphores) is released cleanly.
            pool.close()
            pool.join()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While workers start, Ctrl-C and SIGTERM are noted and raised again once the pool is in place (and
    so ended with it): raised half-way, they left workers that had not yet read their start-up data, which
    then died with a traceback of their own. SIGINT is also blocked in this thread, so each worker begins
    with it blocked (the mask survives fork and exec) until it ignores it itself; SIGTERM is not, because
    the pool ends its workers with it."""
    resource_tracker.ensure_running()  # starting it inside Pool() would unblock SIGINT half-way
    pressed: list[int] = []

    def note(signum: int, frame: object) -> None:
        pressed.append(signum)

    previous = {held: signal.signal(held, note) for held in (signal.SIGINT, signal.SIGTERM)}
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for signum in dict.fromkeys(pressed):
        signal.raise_signal(signum)  # to this thread, now that its handler is back


def _start_worker(warm_up: Callable[[], None] | None) -> None:
    """A worker's start: from blocked (the main process's mask as it started the pool) to ignored, which
    drops a Ctrl-C kept meanwhile; a program the worker runs can take SIGINT over as usual. Its
    unraisable exceptions are not printed: a worker ended while it already shuts down (the pool sends
    SIGTERM after the stop sentinel) has its handlers cleared by the interpreter's finalisation, and
    CPython then reports the pending signal as "OSError: Signal 15 ignored due to race condition" from
    whatever __del__ runs next, onto the run's own stderr (seen once on CI). A worker's real errors go
    back to the main process with its results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    sys.unraisablehook = _unreported
    if warm_up is not None:
        warm_up()


def _unreported(unraisable: object) -> None:
    return None


@contextlib.contextmanager
def audio_helper(warm_up: Callable[[], None] | None = None) -> Iterator[multiprocessing.pool.Pool]:
    """The one process of a run that imports librosa: it measures the soundtrack's pitch and loudness
    beside the picture pass, listens to each render (the music check), then mixes and measures the
    delivery with the scipy filters librosa brought. The main process never pays those imports (about
    1.3 s and 0.9 s on one core) nor their teardown. Start it first: its import overlaps the probe. It
    holds no resources of its own, so it is ended, not awaited."""
    with worker_pool(1, functools.partial(_start_helper, warm_up), wait_for_exit=False) as pool:
        yield pool


def _start_helper(warm_up: Callable[[], None] | None) -> None:
    """The helper's start: a lower priority first, so that even its import yields to the picture pass;
    and the programs it runs end with it when the pool ends it (a run stopped during the mux)."""
    os.nice(HELPER_NICENESS)
    signal.signal(signal.SIGTERM, _end_with_programs)
    if warm_up is not None:
        warm_up()


def _end_with_programs(signum: int, frame: object) -> None:
    """SIGTERM in the audio helper: end its programs (the mux's encoder, which would go on writing the
    film after the run is over), then the helper itself, at once, as SIGTERM's default would."""
    for process in list(_programs):
        process.kill()
    os._exit(128 + signum)


@contextlib.contextmanager
def program(cmd: list[str], stdin: Stream, stdout: Stream, stderr: Stream) -> Iterator[subprocess.Popen]:
    """A running program that does not outlive its work: killed on the way out if it has not finished
    (an error, or Ctrl-C), and with the audio helper when that is ended."""
    process = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr)
    _programs.add(process)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        _programs.discard(process)
        if process.stdout is not None:
            process.stdout.close()


def die_with_parent() -> None:
    """In a film's process started by a batch: ask Linux to send SIGTERM when the batch process dies (a
    `kill -9` included), so the run stops and removes its temp files instead of running on unseen."""
    parent = os.environ.get(DIE_WITH_PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if str(os.getppid()) != parent:  # the batch died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
