"""Music generators: each turns a cue plan into a music stem as long as the film.

The embedded default, `symbolic`, composes MIDI from the plan and renders it through a General MIDI
SoundFont with FluidSynth; it needs no model weights. Neural generators register here too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from filmscore.config import backends
from filmscore.core.registry import Registry
from filmscore.media.audio import AudioFile
from filmscore.media.probe import MUSIC_SAMPLE_RATE, AudioClip
from filmscore.music.planning import Cue, CuePlan

if TYPE_CHECKING:
    from filmscore.music.symbolic.score import Composition


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


@dataclass(frozen=True)
class Excerpt:
    """A stretch of an existing recording placed in the score (the library generator's cue sheet)."""

    cue_id: int
    track: str  # the recording, relative to its library folder
    from_s: float  # where the excerpt starts and ends in the recording
    to_s: float
    at_s: float  # where it starts in the film


@dataclass(frozen=True)
class Music:
    audio: AudioClip | AudioFile  # stereo, exactly the film's length
    midi: bytes | None  # a Standard MIDI File of the score, when the generator works in notes
    details: dict[str, str]  # what made it (SoundFont, model), for the report
    # By instrument group, where the generator can; they sum to `audio`.
    stems: dict[str, AudioClip | AudioFile] = field(default_factory=dict)
    excerpts: tuple[Excerpt, ...] = ()  # recordings used, where the generator plays existing music


class MusicGenerator(ABC):
    name: str = ""
    # True when the generator plays each cue's arrangement (density, register, dynamics) as planned, so
    # the closed loop can re-arrange a cue that misses its target and generate again.
    follows_arrangement: bool = False

    @abstractmethod
    def generate(self, request: MusicRequest) -> Music:
        """Music for the whole film, following the plan's cues."""

    def prepare(self) -> None:  # noqa: B027 - optional: most generators load nothing ahead
        """Start loading, in the background, what generating will need (a run calls this once the picture
        pass is over, so the load overlaps the rest of the analysis and not the picture pass's memory)."""

    def release(self) -> None:  # noqa: B027 - optional: most generators hold nothing between films
        """Let go of what it holds loaded for generating (a run calls this once the music is final)."""


# The score is rendered in this many pieces at once, one synthesiser each. Fixed, not the core
# count, so the same seed gives the same samples on any machine.
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
KEPT_TAIL_FADE_S = 0.05  # a kept cue's sound, cut where its tail has died away, ends with this fade


def silenced(music: Music, spans: tuple[tuple[float, float], ...]) -> Music:
    """The music with nothing in `spans` (the spotting's `none` ranges), the stems too, faded out over
    SILENCE_FADE_S before each: whatever a generator lets ring past a cue's end is cut there. A raw file
    is changed in place (it is the run's own work file); a signal in memory is copied."""
    if not spans:
        return music
    stems = {name: _silenced(stem, spans) for name, stem in music.stems.items()}
    return replace(music, audio=_silenced(music.audio, spans), stems=stems)


def _writable(signal: AudioClip | AudioFile) -> np.ndarray:
    """A signal's samples to change: a copy of one in memory, or its raw file mapped (changed in place)."""
    if isinstance(signal, AudioClip):
        return signal.samples.copy()
    return np.memmap(signal.path, dtype="<f4", mode="r+", shape=(signal.frames, signal.channels))


def _silenced(signal: AudioClip | AudioFile, spans: tuple[tuple[float, float], ...]) -> AudioClip | AudioFile:
    if signal.frames == 0:
        return signal
    samples = _writable(signal)
    for start_s, end_s in spans:
        first, last = round(start_s * signal.sample_rate), round(end_s * signal.sample_rate)
        fade = min(first, round(SILENCE_FADE_S * signal.sample_rate))
        ramp = equal_power_ramp(fade)[::-1]
        samples[first - fade : first] *= ramp[:, None] if samples.ndim > 1 else ramp
        samples[first:last] = 0.0
    return _written(signal, samples)


def _written(signal: AudioClip | AudioFile, samples: np.ndarray) -> AudioClip | AudioFile:
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


class SymbolicGenerator(MusicGenerator):
    name = "symbolic"
    follows_arrangement = True

    def __init__(self, soundfont: Path | None = None, crossfade_s: float = 1.5) -> None:
        from filmscore.music.symbolic.render import find_soundfont, require_fluidsynth

        require_fluidsynth()  # fail before the analysis, not after it
        self.soundfont = find_soundfont(soundfont)
        self.crossfade_s = crossfade_s

    def prepare(self) -> None:
        from filmscore.music.symbolic.render import warm

        warm(self.soundfont)

    def release(self) -> None:
        from filmscore.music.symbolic.render import release

        release()  # MuseScore General holds 490 MB: not through the mix

    def generate(self, request: MusicRequest) -> Music:
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.midi import midi_bytes
        from filmscore.music.symbolic.recut import spliced, without_kept
        from filmscore.music.symbolic.render import note_costs, render_midi, render_separately, sum_clips
        from filmscore.music.symbolic.score import split_notes, split_roles

        composition = compose(request.plan, request.speech, ComposeOptions(request.seed, self.crossfade_s))
        kept, earlier, earlier_duration = self._kept_parts(request)
        sounding = without_kept(composition, kept)
        if kept:
            composition = spliced(sounding, request.plan, kept, earlier)
        score = midi_bytes(composition)
        duration = request.plan.duration_s
        stems: dict[str, AudioClip | AudioFile] = {}
        workdir = request.workdir
        if request.stems:
            # One render per instrument group; by linearity they sum to the whole score. Kept cues play
            # their earlier notes here, rendered afresh.
            roles = split_roles(composition)
            parts = [midi_bytes(part) for part in roles.values()]
            clips = render_separately(parts, self.soundfont, duration, workdir)
            stems = dict(zip(roles, clips, strict=True))
            audio = sum_clips(list(clips), workdir, "music")
        else:
            costs = note_costs(self.soundfont)
            pieces = [midi_bytes(piece) for piece in split_notes(sounding, RENDER_PIECES, costs)]
            audio = render_midi(pieces, self.soundfont, duration, workdir)
            if kept:
                audio = self._with_kept_sound(audio, kept, earlier, earlier_duration, duration, workdir)
        details = {
            "style": request.plan.cues[0].style,
            "soundfont": str(self.soundfont.path),
            "soundfont_origin": self.soundfont.origin,
            "licence": f"composed by filmscore's symbolic generator (no model weights); samples: "
            f"{self.soundfont.licence}",
        }
        if kept:
            details["kept_cues"] = str(len(kept))
        return Music(audio, score, details, stems)

    def _kept_parts(self, request: MusicRequest) -> tuple[list[tuple[Cue, Cue]], list[Composition], float]:
        """In a re-cut: each kept cue with the cue it keeps, its part of the earlier score (written again
        from the earlier plan, seed and dialogue, so exactly as it was), and the earlier film's length."""
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.recut import earlier_parts, kept_in

        earlier = request.earlier
        kept = kept_in(request.plan) if earlier is not None else []
        if earlier is None or not kept:
            return [], [], 0.0
        score = compose(earlier.plan, earlier.speech, ComposeOptions(earlier.seed, self.crossfade_s))
        return kept, earlier_parts(score, kept, earlier.plan), earlier.plan.duration_s

    def _with_kept_sound(
        self,
        audio: AudioClip | AudioFile,
        kept: list[tuple[Cue, Cue]],
        parts: list[Composition],
        earlier_duration_s: float,
        duration_s: float,
        workdir: Path | None,
    ) -> AudioClip | AudioFile:
        """The render with each kept cue's sound added at its new time: its earlier part rendered alone at
        its earlier time, so it sounds sample for sample as the earlier cut rendered it; its tail, cut
        TAIL_S after its end, fades over KEPT_TAIL_FADE_S."""
        from filmscore.music.symbolic.midi import midi_bytes
        from filmscore.music.symbolic.recut import kept_stretch
        from filmscore.music.symbolic.render import render_separately

        sounds = render_separately(
            [midi_bytes(part) for part in parts], self.soundfont, earlier_duration_s, workdir
        )
        out = _writable(audio)
        for (cue, old), sound in zip(kept, sounds, strict=True):
            first, at, length = kept_stretch(cue, old, earlier_duration_s, duration_s, sound.sample_rate)
            add_faded(out, sound.read(first, first + length), at, 0.0, KEPT_TAIL_FADE_S)
            if isinstance(sound, AudioFile):
                sound.path.unlink(missing_ok=True)
        return _written(audio, out)
