"""What each frame analyser of the picture pass costs, on frames already in memory (no decode).

Run:  .venv/bin/python benchmarks/analyser_costs.py [--seconds 60] [--size 1280x720] [--repeat 5]

Decodes the benchmark clip once at the analysis size into memory, then feeds all its frames to each
analyser alone, on one thread as the pass does, and prints the CPU time of the fastest of --repeat runs:
core-seconds for the clip and microseconds a frame. The face analyser gets the cuts as the shot analyser
reported them during its own run, frame by frame, as in the pass. The figures are the analysers' own
work; in the pass they run beside the decoder on the same cores.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from harness import benchmark_clip

from filmscore.analysis.shots import ShotAnalyser, ShotOptions
from filmscore.analysis.thumbnails import ThumbnailAnalyser
from filmscore.analysis.visual.features import FaceAnalyser, PictureFeatureAnalyser
from filmscore.media.decode import DecodeOptions, _opencv_on_one_thread, analysis_geometry, iter_frames
from filmscore.media.probe import probe


def best_cpu(feed: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        feed()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    info = probe(benchmark_clip(args.size, args.seconds))
    geometry = analysis_geometry(info, DecodeOptions())
    _opencv_on_one_thread()
    frames = [frame.copy() for frame in iter_frames(info, geometry)]
    reported = _cuts_as_reported(frames, geometry.fps)

    def shots() -> None:
        analyser = ShotAnalyser(geometry.fps, ShotOptions())
        for index, frame in enumerate(frames):
            analyser.consume(index, frame)

    def features() -> None:
        analyser = PictureFeatureAnalyser(len(frames))
        for index, frame in enumerate(frames):
            analyser.consume(index, frame)

    def faces() -> None:
        cuts: list[int] = []
        analyser = FaceAnalyser(geometry.fps, cuts)
        for index, frame in enumerate(frames):
            cuts.extend(reported.get(index, ()))
            analyser.consume(index, frame)

    def thumbnails() -> None:
        analyser = ThumbnailAnalyser(geometry.fps)
        for index, frame in enumerate(frames):
            analyser.consume(index, frame)

    print(f"{len(frames)} frames of {geometry.width}x{geometry.height}; CPU of the fastest of {args.repeat}:")
    for name, feed in (("shots", shots), ("picture features", features), ("faces", faces),
                       ("thumbnails", thumbnails)):  # fmt: skip
        cpu = best_cpu(feed, args.repeat)
        print(f"  {name:17s} {cpu:6.3f} core-s  {cpu / len(frames) * 1e6:6.0f} us a frame")


def _cuts_as_reported(frames: list, fps: float) -> dict[int, list[int]]:
    """The frame at which the shot analyser reported each cut: detectors report some frames late."""
    analyser = ShotAnalyser(fps, ShotOptions())
    reported: dict[int, list[int]] = {}
    for index, frame in enumerate(frames):
        before = len(analyser.cuts_so_far)
        analyser.consume(index, frame)
        if len(analyser.cuts_so_far) > before:
            reported[index] = list(analyser.cuts_so_far[before:])
    return reported


if __name__ == "__main__":
    main()
