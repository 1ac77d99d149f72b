"""Benchmark of `filmscore analyze`: time against real time and a plain ffmpeg decode, with peak memory.

Run:  .venv/bin/python benchmarks/bench_analyze.py [--seconds 60] [--size 1280x720]

It makes its own clip (hard cuts, spoken lines), then measures in fresh processes:
- decode:  `ffmpeg -i clip -f null -`, the floor any analysis pays;
- visual:  the single decode pass with shot detection, picture features and faces (imports excluded);
- analyze: the whole `filmscore analyze -q`.
Results go to benchmarks/results/analyze-<size>-<seconds>s.json and a table on stdout.
"""

from __future__ import annotations

from pathlib import Path

from harness import parse_args, plain_decode, report, run_benchmark, stages_of, timed


def visual_pass(clip: Path) -> dict[str, float]:
    from filmscore.analysis.shots import ShotAnalyser, ShotOptions
    from filmscore.analysis.visual import PictureFeatureEmotion
    from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
    from filmscore.media.probe import probe

    info = probe(clip)
    geometry = analysis_geometry(info, DecodeOptions())
    backend = PictureFeatureEmotion()
    shots = ShotAnalyser(geometry.fps, ShotOptions())
    frames = round(info.duration_s * geometry.fps)
    # ab_run.py also runs this against older commits, whose shot analyser kept its cuts to itself.
    cuts = getattr(shots, "cuts_so_far", None)
    with_cuts = () if cuts is None else (cuts,)
    analysers = backend.analysers(geometry, frames, *with_cuts)
    scan(info, geometry, [shots, *analysers])
    backend.estimate(shots.shots())
    return {}


def analyze_clip(clip: Path) -> dict[str, float]:
    from filmscore.analysis.flow import AnalyzeOptions, analyze
    from filmscore.core.progress import Progress

    progress = Progress()
    analyze(clip, AnalyzeOptions(), progress)
    return progress.timings


def measure(kind: str, clip: Path) -> dict[str, float]:
    if kind == "visual":
        # Imported before the clock starts: the fixed ~1.5 s import of OpenCV and PySceneDetect is not
        # part of the per-film cost this compares with a decode. `analyze` below does count its imports.
        import cv2  # noqa: F401
        import scenedetect  # noqa: F401
    work = {"decode": plain_decode, "visual": visual_pass, "analyze": analyze_clip}[kind]
    return timed(lambda: work(clip))


def main() -> None:
    summary = run_benchmark(__file__, parse_args(__doc__), ("decode", "visual", "analyze"), measure)
    report(summary, "analyze")
    stages = stages_of(summary["results"]["analyze"])
    print("analyze stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main()
