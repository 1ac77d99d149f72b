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
from filmscore.delivery.mux import AAC_PRIMING_FRAMES, mux
from filmscore.media.audio import AudioFile, AudioWriter
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
