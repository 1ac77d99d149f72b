"""The music stem and the instrument stems written beside the scored film, as WAV files an editing
system imports, each exactly as it sits in the mix."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from filmscore.config.names import ORIGINAL_STEM, STEMS_FOLDER, cue_file, take_file
from filmscore.core.atomic import OutputSet
from filmscore.core.errors import OutputError
from filmscore.delivery.mix import MixResult, cut_like_the_music
from filmscore.media.audio import Audio, AudioFile, blocks
from filmscore.music.generators import RING_OUT_MIN_S, Music
from filmscore.music.planning import Cue, CuePlan

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
    """A signal times a mono gain curve or a constant, or minus another signal, a block at a time."""

    def __init__(
        self, audio: Audio, scale: Audio | None = None, minus: Audio | None = None, factor: float = 1.0
    ) -> None:
        self.audio, self.scale, self.minus, self.factor = audio, scale, minus, factor
        self.frames, self.channels, self.sample_rate = audio.frames, audio.channels, audio.sample_rate

    def read(self, first: int, last: int) -> np.ndarray:
        block = self.audio.read(first, last) * np.float32(self.factor)
        if self.scale is not None:
            block = block * self.scale.read(first, last)
        if self.minus is not None:
            block = block - self.minus.read(first, last)
        return block


class _Delayed:
    """A signal after `lead` frames of silence."""

    def __init__(self, audio: Audio, lead: int) -> None:
        self.audio, self.lead = audio, max(0, lead)
        self.frames = audio.frames + self.lead
        self.channels, self.sample_rate = audio.channels, audio.sample_rate

    def read(self, first: int, last: int) -> np.ndarray:
        block = np.zeros((max(0, min(last, self.frames) - first), self.channels), np.float32)
        lo = max(first, self.lead)
        if lo < last:
            part = self.audio.read(lo - self.lead, last - self.lead)
            block[lo - first : lo - first + len(part)] = part
        return block


class _Window:
    """Frames first..last of a signal, read as a signal of its own."""

    def __init__(self, audio: Audio, first: int, last: int) -> None:
        self.audio, self.first = audio, first
        self.frames, self.channels, self.sample_rate = max(0, last - first), audio.channels, audio.sample_rate

    def read(self, first: int, last: int) -> np.ndarray:
        return self.audio.read(self.first + first, self.first + min(last, self.frames))


@dataclass(frozen=True)
class CueFile:
    """A cue's own file as the editing timeline plays it: clean music (no ducking, nothing of the cues
    beside it) from `start_s` in the film, `duration_s` long; the timeline plays it from `play_from_s` to
    `play_to_s` (film time; the rest is handle), at `gains` (seconds from the file's start, dB), the
    mix's level under dialogue, linear in dB between keyframes."""

    cue_id: int
    start_s: float
    duration_s: float
    play_from_s: float
    play_to_s: float
    gains: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class TakeFile:
    """Another take of a cue (cues/cue-NN-<take>.wav), clean and at the level of the cue's own file, from
    `start_s` in the film (on a picture frame), `duration_s` long."""

    cue_id: int
    take: str
    start_s: float
    duration_s: float


# A keyframe is dropped where a straight line (in dB) between its neighbours is within this of the
# mix's gain at every picture frame between them: far under what a listener hears, and close enough
# that the cue files at their keyframed gains sum to the music stem within -40 dB.
GAIN_TOLERANCE_DB = 0.05
CUE_FILE_PEAK = 0.98  # a cue file's peak at most (24-bit PCM clips at 1)


def stage_cue_files(
    plan: CuePlan, music: Music, mixed: MixResult, fps: float, report_dir: Path, outputs: OutputSet
) -> tuple[dict[str, Path], tuple[CueFile, ...], tuple[TakeFile, ...]]:
    """cues/cue-NN.wav: each cue clean, at the music's level in the clear, with the mix's gain under
    dialogue as keyframes, and starting on a frame of a timeline at `fps`. A generator that renders cues
    alone gives each cue from its first beat to the end of its ring-out, and the timeline plays all of it
    (the cues overlap where one rings over the next); for others, the cue's stretch of the music with
    RING_OUT_MIN_S more as a handle, and the timeline plays the cue's own span. Placed and keyframed,
    they make the music stem again (but for the speech-band cut, which is not a gain). With --takes, the
    cues' other takes too, at the same level (cues/cue-NN-<take>.wav)."""
    rate = mixed.stem.sample_rate
    film_end = mixed.stem.frames / rate
    sounds = {sound.cue_id: sound for sound in music.cue_sounds}
    placed: list[tuple[Cue, float, Audio, tuple[float, float]]] = []  # the cue, its file's start and sound
    for cue in plan.cues:
        sound = sounds.get(cue.id)
        if sound is None:
            first, last = round(cue.start_s * rate), round(min(film_end, cue.end_s + RING_OUT_MIN_S) * rate)
            placed.append((cue, first / rate, _Window(music.audio, first, last), (cue.start_s, cue.end_s)))
        else:
            plays = (sound.start_s, min(film_end, sound.start_s + sound.audio.frames / rate))
            placed.append((cue, sound.start_s, sound.audio, plays))
    level = _clean_level(mixed.music_scale, [audio for _, _, audio, _ in placed]
                         + [take.audio for take in music.other_takes])  # fmt: skip
    written, files = {}, []
    for cue, sound_start_s, clean, (play_from, play_to) in placed:
        start_s, audio = _on_a_frame(clean, sound_start_s, fps)
        play_from = max(start_s, math.floor(play_from * fps + 1e-6) / fps)
        name = cue_file(cue.id)
        write_wav(outputs.stage(report_dir / name), _Scaled(audio, factor=level))
        written[name] = report_dir / name
        gains = gain_keyframes(mixed.music_scale, level, start_s, play_from, min(play_to, film_end), fps)
        files.append(CueFile(cue.id, start_s, audio.frames / rate, play_from, play_to, gains))
    take_paths, takes = _stage_take_files(music, level, fps, report_dir, outputs)
    return {**written, **take_paths}, tuple(files), takes


def _stage_take_files(
    music: Music, level: float, fps: float, report_dir: Path, outputs: OutputSet
) -> tuple[dict[str, Path], tuple[TakeFile, ...]]:
    """cues/cue-NN-<take>.wav: each cue's other takes (--takes), clean, at `level` (the cue files'),
    starting on a picture frame as the cue files do, so an editor can lay one over the other."""
    written, files = {}, []
    for sound in music.other_takes:
        start_s, audio = _on_a_frame(sound.audio, sound.start_s, fps)
        name = take_file(sound.cue_id, sound.take)
        write_wav(outputs.stage(report_dir / name), _Scaled(audio, factor=level))
        written[name] = report_dir / name
        files.append(TakeFile(sound.cue_id, sound.take, start_s, audio.frames / audio.sample_rate))
    return written, tuple(files)


def _on_a_frame(sound: Audio, sound_start_s: float, fps: float) -> tuple[float, _Delayed]:
    """A sound that starts at `sound_start_s` in a file that starts on the picture frame at or before
    it, with silence before it: a timeline places a clip on a frame, and the music must land on its
    sample. (The file's start, and the file.)"""
    rate = sound.sample_rate
    start_s = math.floor(sound_start_s * fps + 1e-6) / fps
    return start_s, _Delayed(sound, round(sound_start_s * rate) - round(start_s * rate))


def _clean_level(scale: Audio, sounds: list[Audio]) -> float:
    """The cue files' gain: the mix's music gain in the clear (its highest), or less where a file would
    clip at it (the mix's limiter held those peaks down; the keyframes then rise above 0 dB)."""
    clear = max((float(scale.read(a, b).max(initial=0.0)) for a, b in blocks(scale.frames)), default=1.0)
    peak = max((float(np.abs(s.read(a, b)).max(initial=0.0)) for s in sounds for a, b in blocks(s.frames)),
               default=0.0)  # fmt: skip
    return min(clear, CUE_FILE_PEAK / peak) if peak > 0 else clear


def gain_keyframes(
    scale: Audio, level: float, file_start_s: float, from_s: float, to_s: float, fps: float
) -> tuple[tuple[float, float], ...]:
    """The mix's gain over a cue file's played span, against the file's `level`, as keyframes (seconds
    from the file's start, dB): read at every picture frame, then thinned to GAIN_TOLERANCE_DB."""
    rate = scale.sample_rate
    times = np.arange(math.floor(from_s * fps), math.ceil(to_s * fps) + 1) / fps
    times = np.clip(times, from_s, to_s)
    indices = np.minimum(np.round(times * rate).astype(np.int64), scale.frames - 1)
    gains = np.empty(len(indices))
    lowest = int(indices.min())
    for first, last in blocks(int(indices.max()) + 1 - lowest):  # the cue's stretch of the curve only
        inside = (indices >= lowest + first) & (indices < lowest + last)
        block = scale.read(lowest + first, lowest + last).reshape(-1)
        gains[inside] = block[indices[inside] - lowest - first]
    decibels = 20 * np.log10(np.maximum(gains / level, 1e-6))
    kept = thinned(times, decibels, GAIN_TOLERANCE_DB)
    return tuple((round(float(times[k]) - file_start_s, 6), round(float(decibels[k]), 3)) for k in kept)


def thinned(times: np.ndarray, values: np.ndarray, tolerance: float) -> list[int]:
    """The indices of the points to keep so that straight lines between them pass within `tolerance` of
    every point (Ramer-Douglas-Peucker, by value), the first and last always."""
    if len(times) <= 2:
        return list(range(len(times)))
    keep = {0, len(times) - 1}
    spans = [(0, len(times) - 1)]
    while spans:
        a, b = spans.pop()
        if b - a < 2:
            continue
        inner = np.arange(a + 1, b)
        line = values[a] + (values[b] - values[a]) * (times[inner] - times[a]) / (times[b] - times[a])
        errors = np.abs(values[inner] - line)
        worst = int(np.argmax(errors))
        if errors[worst] > tolerance:
            split = int(inner[worst])
            keep.add(split)
            spans += [(a, split), (split, b)]
    return sorted(keep)


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
