"""The mux: the scored track goes into a copy of the film, and what it measures as written is what the
written file measures when decoded back, in every container filmscore writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from filmscore.core.errors import OutputError
from filmscore.core.workers import _programs
from filmscore.delivery.loudness import measure_audio
from filmscore.delivery.mux import AAC_PRIMING_FRAMES, left_out_note, mux, scored_suffix
from filmscore.media.audio import AudioFile, AudioWriter, extract_audio_file
from filmscore.media.probe import AudioClip, probe

RATE = 48000


def _film(target: Path, video: list[str], audio: list[str]) -> Path:
    """2.5 s of test picture with a tone, encoded as asked."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2.5",
         "-f", "lavfi", "-i", "sine=frequency=330:duration=2.5", *video, *audio, "-shortest", str(target)],
        check=True,
    )  # fmt: skip
    return target


def _mix(folder: Path, frames: int) -> AudioFile:
    """A loud chord with a transient, so that loudness and true peak both have something to find; its
    length is no whole number of AAC frames (1024), so the decoder's trailing frames must be cut."""
    t = np.arange(frames) / RATE
    left = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 3520 * t)
    right = 0.5 * np.sin(2 * np.pi * 659 * t) * (t > 1.0)
    writer = AudioWriter(frames, 2, RATE, folder, "mix")
    writer.write(np.stack([left, right], axis=1).astype(np.float32))
    written = writer.finish()
    assert isinstance(written, AudioFile)
    return written


H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
XVID = ["-c:v", "mpeg4", "-vtag", "FMP4"]  # an AVI's codec tag, which the tee muxer keeps and MP4 refuses


@pytest.mark.parametrize(
    ("source", "suffix", "video", "audio", "keep"),
    [
        (".mp4", ".mp4", H264, ["-c:a", "aac"], False),
        (".mp4", ".mp4", H264, ["-c:a", "aac"], True),
        (".mkv", ".mkv", H264, ["-c:a", "libopus"], True),
        (".mov", ".mov", H264, ["-c:a", "aac"], False),
        (".webm", ".webm", VP9, ["-c:a", "libopus"], False),
        (".avi", ".mp4", XVID, ["-c:a", "mp3"], True),  # written directly, then its track read back
    ],
)
def test_the_track_measured_while_written_is_the_written_track(tmp_path, source, suffix, video, audio, keep):
    film = _film(tmp_path / f"source{source}", video, audio)
    info = probe(film)
    mix = _mix(tmp_path, round(info.duration_s * RATE) - 77)
    # Characters the tee muxer's own syntax uses, in the output's name.
    target = tmp_path / f"it's a [final] cut | v2{suffix}"
    measured = mux(info, mix, target, suffix, keep)
    raw = tmp_path / "decoded.f32"
    subprocess.run(["ffmpeg", "-v", "error", "-i", f"file:{target}", "-map", "0:a:0", "-f", "f32le", "-ar",
                    str(RATE), "-ac", "2", str(raw)], check=True)  # fmt: skip
    decoded = np.fromfile(raw, "<f4").reshape(-1, 2)
    # The written track, as a player has it: Matroska keeps the AAC encoder's priming (ffmpeg starts the
    # picture that much later instead); every file has the encoder's padding after the mix's end.
    start = AAC_PRIMING_FRAMES if suffix == ".mkv" else 0
    assert len(decoded) >= start + mix.frames
    from_file = measure_audio(AudioClip(decoded[start : start + mix.frames], RATE), true_peak=True)
    assert measured.integrated_lufs == pytest.approx(from_file.integrated_lufs, abs=1e-9)
    assert measured.true_peak_dbtp == pytest.approx(from_file.true_peak_dbtp, abs=1e-9)
    assert measured.integrated_lufs > -30 and measured.true_peak_dbtp > -6  # it heard the chord
    tracks = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0",
         str(target)], capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(tracks) == (2 if keep else 1)
    assert not list(tmp_path.glob("*.tmp*")) and not _programs


def test_a_mux_that_cannot_write_says_so_and_leaves_no_program_running(tmp_path):
    film = _film(tmp_path / "source.mp4", H264, ["-c:a", "aac"])
    info = probe(film)
    mix = _mix(tmp_path, round(info.duration_s * RATE))
    with pytest.raises(OutputError, match=r"could not write the scored film.*No such file or directory"):
        mux(info, mix, tmp_path / "no such folder" / "out.mp4", ".mp4", False)
    assert not _programs


def _streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return __import__("json").loads(out)["streams"]


