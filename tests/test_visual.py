"""Picture features and face looks, on frames made here and on the synthetic cuts film."""

from __future__ import annotations

import colorsys

import numpy as np

from filmscore.analysis.shots import ShotAnalyser, ShotOptions
from filmscore.analysis.visual.features import (
    BRIGHTNESS,
    COLOURFULNESS,
    FACE_LOOKS_PER_S,
    FACE_SETTLE_S,
    FLICKER,
    MOTION,
    SATURATION,
    WARMTH,
    FaceAnalyser,
    PictureFeatureAnalyser,
)
from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media.probe import probe


def _by_definition(frame: np.ndarray, previous: np.ndarray) -> dict[int, float]:
    """Each feature computed plainly in float64 from its definition, on every second pixel for colour."""
    small = frame[::2, ::2].astype(np.float64)
    b, g, r = small[..., 0], small[..., 1], small[..., 2]
    hsv = np.array([colorsys.rgb_to_hsv(*px) for px in np.stack([r, g, b], -1).reshape(-1, 3) / 255.0])
    rg, yb = r - g, 0.5 * (r + g) - b
    grey = frame.astype(np.float64) @ [0.114, 0.587, 0.299]
    before = previous.astype(np.float64) @ [0.114, 0.587, 0.299]
    return {
        BRIGHTNESS: hsv[:, 2].mean(),
        SATURATION: hsv[:, 1].mean(),
        # Hasler and Süsstrunk (2003): sigma_rgyb + 0.3 mu_rgyb, here divided by 100.
        COLOURFULNESS: (np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())) / 100.0,
        WARMTH: (r.mean() - b.mean()) / 255.0,
        MOTION: np.abs(grey - before).mean() / 255.0,
    }


def test_picture_features_follow_their_definitions():
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (72, 128, 3), dtype=np.uint8) for _ in range(3)]
    frames[2] = (frames[2] // 3).astype(np.uint8)  # a darker frame, so flicker is clearly above zero
    analyser = PictureFeatureAnalyser(expected_frames=3)
    for index, frame in enumerate(frames):
        analyser.consume(index, frame)
    analyser.finish(3)
    table = analyser.table
    for index in (1, 2):
        expected = _by_definition(frames[index], frames[index - 1])
        for column, value in expected.items():
            # OpenCV rounds HSV and grey to whole levels of 255, and sums colour in float32.
            assert abs(table[index, column] - value) < 0.004, (index, column)
    assert table[0, MOTION] == 0 and table[0, FLICKER] == 0
    assert table[2, FLICKER] == abs(table[2, BRIGHTNESS] - table[1, BRIGHTNESS]) > 0.1


def test_faces_are_looked_for_once_a_second_restarting_after_each_cut():
    fps = 25.0
    cuts: list[int] = []
    faces = FaceAnalyser(fps, cuts)
    flat = np.full((144, 256, 3), 128, dtype=np.uint8)
    for index in range(100):
        if index == 42:
            cuts.append(40)  # a cut at frame 40, reported two frames late as the adaptive detector does
        faces.consume(index, flat)
    assert [look.index for look in faces.samples] == [6, 31, 46, 71, 96]
    assert all(look.faces == 0 and look.area == 0.0 for look in faces.samples)  # a flat picture: no face


def test_every_shot_gets_a_look_for_faces_clear_of_its_cut(cuts_film):
    info = probe(cuts_film)
    geometry = analysis_geometry(info, DecodeOptions())
    shots_analyser = ShotAnalyser(geometry.fps, ShotOptions())
    faces = FaceAnalyser(geometry.fps, shots_analyser.cuts_so_far)
    scan(info, geometry, [shots_analyser, faces])
    looks = np.array([look.index for look in faces.samples])
    settle = round(FACE_SETTLE_S * geometry.fps)
    for shot in shots_analyser.shots():
        inside = looks[(looks >= shot.start_frame) & (looks < shot.end_frame)]
        assert len(inside) == round(shot.duration_s * FACE_LOOKS_PER_S)  # 2 s shots: two looks each
        assert inside.min() >= shot.start_frame + settle
