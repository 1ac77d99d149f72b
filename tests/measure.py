"""Measurements the scoring tests make on rendered audio and written films, independent of our own plan."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.analysis.shots import Shot

# The energy a listener hears (energy_of): each stretch is brought to NORMALISED_LUFS first, so loudness,
# which the mix sets, does not decide it.
NORMALISED_LUFS = -23.0
ONSET_DELTA = 1.0  # librosa onset-strength units over the local mean, on the normalised signal
ANALYSIS_RATE = 22050
# A tempo is heard only where there is a beat to hear: fewer onsets a second than this is a still cue (its
# tempo reads as 0), where librosa's estimate would only echo the autocorrelation of a smooth envelope.
MIN_BEAT_ONSETS = 1.0
LOW_HZ = 200.0  # the low-frequency pulse is the flux below this
SPEECH_BAND_HZ = (1000.0, 4000.0)  # where a voice's words are, and the mix cuts the music under them
LINE_S, BETWEEN_LINES_S = 2.0, 0.8  # dialogue_lines: lines back to back through a film
ENERGY_FEATURES = ("onsets", "percussive", "flux", "centroid", "tempo", "low_pulse", "band_flux")

# Krumhansl-Kessler key profiles (probe-tone ratings), C major and C minor.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def emotions(spec: list[tuple[float, float, float]], fps: float = 25.0) -> tuple[ShotEmotion, ...]:
    """Shots of (duration_s, valence, arousal), one after another from 0."""
    shots, start = [], 0.0
    for i, (duration, valence, arousal) in enumerate(spec):
        shot = Shot(i, round(start * fps), round((start + duration) * fps), start, start + duration)
        shots.append(ShotEmotion(shot, valence, arousal, 0.8, label_for(valence, arousal), {}))
        start += duration
    return tuple(shots)


def flat_timeline(shots: tuple[ShotEmotion, ...], step_s: float = 0.5) -> tuple[TimelinePoint, ...]:
    end = shots[-1].end_s
    points = []
    for t in np.arange(0.0, end, step_s):
        shot = next(s for s in shots if s.start_s <= t < s.end_s)
        points.append(TimelinePoint(float(t), shot.valence, shot.arousal))
    return tuple(points)


def estimate_key(samples: np.ndarray, rate: int) -> tuple[int, str, float]:
    """(tonic pitch class, mode, correlation) of the best-matching of the 24 keys, from CQT chroma."""
    import librosa

    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    mono = librosa.resample(mono.astype(np.float32), orig_sr=rate, target_sr=22050)
    chroma = librosa.feature.chroma_cqt(y=mono, sr=22050).mean(axis=1)
    candidates = [
        (float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]), tonic, mode)
        for tonic in range(12)
        for profile, mode in ((MAJOR_PROFILE, "major"), (MINOR_PROFILE, "minor"))
    ]
    score, tonic, mode = max(candidates)
    return tonic, mode, score


def onset_strength(samples: np.ndarray, rate: int) -> float:
    """Mean spectral-flux onset strength (librosa): how much rhythmic activity there is."""
    import librosa

    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return float(librosa.onset.onset_strength(y=mono.astype(np.float32), sr=rate).mean())


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12))


@dataclass(frozen=True)
class Energy:
    """What a listener's sense of a stretch of music's energy follows, read at NORMALISED_LUFS."""

    mood: str
    dialogue: bool
    onsets: float  # onsets per second (librosa, at ONSET_DELTA on the normalised signal)
    percussive: float  # the percussive share of the spectral energy (HPSS), 0 .. 1
    flux: float  # mean spectral flux (librosa onset strength)
    centroid: float  # spectral centroid, Hz (weighted by magnitude over the whole stretch)
    tempo: float  # bpm heard (librosa, flat prior 30 .. 240); 0 where there is no beat to hear
    low_pulse: float  # spectral flux below LOW_HZ
    band_flux: float  # spectral flux in the speech band the mix carves


def dialogue_lines(duration_s: float) -> tuple[tuple[float, float], ...]:
    """Lines of LINE_S with BETWEEN_LINES_S between them, through a film `duration_s` long."""
    lines, t = [], 0.6
    while t + LINE_S < duration_s:
        lines.append((t, t + LINE_S))
        t += LINE_S + BETWEEN_LINES_S
    return tuple(lines)


def energy_of(part: np.ndarray, rate: int, mood: str = "", dialogue: bool = False) -> Energy:
    """The energy features of a stretch of (stereo) music."""
    import librosa
    import pyloudnorm
    import scipy.stats

    mono = part.mean(axis=1).astype(np.float64)
    loudness = pyloudnorm.Meter(rate).integrated_loudness(mono)
    mono = mono * 10 ** ((NORMALISED_LUFS - loudness) / 20)
    y = librosa.resample(mono.astype(np.float32), orig_sr=rate, target_sr=ANALYSIS_RATE)
    sr = ANALYSIS_RATE
    spectrum = np.abs(librosa.stft(y))
    power = spectrum**2
    flux = librosa.onset.onset_strength(S=librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr)))
    onsets = librosa.onset.onset_detect(onset_envelope=flux, sr=sr, normalize=False, delta=ONSET_DELTA)
    onset_rate = len(onsets) / (len(y) / sr)
    harmonic, percussive = librosa.decompose.hpss(spectrum)
    share = float((percussive**2).sum() / ((harmonic**2).sum() + (percussive**2).sum()))
    centroid = librosa.feature.spectral_centroid(S=spectrum, sr=sr)[0]
    flat = scipy.stats.uniform(30, 210)
    beat = onset_rate >= MIN_BEAT_ONSETS
    tempo = float(librosa.feature.tempo(onset_envelope=flux, sr=sr, prior=flat)[0]) if beat else 0.0

    def band_flux(low: float, high: float) -> float:
        mel = librosa.feature.melspectrogram(S=power, sr=sr, fmin=low, fmax=high, n_mels=16)
        return float(librosa.onset.onset_strength(S=librosa.power_to_db(mel)).mean())

    return Energy(
        mood,
        dialogue,
        onset_rate,
        share,
        float(flux.mean()),
        float(np.sum(centroid * spectrum.sum(axis=0)) / spectrum.sum()),
        tempo,
        band_flux(20.0, LOW_HZ),
        band_flux(*SPEECH_BAND_HZ),
    )


def stream_md5(path: Path, selector: str) -> str:
    """MD5 of every packet of one stream (ffmpeg streamhash over a stream copy)."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", selector, "-c", "copy", "-f", "streamhash",
         "-hash", "md5", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip().split("=")[-1]


def stream_durations(path: Path) -> dict[str, list[float]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    durations: dict[str, list[float]] = {}
    for stream in json.loads(result.stdout)["streams"]:
        durations.setdefault(stream["codec_type"], []).append(float(stream["duration"]))
    return durations


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a film's first audio track, by ffmpeg's own ebur128 meter."""
    result = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = result.stderr[result.stderr.rfind("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return integrated, peak


def filmscore_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m filmscore ARGS` in a child process, as a user runs it: its exit code and its stderr."""
    return subprocess.run([sys.executable, "-m", "filmscore", *args], capture_output=True, text=True,
                          check=False)  # fmt: skip
