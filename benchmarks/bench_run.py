"""Benchmark of `filmscore run`: time against real time and a plain ffmpeg decode, with peak memory.

Run:  .venv/bin/python benchmarks/bench_run.py [--seconds 60] [--size 1280x720]

It uses the same self-made clip as bench_analyze.py (hard cuts, spoken lines), then measures in fresh
processes:
- decode: `ffmpeg -i clip -f null -`;
- run:    the whole `filmscore run -q` (analysis, cues, compose and render, mix, mux, report folder),
          with each stage's time, so "compose" (composing plus FluidSynth rendering) shows on its own.
Results go to benchmarks/results/run-<size>-<seconds>s.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_analyze import RESULTS, make_clip

STAGES_OF_INTEREST = ("compose", "mix", "mux")


def measure_one(kind: str, clip: Path) -> dict[str, float]:
    """Runs in its own process, so peak memory is this measurement's alone."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if kind == "decode":
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-f", "null", "-"], check=True)
    elif kind == "run":
        from filmscore.progress import Progress
        from filmscore.run import RunOptions, score_film

        progress = Progress()
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "scored.mp4"
            score_film(clip, out, Path(folder) / "report", RunOptions(), progress)
        timings = progress.timings
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall_s": wall, "peak_rss_mb": own, "child_peak_rss_mb": children, **timings}


def run_in_fresh_process(kind: str, clip: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(clip)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the fastest is kept")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "CLIP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], Path(args.one[1]))))
        return
    width, height = (int(v) for v in args.size.split("x"))
    RESULTS.mkdir(exist_ok=True)
    clip = RESULTS / f"clip-{args.size}-{args.seconds:g}s.mp4"
    if not clip.exists():
        make_clip(args.seconds, (width, height), clip)
    results = {
        kind: min((run_in_fresh_process(kind, clip) for _ in range(args.repeat)), key=lambda r: r["wall_s"])
        for kind in ("decode", "run")
    }
    decode_s = results["decode"]["wall_s"]
    memory = ("wall_s", "peak_rss_mb", "child_peak_rss_mb")
    stages = {k: v for k, v in results["run"].items() if k not in memory}
    summary = {
        "clip": {"seconds": args.seconds, "size": args.size, "fps": 25},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
        "x_decode": {k: r["wall_s"] / decode_s for k, r in results.items()},
        "x_realtime": {k: args.seconds / r["wall_s"] for k, r in results.items()},
        "stage_x_realtime": {k: args.seconds / v for k, v in stages.items() if v > 0},
    }
    (RESULTS / f"run-{args.size}-{args.seconds:g}s.json").write_text(json.dumps(summary, indent=2))
    print(f"{args.seconds:g} s clip at {args.size}, {summary['machine']['cpus']} CPUs")
    print("| measurement | wall s | x plain decode | x real time | peak RSS MB |")
    print("|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['wall_s']:.2f} | {summary['x_decode'][kind]:.2f} | "
            f"{summary['x_realtime'][kind]:.1f} | {max(r['peak_rss_mb'], r['child_peak_rss_mb']):.0f} |"
        )
    print("run stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(
        "stages as x real time: "
        + ", ".join(f"{k} {summary['stage_x_realtime'][k]:.0f}x" for k in STAGES_OF_INTEREST if k in stages)
    )


if __name__ == "__main__":
    main()
