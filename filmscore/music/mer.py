"""Music emotion recognition (MER): the valence and arousal a piece of music expresses, from
interpretable audio features, so the music filmscore makes (or picks) can be checked against what each
shot needs.

The features are the ones music psychology ties to perceived emotion (Gabrielsson and Lindstrom, 2010;
Eerola and Vuoskoski, 2013), measured with librosa:
- arousal rises with tempo, onset density, loudness, brightness (spectral centroid) and a clear pulse;
- valence rises with major mode (chroma against the Krumhansl-Kessler key profiles), and a little with
  tempo and brightness.
The weights that combine them are fitted (ridge regression on standardised features) on a rendered set
of Bach chorales with known mode, tempo and dynamics: see models/mer/calibrate.py, which writes
filmscore/music/data/mer.json with the weights, the held-out accuracy and the tolerance the cue check uses.
"""

from __future__ import annotations

import json
import math
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import numpy as np

from filmscore.config import backends
from filmscore.core.affect import clip_unit
from filmscore.core.errors import InputError
from filmscore.core.registry import Registry
from filmscore.music.planning import NEUTRAL_TEMPO_BPM  # the tempo feature is log2(tempo / this)

MER_RATE = 22050  # librosa's customary rate: enough for the features, a quarter of the work of 48 kHz
HOP = 512  # 23 ms frames
N_FFT = 2048
HPSS_FRAME_STEP = 4  # harmonic/percussive separation on every fourth frame
HPSS_KERNEL = 31  # librosa's median lengths: frames for the harmonic part, bins for the percussive
MEDIAN_BLOCK = 2**21  # window values sorted at once by _running_median (8 MB of float32)
SILENCE_DBFS = -60.0  # quieter than this on average is no music to judge
MIN_SECONDS = 1.0  # shorter segments have no tempo or key worth measuring
CONFIDENT_SECONDS = 8.0  # two bars at a slow tempo: enough for a tempo and a key

# Krumhansl and Kessler's (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class MusicFeatures:
    """What was measured in one stretch of music."""

    duration_s: float
    tempo_bpm: float  # librosa's beat tracker; may be off by an octave on slow, smooth music
    beat_strength: float  # pulse clarity: the onset envelope's autocorrelation at the beat, 0 .. 1
    onset_rate: float  # note onsets per second
    rms_dbfs: float  # mean level
    dynamics_db: float  # spread (standard deviation) of the frame levels above silence
    centroid_hz: float  # mean spectral centroid: brightness
    rolloff_hz: float  # mean 85% spectral roll-off
    contrast_db: float  # mean spectral contrast (peaks against valleys, all bands)
    mfcc_mean: tuple[float, ...]  # 13 MFCCs, averaged
    mfcc_std: tuple[float, ...]  # and their spread over time
    tonic: int  # pitch class of the best-fitting key
    mode: str  # "major" or "minor"
    mode_strength: float  # best major key correlation minus best minor: > 0 sounds major
    key_clarity: float  # correlation of the best key: near 1 is clearly tonal, near 0 atonal
    harmonic_ratio_db: float  # harmonic against percussive energy (HPSS)

    def predictors(self) -> dict[str, float]:
        """The scalar inputs of the calibrated mapping (see mer.json)."""
        return {
            "log2_tempo": math.log2(max(self.tempo_bpm, 1.0) / NEUTRAL_TEMPO_BPM),
            "beat_strength": self.beat_strength,
            "onset_rate": self.onset_rate,
            "rms_dbfs": self.rms_dbfs,
            "dynamics_db": self.dynamics_db,
            "log2_centroid": math.log2(max(self.centroid_hz, 1.0)),
            "contrast_db": self.contrast_db,
            "mode_strength": self.mode_strength,
            "major": 1.0 if self.mode == "major" else -1.0,
            "key_clarity": self.key_clarity,
            "harmonic_ratio_db": self.harmonic_ratio_db,
        }


@dataclass(frozen=True)
class MusicEmotion:
    valence: float  # -1 .. 1
    arousal: float  # -1 .. 1
    confidence: float  # 0 .. 1: short, silent or atonal music gets less
    features: MusicFeatures


class MerBackend(ABC):
    """Estimates the emotion of a stretch of music. A trained neural model can register beside it."""

    name: str = ""

    @abstractmethod
    def estimate(self, samples: np.ndarray, sample_rate: int) -> MusicEmotion:
        """`samples`: mono or (frames, channels) float audio at `sample_rate`."""


# The registry's entries are data, in config/backends.py; here it is typed with its base class.
MER_BACKENDS = cast("Registry[MerBackend]", backends.MER)


@dataclass(frozen=True)
class Calibration:
    """The fitted mapping from features to valence and arousal, as stored in mer.json."""

    mean: dict[str, float]  # of each predictor over the calibration set
    scale: dict[str, float]  # its standard deviation
    valence: dict[str, float]  # weight per standardised predictor, and "bias"
    arousal: dict[str, float]
    tolerance: float  # the largest distance on the valence/arousal plane a cue may miss by
    held_out: dict[str, float]  # accuracy on the chorales left out of the fit

    def predict(self, predictors: dict[str, float], axis: dict[str, float]) -> float:
        total = axis["bias"]
        for name, weight in axis.items():
            if name != "bias":
                total += weight * (predictors[name] - self.mean[name]) / self.scale[name]
        return clip_unit(total)


