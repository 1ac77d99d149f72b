"""What the benchmarks share: the self-made clip, measuring one kind of work in a fresh process (so peak
memory is that work's alone), measuring turn about in rounds and keeping the median, and the results table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The benchmark clips are made by the tests' film maker (tests/synthetic.py), from the repository's root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).parent / "results"
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
MEMORY_KEYS = ("wall_s", "cpu_s", "peak_rss_mb", "child_peak_rss_mb")  # a result's keys that are no stage
LINES = [
    ("Good morning! What a wonderful day. I am so happy you came.", "happy"),
    ("I have bad news. Your old friend died last night.", "sad"),
    ("Run! Get out! The fire is coming, hurry!", "frightened"),
    ("Rest now. It is quiet and calm. Everything will be fine.", "calm"),
]
# The pictures of one minute of benchmark film (twelve 5 s shots), repeated as a longer clip goes on: a
# 10-minute clip is ten times the 60 s clip's pictures and lines, so the scaling check compares like with
# like. A cycle of the eight pictures alone gave the 10-minute clip a quarter of Conway's life and the
# mandelbrot zoom, the pictures dearest to decode, against a sixth in the 60 s clip: its plain decode took
# 12.1x (1080p) and 13.0x (720p) the 60 s clip's, not 10x.
PICTURES = ["warm", "testcard", "grey", "bars", "night", "zoom", "dark", "bright_motion"]
PICTURES += PICTURES[:4]


def benchmark_clip(size: str, seconds: float) -> Path:
    """The benchmark clip of this size ("1280x720") and length, made on first use and kept in RESULTS."""
    clip = RESULTS / f"film-{size}-{seconds:g}s.mp4"  # "film", not the older "clip": those cycled 8 pictures
    if not clip.exists():
        width, height = (int(v) for v in size.split("x"))
        RESULTS.mkdir(exist_ok=True)
        make_clip(seconds, (width, height), clip)
    return clip


def make_clip(seconds: float, size: tuple[int, int], target: Path, first_shot: int = 0) -> Path:
    """5-second shots with hard cuts, a spoken line in every other one; `first_shot` starts the cycle of
    pictures and lines further on, so that clips made with different ones differ."""
    from tests.synthetic import Line, ShotSpec, make_film

    shots, t, i = [], 0.0, first_shot
    while t < seconds - 0.01:
        length = min(5.0, seconds - t)
        text, voice = LINES[i % len(LINES)]
        line = Line(text, voice) if i % 2 == 0 else None
        shots.append(ShotSpec(PICTURES[i % len(PICTURES)], length, line))
        t, i = t + length, i + 1
    return make_film(target, shots, size=size, fps=25.0)


def parse_args(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds, each kind once a round; the median is kept"
    )
    parser.add_argument("--one", nargs=2, metavar=("KIND", "CLIP"), help=argparse.SUPPRESS)
    return parser.parse_args()


def timed(work: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Wall time, CPU time (this process and its children, in core-seconds) and peak memory of `work`,
    with its stage times."""
    start = time.perf_counter()
    stages = work()
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": own.ru_maxrss / 1024,
        "child_peak_rss_mb": children.ru_maxrss / 1024,
        **stages,
    }


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants, from /proc (no psutil needed)."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = pages * PAGE_MB
    return sum(rss.get(pid, 0.0) for pid in descendants(parents, root))


def descendants(parents: dict[int, int], root: int) -> set[int]:
    """`root` and every process below it, from a table of pid -> parent pid."""
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def plain_decode(clip: Path) -> dict[str, float]:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-f", "null", "-"], check=True)
    return {}


def run_benchmark(
    script: str, args: argparse.Namespace, kinds: tuple[str, ...], measure: Callable[[str, Path], dict]
) -> dict[str, Any]:
    """In the child (--one) measure one kind and print it; in the parent, measure every kind in fresh
    processes, turn about for --repeat rounds (this machine's speed drifts within minutes, so a decode
    and a run measured in separate blocks compare badly), keep each kind's median run (the faster of
    two), and return the summary (the child exits instead)."""
    if args.one:
        print(json.dumps(measure(args.one[0], Path(args.one[1]))))
        sys.exit(0)
    clip = benchmark_clip(args.size, args.seconds)

    def fresh(kind: str) -> dict[str, float]:
        cmd = [sys.executable, script, "--one", kind, str(clip)]
        return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)

    rounds = [{kind: fresh(kind) for kind in kinds} for _ in range(max(1, args.repeat))]
    results = {kind: median_run([r[kind] for r in rounds]) for kind in kinds}
    decode_s = results["decode"]["wall_s"]
    return {
        "clip": {"seconds": args.seconds, "size": args.size, "fps": 25},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
        "x_decode": {k: r["wall_s"] / decode_s for k, r in results.items()},
        "x_realtime": {k: args.seconds / r["wall_s"] for k, r in results.items()},
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median wall time (of an even number, the faster of the middle two)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return ordered[(len(ordered) - 1) // 2]


def stages_of(result: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in result.items() if k not in MEMORY_KEYS}


def report(summary: dict[str, Any], name: str) -> None:
    """Save the summary as results/<name>-<size>-<seconds>s.json and print the table."""
    clip = summary["clip"]
    (RESULTS / f"{name}-{clip['size']}-{clip['seconds']:g}s.json").write_text(json.dumps(summary, indent=2))
    print(f"{clip['seconds']:g} s clip at {clip['size']}, {summary['machine']['cpus']} CPUs")
    print("| measurement | wall s | x plain decode | x real time | CPU core-s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for kind, r in summary["results"].items():
        print(
            f"| {kind} | {r['wall_s']:.2f} | {summary['x_decode'][kind]:.2f} | "
            f"{summary['x_realtime'][kind]:.1f} | {r['cpu_s']:.1f} | "
            f"{max(r['peak_rss_mb'], r['child_peak_rss_mb']):.0f} |"
        )
