"""Film-length audio streams through the mix in blocks: the streamed loudness meter, true peak and
limiter give exactly what the whole-signal versions give; a mix made in raw work files equals the one
made in memory; and mixing a long soundtrack holds a small, fixed amount of memory."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest

import filmscore.media.audio
from filmscore.delivery.loudness import (
    LoudnessMeter,
    integrated_lufs,
    limit,
    limiter_gain,
    measure_audio,
    true_peak_dbtp,
)
from filmscore.delivery.mix import MixOptions, mix_under_dialogue
from filmscore.media.audio import AudioFile, load
from filmscore.media.probe import AudioClip

RATE = 48000


def _noise(seconds: float, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    swell = np.linspace(0.002, 0.6, frames)[:, None]  # quiet to loud, so both gates matter
    return (rng.standard_normal((frames, channels)) * swell).astype(np.float32)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 10 000 frames, so short test signals span many of them, with ragged ends."""
    monkeypatch.setattr(filmscore.media.audio, "BLOCK_FRAMES", 10_000)


@pytest.mark.parametrize(("seconds", "channels"), [(7.3, 2), (3.0, 1), (20.05, 2)])
def test_the_streamed_meter_equals_pyloudnorm(seconds, channels):
    signal = _noise(seconds, channels)
    meter = LoudnessMeter(RATE, channels)
    for first in range(0, len(signal), 7777):  # a block size that matches no step or block
        meter.add(signal[first : first + 7777])
    expected = pyloudnorm.Meter(RATE).integrated_loudness(signal.astype(np.float64))
    assert meter.integrated_lufs() == pytest.approx(expected, abs=1e-6)
    assert integrated_lufs(signal, RATE) == pytest.approx(expected, abs=1e-6)


def test_silence_measures_minus_infinity():
    assert integrated_lufs(np.zeros((RATE, 2), np.float32), RATE) == -np.inf


def test_streamed_true_peak_and_limiter_equal_the_whole_signal_ones(small_blocks):
    signal = _noise(6.0, 2, seed=1)
    clip = AudioClip(signal, RATE)
    assert measure_audio(clip, true_peak=True).true_peak_dbtp == pytest.approx(true_peak_dbtp(signal, RATE))
    limiter = limit(clip, 0.5, None, "limiter")
    assert limiter is not None
    np.testing.assert_array_equal(load(limiter.curve)[:, 0], limiter_gain(signal, RATE, 0.5))
    assert limit(AudioClip(signal * 0.01, RATE), 0.5, None, "idle") is None


def test_a_mix_in_work_files_equals_the_mix_in_memory(tmp_path, small_blocks):
    bed, music = _noise(9.0, 2, seed=2), _noise(9.0, 2, seed=3)
    speech = ((2.0, 4.5),)
    options = MixOptions(target_lufs=-12.0)  # loud, so the limiter works
    in_memory = mix_under_dialogue(AudioClip(bed, RATE), AudioClip(music, RATE), speech, options)
    files = []
    for name, signal in (("bed", bed), ("music", music)):
        path = tmp_path / f"{name}.f32"
        signal.astype("<f4").tofile(path)
        files.append(AudioFile(path, len(signal), 2, RATE))
    streamed = mix_under_dialogue(files[0], files[1], speech, options, workdir=tmp_path)
    assert isinstance(streamed.mix, AudioFile) and streamed.mix.path.parent == tmp_path
    assert in_memory.limiter_reduction_db > 0.1
    assert streamed.limiter_reduction_db == pytest.approx(in_memory.limiter_reduction_db)
    for part in ("mix", "stem", "music_scale"):
        np.testing.assert_allclose(load(getattr(streamed, part)), load(getattr(in_memory, part)), atol=1e-6)
    assert integrated_lufs(load(streamed.mix), RATE) == pytest.approx(-12.0, abs=0.1)


MEMORY_PROBE = """
import resource, sys
from pathlib import Path
import numpy as np
from filmscore.media.audio import AudioFile, AudioWriter, blocks
from filmscore.delivery.mix import MixOptions, mix_under_dialogue
folder, minutes = Path(sys.argv[1]), float(sys.argv[2])
frames = int(minutes * 60 * 48000)
rng = np.random.default_rng(0)
signals = []
for name in ("bed", "music"):
    writer = AudioWriter(frames, 2, 48000, folder, name)
    for first, last in blocks(frames):
        writer.write(rng.standard_normal((last - first, 2)).astype(np.float32) * 0.1)
    signals.append(writer.finish())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
speech = tuple((t, t + 3.0) for t in range(5, int(minutes * 60) - 5, 20))
mix_under_dialogue(signals[0], signals[1], speech, MixOptions(target_lufs=-10.0), workdir=folder)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_mixing_a_long_soundtrack_holds_a_small_fixed_amount_of_memory(tmp_path):
    """Six minutes of 48 kHz stereo is 138 MB a signal; a mix held in memory needs five such arrays or
    more. Streamed, the growth stays under a few blocks' worth, whatever the length."""
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path), "6"], capture_output=True, text=True, check=True
    )
    growth_mb = int(result.stdout.strip()) / 1024
    assert growth_mb < 80, f"the mix grew the process by {growth_mb:.0f} MB"


