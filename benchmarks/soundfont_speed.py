"""Compose and render a 60 s score through each SoundFont installed, as a run does (the symbolic
generator: compose, write MIDI, render in two synthesisers at once, sum), and report the median time as a
multiple of real time.

Three ways to start, for each font:
- warm: the font already loaded in this process, as in a run, which loads it while the film is analysed;
- cold: the font loaded as the render asks for it (a run on a film shorter than the load);
- program: one fluidsynth process per piece, each loading the font itself (FILMSCORE_FLUIDSYNTH=program,
  and where libfluidsynth is missing).

The plan is the benchmark clip's shape: twelve 5 s shots that cycle through calm, tense, joyful and sad.

Run:  .venv/bin/python benchmarks/soundfont_speed.py [--rounds 5] [--style orchestral] [--font NAME.sf2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.music.generators import MusicRequest
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import CueOptions, CuePlan, plan_cues
from filmscore.music.symbolic import fluid
from filmscore.music.symbolic.render import SYNTH_ENV, SYSTEM_SOUNDFONTS
from tests.measure import emotions, flat_timeline

MOODS = ((0.5, -0.5), (-0.6, 0.6), (0.7, 0.6), (-0.6, -0.5))  # calm, tense, joyful, sad
SECONDS = 60.0
STARTS = ("warm", "cold", "program")


def timed(font: Path, plan: CuePlan, start: str) -> float:
    """Seconds for one compose and render, from a generator made just before (as a run makes it)."""
    if start == "program":
        os.environ[SYNTH_ENV] = "program"
    else:
        os.environ.pop(SYNTH_ENV, None)
    if start == "cold":
        fluid.unload()
    generator = SymbolicGenerator(font)
    if start == "warm":
        generator.generate(MusicRequest(plan, (), seed=0))  # the font is loaded after this
    began = time.perf_counter()
    generator.generate(MusicRequest(plan, (), seed=0))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--style", default="orchestral")
    parser.add_argument("--font", help="only the installed SoundFont of this file name")
    args = parser.parse_args()
    shots = emotions([(5.0, *MOODS[i % len(MOODS)]) for i in range(12)])
    plan = plan_cues(shots, flat_timeline(shots), SECONDS, CueOptions(style=args.style))
    fonts = [path for path in dict.fromkeys(p.resolve() for p in SYSTEM_SOUNDFONTS if p.is_file())]
    fonts = [path for path in fonts if args.font in (None, path.name)]
    times: dict[tuple[Path, str], list[float]] = {(f, s): [] for f in fonts for s in STARTS}
    for _ in range(args.rounds):
        for font, start in times:
            times[font, start].append(timed(font, plan, start))
    print(f"{args.style}, compose and render {SECONDS:g} s, median of {args.rounds}:\n")
    print("| SoundFont | start | seconds | x real time |")
    print("|---|---|---|---|")
    for (font, start), taken in times.items():
        median = statistics.median(taken)
        print(f"| {font.name} | {start} | {median:.2f} | {SECONDS / median:.1f}x |")


if __name__ == "__main__":
    main()
