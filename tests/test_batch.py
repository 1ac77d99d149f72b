"""`filmscore batch`: a folder of generated rushes with a corrupt file and a non-video among them. The bad
ones are recorded and the rest are scored (exit 6); a re-run skips what is done; a batch killed with
SIGKILL is finished by the next run, and every output it leaves is a valid film."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from filmscore.batch.inputs import BatchItem, collect_inputs
from filmscore.core.errors import UsageError
from tests.synthetic import ShotSpec, make_film


@pytest.fixture(scope="module")
def rushes(tmp_path_factory) -> Path:
    """day1/take1.mp4, day1/take2.mov, day2/take1.mp4, a corrupt .mp4 and a text file named .mkv."""
    root = tmp_path_factory.mktemp("rushes")
    for relative, picture in (("day1/take1.mp4", "testcard"), ("day1/take2.mov", "bars"),
                              ("day2/take1.mp4", "warm")):  # fmt: skip
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        make_film(target, [ShotSpec(picture, 1.5), ShotSpec("dark", 1.5)], audio=False)
    good = (root / "day1/take1.mp4").read_bytes()
    (root / "day2/broken.mp4").write_bytes(good[: len(good) // 3])
    (root / "day2/notes.mkv").write_text("not a film\n")
    (root / "day2/readme.txt").write_text("ignored: not a video extension\n")
    return root


def _batch(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmscore", "batch", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


def _probe_ok(path: Path) -> bool:
    result = subprocess.run(["ffprobe", "-v", "error", "-show_streams", str(path)], capture_output=True)
    return result.returncode == 0 and b"codec_type=video" in result.stdout


def test_inputs_mirror_the_tree_and_skip_non_videos(rushes, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# today\n{rushes / 'day1/take1.mp4'}\n")
    items = collect_inputs([str(rushes / "day2"), f"@{listing}"])
    assert {i.relative.as_posix() for i in items} == {"day2/broken", "day2/notes", "day2/take1", "take1"}
    assert all(isinstance(i, BatchItem) and i.source.is_file() for i in items)
    with pytest.raises(UsageError, match="would both be written as take1"):
        collect_inputs([str(rushes / "day1/take1.mp4"), str(rushes / "day2/take1.mp4")])
    with pytest.raises(UsageError, match="no such file"):
        collect_inputs([str(tmp_path / "missing")])


def test_a_batch_scores_the_good_films_records_the_bad_and_resumes(rushes, tmp_path):
    out = tmp_path / "out"
    first = _batch(str(rushes / "day1"), str(rushes / "day2"), "-o", str(out), "--seed", "4")
    assert first.returncode == 6, first.stderr
    manifest = json.loads((out / "batch.json").read_text())
    by_name = {item["relative"]: item for item in manifest["items"]}
    assert {k: v["status"] for k, v in by_name.items()} == {
        "day1/take1": "done", "day1/take2": "done", "day2/take1": "done",
        "day2/broken": "failed", "day2/notes": "failed",
    }  # fmt: skip
    assert by_name["day2/broken"]["exit_code"] == 3 and by_name["day2/notes"]["exit_code"] == 3
    assert "not a readable video" in by_name["day2/notes"]["error"]
    for name in ("day1/take1", "day1/take2", "day2/take1"):
        video = out / by_name[name]["outputs"]["video"]
        assert _probe_ok(video)
        report = json.loads((out / by_name[name]["outputs"]["report_dir"] / "report.json").read_text())
        assert report["music"]["seed"] == 4
    assert (out / "batch.html").is_file()
    assert "2 failed" in first.stderr and "Traceback" not in first.stderr

    again = _batch(str(rushes / "day1"), str(rushes / "day2"), "-o", str(out), "--seed", "4", "--json")
    assert again.returncode == 6
    summary = json.loads(again.stdout)
    statuses = {item["relative"]: item["status"] for item in summary["items"]}
    assert [k for k, v in statuses.items() if v == "skipped"] == ["day1/take1", "day1/take2", "day2/take1"]

    # Other settings are another job: nothing is skipped, and the cached analysis is reused.
    other = _batch(str(rushes / "day1"), "-o", str(out), "--seed", "5", "--json")
    assert other.returncode == 0, other.stderr
    assert {item["status"] for item in json.loads(other.stdout)["items"]} == {"done"}
    assert len(list((out / ".filmscore-cache").glob("analysis-*.npz"))) == 3


def test_a_killed_batch_leaves_valid_outputs_and_the_next_run_finishes(rushes, tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "filmscore", "batch", str(rushes / "day1"), str(rushes / "day2"), "-o",
         str(out), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    manifest = out / "batch.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill it once the first film is done, while others are running
        if manifest.exists() and '"status": "done"' in manifest.read_text():
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(3)  # the film processes stop on their own (SIGTERM from the kernel when the batch died)
    leftovers = [
        p for p in out.rglob(".*") if p.name != ".filmscore-cache" and ".filmscore-cache" not in p.parts
    ]
    assert leftovers == []
    for video in out.rglob("*.scored.*"):
        if video.is_file():
            assert _probe_ok(video), video
    json.loads(manifest.read_text())  # the manifest is whole, never half-written

    finished = _batch(str(rushes / "day1"), str(rushes / "day2"), "-o", str(out), "--json")
    assert finished.returncode == 6
    statuses = {item["relative"]: item["status"] for item in json.loads(finished.stdout)["items"]}
    assert sorted(k for k, v in statuses.items() if v in ("done", "skipped")) == [
        "day1/take1", "day1/take2", "day2/take1"
    ]  # fmt: skip
    assert "skipped" in statuses.values()  # what the killed batch finished is not scored again
    for name in ("day1/take1", "day1/take2", "day2/take1"):
        assert _probe_ok(next(out.glob(f"{name}.scored.m*")))


def test_a_ray_batch_in_local_mode(rushes, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "out"
    result = _batch(str(rushes / "day1"), "-o", str(out), "--executor", "ray", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [i["status"] for i in items] == ["done", "done"]
    assert all(_probe_ok(out / i["outputs"]["video"]) for i in items)


def test_an_output_folder_inside_the_input_folder_is_never_scored_itself(tmp_path):
    """`filmscore batch rushes -o rushes/scored`, run twice: the second run finds the first's scored
    films, report folders and cache beside the rushes, and scores none of them."""
    rushes = tmp_path / "rushes"
    rushes.mkdir()
    make_film(rushes / "take1.mp4", [ShotSpec("warm", 1.5), ShotSpec("dark", 1.5)], audio=False)
    out = rushes / "scored"
    first = _batch(str(rushes), "-o", str(out), "-q", "--json")
    assert first.returncode == 0, first.stderr
    (rushes / "elsewhere.scored.mp4").write_bytes((rushes / "take1.mp4").read_bytes())  # by another run
    assert [i.relative.as_posix() for i in collect_inputs([str(rushes)], out)] == ["rushes/take1"]
    second = _batch(str(rushes), "-o", str(out), "-q", "--json")
    assert second.returncode == 0, second.stderr
    records = json.loads(second.stdout)["items"]
    assert [(r["relative"], r["status"]) for r in records] == [("rushes/take1", "skipped")]
    assert not list(out.rglob("*.scored.scored*"))


def test_a_spotting_folder_gives_each_film_its_own_and_a_changed_one_scores_it_again(rushes, tmp_path):
    spotting = tmp_path / "spotting"
    spotting.mkdir()
    (spotting / "take1.csv").write_text("start,end,mood\n0,1.5,none\n1.5,3,afraid\n")
    out = tmp_path / "out"
    args = (str(rushes / "day1"), "-o", str(out), "--spotting", os.path.relpath(spotting), "--json")
    first = _batch(*args)
    assert first.returncode == 0, first.stderr
    reports = {name: json.loads((out / "day1" / f"{name}.scored.filmscore/report.json").read_text())
               for name in ("take1", "take2")}  # fmt: skip
    assert [c["mood"] for c in reports["take1"]["cues"]] == ["afraid"]
    assert reports["take1"]["silences"] == [{"start_s": 0.0, "end_s": 1.5}]
    assert "spotting" not in reports["take2"]  # no file named after it: the reading places its cues

    (spotting / "take1.csv").write_text("start,end,mood\n0,3,sad\n")
    again = json.loads(_batch(*args).stdout)
    statuses = {item["relative"]: item["status"] for item in again["items"]}
    assert statuses == {"day1/take1": "done", "day1/take2": "skipped"}
    report = json.loads((out / "day1/take1.scored.filmscore/report.json").read_text())
    assert [c["mood"] for c in report["cues"]] == ["sad"]


def test_a_cut_list_folder_gives_each_film_its_shots_and_a_changed_one_scores_it_again(rushes, tmp_path):
    cuts = tmp_path / "cuts"
    cuts.mkdir()
    edl = "TITLE: take1\nFCM: NON-DROP FRAME\n\n{}"
    event = "{:03d}  AX       V     C        00:00:{a} 00:00:{b} 01:00:{a} 01:00:{b}\n"

    def events(*bounds: str) -> str:
        return "".join(event.format(i + 1, a=a, b=b) for i, (a, b) in enumerate(itertools.pairwise(bounds)))

    (cuts / "take1.edl").write_text(edl.format(events("00:00", "00:20", "03:00")))  # a cut at 0.8 s
    out = tmp_path / "out"
    args = (str(rushes / "day1"), "-o", str(out), "--cuts", str(cuts), "--json")
    first = _batch(*args)
    assert first.returncode == 0, first.stderr
    report = json.loads((out / "day1/take1.scored.filmscore/report.json").read_text())
    assert [s["start_s"] for s in report["shots"]] == [0.0, 0.8]  # the list's, not the detected 1.5 s
    assert report["backends"]["shots"].startswith("cut list")
    other = json.loads((out / "day1/take2.scored.filmscore/report.json").read_text())
    assert other["backends"]["shots"].startswith("detected")  # no list named after it

    (cuts / "take1.edl").write_text(edl.format(events("00:00", "01:05", "03:00")))  # the cut moved
    statuses = {i["relative"]: i["status"] for i in json.loads(_batch(*args).stdout)["items"]}
    assert statuses == {"day1/take1": "done", "day1/take2": "skipped"}


def test_a_film_past_the_time_limit_is_recorded_and_leaves_nothing_behind(rushes, tmp_path):
    out = tmp_path / "out"
    late = _batch(str(rushes / "day1/take1.mp4"), "-o", str(out), "--film-timeout", "0.3", "--json")
    assert late.returncode == 6, late.stderr
    (item,) = json.loads(late.stdout)["items"]
    assert item["status"] == "failed" and item["exit_code"] == 124
    assert "no result after 0.3 s; its worker was stopped" in item["error"]
    assert {p.name for p in out.iterdir()} - {".filmscore-cache"} == {"batch.html", "batch.json"}
    refused = _batch(str(rushes / "day1"), "-o", str(out), "--film-timeout", "0")
    assert refused.returncode == 2 and "--film-timeout 0 must be" in refused.stderr
