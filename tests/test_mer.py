"""Music emotion recognition, on music with known mode, tempo and level made in numpy (tests/music_synth),
and the closed-loop cue check on the symbolic composer's own renders."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filmscore.core.errors import InputError
from filmscore.music import mer as mer_module
from filmscore.music.check import check_music, rearrange, rearranged_cue
from filmscore.music.mer import MER_BACKENDS, MerBackend, MusicFeatures, calibration, hpss, measure_features
from tests.music_synth import RATE, progression
from tests.test_compose import MOODS, render, single_cue_plan


@pytest.fixture(scope="module")
def mer() -> MerBackend:
    return MER_BACKENDS.create("features")


@pytest.mark.parametrize("tonic", [0, 2, 7, 9])
@pytest.mark.parametrize("mode", ["major", "minor"])
def test_the_mode_and_tonic_of_a_progression_are_heard(mode, tonic):
    features = measure_features(progression(mode, 96, 0.2, tonic), RATE)
    assert (features.mode, features.tonic) == (mode, tonic)
    assert (features.mode_strength > 0) == (mode == "major")


@pytest.mark.parametrize(("bpm", "level"), [(60, 0.03), (100, 0.2), (160, 0.3)])
def test_major_music_is_more_pleasant_than_the_same_music_in_minor(mer, bpm, level):
    major = mer.estimate(progression("major", bpm, level), RATE)
    minor = mer.estimate(progression("minor", bpm, level), RATE)
    assert major.valence > 0 > minor.valence
    assert major.valence - minor.valence > 0.5


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_faster_and_louder_music_is_more_aroused(mer, mode):
    slow_soft = mer.estimate(progression(mode, 60, 0.03), RATE).arousal
    slow_loud = mer.estimate(progression(mode, 60, 0.3), RATE).arousal
    fast_soft = mer.estimate(progression(mode, 160, 0.03), RATE).arousal
    fast_loud = mer.estimate(progression(mode, 160, 0.3), RATE).arousal
    assert slow_soft < slow_loud < fast_loud
    assert slow_soft < fast_soft < fast_loud


@pytest.mark.parametrize("bpm", [72, 120, 150])
def test_the_tempo_of_a_clear_pulse_is_measured_within_8_percent(bpm):
    tempo = measure_features(progression("major", bpm, 0.2, seconds=20), RATE).tempo_bpm
    assert abs(tempo / bpm - 1) <= 0.08, tempo


def test_stereo_at_48_khz_reads_like_mono_at_22_khz(mer):
    import librosa

    mono = progression("minor", 110, 0.2)
    stereo = np.repeat(librosa.resample(mono, orig_sr=RATE, target_sr=48000)[:, None], 2, axis=1)
    a, b = mer.estimate(mono, RATE), mer.estimate(stereo, 48000)
    assert a.features.mode == b.features.mode and abs(a.valence - b.valence) < 0.15
    assert abs(a.arousal - b.arousal) < 0.15


@pytest.mark.parametrize("shape", [(1025, 54), (1025, 11), (1025, 1), (40, 14), (3, 40)])
def test_harmonic_percussive_separation_is_librosas_to_the_bit(shape, monkeypatch):
    import librosa

    magnitude = np.abs(np.random.default_rng(7).standard_normal(shape)).astype(np.float32)
    ours, theirs = hpss(magnitude), librosa.decompose.hpss(magnitude)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(ours, theirs, strict=True))
    monkeypatch.setattr(mer_module, "MEDIAN_BLOCK", 1000)  # a few rows at a time, as for a long cue
    assert all(np.array_equal(a, b) for a, b in zip(hpss(magnitude), theirs, strict=True))


def reflected_median(values: np.ndarray, axis: int) -> np.ndarray:
    """ndimage's median filter by its definition: the middle of each value's HPSS_KERNEL window, the array
    extended by reflection (d c b a | a b c d | d c b a), as far as the window needs."""
    rows = np.moveaxis(values, axis, -1)
    length, half = rows.shape[-1], mer_module.HPSS_KERNEL // 2
    where = np.arange(-half, length + half) % (2 * length)
    where = np.where(where >= length, 2 * length - 1 - where, where)
    windows = np.stack([rows[:, where[i : i + mer_module.HPSS_KERNEL]] for i in range(length)], axis=1)
    return np.moveaxis(np.sort(windows, axis=-1)[..., half], -1, axis)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 40), columns=st.integers(1, 40), fill=st.sampled_from([0.0, 1e30, -1e30]))
def test_the_median_filters_are_ndimages_by_definition_whatever_lies_beside_the_array(rows, columns, fill):
    """On an axis of two values scipy's median_filter reads outside the array (scipy 1.17), so librosa's
    HPSS is not defined there; ours is the filter ndimage defines, on every length, and reads nothing else."""
    import librosa

    magnitude = np.abs(np.random.default_rng(rows * 41 + columns).standard_normal((rows, columns)))
    beside = np.full(rows * columns + 64, fill, np.float32)
    beside[32 : 32 + rows * columns] = magnitude.ravel()
    inside = beside[32 : 32 + rows * columns].reshape(rows, columns)
    harmonic, percussive = reflected_median(inside, axis=1), reflected_median(inside, axis=0)
    assert np.array_equal(mer_module._running_median(inside, axis=1), harmonic)
    assert np.array_equal(mer_module._running_median(inside, axis=0), percussive)
    mask = librosa.util.softmask(harmonic, percussive, power=2.0, split_zeros=True)
    assert np.array_equal(hpss(inside)[0], inside * mask)


def test_harmonic_percussive_separation_of_music_is_librosas():
    import librosa

    music = progression("major", 120, 0.3)
    magnitude = np.abs(librosa.stft(music, n_fft=2048, hop_length=512))[:, ::4]
    for ours, theirs in zip(hpss(magnitude), librosa.decompose.hpss(magnitude), strict=True):
        assert np.array_equal(ours, theirs)


def test_silence_and_a_blip_are_judged_with_no_confidence(mer):
    for samples in (np.zeros(RATE * 5, np.float32), progression("major", 100, 0.2)[: RATE // 2]):
        heard = mer.estimate(samples, RATE)
        assert heard.confidence == 0 and heard.arousal == -1


def test_bad_audio_is_refused_with_an_input_error(mer):
    with pytest.raises(InputError):
        mer.estimate(np.zeros(1000, np.float32), 0)
    with pytest.raises(InputError):
        mer.estimate(np.zeros((2, 3, 4), np.float32), RATE)
    with pytest.raises(InputError):
        mer.estimate(np.zeros((1000, 0), np.float32), RATE)


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_are_averaged_as_numpy_averages_them(channels, dtype):
    samples = np.random.default_rng(channels).standard_normal((5000, channels)).astype(dtype)
    mean = mer_module._channel_mean(samples)
    assert np.array_equal(mean, samples.mean(axis=1)) and mean.dtype == dtype


@pytest.mark.parametrize("name", MER_BACKENDS.available())
def test_every_music_emotion_backend_reads_in_range(name):
    backend = MER_BACKENDS.create(name)
    assert backend.name == name
    for samples in (progression("major", 140, 0.3), np.random.default_rng(0).normal(0, 0.1, RATE * 3)):
        heard = backend.estimate(samples.astype(np.float32), RATE)
        assert -1 <= heard.valence <= 1 and -1 <= heard.arousal <= 1 and 0 <= heard.confidence <= 1
        assert isinstance(heard.features, MusicFeatures)


def test_the_calibration_names_only_measured_features_and_records_its_held_out_accuracy():
    model = calibration()
    known = set(measure_features(progression("major", 100, 0.2), RATE).predictors())
    for axis in (model.valence, model.arousal):
        assert set(axis) - {"bias"} <= known
        assert all(math.isfinite(w) for w in axis.values())
    assert set(model.mean) == set(model.scale) == known and all(s > 0 for s in model.scale.values())
    # What docs/how-it-works.md quotes: measured on chorales left out of the fit (models/mer/calibrate.py).
    assert model.held_out["mode_accuracy"] >= 0.75 and model.held_out["arousal_spearman"] >= 0.6
    assert 0 < model.tolerance <= 1.0


@pytest.mark.parametrize("mood", sorted(MOODS))
def test_the_composer_lands_each_mood_within_the_tolerance(mer, mood):
    music = render(*MOODS[mood])
    check = check_music(music.audio, single_cue_plan(*MOODS[mood]), mer)
    (cue,) = check.cues
    assert cue.error <= check.tolerance, cue
    assert cue.mode == ("major" if MOODS[mood][0] > 0 else "minor")


def test_a_cue_heard_too_calm_is_rearranged_denser_louder_and_higher():
    plan = single_cue_plan(0.3, 0.0)
    cue = plan.cues[0]
    heard = check_music_reading(cue, valence=0.3, arousal=-0.9)
    livelier = rearranged_cue(cue, heard, tolerance=0.5)
    assert livelier.subdivision > cue.subdivision and livelier.velocity > cue.velocity
    assert livelier.register >= cue.register and livelier.articulation < cue.articulation
    calmer = rearranged_cue(cue, check_music_reading(cue, valence=0.3, arousal=0.9), tolerance=0.5)
    assert calmer.subdivision < cue.subdivision and calmer.velocity < cue.velocity
    assert rearranged_cue(cue, check_music_reading(cue, 0.3, 0.0), tolerance=0.5) == cue


def test_only_missed_cues_are_rearranged(mer):
    plan = single_cue_plan(0.6, 0.6)
    music = render(0.6, 0.6)
    check = check_music(music.audio, plan, mer)
    assert rearrange(plan, check) == plan  # within tolerance: nothing to change
    missed = dataclasses.replace(check, tolerance=0.0, cues=(dataclasses.replace(check.cues[0], error=2.0),))
    assert rearrange(plan, missed) != plan


def check_music_reading(cue, valence: float, arousal: float):
    from filmscore.music.check import CueCheck

    error = math.hypot(valence - cue.valence, arousal - cue.arousal)
    return CueCheck(cue.id, cue.valence, cue.arousal, valence, arousal, 1.0, 100.0, cue.mode, error)


def test_the_closed_loop_rearranges_missed_cues_and_keeps_the_closer_score(mer, monkeypatch, tmp_path):
    import filmscore.music.check as cue_check
    from filmscore.music.generators import MusicRequest
    from filmscore.music.generators.symbolic import SymbolicGenerator
    from filmscore.scoring.run import RunOptions, compose_checked

    strict = dataclasses.replace(calibration(), tolerance=0.05)  # every cue misses: the loop must act
    monkeypatch.setattr(cue_check, "calibration", lambda: strict)
    plan = single_cue_plan(0.3, -0.2)
    request = MusicRequest(plan, (), 0, workdir=tmp_path)
    first = check_music(SymbolicGenerator().generate(MusicRequest(plan, (), 0)).audio, plan, mer)
    music, kept_plan, check, seed = compose_checked(SymbolicGenerator(), request, RunOptions())
    assert seed == 0 and check.mean_error <= first.mean_error + 1e-9
    if check.rearranged:  # the re-arranged score was closer, so it was kept with its plan
        assert check.rearranged == (0,) and kept_plan != plan
    else:
        assert kept_plan == plan
    assert music.audio.frames == round(plan.duration_s * 48000)
    leftovers = sorted(p.name for p in tmp_path.rglob("*.f32"))
    files = (music.audio, *(cue.audio for cue in music.cue_sounds))
    kept = sorted(f.path.name for f in files if hasattr(f, "path"))
    assert leftovers == kept  # the kept score's music and cue sounds; the rejected score's are gone


def test_of_several_candidates_the_closest_to_the_plan_is_kept(mer):
    from filmscore.core.progress import Progress
    from filmscore.music.generators import MusicRequest
    from filmscore.music.generators.symbolic import SymbolicGenerator
    from filmscore.scoring.run import RunOptions, compose_checked

    plan = single_cue_plan(-0.5, 0.3)
    errors = [
        check_music(SymbolicGenerator().generate(MusicRequest(plan, (), s)).audio, plan, mer).mean_error
        for s in (5, 6)
    ]
    progress = Progress()
    _, _, check, seed = compose_checked(
        SymbolicGenerator(), MusicRequest(plan, (), 5), RunOptions(candidates=2), progress
    )
    assert seed == 5 + int(np.argmin(errors)) and check.mean_error == pytest.approx(min(errors))
    # Generating and listening are timed apart, each over both candidates.
    assert set(progress.timings) == {"compose", "music check"} and min(progress.timings.values()) > 0


def test_the_audio_helper_hears_the_same_as_one_process(mer, tmp_path):
    import filmscore.music.check as cue_check
    from filmscore.core.workers import audio_helper
    from filmscore.media.audio import AudioFile
    from filmscore.music.generators import MusicRequest
    from filmscore.music.generators.symbolic import SymbolicGenerator
    from filmscore.music.planning import plan_cues
    from tests.measure import emotions, flat_timeline

    shots = emotions([(6.0, 0.6, 0.5), (5.0, -0.5, -0.4), (7.0, 0.4, -0.5), (4.0, -0.6, 0.7)])
    plan = plan_cues(shots, flat_timeline(shots), 22.0)
    music = SymbolicGenerator().generate(MusicRequest(plan, (), 0, workdir=tmp_path))
    assert isinstance(music.audio, AudioFile) and len(plan.cues) >= 3
    alone = check_music(music.audio, plan, mer)
    with audio_helper(cue_check.helper_warm_up(mer.name)) as helper:
        by_helper = check_music(music.audio, plan, mer, helper)
    assert by_helper == alone
