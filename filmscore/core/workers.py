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
import time
from collections.abc import Callable, Iterator
from multiprocessing import resource_tracker
from typing import IO, Any

# The audio helper's import and soundtrack measures start while the picture pass and the speech workers
# keep both cores busy. At normal priority it slowed them more than it saved (benchmarks/ab_run.py); at a
# lower one it takes what they leave (the probe, pipe waits). 10 rather than 19, so that in a batch of
# films, where other films' stages fill every core, it is slowed rather than starved.
HELPER_NICENESS = 10
TRACKER_QUIET = "ignore:resource_tracker:UserWarning"
STOP_GRACE_S = 2.0  # how long a stopped worker may take to unwind before it is killed
TASK_HANDLER_WAIT_S = 1.0  # how long the pool's task handler may take to send its sentinels once stopped
DIE_WITH_PARENT_ENV = "FILMSCORE_DIE_WITH_PARENT"  # set for a batch's film processes: stop if the batch dies

Stream = int | IO[bytes] | None
PoolKind = str  # a pool's workers' warm-up, by name (see _name_of)
_kept: dict[PoolKind, multiprocessing.pool.Pool] | None = None  # see kept_workers; None: pools end with runs
_programs: set[subprocess.Popen] = set()  # what this process runs through `program`


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one (a container given
    some of the machine's CPUs, `taskset`), else every CPU. os.cpu_count() counts the machine's CPUs even
    where the process may use only a few of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def kept_workers() -> Iterator[None]:
    """Within this, the worker pools a run starts outlive it, to serve the next run in this process as
    they are, imports made and models loaded (a batch's warm film worker: batch/film_workers.py); they
    end with the block. A pool whose run failed is ended with it, never handed on, since it may still be
    busy."""
    global _kept
    _kept = {}
    try:
        yield
    finally:
        pools, _kept = _kept, None
        for pool in pools.values():
            stop_workers(pool)


def keeping_workers() -> bool:
    """Whether this process keeps what it loaded for its next run (inside `kept_workers`)."""
    return _kept is not None


def _kept_pool(kind: PoolKind, count: int) -> multiprocessing.pool.Pool | None:
    """A kept pool of this kind with at least `count` live workers, taken out while it is used, or None."""
    if _kept is None or kind not in _kept:
        return None
    pool = _kept.pop(kind)
    workers = getattr(pool, "_pool", [])
    if len(workers) >= count and all(worker.exitcode is None for worker in workers):
        return pool
    stop_workers(pool)
    return None


def _keep(kind: PoolKind, pool: multiprocessing.pool.Pool) -> bool:
    """Keep `pool` for the next run, where pools are kept; whether it was."""
    if _kept is None:
        return False
    if kind in _kept:  # two runs used the kind at once: keep one
        stop_workers(_kept.pop(kind))
    _kept[kind] = pool
    return True


@contextlib.contextmanager
def worker_pool(
    count: int,
    warm_up: Callable[[], None] | None = None,
    wait_for_exit: bool = True,
) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of spawned workers that leave Ctrl-C to the main process, which stops them itself (so no
    worker prints a traceback of its own). "spawn" because forking a process that already runs BLAS
    threads is unsafe. `warm_up` runs in each worker as it starts (imports), so that cost overlaps
    whatever the main process does next. Without `wait_for_exit` idle workers are ended at once instead
    of being left to exit on their own (a process that imported librosa and scipy takes 0.3 s to tear
    them down). Inside `kept_workers`, a kept pool of the same warm-up is used instead of a new one, and
    kept again after a clean exit."""
    kind = _name_of(warm_up)
    pool = _kept_pool(kind, count)
    if pool is None:
        in_main_thread = threading.current_thread() is threading.main_thread()
        with _signals_held() if in_main_thread else contextlib.nullcontext():
            context = multiprocessing.get_context("spawn")
            pool = context.Pool(count, initializer=functools.partial(_start_worker, warm_up))
    kept = False
    try:
        yield pool
        kept = _keep(kind, pool)
        if wait_for_exit and not kept:
            # Done: let them exit on their own, so what they set up (torch's semaphores) is released cleanly.
            pool.close()
            pool.join()
    finally:
        if not kept:
            stop_workers(pool)


def _name_of(function: object) -> str:
    """A warm-up by its module and name, which stay the same from run to run (a partial, by its function's
    and its arguments')."""
    if function is None:
        return ""
    if isinstance(function, functools.partial):
        return f"{_name_of(function.func)}({', '.join(_name_of(arg) for arg in function.args)})"
    if callable(function):
        return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', repr(function))}"
    return repr(function)


def stop_workers(pool: multiprocessing.pool.Pool) -> None:
    """End a pool's workers within STOP_GRACE_S, whatever they are doing, and the pool with them.
    Pool.terminate alone can hang for ever: it first takes the lock of the pool's task queue, which an idle
    worker holds while it waits for a task, so a worker killed there (SIGTERM sent to the whole process
    group by `timeout`, systemd or `kill -- -PGID`) takes the lock to its grave. Workers here turn SIGTERM
    into SystemExit, which unwinds and releases that lock; one that cannot unwind in time (deep in a native
    call) is killed, and the lock, which no live process can hold then, is freed before the pool ends."""
    with _signals_ignored():
        _stop_replacing_workers(pool)
        workers = [p for p in getattr(pool, "_pool", []) if p.exitcode is None]
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.exitcode is None:
                worker.kill()
                worker.join()
        _await_task_handler(pool)
        _free(getattr(getattr(pool, "_inqueue", None), "_rlock", None))
        _free(getattr(getattr(pool, "_outqueue", None), "_wlock", None))
        pool.terminate()


def _stop_replacing_workers(pool: multiprocessing.pool.Pool) -> None:
    """Stop the pool's thread that replaces workers that exit, as Pool.terminate does first: otherwise a
    worker stopped here is replaced by a new one, still importing, that nothing ends."""
    handler = getattr(pool, "_worker_handler", None)
    if handler is None or not handler.is_alive():
        return
    handler._state = multiprocessing.pool.TERMINATE
    pool._change_notifier.put(None)  # type: ignore[attr-defined]  # wakes the handler to see the state
    handler.join(STOP_GRACE_S)


def _await_task_handler(pool: multiprocessing.pool.Pool) -> None:
    """Let the pool's task handler finish before the queue locks are freed. Once the worker handler has
    stopped, the task handler sends its sentinels, taking the result queue's lock in this process: freed
    under it, that lock is released twice and the thread dies with a traceback on the terminal (seen
    once in CI, under load). It is still waiting after TASK_HANDLER_WAIT_S only when a killed worker holds
    that lock, which is then what _free is for."""
    handler = getattr(pool, "_task_handler", None)
    if handler is not None and handler.is_alive():
        handler.join(TASK_HANDLER_WAIT_S)


def _free(lock: Any) -> None:
    """Release `lock` if a dead process left it held (any process may release a multiprocessing lock)."""
    if lock is None:
        return
    if lock.acquire(False):
        lock.release()
    else:
        with contextlib.suppress(ValueError):
            lock.release()


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the workers are being stopped: a second one arriving half-way would
    leave them running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {held: signal.signal(held, signal.SIG_IGN) for held in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While workers start, Ctrl-C and SIGTERM are noted and raised again once the pool is in place (and
    so ended with it): raised half-way, they left workers that had not yet read their start-up data, which
    then died with a traceback of their own. SIGINT is also blocked in this thread, so each worker begins
    with it blocked (the mask survives fork and exec) until it ignores it itself; SIGTERM is not, because
    the pool ends its workers with it."""
    # The tracker removes the semaphores of a run killed with SIGKILL; it need not warn on the user's
    # terminal that it did (its warnings filter comes from this process's -W options).
    if TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(TRACKER_QUIET)
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
    signal.signal(signal.SIGTERM, _unwind)
    _end_with_parent()
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
    film after the run is over), then the helper itself."""
    for process in list(_programs):
        process.kill()
    _unwind(signum, frame)


def _unwind(signum: int, frame: object) -> None:
    """SIGTERM in a worker: exit by unwinding, so the locks it holds (the pool's task queue) are released
    on the way out; exiting on the spot would leave them held (see stop_workers)."""
    raise SystemExit(128 + signum)


def _end_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM when the process that started it dies, a `kill -9` included,
    so no worker runs on, unseen, after its run is gone."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


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
