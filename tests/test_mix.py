"""The mix: loudness presets, ducking under speech, loudness normalisation and the true-peak limiter."""

from __future__ import annotations

import numpy as np
import pytest

from filmscore.config.settings import parse_loudness
from filmscore.core.errors import UsageError
from filmscore.delivery.loudness import integrated_lufs, limiter_gain, true_peak_dbtp
from filmscore.delivery.mix import MixOptions, duck_envelope, mix_under_dialogue
from filmscore.media.probe import AudioClip
from tests.measure import rms_db

RATE = 48000


@pytest.mark.parametrize(
    ("text", "lufs"),
    [
        ("ebu", -23.0),
        ("ATSC", -24.0),
        ("web", -16.0),
        ("streaming", -14.0),
        ("-18", -18.0),
        ("-20.5 LUFS", -20.5),
    ],
)
def test_loudness_presets_and_numbers(text, lufs):
    assert parse_loudness(text) == lufs


@pytest.mark.parametrize("text", ["loud", "0", "-80", "nan", ""])
def test_bad_loudness_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--loudness"):
        parse_loudness(text)


def test_the_music_dips_under_speech_smoothly():
    opts = MixOptions(duck_db=10.0, attack_s=0.3, release_s=0.8)
    gain = duck_envelope(((4.0, 6.0),), 10 * RATE, RATE, opts)
    in_db = 20 * np.log10(gain)
    assert in_db[5 * RATE] == pytest.approx(-10.0, abs=0.01)
    assert in_db[1 * RATE] == pytest.approx(0.0, abs=0.01) and in_db[9 * RATE] == pytest.approx(0.0, abs=0.01)
    assert in_db[4 * RATE] == pytest.approx(-10.0, abs=0.05)  # fully down by the first word
    assert -10 < in_db[int(6.4 * RATE)] < 0  # still recovering after the line
    assert np.abs(np.diff(in_db)).max() < 0.01  # no step: at most 0.01 dB from one sample to the next