@cache
def calibration() -> Calibration:
    text = resources.files("filmscore.music").joinpath("data/mer.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return Calibration(
        data["mean"], data["scale"], data["valence"], data["arousal"], data["tolerance"], data["held_out"]
    )


class FeatureMer(MerBackend):
    name = "features"

    def estimate(self, samples: np.ndarray, sample_rate: int) -> MusicEmotion:
        features = measure_features(samples, sample_rate)
        return emotion_of(features)


def emotion_of(features: MusicFeatures) -> MusicEmotion:
    """Valence and arousal from measured features, with the calibrated weights."""
    if features.rms_dbfs < SILENCE_DBFS or features.duration_s < MIN_SECONDS:
        return MusicEmotion(0.0, -1.0, 0.0, features)  # silence: no valence to speak of, no energy
    model = calibration()
    predictors = features.predictors()
    valence = model.predict(predictors, model.valence)
    arousal = model.predict(predictors, model.arousal)
    # Why trust it: a tempo and a key need a few bars, and a mode means little in atonal sound.
    length = min(1.0, features.duration_s / CONFIDENT_SECONDS)
    tonality = clip_unit(features.key_clarity / 0.8, 0.0, 1.0)
    return MusicEmotion(valence, arousal, round(length * (0.4 + 0.6 * tonality), 3), features)


def measure_features(samples: np.ndarray, sample_rate: int) -> MusicFeatures:
    """Every feature of one stretch of music, resampled to MER_RATE mono first."""
    import librosa

    mono = _mono(samples, sample_rate)
    y = librosa.resample(mono, orig_sr=sample_rate, target_sr=MER_RATE) if sample_rate != MER_RATE else mono
    duration, level = len(y) / MER_RATE, _mean_level_db(y)
    if level < SILENCE_DBFS or duration < MIN_SECONDS:
        return _nothing_heard(duration, level)
    magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    # HPSS is MER's dearest step; every fourth frame (93 ms apart) is plenty for a mean chroma and an
    # energy ratio, at a quarter of the work.
    harmonic, percussive = hpss(magnitude[:, ::HPSS_FRAME_STEP])
    levels = librosa.amplitude_to_db(librosa.feature.rms(S=magnitude, frame_length=N_FFT)[0], ref=1.0)
    tempo, beat_strength, onset_rate = _rhythm(y, duration)
    # Constant-Q chroma resolves the bass an STFT smears: on the composer's cues in every style it heard
    # the planned mode in 99% of them, the harmonic part's STFT chroma in 83% (docs/listening.md).
    with warnings.catch_warnings():  # a short cue's lowest octaves, decimated, are short: librosa says so
        warnings.simplefilter("ignore", UserWarning)
        chroma = librosa.feature.chroma_cqt(y=y, sr=MER_RATE, hop_length=HOP * HPSS_FRAME_STEP)
    tonic, mode, mode_strength, clarity = _key(chroma)
    mfcc = librosa.feature.mfcc(
        S=librosa.power_to_db(librosa.feature.melspectrogram(S=magnitude**2)), n_mfcc=13
    )
    audible = levels[levels > SILENCE_DBFS]
    return MusicFeatures(
        duration_s=duration,
        tempo_bpm=tempo,
        beat_strength=beat_strength,
        onset_rate=onset_rate,
        rms_dbfs=level,
        dynamics_db=float(np.std(audible)) if len(audible) > 1 else 0.0,
        centroid_hz=float(np.mean(librosa.feature.spectral_centroid(S=magnitude, sr=MER_RATE))),
        rolloff_hz=float(np.mean(librosa.feature.spectral_rolloff(S=magnitude, sr=MER_RATE))),
        contrast_db=float(np.mean(librosa.feature.spectral_contrast(S=magnitude, sr=MER_RATE))),
        mfcc_mean=tuple(round(float(v), 3) for v in mfcc.mean(axis=1)),
        mfcc_std=tuple(round(float(v), 3) for v in mfcc.std(axis=1)),
        tonic=tonic,
        mode=mode,
        mode_strength=mode_strength,
        key_clarity=clarity,
        harmonic_ratio_db=float(
            10 * np.log10((np.sum(harmonic**2) + 1e-12) / (np.sum(percussive**2) + 1e-12))
        ),
    )


