"""The model manifest names every embedded model, and the files installed are the ones it lists."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from filmscore.analysis.asr import ASR_BACKENDS
from filmscore.analysis.text import TEXT_EMOTION_BACKENDS
from filmscore.analysis.visual import VISUAL_EMOTION_BACKENDS
from filmscore.config.manifest import manifest
from filmscore.music.generators import GENERATORS
from filmscore.music.mer import MER_BACKENDS
from filmscore.store.models import embedded_root

MANIFEST = Path(__file__).parent.parent / "filmscore" / "config" / "manifest.toml"
MODELS = tomllib.loads(MANIFEST.read_text())["model"]
REGISTRIES = {
    "asr": ASR_BACKENDS,
    "text_emotion": TEXT_EMOTION_BACKENDS,
    "visual_emotion": VISUAL_EMOTION_BACKENDS,
    "music_generator": GENERATORS,
    "music_emotion": MER_BACKENDS,
}


EMBEDDED = [m for m in MODELS if m.get("embedded")]
IN_PARTS = [m for m in MODELS if m.get("parts")]
NEURAL = [m for m in MODELS if not m.get("embedded") and not m.get("parts")]


@pytest.mark.parametrize("model", EMBEDDED, ids=[m["name"] for m in EMBEDDED])
def test_embedded_model_files_match_their_checksums(model):
    assert model["licence"] and model["source"]
    assert model["backend"] in REGISTRIES[model["kind"]].names()
    root = _model_root(model)
    for entry in model["files"]:
        digest = hashlib.sha256((root / entry["path"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{model['package']}/{entry['path']} changed"


def _model_root(model: dict) -> Path:
    """The folder a model's files sit in: its Python package's, or the system path the set-up installs."""
    spec = next(spec for spec in manifest() if spec.name == model["name"])
    root = embedded_root(spec)
    assert root is not None, f"{model['name']}: its package is not installed"
    return root


def test_every_embedded_backend_has_its_models_listed():
    listed = {(m["kind"], m["backend"]) for m in MODELS}
    for kind, registry in REGISTRIES.items():
        for name in registry.names():
            assert (kind, name) in listed, f"{kind} backend {name} has no entry in models/manifest.toml"


@pytest.mark.parametrize("model", NEURAL, ids=[m["name"] for m in NEURAL])
def test_neural_models_say_where_they_come_from_and_how_they_are_checked(model):
    assert model["licence"] and model["source"] and model["size_mb"] > 0
    entry = REGISTRIES[model["kind"]].entry(model["backend"])
    assert entry.neural
    assert model["hub"].count("/") == 1
    if "musicgen" in model["name"]:
        assert model["commercial"] is False  # CC-BY-NC weights are flagged in `filmscore models list`


def test_every_neural_backend_has_a_default_model():
    from filmscore.config.manifest import default_model

    for kind, registry in REGISTRIES.items():
        for entry in registry.entries():
            if entry.neural:
                assert default_model(kind, entry.name).backend == entry.name


@pytest.mark.parametrize("model", IN_PARTS, ids=[m["name"] for m in IN_PARTS])
def test_models_in_parts_name_their_packages_an_extra_and_every_checksum(model):
    import filmscore

    assert model["licence"] and model["source"] and model["extra"]
    extras = tomllib.loads((Path(filmscore.__file__).parent.parent / "pyproject.toml").read_text())
    wheels = extras["project"]["optional-dependencies"][model["extra"]]
    for part in model["parts"]:
        assert len(part["sha256"]) == 64
        assert any(w.split("==")[0].replace("-", "_") == part["package"] for w in wheels), part["package"]
    assert model["files"][0]["path"] == "model.bin" and all(len(f["sha256"]) == 64 for f in model["files"])
