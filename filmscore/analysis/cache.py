"""Analyses kept by content and settings, so a batch re-run with only a new music setting skips the
analysis; and shots kept by content, so a film of a batch that brings back shots read before (a re-cut,
a reused take) gives them the readings they had.

The cache often sits on shared storage (a batch's OUTDIR, a Ray cluster's disk), where anyone who can
write may plant a file, so an entry is data only: one `.npz`, read with allow_pickle=False, holding the
analysis as JSON and the thumbnails as byte arrays. Each entry names the key it was stored under and is
read only when that key matches; anything else (corrupt, foreign, stale, planted) is ignored and the film
analysed again. The shots are one JSON file per analysis setting, read the same way (core/codec.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.pool import Pool
from pathlib import Path

import numpy as np

from filmscore.analysis.flow import Analysis, AnalyzeOptions, analyze
from filmscore.analysis.shot_match import (
    ShotReading,
    content_digests,
    plausible,
    reading_of,
    with_readings,
)
from filmscore.core.atomic import OutputSet, content_sha256
from filmscore.core.cache import entry_path as cache_entry
from filmscore.core.cache import mark_used
from filmscore.core.codec import DataError, from_plain, to_plain
from filmscore.core.errors import OutputError
from filmscore.core.progress import Progress

FORMAT = "filmscore-analysis/1"
STRUCTURE = "analysis"  # the npz member holding the JSON
MAX_ENTRY_BYTES = 256 << 20  # an analysis with thumbnails is a few MB even for a feature film
MAX_MEMBERS = 100_000  # one per thumbnail, and a feature film has a few thousand shots
SHOTS_FORMAT = "filmscore-shots/2"
MAX_SHOT_ENTRIES = 200_000  # the newest are kept: a batch of a hundred features
MAX_SHOTS_BYTES = 128 << 20


def cached_analysis(
    input_path: Path,
    opts: AnalyzeOptions,
    progress: Progress,
    cache_dir: Path | None,
    workdir: Path | None = None,
    helper: Pool | None = None,
) -> Analysis:
    """The analysis, from the cache when this film (by content and path) was analysed before with the
    same settings and filmscore version; analysed and stored otherwise."""
    if cache_dir is None:
        return analyze(input_path, opts, progress, workdir, helper)
    key = cache_key(input_path, opts)
    path = entry_path(cache_dir, key)
    kept = read_entry(path, key)
    if kept is not None:
        mark_used(path)
        return kept
    analysis = remembered_shots(cache_dir, opts, analyze(input_path, opts, progress, workdir, helper))
    try:
        with OutputSet() as outputs:
            outputs.write(path, entry_bytes(analysis, key))
    except OutputError:
        pass  # a cache that cannot be written costs time, never the run
    return analysis


@dataclass(frozen=True)
class ShotEntry:
    content: str  # the shot's exact picture, sound and length (shot_match.content_digests)
    reading: ShotReading


def remembered_shots(cache_dir: Path, opts: AnalyzeOptions, analysis: Analysis) -> Analysis:
    """The analysis with the readings this cache holds for its shots (exactly the same picture and sound
    at the same length, read with the same settings in another film); its other shots are remembered for
    the next film. Nothing less than the same content is taken: a shot that only looks or sounds like
    one read before is read again. Films of a batch finishing at once take turns (a lock beside the
    file)."""
    key = shots_key(opts)
    path = shots_path(cache_dir, key)
    try:
        with _held(path):
            entries = read_shot_entries(path, key)
            digests = content_digests(analysis)
            readings = recalled(digests, entries)
            analysis = with_readings(analysis, readings, opts.fusion)
            pairs = enumerate(zip(digests, analysis.emotions, strict=True))
            fresh = [ShotEntry(d, reading_of(e)) for j, (d, e) in pairs
                     if j not in readings and d is not None]  # fmt: skip
            if fresh:
                document = {"format": SHOTS_FORMAT, "key": key,
                            "shots": to_plain((*entries, *fresh)[-MAX_SHOT_ENTRIES:], [])}  # fmt: skip
                with OutputSet() as outputs:
                    outputs.write(path, json.dumps(document).encode())
    except (OSError, OutputError):
        pass  # a cache that cannot be read or written costs time, never the run
    return analysis


def shots_key(opts: AnalyzeOptions) -> str:
    """What a shot's reading depends on besides its content: not the cut list, whose next version (the
    next re-cut) holds many of the same shots."""
    from filmscore.core.version import __version__

    return f"{__version__}|{replace(opts, shots=replace(opts.shots, cut_list=None))!r}"


def shots_path(cache_dir: Path, key: str) -> Path:
    return cache_entry(cache_dir, "shots", key)


def read_shot_entries(path: Path, key: str) -> tuple[ShotEntry, ...]:
    """The shots kept at `path` under `key`; none for a missing, foreign, stale or broken file."""
    try:
        if path.stat().st_size > MAX_SHOTS_BYTES:
            return ()
        document = json.loads(path.read_text(encoding="utf-8"))
        if (
            not isinstance(document, dict)
            or document.get("format") != SHOTS_FORMAT
            or document.get("key") != key
        ):
            return ()
        entries = from_plain(tuple[ShotEntry, ...], document["shots"])
        return tuple(entry for entry in entries if plausible(entry.reading))
    except (DataError, ValueError, KeyError, OSError, RecursionError):
        return ()


def recalled(digests: tuple[str | None, ...], entries: tuple[ShotEntry, ...]) -> dict[int, ShotReading]:
    """For each shot (by index) the reading kept for exactly its content, where there is one (the
    newest, if several were kept)."""
    kept = {entry.content: entry.reading for entry in entries}
    return {j: kept[d] for j, d in enumerate(digests) if d is not None and d in kept}


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    """An exclusive lock beside `path`, waited for (films of a batch hold it for a moment each)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cache_key(input_path: Path, opts: AnalyzeOptions) -> str:
    from filmscore.core.version import __version__

    return f"{__version__}|{input_path.resolve()}|{opts!r}|{content_sha256(input_path)}"


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_entry(cache_dir, "analysis", key)


