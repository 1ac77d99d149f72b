"""Benchmark of `filmscore run`: time against real time and a plain ffmpeg decode, with peak memory.

Run:  .venv/bin/python benchmarks/bench_run.py [--seconds 60] [--size 1280x720] [--repeat 3]

It uses the same self-made clip as bench_analyze.py (hard cuts, spoken lines), then measures in fresh
processes:
- decode: `ffmpeg -i clip -f null -`;
- run:     the whole `filmscore run` (analysis, cues, compose and render, mix, mux, report folder),
           with each stage's time, so "compose" (composing plus FluidSynth rendering) shows on its own;
- preview: `filmscore run --pipeline fast-preview` (sparser analysis frames, no music check);
- restyle: a second run with another --style, after a first one whose reading and renders it may re-use;
- retake:  the editor's loop with takes: a first run offering two takes of each cue (--takes 2, what the
           report's picker plays), then a second one with take b of cue 2 chosen in the spotting CSV.
Every run keeps its reading and renders in a cache folder of its own, new and empty at its first run
(the restyle and retake kinds time their second run only; their CPU time is the second run's, their
peak memory the process's over both).
Results go to benchmarks/results/run-<size>-<seconds>s.json and a table on stdout.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from harness import parse_args, plain_decode, report, run_benchmark, stages_of, timed

STAGES_OF_INTEREST = ("compose", "music check", "mix", "mux")


def score(clip: Path) -> dict[str, float]:
    """A run as `filmscore run` makes it, through the API, with the embedded defaults and an empty cache."""
    with tempfile.TemporaryDirectory() as folder:
        return _scored(clip, Path(folder), "first")


def _scored(clip: Path, folder: Path, name: str, **options: object) -> dict[str, float]:
    """A run writing into `folder`/`name`, keeping its reading and renders in `folder`/cache; its stages."""
    import filmscore

    progress = filmscore.Progress()
    out = folder / name
    filmscore.score(clip, out / "scored.mp4", report_dir=out / "report", progress=progress,
                    cache_dir=folder / "cache", **options)  # fmt: skip
    return progress.timings


def second_try(kind: str, clip: Path) -> dict[str, float]:
    """A first run (not timed), then the second one timed: another style, or take b of cue 2."""
    import resource

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _scored(clip, folder, "first", **({"takes": 2} if kind == "retake" else {}))
        options: dict[str, object] = {"style": "piano"}
        if kind == "retake":
            cue = json.loads((folder / "first" / "report" / "report.json").read_text())["cues"][1]
            spotting = folder / "takes.csv"
            spotting.write_text(f"start,end,mood,take\n{cue['start_s']:.4f},{cue['end_s']:.4f},auto,b\n")
            options = {"spotting": str(spotting), "takes": 2}
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        before = sum(u.ru_utime + u.ru_stime for u in usage)
        result = timed(lambda: _scored(clip, folder, "second", **options))
    return {**result, "cpu_s": result["cpu_s"] - before}


def preview(clip: Path) -> dict[str, float]:
    from filmscore.cli.main import main

    with tempfile.TemporaryDirectory() as folder:
        code = main(["run", "--pipeline", "fast-preview", "--quiet", str(clip), "-o", f"{folder}/scored.mp4",
                     "--cache-dir", f"{folder}/cache"])  # fmt: skip
    if code != 0:
        raise SystemExit(f"the fast-preview run failed (exit {code})")
    return {}


def measure(kind: str, clip: Path) -> dict[str, float]:
    if kind in ("restyle", "retake"):
        return second_try(kind, clip)
    work = {"decode": plain_decode, "run": score, "preview": preview}[kind]
    return timed(lambda: work(clip))


def main() -> None:
    args = parse_args(__doc__)
    summary = run_benchmark(__file__, args, ("decode", "run", "preview", "restyle", "retake"), measure)
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
