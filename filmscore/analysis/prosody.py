"""Audio emotion: arousal (and a little valence) of each shot from the original soundtrack.

Loudness drives arousal (Hanjalic and Xu's sound-energy component). Where someone speaks, prosody adds to
it: raised pitch, wide pitch movement and fast speech are the classic vocal signs of high arousal
(Scherer, 2003; Juslin and Laukka, 2003). Sad speech is low, slow and flat; happy speech is higher and
livelier, which is the small valence cue taken here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filmscore.analysis.dialogue import Transcript, flag_runs
from filmscore.analysis.shots import Shot
from filmscore.core.affect import Affect, clip_unit, to_signed
from filmscore.media.audio import Audio

HOP = 256  # 16 ms at 16 kHz
FRAME = 1024  # 64 ms: long enough for a 60 Hz voice in YIN
CHUNK_FRAMES = 1024  # frames measured at once (16 s at 16 kHz): YIN needs about 20 MB for them
QUIET_DBFS, LOUD_DBFS = -50.0, -12.0  # the loudness range mapped onto calm .. excited
REFERENCE_F0_HZ = 160.0  # between typical male and female speaking pitch
CALM_PITCH_SPREAD_ST, LIVELY_PITCH_SPREAD_ST = 1.5, 5.0  # semitones of pitch movement
SLOW_WORDS_PER_S, FAST_WORDS_PER_S = 1.8, 3.8


@dataclass(frozen=True)
class ShotSound:
    """What was measured in one shot's soundtrack."""

    level_dbfs: float  # mean RMS level
    speech_s: float  # seconds of voice activity
    pitch_hz: float | None  # median voiced pitch while speaking
    pitch_spread_st: float | None  # standard deviation of pitch, in semitones
    words_per_s: float | None  # over the shot's voice-active time


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
            )
        )
    return tuple(sounds)


def _scale(value: float, low: float, high: float) -> float:
    return clip_unit((value - low) / (high - low), 0.0, 1.0)


def sound_affect(sound: ShotSound, has_audio: bool) -> Affect:
    """Map one shot's sound measures onto valence and arousal."""
    if not has_audio:
        return Affect(0.0, 0.0, 0.0)
    loudness = _scale(sound.level_dbfs, QUIET_DBFS, LOUD_DBFS)
    cues = [(loudness, 1.0)]
    valence_cues = []
    if sound.pitch_hz is not None and sound.pitch_spread_st is not None:
        pitch_level = _scale(12 * np.log2(sound.pitch_hz / REFERENCE_F0_HZ), -12.0, 12.0)
        spread = _scale(sound.pitch_spread_st, CALM_PITCH_SPREAD_ST, LIVELY_PITCH_SPREAD_ST)
        cues += [(pitch_level, 0.8), (spread, 0.8)]
        valence_cues += [pitch_level, spread]
    if sound.words_per_s is not None:
        rate = _scale(sound.words_per_s, SLOW_WORDS_PER_S, FAST_WORDS_PER_S)
        cues.append((rate, 0.6))
        valence_cues.append(rate)
    arousal_unit = sum(v * w for v, w in cues) / sum(w for _, w in cues)
    valence = 0.5 * to_signed(float(np.mean(valence_cues))) if valence_cues else 0.0
    return Affect(valence=clip_unit(valence), arousal=to_signed(arousal_unit), weight=1.0)


def audio_emotion(
    track: SoundTrack, transcript: Transcript, shots: tuple[Shot, ...], has_audio: bool
) -> tuple[tuple[Affect, ...], tuple[ShotSound, ...]]:
    """Rate every shot from the measured soundtrack. Returns the ratings and the measures behind them."""
    sounds = shot_sounds(track, transcript, shots)
    return tuple(sound_affect(s, has_audio) for s in sounds), sounds
