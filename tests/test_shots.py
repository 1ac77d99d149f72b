from __future__ import annotations

import itertools
import subprocess

import pytest

from filmscore.analysis.shots import SHOT_DETECTORS, ShotAnalyser, ShotOptions, shots_from_cuts
from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media.probe import probe
from tests.synthetic import ShotSpec, make_film

from .conftest import CUT_TIMES_S, FPS


def _detect(path, detector="layered"):
    info = probe(path)
    geometry = analysis_geometry(info, DecodeOptions())
    analyser = ShotAnalyser(geometry.fps, ShotOptions(detector=detector))
    scan(info, geometry, [analyser])
    return analyser.shots()


@pytest.mark.parametrize("detector", ["layered", "adaptive", "content"])
def test_hard_cuts_are_found_within_one_frame(cuts_film, detector):
    shots = _detect(cuts_film, detector)
    assert len(shots) == len(CUT_TIMES_S) + 1
    for shot, cut in zip(shots[1:], CUT_TIMES_S, strict=True):
        assert abs(shot.start_s - cut) <= 1 / FPS + 1e-9
    assert shots[0].start_s == 0 and shots[-1].end_s == pytest.approx(8.0)


@pytest.mark.parametrize("detector", SHOT_DETECTORS.names())
def test_every_detector_tiles_the_film(cuts_film, detector):
    shots = _detect(cuts_film, detector)
    assert shots[0].start_frame == 0 and shots[-1].end_frame == 200
    for before, after in itertools.pairwise(shots):
        assert before.end_frame == after.start_frame
    assert [s.index for s in shots] == list(range(len(shots)))


def test_one_continuous_shot_has_no_cut(media_dir):
    film = make_film(media_dir / "long_take.mp4", [ShotSpec("zoom", 4.0)], audio=False)
    assert len(_detect(film)) == 1


def test_cuts_become_consecutive_shots():
    shots = shots_from_cuts([50, 0, 50, 120, 300], frame_count=200, fps=25.0)
    assert [(s.start_frame, s.end_frame) for s in shots] == [(0, 50), (50, 120), (120, 200)]
    assert shots[1].start_s == 2.0 and shots[1].duration_s == pytest.approx(2.8)


@pytest.mark.parametrize("detector", ["layered", "adaptive", "content"])
def test_a_flash_inside_a_shot_is_not_a_cut(media_dir, cuts_film, detector):
    flashed = media_dir / "flashed.mp4"
    # Three white frames at 1 s, in the middle of the first shot: a camera flash.
    flash = "drawbox=color=white:t=fill:enable='between(t,1.0,1.1)'"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(cuts_film), "-vf", flash, "-c:v", "libx264", str(flashed)],
        check=True,
    )
    shots = _detect(flashed, detector)
    assert [round(s.start_s, 2) for s in shots[1:]] == list(CUT_TIMES_S)


def test_the_analysers_run_opencv_on_one_thread(cuts_film):
    """ffmpeg's decoder threads fill the cores during the pass; OpenCV's own pool would contend with them."""
    import cv2

    cv2.setNumThreads(2)
    _detect(cuts_film)
    assert cv2.getNumThreads() == 1
