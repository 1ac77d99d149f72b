"""Where a `filmscore run` keeps the cores busy, and where they wait: a CPU timeline of the whole process
tree, stage by stage.

Run:  .venv/bin/python benchmarks/cpu_timeline.py [--seconds 60] [--size 1280x720] [-- RUN OPTIONS...]

It scores the benchmark clip (the one bench_run.py makes) with `filmscore run` in a fresh process and
reads /proc every 50 ms: each process's CPU ticks, grouped by program (the filmscore process, its workers:
the speech workers and the audio helper, ffmpeg, FluidSynth). A process that starts and ends between two
samples (a short ffprobe) is missed. Stage boundaries come from the run's own progress lines. For each
stage it prints the wall time, the core-seconds each group used, and how many of the machine's cores
were busy on average: a stage at about 1 core on a 2-core machine leaves the other idle, which is where
overlapping work can gain. The samples go to benchmarks/results/timeline-<size>-<seconds>s.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from harness import RESULTS, benchmark_clip, descendants

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.05
STAGE_LINE = re.compile(r"^(?P<stage>[a-z ]+): done in")


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, program group, CPU ticks so far) for every process on the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # it ended while we looked
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        ticks = int(rest[11]) + int(rest[12])  # utime + stime
        table[int(entry.name)] = (int(rest[1]), group_of(comm, cmdline), ticks)
    return table


def group_of(comm: str, cmdline: list[bytes]) -> str:
    if comm in ("ffmpeg", "ffprobe", "fluidsynth"):
        return comm
    if any(b"spawn_main" in part for part in cmdline):  # multiprocessing's spawned workers
        return "workers"
    return "filmscore" if comm.startswith("python") or comm == "filmscore" else comm


def sample(root: int, done: threading.Event) -> list[tuple[float, dict[int, tuple[str, int]]]]:
    """(time, {pid: (group, ticks)}) for the tree under `root`, until `done`."""
    samples = []
    start = time.perf_counter()
    while not done.is_set():
        table = process_table()
        tree = descendants({pid: row[0] for pid, row in table.items()}, root)
        samples.append((time.perf_counter() - start, {pid: table[pid][1:] for pid in tree if pid in table}))
        time.sleep(SAMPLE_S)
    return samples


def cpu_by_group(samples: list, first: float, last: float) -> dict[str, float]:
    """Core-seconds each group used between two times, from the tick counters."""
    used: dict[str, float] = defaultdict(float)
    previous: dict[int, int] = {}
    for t, tree in samples:
        for pid, (group, ticks) in tree.items():
            before = previous.get(pid, 0)  # a process first seen started from nothing
            if first <= t <= last:
                used[group] += (ticks - before) * TICK_S
            previous[pid] = ticks
    return dict(used)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("run_options", nargs="*", help="extra `filmscore run` options, after --")
    args = parser.parse_args()
    clip = benchmark_clip(args.size, args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        cmd = [
            sys.executable,
            "-m",
            "filmscore",
            "run",
            str(clip),
            "-o",
            f"{folder}/scored.mp4",
            "--no-cache",
        ]
        start = time.perf_counter()
        process = subprocess.Popen([*cmd, *args.run_options], stderr=subprocess.PIPE, text=True)
        done = threading.Event()
        holder: list = []
        sampler = threading.Thread(target=lambda: holder.append(sample(process.pid, done)))
        sampler.start()
        stages = [("start-up", 0.0)]
        assert process.stderr is not None
        for line in process.stderr:
            if match := STAGE_LINE.match(line.strip()):
                stages.append((match["stage"], time.perf_counter() - start))
        process.wait()
        total = time.perf_counter() - start
        done.set()
        sampler.join()
    samples = holder[0]
    # Each stage runs from the end of the one before to its own "done" line.
    spans = [(name, stages[i - 1][1], end) for i, (name, end) in enumerate(stages) if i > 0]
    spans.append(("finish", stages[-1][1], total))
    rows = []
    for name, first, last in spans:
        used = cpu_by_group(samples, first, last)
        wall = last - first
        busy = sum(used.values()) / max(wall, 1e-9)
        rows.append({"stage": name, "wall_s": wall, "cores_busy": busy, **used})
    groups = sorted({g for row in rows for g in row if g not in ("stage", "wall_s", "cores_busy")})
    print(f"run of {clip.name}: {total:.2f} s, exit {process.returncode}")
    print("| stage | wall s | cores busy | " + " | ".join(f"{g} core-s" for g in groups) + " |")
    print("|---|---|---|" + "---|" * len(groups))
    for row in rows:
        cells = " | ".join(f"{row.get(g, 0.0):.2f}" for g in groups)
        print(f"| {row['stage']} | {row['wall_s']:.2f} | {row['cores_busy']:.2f} | {cells} |")
    out = RESULTS / f"timeline-{args.size}-{args.seconds:g}s.json"
    out.write_text(json.dumps({"total_s": total, "stages": rows}, indent=1))


if __name__ == "__main__":
    main()
