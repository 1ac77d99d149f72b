"""Cue renders kept in the cache folder (core/cache.py), so that a cue played exactly as an earlier run
played it (the same part of the score, moved to the same beat, through the same SoundFont and synthesiser
settings, to the same ring-out) takes its sound from there instead of being rendered again: a run that
changes one cue's take or mood renders that cue alone.

The key is the cue's MIDI file itself and the recipe of its render, not the plan: whatever changes a
cue's notes (its mood, the seed, the take, the style, a neighbour's crossfade) changes its file.

The cache may sit where others can write, so an entry is data only: a header of HEADER_BYTES (its format
and the key it was stored under, as JSON) and the cue's sound as raw little-endian float32 stereo frames.
It is used only when its key matches, its size is what its header says, and every sample is a finite
number within SAMPLE_LIMIT; anything else is a miss, and the cue is rendered.
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
from filmscore.core.errors import OutputError
from filmscore.media.audio import Audio, AudioClip, AudioFile, AudioWriter, blocks
from filmscore.media.probe import MUSIC_SAMPLE_RATE
from filmscore.music.symbolic.render import RENDER_CHANNELS, SYNTH_SETTINGS, SoundFont

FORMAT = "filmscore-render/1"
HEADER_BYTES = 4096
FRAME_BYTES = 4 * RENDER_CHANNELS
SAMPLE_LIMIT = 64.0  # FluidSynth at our gain stays far under 1; a sample beyond this is not a render


def render_key(midi: bytes, soundfont: SoundFont, recipe: str) -> str:
    """What a cue's render depends on: its MIDI file, the SoundFont (by path, size and modification
    time, so an edited font is rendered anew), the synthesiser's settings, filmscore's version and
    the caller's `recipe` (its length and ring-out)."""
    from filmscore.core.version import __version__

    stat = soundfont.path.stat()
    font = f"{soundfont.path}|{stat.st_size}|{stat.st_mtime_ns}"
    return f"{FORMAT}|{__version__}|{font}|{SYNTH_SETTINGS!r}|{recipe}|{hashlib.sha256(midi).hexdigest()}"


def entry_path(cache_dir: Path, key: str) -> Path:
    return cache_entry(cache_dir, "render", key)


def kept_render(cache_dir: Path, key: str, workdir: Path | None, name: str) -> AudioClip | AudioFile | None:
    """The render kept under `key`, copied into the work folder (a run changes its work files in place),
    or None where there is none or the entry is not one."""
    path = entry_path(cache_dir, key)
    try:
        with path.open("rb") as handle:
            frames = _frames_in(handle.read(HEADER_BYTES), key, path.stat().st_size)
            if frames is None:
                return None
            copy = AudioWriter(frames, RENDER_CHANNELS, MUSIC_SAMPLE_RATE, workdir, name)
            for first, last in blocks(frames):
                block = np.frombuffer(handle.read((last - first) * FRAME_BYTES), "<f4")
                if len(block) != (last - first) * RENDER_CHANNELS or not _plausible(block):
                    return None
                copy.write(block)
    except (OSError, OutputError):
        return None
    mark_used(path)
    return copy.finish()


def _frames_in(header: bytes, key: str, size: int) -> int | None:
    """The frames an entry's header announces, when it is an entry for `key` of exactly that size."""
    with contextlib.suppress(ValueError):  # UnicodeDecodeError and json's errors are ValueErrors
        document = json.loads(header.rstrip(b" ").decode("utf-8"))
        if isinstance(document, dict) and document.get("format") == FORMAT and document.get("key") == key:
            frames = document.get("frames")
            if isinstance(frames, int) and frames > 0 and size == HEADER_BYTES + frames * FRAME_BYTES:
                return frames
    return None


def _plausible(samples: np.ndarray) -> bool:
    return bool(np.isfinite(samples).all() and np.abs(samples).max(initial=0.0) <= SAMPLE_LIMIT)


def keep_render(cache_dir: Path, key: str, sound: Audio) -> Path | None:
    """Store a cue's render under `key`; the entry's path, or None where the cache cannot be written (a
    cache that cannot be written costs time, never the run)."""
    path = entry_path(cache_dir, key)
    header = json.dumps({"format": FORMAT, "key": key, "frames": sound.frames}).encode()
    if len(header) > HEADER_BYTES:
        return None
    try:
        with OutputSet() as outputs, outputs.stage(path).open("wb") as handle:
            handle.write(header.ljust(HEADER_BYTES, b" "))
            for first, last in blocks(sound.frames):
                handle.write(np.asarray(sound.read(first, last), "<f4").tobytes())
    except (OSError, OutputError):
        return None
    return path
