"""Peak memory of `filmscore run` on a feature-length film, stage by stage.

Run:  .venv/bin/python benchmarks/bench_memory.py [--hours 2] [--size 1920x1080]

It makes the film by joining copies of the suite's 10-minute clip (5 s shots with hard cuts, a spoken
line in every other one; made first if missing) with ffmpeg's concat demuxer, packets copied, so a
two-hour 1080p film costs seconds to make. Then it runs the embedded `run` on it in a fresh process and
samples, twice a second, the resident memory of that process and of all its children (speech workers,
ffmpeg, FluidSynth), noting each stage's peak. Results go to benchmarks/results/memory-<size>-<hours>h.json
and a table on stdout.

The goal of the performance issue: under 1.5 GB for a two-hour 1080p film on the embedded path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import PAGE_MB, RESULTS, benchmark_clip, tree_rss_mb

BASE_SECONDS = 600.0
SAMPLE_S = 0.5
GOAL_MB = 1500


class Sampler(threading.Thread):
    """Records the peak of this process's RSS and of the whole tree's, per stage."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stage = "start-up"
        self.peaks: dict[str, dict[str, float]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.wait(SAMPLE_S):
            own = int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_MB
            tree = tree_rss_mb(me)
            peak = self.peaks.setdefault(self.stage, {"process_mb": 0.0, "tree_mb": 0.0})
            peak["process_mb"] = max(peak["process_mb"], own)
            peak["tree_mb"] = max(peak["tree_mb"], tree)


def measure(clip: Path) -> dict:
    import filmscore

    sampler = Sampler()

    class StageProgress(filmscore.Progress):
        def started(self, name: str) -> None:
            sampler.stage = name

    progress = StageProgress()
    sampler.start()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=RESULTS) as folder:
        out = Path(folder)
        filmscore.score(clip, out / "scored.mp4", report_dir=out / "report", progress=progress, cache=False)
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    return {
        "wall_s": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "stages_s": progress.timings,
        "stage_peaks_mb": sampler.peaks,
    }


def long_film(base: Path, copies: int, target: Path) -> Path:
    """`copies` copies of `base` back to back, packets copied (no re-encode)."""
    listing = target.with_suffix(".txt")
    listing.write_text("".join(f"file '{base.resolve()}'\n" for _ in range(copies)))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(target)],
        check=True,
    )  # fmt: skip
    listing.unlink()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--one", metavar="CLIP", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(Path(args.one))))
        return
    base = benchmark_clip(args.size, BASE_SECONDS)
    copies = max(1, round(args.hours * 3600 / BASE_SECONDS))
    film = long_film(base, copies, RESULTS / f"long-{args.size}-{copies * BASE_SECONDS:g}s.mp4")
    run = subprocess.run([sys.executable, __file__, "--one", str(film)], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"the run failed:\n{run.stderr}")
    result = json.loads(run.stdout)
    seconds = copies * BASE_SECONDS
    summary = {"film": {"seconds": seconds, "size": args.size}, "cpus": os.cpu_count(), **result}
    (RESULTS / f"memory-{args.size}-{args.hours:g}h.json").write_text(json.dumps(summary, indent=2))
    film.unlink()  # gigabytes, and made again in seconds
    print(f"{seconds / 3600:g} h film at {args.size}: run took {result['wall_s']:.0f} s "
          f"({seconds / result['wall_s']:.1f}x real time); peak RSS {result['peak_rss_mb']:.0f} MB "
          f"(goal under {GOAL_MB} MB), largest child {result['child_peak_rss_mb']:.0f} MB")  # fmt: skip
    print("| stage | seconds | peak MB, filmscore process | peak MB, with its children |")
    print("|---|---|---|---|")
    for stage, peak in result["stage_peaks_mb"].items():
        took = result["stages_s"].get(stage, 0.0)
        print(f"| {stage} | {took:.1f} | {peak['process_mb']:.0f} | {peak['tree_mb']:.0f} |")


if __name__ == "__main__":
    main()
