from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from filmscore.core.errors import InputError
from filmscore.media.decode import DecodeOptions, analysis_geometry, iter_frames
from filmscore.media.probe import extract_audio, probe
from tests.synthetic import Line, ShotSpec, make_film


def _remux(source: Path, target: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), *args, str(target)], check=True)
    return target


def test_probe_reads_size_rate_duration_and_audio(mood_films):
    info = probe(mood_films["happy"])
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(6.0, abs=0.1)
    assert info.has_audio and info.audio_sample_rate == 48000 and info.audio_channels == 2
    assert info.rotation == 0 and not info.variable_frame_rate


def test_a_file_is_probed_once_until_it_changes(tmp_path, cuts_film, mood_films, monkeypatch):
    from filmscore.media import probe as media

    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(media.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    film = shutil.copy(cuts_film, tmp_path / "take.mp4")
    first = probe(film)
    assert probe(film.resolve()) == first and len(calls) == 1  # the same file, named another way
    shutil.copy(mood_films["happy"], film)  # replaced: another size and time
    assert probe(film).has_audio and len(calls) == 2
    (tmp_path / "broken.mp4").write_bytes(b"not a film")
    for _ in range(2):  # a failure is not kept
        with pytest.raises(InputError):
            probe(tmp_path / "broken.mp4")
    assert len(calls) == 4


def test_probe_of_a_film_without_audio(cuts_film):
    info = probe(cuts_film)
    assert not info.has_audio
    silence = extract_audio(info)
    assert silence.sample_rate == 16000
    assert len(silence.samples) == pytest.approx(8.0 * 16000, rel=0.01)
    assert not silence.samples.any()


def test_audio_for_speech_and_for_the_mix(mood_films):
    info = probe(mood_films["happy"])
    speech = extract_audio(info)
    assert speech.sample_rate == 16000 and speech.samples.ndim == 1
    original = extract_audio(info, sample_rate=None, channels=None)
    assert original.sample_rate == 48000 and original.samples.shape[1] == 2
    assert speech.duration_s == pytest.approx(original.duration_s, abs=0.05)
    assert np.abs(speech.samples).max() > 0.01  # the line is really there


def test_rotation_metadata_turns_the_picture(media_dir, cuts_film):
    rotated = _remux(cuts_film, media_dir / "rotated.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90")
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (240, 320)
    frame = next(iter_frames(info, analysis_geometry(info, DecodeOptions())))
    assert frame.shape[0] > frame.shape[1]  # ffmpeg applied the rotation: portrait frames


@pytest.mark.parametrize("suffix", [".mkv", ".avi", ".mov"])
def test_other_containers(media_dir, mood_films, suffix):
    other = _remux(mood_films["sad"], media_dir / f"sad{suffix}", "-c:v", "mpeg4", "-c:a", "mp3")
    info = probe(other)
    assert info.has_audio and info.width == 320
    assert info.duration_s == pytest.approx(6.0, abs=0.2)


def test_variable_frame_rate_decodes_at_a_constant_rate(media_dir):
    # Frames at 25 fps for 2 s, then 10 fps for 2 s, in one file: a variable frame rate.
    fast = make_film(media_dir / "vfr_a.mp4", [ShotSpec("testcard", 2.0)], fps=25, audio=False)
    slow = make_film(media_dir / "vfr_b.mp4", [ShotSpec("bars", 2.0)], fps=10, audio=False)
    listing = media_dir / "vfr.txt"
    listing.write_text(f"file '{fast}'\nfile '{slow}'\n")
    vfr = media_dir / "vfr.mkv"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-c",
            "copy",
            str(vfr),
        ],
        check=True,
    )
    info = probe(vfr)
    geometry = analysis_geometry(info, DecodeOptions())
    frames = sum(1 for _ in iter_frames(info, geometry))
    assert frames / geometry.fps == pytest.approx(info.duration_s, abs=0.3)


def test_analysis_frames_are_small_and_even(cuts_film):
    info = probe(cuts_film)
    geometry = analysis_geometry(info, DecodeOptions(width=128))
    assert (geometry.width, geometry.height) == (128, 96)
    frames = list(iter_frames(info, geometry))
    assert len(frames) == 200 and frames[0].shape == (96, 128, 3)


def test_one_decoder_thread_gives_the_frames_of_many(cuts_film):
    info = probe(cuts_film)
    geometry = analysis_geometry(info, DecodeOptions(width=128))
    one, default = list(iter_frames(info, geometry, threads=1)), list(iter_frames(info, geometry))
    assert len(one) == len(default) == 200
    assert all(np.array_equal(a, b) for a, b in zip(one, default, strict=True))


@pytest.mark.parametrize(
    ("cores", "share", "size", "fps", "beside", "threads"),
    [
        (2, "", (1280, 720), 25.0, 1, 1),  # the small machine beside a speech worker: one thread
        (2, "", (1920, 1080), 25.0, 1, None),  # a picture one thread cannot keep up with: ffmpeg's choice
        (2, "", (1280, 720), 60.0, 2, None),
        (8, "", (1920, 1080), 25.0, 1, 7),  # the cores the speech worker leaves
        (8, "2", (1280, 720), 25.0, 1, 1),  # a batch's share of the cores
        (2, "", (1280, 720), 25.0, 0, 2),  # a silent film: no speech worker
    ],
)
def test_the_decoder_gets_the_cores_the_speech_workers_leave(
    monkeypatch, cuts_film, cores, share, size, fps, beside, threads
):
    from dataclasses import replace

    from filmscore.media import decode

    monkeypatch.setattr(decode.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", share)
    info = replace(probe(cuts_film), width=size[0], height=size[1], fps=fps)
    assert decode.decoder_threads(info, beside) == threads


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "empty.mp4", b""), "empty"),
        (lambda d: _write(d / "text.mp4", b"this is not a video\n" * 20), "not a readable video"),
        (lambda d: _write(d / "noise.mp4", np.random.default_rng(0).bytes(50_000)), "not a readable video"),
    ],
)
def test_bad_input_is_an_input_error(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        probe(make(tmp_path))


def test_audio_only_file_is_refused(tmp_path):
    wav = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(wav)], check=True)
    with pytest.raises(InputError, match="no video stream"):
        probe(wav)


def test_truncated_file_is_refused(tmp_path, mood_films):
    data = mood_films["happy"].read_bytes()
    cut = _write(tmp_path / "truncated.mp4", data[: len(data) // 3])
    with pytest.raises(InputError):
        info = probe(cut)
        list(iter_frames(info, analysis_geometry(info, DecodeOptions())))


def test_symlink_loop_is_refused(tmp_path):
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="symlink loop"):
        probe(loop)


def test_speech_line_is_where_it_was_put(media_dir):
    film = make_film(media_dir / "late_line.mp4", [ShotSpec("grey", 4.0, Line("hello there", at_s=2.0))])
    samples = extract_audio(probe(film)).samples
    assert np.abs(samples[: int(1.8 * 16000)]).max() < 0.01
    assert np.abs(samples[int(2.0 * 16000) :]).max() > 0.05


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