@pytest.fixture(scope="module")
def many_streams(tmp_path_factory) -> Path:
    """A second picture, three soundtracks (one French, one titled), subtitles and a font attachment."""
    folder = tmp_path_factory.mktemp("streams")
    (folder / "subs.srt").write_text("1\n00:00:00,500 --> 00:00:02,000\nHello\n")
    (folder / "font.ttf").write_bytes(b"\0\1\0\0" + bytes(60))
    lavfi = [
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2.5",
        "-f", "lavfi", "-i", "smptebars=size=80x60:rate=25:duration=2.5",
        *(a for hz in (330, 550, 770) for a in ("-f", "lavfi", "-i", f"sine=frequency={hz}:duration=2.5")),
    ]  # fmt: skip
    target = folder / "many.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *lavfi, "-i", str(folder / "subs.srt"),
         "-attach", str(folder / "font.ttf"), "-metadata:s:t:0", "mimetype=application/x-truetype-font",
         *(arg for i in range(6) for arg in ("-map", str(i))), *H264, "-c:a", "aac", "-c:s", "srt",
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
         "-metadata:s:a:2", "title=Commentary", str(target)],
        check=True,
    )  # fmt: skip
    return target


def test_every_other_stream_is_kept_copied_after_the_scored_track(tmp_path, many_streams):
    info = probe(many_streams)
    assert [s.kind for s in info.others] == ["video", "audio", "audio", "subtitle", "attachment"]
    assert scored_suffix(info) == ".mkv"  # an MP4 could not hold the subtitles or the font
    target = tmp_path / "scored.mkv"
    mux(info, _mix(tmp_path, round(2.5 * RATE)), target, ".mkv", keep_original_audio=True)
    streams = _streams(target)
    kinds = [(s["codec_type"], s["codec_name"]) for s in streams]
    assert kinds == [
        ("video", "h264"), ("audio", "aac"), ("audio", "aac"), ("video", "h264"), ("audio", "aac"),
        ("audio", "aac"), ("subtitle", "subrip"), ("attachment", "ttf"),
    ]  # fmt: skip
    tags = [s.get("tags", {}) for s in streams]
    assert tags[1]["title"] == "Scored mix (filmscore)" and tags[1]["language"] == "eng"
    assert tags[2]["title"] == "Original soundtrack"
    assert tags[4]["language"] == "fra" and tags[5]["title"] == "Commentary"
    assert tags[7]["filename"] == "font.ttf"
    defaults = [s["disposition"]["default"] for s in streams if s["codec_type"] == "audio"]
    assert defaults == [1, 0, 0, 0]  # players start with the scored track


def test_a_container_that_cannot_hold_a_stream_says_which(tmp_path, many_streams):
    info = probe(many_streams)
    note = left_out_note(info, tmp_path / "scored.mp4")
    assert note is not None and "subtitle stream 5 (subrip)" in note and "attachment stream 6" in note
    assert "\n" not in note and ".mkv keeps them" in note
    target = tmp_path / "scored.mp4"
    mux(info, _mix(tmp_path, round(2.5 * RATE)), target, ".mp4", keep_original_audio=False)
    kinds = [s["codec_type"] for s in _streams(target)]
    assert kinds == ["video", "audio", "video", "audio", "audio"]


@pytest.mark.parametrize("audio_delay_s", [0.0, 2.0])
def test_streams_that_start_late_keep_the_scored_track_on_the_picture(tmp_path, audio_delay_s):
    """Streams that start at 10 s (a clip cut from a longer recording), and a soundtrack that starts
    2 s after the picture: the film is the picture's 8 s, the soundtrack is read from the picture's first
    frame, and the scored track starts and ends with the picture."""
    picture = _film(tmp_path / "picture.mp4", H264, ["-an"])
    tone = tmp_path / "tone.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-c:a", "aac", str(tone)], check=True)  # fmt: skip
    film = tmp_path / "late.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(picture), "-itsoffset", str(audio_delay_s), "-i", str(tone),
         "-map", "0:v", "-map", "1:a", "-c", "copy", "-output_ts_offset", "10", str(film)],
        check=True,
    )  # fmt: skip
    info = probe(film)
    assert abs(info.duration_s - 2.5) < 0.05  # not the 12.5 s the file's own duration counts
    heard = extract_audio_file(info, 16000, 1, tmp_path / "speech.f32")
    samples = heard.read(0, heard.frames)[:, 0]
    assert heard.frames == round(info.duration_s * 16000)
    onset = np.argmax(np.abs(samples) > 0.05) / 16000
    assert abs(onset - audio_delay_s) < 0.03 if audio_delay_s < 2.5 else onset == 0
    target = tmp_path / "scored.mp4"
    mux(info, _mix(tmp_path, round(info.duration_s * RATE)), target, ".mp4", keep_original_audio=False)
    video, audio = _streams(target)
    assert abs(float(video["duration"]) - float(audio["duration"])) < 0.05
    assert abs(float(video["start_time"]) - float(audio["start_time"])) < 0.03  # AAC priming at most
