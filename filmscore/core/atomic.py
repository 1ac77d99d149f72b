"""Atomic output: write to temp files beside the targets, then rename, so no half-written file is seen."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from filmscore.core.errors import OutputError

WORK_PREFIX = ".filmscore-work-"
PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"  # held by the run writing the output it is named after
LOCK_TRIES = 5
ASIDE_SUFFIX = ".prev"  # an earlier output, moved aside while the new set is published
# What a run leaves if it is killed with no chance to clean up (SIGKILL, a power cut): its work folder and
# its staged outputs. Both names carry the run's host and process id, so a later run can tell a dead run's
# leftovers from a live one's, on shared storage too (another host's files are never touched).
_OWNER = r"(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[a-z0-9_]+"
_LEFTOVERS = (
    re.compile(rf"^{re.escape(WORK_PREFIX)}{_OWNER}$"),
    re.compile(rf"^\..+\.{_OWNER}{re.escape(PART_SUFFIX)}$"),
)
# An earlier output a killed run had moved aside while publishing: put back if nothing replaced it.
_LOCK = re.compile(rf"^\..+{re.escape(LOCK_SUFFIX)}$")  # output_lock's, beside its target
_ASIDE = re.compile(rf"^\.(?P<name>.+)\.{_OWNER}{re.escape(ASIDE_SUFFIX)}$")


def _give_default_permissions(path: Path) -> None:
    """mkstemp makes files only their owner can read; outputs get what any new file would (0666 & ~umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


class OutputSet:
    """Several outputs published together: each is written to a temp file beside its target, and only
    when all are written are they moved into place, all or none: a target being replaced is first moved
    aside, and if any move fails the ones done are undone, so the earlier set stays whole. On failure every
    temp file is removed, and so is any folder this set created, so a failed run leaves nothing behind.

    Without `overwrite`, a target that exists when the set is published (a file that appeared while the
    run worked) is never replaced: the whole set is refused instead.
    """

    def __init__(self, overwrite: bool = True) -> None:
        self.overwrite = overwrite
        self._staged: list[tuple[Path, Path]] = []
        self._created: list[Path] = []

    def __enter__(self) -> OutputSet:
        return self

    def stage(self, target: Path) -> Path:
        """A temp path to write `target` to; for a target staged already, the same one, so that writing it
        again replaces what was written (a run rewrites its music files when the mux re-limits the mix)."""
        for tmp, staged in self._staged:
            if staged == target:
                return tmp
        self._make_folder(target.parent)
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.{owner_tag()}-", suffix=PART_SUFFIX, dir=target.parent
            )
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
        if kind is not None:
            self._discard()
            return
        try:
            self._check_targets()
            self._publish()
        except BaseException:
            self._discard()
            raise

    def _check_targets(self) -> None:
        if self.overwrite:
            return
        for _, target in self._staged:
            if os.path.lexists(target):
                raise OutputError(
                    f"{target} appeared while filmscore worked, and was kept. Move it away, or run again "
                    "with --overwrite to replace it."
                )

    def _publish(self) -> None:
        """Move every staged file into place, or, if one move fails, put every target back as it was."""
        done: list[tuple[Path, Path | None]] = []  # (target, where its earlier file was moved)
        try:
            for tmp, target in self._staged:
                aside = _moved_aside(target)
                done.append((target, aside))
                os.replace(tmp, target)
        except OSError as exc:
            _undo(done, self._staged)
            raise OutputError(
                f"cannot publish {done[-1][0] if done else 'the outputs'}: {exc.strerror}. The earlier "
                "outputs were left as they were. Check the folder."
            ) from exc
        for _, aside in done:
            if aside is not None:
                with contextlib.suppress(OSError):
                    aside.unlink()

    def _make_folder(self, folder: Path) -> None:
        self._created.extend(make_folders(folder))

    def _discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        remove_empty(self._created)


