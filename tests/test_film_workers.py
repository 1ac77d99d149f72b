"""Warm film workers (batch/film_workers.py, cli/film_worker.py, core/workers.kept_workers): a worker
scores film after film in one process with the pools and models it loaded, a failed film leaves it
working, and a worker that crashes or hangs costs its film alone and is replaced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from filmscore.analysis.dialogue import DialogueOptions, _worker_asr
from filmscore.batch.film_workers import FilmWorker, default_timeout_s
from filmscore.core import workers
from filmscore.core.errors import EXIT_INPUT, EXIT_TIMED_OUT
from tests.synthetic import ShotSpec, make_film


@pytest.fixture(scope="module")
def takes(tmp_path_factory) -> list[Path]:
    """Two short takes at awkward rates, named as editors name them."""
    folder = tmp_path_factory.mktemp("takes")
    films = []
    for name, fps, picture in (("Director's cut (v2).mov", 23.976, "testcard"), ("take 2.mp4", 15.0, "bars")):
        films.append(make_film(folder / name, [ShotSpec(picture, 1.3), ShotSpec("dark", 1.1)], fps=fps,
                               audio=False))  # fmt: skip
    return films


def _run_args(film: Path, out: Path) -> list[str]:
    return [str(film), "-q", "--overwrite", "--no-cache", "-o", str(out / f"{film.stem}.scored.mp4")]


def _worker() -> FilmWorker:
    return FilmWorker({**os.environ, "OMP_NUM_THREADS": "1"})


def test_a_worker_scores_film_after_film_in_one_process_and_a_bad_one_leaves_it_working(takes, tmp_path):
    worker = _worker()
    try:
        first = worker.score(_run_args(takes[0], tmp_path), 600)
        assert first.code == 0, first.error
        pid = worker.pid
        broken = tmp_path / "broken.mp4"
        broken.write_bytes(takes[1].read_bytes()[:2000])
        bad = worker.score(_run_args(broken, tmp_path), 600)
        assert bad.code == EXIT_INPUT and "broken.mp4" in bad.error
        second = worker.score(_run_args(takes[1], tmp_path), 600)
        assert second.code == 0, second.error
        assert worker.pid == pid  # the same warm process all along
    finally:
        worker.stop()
    assert worker.pid is None
    for film in takes:
        report = json.loads((tmp_path / f"{film.stem}.scored.filmscore" / "report.json").read_text())
        assert report["input"]["path"] == str(film) and report["input"]["duration_s"] > 2
        assert (tmp_path / f"{film.stem}.scored.mp4").is_file()


def test_a_crashed_worker_costs_its_film_alone_and_a_new_one_scores_the_next(takes, tmp_path):
    worker = _worker()
    try:
        assert worker.score(_run_args(takes[0], tmp_path / "warm"), 600).code == 0
        crashed_pid = worker.pid
        assert crashed_pid is not None
        killer = threading.Timer(0.1, os.kill, (crashed_pid, signal.SIGKILL))  # as the film starts
        killer.start()
        crashed = worker.score(_run_args(takes[1], tmp_path / "crash"), 600)
        killer.join()
        assert crashed.code == -signal.SIGKILL
        assert "worker process ended (killed by SIGKILL)" in crashed.error
        after = worker.score(_run_args(takes[1], tmp_path / "after"), 600)
        assert after.code == 0, after.error
        assert worker.pid not in (None, crashed_pid)
    finally:
        worker.stop()


def test_a_film_past_its_time_limit_is_stopped_leaving_nothing_and_the_next_is_scored(takes, tmp_path):
    worker = _worker()
    out = tmp_path / "out"
    try:
        late = worker.score(_run_args(takes[0], out), 0.5)
        assert late.code == EXIT_TIMED_OUT and "no result after" in late.error
        assert worker.pid is None
        assert [p.name for p in out.iterdir()] if out.exists() else [] == []  # its temp files went with it
        on_time = worker.score(_run_args(takes[1], out), 600)
        assert on_time.code == 0, on_time.error
    finally:
        worker.stop()


def test_a_film_s_default_time_limit_grows_with_its_length():
    assert default_timeout_s(0) == 600
    assert default_timeout_s(7200) > 24 * 3600  # a feature on a slow generator: hangs only


def _pid() -> int:
    return os.getpid()


def test_kept_workers_hand_a_pool_on_to_the_next_run_and_end_it_with_the_block():
    with workers.worker_pool(1) as pool:
        outside = pool.apply(_pid)
    with workers.kept_workers():
        assert workers.keeping_workers()
        with workers.worker_pool(1) as pool:
            first = pool.apply(_pid)
        with workers.worker_pool(1) as pool:
            assert pool.apply(_pid) == first  # the same warm process
        with pytest.raises(ValueError), workers.worker_pool(1) as pool:
            raise ValueError("a run that failed")  # its pool may be busy still: not handed on
        with workers.worker_pool(2) as pool:
            second = {pool.apply(_pid) for _ in range(4)}
        assert first not in second
        with workers.worker_pool(1) as pool:  # a kept pool with more workers than asked serves
            assert pool.apply(_pid) in second
    assert not workers.keeping_workers()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in second) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in second)  # ended with the block
    assert outside != first


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def test_a_speech_worker_keeps_whisper_for_the_next_film_and_forgets_its_language():
    whisper = DialogueOptions(asr="whisper")
    first = _worker_asr(whisper)
    first.language = "de"  # as if detected in the last film
    again = _worker_asr(whisper)
    assert again is first and again.language == "en"  # tiny.en: English, whatever the last film said
    sphinx = DialogueOptions(asr="pocketsphinx")
    assert _worker_asr(sphinx) is not _worker_asr(sphinx)  # its cepstral means adapt: a new one each film


def test_the_worker_program_answers_a_line_per_film_and_keeps_stdout_for_its_answers(takes, tmp_path):
    """The exchange itself: a film's output on stdout never reaches the batch as an answer."""
    request = {"argv": ["run", str(takes[0]), "-o", str(tmp_path / "a.mp4"), "--no-cache"]}  # not quiet
    worker = [sys.executable, "-m", "filmscore.cli.film_worker"]
    done = subprocess.run(worker, input=json.dumps(request) + "\n", capture_output=True, text=True,
                          timeout=600, check=True)  # fmt: skip
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"code": 0, "error": ""}]
