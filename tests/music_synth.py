"""Music with known properties, made with numpy (no SoundFont, so MER is tested on sounds it was not
calibrated on): a chord progression in a mode, at a tempo and a level, and audio files of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile

RATE = 22050
# I-IV-V-I in major, i-iv-v-i in minor (semitones above the tonic, root first).
PROGRESSIONS = {
    "major": ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7)),
    "minor": ((0, 3, 7), (5, 8, 12), (7, 10, 14), (0, 3, 7)),
}


def tone(pitch: int, seconds: float, level: float, rate: int = RATE) -> np.ndarray:
    """A plucked tone with three harmonics and an exponential decay."""
    t = np.arange(round(seconds * rate)) / rate
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3))
    return (level * wave * np.exp(-3.0 * t)).astype(np.float32)


def progression(
    mode: str, bpm: float, level: float, tonic: int = 0, seconds: float = 16.0, rate: int = RATE
) -> np.ndarray:
    """Four beats to a chord: each beat an arpeggio note over a held bass root, tonic in octave 4."""
    beat = 60.0 / bpm
    out = np.zeros(round(seconds * rate) + 4 * rate, np.float32)  # room for the last notes' decay
    chords = PROGRESSIONS[mode]
    for i in range(int(seconds / beat)):
        chord = chords[(i // 4) % len(chords)]
        at = round(i * beat * rate)
        note = tone(60 + tonic + chord[i % 3], min(beat * 1.5, 1.5), level, rate)
        out[at : at + len(note)] += note
        if i % 4 == 0:
            bass = tone(48 + tonic + chord[0], min(beat * 4, 3.0), level * 0.8, rate)
            out[at : at + len(bass)] += bass
    return out[: round(seconds * rate)]


def write_track(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """A stereo file of the samples: WAV or FLAC by soundfile, MP3 by ffmpeg."""
    stereo = np.stack([samples, samples], axis=1)
    if path.suffix == ".mp3":
        wav = path.with_suffix(".tmp.wav")
        soundfile.write(wav, stereo, rate)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "192k", str(path)], check=True)
        wav.unlink()
    else:
        soundfile.write(path, stereo, rate)
    return path


def make_library(folder: Path) -> Path:
    """A small indexed library: a slow, soft minor track (FLAC) and a fast, loud major one (MP3, in a
    sub-folder), 30 s each, beside a broken file and a text file."""
    from filmscore.music.generators.library import index_library
    from filmscore.music.mer import MER_BACKENDS

    write_track(folder / "slow minor.flac", progression("minor", 62, 0.05, tonic=9, seconds=30))
    (folder / "up").mkdir()
    write_track(folder / "up" / "fast major.mp3", progression("major", 150, 0.35, tonic=7, seconds=30))
    (folder / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (folder / "notes.txt").write_text("not music")
    index_library(folder, MER_BACKENDS.create("features"))
    return folder
