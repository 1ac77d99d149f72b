"""The cache folder: where runs keep a film's reading and its cues' renders for the next try.

By default it is the user's own ($XDG_CACHE_HOME/filmscore, else ~/.cache/filmscore), so a second run
with another style, seed, take or spotting re-uses the first one's work without a flag. It is bounded:
once a run has written to it, the least recently used files go until it holds at most the setting
`cache.max_gb` (`trim`). A file is "used" when it is written or read (`mark_used`).

Only files named as filmscore names its entries are counted, trimmed or cleared, so a --cache-dir
pointed at a folder that holds anything else never loses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

CACHE_HOME_ENV = "XDG_CACHE_HOME"
FOLDER_NAME = "filmscore"
# Every kind of entry, by its file name: the reading of a film, the readings of shots by content, a cue's
# render and a score's music check. (The empty lock files the films of a batch take turns on stay: one may
# be held.)
KINDS = {
    "analysis": re.compile(r"^analysis-[0-9a-f]{32}\.npz$"),
    "shots": re.compile(r"^shots-[0-9a-f]{32}\.json$"),
    "render": re.compile(r"^render-[0-9a-f]{32}\.f32r$"),
    "check": re.compile(r"^check-[0-9a-f]{32}\.json$"),
}
SUFFIXES = {"analysis": ".npz", "shots": ".json", "render": ".f32r", "check": ".json"}
GB = 1 << 30


def entry_path(folder: Path, kind: str, key: str) -> Path:
    """Where an entry of `kind` stored under `key` lives: named by a digest of the key, as KINDS
    recognises it. The key may hold paths that are not UTF-8 (a Latin-1 film name): surrogateescape."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
    return folder / f"{kind}-{digest[:32]}{SUFFIXES[kind]}"


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/filmscore, or ~/.cache/filmscore where it is unset or not absolute (as the XDG
    specification says)."""
    home = os.environ.get(CACHE_HOME_ENV, "")
    base = Path(home) if home and Path(home).is_absolute() else Path.home() / ".cache"
    return base / FOLDER_NAME


@dataclass(frozen=True)
class CacheFile:
    path: Path
    kind: str  # a key of KINDS
    size: int  # bytes
    used: float  # when it was last written or read (its modification time)


@dataclass(frozen=True)
class CacheUsage:
    folder: Path
    files: int
    bytes: int
    by_kind: tuple[tuple[str, int, int], ...]  # (kind, files, bytes), in KINDS' order


def cache_files(folder: Path) -> list[CacheFile]:
    """The folder's entries, oldest use first; none where it does not exist or cannot be read."""
    found = []
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return []
    for entry in listing:
        kind = _kind(entry.name)
        if kind is None:
            continue
        with contextlib.suppress(OSError):  # gone meanwhile: another run trimmed it
            if entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                found.append(CacheFile(Path(entry.path), kind, stat.st_size, stat.st_mtime))
    return sorted(found, key=lambda f: (f.used, f.path.name))


def _kind(name: str) -> str | None:
    return next((kind for kind, pattern in KINDS.items() if pattern.match(name)), None)


def usage(folder: Path) -> CacheUsage:
    files = cache_files(folder)
    by_kind = tuple(
        (kind, sum(1 for f in files if f.kind == kind), sum(f.size for f in files if f.kind == kind))
        for kind in KINDS
    )
    return CacheUsage(folder, len(files), sum(f.size for f in files), by_kind)


def mark_used(path: Path) -> None:
    """Make an entry the most recently used (a read keeps it from being trimmed first)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def trim(folder: Path, max_bytes: int) -> list[Path]:
    """Remove the least recently used entries until the folder's hold at most `max_bytes` (what a run
    has just written or read is the most recent, so it goes last). The removed paths."""
    files = cache_files(folder)
    total = sum(f.size for f in files)
    removed = []
    for file in files:
        if total <= max_bytes:
            break
        with contextlib.suppress(OSError):  # another run removed it first, or it is not ours to remove
            file.path.unlink()
            removed.append(file.path)
        total -= file.size
    return removed


def clear(folder: Path) -> CacheUsage:
    """Remove every entry; what was removed."""
    before = usage(folder)
    for file in cache_files(folder):
        with contextlib.suppress(FileNotFoundError):
            file.path.unlink()
    return before
