"""Music generators: each turns a cue plan into a music stem as long as the film.

This module holds what every generator shares: the request, the result, the base class and the registry,
and the helpers that place audio in a film-long buffer. Each generator has a module of its own: the
embedded default `symbolic` (music/generators/symbolic.py, composed MIDI rendered through a General MIDI
SoundFont with FluidSynth: no model weights), `library` (your own music) and `musicgen`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import numpy as np

from filmscore.config import backends
from filmscore.core.registry import Registry
from filmscore.media.audio import AudioFile
from filmscore.media.probe import MUSIC_SAMPLE_RATE, AudioClip
from filmscore.music.planning import CuePlan


@dataclass(frozen=True)
class EarlierScore:
    """An earlier cut's score, for a re-cut: its plan, the dialogue it was written around and its seed,
    from which its kept cues are written and rendered again exactly as they were."""

    plan: CuePlan
    speech: tuple[tuple[float, float], ...]
    seed: int


@dataclass(frozen=True)
class MusicRequest:
    plan: CuePlan
    speech: tuple[tuple[float, float], ...]  # (start_s, end_s) of dialogue, to thin the music under it
    seed: int  # the same seed gives the same music
    stems: bool = False  # also return the music split by instrument group, where the generator can
    workdir: Path | None = None  # where to keep film-length audio as raw files; in memory when None
    earlier: EarlierScore | None = None  # in a re-cut, the score whose kept cues (plan.cues' kept_from) stay
    cache_dir: Path | None = None  # where renders are kept for later runs (core/cache.py), None: not kept


@dataclass(frozen=True)
class Excerpt:
    """A stretch of an existing recording placed in the score (the library generator's cue sheet)."""

    cue_id: int
    track: str  # the recording, relative to its library folder
    from_s: float  # where the excerpt starts and ends in the recording
    to_s: float
    at_s: float  # where it starts in the film


RING_OUT_MIN_S = 1.0  # a cue's own file runs at least this far past its cue, for an editor to extend it


@dataclass(frozen=True)
class CueSound:
    """A cue's own music, clean (nothing of the cues beside it, no ducking): from `start_s` in the film
    to the end of its ring-out, which may reach past the cue's end and the film's."""

    cue_id: int
    start_s: float
    audio: AudioClip | AudioFile  # stereo
    take: str = "a"  # which of the cue's takes it is (music/planning/palette.py)


@dataclass(frozen=True)
class Music:
    audio: AudioClip | AudioFile  # stereo, exactly the film's length
    midi: bytes | None  # a Standard MIDI File of the score, when the generator works in notes
    details: dict[str, str]  # what made it (SoundFont, model), for the report
    # By instrument group, where the generator can; they sum to `audio`.
    stems: dict[str, AudioClip | AudioFile] = field(default_factory=dict)
    excerpts: tuple[Excerpt, ...] = ()  # recordings used, where the generator plays existing music
    # Each cue alone, where the generator makes cues as pieces of their own; placed at their starts they
    # sum to `audio` (with --stems, to within the render's timing: the stems are rendered apart).
    cue_sounds: tuple[CueSound, ...] = ()
    # With --takes: each cue's other takes (not the one it plays), each alone, for an editor to choose from.
    other_takes: tuple[CueSound, ...] = ()


class MusicGenerator(ABC):
    name: str = ""
    # True when the generator plays each cue's arrangement (density, register, dynamics) as planned, so
    # the closed loop can re-arrange a cue that misses its target and generate again.
    follows_arrangement: bool = False
    # True when the generator writes each cue as a piece of its own (Music.cue_sounds) from the cue's take
    # (music/planning/palette.py), so it can offer a cue's other takes and play the one an editor chose.
    writes_takes: bool = False

    @abstractmethod
    def generate(self, request: MusicRequest) -> Music:
        """Music for the whole film, following the plan's cues."""

    def prepare(self) -> None:  # noqa: B027 - optional: most generators load nothing ahead
        """Start loading, in the background, what generating will need (a run calls this once the picture
        pass is over, so the load overlaps the rest of the analysis and not the picture pass's memory)."""

    def release(self) -> None:  # noqa: B027 - optional: most generators hold nothing between films
        """Let go of what it holds loaded for generating (a run calls this once the music is final)."""


# A score's cues render this many at once, one synthesiser each. Fixed, not the core count: the samples do
# not depend on it, but the work folder's peak does.
RENDER_PIECES = 2

# The registry's entries are data, in config/backends.py; here it is typed with its base class.
GENERATORS = cast("Registry[MusicGenerator]", backends.GENERATORS)


def film_buffer(
    frames: int, workdir: Path | None, name: str
) -> tuple[np.ndarray, Callable[[np.ndarray], AudioClip | AudioFile]]:
    """A film-length 48 kHz stereo buffer to add cues into: a raw file mapped into memory in the work
    folder, or an array; and how to turn it into the Music's audio."""
    if workdir is None:
        return np.zeros((frames, 2), np.float32), lambda a: AudioClip(a, MUSIC_SAMPLE_RATE)
    path = workdir / f"{name}.f32"
    buffer = np.memmap(path, dtype="<f4", mode="w+", shape=(max(frames, 1), 2))
    return buffer, lambda a: AudioFile(path, frames, 2, MUSIC_SAMPLE_RATE)


SILENCE_FADE_S = 0.05  # the music fades this fast into a silent range (what rings on from the cue before)


def silenced(music: Music, spans: tuple[tuple[float, float], ...]) -> Music:
    """The music with nothing in `spans` (the spotting's `none` ranges), the stems too, faded out over
    SILENCE_FADE_S before each: whatever a generator lets ring past a cue's end is cut there. A raw file
    is changed in place (it is the run's own work file); a signal in memory is copied."""
    if not spans:
        return music
    stems = {name: _silenced(stem, spans) for name, stem in music.stems.items()}
    cues, takes = (
        tuple(replace(s, audio=_silenced(s.audio, _from(spans, s.start_s))) for s in sounds)
        for sounds in (music.cue_sounds, music.other_takes)
    )
    audio = _silenced(music.audio, spans)
    return replace(music, audio=audio, stems=stems, cue_sounds=cues, other_takes=takes)


def _from(spans: tuple[tuple[float, float], ...], start_s: float) -> tuple[tuple[float, float], ...]:
    """Film-time spans in the time of a sound that starts at `start_s` (those that end before it go)."""
    return tuple((max(0.0, a - start_s), b - start_s) for a, b in spans if b > start_s)


def writable(signal: AudioClip | AudioFile) -> np.ndarray:
    """A signal's samples to change: a copy of one in memory, or its raw file mapped (changed in place)."""
    if isinstance(signal, AudioClip):
        return signal.samples.copy()
    return np.memmap(signal.path, dtype="<f4", mode="r+", shape=(signal.frames, signal.channels))


def _silenced(signal: AudioClip | AudioFile, spans: tuple[tuple[float, float], ...]) -> AudioClip | AudioFile:
    if signal.frames == 0:
        return signal
    samples = writable(signal)
    for start_s, end_s in spans:
        first, last = round(start_s * signal.sample_rate), round(end_s * signal.sample_rate)
        if first >= signal.frames:  # a cue's own sound may end before a silent range
            continue
        fade = min(first, round(SILENCE_FADE_S * signal.sample_rate))
        ramp = equal_power_ramp(fade)[::-1]
        samples[first - fade : first] *= ramp[:, None] if samples.ndim > 1 else ramp
        samples[first:last] = 0.0
    return written(signal, samples)


def written(signal: AudioClip | AudioFile, samples: np.ndarray) -> AudioClip | AudioFile:
    """The signal `_writable` gave `samples` for, with the changes: the file flushed, or a new clip."""
    if isinstance(samples, np.memmap):
        samples.flush()
        return signal
    return AudioClip(samples, signal.sample_rate)


def equal_power_ramp(samples: int) -> np.ndarray:
    """A fade-in of `samples` whose square and its reverse's square sum to 1: a cross-fade keeps the power."""
    return np.sin(np.linspace(0, np.pi / 2, samples, dtype=np.float32))


def add_faded(out: np.ndarray, audio: np.ndarray, at: int, fade_in_s: float, fade_out_s: float) -> None:
    """Add `audio` into `out` from frame `at`, with equal-power fades in and out (cut at the buffer's end)."""
    audio = audio[: max(0, len(out) - at)].copy()
    for seconds, ramp_end in ((fade_in_s, False), (fade_out_s, True)):
        n = min(len(audio), round(seconds * MUSIC_SAMPLE_RATE))
        if n > 0:
            ramp = equal_power_ramp(n)[:, None]
            if ramp_end:
                audio[-n:] *= ramp[::-1]
            else:
                audio[:n] *= ramp
    out[at : at + len(audio)] += audio
