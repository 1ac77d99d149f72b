"""Audio emotion: arousal (and a little valence) of each shot from the original soundtrack.

The soundtrack's level and pitch are measured once, frame by frame (measure_soundtrack). Where someone
speaks, the voice is read against the film's own speech (analysis/voice.py): raised pitch, wide pitch
movement, loudness and fast speech are the classic vocal signs of high arousal (Scherer, 2003; Juslin and
Laukka, 2003). Where nobody speaks, loudness alone (Hanjalic and Xu's sound-energy component).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from filmscore.analysis.asr import Word
from filmscore.analysis.dialogue import Transcript, flag_runs
from filmscore.analysis.shots import Shot
from filmscore.analysis.voice import REFERENCE_F0_HZ, line_voice, voice_affect, voice_baseline
from filmscore.core.affect import Affect, clip_unit, to_signed
from filmscore.media.audio import Audio

HOP = 256  # 16 ms at 16 kHz
FRAME = 1024  # 64 ms: long enough for a 60 Hz voice in YIN
CHUNK_FRAMES = 1024  # frames measured at once (16 s at 16 kHz): YIN needs about 20 MB for them
QUIET_DBFS, LOUD_DBFS = -50.0, -12.0  # the loudness range mapped onto calm .. excited
LOUDNESS_REACH = 0.6  # loudness alone moves arousal this far at most: silence is quiet, not serene
ENVELOPE_PARTS = 16
ENVELOPE_FLOOR_DB = -90.0  # quieter is silence, whatever the encoder made of it


@dataclass(frozen=True)
class ShotSound:
    """What was measured in one shot's soundtrack."""

    level_dbfs: float  # mean RMS level
    speech_s: float  # seconds of voice activity
    pitch_hz: float | None  # median voiced pitch while speaking
    pitch_spread_st: float | None  # standard deviation of pitch, in semitones
    words_per_s: float | None  # over the shot's voice-active time
    # The level over ENVELOPE_PARTS equal parts of the shot: the shot's sound as a re-cut recognises it
    envelope_db: tuple[float, ...] = ()
    # SHA-256 of the shot's level, frame by frame (16 ms): its sound exactly, as the analysis cache
    # recognises it (the same decoded soundtrack gives the same digest; any other sound another)
    digest: str = ""


@dataclass(frozen=True)
class SoundTrack:
    """Frame-level measures of the whole soundtrack, computed once."""

    rms_db: np.ndarray
    f0_hz: np.ndarray  # NaN where unvoiced
    frame_s: float


