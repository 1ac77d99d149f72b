"""Music checks kept in the cache folder (core/cache.py): MER's reading of a score is a function of the
music's samples, the plan's cues and the MER backend, so a run whose music is sample for sample an
earlier run's (every cue's render taken from the cache: the same try again, or a take picked from those
offered) takes the check from there instead of listening again.

The key holds a SHA-256 of the music's samples, the plan's cues, the backend, its calibration and the
filmscore version. An entry is data only (JSON, read field by field through core/codec.py) and names its
key; anything else is a miss, and the music is listened to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np

from filmscore.core.atomic import OutputSet
from filmscore.core.cache import entry_path as cache_entry
from filmscore.core.cache import mark_used
from filmscore.core.codec import DataError, from_plain, to_plain
from filmscore.core.errors import OutputError
from filmscore.media.audio import Audio, blocks
from filmscore.music.check import MusicCheck
from filmscore.music.mer import calibration
from filmscore.music.planning import CuePlan

FORMAT = "filmscore-check/1"
MAX_ENTRY_BYTES = 16 << 20  # a check is a few hundred bytes a cue


def check_key(audio: Audio, plan: CuePlan, backend: str) -> str:
    """What a check depends on: the music's samples (hashed a block at a time: a feature's music does
    not fit in memory), the plan's cues, the MER backend and its calibration, filmscore's version."""
    from filmscore.core.version import __version__

    samples = hashlib.sha256()
    for first, last in blocks(audio.frames):
        samples.update(np.ascontiguousarray(audio.read(first, last), "<f4").tobytes())
    cues = hashlib.sha256(repr(plan.cues).encode("utf-8", "surrogateescape")).hexdigest()
    model = hashlib.sha256(repr(calibration()).encode()).hexdigest()
    return f"{FORMAT}|{__version__}|{backend}|{model}|{audio.sample_rate}|{cues}|{samples.hexdigest()}"


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_entry(cache_dir, "check", key)


def kept_check(cache_dir: Path, key: str) -> MusicCheck | None:
    """The check kept under `key`, or None where there is none or the entry is not one."""
    path = entry_path(cache_dir, key)
    with contextlib.suppress(OSError, ValueError, DataError, KeyError, RecursionError):
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and document.get("format") == FORMAT and document.get("key") == key:
            check = from_plain(MusicCheck, document["check"])
            mark_used(path)
            return check
    return None


def keep_check(cache_dir: Path, key: str, check: MusicCheck) -> None:
    """Store a check under `key` (a cache that cannot be written costs time, never the run)."""
    document = {"format": FORMAT, "key": key, "check": to_plain(check, [])}
    with contextlib.suppress(OSError, OutputError), OutputSet() as outputs:
        outputs.write(entry_path(cache_dir, key), json.dumps(document).encode())
