"""Render MIDI to audio with FluidSynth and the best General MIDI SoundFont on the machine.

The search prefers a user's own SoundFont, then Debian's MuseScore General in its lossless .sf2 (what the
set-up installs: far closer to real instruments), then FluidR3_GM, then MuseScore General's compressed
.sf3 (the same samples, but decoding them takes FluidSynth seconds per process), then the small
TimGM6mb that ships inside pretty_midi, so there is always one. See docs/performance.md for their speeds.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filmscore.core.errors import DependencyError, FilmscoreError, InputError, OutputError
from filmscore.core.wording import one_line
from filmscore.media.audio import Audio, AudioFile, AudioWriter, blocks, load
from filmscore.media.probe import MUSIC_SAMPLE_RATE, AudioClip, last_line, require_program
from filmscore.music.symbolic import fluid
from filmscore.music.symbolic.score import RELEASE_S, Note

RENDER_CHANNELS = 2  # FluidSynth renders stereo
SYNTH_GAIN = 0.4  # FluidSynth master gain: headroom for a full orchestra, the mix sets the level later
SOUNDFONT_ENV = "FILMSCORE_SOUNDFONT"
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/MuseScore_General_Full.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
RENDER_TIMEOUT_FACTOR = 2.0  # a render may take this many times the music's length (plus a minute)
# A render writes at most the music's length and this much ring-out, whatever its MIDI file's player
# does: the rest is cut off anyway (AudioFile.fitted), and a runaway file would fill the disk.
RING_OUT_S = 5.0
RAW_FRAME_BYTES = 4 * RENDER_CHANNELS  # float32 stereo
PROGRAM_POLL_S = 0.1  # how often a fluidsynth process's output is measured against that limit
# "program" renders with the fluidsynth program, a process per piece, as before the library was used.
SYNTH_ENV = "FILMSCORE_FLUIDSYNTH"
SYNTH_SETTINGS = fluid.SynthSettings(float(MUSIC_SAMPLE_RATE), SYNTH_GAIN)
_RENDER_CALLS = itertools.count()


# Licences of the SoundFonts filmscore finds by itself (see filmscore/config/manifest.toml). Rendering
# through a SoundFont makes its samples part of the music, so a cue sheet names the licence.
SOUNDFONT_LICENCES = {
    "MuseScore_General_Full.sf2": "MIT (MuseScore General SoundFont, S. Christian Collins)",
    "MuseScore_General_Full.sf3": "MIT (MuseScore General SoundFont, S. Christian Collins)",
    "MuseScore_General.sf3": "MIT (MuseScore General SoundFont, S. Christian Collins)",
    "FluidR3_GM.sf2": "MIT (FluidR3_GM SoundFont)",
    "TimGM6mb.sf2": "GPL-2.0-or-later (TimGM6mb SoundFont)",
}


@dataclass(frozen=True)
class SoundFont:
    path: Path
    origin: str  # "user", "system" or "pretty_midi"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def licence(self) -> str:
        if self.origin != "user" and self.path.name in SOUNDFONT_LICENCES:
            return SOUNDFONT_LICENCES[self.path.name]
        return f"unknown: check the licence of {self.path.name}"


def find_soundfont(user_path: Path | None = None) -> SoundFont:
    """The SoundFont to render with: the user's (checked), else the best one installed."""
    if user_path is not None:
        return SoundFont(check_soundfont(user_path), "user")
    from_env = os.environ.get(SOUNDFONT_ENV)
    if from_env:
        return SoundFont(check_soundfont(Path(from_env)), "user")
    for path in SYSTEM_SOUNDFONTS:
        if path.is_file():
            return SoundFont(path, "system")
    return SoundFont(_pretty_midi_soundfont(), "pretty_midi")


def _pretty_midi_soundfont() -> Path:
    from importlib.util import find_spec

    spec = find_spec("pretty_midi")
    if spec is None or spec.origin is None:
        raise DependencyError(
            "no General MIDI SoundFont found. Install one (Debian/Ubuntu: apt-get install "
            "fluid-soundfont-gm) "
            "or pass --soundfont FILE.sf2."
        )
    return Path(spec.origin).with_name("TimGM6mb.sf2")


def check_soundfont(path: Path) -> Path:
    """A user's SoundFont must be a RIFF 'sfbk' file (.sf2, or the compressed .sf3)."""
    if not path.is_file():
        raise InputError(f"{path}: no such SoundFont. Give the path of a .sf2 or .sf3 file.")
    with path.open("rb") as handle:
        header = handle.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise InputError(f"{path} is not a SoundFont (.sf2/.sf3). Give a General MIDI SoundFont.")
    _check_it_loads(path)
    return path.resolve()


