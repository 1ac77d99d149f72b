"""Each shot's thumbnail is the sample nearest its middle, found without a shots x samples table."""

import cv2
import numpy as np
import pytest

from filmscore.analysis.shots import Shot
from filmscore.analysis.thumbnails import ThumbnailAnalyser, nearest_indices


def test_nearest_indices_match_the_brute_force_choice():
    rng = np.random.default_rng(3)
    samples = np.sort(rng.choice(10_000, size=400, replace=False))
    targets = rng.uniform(-50, 10_050, size=300)
    brute = np.abs(samples[None, :] - targets[:, None]).argmin(axis=1)
    assert np.array_equal(nearest_indices(samples, targets), brute)


@pytest.mark.parametrize("samples", [[12], [0, 10]])
def test_nearest_indices_with_one_or_two_samples(samples):
    targets = np.array([-3.0, 4.0, 5.0, 6.0, 40.0])
    brute = np.abs(np.array(samples)[None, :] - targets[:, None]).argmin(axis=1)
    assert np.array_equal(nearest_indices(np.array(samples), targets), brute)


def test_each_shot_gets_the_sample_nearest_its_middle():
    analyser = ThumbnailAnalyser(fps=4.0)  # a sample every other frame
    for index in range(40):
        shade = np.full((36, 64, 3), index * 6, dtype=np.uint8)
        analyser.consume(index, shade)
    shots = (Shot(0, 0, 10, 0.0, 2.5), Shot(1, 10, 31, 2.5, 7.75), Shot(2, 31, 40, 7.75, 10.0))
    thumbs = analyser.for_shots(shots)
    # Middles 4.5, 20 and 35: samples 4, 20 and 34 (the earlier on a tie).
    shades = [int(cv2.imdecode(np.frombuffer(t, np.uint8), cv2.IMREAD_COLOR).mean().round()) for t in thumbs]
    assert shades == [4 * 6, 20 * 6, 34 * 6]
