"""filmscore as a user installs it: a wheel built from this tree, installed (not editable) into a fresh
virtual environment and run from outside the repository, finds its presets, its model manifest, its report
schema and MER's calibration as package data, and scores the sample film."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{cmd}: {result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, its dependencies borrowed from the test's own
    environment through a path file (so nothing is downloaded); the editable install's hooks in that
    environment are not run, so filmscore can only come from the wheel."""
    folder = tmp_path_factory.mktemp("wheel")
    dist = folder / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
          str(ROOT)], cwd=folder)  # fmt: skip
    (wheel,) = dist.glob("filmscore-*.whl")
    venv = folder / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=folder)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=folder).stdout.strip())  # fmt: skip
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
         cwd=folder)  # fmt: skip
    return venv


def test_the_installed_package_is_the_wheel_not_the_repository(installed, tmp_path):
    where = _run([str(installed / "bin" / "python"), "-c", "import filmscore; print(filmscore.__file__)"],
                 cwd=tmp_path).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(installed) and not Path(where).is_relative_to(ROOT)


@pytest.mark.slow
def test_the_installed_wheel_scores_the_sample_film_from_outside_the_repository(installed, tmp_path):
    film = shutil.copy(ROOT / "sample_media" / "demo.mp4", tmp_path / "demo.mp4")
    env = {**os.environ, "PYTHONPATH": ""}
    filmscore = str(installed / "bin" / "filmscore")
    _run([filmscore, "run", str(film), "-q", "--pipeline", "trailer"], cwd=tmp_path, env=env)
    report = json.loads((tmp_path / "demo.scored.filmscore" / "report.json").read_text())
    assert report["pipeline"] == "trailer" and report["cues"] and report["music_check"]["cues"]
    assert (tmp_path / "demo.scored.mp4").stat().st_size > 0
    listing = _run([filmscore, "models", "list", "--json"], cwd=tmp_path, env=env).stdout
    assert "whisper-tiny.en" in {row["name"] for row in json.loads(listing)}
