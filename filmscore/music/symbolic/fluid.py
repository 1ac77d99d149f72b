"""FluidSynth inside this process, through its C library (libfluidsynth, which the fluidsynth program is
built on), so that a SoundFont is loaded once and not once per render.

A fluidsynth process loads the samples of every preset it plays before it plays a note: for MuseScore
General (490 MB) that took longer than synthesising a minute of music. In one process, FluidSynth's sample
cache shares one loaded copy of a file among all its synthesisers. So a run loads the font once, in the
background while the film is analysed (`warm`), and each piece of the score gets a fresh synthesiser that
shares the loaded font. A fresh one, because a synthesiser that played before keeps state (the reverb's
and chorus's modulation) that changes the next render.

Loading the font into each fresh synthesiser, even from the sample cache, parsed its presets again: 0.09 s
a piece, a sixth of a 60 s score's render. So a fresh synthesiser borrows a font already loaded in a
"lender" synthesiser (fluid_synth_add_sfont) and gives it back before it is deleted. A lender lends to
one render at a time, because FluidSynth counts a sample's voices without a lock; there are as many
lenders as renders at once. The samples are the same, bit for bit (tests/test_render.py).

Each piece is rendered with the settings and the loop of `fluidsynth -F` (its fast render), so the samples
are bit for bit what the program writes (tests/test_render.py checks it). Where the library cannot be
loaded, render.py runs the program instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from filmscore.music.symbolic.score import DRUM_CHANNEL  # each key there is its own instrument

FLUID_OK = 0
FLUID_PLAYER_PLAYING = 1
LOG_ERRORS = (0, 1)  # FluidSynth's log levels PANIC and ERR; warnings and chatter are dropped
LOG_QUIET = (2, 3, 4)
LIBRARY_NAMES = ("fluidsynth", "libfluidsynth.so.3")
SCRATCH_FRAMES = 64  # one FluidSynth block
# Frames a fast render writes at a time. FluidSynth's default, 64, made a 60 s piece 15% slower (1.36 s
# against 1.15 s) for a difference of -84 dB RMS: notes still start on their own 64-frame block.
PERIOD_FRAMES = 1024
CHECK_EVERY_PERIODS = 256  # how often a render looks at its stop flag and deadline (5.5 s of music)

_pointer = ctypes.c_void_p
_text = ctypes.c_char_p
_int = ctypes.c_int
_LogFunction = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

# (name, result type, argument types) of every function used: a library without one is not used at all.
_SIGNATURES: tuple[tuple[str, object, tuple[object, ...]], ...] = (
    ("new_fluid_settings", _pointer, ()),
    ("delete_fluid_settings", None, (_pointer,)),
    ("fluid_settings_setnum", _int, (_pointer, _text, ctypes.c_double)),
    ("fluid_settings_setint", _int, (_pointer, _text, _int)),
    ("fluid_settings_setstr", _int, (_pointer, _text, _text)),
    ("new_fluid_synth", _pointer, (_pointer,)),
    ("delete_fluid_synth", None, (_pointer,)),
    ("fluid_synth_sfload", _int, (_pointer, _text, _int)),
    ("fluid_synth_get_sfont", _pointer, (_pointer, ctypes.c_uint)),
    ("fluid_synth_add_sfont", _int, (_pointer, _pointer)),
    ("fluid_synth_remove_sfont", _int, (_pointer, _pointer)),
    ("fluid_synth_program_change", _int, (_pointer, _int, _int)),
    ("fluid_synth_noteon", _int, (_pointer, _int, _int, _int)),
    ("fluid_synth_all_sounds_off", _int, (_pointer, _int)),
    ("fluid_synth_get_active_voice_count", _int, (_pointer,)),
    ("fluid_synth_system_reset", _int, (_pointer,)),
    ("fluid_synth_write_float", _int, (_pointer, _int, _pointer, _int, _int, _pointer, _int, _int)),
    ("new_fluid_player", _pointer, (_pointer,)),
    ("delete_fluid_player", None, (_pointer,)),
    ("fluid_player_add_mem", _int, (_pointer, ctypes.c_void_p, ctypes.c_size_t)),
    ("fluid_player_play", _int, (_pointer,)),
    ("fluid_player_stop", _int, (_pointer,)),
    ("fluid_player_join", _int, (_pointer,)),
    ("fluid_player_get_status", _int, (_pointer,)),
    ("new_fluid_file_renderer", _pointer, (_pointer,)),
    ("delete_fluid_file_renderer", None, (_pointer,)),
    ("fluid_file_renderer_process_block", _int, (_pointer,)),
    ("fluid_set_log_function", _pointer, (_int, _LogFunction, ctypes.c_void_p)),
)


class FluidError(Exception):
    """FluidSynth refused: the message is its own error line, or what was asked of it."""


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """libfluidsynth with every function typed, its errors collected and its chatter silenced; None when
    it is not installed or lacks a function used here."""
    for name in LIBRARY_NAMES:
        path = ctypes.util.find_library(name) if "." not in name else name
        if path is None:
            continue
        try:
            lib = ctypes.CDLL(path)
            for function, result, arguments in _SIGNATURES:
                getattr(lib, function).restype = result
                getattr(lib, function).argtypes = arguments
        except (OSError, AttributeError):
            continue
        for level in LOG_ERRORS:
            lib.fluid_set_log_function(level, _LOG_TO_ERRORS, None)
        for level in LOG_QUIET:
            lib.fluid_set_log_function(level, _LogFunction(), None)
        return lib
    return None


class _ErrorLog:
    """FluidSynth's error lines, logged from any thread; a caller marks where it starts, and takes the
    latest line logged since (an older one belongs to somebody else's render)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest = ""
        self._count = 0

    def add(self, level: int, message: bytes | None, data: object) -> None:
        with self._lock:
            self._latest = (message or b"").decode("utf-8", "replace")
            self._count += 1

    def mark(self) -> int:
        with self._lock:
            return self._count

    def since(self, mark: int) -> str | None:
        with self._lock:
            return self._latest if self._count > mark else None


_ERROR_LOG = _ErrorLog()
_LOG_TO_ERRORS = _LogFunction(_ERROR_LOG.add)  # kept referenced: FluidSynth calls it for the process's life


def _failure(mark: int, what: str) -> FluidError:
    """FluidSynth's own error line when it logged one since `mark`, else what failed."""
    return FluidError(_ERROR_LOG.since(mark) or what)


@dataclass(frozen=True)
class SynthSettings:
    """What `fluidsynth -ni -q -g GAIN -r RATE -o audio.period-size=PERIOD -F FILE -T raw -O float -E little`
    sets, as settings."""

    sample_rate: float
    gain: float

    def values(self) -> dict[str, float | int | str]:
        return {
            "synth.sample-rate": self.sample_rate,
            "synth.gain": self.gain,
            # The program's fast render sets these two itself: time by samples, no page locking.
            "player.timing-source": "sample",
            "synth.lock-memory": 0,
            "audio.period-size": PERIOD_FRAMES,
            "audio.file.type": "raw",
            "audio.file.format": "float",
            "audio.file.endian": "little",
        }


class Synthesiser:
    """One FluidSynth synthesiser with a SoundFont loaded (or, with `lender`, borrowed from another
    synthesiser while this one lives); `close` frees it and gives a borrowed font back."""

    def __init__(
        self,
        lib: ctypes.CDLL,
        soundfont: Path,
        settings: SynthSettings,
        output: Path | None = None,
        lender: Synthesiser | None = None,
    ) -> None:
        self.lib = lib
        self.borrowed = None
        mark = _ERROR_LOG.mark()
        self.settings = lib.new_fluid_settings()
        values = settings.values()
        if output is not None:  # where its fast render writes
            values["audio.file.name"] = str(output)
        for name, value in values.items():
            _set(lib, self.settings, name, value)
        self.synth = lib.new_fluid_synth(self.settings)
        if not self.synth:
            lib.delete_fluid_settings(self.settings)
            raise _failure(mark, "FluidSynth could not create a synthesiser")
        if lender is not None:
            self.borrowed = lib.fluid_synth_get_sfont(lender.synth, 0)
            if not self.borrowed or lib.fluid_synth_add_sfont(self.synth, self.borrowed) < 0:
                self.borrowed = None
                self.close()
                raise _failure(mark, f"FluidSynth could not share {soundfont.name}")
        elif lib.fluid_synth_sfload(self.synth, str(soundfont).encode(), 1) < 0:
            self.close()
            raise _failure(mark, f"FluidSynth could not load {soundfont.name}")

    def close(self) -> None:
        if self.borrowed is not None:  # not the deleted synthesiser's to free: its lender's
            self.lib.fluid_synth_remove_sfont(self.synth, self.borrowed)
        self.lib.delete_fluid_synth(self.synth)
        self.lib.delete_fluid_settings(self.settings)


def _set(lib: ctypes.CDLL, settings: int, name: str, value: float | int | str) -> None:
    if isinstance(value, str):
        done = lib.fluid_settings_setstr(settings, name.encode(), value.encode())
    elif isinstance(value, int):
        done = lib.fluid_settings_setint(settings, name.encode(), value)
    else:
        done = lib.fluid_settings_setnum(settings, name.encode(), value)
    if done != FLUID_OK:
        raise FluidError(f"FluidSynth has no setting {name}={value}")


PROBE_PITCH, PROBE_VELOCITY = 60, 90  # the note a melodic preset's voices are counted on


@dataclass
class LoadedFont:
    """A SoundFont held loaded, so that FluidSynth's sample cache keeps its samples for every synthesiser
    made after; and how many voices a note of each preset starts, asked of it (its holder plays the
    notes, and never renders more than a block to let them go)."""

    path: Path
    settings: SynthSettings
    holder: Synthesiser
    _voices: dict[tuple[int, int, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _lenders: list[Synthesiser] = field(default_factory=list)  # idle ones; the busy ones are rendering
    _all_lenders: list[Synthesiser] = field(default_factory=list)

    def voices(self, channel: int, program: int, pitch: int) -> int:
        """The voices a note of this program starts: a preset may layer several samples (stereo pairs,
        layers). Counted once per preset on a middle note, and once per key on the drum channel, where
        each key is another instrument. MuseScore General's string ensemble starts 6, a flute 1."""
        drum = channel == DRUM_CHANNEL
        key = (DRUM_CHANNEL if drum else 0, program, pitch if drum else PROBE_PITCH)
        with self._lock:
            if key not in self._voices:
                self._voices[key] = self._voices_of(*key)
            return self._voices[key]

    def _voices_of(self, channel: int, program: int, pitch: int) -> int:
        lib, synth = self.holder.lib, self.holder.synth
        lib.fluid_synth_program_change(synth, channel, program)
        before = lib.fluid_synth_get_active_voice_count(synth)
        lib.fluid_synth_noteon(synth, channel, pitch, PROBE_VELOCITY)
        count = lib.fluid_synth_get_active_voice_count(synth) - before
        self._silence()
        return max(1, count)

    def _silence(self) -> None:
        """Every voice off, and one block rendered so that FluidSynth frees them for the next question."""
        lib, synth = self.holder.lib, self.holder.synth
        lib.fluid_synth_system_reset(synth)
        scratch = (ctypes.c_float * SCRATCH_FRAMES)()
        lib.fluid_synth_write_float(synth, SCRATCH_FRAMES, scratch, 0, 1, scratch, 0, 1)

    def render(
        self, midi: bytes, raw_path: Path, give_up: Callable[[], bool], most_frames: int | None = None
    ) -> None:
        """The MIDI file rendered to raw float32 at `raw_path` by a fresh synthesiser, as `fluidsynth -F`
        renders it, and stopped after `most_frames` (the score's length and its ring-out: a file whose
        player never ends, a tempo of microseconds, writes no more). `give_up` is asked now and then;
        when it says so the render stops with FluidError."""
        mark = _ERROR_LOG.mark()
        with self._lender() as lender:
            synth = Synthesiser(self.holder.lib, self.path, self.settings, raw_path, lender)
            try:
                _play(synth, midi, give_up, mark, most_frames)
            finally:
                synth.close()
        # FluidSynth carries on past what it cannot read (a MIDI file, a sample), and only logs it.
        failed = _ERROR_LOG.since(mark)
        if failed is not None:
            raise FluidError(failed)

    @contextlib.contextmanager
    def _lender(self) -> Iterator[Synthesiser]:
        """A synthesiser holding the font that no other render is borrowing from; a new one (its
        presets parsed again, its samples from the cache) when all are lent."""
        with self._lock:
            lender = self._lenders.pop() if self._lenders else None
        if lender is None:
            lender = Synthesiser(self.holder.lib, self.path, self.settings)
            with self._lock:
                self._all_lenders.append(lender)
        try:
            yield lender
        finally:
            with self._lock:
                self._lenders.append(lender)

    def close(self) -> None:
        """Free the font: every render that borrowed it has finished (the caller waits for them)."""
        for lender in self._all_lenders:
            lender.close()
        self._all_lenders.clear()
        self._lenders.clear()
        self.holder.close()


def _play(
    synth: Synthesiser, midi: bytes, give_up: Callable[[], bool], mark: int, most_frames: int | None
) -> None:
    lib = synth.lib
    player = lib.new_fluid_player(synth.synth)
    if not player:
        raise _failure(mark, "FluidSynth could not create a MIDI player")
    renderer = None
    try:
        if (
            lib.fluid_player_add_mem(player, midi, len(midi)) != FLUID_OK
            or lib.fluid_player_play(player) != FLUID_OK
        ):
            raise _failure(mark, "FluidSynth could not play the MIDI file")
        renderer = lib.new_fluid_file_renderer(synth.synth)
        if not renderer:
            raise _failure(mark, "FluidSynth could not open its output file")
        _fast_render(lib, player, renderer, give_up, mark, most_frames)
    finally:
        lib.fluid_player_stop(player)
        lib.fluid_player_join(player)
        if renderer:
            lib.delete_fluid_file_renderer(renderer)
        lib.delete_fluid_player(player)


def _fast_render(
    lib: ctypes.CDLL,
    player: int,
    renderer: int,
    give_up: Callable[[], bool],
    mark: int,
    most_frames: int | None = None,
) -> None:
    """fluidsynth's fast-render loop: a period of audio at a time until the player has played the file,
    or `most_frames` are written."""
    status, process_block = lib.fluid_player_get_status, lib.fluid_file_renderer_process_block
    most_periods = None if most_frames is None else -(-most_frames // PERIOD_FRAMES)
    periods = 0
    while status(player) == FLUID_PLAYER_PLAYING and (most_periods is None or periods < most_periods):
        if process_block(renderer) != FLUID_OK:
            raise _failure(mark, "FluidSynth could not write its output file")
        periods += 1
        if periods % CHECK_EVERY_PERIODS == 0 and give_up():
            raise FluidError("the render was stopped")


class _Loading:
    """A SoundFont being loaded on a thread of its own."""

    def __init__(self, path: Path, settings: SynthSettings) -> None:
        self.font: LoadedFont | None = None  # stays None where the library cannot load it
        self._thread = threading.Thread(target=self._load, args=(path, settings), name="filmscore-soundfont")
        self._thread.start()

    def _load(self, path: Path, settings: SynthSettings) -> None:
        lib = library()
        if lib is None:
            return
        # A font the library cannot load is left to the fluidsynth program, which says why it cannot.
        with contextlib.suppress(FluidError):
            self.font = LoadedFont(path, settings, Synthesiser(lib, path, settings))

    def result(self) -> LoadedFont | None:
        self._thread.join()
        return self.font


_LOADED: dict[tuple[Path, SynthSettings], _Loading] = {}
_LOADED_LOCK = threading.Lock()


def warm(path: Path, settings: SynthSettings) -> None:
    """Start loading a SoundFont in the background, if the library is here and it is not loaded yet. One
    font is kept at a time: loading another lets the last one go."""
    if library() is None:
        return
    key = (path.resolve(), settings)
    with _LOADED_LOCK:
        if key in _LOADED:
            return
        _unload()
        _LOADED[key] = _Loading(key[0], settings)


def unload() -> None:
    """Let the loaded SoundFont go (a benchmark times a cold start after it)."""
    with _LOADED_LOCK:
        _unload()


def _unload() -> None:
    for key in list(_LOADED):
        font = _LOADED.pop(key).result()
        if font is not None:
            font.close()


def loaded(path: Path, settings: SynthSettings) -> LoadedFont | None:
    """The SoundFont loaded in this process (waiting for a load under way), or None where the library
    is missing or could not load it."""
    if library() is None:
        return None
    warm(path, settings)
    with _LOADED_LOCK:
        loading = _LOADED.get((path.resolve(), settings))
    return loading.result() if loading is not None else None
