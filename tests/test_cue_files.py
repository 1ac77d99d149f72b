"""The mix's gain as keyframes on the cue clips (issue 35): however the ducking curve goes, the keyframes
kept give it back within their tolerance at every picture frame, and keep its first and last values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from filmscore.media.probe import AudioClip
from filmscore.scoring.stems import GAIN_TOLERANCE_DB, gain_keyframes, thinned

RATE = 48_000


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-40.0, 6.0), min_size=1, max_size=300), st.floats(0.1, 1.0))
def test_the_points_kept_draw_every_point_within_the_tolerance(values, tolerance):
    times = np.arange(len(values), dtype=float) / 24
    points = np.array(values)
    kept = thinned(times, points, tolerance)
    assert kept[0] == 0 and kept[-1] == len(values) - 1 and kept == sorted(set(kept))
    drawn = np.interp(times, times[kept], points[kept])
    assert np.abs(drawn - points).max() <= tolerance + 1e-9


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 9.0), st.floats(0.2, 2.0)), max_size=4),
    st.sampled_from([24000 / 1001, 25.0, 30000 / 1001]),
    st.floats(0.0, 3.0),
)
def test_keyframes_follow_a_ducking_curve_at_every_frame(lines, fps, start_s):
    """A curve of raised-cosine dips (the mix's ducking under lines) over a 10 s film, read back from
    keyframes placed on a cue file that starts at `start_s`: within the tolerance at every frame."""
    t = np.arange(10 * RATE) / RATE
    depth = np.zeros_like(t)
    for at, length in lines:
        rise = np.clip((t - (at - 0.3)) / 0.3, 0, 1)
        fall = np.clip((at + length + 0.8 - t) / 0.8, 0, 1)
        depth = np.maximum(depth, 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall)))
    scale = AudioClip((0.8 * 10 ** (-10 * depth / 20)).astype(np.float32), RATE)
    keys = np.array(gain_keyframes(scale, 0.8, start_s, start_s, 10.0, fps))
    assert keys[0, 0] == 0.0 and np.all(np.diff(keys[:, 0]) > 0)
    frames = np.arange(np.ceil(start_s * fps), np.floor(10.0 * fps) - 1) / fps
    truth = 20 * np.log10(scale.samples[np.round(frames * RATE).astype(int)] / 0.8)
    drawn = np.interp(frames - start_s, keys[:, 0], keys[:, 1])
    assert np.abs(drawn - truth).max() <= GAIN_TOLERANCE_DB + 0.01  # keyframe values are kept to 1/1000 dB


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3 * 48_000),
    st.floats(0.0, 1.0),
    st.floats(-90.0, 0.0),
    st.integers(0, 4 * 48_000),
    st.integers(0, 2**31),
)
def test_the_ring_out_ends_after_the_last_frame_above_the_floor(frames, decay_at, tail_db, at_least, seed):
    """A cue render's ring-out end, read in one pass of chunk peaks, is the frame after the last one
    within CLEAN_FLOOR_DB of the peak (or `at_least`), as reading every frame twice finds it."""
    from filmscore.music.symbolic.cue_sounds import CLEAN_FLOOR_DB, ring_out_end

    rng = np.random.default_rng(seed)
    level = np.where(np.arange(frames) < decay_at * frames, 1.0, 10 ** (tail_db / 20))
    sound = AudioClip((rng.uniform(-1, 1, (frames, 2)) * level[:, None]).astype(np.float32), RATE)
    loudness = np.abs(sound.samples).max(axis=1)
    loud = np.flatnonzero(loudness > loudness.max() * 10 ** (CLEAN_FLOOR_DB / 20))
    expected = min(frames, max(at_least, int(loud[-1]) + 1 if len(loud) else 0))
    assert ring_out_end(sound, at_least) == expected
