"""Compose and render a 60 s score through each SoundFont installed, as a run does (the symbolic
generator: compose, write MIDI, render in two FluidSynth processes, sum), turn about, and report the
median time as a multiple of real time.

The plan is the benchmark clip's shape: twelve 5 s shots that cycle through calm, tense, joyful and sad.

Run:  .venv/bin/python benchmarks/soundfont_speed.py [--rounds 3] [--style orchestral]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.music.cues import CueOptions, plan_cues
from filmscore.music.generators import MusicRequest, SymbolicGenerator
from filmscore.music.symbolic.render import SYSTEM_SOUNDFONTS
from tests.measure import emotions, flat_timeline

MOODS = ((0.5, -0.5), (-0.6, 0.6), (0.7, 0.6), (-0.6, -0.5))  # calm, tense, joyful, sad
SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--style", default="orchestral")
    args = parser.parse_args()
    shots = emotions([(5.0, *MOODS[i % len(MOODS)]) for i in range(12)])
    plan = plan_cues(shots, flat_timeline(shots), SECONDS, CueOptions(style=args.style))
    fonts = [path for path in dict.fromkeys(p.resolve() for p in SYSTEM_SOUNDFONTS if p.is_file())]
    times: dict[Path, list[float]] = {font: [] for font in fonts}
    for _ in range(args.rounds):
        for font in fonts:
            generator = SymbolicGenerator(font)
            start = time.perf_counter()
            generator.generate(MusicRequest(plan, (), seed=0))
            times[font].append(time.perf_counter() - start)
    print(f"| SoundFont | compose and render {SECONDS:g} s, median of {args.rounds} | x real time |")
    print("|---|---|---|")
    for font, taken in times.items():
        median = statistics.median(taken)
        print(f"| {font.name} | {median:.2f} s | {SECONDS / median:.1f}x |")


if __name__ == "__main__":
    main()
