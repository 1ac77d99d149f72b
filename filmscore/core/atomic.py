"""Atomic output: write to temp files beside the targets, then rename, so no half-written file is seen."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from filmscore.core.errors import OutputError


def _give_default_permissions(path: Path) -> None:
    """mkstemp makes files only their owner can read; outputs get what any new file would (0666 & ~umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


class OutputSet:
    """Several outputs published together: each is written to a temp file beside its target, and only
    when all are written are they renamed into place. On failure every temp file is removed, and so is
    any folder this set created, so a failed run leaves nothing behind.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._created: list[Path] = []

    def __enter__(self) -> OutputSet:
        return self

    def stage(self, target: Path) -> Path:
        """A temp path to write `target` to."""
        self._make_folder(target.parent)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        except OSError as exc:
            raise OutputError(
                f"cannot write to {target.parent}: {exc.strerror}. Choose a writable folder."
            ) from exc
        os.close(fd)
        _give_default_permissions(Path(tmp_name))
        self._staged.append((Path(tmp_name), target))
        return Path(tmp_name)

    def write(self, target: Path, data: bytes) -> Path:
        """Stage `target` with `data`; a failed write (a full disk) is an output error, not a crash."""
        try:
            self.stage(target).write_bytes(data)
        except OSError as exc:
            raise OutputError(
                f"cannot write {target}: {exc.strerror}. Check the folder and free space."
            ) from exc
        return target

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            try:
                for tmp, target in self._staged:
                    os.replace(tmp, target)
                return
            except OSError as exc:
                self._discard()
                raise OutputError(f"cannot publish the outputs: {exc.strerror}. Check the folder.") from exc
        self._discard()

    def _make_folder(self, folder: Path) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {folder}: {exc.strerror}. Choose a writable folder.") from exc
        self._created.extend(missing)  # deepest first, so they can be removed in this order

    def _discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        for folder in self._created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: never remove what someone else put there


def existing_folder(folder: Path) -> Path:
    """The folder itself if it exists, else its nearest existing ancestor (same disk, in practice): where
    to test writability and free space, and where work files go before the outputs' folders exist."""
    for candidate in (folder.absolute(), *folder.absolute().parents):
        if candidate.is_dir():
            return candidate
    return Path("/")


def content_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read a MiB at a time."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
