"""Benchmark of `filmscore run`: time against real time and a plain ffmpeg decode, with peak memory.

Run:  .venv/bin/python benchmarks/bench_run.py [--seconds 60] [--size 1280x720] [--repeat 3]

It uses the same self-made clip as bench_analyze.py (hard cuts, spoken lines), then measures in fresh
processes:
- decode: `ffmpeg -i clip -f null -`;
- run:     the whole `filmscore run` (analysis, cues, compose and render, mix, mux, report folder),
           with each stage's time, so "compose" (composing plus FluidSynth rendering) shows on its own;
- preview: `filmscore run --pipeline fast-preview` (sparser analysis frames, no music check).
Results go to benchmarks/results/run-<size>-<seconds>s.json and a table on stdout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import parse_args, plain_decode, report, run_benchmark, stages_of, timed

STAGES_OF_INTEREST = ("compose", "music check", "mix", "mux")


def score(clip: Path) -> dict[str, float]:
    """A run as `filmscore run` makes it, through the API, with the embedded defaults."""
    import filmscore

    progress = filmscore.Progress()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        filmscore.score(clip, out / "scored.mp4", report_dir=out / "report", progress=progress)
    return progress.timings


def preview(clip: Path) -> dict[str, float]:
    from filmscore.cli.main import main

    with tempfile.TemporaryDirectory() as folder:
        code = main(["run", "--pipeline", "fast-preview", "--quiet", str(clip), "-o", f"{folder}/scored.mp4"])
    if code != 0:
        raise SystemExit(f"the fast-preview run failed (exit {code})")
    return {}


def measure(kind: str, clip: Path) -> dict[str, float]:
    work = {"decode": plain_decode, "run": score, "preview": preview}[kind]
    return timed(lambda: work(clip))


def main() -> None:
    args = parse_args(__doc__)
    summary = run_benchmark(__file__, args, ("decode", "run", "preview"), measure)
    stages = stages_of(summary["results"]["run"])
    summary["stage_x_realtime"] = {k: args.seconds / v for k, v in stages.items() if v > 0}
    report(summary, "run")
    print("run stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(
        "stages as x real time: "
        + ", ".join(f"{k} {summary['stage_x_realtime'][k]:.0f}x" for k in STAGES_OF_INTEREST if k in stages)
    )


if __name__ == "__main__":
    main()