def _check_it_loads(path: Path) -> None:
    """FluidSynth renders one short note with the font. A font it cannot load (truncated, corrupt) it
    skips with only a line on stderr and renders silence, so the report would name a font never heard."""
    import mido

    note = mido.MidiFile()
    note.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=69, velocity=64, time=0),
        mido.Message("note_off", note=69, velocity=0, time=48),
    ]))  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="filmscore-font-") as folder:
        midi = Path(folder) / "note.mid"
        note.save(midi)
        command = [
            require_fluidsynth(), "-ni", "-q", "-o", "synth.dynamic-sample-loading=1",
            "-F", str(Path(folder) / "note.f32"), "-T", "raw", "-O", "float", str(path), str(midi),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    failure = _load_failure(result.stderr)
    if result.returncode != 0 or failure is not None:
        reason = failure or last_line(result.stderr) or f"exit {result.returncode}"
        raise InputError(
            f"{path}: FluidSynth cannot load this SoundFont ({one_line(reason, 120)}). Give a complete "
            ".sf2 or .sf3 file."
        )


def _load_failure(stderr: str) -> str | None:
    """FluidSynth's first error line when it could not load a SoundFont, else None."""
    if "Failed to load" not in stderr:
        return None
    errors = [line.partition("error: ")[2] for line in stderr.splitlines() if "error: " in line]
    return errors[0] if errors else "Failed to load the SoundFont"


def sum_clips(
    clips: Sequence[Audio], workdir: Path | None = None, name: str = "sum"
) -> AudioClip | AudioFile:
    """Signals of one length and rate, added frame by frame, a block at a time."""
    total = AudioWriter(clips[0].frames, clips[0].channels, clips[0].sample_rate, workdir, name)
    for first, last in blocks(clips[0].frames):
        block = clips[0].read(first, last).copy()
        for clip in clips[1:]:
            block += clip.read(first, last)
        total.write(block)
    return total.finish()


def warm(soundfont: SoundFont) -> None:
    """Start loading the SoundFont into this process in the background (see fluid.py), so that it is
    ready when the score is rendered: a run calls this once its picture pass is over."""
    if _library_wanted():
        fluid.warm(soundfont.path, SYNTH_SETTINGS)


def release() -> None:
    """Let the SoundFont loaded in this process go."""
    fluid.unload()


def note_costs(soundfont: SoundFont) -> Callable[[Note, int], float] | None:
    """The synthesiser's work for a note of a program in this SoundFont, in voice-seconds; None where the
    font is not loaded in this process."""
    font = _loaded_font(soundfont)
    if font is None:
        return None

    def voice_seconds(note: Note, program: int) -> float:
        return font.voices(note.channel, program, note.pitch) * (note.end_s - note.start_s + RELEASE_S)

    return voice_seconds


def _library_wanted() -> bool:
    return os.environ.get(SYNTH_ENV, "library") != "program"


def _loaded_font(soundfont: SoundFont) -> fluid.LoadedFont | None:
    """The SoundFont loaded in this process, or None where the fluidsynth program is to render."""
    return fluid.loaded(soundfont.path, SYNTH_SETTINGS) if _library_wanted() else None


def render_separately(
    pieces: Sequence[bytes],
    soundfont: SoundFont,
    duration_s: float | Sequence[float],
    workdir: Path | None = None,
) -> list[AudioClip | AudioFile]:
    """Render the MIDI files all at once, each by a synthesiser of its own; one signal per file, exactly
    `duration_s` long (one length for all, or one each): a raw file in `workdir`, or in memory when there
    is none. The synthesisers run on threads of this process when libfluidsynth is here, else as
    fluidsynth processes; both give the same samples."""
    durations = [duration_s] * len(pieces) if isinstance(duration_s, float | int) else list(duration_s)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="filmscore-render-") as folder:
            return [AudioClip(load(audio), audio.sample_rate)
                    for audio in render_separately(pieces, soundfont, durations, Path(folder))]  # fmt: skip
    lengths = [round(d * MUSIC_SAMPLE_RATE) for d in durations]
    most = [length + round(RING_OUT_S * MUSIC_SAMPLE_RATE) for length in lengths]
    timeout = max(durations, default=0.0) * RENDER_TIMEOUT_FACTOR + 60
    # Named for the process, the thread and the call: a caller may keep one call's renders past the next.
    call = next(_RENDER_CALLS)
    stems = [workdir / f"piece{i}-{os.getpid()}-{threading.get_ident()}-{call}" for i in range(len(pieces))]
    font = _loaded_font(soundfont)
    if font is not None:
        raw_paths = _render_on_threads(font, pieces, stems, timeout, most)
    else:
        raw_paths = _render_by_processes(soundfont, pieces, stems, timeout, most)
    return [
        AudioFile.fitted(path, length, RENDER_CHANNELS, MUSIC_SAMPLE_RATE)
        for path, length in zip(raw_paths, lengths, strict=True)
    ]