def hpss(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """librosa.decompose.hpss(magnitude) with its defaults (median lengths 31, power 2, margin 1), to the
    bit, with its two median filters taken by numpy: scipy.ndimage's rank filter, which librosa uses,
    took two thirds of MER's time and this takes a sixth of that (see _running_median)."""
    import librosa

    harmonic = _running_median(magnitude, axis=1)
    percussive = _running_median(magnitude, axis=0)
    harmonic_mask = librosa.util.softmask(harmonic, percussive, power=2.0, split_zeros=True)
    percussive_mask = librosa.util.softmask(percussive, harmonic, power=2.0, split_zeros=True)
    return magnitude * harmonic_mask, magnitude * percussive_mask


def _running_median(values: np.ndarray, axis: int) -> np.ndarray:
    """scipy.ndimage.median_filter of a 2-D array over HPSS_KERNEL values along `axis` (mode "reflect"),
    exactly: the middle of each window by np.partition, over a sliding view of the array padded the same
    way (numpy's "symmetric" is ndimage's "reflect"), a block of rows at a time to bound the copies. On an
    axis of two values ndimage itself reads memory outside the array (scipy 1.17: its result changes with
    whatever lies beside it), so there this is the filter as ndimage defines it, which ndimage is not."""
    rows = np.moveaxis(values, axis, -1)
    half = HPSS_KERNEL // 2
    padded = np.pad(rows, ((0, 0), (half, half)), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, HPSS_KERNEL, axis=-1)
    medians = np.empty(rows.shape, dtype=values.dtype)
    step = max(1, MEDIAN_BLOCK // (rows.shape[1] * HPSS_KERNEL))
    for first in range(0, len(rows), step):
        medians[first : first + step] = np.partition(windows[first : first + step], half, axis=-1)[..., half]
    return np.moveaxis(medians, -1, axis)


def _nothing_heard(duration_s: float, level_dbfs: float) -> MusicFeatures:
    """The features of silence or of a blip too short to measure: no pulse, no key."""
    return MusicFeatures(
        duration_s=duration_s, tempo_bpm=NEUTRAL_TEMPO_BPM, beat_strength=0.0, onset_rate=0.0,
        rms_dbfs=level_dbfs, dynamics_db=0.0, centroid_hz=0.0, rolloff_hz=0.0, contrast_db=0.0,
        mfcc_mean=(0.0,) * 13, mfcc_std=(0.0,) * 13, tonic=0, mode="major", mode_strength=0.0,
        key_clarity=0.0, harmonic_ratio_db=0.0,
    )  # fmt: skip


def _mono(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate <= 0:
        raise InputError(f"a sample rate must be positive, not {sample_rate}.")
    if samples.ndim not in (1, 2) or (samples.ndim == 2 and samples.shape[1] == 0):
        raise InputError("music to analyse must be mono or (frames, channels) audio.")
    mono = _channel_mean(samples) if samples.ndim == 2 else samples
    return np.nan_to_num(mono.astype(np.float32, copy=False))


def _channel_mean(samples: np.ndarray) -> np.ndarray:
    """samples.mean(axis=1), to the bit, channel by channel: numpy's mean along a short last axis is
    about 20x slower."""
    total = samples[:, 0].copy()
    for channel in range(1, samples.shape[1]):
        total += samples[:, channel]
    return total / samples.shape[1]


def _mean_level_db(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(y, dtype=np.float64)) + 1e-12))


def _rhythm(y: np.ndarray, duration_s: float) -> tuple[float, float, float]:
    """Tempo, pulse clarity and onset rate from one onset-strength envelope. The tempo is librosa's
    estimate (the one its beat tracker starts from), without the tracker itself: its numba start-up costs
    each process seconds, and the check needs no beat positions."""
    import librosa

    envelope = librosa.onset.onset_strength(y=y, sr=MER_RATE, hop_length=HOP)
    if duration_s < MIN_SECONDS or not np.any(envelope > 0):
        return NEUTRAL_TEMPO_BPM, 0.0, 0.0
    tempo = float(librosa.feature.tempo(onset_envelope=envelope, sr=MER_RATE, hop_length=HOP)[0])
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=MER_RATE, hop_length=HOP)
    return tempo, _pulse_clarity(envelope, tempo), len(onsets) / duration_s


def _pulse_clarity(envelope: np.ndarray, tempo_bpm: float) -> float:
    """How strongly the onsets repeat at the beat period: the envelope's normalised autocorrelation at
    that lag (Lartillot et al., 2008), 0 (no pulse) .. 1."""
    import librosa

    centred = envelope - envelope.mean()
    correlation = librosa.autocorrelate(centred)
    if correlation[0] <= 0:
        return 0.0
    lag = round(60.0 / tempo_bpm * MER_RATE / HOP)
    if lag + 2 > len(correlation):
        return 0.0
    return float(np.clip(correlation[max(1, lag - 1) : lag + 2].max() / correlation[0], 0.0, 1.0))


def _key(chroma: np.ndarray) -> tuple[int, str, float, float]:
    """(tonic, mode, mode strength, key clarity): the mean chroma against the 24 key profiles."""
    profile = chroma.mean(axis=1)
    if not np.any(profile > 0) or np.ptp(profile) == 0:
        return 0, "major", 0.0, 0.0
    major = np.array([np.corrcoef(profile, np.roll(MAJOR_PROFILE, k))[0, 1] for k in range(12)])
    minor = np.array([np.corrcoef(profile, np.roll(MINOR_PROFILE, k))[0, 1] for k in range(12)])
    best_major, best_minor = float(major.max()), float(minor.max())
    if best_major >= best_minor:
        return int(major.argmax()), "major", best_major - best_minor, best_major
    return int(minor.argmax()), "minor", best_major - best_minor, best_minor