def make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, for remove_empty to take back."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror}. Choose a writable folder.") from exc
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders that are empty, deepest first: never what someone else put something in."""
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _moved_aside(target: Path) -> Path | None:
    """Move an existing target to a hidden name beside it (kept until the whole set is in place)."""
    if not os.path.lexists(target):
        return None
    aside = target.with_name(f".{target.name}.{owner_tag()}-{secrets.token_hex(4)}{ASIDE_SUFFIX}")
    os.replace(target, aside)
    return aside


def _undo(done: list[tuple[Path, Path | None]], staged: list[tuple[Path, Path]]) -> None:
    """Put back what a failed publish had moved: each new file back to its temp name (so _discard removes
    it), each earlier file back to its target."""
    temps = {target: tmp for tmp, target in staged}
    for target, aside in reversed(done):
        with contextlib.suppress(OSError):
            if os.path.lexists(target) and not os.path.lexists(temps[target]):
                os.replace(target, temps[target])
        if aside is not None:
            with contextlib.suppress(OSError):
                os.replace(aside, target)


@contextlib.contextmanager
def output_lock(*targets: Path) -> Iterator[None]:
    """Hold a lock beside each target for the whole run, so two runs never write the same output and
    both claim success: the second is refused at once. The lock is an flock on a hidden file beside the
    target (released by the kernel if the run dies); folders made to hold it go again if left empty."""
    with contextlib.ExitStack() as held:
        for target in dict.fromkeys(t.absolute() for t in targets):
            held.enter_context(_locked(target))
        yield


@contextlib.contextmanager
def folder_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold an flock on the folder itself while one writer (a batch) owns it: a second is refused at
    once (OutputError). No lock file is made, so a killed writer leaves nothing behind."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise OutputError(f"cannot open {folder}: {exc.strerror}. Choose a writable folder.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputError(f"another filmscore {what} is writing {folder}. Wait for it to finish, or choose "
                          "another folder.") from None  # fmt: skip
    try:
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    created = make_folders(target.parent)
    path = target.parent / f".{target.name}{LOCK_SUFFIX}"
    try:
        fd = _take_lock(path, target)
    except BaseException:
        remove_empty(created)
        raise
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                path.unlink()  # while still held, so no other run can be holding this file
        os.close(fd)
        remove_empty(created)


def _take_lock(path: Path, target: Path) -> int:
    """An open, flocked descriptor of the lock file at `path`. A run that ends unlinks its lock file, so
    a lock taken on a file that is no longer at `path` is no lock: open it again then."""
    import fcntl

    for _ in range(LOCK_TRIES):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"cannot write to {path.parent}: {exc.strerror}. Choose a writable folder."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"another filmscore run is writing {target}. Wait for it to finish, or choose another output."
            ) from None
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        os.close(fd)
    raise OutputError(f"cannot lock {target}: other runs keep taking it. Try again.")


def climbs_out(relative: str) -> bool:
    """Whether a path read from a file as relative to a folder is absolute or climbs out with `..`."""
    path = Path(relative)
    return path.is_absolute() or ".." in path.parts


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


def owner_tag() -> str:
    """This process on this host, as it appears in the names of its temp files."""
    host = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
    return f"{host}-{os.getpid()}"


def work_folder(parent: Path | None) -> tempfile.TemporaryDirectory[str]:
    """A work folder in `parent` (else the system's temp folder), removed when the run ends and, if it is
    killed, by the next run in the same place."""
    where = None if parent is None else existing_folder(parent)
    return tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{owner_tag()}-", dir=where)


def sweep_dead_runs(folders: Iterable[Path]) -> list[Path]:
    """Clean up after dead runs on this host in `folders` (not their subfolders): remove their work folders
    and staged outputs, and put back an earlier output one had moved aside if nothing replaced it. What a
    live run, or another host, owns stays. Returns what was removed or put back."""
    swept = []
    for folder in dict.fromkeys(folders):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if _left_by_dead_run(entry.name, _LEFTOVERS):
                _remove(entry)
                swept.append(entry)
            elif (aside := _left_by_dead_run(entry.name, (_ASIDE,))) is not None:
                _put_back(entry, folder / aside["name"])
                swept.append(entry)
            elif _LOCK.match(entry.name) and _remove_if_unheld(entry):
                swept.append(entry)
    return swept


def _remove_if_unheld(lock: Path) -> bool:
    """Remove a lock file no run holds (its run was killed before it could remove it), taking it first
    so that no run can be taking it meanwhile (a run that opened it just before sees it gone and opens
    the file again: _take_lock). Whether it was removed."""
    import fcntl

    try:
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not os.path.samestat(os.fstat(fd), os.lstat(lock)):
            return False
        lock.unlink()
        return True
    except OSError:  # held (BlockingIOError), or gone meanwhile
        return False
    finally:
        os.close(fd)


def _left_by_dead_run(name: str, patterns: Iterable[re.Pattern[str]]) -> re.Match[str] | None:
    match = next((m for pattern in patterns if (m := pattern.match(name))), None)
    host = owner_tag().partition("-")[0]
    if match is None or match["host"] != host or _alive(int(match["pid"])):
        return None
    return match


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            entry.unlink()


def _put_back(aside: Path, target: Path) -> None:
    with contextlib.suppress(OSError):
        if os.path.lexists(target):
            aside.unlink()  # the new set was published: the earlier file is no longer wanted
        else:
            os.replace(aside, target)


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (a reused id counts as alive: its files are then kept)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