def _render_on_threads(
    font: fluid.LoadedFont, pieces: Sequence[bytes], stems: list[Path], timeout: float, most_frames: list[int]
) -> list[Path]:
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    errors: list[str] = []
    raw_paths = [stem.with_suffix(".f32") for stem in stems]

    def give_up() -> bool:
        return stop.is_set() or time.monotonic() > deadline

    def render(midi: bytes, raw_path: Path, most: int) -> None:
        try:
            font.render(midi, raw_path, give_up, most)
        except Exception as error:  # on this thread: the caller raises it as ours, with the others stopped
            errors.append(str(error) or type(error).__name__)
            stop.set()

    threads = [
        threading.Thread(target=render, args=job, name="filmscore-render")
        for job in zip(pieces, raw_paths, most_frames, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C: stop every synthesiser before going
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors and time.monotonic() > deadline:
        raise DependencyError(f"FluidSynth did not finish rendering within {timeout:.0f} s.")
    if errors:
        raise render_failure(raw_paths[0].parent, errors[0])
    return raw_paths


def _render_by_processes(
    soundfont: SoundFont, pieces: Sequence[bytes], stems: list[Path], timeout: float, most_frames: list[int]
) -> list[Path]:
    fluidsynth = require_fluidsynth()
    jobs = [
        _start_render(fluidsynth, soundfont, piece, stem) for piece, stem in zip(pieces, stems, strict=True)
    ]
    deadline = time.monotonic() + timeout
    for (process, raw_path), most in zip(jobs, most_frames, strict=True):
        _finish_render(process, raw_path, deadline, jobs, most * RAW_FRAME_BYTES)
    return [raw_path for _, raw_path in jobs]


def _start_render(
    fluidsynth: str, soundfont: SoundFont, midi: bytes, stem: Path
) -> tuple[subprocess.Popen, Path]:
    midi_path, raw_path = stem.with_suffix(".mid"), stem.with_suffix(".f32")
    midi_path.write_bytes(midi)
    # Raw interleaved float32 rather than WAV: no 4 GB limit, and the mix reads it a block at a time.
    # The whole SoundFont is loaded, as the library does (fluid.py), so both give the same samples: loading
    # only the samples the score plays moved MuseScore General's by up to 6e-5, and took longer (1.15 s
    # against 0.88 s for two processes at once), though it saved FluidR3_GM 0.1 s a process.
    cmd = [
        fluidsynth, "-ni", "-q", "-g", str(SYNTH_GAIN), "-r", str(MUSIC_SAMPLE_RATE),
        "-o", f"audio.period-size={fluid.PERIOD_FRAMES}",
        "-F", str(raw_path), "-T", "raw", "-O", "float", "-E", "little", str(soundfont.path), str(midi_path),
    ]  # fmt: skip
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, raw_path


def _finish_render(
    process: subprocess.Popen,
    wav_path: Path,
    deadline: float,
    jobs: list[tuple[subprocess.Popen, Path]],
    most_bytes: int,
) -> None:
    """Wait for a fluidsynth process, stopping it once it has written `most_bytes` (the program has no
    length limit of its own: see RING_OUT_S)."""
    try:
        stderr, written_enough = _wait_render(process, wav_path, deadline, most_bytes)
    except subprocess.TimeoutExpired:
        _stop_all(jobs)
        raise DependencyError("FluidSynth did not finish rendering in time.") from None
    except BaseException:  # Ctrl-C: leave no synthesiser running
        _stop_all(jobs)
        raise
    if written_enough:
        return
    if process.returncode != 0 or not wav_path.exists() or _load_failure(stderr):
        _stop_all(jobs)
        raise render_failure(wav_path.parent, _load_failure(stderr) or last_line(stderr) or "no output")


def _wait_render(
    process: subprocess.Popen, raw_path: Path, deadline: float, most_bytes: int
) -> tuple[str, bool]:
    """The process's stderr once it ends, and whether it was stopped for having written `most_bytes`."""
    while True:
        try:
            wait = min(PROGRAM_POLL_S, max(0.01, deadline - time.monotonic()))
            _, stderr = process.communicate(timeout=wait)
            return stderr, False
        except subprocess.TimeoutExpired:
            if raw_path.exists() and raw_path.stat().st_size >= most_bytes:
                process.kill()
                process.communicate()
                return "", True
            if time.monotonic() > deadline:
                raise


def render_failure(folder: Path, reason: str) -> FilmscoreError:
    """Ours for a render FluidSynth could not finish: a full disk or a lost work folder is the output's
    trouble (exit 5), anything else FluidSynth's."""
    if not folder.exists() or "No space" in reason:
        return OutputError(f"cannot write a work file in {folder}: {one_line(reason, 120)}")
    return DependencyError(f"FluidSynth failed to render the score ({one_line(reason, 120)}).")


def _stop_all(jobs: list[tuple[subprocess.Popen, Path]]) -> None:
    for process, _ in jobs:
        if process.poll() is None:
            process.kill()
            process.wait()


def require_fluidsynth() -> str:
    return require_program("fluidsynth", package="fluidsynth")