def measure_soundtrack(audio: Audio, speech: tuple[tuple[float, float], ...] | None = None) -> SoundTrack:
    """RMS level and YIN pitch every HOP samples of a mono signal, on frames centred on their times
    (zero-padded at the ends). The film is read and measured a chunk at a time: YIN holds a few copies of
    its frames, which for a whole feature would be gigabytes, and each frame depends only on its own
    samples, so chunks give the same values as one pass. With `speech` (the voice-active regions), pitch
    is only measured where someone speaks, the one place it is read (shot_sounds), and is NaN elsewhere:
    YIN is most of the cost, and the soundtrack is what the analysis waits for last."""
    count = 1 + audio.frames // HOP  # frames librosa's centred framing gives
    frame_s = HOP / audio.sample_rate
    spoken = np.ones(count, bool) if speech is None else speech_frames(count, frame_s, speech)
    rms_db, f0 = np.empty(count, np.float32), np.full(count, np.nan, np.float32)
    for first in range(0, count, CHUNK_FRAMES):
        last = min(count, first + CHUNK_FRAMES)
        # Samples of frames first..last-1, counted from the centre of frame `first` less half a frame.
        chunk = _read_padded(audio, first * HOP - FRAME // 2, (last - 1) * HOP + FRAME // 2)
        rms_db[first:last] = _levels_db(chunk)
        for a, b in flag_runs(spoken[first:last]):
            f0[first + a : first + b] = _pitch(chunk[a * HOP : (b - 1) * HOP + FRAME], audio.sample_rate)
    # YIN always answers; keep only frames loud enough to be voiced speech rather than room tone.
    f0 = np.where(rms_db > rms_db.max() - 35, f0, np.nan)
    return SoundTrack(rms_db=rms_db, f0_hz=f0, frame_s=frame_s)


def speech_frames(count: int, frame_s: float, speech: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Which of `count` frames, `frame_s` apart, lie in a voice-active region."""
    times = np.arange(count) * frame_s
    spoken = np.zeros(count, dtype=bool)
    for a, b in speech:
        spoken[np.searchsorted(times, a) : np.searchsorted(times, b)] = True
    return spoken


def _read_padded(audio: Audio, start: int, stop: int) -> np.ndarray:
    """Mono samples start..stop as float32, with zeros where the range runs past either end."""
    inside = audio.read(max(0, start), min(audio.frames, stop))[:, 0].astype(np.float32, copy=False)
    before, after = max(0, -start), max(0, stop - max(start, audio.frames))
    return np.pad(inside, (before, after)) if before or after else inside


def _levels_db(chunk: np.ndarray) -> np.ndarray:
    import librosa

    rms = librosa.feature.rms(y=chunk, frame_length=FRAME, hop_length=HOP, center=False)[0]
    return 20 * np.log10(np.maximum(rms, 1e-6))


def _pitch(chunk: np.ndarray, rate: int) -> np.ndarray:
    import librosa

    return librosa.yin(chunk, fmin=60, fmax=500, sr=rate, frame_length=FRAME, hop_length=HOP, center=False)


def shot_sounds(track: SoundTrack, transcript: Transcript, shots: tuple[Shot, ...]) -> tuple[ShotSound, ...]:
    times = np.arange(len(track.rms_db)) * track.frame_s
    in_speech = speech_frames(len(times), track.frame_s, transcript.speech_regions)
    sounds = []
    spoken = transcript.words_in_spans((shot.start_s, shot.end_s) for shot in shots)
    for shot, shot_words in zip(shots, spoken, strict=True):
        in_shot = slice(np.searchsorted(times, shot.start_s), np.searchsorted(times, shot.end_s))
        level = float(np.mean(track.rms_db[in_shot])) if in_shot.stop > in_shot.start else -120.0
        voiced = track.f0_hz[in_shot][in_speech[in_shot]]
        voiced = voiced[np.isfinite(voiced)]
        speech_s = transcript.speech_s_in(shot.start_s, shot.end_s)
        words = len(shot_words)
        semitones = 12 * np.log2(voiced / REFERENCE_F0_HZ) if len(voiced) >= 10 else None
        sounds.append(
            ShotSound(
                level_dbfs=level,
                speech_s=speech_s,
                pitch_hz=float(np.median(voiced)) if semitones is not None else None,
                pitch_spread_st=float(np.std(semitones)) if semitones is not None else None,
                words_per_s=words / speech_s if speech_s >= 0.5 and words else None,
                envelope_db=level_envelope(track.rms_db[in_shot]),
                digest=hashlib.sha256(np.ascontiguousarray(track.rms_db[in_shot]).tobytes()).hexdigest(),
            )
        )
    return tuple(sounds)


def level_envelope(rms_db: np.ndarray) -> tuple[float, ...]:
    """A shot's level over ENVELOPE_PARTS equal parts, in dB rounded to 0.1: a fingerprint of its sound
    that a re-encode keeps (a codec moves levels by a fraction of a dB) and a trim changes."""
    if len(rms_db) < ENVELOPE_PARTS:
        return ()
    parts = np.array_split(np.maximum(rms_db, ENVELOPE_FLOOR_DB), ENVELOPE_PARTS)
    return tuple(round(float(np.mean(part)), 1) for part in parts)


def _scale(value: float, low: float, high: float) -> float:
    return clip_unit((value - low) / (high - low), 0.0, 1.0)


def loudness_affect(sound: ShotSound) -> Affect:
    """A shot without speech: its loudness alone, Hanjalic and Xu's sound energy, as a third of the evidence
    a line of speech gives (music or effects can be loud in a calm scene, a pause quiet in a tense one)."""
    loudness = to_signed(_scale(sound.level_dbfs, QUIET_DBFS, LOUD_DBFS))
    return Affect(0.0, LOUDNESS_REACH * loudness, 0.3)


def audio_emotion(
    track: SoundTrack, transcript: Transcript, shots: tuple[Shot, ...], has_audio: bool
) -> tuple[tuple[Affect, ...], tuple[ShotSound, ...]]:
    """Rate every shot from the measured soundtrack: a shot with speech by its most aroused or calmest
    line (the part of it inside the shot), read against the film's own speech (analysis/voice.py); one
    without, by its loudness. Returns the ratings and the measures behind them."""
    sounds = shot_sounds(track, transcript, shots)
    if not has_audio:
        return tuple(Affect(0.0, 0.0, 0.0) for _ in shots), sounds
    times = np.arange(len(track.rms_db)) * track.frame_s
    measured = (times, track.rms_db, track.f0_hz)
    baseline = voice_baseline(
        [line_voice(line.words, *measured) for line in transcript.utterances if line.words]
    )
    ratings = []
    for shot, sound in zip(shots, sounds, strict=True):
        parts = [words for words in _lines_in(transcript, shot) if words]
        voices = [voice_affect(line_voice(words, *measured), baseline) for words in parts]
        if voices:
            ratings.append(max(voices, key=lambda a: abs(a.arousal) * a.weight))
        else:
            ratings.append(loudness_affect(sound))
    return tuple(ratings), sounds


def _lines_in(transcript: Transcript, shot: Shot) -> list[tuple[Word, ...]]:
    """The words of each line spoken in the shot (those whose middle falls in it), line by line."""
    return [
        tuple(w for w in line.words if shot.start_s <= (w.start_s + w.end_s) / 2 < shot.end_s)
        for line in transcript.utterances
        if line.end_s > shot.start_s and line.start_s < shot.end_s
    ]
