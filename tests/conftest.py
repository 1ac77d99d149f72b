"""Shared fixtures: every test film is made here, with ffmpeg lavfi and espeak-ng, at known times."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from filmscore.analysis.flow import Analysis, AnalyzeOptions, analyze
from tests.synthetic import Line, ShotSpec, make_film

FPS = 25.0
CUT_TIMES_S = (2.0, 4.0, 6.0)
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")

HAPPY = "I love this. What a wonderful happy day. I am so glad and so happy."
SAD = "I am so sad. My friend is dead. I feel terrible and alone."
FRIGHTENED = "Help! Run! The monster is coming. I am terrified. We will die!"
CALM = "Relax. Everything is calm and quiet now. Rest, and sleep gently."


@pytest.fixture(autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own user cache folder (runs keep readings and renders there by default), so no
    test reads what another kept, and none writes into the cache of the person running them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cuts_film(media_dir: Path) -> Path:
    """Four silent shots with hard cuts at 2, 4 and 6 s."""
    shots = [ShotSpec(p, 2.0) for p in ("testcard", "bars", "zoom", "dark")]
    return make_film(media_dir / "cuts.mp4", shots, fps=FPS, audio=False)


def _one_shot(media_dir: Path, name: str, picture: str, seconds: float, line: Line | None) -> Path:
    return make_film(media_dir / f"{name}.mp4", [ShotSpec(picture, seconds, line)], fps=FPS)


@pytest.fixture(scope="session")
def mood_films(media_dir: Path) -> dict[str, Path]:
    """The same neutral grey picture, with one line spoken in each mood."""
    return {
        "happy": _one_shot(media_dir, "happy", "grey", 6.0, Line(HAPPY, "happy")),
        "sad": _one_shot(media_dir, "sad", "grey", 6.0, Line(SAD, "sad")),
        "frightened": _one_shot(media_dir, "frightened", "grey", 6.0, Line(FRIGHTENED, "frightened")),
        "calm": _one_shot(media_dir, "calm", "grey", 6.0, Line(CALM, "calm")),
    }


@pytest.fixture(scope="session")
def picture_films(media_dir: Path) -> dict[str, Path]:
    """Wordless, silent shots: dark and static, bright and saturated with every pixel moving."""
    return {
        "dark_static": _one_shot(media_dir, "dark_static", "dark", 3.0, None),
        "bright_motion": _one_shot(media_dir, "bright_motion", "bright_motion", 3.0, None),
    }


_ANALYSES: dict[Path, Analysis] = {}


@pytest.fixture(scope="session")
def analysed():
    """Analyse a film once per session, whatever number of tests read the result."""

    def run(path: Path) -> Analysis:
        if path not in _ANALYSES:
            _ANALYSES[path] = analyze(path, AnalyzeOptions())
        return _ANALYSES[path]

    return run


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random neural models, saved as the real ones are distributed (skipped without torch)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from . import tiny_models

    folder = tmp_path_factory.mktemp("tiny-models")
    built = {
        "whisper": tiny_models.whisper_ct2(folder / "whisper-en"),
        "whisper-multilingual": tiny_models.whisper_ct2(folder / "whisper-multi", ("en", "fr", "de")),
        "text": tiny_models.text_classifier(folder / "text"),
        "clip": tiny_models.clip_model(folder / "clip"),
        "face": tiny_models.face_classifier(folder / "face"),
        "musicgen": tiny_models.musicgen(folder / "musicgen"),
        "melody": tiny_models.musicgen_melody(folder / "musicgen-melody"),
    }
    return built


# The options a conformance test gives each neural backend: its tiny model, on the CPU.
TINY_MODEL_OF = {
    ("asr", "whisper"): "whisper",
    ("text_emotion", "transformers"): "text",
    ("visual_emotion", "clip"): "clip",
    ("music_generator", "musicgen"): "musicgen",
}


@pytest.fixture
def backend_options(request: pytest.FixtureRequest):
    """`options(kind, name)`: what to create a registered backend with, in the tests."""

    def options(kind: str, name: str) -> dict[str, object]:
        if (kind, name) not in TINY_MODEL_OF:
            return {}
        models = request.getfixturevalue("tiny")
        return {"model": str(models[TINY_MODEL_OF[kind, name]]), "device": "cpu"}

    return options