def test_the_speech_track_read_from_its_file_in_blocks_gives_what_memory_gives(
    mood_films, tmp_path, monkeypatch
):
    """Voice regions, passages and the soundtrack's measures of a speech track read from its work file, a
    few frames at a time, equal those of the same track held whole in memory."""
    import filmscore.analysis.dialogue
    import filmscore.analysis.soundtrack
    from filmscore.analysis.dialogue import DialogueOptions, passages, voice_regions
    from filmscore.analysis.soundtrack import measure_soundtrack
    from filmscore.media.audio import speech_track
    from filmscore.media.probe import probe

    info = probe(mood_films["happy"])
    with speech_track(info, tmp_path) as track:
        assert track.path.parent.parent == tmp_path and track.channels == 1
        assert track.frames == round(info.duration_s * 16000)
        whole = AudioClip(load(track)[:, 0].copy(), track.sample_rate)
        regions = voice_regions(whole, DialogueOptions())
        sound = measure_soundtrack(whole)
        monkeypatch.setattr(filmscore.analysis.dialogue, "VAD_BLOCK_FRAMES", 7)
        monkeypatch.setattr(filmscore.analysis.soundtrack, "CHUNK_FRAMES", 100)
        assert regions and voice_regions(track, DialogueOptions()) == regions
        for (start, samples), (start_again, again) in zip(
            passages(whole, regions), passages(track, regions), strict=True
        ):
            assert start == start_again
            np.testing.assert_array_equal(samples, again)
        streamed = measure_soundtrack(track)
        np.testing.assert_allclose(streamed.rms_db, sound.rms_db, atol=1e-4)
        np.testing.assert_allclose(streamed.f0_hz, sound.f0_hz, rtol=1e-4)  # NaN where unvoiced, in both
    assert not list(tmp_path.iterdir()), "the speech track's folder was left behind"


def test_a_film_without_sound_gives_a_silent_speech_track(picture_films, tmp_path):
    from filmscore.media.audio import speech_track
    from filmscore.media.probe import probe

    info = probe(picture_films["dark_static"])
    with speech_track(info, tmp_path) as track:
        assert track.frames == round(info.duration_s * 16000)
        assert not np.any(load(track))


SPEECH_MEMORY_PROBE = """
import resource, sys
from pathlib import Path
import librosa, numpy as np, soundfile
from filmscore.analysis.soundtrack import measure_soundtrack
from filmscore.media.audio import AudioWriter, blocks
from filmscore.analysis.dialogue import DialogueOptions, passages, voice_regions
from tests.synthetic import Line, speak
folder, minutes, rate = Path(sys.argv[1]), float(sys.argv[2]), 16000
spoken, spoken_rate = soundfile.read(speak(Line("Good morning, what a lovely day."), folder / "l.wav"))
line = librosa.resample(spoken.astype(np.float32), orig_sr=spoken_rate, target_sr=rate)
period = np.zeros(10 * rate, np.float32)  # a line every ten seconds
period[: len(line)] = line
frames = int(minutes * 60 * rate)
writer = AudioWriter(frames, 1, rate, folder, "speech")
for first, last in blocks(frames):
    writer.write(np.resize(np.roll(period, -(first % len(period))), last - first))
track = writer.finish()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
regions = voice_regions(track, DialogueOptions())
heard = sum(len(samples) for _, samples in passages(track, regions)) / rate
measure_soundtrack(track)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, len(regions), heard)
"""


def test_analysing_a_long_speech_track_holds_a_small_fixed_amount_of_memory(tmp_path):
    """Thirty minutes of 16 kHz speech is 115 MB in float32; held whole (with the padded copy pitch
    tracking made) it was most of the analysis's growth with the film's length. Read from its file, the
    VAD, the passages and the pitch and loudness measures grow the process by a few blocks' worth."""
    result = subprocess.run(
        [sys.executable, "-c", SPEECH_MEMORY_PROBE, str(tmp_path), "30"],
        capture_output=True,
        text=True,
        check=True,
    )
    growth_kb, regions, heard_s = result.stdout.split()
    assert int(regions) == 180 and float(heard_s) > 180 * 2.0  # a 2.5 s line every 10 s, each found and read
    assert int(growth_kb) / 1024 < 60, (
        f"analysing the speech track grew the process by {int(growth_kb) // 1024} MB"
    )
