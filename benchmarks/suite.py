"""The whole benchmark suite in one command: analyze and run on 60 s and 10-minute clips at 720p and 1080p,
each against a plain ffmpeg decode of the same clip measured in the same run, with stage times, peak
memory, the scaling check (10 minutes against 60 s) and where each goal of the performance issue stands.

Run:  .venv/bin/python benchmarks/suite.py [--sizes 1280x720 1920x1080] [--seconds 60 600] [--repeat 1]
                                           [--short-repeat 5] [--memory-hours 2]

It calls bench_analyze.py and bench_run.py for each clip (each measurement in a fresh process; a clip's
decode and the work on it are measured turn about, round after round, and each kind's median round is
kept: --short-repeat rounds for clips of a minute or less, --repeat for longer ones), and with
--memory-hours bench_memory.py on a film that long at the largest size (the memory goal; about 40 minutes
for 2 hours here), then writes benchmarks/results/suite.json and the table benchmarks/results/suite.md
(docs/performance.md keeps a copy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
GOAL_RUN_X_DECODE = 5.0  # embedded run on 60 s 720p: at most 5x a plain decode
GOAL_VISUAL_X_DECODE = 1.3  # decode, shots and visual features: at most 1.3x a plain decode
GOAL_SCALING_TIME = 1.05  # a 10-minute clip: at most 10.5x a 60 s one (5% over proportional)
GOAL_SCALING_MEMORY = 1.2  # ... with the same peak memory within 20%
GOAL_FEATURE_MB = 1500  # peak memory of the embedded run on a 2-hour 1080p film


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1280x720", "1920x1080"])
    parser.add_argument("--seconds", nargs="+", type=float, default=[60.0, 600.0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds for clips longer than a minute")
    parser.add_argument("--short-repeat", type=int, default=5, help="rounds for clips of a minute or less")
    parser.add_argument("--memory-hours", type=float, help="also measure memory on a film this long")
    args = parser.parse_args()
    started = time.time()
    clips = {}
    for size in args.sizes:
        for seconds in args.seconds:
            rounds = args.short_repeat if seconds <= 60 else args.repeat
            common = ["--size", size, "--seconds", f"{seconds:g}", "--repeat", str(rounds)]
            for script in ("bench_analyze.py", "bench_run.py"):
                subprocess.run([sys.executable, str(HERE / script), *common], check=True)
            clips[f"{size} {seconds:g}s"] = {
                "analyze": json.loads((RESULTS / f"analyze-{size}-{seconds:g}s.json").read_text()),
                "run": json.loads((RESULTS / f"run-{size}-{seconds:g}s.json").read_text()),
            }
    memory = None
    if args.memory_hours:
        size = max(args.sizes, key=lambda s: int(s.split("x")[0]))
        hours = f"{args.memory_hours:g}"
        command = [sys.executable, str(HERE / "bench_memory.py"), "--hours", hours, "--size", size]
        subprocess.run(command, check=True)
        memory = json.loads((RESULTS / f"memory-{size}-{hours}h.json").read_text())
    suite = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
        "minutes": round((time.time() - started) / 60, 1),
        "clips": clips,
        "scaling": scaling(clips, args),
        "memory": memory,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "suite.json").write_text(json.dumps(suite, indent=2))
    table = markdown(suite)
    (RESULTS / "suite.md").write_text(table)
    print(table)


def _peak(result: dict) -> float:
    return max(result["peak_rss_mb"], result["child_peak_rss_mb"])


def scaling(clips: dict, args: argparse.Namespace) -> dict:
    """The longest clip against the shortest, per size: time and peak memory of `run`."""
    if len(args.seconds) < 2:
        return {}
    short, long = min(args.seconds), max(args.seconds)
    checks = {}
    for size in args.sizes:
        a = clips[f"{size} {short:g}s"]["run"]["results"]["run"]
        b = clips[f"{size} {long:g}s"]["run"]["results"]["run"]
        checks[size] = {
            "length_ratio": long / short,
            "time_ratio": round(b["wall_s"] / a["wall_s"], 2),
            "memory_ratio": round(_peak(b) / _peak(a), 2),
        }
    return checks


def markdown(suite: dict) -> str:
    lines = [
        f"Machine: {suite['machine']['cpus']} CPUs, {suite['machine']['platform']}; {suite['date']}.",
        "",
        "| clip | measurement | wall s | x plain decode | x real time | CPU core-s | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, clip in suite["clips"].items():
        analyze, run = clip["analyze"], clip["run"]
        # Each benchmark measures its own decode, turn about with its work: each multiple is of the one
        # measured beside it.
        rows = [("plain decode (beside the next two)", analyze, "decode"), ("visual pass", analyze, "visual"),
                ("analyze", analyze, "analyze"), ("plain decode (beside the runs)", run, "decode"),
                ("run", run, "run"), ("run, fast-preview preset", run, "preview")]  # fmt: skip
        for label, summary, kind in rows:
            if kind not in summary["results"]:
                continue
            r = summary["results"][kind]
            lines.append(
                f"| {name} | {label} | {r['wall_s']:.2f} | {summary['x_decode'][kind]:.2f} | "
                f"{summary['x_realtime'][kind]:.1f} | {r.get('cpu_s', float('nan')):.1f} | {_peak(r):.0f} |"
            )
    lines += ["", "Stages of each run (seconds):", ""]
    stage_names: list[str] = []
    for clip in suite["clips"].values():
        for key in clip["run"]["results"]["run"]:
            if key not in ("wall_s", "cpu_s", "peak_rss_mb", "child_peak_rss_mb") and key not in stage_names:
                stage_names.append(key)
    lines.append("| clip | " + " | ".join(stage_names) + " |")
    lines.append("|---" * (len(stage_names) + 1) + "|")
    for name, clip in suite["clips"].items():
        run = clip["run"]["results"]["run"]
        lines.append(f"| {name} | " + " | ".join(f"{run.get(s, 0.0):.2f}" for s in stage_names) + " |")
    lines += ["", *goals(suite)]
    return "\n".join(lines) + "\n"


def goals(suite: dict) -> list[str]:
    """Where each goal stands, from this run's figures."""
    said = ["Goals:"]
    for name, clip in suite["clips"].items():
        if name.startswith("1280x720 60s"):
            run_x = clip["run"]["x_decode"]["run"]
            said.append(
                f"- run on 60 s 720p: {run_x:.2f}x a plain decode (goal at most {GOAL_RUN_X_DECODE:g}x)"
            )
            visual_x = clip["analyze"]["x_decode"].get("visual")
            if visual_x is not None:
                said.append(f"- visual pass on 60 s 720p: {visual_x:.2f}x a plain decode "
                            f"(goal at most {GOAL_VISUAL_X_DECODE:g}x)")  # fmt: skip
    memory = suite.get("memory")
    if memory:
        film = memory["film"]
        said.append(
            f"- peak memory on a {film['seconds'] / 3600:g}-hour {film['size']} film: "
            f"{memory['peak_rss_mb']:.0f} MB (goal under {GOAL_FEATURE_MB} MB)"
        )
    for size, check in suite["scaling"].items():
        time_goal = GOAL_SCALING_TIME * check["length_ratio"]
        said.append(
            f"- scaling at {size}: {check['length_ratio']:g}x the length took {check['time_ratio']:.2f}x the "
            f"time (goal at most {time_goal:g}x) and {check['memory_ratio']:.2f}x the peak memory "
            f"(goal at most {GOAL_SCALING_MEMORY:g}x)"
        )
    return said


if __name__ == "__main__":
    main()
