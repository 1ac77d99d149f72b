"""The music stem and the instrument stems written beside the scored film, as WAV files an editing
system imports, each exactly as it sits in the mix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile

from filmscore.config.names import ORIGINAL_STEM, STEMS_FOLDER, cue_file
from filmscore.core.atomic import OutputSet
from filmscore.core.errors import OutputError
from filmscore.delivery.mix import MixResult, cut_like_the_music
from filmscore.media.audio import Audio, AudioFile, blocks
from filmscore.music.generators import Music
from filmscore.music.planning import CuePlan

WAV_LIMIT_BYTES = 2**32 - 1024  # a RIFF WAV's sizes are 32-bit; longer stems are written as RF64


def write_wav(target: Path, audio: Audio, subtype: str = "PCM_24") -> None:
    """48 kHz WAV (24-bit PCM by default: what an editing system imports without asking), written a block
    at a time; RF64 past WAV's 4 GiB limit. libsndfile reports a full disk as its own error, so both kinds
    become an output error here."""
    size = audio.frames * audio.channels * (3 if subtype == "PCM_24" else 4)
    container = "WAV" if size < WAV_LIMIT_BYTES else "RF64"
    try:
        # The path as bytes: soundfile encodes a str strictly, and fails on a name that is not UTF-8.
        with soundfile.SoundFile(
            os.fsencode(target), "w", audio.sample_rate, audio.channels, subtype=subtype, format=container
        ) as wav:
            for first, last in blocks(audio.frames):
                wav.write(audio.read(first, last))
    except (OSError, soundfile.SoundFileError) as exc:
        raise OutputError(
            f"cannot write {target.name} in {target.parent}: {exc}. Check free space."
        ) from None


class _Scaled:
    """A signal times a mono gain curve, or minus another signal, a block at a time (for the stems)."""

    def __init__(self, audio: Audio, scale: Audio | None = None, minus: Audio | None = None) -> None:
        self.audio, self.scale, self.minus = audio, scale, minus
        self.frames, self.channels, self.sample_rate = audio.frames, audio.channels, audio.sample_rate

    def read(self, first: int, last: int) -> np.ndarray:
        block = self.audio.read(first, last)
        if self.scale is not None:
            block = block * self.scale.read(first, last)
        if self.minus is not None:
            block = block - self.minus.read(first, last)
        return block


class _Window:
    """Frames first..last of a signal, read as a signal of its own."""

    def __init__(self, audio: Audio, first: int, last: int) -> None:
        self.audio, self.first = audio, first
        self.frames, self.channels, self.sample_rate = max(0, last - first), audio.channels, audio.sample_rate

    def read(self, first: int, last: int) -> np.ndarray:
        return self.audio.read(self.first + first, self.first + min(last, self.frames))


def stage_cue_files(plan: CuePlan, mixed: MixResult, report_dir: Path, outputs: OutputSet) -> dict[str, Path]:
    """cues/cue-NN.wav: each cue's stretch of the music as mixed (the music stem), for the editing
    timeline's music track; placed at their cue's time, they make the music stem again."""
    written = {}
    rate = mixed.stem.sample_rate
    for cue in plan.cues:
        name = cue_file(cue.id)
        first, last = round(cue.start_s * rate), min(mixed.stem.frames, round(cue.end_s * rate))
        write_wav(outputs.stage(report_dir / name), _Window(mixed.stem, first, last))
        written[name] = report_dir / name
    return written


def stage_stems(
    music: Music, mixed: MixResult, report_dir: Path, outputs: OutputSet, has_audio: bool, work: Path
) -> dict[str, Path]:
    """stems/<group>.wav for each instrument group and stems/original.wav, each exactly as it sits in the
    mix (the music's speech-band cut, level, ducking, loudness gain and limiter applied), sample-aligned
    with the film's start: together they sum to the scored track before encoding."""
    written = {}
    for name, clip in music.stems.items():
        target = report_dir / STEMS_FOLDER / f"{name}.wav"
        part = cut_like_the_music(clip, mixed, work, f"stem-{name}")
        write_wav(outputs.stage(target), _Scaled(part, scale=mixed.music_scale))
        if part is not clip and isinstance(part, AudioFile):
            part.path.unlink()  # written: its disk space goes back before the next stem
        written[f"{STEMS_FOLDER}/{name}.wav"] = target
    if has_audio:
        target = report_dir / STEMS_FOLDER / ORIGINAL_STEM
        write_wav(outputs.stage(target), _Scaled(mixed.mix, minus=mixed.stem))
        written[f"{STEMS_FOLDER}/{ORIGINAL_STEM}"] = target
    return written
