"""Cuts found on any footage (issue 34): the cut test set (tests/cut_films.py) through the shot analysis as
the default preset and fast-preview run it. Every hard cut within one frame, no cut on films that have
none, at most one in a dissolve, and flashes left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmscore.analysis.shots import ShotAnalyser, ShotOptions
from filmscore.api import resolved_settings
from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media.probe import probe
from tests.cut_films import CUT_FILMS, CutFilm, make_cut_film, score_cuts

PRESETS = ("embedded", "fast-preview")


@pytest.fixture(scope="module")
def cut_set(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cut set")
    return {film.name: make_cut_film(film, folder / f"{film.name}.mp4") for film in CUT_FILMS}


def detected_cuts(path: Path, preset: str) -> list[float]:
    """The cuts the preset's shot analysis finds, in seconds, as `analyze` runs it."""
    settings = resolved_settings(preset, {}, run_only=False)
    decode = DecodeOptions(width=settings["analysis.width"], max_fps=settings["analysis.max_fps"])
    info = probe(path)
    geometry = analysis_geometry(info, decode)
    analyser = ShotAnalyser(
        geometry.fps, ShotOptions(detector=settings["analysis.shot_detector"]), geometry.step
    )
    scan(info, geometry, [analyser])
    shots = analyser.shots(info.duration_s)
    assert shots[0].start_s == 0 and shots[-1].end_s == pytest.approx(info.duration_s)
    return [shot.start_s for shot in shots[1:]]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("film", CUT_FILMS, ids=lambda film: film.name)
def test_every_hard_cut_is_found_on_its_frame_and_nothing_else(cut_set, film: CutFilm, preset):
    score = score_cuts(film, detected_cuts(cut_set[film.name], preset), tolerance=1)
    assert score.found == score.true_cuts, (film.name, preset, score)
    assert score.false_cuts == 0, (film.name, preset, score)


def test_fast_preview_samples_fewer_frames_but_sees_every_cut_frame(cut_set):
    info = probe(cut_set["grain"])
    settings = resolved_settings("fast-preview", {}, run_only=False)
    geometry = analysis_geometry(
        info, DecodeOptions(settings["analysis.width"], settings["analysis.max_fps"])
    )
    assert geometry.fps <= settings["analysis.max_fps"] and geometry.decode_fps == pytest.approx(info.fps)


def test_the_score_of_a_cut_list_counts_misses_and_false_cuts():
    film = CUT_FILMS[0]
    at = [frame / film.fps for frame in film.cut_frames]
    assert score_cuts(film, [float(t) for t in at]).recall == 1.0
    late = score_cuts(film, [float(t) + 2 / float(film.fps) for t in at])
    assert late.found == 0 and late.false_cuts == len(at)
