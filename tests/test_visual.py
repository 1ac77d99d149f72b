"""Face looks, on frames made here and on the synthetic cuts film."""

from __future__ import annotations

import numpy as np

from filmscore.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media import probe
from filmscore.shots import ShotAnalyser, ShotOptions
from filmscore.visual import FACE_LOOKS_PER_S, FACE_SETTLE_S, FaceAnalyser


def test_faces_are_looked_for_once_a_second_restarting_after_each_cut():
    fps = 25.0
    cuts: list[int] = []
    faces = FaceAnalyser(fps, cuts)
    flat = np.full((144, 256, 3), 128, dtype=np.uint8)
    for index in range(100):
        if index == 42:
            cuts.append(40)  # a cut at frame 40, reported two frames late as the adaptive detector does
        faces.consume(index, flat)
    assert [look[0] for look in faces.samples] == [6, 31, 46, 71, 96]
    assert all(found == 0 for _, found, _ in faces.samples)  # a flat picture holds no face


def test_every_shot_gets_a_look_for_faces_clear_of_its_cut(cuts_film):
    info = probe(cuts_film)
    geometry = analysis_geometry(info, DecodeOptions())
    shots_analyser = ShotAnalyser(geometry.fps, ShotOptions())
    faces = FaceAnalyser(geometry.fps, shots_analyser.cuts_so_far)
    scan(info, geometry, [shots_analyser, faces])
    looks = np.array([look[0] for look in faces.samples])
    settle = round(FACE_SETTLE_S * geometry.fps)
    for shot in shots_analyser.shots():
        inside = looks[(looks >= shot.start_frame) & (looks < shot.end_frame)]
        assert len(inside) == round(shot.duration_s * FACE_LOOKS_PER_S)  # 2 s shots: two looks each
        assert inside.min() >= shot.start_frame + settle
