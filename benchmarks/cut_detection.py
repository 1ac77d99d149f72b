"""Recall, precision and frame error of every shot detector, and of the presets' shot analysis, on the cut
test set (tests/cut_films.py: grain, shake, patterns, dark to dark, similar colours, a flash, a strobe,
fast pans, a dissolve, and films with no cut), with the cost of the shot pass against a plain decode.

Run:  .venv/bin/python benchmarks/cut_detection.py
Prints a Markdown table (docs/cut-detection.md holds the last one) and writes
benchmarks/results/cut_detection.json. A cut is found when one lies within a frame of it.

      .venv/bin/python benchmarks/cut_detection.py --draws 12
The presets' own detector on the set drawn 12 times (every grain and pattern seeded anew: the tests judge
one draw), with the misses and false cuts of each film; writes benchmarks/results/cut_draws.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' film maker

from filmscore.analysis.shots import SHOT_DETECTORS, ShotAnalyser, ShotOptions
from filmscore.api import resolved_settings
from filmscore.media.decode import DecodeOptions, analysis_geometry, iter_frames, scan
from filmscore.media.probe import probe
from tests.cut_films import CUT_FILMS, CutFilm, make_cut_film, redrawn, score_cuts

RESULTS = Path(__file__).parent / "results"


def run(
    films: dict[str, Path], detector: str, decode: DecodeOptions, cut_films: tuple[CutFilm, ...] = CUT_FILMS
) -> dict[str, object]:
    found = true = false = 0
    errors: list[int] = []
    shot_s = decode_s = film_s = 0.0
    per_film = {}
    for film in cut_films:
        info = probe(films[film.name])
        geometry = analysis_geometry(info, decode)
        started = time.process_time()
        for _ in iter_frames(info, geometry):
            pass
        decode_s += time.process_time() - started
        analyser = ShotAnalyser(geometry.fps, ShotOptions(detector=detector), geometry.step)
        started = time.process_time()
        scan(info, geometry, [analyser])
        shot_s += time.process_time() - started
        film_s += info.duration_s
        score = score_cuts(film, [shot.start_s for shot in analyser.shots(info.duration_s)[1:]])
        found, true, false = found + score.found, true + score.true_cuts, false + score.false_cuts
        errors += score.frame_errors
        per_film[film.name] = {"found": score.found, "cuts": score.true_cuts, "false": score.false_cuts}
    return {
        "recall": found / true, "precision": found / max(1, found + false), "false_cuts": false,
        "mean_frame_error": statistics.fmean(errors) if errors else None,
        "films": per_film,
        # this process's CPU (decoder threads run in ffmpeg, not here): the Python side of the pass
        "shot_pass_cpu_per_film_s": shot_s / film_s, "decode_loop_cpu_per_film_s": decode_s / film_s,
    }  # fmt: skip


def draws(count: int) -> None:
    """The presets' detector on `count` draws of the set: per preset and film, cuts missed and false."""
    rows: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory(prefix="filmscore-cuts-") as folder:
        for draw in range(count):
            drawn = tuple(redrawn(film, draw) for film in CUT_FILMS)
            films = {f.name: make_cut_film(f, Path(folder) / f"{f.name}-{draw}.mp4") for f in drawn}
            for preset in ("embedded", "fast-preview"):
                settings = resolved_settings(preset, {}, run_only=False)
                decode = DecodeOptions(settings["analysis.width"], settings["analysis.max_fps"])
                per_film = run(films, settings["analysis.shot_detector"], decode, drawn)["films"]
                assert isinstance(per_film, dict)
                for name, film in per_film.items():
                    row = rows.setdefault(f"{preset}, {name}", Counter())
                    row.update(draws=1, cuts=film["cuts"], missed=film["cuts"] - film["found"])
                    row.update(false=film["false"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cut_draws.json").write_text(json.dumps(rows, indent=2))
    print("| preset, film | draws | cuts | missed | false cuts |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['draws']} | {r['cuts']} | {r['missed']} | {r['false']} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--draws", type=int, default=0, help="the presets' detector on N draws of the set")
    count = parser.parse_args().draws
    if count:
        draws(count)
        return
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="filmscore-cuts-") as folder:
        films = {f.name: make_cut_film(f, Path(folder) / f"{f.name}.mp4") for f in CUT_FILMS}
        for preset in ("embedded", "fast-preview"):
            settings = resolved_settings(preset, {}, run_only=False)
            decode = DecodeOptions(width=settings["analysis.width"], max_fps=settings["analysis.max_fps"])
            for detector in SHOT_DETECTORS.names():
                default = " (the preset's)" if detector == settings["analysis.shot_detector"] else ""
                results[f"{preset}, {detector}{default}"] = run(films, detector, decode)
    (RESULTS / "cut_detection.json").write_text(json.dumps(results, indent=2))
    print("| preset, detector | recall | precision | false cuts | mean frame error | "
          "shot pass CPU s per film s (decode loop alone) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        error = "—" if r["mean_frame_error"] is None else f"{r['mean_frame_error']:.2f}"
        print(f"| {name} | {r['recall']:.2f} | {r['precision']:.2f} | {r['false_cuts']} | {error} | "
              f"{r['shot_pass_cpu_per_film_s']:.3f} ({r['decode_loop_cpu_per_film_s']:.3f}) |")  # fmt: skip


if __name__ == "__main__":
    main()
