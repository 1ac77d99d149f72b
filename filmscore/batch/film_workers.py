"""Warm film workers: long-lived processes that score film after film for a batch, each as `filmscore run`
would, keeping what they loaded (the speech workers with Whisper, the audio helper with librosa, the face
model, the SoundFont) from one film to the next.

A film's failure stays that film's: a film that fails is recorded with its exit code and error line as
before, and the worker goes on; a worker that crashes, or runs past the film's time limit, is stopped (its
film recorded as such) and a new one started for the next film. The worker's side of the exchange is in
cli/film_worker.py: a JSON line in (the film's `filmscore run` arguments), a JSON line out (its exit code
and last error line).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from filmscore.core.errors import EXIT_TIMED_OUT

# Run as a module by name, not imported: the worker's loop sits in the command-line layer, above this one.
WORKER_COMMAND = ("-m", "filmscore.cli.film_worker")
# A worker is replaced after this many films, so that what native libraries leak or fragment over a long
# batch (a thousand rushes) is given back; starting one costs a few seconds of a core.
FILMS_PER_WORKER = 100
STOP_GRACE_S = 5.0  # a stopped worker has this long to end its film cleanly (temp files) before it is killed
# A film's time limit by default: generous, for the neural generators on a CPU, which are slower than real
# time; only a hang should ever meet it.
TIMEOUT_BASE_S = 600.0
TIMEOUT_PER_FILM_S = 60.0  # seconds of time limit per second of film
WAIT_STEP_S = 3600.0  # a film's result is awaited this long at a time (select refuses far-off deadlines)

_running: set[FilmWorker] = set()  # workers with a live process, for stop_all
_running_lock = threading.Lock()


@dataclass(frozen=True)
class FilmEnd:
    """How a film's run ended: `filmscore run`'s exit code and its last error line (empty when it
    succeeded), or, where the worker died or was stopped, what ended it."""

    code: int
    error: str


def default_timeout_s(duration_s: float) -> float:
    """A film's time limit when the batch names none."""
    return TIMEOUT_BASE_S + TIMEOUT_PER_FILM_S * duration_s


class FilmWorker:
    """One warm worker process, started at its first film and replaced after a crash, a time-out, or
    FILMS_PER_WORKER films. `env` is its environment (the threads its numeric libraries may use)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        self._films = 0

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs; None before its first film and after it stopped."""
        return self._process.pid if self._process is not None else None

    def score(self, run_args: list[str], timeout_s: float | None) -> FilmEnd:
        """Score one film: `run_args` are `filmscore run`'s arguments."""
        process = self._started()
        assert process.stdin is not None and process.stdout is not None  # both are PIPEs
        try:
            process.stdin.write(json.dumps({"argv": ["run", *run_args]}).encode() + b"\n")
            process.stdin.flush()
        except OSError:  # it died before it was asked
            return self._died(process)
        if not _readable(process.stdout.fileno(), timeout_s):
            self.stop()
            return FilmEnd(EXIT_TIMED_OUT, f"no result after {timeout_s:g} s; its worker was stopped")
        line = process.stdout.readline()
        if not line:
            return self._died(process)
        reply = json.loads(line)
        self._films += 1
        if self._films >= FILMS_PER_WORKER:
            self.stop()
        return FilmEnd(int(reply["code"]), str(reply["error"]))

    def stop(self) -> None:
        """End the worker: asked first (a film under way removes its temp files), then killed with every
        process it started."""
        process, self._process = self._process, None
        if process is None:
            return
        with _running_lock:
            _running.discard(self)
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_GRACE_S)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)  # its speech workers, helper and programs too
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self.stop()
        # A session of its own: the batch stops it (a terminal's Ctrl-C reaches the batch alone), and a
        # stopped worker's whole process group can be killed.
        self._process = subprocess.Popen(
            [sys.executable, *WORKER_COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self._env,
            start_new_session=True,
        )
        self._films = 0
        with _running_lock:
            _running.add(self)
        return self._process

    def _died(self, process: subprocess.Popen[bytes]) -> FilmEnd:
        code = process.wait()
        self.stop()
        return FilmEnd(code, f"its worker process ended ({_describe(code)}); a new one scores the next film")


def stop_all() -> None:
    """Stop every running worker, those busy with a film too (an interrupted batch)."""
    with _running_lock:
        workers = list(_running)
    threads = [threading.Thread(target=worker.stop) for worker in workers]  # their grace periods at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _readable(fd: int, timeout_s: float | None) -> bool:
    """Whether `fd` has something to read (or has ended) within `timeout_s` (None: however long)."""
    deadline = None if timeout_s is None or not math.isfinite(timeout_s) else time.monotonic() + timeout_s
    while True:
        left = WAIT_STEP_S if deadline is None else min(WAIT_STEP_S, max(0.0, deadline - time.monotonic()))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def _describe(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit {code}"