def entry_bytes(analysis: Analysis, key: str) -> bytes:
    """The cache entry: the analysis as JSON (with its key and format) plus one uint8 array per blob."""
    blobs: list[bytes] = []
    document = {"format": FORMAT, "key": key, "analysis": to_plain(analysis, blobs)}
    arrays = {STRUCTURE: np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)}
    arrays.update({f"blob-{i}": np.frombuffer(blob, dtype=np.uint8) for i, blob in enumerate(blobs)})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub wants a positional array here
    return buffer.getvalue()


def read_entry(path: Path, key: str) -> Analysis | None:
    """The analysis stored at `path` under `key`, or None if there is none or it is not one."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return analysis_from_entry(data, key)


def analysis_from_entry(data: bytes, key: str) -> Analysis | None:
    """An entry's analysis if the bytes are a well-formed entry for `key`; None for anything else."""
    try:
        arrays = _arrays(data)
        document = json.loads(arrays.pop(STRUCTURE).tobytes().decode("utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("key") != key:
            return None
        blobs = [arrays[f"blob-{i}"].tobytes() for i in range(len(arrays))]
        return from_plain(Analysis, document["analysis"], blobs)
    except (DataError, ValueError, KeyError, OSError, EOFError, RecursionError, zipfile.BadZipFile):
        return None  # UnicodeDecodeError and json's errors are ValueErrors


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    """The npz's arrays, after checking its table of contents: plain uint8 vectors only, within size."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_ENTRY_BYTES:
            raise ValueError("too large for an analysis")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    if any(a.dtype != np.uint8 or a.ndim != 1 for a in arrays.values()):
        raise ValueError("not an analysis entry")
    return arrays
