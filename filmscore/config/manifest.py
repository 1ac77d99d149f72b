"""The model manifest (config/manifest.toml): every model filmscore can use, what it is for, where it comes
from, its licence and its files' SHA-256. store/models.py finds them on this machine."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from filmscore.core.errors import DependencyError, UsageError

MANIFEST = Path(__file__).resolve().parent / "manifest.toml"


@dataclass(frozen=True)
class ModelFile:
    path: str  # relative to the model's folder
    sha256: str


@dataclass(frozen=True)
class ModelPart:
    """One piece of a model file shipped in parts, each in a package of its own."""

    package: str  # the importable package that holds it
    path: str  # relative to that package's folder
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the manifest."""

    name: str  # what users type: `--asr-model whisper-small`, `filmscore models pull whisper-small`
    kind: str  # asr, text_emotion, visual_emotion, music_generator, music_emotion
    backend: str  # the backend that loads it
    embedded: bool  # ships inside an installed package or system package: nothing to download
    source: str  # where it comes from, in words
    licence: str
    commercial: bool  # False where the weights' licence forbids commercial use (MusicGen: CC-BY-NC)
    files: tuple[ModelFile, ...]
    size_mb: float | None = None  # download size, about, as the source lists it
    hub: str | None = None  # a Hugging Face repository id
    package: str | None = None  # the Python package an embedded model ships in
    folder: str | None = None  # the model's folder inside that package, where it is not the package's own
    system_path: str | None = None  # an embedded model installed by a system package
    parts: tuple[ModelPart, ...] = ()  # pieces joined, in order, into the first file of `files`
    extra: str | None = None  # the pip extra that installs the packages it ships in, where optional
    languages: tuple[str, ...] = ()  # ISO 639-1 codes of the languages it knows; ("*",): Whisper's 99

    @property
    def task(self) -> str:
        return self.kind.replace("_", " ")


@cache
def manifest() -> tuple[ModelSpec, ...]:
    """The manifest's entries, read once per process (every model lookup goes through it)."""
    try:
        entries = tomllib.loads(MANIFEST.read_text())["model"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise DependencyError(
            f"cannot read the model manifest {MANIFEST}: {exc}. Reinstall filmscore."
        ) from None
    return tuple(_spec(entry) for entry in entries)


def _spec(entry: dict) -> ModelSpec:
    return ModelSpec(
        name=entry["name"],
        kind=entry["kind"],
        backend=entry["backend"],
        embedded=entry.get("embedded", False),
        source=entry["source"],
        licence=entry["licence"],
        commercial=entry.get("commercial", True),
        files=tuple(ModelFile(f["path"], f["sha256"]) for f in entry.get("files", ())),
        size_mb=entry.get("size_mb"),
        hub=entry.get("hub"),
        package=entry.get("package"),
        folder=entry.get("folder"),
        system_path=entry.get("system_path"),
        parts=tuple(ModelPart(p["package"], p["path"], p["sha256"]) for p in entry.get("parts", ())),
        extra=entry.get("extra"),
        languages=tuple(entry.get("languages", ())),
    )


def find_spec(name: str) -> ModelSpec | None:
    """The manifest's entry for a name or a hub id, if it lists one."""
    for spec in manifest():
        if name in (spec.name, spec.hub):
            return spec
    return None


def named_model(name: str) -> ModelSpec:
    """A manifest model by name or hub id; another hub repository as a model of its own."""
    spec = find_spec(name)
    if spec is not None:
        return spec
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return hub_model(name)
    raise UsageError(
        f"no model is called {name!r}; see `filmscore models list`, or give a hub id (owner/name)"
    )


def hub_model(repo_id: str) -> ModelSpec:
    """A hub repository the manifest does not list, for `models pull` and `verify`."""
    return ModelSpec(
        name=repo_id, kind="unknown", backend="unknown", embedded=False, source=f"Hugging Face {repo_id}",
        licence="see its model card", commercial=True, files=(), hub=repo_id,
    )  # fmt: skip


def default_model(kind: str, backend: str) -> ModelSpec:
    """The first manifest entry for a backend: what it loads when no model is named."""
    for spec in manifest():
        if spec.kind == kind and spec.backend == backend:
            return spec
    raise DependencyError(
        f"the model manifest lists no model for the {backend} backend. Name one with its model flag."
    )
