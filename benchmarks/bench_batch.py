"""Benchmark of `filmscore batch`: throughput of a folder of rushes with 1 and 2 jobs on this machine.

Run:  .venv/bin/python benchmarks/bench_batch.py [--films 6] [--seconds 20] [--size 1280x720] [--ray]

It makes --films self-made clips (hard cuts, spoken lines) of --seconds each, then measures, each into
a fresh output folder with no analysis cache:
- decode:  a plain `ffmpeg -i clip -f null -` of every clip, one after another;
- jobs=1:  `filmscore batch FOLDER -o OUT --jobs 1`;
- jobs=2:  the same with --jobs 2 (and with --executor ray when --ray is given).
It reports films per minute, the footage scored as a multiple of real time in aggregate, the time as a
multiple of the plain decodes, and the peak memory of the whole process tree (sampled every 0.1 s).
Results go to benchmarks/results/batch-<films>x<seconds>s-<size>.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import RESULTS, make_clip, plain_decode, tree_rss_mb

SAMPLE_EVERY_S = 0.1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--ray", action="store_true", help="also measure --executor ray with 2 jobs")
    return parser.parse_args()


def make_rushes(count: int, seconds: float, size: str) -> Path:
    """The same kind of clip as the other benchmarks, `count` of them, each a separate file with pictures
    and lines of its own: identical takes would share their renders and music checks in the batch's cache,
    which real rushes never do."""
    folder = RESULTS / f"takes-{count}x{seconds:g}s-{size}"
    width, height = (int(v) for v in size.split("x"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        clip = folder / f"take{i + 1:02d}.mp4"
        if not clip.exists():
            make_clip(seconds, (width, height), clip, first_shot=i)
    return folder


def timed_tree(command: list[str]) -> tuple[float, float]:
    """Wall seconds of `command` and the peak summed memory of its process tree."""
    peak = 0.0
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(process.pid))
            done.wait(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"bench_batch: {' '.join(command)} exited {code}")
    return wall, peak


def batch(folder: Path, jobs: int, executor: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(dir=RESULTS) as out:
        command = [sys.executable, "-m", "filmscore", "batch", str(folder), "-o", out, "-q"]
        return timed_tree([*command, "--jobs", str(jobs), "--executor", executor])


def decode_all(folder: Path) -> float:
    start = time.perf_counter()
    for clip in sorted(folder.glob("*.mp4")):
        plain_decode(clip)
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    folder = make_rushes(args.films, args.seconds, args.size)
    footage_s = args.films * args.seconds
    decode_s = decode_all(folder)
    runs = [("local", 1), ("local", 2)] + ([("ray", 2)] if args.ray else [])
    results = {}
    for executor, jobs in runs:
        wall, peak = batch(folder, jobs, executor)
        results[f"{executor} jobs={jobs}"] = {
            "wall_s": wall,
            "films_per_min": args.films * 60 / wall,
            "x_realtime": footage_s / wall,
            "x_decode": wall / decode_s,
            "peak_tree_rss_mb": peak,
        }
    summary = {
        "films": args.films,
        "film_seconds": args.seconds,
        "size": args.size,
        "decode_all_s": decode_s,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    name = f"batch-{args.films}x{args.seconds:g}s-{args.size}.json"
    (RESULTS / name).write_text(json.dumps(summary, indent=2))
    print(f"{args.films} films of {args.seconds:g} s at {args.size}, {os.cpu_count()} CPUs")
    print("| batch | wall s | films/min | x real time | x plain decodes | peak RSS MB (all processes) |")
    print("|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['wall_s']:.1f} | {r['films_per_min']:.2f} | {r['x_realtime']:.2f} | "
            f"{r['x_decode']:.2f} | {r['peak_tree_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
