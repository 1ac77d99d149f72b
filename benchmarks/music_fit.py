"""Does the music follow the plan? Render each style in each of the four quadrant moods and measure the
audio with features computed apart from filmscore's own music check (MER): onset rate and onset strength
(librosa), RMS level, spectral centroid, and the mode a Krumhansl-Kessler key profile hears.

Each style gets one film-like plan: four cues of 6 s each, one per quadrant at valence and arousal of
+-0.8 (joyful, calm, sad, afraid), composed and rendered by the symbolic generator as a run would.

Run:  .venv/bin/python benchmarks/music_fit.py [--styles orchestral piano] [--seeds 0 1]

It prints, per style, each cue's measurements, whether the arousal ordering is right (both high-arousal
cues above both low-arousal cues in onset rate, onset strength and level), the share of cues heard in
their planned mode, the ratio of high- to low-arousal energy (RMS, as a power ratio in dB) and the onset
rates of the high- and low-arousal cues.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.music.generators import MusicRequest
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import CueOptions, plan_cues
from filmscore.music.styles import STYLES
from tests.measure import emotions, estimate_key, flat_timeline, onset_strength, rms_db

QUADRANTS = (("joyful", 0.8, 0.8), ("calm", 0.8, -0.8), ("sad", -0.8, -0.8), ("afraid", -0.8, 0.8))
CUE_S = 6.0
SETTLE_S = 1.5  # skip the previous cue's ringing tail
LEAD_S = 0.8  # and the timpani roll into the next cue


@dataclass(frozen=True)
class Heard:
    mood: str
    planned_mode: str
    mode: str
    onset_rate: float  # onsets per second
    onset_strength: float
    rms_db: float
    centroid_hz: float


def onset_times(samples: np.ndarray, rate: int) -> np.ndarray:
    """Onsets (s) detected over the whole stem at once, so a quiet cue is not judged on its own scale
    (librosa normalises the onset envelope it picks peaks from)."""
    import librosa

    return librosa.onset.onset_detect(y=samples.mean(axis=1).astype(np.float32), sr=rate, units="time")


def measure(part: np.ndarray, rate: int, onsets: int, mood: str, planned_mode: str) -> Heard:
    import librosa

    mono = part.mean(axis=1).astype(np.float32)
    centroid = float(librosa.feature.spectral_centroid(y=mono, sr=rate).mean())
    _, mode, _ = estimate_key(part, rate)
    return Heard(
        mood,
        planned_mode,
        mode,
        onsets / (len(mono) / rate),
        onset_strength(part, rate),
        rms_db(part),
        centroid,
    )


def render_style(style: str, seed: int) -> list[Heard]:
    shots = emotions([(CUE_S, v, a) for _, v, a in QUADRANTS])
    duration = CUE_S * len(QUADRANTS)
    plan = plan_cues(shots, flat_timeline(shots), duration, CueOptions(style=style))
    music = SymbolicGenerator().generate(MusicRequest(plan, (), seed))
    samples, rate = music.audio.samples, music.audio.sample_rate  # type: ignore[union-attr]
    onsets = onset_times(samples, rate)
    heard = []
    for cue, (mood, _, _) in zip(plan.cues, QUADRANTS, strict=True):
        start, end = cue.start_s + SETTLE_S, cue.end_s - LEAD_S
        part = samples[round(start * rate) : round(end * rate)]
        count = int(np.sum((onsets >= start) & (onsets < end)))
        heard.append(measure(part, rate, count, mood, cue.mode))
    return heard


def summarise(style: str, heard: list[Heard]) -> dict[str, float | bool]:
    by = {h.mood: h for h in heard}
    high, low = (by["joyful"], by["afraid"]), (by["calm"], by["sad"])

    def above(attr: str) -> bool:
        return min(getattr(h, attr) for h in high) > max(getattr(h, attr) for h in low)

    high_onsets, low_onsets = np.mean([h.onset_rate for h in high]), np.mean([h.onset_rate for h in low])
    energy_db = np.mean([h.rms_db for h in high]) - np.mean([h.rms_db for h in low])
    return {
        "ordering": above("onset_rate") and above("onset_strength") and above("rms_db"),
        "mode_right": float(np.mean([h.mode == h.planned_mode for h in heard])),
        "energy_ratio_db": float(energy_db),
        "high_onsets": float(high_onsets),
        "low_onsets": float(low_onsets),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="*", default=list(STYLES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    args = parser.parse_args()
    print("| style | seed | mood | planned | heard | onsets/s | onset strength | RMS dB | centroid Hz |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for style in args.styles:
        for seed in args.seeds:
            heard = render_style(style, seed)
            for h in heard:
                print(
                    f"| {style} | {seed} | {h.mood} | {h.planned_mode} | {h.mode} | {h.onset_rate:.1f} | "
                    f"{h.onset_strength:.2f} | {h.rms_db:.1f} | {h.centroid_hz:.0f} |"
                )
            summary.append((style, seed, summarise(style, heard)))
    print()
    print("| style | seed | arousal ordering | mode right | high/low energy dB | onsets/s high, low |")
    print("|---|---|---|---|---|---|")
    for style, seed, s in summary:
        print(
            f"| {style} | {seed} | {'right' if s['ordering'] else 'WRONG'} | {s['mode_right']:.0%} | "
            f"{s['energy_ratio_db']:+.1f} | {s['high_onsets']:.1f}, {s['low_onsets']:.1f} |"
        )
    modes = np.mean([s["mode_right"] for _, _, s in summary])
    ordered = sum(bool(s["ordering"]) for _, _, s in summary)
    print(f"\nall: ordering right in {ordered}/{len(summary)}, mode right in {modes:.0%} of cues")


if __name__ == "__main__":
    main()
