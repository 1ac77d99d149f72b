"""Worker pools and Ctrl-C (the main process alone reacts to it, and never loses one), and the cores."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from filmscore.core import workers


def _sigint_state() -> tuple[bool, bool]:
    """In a worker: whether SIGINT is ignored, and whether it is blocked."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    return ignored, signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())


def test_workers_ignore_ctrl_c_without_blocking_it():
    with workers.worker_pool(1) as pool:
        assert pool.apply(_sigint_state) == (True, False)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())


class Stopped(Exception):
    """What the test's SIGTERM handler raises, as the CLI's raises Terminated."""


def _stop(signum, frame):
    raise Stopped


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Stopped)]
)
def test_a_signal_while_the_workers_start_is_raised_once_they_are_in_place(monkeypatch, signum, raised):
    real = multiprocessing.get_context("spawn")

    class SignalWhileStarting:
        def Pool(self, *args, **kwargs):  # multiprocessing's name
            os.kill(os.getpid(), signum)  # lands while the pool starts
            return real.Pool(*args, **kwargs)

    monkeypatch.setattr(workers.multiprocessing, "get_context", lambda method: SignalWhileStarting())
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        started = time.monotonic()
        with pytest.raises(raised), workers.worker_pool(1):
            time.sleep(5)  # reached only if the signal was lost
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 4
    assert not multiprocessing.active_children()  # the pool was in place, and was ended with it


def _run_sleep(pid_file: str) -> None:
    """In the audio helper: a program that would run for a minute, as the mux's encoder runs for long."""
    from pathlib import Path

    with workers.program(["sleep", "60"], None, None, None) as sleeper:
        Path(pid_file).write_text(str(sleeper.pid))
        sleeper.wait()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_programs_the_audio_helper_runs_end_with_it(tmp_path):
    """A run stopped while the helper muxes: ending the helper ends its encoder too, which would otherwise
    go on writing the film after the run is over."""
    pid_file = tmp_path / "pid"
    with workers.audio_helper() as helper:
        helper.apply_async(_run_sleep, (str(pid_file),))
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the helper never started its program"
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        assert _running(pid)
    deadline = time.monotonic() + 10
    while _running(pid):
        assert time.monotonic() < deadline, "the helper's program outlived it"
        time.sleep(0.05)


def test_every_stage_counts_the_cores_the_process_may_use_not_the_machine_s(monkeypatch):
    """A container given 3 of a machine's 16 CPUs: jobs, thread shares and torch's threads follow the 3."""
    from filmscore.batch import runner as batch
    from filmscore.core import neural

    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {4, 5, 6}, raising=False)
    monkeypatch.delenv(neural.THREADS_ENV, raising=False)
    assert workers.usable_cores() == 3
    assert batch.default_jobs() == 1  # two cores a film
    assert batch._item_env(1)["OMP_NUM_THREADS"] == "3"
    assert neural.cpu_threads() == 1


class _FailsAsItGoes:
    def __del__(self) -> None:
        raise OSError("Signal 15 ignored due to race condition")


def _drop_an_object_that_fails_as_it_goes() -> int:
    _FailsAsItGoes()  # collected at once: its __del__ raises an unraisable exception
    return 1


def test_a_workers_unraisable_exceptions_do_not_reach_the_runs_stderr(capfd):
    with workers.worker_pool(1) as pool:
        assert pool.apply(_drop_an_object_that_fails_as_it_goes) == 1
    assert "race condition" not in capfd.readouterr().err
