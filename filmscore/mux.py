"""Mux: put the scored soundtrack into a copy of the film with ffmpeg. The video stream is copied packet
for packet, never re-encoded; the scored mix becomes the default audio track, and the untouched original
soundtrack can ride along as a second track.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from filmscore.audiofile import AudioFile
from filmscore.errors import OutputError, UsageError
from filmscore.media import MediaInfo, require_program

SCORED_SUFFIX = ".scored"
AUDIO_BITRATE = "256k"  # AAC at 256 kb/s stereo: transparent for a film mix
# No "-movflags +faststart": it rewrites the whole file a second time (minutes for a feature film), and
# editing systems read the index wherever it sits.


@dataclass(frozen=True)
class Container:
    ffmpeg_format: str
    audio_codec: str
    video_codecs: frozenset[str] | None  # None: anything ffmpeg can copy into it


MP4_VIDEO = frozenset({"h264", "hevc", "mpeg4", "av1", "vp9", "mpeg2video", "mpeg1video", "mjpeg"})
# Audio codecs ffmpeg's MP4 muxer takes as they are (PCM, for one, it refuses).
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "flac", "opus", "mp2"})
CONTAINERS = {
    ".mp4": Container("mp4", "aac", MP4_VIDEO),
    ".m4v": Container("mp4", "aac", MP4_VIDEO),
    ".mov": Container("mov", "aac", None),
    ".mkv": Container("matroska", "aac", None),
    ".webm": Container("webm", "libopus", frozenset({"vp8", "vp9", "av1"})),
}


def default_output(info: MediaInfo) -> Path:
    """`<input stem>.scored.mp4` beside the input, or .mkv when MP4 cannot hold the video codec."""
    suffix = ".mp4" if info.video_codec in MP4_VIDEO else ".mkv"
    return info.path.with_name(f"{info.path.stem}{SCORED_SUFFIX}{suffix}")


def check_output(
    output: Path, info: MediaInfo, overwrite: bool = False, keep_original_audio: bool = False
) -> Path:
    """Refuse outputs that would replace the input, an existing file (without --overwrite), or streams
    the container cannot hold (the video, or the original audio copied by --keep-original-audio)."""
    container = CONTAINERS.get(output.suffix.lower())
    if container is None:
        raise UsageError(
            f"cannot write a {output.suffix or 'suffix-less'} file; end -o with one of "
            f"{', '.join(CONTAINERS)}"
        )
    if output.exists() and output.resolve() == info.path.resolve():
        raise OutputError(f"{output} is the input film; filmscore never overwrites it. Choose another -o.")
    if output.is_dir():
        raise OutputError(f"{output} is a folder. Give -o a file name such as film.scored.mp4.")
    if output.exists() and not overwrite:
        raise OutputError(f"{output} already exists. Pass --overwrite to replace it, or choose another -o.")
    if (
        keep_original_audio
        and info.audio_codec
        and container.ffmpeg_format == "mp4"
        and info.audio_codec not in MP4_AUDIO
    ):
        raise UsageError(
            f"a {output.suffix} file cannot hold the original {info.audio_codec} audio untouched; "
            "choose -o with .mkv or .mov to keep it"
        )
    if container.video_codecs is not None and info.video_codec not in container.video_codecs:
        raise UsageError(
            f"a {output.suffix} file cannot hold {info.video_codec} video without re-encoding it; "
            "choose -o with .mkv or .mov"
        )
    return output


def mux(info: MediaInfo, mix: AudioFile, target: Path, output_suffix: str, keep_original_audio: bool) -> None:
    """Write `target` (a temp path; its container comes from `output_suffix`), with `mix` (raw float32)
    encoded as its main audio track."""
    container = CONTAINERS[output_suffix.lower()]
    keep = keep_original_audio and info.has_audio
    cmd = [
        require_program("ffmpeg"), "-nostdin", "-v", "error", "-y",
        "-i", str(info.path),
        "-f", "f32le", "-ar", str(mix.sample_rate), "-ac", str(mix.channels), "-i", str(mix.path),
        "-map", "0:v:0", "-map", "1:a:0", *(["-map", "0:a:0"] if keep else []),
        "-c:v", "copy", "-c:a:0", container.audio_codec, "-b:a:0", AUDIO_BITRATE,
        *(["-c:a:1", "copy"] if keep else []),
        "-map_metadata", "0",
        "-metadata:s:a:0", "title=Scored mix (filmscore)", "-disposition:a:0", "default",
        *(["-metadata:s:a:1", "title=Original soundtrack", "-disposition:a:1", "0"] if keep else []),
        "-f", container.ffmpeg_format, str(target),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else "unknown error"
        hint = "try -o with .mkv" if output_suffix.lower() != ".mkv" else "check free space"
        raise OutputError(f"ffmpeg could not write the scored film ({reason}); {hint}.")
