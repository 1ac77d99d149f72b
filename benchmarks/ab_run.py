"""`filmscore run` at another commit against the working tree, on the same clip, turn about.

Run:  .venv/bin/python benchmarks/ab_run.py REF [--seconds 60] [--size 1280x720] [--rounds 3] [--visual]

This machine's speed drifts by more than most changes are worth, so two runs measured minutes apart
compare badly. This checks REF out in a temporary git worktree, then runs a plain decode, REF's run and
the working tree's run, round after round, each in a fresh process (REF's through PYTHONPATH, with the
same virtual environment). It prints each round and the medians, with each stage's median (a run is
`filmscore.score` with the progress hook that times its stages), and writes
benchmarks/results/ab-<REF>.json. With --visual it times the visual pass (bench_analyze.py's: the decode
pass with shots, picture features and faces, imports excluded) instead of the whole run, and writes
ab-visual-<REF>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from harness import RESULTS, benchmark_clip, plain_decode

ROOT = Path(__file__).resolve().parent.parent
# The visual pass in a fresh process, timed inside it once OpenCV and PySceneDetect are imported; prints
# its wall and CPU time (the process and its ffmpeg) as JSON.
VISUAL_PASS = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {benchmarks!r})
import cv2, scenedetect
from bench_analyze import visual_pass
def cpu():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
start_cpu, start = cpu(), time.perf_counter()
visual_pass(Path({clip!r}))
print(json.dumps({{"wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(cpu() - start_cpu, 1)}}))
"""

# A whole run in a fresh process, through the API as `filmscore run` calls it; prints its stages' seconds.
RUN = """
import json, sys
from pathlib import Path
import filmscore
if __name__ == "__main__":
    progress = filmscore.Progress()
    filmscore.score(sys.argv[1], sys.argv[2], progress=progress)
    print(json.dumps(progress.timings))
"""
STAGES_SHOWN = ("pictures and shots", "compose", "music check", "mix", "mux")


def timed(work: Callable[[], object]) -> dict[str, float]:
    """Wall time and CPU time (core-seconds) of `work`'s child processes and everything they start."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1)}


def visual_pass(clip: Path, env: dict[str, str], folder: str) -> dict[str, float]:
    script = VISUAL_PASS.format(benchmarks=str(Path(__file__).resolve().parent), clip=str(clip))
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=folder, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the commit to compare with (anything git rev-parse takes)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--visual", action="store_true", help="time the visual pass, not the whole run")
    args = parser.parse_args()
    clip = benchmark_clip(args.size, args.seconds)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.ref],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    results: dict[str, list[dict[str, float]]] = {"decode": [], commit: [], "working tree": []}
    with tempfile.TemporaryDirectory() as folder:
        worktree = Path(folder).resolve() / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree), commit],
                       check=True)  # fmt: skip
        try:
            envs = {commit: {**os.environ, "PYTHONPATH": str(worktree)}, "working tree": dict(os.environ)}
            # Run from the temporary folder: `python -m` puts the current folder first on sys.path, so from
            # the project root every run would import the working tree's filmscore.
            for name, env in envs.items():
                probe = [sys.executable, "-c", "import filmscore; print(filmscore.__file__)"]
                where = subprocess.run(probe, env=env, cwd=folder, capture_output=True, text=True, check=True)
                expected = worktree if name == commit else ROOT
                if not where.stdout.strip().startswith(str(expected)):
                    sys.exit(f"{name} would import {where.stdout.strip()}, not filmscore from {expected}")
            for round_ in range(args.rounds):
                results["decode"].append(timed(lambda: plain_decode(clip)))
                for name, env in envs.items():
                    if args.visual:
                        results[name].append(visual_pass(clip, env, folder))
                        continue
                    output = Path(folder) / f"{round_}-{name.replace(' ', '-')}.mp4"
                    run = [sys.executable, "-c", RUN, str(clip), str(output)]
                    # A cache folder of its own, empty: no run takes another's reading or renders.
                    cache = {**env, "XDG_CACHE_HOME": tempfile.mkdtemp(dir=folder)}
                    done: list[subprocess.CompletedProcess[str]] = []
                    scored = partial(
                        subprocess.run, run, env=cache, cwd=folder, capture_output=True, text=True, check=True
                    )
                    measured = timed(lambda: done.append(scored()))  # noqa: B023 (called at once)
                    stages = json.loads(done[0].stdout.strip().splitlines()[-1])
                    results[name].append({**measured, **{k: round(v, 2) for k, v in stages.items()}})
                print(
                    f"round {round_ + 1}: "
                    + ", ".join(f"{k} {v[-1]['wall_s']:.2f} s" for k, v in results.items())
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False
            )
    medians = {name: _medians(runs) for name, runs in results.items()}
    decode_s = medians["decode"]["wall_s"]
    summary = {"clip": clip.name, "ref": commit, "rounds": results, "medians": medians}
    kind = "visual-" if args.visual else ""
    (RESULTS / f"ab-{kind}{commit}.json").write_text(json.dumps(summary, indent=2))
    print(f"medians of {args.rounds} rounds, {clip.name}:")
    shown = [stage for stage in STAGES_SHOWN if stage in medians["working tree"]]
    print("| | wall s | x plain decode | CPU core-s |" + "".join(f" {stage} s |" for stage in shown))
    print("|---|---|---|---|" + "---|" * len(shown))
    for name, median in medians.items():
        stages = "".join(f" {median[stage]:.2f} |" if stage in median else " |" for stage in shown)
        times = f"{median['wall_s']:.2f} | {median['wall_s'] / decode_s:.2f} | {median['cpu_s']:.1f}"
        print(f"| {name} | {times} |{stages}")


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each measure every run has: wall and CPU time, and a run's stages."""
    keys = [key for key in ("wall_s", "cpu_s", *STAGES_SHOWN) if all(key in run for run in runs)]
    return {key: statistics.median(run[key] for run in runs) for key in keys}


if __name__ == "__main__":
    main()