def tone(seconds: float, freq: float, level: float, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def test_the_mix_meets_the_loudness_target_and_the_true_peak_ceiling():
    # A "dialogue" bed with a loud stretch and a sharp click, and a music tone; the click is far above
    # the loudness, so the limiter has to work.
    bed = tone(12.0, 220.0, 0.05)
    bed[3 * RATE : 5 * RATE] *= 8.0
    bed[7 * RATE : 7 * RATE + 240] = 0.95
    music = AudioClip(tone(12.0, 440.0, 0.1), RATE)
    for target in (-23.0, -14.0):
        result = mix_under_dialogue(
            AudioClip(bed, RATE), music, ((3.0, 5.0),), MixOptions(target_lufs=target)
        )
        assert integrated_lufs(result.mix.samples, RATE) == pytest.approx(target, abs=0.1)
        assert true_peak_dbtp(result.mix.samples, RATE) <= -1.0
    assert result.limiter_reduction_db > 0


def test_the_stem_is_the_music_exactly_as_it_sits_in_the_mix():
    bed = tone(8.0, 150.0, 0.2)
    music = AudioClip(tone(8.0, 660.0, 0.2), RATE)
    # No speech-band cut here: the scale alone turns the music into the stem (the cut has its own test).
    result = mix_under_dialogue(AudioClip(bed, RATE), music, ((2.0, 4.0),), MixOptions(speech_cut_db=0.0))
    original_part = result.mix.samples - result.stem.samples
    # What is left after removing the stem is the original soundtrack at one gain: no music in it.
    gain = float(np.sum(original_part * bed) / np.sum(bed * bed))
    assert np.abs(original_part - gain * bed).max() < 1e-5
    # The per-sample gain it reports is exactly what turned the music into the stem (for instrument stems).
    assert np.allclose(music.samples * result.music_scale.samples[:, None], result.stem.samples, atol=1e-7)
    assert rms_db(result.stem.samples[int(2.5 * RATE) : int(3.5 * RATE)]) <= (
        rms_db(result.stem.samples[int(6.0 * RATE) : int(7.0 * RATE)]) - 9.5
    )


@pytest.mark.parametrize("cut_db", [0.0, 6.0])
def test_under_speech_the_music_is_cut_in_the_speech_band_and_barely_below_it(cut_db):
    # Two tones in the music, one under the speech band (300 Hz) and one at its centre (2 kHz).
    music = AudioClip(tone(8.0, 300.0, 0.1) + tone(8.0, 2000.0, 0.1), RATE)
    opts = MixOptions(duck_db=10.0, speech_cut_db=cut_db)
    stem = mix_under_dialogue(AudioClip(tone(8.0, 150.0, 0.2), RATE), music, ((3.0, 5.0),), opts).stem.samples
    clear, spoken = stem[int(6.5 * RATE) : int(7.5 * RATE), 0], stem[int(3.5 * RATE) : int(4.5 * RATE), 0]

    def drop_db(freq: float) -> float:
        spectrum = [np.abs(np.fft.rfft(part * np.hanning(len(part)))) for part in (clear, spoken)]
        bin_ = round(freq * len(clear) / RATE)
        return float(20 * np.log10(spectrum[0][bin_] / spectrum[1][bin_]))

    assert drop_db(2000.0) == pytest.approx(10.0 + cut_db, abs=0.3)  # the ducking and the full cut
    assert drop_db(300.0) < 10.0 + 0.25 * cut_db + 0.3  # low instruments keep most of their level


def test_stems_cut_like_the_music_sum_to_the_music_in_the_mix():
    from filmscore.delivery.mix import cut_like_the_music

    low, high = tone(6.0, 200.0, 0.1), tone(6.0, 2500.0, 0.1)
    result = mix_under_dialogue(None, AudioClip(low + high, RATE), ((2.0, 4.0),), MixOptions())
    parts = [cut_like_the_music(AudioClip(p, RATE), result, None, "part").samples for p in (low, high)]
    summed = (parts[0] + parts[1]) * result.music_scale.samples[:, None]
    assert np.abs(summed - result.stem.samples).max() < 1e-5


def test_a_silent_film_gets_the_music_alone_at_the_target():
    music = AudioClip(tone(6.0, 330.0, 0.3), RATE)
    result = mix_under_dialogue(None, music, (), MixOptions(target_lufs=-16.0))
    assert integrated_lufs(result.mix.samples, RATE) == pytest.approx(-16.0, abs=0.1)
    assert np.array_equal(result.mix.samples, result.stem.samples)


def test_sample_peaks_are_the_interpolator_applied_everywhere():
    from numpy.lib.stride_tricks import sliding_window_view

    from filmscore.delivery.loudness import _interpolator, sample_peaks

    signal = (np.random.default_rng(3).standard_normal((10_000, 2)) * 0.3).astype(np.float32)
    phases, _ = _interpolator()
    reach = len(phases)
    expected = np.abs(signal).max(axis=1)
    for channel in signal.T:
        padded = np.concatenate(
            [np.zeros(reach // 2, np.float32), channel, np.zeros(reach - reach // 2, np.float32)]
        )
        windows = sliding_window_view(padded[: len(channel) + reach - 1], reach)
        expected = np.maximum(expected, np.abs(windows @ phases).max(axis=1))
    assert np.array_equal(sample_peaks(signal), expected)


def test_the_limiter_holds_inter_sample_peaks_under_the_ceiling():
    # A sine at a quarter of the sample rate, phased so every sample misses the crest: sample peak
    # 0.707, true peak 1.0. Only an oversampling meter sees it.
    t = np.arange(RATE) / RATE
    wave = np.sin(2 * np.pi * (RATE / 4) * t + np.pi / 4).astype(np.float32)[:, None]
    assert np.abs(wave).max() < 0.71
    assert true_peak_dbtp(wave, RATE) == pytest.approx(0.0, abs=0.2)
    ceiling = 10 ** (-3 / 20)
    limited = wave * limiter_gain(wave, RATE, ceiling)[:, None]
    assert true_peak_dbtp(limited, RATE) <= -3.0 + 0.05
