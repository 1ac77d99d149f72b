"""Analyses kept by content and settings, so a batch re-run with only a new music setting skips the
analysis. The cache often sits on shared storage (a batch's OUTDIR, a Ray cluster's disk), where anyone
who can write may plant a file, so an entry is data only: one `.npz`, read with allow_pickle=False, holding
the analysis as JSON and the thumbnails as byte arrays. Each entry names the key it was stored under and
is read only when that key matches; anything else (corrupt, foreign, stale, planted) is ignored and the
film analysed again.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from multiprocessing.pool import Pool
from pathlib import Path

import numpy as np

from filmscore.analysis.pipeline import Analysis, AnalyzeOptions, analyze
from filmscore.core.atomic import OutputSet, content_sha256
from filmscore.core.codec import DataError, from_plain, to_plain
from filmscore.core.errors import OutputError
from filmscore.core.progress import Progress

FORMAT = "filmscore-analysis/1"
STRUCTURE = "analysis"  # the npz member holding the JSON
MAX_ENTRY_BYTES = 256 << 20  # an analysis with thumbnails is a few MB even for a feature film
MAX_MEMBERS = 100_000  # one per thumbnail, and a feature film has a few thousand shots


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
        return kept
    analysis = analyze(input_path, opts, progress, workdir, helper)
    try:
        with OutputSet() as outputs:
            outputs.write(path, entry_bytes(analysis, key))
    except OutputError:
        pass  # a cache that cannot be written costs time, never the run
    return analysis


def cache_key(input_path: Path, opts: AnalyzeOptions) -> str:
    from filmscore import __version__

    return f"{__version__}|{input_path.resolve()}|{opts!r}|{content_sha256(input_path)}"


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"analysis-{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"


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
