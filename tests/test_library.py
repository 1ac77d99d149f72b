"""Scoring from a library of the user's own music: the index, the choice of excerpts, and `run` with it."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from filmscore.core.errors import InputError, UsageError
from filmscore.music.generators import GENERATORS, MusicRequest
from filmscore.music.generators.library import INDEX_NAME, LibraryGenerator, index_library, load_index
from filmscore.music.mer import MER_BACKENDS
from filmscore.music.planning import plan_cues
from tests.measure import emotions, flat_timeline
from tests.music_synth import make_library


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_library(tmp_path_factory.mktemp("library"))


def test_the_index_measures_every_track_and_skips_a_broken_one(library):
    index = load_index(library)
    by_name = {Path(t.path).name: t for t in index.tracks}
    assert set(by_name) == {"slow minor.flac", "fast major.mp3"}
    assert [s.path for s in index.skipped] == ["broken.wav"] and "broken.wav" in index.skipped[0].why
    slow, fast = by_name["slow minor.flac"], by_name["fast major.mp3"]
    assert (slow.mode, slow.tonic) == ("minor", 9) and (fast.mode, fast.tonic) == ("major", 7)
    assert fast.tempo_bpm > 1.8 * slow.tempo_bpm
    assert abs(slow.duration_s - 30) < 0.1 and len(slow.windows) == 5 and slow.beats
    assert fast.loudness_lufs > slow.loudness_lufs + 10
    assert np.mean([w.arousal for w in fast.windows]) > np.mean([w.arousal for w in slow.windows])


def test_indexing_again_reuses_unchanged_tracks(library, monkeypatch):
    import filmscore.music.generators.library as module

    def refuse(*args):
        raise AssertionError("an unchanged track was analysed again")

    monkeypatch.setattr(module, "analyse_track", refuse)
    assert len(index_library(library, MER_BACKENDS.create("features")).tracks) == 2


def test_a_sad_slow_shot_gets_the_slow_minor_track_and_a_joyful_one_the_fast_major(library, tmp_path):
    shots = emotions([(12.0, -0.6, -0.6), (12.0, 0.6, 0.7)])
    plan = plan_cues(shots, flat_timeline(shots), 24.0)
    assert [c.mood for c in plan.cues] == ["sad", "joyful"]
    music = LibraryGenerator(library).generate(MusicRequest(plan, (), 0, workdir=tmp_path))
    assert music.audio.frames == 24 * 48000 and music.audio.channels == 2
    sources = {
        cue.id: {Path(e.track).name for e in music.excerpts if e.cue_id == cue.id} for cue in plan.cues
    }
    assert sources == {0: {"slow minor.flac"}, 1: {"fast major.mp3"}}
    # The excerpts meet at the cut with a cross-fade, and there is music on both sides of it.
    samples = music.audio.read(0, music.audio.frames)
    for at in (6.0, 11.5, 12.5, 18.0):
        window = samples[round(at * 48000) : round((at + 0.5) * 48000)]
        assert np.sqrt(np.mean(window**2)) > 1e-3, at


def test_a_cue_longer_than_any_track_loops_from_its_bar(library, tmp_path):
    shots = emotions([(70.0, -0.6, -0.6)])
    plan = plan_cues(shots, flat_timeline(shots), 70.0)
    music = LibraryGenerator(library).generate(MusicRequest(plan, (), 0, workdir=tmp_path))
    excerpts = [e for e in music.excerpts if e.cue_id == 0]
    assert len(excerpts) >= 3 and {Path(e.track).name for e in excerpts} == {"slow minor.flac"}
    tail = music.audio.read(60 * 48000, 66 * 48000)
    assert np.sqrt(np.mean(tail**2)) > 1e-3


def test_a_missing_library_or_index_says_what_to_do(tmp_path):
    with pytest.raises(UsageError, match="--library DIR"):
        GENERATORS.create("library")
    with pytest.raises(InputError, match="filmscore library index"):
        LibraryGenerator(tmp_path)
    (tmp_path / INDEX_NAME).write_text("{not json")
    with pytest.raises(InputError, match="not a filmscore library index"):
        LibraryGenerator(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        LibraryGenerator(tmp_path / "nowhere")


def filmscore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmscore", *args], capture_output=True, text=True)


def test_library_index_command_and_its_errors(library, tmp_path):
    copy = tmp_path / "music"
    shutil.copytree(library, copy)
    (copy / INDEX_NAME).unlink()
    done = filmscore("library", "index", str(copy), "--json", "-q")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["tracks"]) == 2 and (copy / INDEX_NAME).is_file()
    for args, code in ((["library", "index", str(tmp_path / "nowhere")], 3), (["library"], 2)):
        failed = filmscore(*args)
        assert failed.returncode == code and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        assert "Traceback" not in failed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert filmscore("library", "index", str(empty)).returncode == 3


def test_run_scores_a_film_from_the_library_with_a_cue_sheet_of_excerpts(library, cuts_film, tmp_path):
    out = tmp_path / "scored.mp4"
    done = filmscore(
        "run", str(cuts_film), "-o", str(out), "--generator", "library", "--library", str(library), "-q"
    )
    assert done.returncode == 0, done.stderr
    report_dir = tmp_path / "scored.filmscore"
    report = json.loads((report_dir / "report.json").read_text())
    assert report["music"]["generator"] == "library" and report["music"]["library"] == str(library)
    assert all(cue["excerpts"] for cue in report["cues"])
    assert all("mer" in cue for cue in report["cues"]) and report["music_check"]["backend"] == "features"
    with (report_dir / "cues.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(report["cues"])
    assert all(any(name in row["source"] for name in ("slow minor.flac", "fast major.mp3")) for row in rows)
    page = (report_dir / "report.html").read_text()
    assert "<th>plays</th>" in page and Path(report["cues"][0]["excerpts"][0]["track"]).name in page
    unindexed = tmp_path / "unindexed"
    unindexed.mkdir()
    failed = filmscore("run", str(cuts_film), "-o", str(tmp_path / "x.mp4"), "--generator", "library",
                       "--library", str(unindexed))  # fmt: skip
    assert failed.returncode == 3 and "filmscore library index" in failed.stderr
    assert not (tmp_path / "x.mp4").exists()
