"""Outputs are published all or nothing, never over a file filmscore did not write, and by one run at a
time; what a killed run left is cleaned up by the next."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from filmscore.core import atomic
from filmscore.core.atomic import OutputSet, output_lock, owner_tag, sweep_dead_runs
from filmscore.core.errors import OutputError

NAMES = ("report.json", "cues.csv", "report.html")


def _earlier_set(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_bytes(f"earlier {name}".encode())
    return _contents(folder)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_publish_that_fails_part_way_leaves_the_earlier_set_byte_identical(tmp_path, monkeypatch):
    folder = tmp_path / "report"
    earlier = _earlier_set(folder)
    real_replace = os.replace

    def failing(src, dst):
        if Path(dst) == folder / "cues.csv" and str(src).endswith(atomic.PART_SUFFIX):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(OutputError, match="earlier outputs were left as they were"), OutputSet() as outputs:
        for name in NAMES:
            outputs.write(folder / name, f"new {name}".encode())
    assert _contents(folder) == earlier  # report.json was published, then taken back


def test_a_publish_replaces_the_whole_set_and_keeps_no_earlier_copies(tmp_path):
    folder = tmp_path / "report"
    _earlier_set(folder)
    with OutputSet() as outputs:
        for name in NAMES:
            outputs.write(folder / name, f"new {name}".encode())
    assert _contents(folder) == {name: f"new {name}".encode() for name in sorted(NAMES)}


def test_a_file_that_appears_at_an_output_path_is_kept_without_overwrite(tmp_path):
    folder = tmp_path / "out"
    appeared = pytest.raises(OutputError, match="appeared while filmscore worked")
    with appeared, OutputSet(overwrite=False) as outputs:
        outputs.write(folder / "film.mp4", b"ours")
        outputs.write(folder / "report" / "report.json", b"ours")
        (folder / "film.mp4").write_bytes(b"someone else's")
    assert (folder / "film.mp4").read_bytes() == b"someone else's"
    assert sorted(p.name for p in folder.iterdir()) == ["film.mp4"]  # our folder and temp files went


def test_only_one_run_at_a_time_holds_an_output(tmp_path):
    target = tmp_path / "new folder" / "film.mp4"
    refused = pytest.raises(OutputError, match="another filmscore run is writing")
    with output_lock(target), refused, output_lock(target):
        pass
    assert not (tmp_path / "new folder").exists()  # the lock's folder goes when it is left empty
    with output_lock(target):  # free again
        pass


def test_sweeping_removes_only_what_dead_runs_on_this_host_left(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    host, _, live_pid = owner_tag().partition("-")
    dead_tag = f"{host}-{int(dead.stdout)}"
    work = tmp_path / f".filmscore-work-{dead_tag}-abc123"
    work.mkdir()
    (work / "music.f32").write_bytes(b"\0" * 1000)
    staged = tmp_path / f".film.mp4.{dead_tag}-x9y8.part"
    staged.write_bytes(b"half")
    aside = tmp_path / f".cues.csv.{dead_tag}-0a1b{atomic.ASIDE_SUFFIX}"
    aside.write_bytes(b"the earlier cue sheet")
    kept = [
        tmp_path / f".film.mp4.{host}-{live_pid}-q1.part",  # a live run's
        tmp_path / f".film.mp4.00000000-{int(dead.stdout)}-q1.part",  # another host's
        tmp_path / ".film.mp4.part",  # not ours at all
        tmp_path / "film.mp4",
    ]
    for path in kept:
        path.write_bytes(b"keep")
    sweep_dead_runs([tmp_path])
    assert not work.exists() and not staged.exists() and not aside.exists()
    assert (tmp_path / "cues.csv").read_bytes() == b"the earlier cue sheet"  # put back: nothing replaced it
    assert all(path.read_bytes() == b"keep" for path in kept)


def test_a_target_staged_again_is_written_over_where_it_was_staged(tmp_path):
    """A run writes its music files beside the mux, and again if the mux limits the mix harder: the second
    write replaces the first, and the set publishes one file per target, the last written."""
    folder = tmp_path / "report"
    earlier = _earlier_set(folder)
    with OutputSet() as outputs:
        first = outputs.write(folder / "cues.csv", b"before the mux limited the mix")
        assert first == folder / "cues.csv"
        staged = outputs.stage(folder / "cues.csv")
        staged.write_bytes(b"as delivered")
        assert outputs.stage(folder / "cues.csv") == staged
        outputs.write(folder / "report.json", b"new report")
    assert _contents(folder) == {**earlier, "cues.csv": b"as delivered", "report.json": b"new report"}
