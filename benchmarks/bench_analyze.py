"""Benchmark of `filmscore analyze`: time against real time and a plain ffmpeg decode, with peak memory.

Run:  .venv/bin/python benchmarks/bench_analyze.py [--seconds 60] [--size 1280x720]

It makes its own clip (hard cuts, spoken lines), then measures in fresh processes:
- decode:  `ffmpeg -i clip -f null -`, the floor any analysis pays;
- visual:  the single decode pass with shot detection, picture features and faces (imports excluded);
- analyze: the whole `filmscore analyze -q`.
Results go to benchmarks/results/analyze-<size>-<seconds>s.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
LINES = [
    ("Good morning! What a wonderful day. I am so happy you came.", "happy"),
    ("I have bad news. Your old friend died last night.", "sad"),
    ("Run! Get out! The fire is coming, hurry!", "frightened"),
    ("Rest now. It is quiet and calm. Everything will be fine.", "calm"),
]
PICTURES = ["warm", "testcard", "grey", "bars", "night", "zoom", "dark", "bright_motion"]


def make_clip(seconds: float, size: tuple[int, int], target: Path) -> Path:
    from filmscore.synthetic import Line, ShotSpec, make_film

    shots, t, i = [], 0.0, 0
    while t < seconds - 0.01:
        length = min(5.0, seconds - t)
        text, voice = LINES[i % len(LINES)]
        line = Line(text, voice) if i % 2 == 0 else None
        shots.append(ShotSpec(PICTURES[i % len(PICTURES)], length, line))
        t, i = t + length, i + 1
    return make_film(target, shots, size=size, fps=25.0)


def measure_one(kind: str, clip: Path) -> dict[str, float]:
    """Runs in its own process, so peak memory is this measurement's alone."""
    timings: dict[str, float] = {}
    if kind == "visual":
        # Imported before the clock starts: the fixed ~1.5 s import of OpenCV and PySceneDetect is not
        # part of the per-film cost this compares with a decode. `analyze` below does count its imports.
        import cv2  # noqa: F401
        import scenedetect  # noqa: F401
    start = time.perf_counter()
    if kind == "decode":
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-f", "null", "-"], check=True)
    elif kind == "visual":
        from filmscore.decode import DecodeOptions, analysis_geometry, scan
        from filmscore.media import probe
        from filmscore.shots import ShotAnalyser, ShotOptions
        from filmscore.visual_emotion import PictureFeatureEmotion

        info = probe(clip)
        geometry = analysis_geometry(info, DecodeOptions())
        backend = PictureFeatureEmotion()
        shots = ShotAnalyser(geometry.fps, ShotOptions())
        scan(info, geometry, [shots, *backend.analysers(geometry, round(info.duration_s * geometry.fps))])
        backend.estimate(shots.shots())
    elif kind == "analyze":
        from filmscore.pipeline import AnalyzeOptions, analyze
        from filmscore.progress import Progress

        progress = Progress()
        analyze(clip, AnalyzeOptions(), progress)
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
        for kind in ("decode", "visual", "analyze")
    }
    decode_s = results["decode"]["wall_s"]
    summary = {
        "clip": {"seconds": args.seconds, "size": args.size, "fps": 25},
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
        "results": results,
        "x_decode": {k: r["wall_s"] / decode_s for k, r in results.items()},
        "x_realtime": {k: args.seconds / r["wall_s"] for k, r in results.items()},
    }
    (RESULTS / f"analyze-{args.size}-{args.seconds:g}s.json").write_text(json.dumps(summary, indent=2))
    print(f"{args.seconds:g} s clip at {args.size}, {summary['machine']['cpus']} CPUs")
    print("| measurement | wall s | x plain decode | x real time | peak RSS MB |")
    print("|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['wall_s']:.2f} | {summary['x_decode'][kind]:.2f} | "
            f"{summary['x_realtime'][kind]:.1f} | {max(r['peak_rss_mb'], r['child_peak_rss_mb']):.0f} |"
        )
    stages = {
        k: v for k, v in results["analyze"].items() if k not in ("wall_s", "peak_rss_mb", "child_peak_rss_mb")
    }
    print("analyze stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main()
