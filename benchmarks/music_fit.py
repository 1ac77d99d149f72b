"""Does the music follow the plan? Render each style in each of the four quadrant moods and measure the
audio with features computed apart from filmscore's own music check (MER): onset rate and onset strength
(librosa), RMS level, spectral centroid, and the mode a Krumhansl-Kessler key profile hears.

Each style gets one film-like plan: four cues of 6 s each, one per quadrant at valence and arousal of
+-0.8 (joyful, calm, sad, afraid), composed and rendered by the symbolic generator as a run would.

Run:  .venv/bin/python benchmarks/music_fit.py [--styles orchestral piano] [--seeds 0 1]

It prints two sets of tables. The first gives, per style, each cue's measurements, whether the arousal
ordering is right (both high-arousal cues above both low-arousal cues in onset rate, onset strength and
level), the share of cues heard in their planned mode, the ratio of high- to low-arousal energy (RMS, as
a power ratio in dB) and the onset rates of the high- and low-arousal cues.

The second is the energy a listener hears, alone and under dialogue (tests.measure.energy_of). Each cue's
stretch is first brought to -23 LUFS (so loudness, which the mix sets, does not decide it), then measured
on features a listener's sense of energy follows: onset density (librosa's onsets at a fixed threshold on
the normalised signal), the percussive share of the energy (HPSS), spectral flux (mean onset strength),
spectral centroid, the tempo heard (librosa's estimate with a flat prior from 30 to 240 bpm; 0 where the
cue has under one onset a second, so no beat to hear), the low-frequency pulse (the spectral flux below
200 Hz) and the flux in the speech band the mix carves (1-4 kHz). Under dialogue, lines of 2 s with 0.8 s
between them run through the whole film: the composer thins the music under them, and the mix ducks it
and cuts its speech band as a run does. A style passes when both high-arousal cues are ahead of both
low-arousal ones on every feature.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.delivery.mix import MixOptions, mix_under_dialogue
from filmscore.music.generators import MusicRequest
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import CueOptions, plan_cues
from filmscore.music.styles import STYLES
from tests.measure import (
    ENERGY_FEATURES,
    Energy,
    dialogue_lines,
    emotions,
    energy_of,
    estimate_key,
    flat_timeline,
    onset_strength,
    rms_db,
)

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


def render_energy(style: str, seed: int, dialogue: bool) -> list[Energy]:
    """Each cue's energy features, alone or under dialogue (composed around the lines, ducked and cut in
    the speech band by the mix)."""
    shots = emotions([(CUE_S, v, a) for _, v, a in QUADRANTS])
    duration = CUE_S * len(QUADRANTS)
    plan = plan_cues(shots, flat_timeline(shots), duration, CueOptions(style=style))
    speech = dialogue_lines(duration) if dialogue else ()
    audio = SymbolicGenerator().generate(MusicRequest(plan, speech, seed)).audio
    assert audio is not None
    if speech:
        audio = mix_under_dialogue(None, audio, speech, MixOptions()).stem
    samples, rate = np.asarray(audio.read(0, audio.frames)), audio.sample_rate
    return [
        energy_of(
            samples[round((c.start_s + SETTLE_S) * rate) : round((c.end_s - LEAD_S) * rate)],
            rate,
            mood,
            dialogue,
        )
        for c, (mood, _, _) in zip(plan.cues, QUADRANTS, strict=True)
    ]


def energy_margins(heard: list[Energy]) -> dict[str, float]:
    """Per feature, the weaker high-arousal cue over the stronger low-arousal one (> 1: ahead)."""
    by = {h.mood: h for h in heard}
    margins = {}
    for feature in ENERGY_FEATURES:
        high = min(getattr(by[m], feature) for m in ("joyful", "afraid"))
        low = max(getattr(by[m], feature) for m in ("calm", "sad"))
        margins[feature] = high / low if low > 0 else float("inf") if high > 0 else 0.0
    return margins


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
    parser.add_argument("--no-energy", dest="energy", action="store_false", help="skip the energy tables")
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
    if args.energy:
        print_energy(args.styles, args.seeds)


def print_energy(styles: list[str], seeds: list[int]) -> None:
    print("\n| style | seed | dialogue | mood | onsets/s | percussive | flux | centroid Hz | tempo "
          "| low pulse | band flux |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    margins = []
    for style in styles:
        for seed in seeds:
            for dialogue in (False, True):
                heard = render_energy(style, seed, dialogue)
                for h in heard:
                    print(
                        f"| {style} | {seed} | {'under lines' if dialogue else 'alone'} | {h.mood} | "
                        f"{h.onsets:.1f} | {h.percussive:.2f} | {h.flux:.2f} | {h.centroid:.0f} | "
                        f"{h.tempo:.0f} | {h.low_pulse:.2f} | {h.band_flux:.2f} |"
                    )
                margins.append((style, seed, dialogue, energy_margins(heard)))
    print("\nHigh-arousal over low-arousal, the weaker of the two over the stronger (> 1: ahead):\n")
    print("| style | seed | dialogue | " + " | ".join(ENERGY_FEATURES) + " | all ahead |")
    print("|---|---|---|" + "---|" * (len(ENERGY_FEATURES) + 1))
    ahead = 0
    for style, seed, dialogue, m in margins:
        right = all(v > 1 for v in m.values())
        ahead += right
        cells = " | ".join(f"{m[f]:.2f}" for f in ENERGY_FEATURES)
        where = "under lines" if dialogue else "alone"
        print(f"| {style} | {seed} | {where} | {cells} | {'yes' if right else 'NO'} |")
    print(f"\nenergy: every feature ahead in {ahead}/{len(margins)}")


if __name__ == "__main__":
    main()
