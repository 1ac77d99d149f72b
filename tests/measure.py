"""Measurements the scoring tests make on rendered audio and written films, independent of our own plan."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.analysis.shots import Shot

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
