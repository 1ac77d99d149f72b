"""The media layer: probe a file with ffprobe, and extract its audio with ffmpeg.

Video frames are decoded once, in `filmscore.media.decode`; this module only answers questions about the file
and pulls out audio.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from filmscore.core.errors import DependencyError, InputError

SPEECH_SAMPLE_RATE = 16000  # what pocketsphinx, Whisper and the VAD expect
# Streams that start within this of each other start together (ffmpeg's own timestamps jitter by less).
START_TOLERANCE_S = 0.0005
MUSIC_SAMPLE_RATE = 48000  # the film-sound rate: every generator delivers it, the mix and the stems use it


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about a film, after rotation is applied."""

    path: Path
    duration_s: float
    width: int  # display width, after rotation
    height: int  # display height, after rotation
    fps: float  # average frame rate
    variable_frame_rate: bool  # the container's frame rate differs from the average
    rotation: int  # degrees clockwise the player turns the picture (0, 90, 180, 270)
    container: str  # ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    video_codec: str
    has_audio: bool
    audio_sample_rate: int | None  # None when there is no audio stream
    audio_channels: int | None
    audio_codec: str | None  # ffprobe's codec name of the first audio stream
    frame_count: int | None  # from the stream header when the container states it
    video_index: int = 0  # the picture's stream index in the file
    # where the picture starts after the file's first timestamp: the scored track is placed there, and the
    # soundtrack is read from there, so both line up with the picture whatever the streams' start times
    # and edit lists
    video_start_s: float = 0.0
    audio_start_s: float = 0.0  # the same for the first audio stream
    audio_language: str | None = None  # its language tag, given to the scored track that replaces it
    others: tuple[Stream, ...] = ()  # every further stream (pictures, soundtracks, subtitles, attachments)


@dataclass(frozen=True)
class Stream:
    """A stream of the film besides the picture and the soundtrack filmscore reads: kept in the scored
    film, copied as it is."""

    index: int  # in the file
    kind: str  # ffprobe's codec_type: video, audio, subtitle, attachment or data
    codec: str
    language: str | None = None

    def describe(self) -> str:
        return f"{self.kind} stream {self.index} ({self.codec or 'unknown codec'})"


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio as float32 samples in [-1, 1], shape (samples,) for mono or (samples, channels)."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def frames(self) -> int:
        return len(self.samples)

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else self.samples.shape[1]

    def read(self, first: int, last: int) -> np.ndarray:
        """Frames first..last as (frames, channels), clipped to the signal: the same call as a file-backed
        AudioFile."""
        block = self.samples[max(0, first) : max(0, last)]
        return block if block.ndim == 2 else block[:, None]


def require_program(name: str, package: str = "ffmpeg") -> str:
    """Return the path of an external program, or explain how to install it."""
    found = shutil.which(name)
    if found is None:
        raise DependencyError(
            f"{name} is not installed. Install it (Debian/Ubuntu: apt-get install {package})."
        )
    return found


def check_input_path(path: Path) -> Path:
    """Check that a user-given input path is a readable regular file, and resolve it."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file. Check the path.") from None
    except RuntimeError:  # a symlink loop
        raise InputError(f"{path}: the path is a symlink loop. Point to the video file itself.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror}). Point to the video file itself.") from None
    if resolved.is_dir():
        raise InputError(f"{path} is a folder. Give a video file.")
    if not resolved.is_file():
        raise InputError(f"{path} is not a regular file. Give a video file.")
    if resolved.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes). Give a video file.")
    try:
        with resolved.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}). Check its permissions.") from None
    return resolved


def probe(path: Path) -> MediaInfo:
    """Describe a video file. Raises InputError if it is not a readable video."""
    resolved = check_input_path(path)
    data = _run_ffprobe(resolved)
    streams = data.get("streams", [])
    video = _first_stream(streams, "video")
    if video is None:
        kind = "an audio-only file" if _first_stream(streams, "audio") else "not a video"
        raise InputError(f"{path} is {kind}: it has no video stream. Give a video file.")
    audio = _first_stream(streams, "audio")
    rotation = _rotation_of(video)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: the video stream has no picture size; the file may be corrupt.")
    if rotation in (90, 270):
        width, height = height, width
    avg_fps = _rate(video.get("avg_frame_rate"))
    container_fps = _rate(video.get("r_frame_rate"))
    fps = avg_fps or container_fps
    if not fps:
        raise InputError(f"{path}: cannot tell the frame rate; the file may be corrupt.")
    duration = _duration_of(data, video)
    if duration <= 0:
        raise InputError(f"{path}: the video has no duration; the file may be truncated or corrupt.")
    frames = video.get("nb_frames")
    file_start = _seconds(data.get("format", {}).get("start_time"))
    return MediaInfo(
        path=resolved,
        duration_s=duration,
        width=width,
        height=height,
        fps=fps,
        variable_frame_rate=bool(container_fps and abs(container_fps - fps) > 0.01 * fps),
        rotation=rotation,
        container=str(data.get("format", {}).get("format_name", "")),
        video_codec=str(video.get("codec_name", "")),
        has_audio=audio is not None,
        audio_sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        audio_channels=int(audio["channels"]) if audio and audio.get("channels") else None,
        audio_codec=str(audio.get("codec_name", "")) if audio else None,
        frame_count=int(frames) if frames and str(frames).isdigit() else None,
        video_index=int(video.get("index", 0)),
        video_start_s=_start_of(video, file_start),
        audio_start_s=_start_of(audio, file_start) if audio else 0.0,
        audio_language=_stream(audio).language if audio else None,
        others=tuple(_stream(s) for s in streams if s is not video and s is not audio),
    )


def _stream(stream: dict) -> Stream:
    language = stream.get("tags", {}).get("language")
    return Stream(
        int(stream.get("index", 0)),
        str(stream.get("codec_type", "data")),
        str(stream.get("codec_name", "")),
        str(language) if language else None,
    )


def _start_of(stream: dict, file_start: float) -> float:
    """A stream's start after the file's first timestamp, to the microsecond."""
    return round(max(0.0, _seconds(stream.get("start_time")) - file_start), 6)


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) else 0.0


def _run_ffprobe(path: Path) -> dict:
    stat = path.stat()
    try:
        return json.loads(_ffprobe_json(path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    except json.JSONDecodeError:
        raise InputError(f"{path}: ffprobe could not describe the file. Check it is a video.") from None


@functools.lru_cache(maxsize=32)
def _ffprobe_json(path: Path, size: int, mtime_ns: int, inode: int) -> str:
    """ffprobe's description of `path`, kept while the file is unchanged (same size, time and inode): a
    run probes its input as the command starts and again as the analysis starts, 50 ms each time on a
    60 s film. A failure is not kept."""
    cmd = [
        require_program("ffprobe"), "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", str(path),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = last_line(result.stderr) or "unknown format"
        raise InputError(f"{path} is not a readable video ({reason}). Check the file is a complete video.")
    return result.stdout


def _first_stream(streams: list[dict], kind: str) -> dict | None:
    for stream in streams:
        # Cover art in audio files shows up as a one-picture "video" stream; it is not a film.
        if stream.get("codec_type") == kind and not stream.get("disposition", {}).get("attached_pic"):
            return stream
    return None


def _rotation_of(video: dict) -> int:
    """Read rotation from the display matrix side data (newer ffmpeg) or the legacy 'rotate' tag."""
    angle = 0.0
    for side in video.get("side_data_list", []) or []:
        if "rotation" in side:
            # The display matrix gives the counter-clockwise angle; players turn clockwise by its negative.
            angle = -float(side["rotation"])
    tag = video.get("tags", {}).get("rotate")
    if tag is not None:
        angle = float(tag)
    return int(round(angle / 90.0) * 90) % 360


def _rate(text: str | None) -> float:
    if not text or text in ("0/0", "0"):
        return 0.0
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return 0.0


def _duration_of(data: dict, video: dict) -> float:
    """The picture's duration: the film ends with it. The video stream's own duration first: a file's
    duration also counts the time before its streams start (an MP4 whose streams start at 10 s says 18 s
    for 8 s of film), and any soundtrack that runs on past the picture."""
    own = _seconds(video.get("duration"))
    if own > 0:
        return own
    container = data.get("format", {})
    late_start = _seconds(video.get("start_time")) - _seconds(container.get("start_time"))
    return max(0.0, _seconds(container.get("duration")) - max(0.0, late_start))


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def audio_decode_command(info: MediaInfo, sample_rate: int, channels: int, target: str) -> list[str]:
    """ffmpeg decoding the film's first audio stream to raw float32 (`target` "-" for stdout, or a file),
    from the picture's first frame: a soundtrack that starts later is padded with silence, one that starts
    earlier is cut, so a sample's time is its time in the picture."""
    command = track_decode_command(info.path, sample_rate, channels, target)
    if abs(info.audio_start_s - info.video_start_s) > START_TOLERANCE_S:
        first = round(info.video_start_s * sample_rate)
        align = ["-af", f"aresample=async=1:min_hard_comp={START_TOLERANCE_S}:first_pts={first}"]
        command[command.index("-f") : command.index("-f")] = align
    return command


def track_decode_command(
    path: Path,
    sample_rate: int,
    channels: int,
    target: str,
    start_s: float = 0.0,
    seconds: float | None = None,
) -> list[str]:
    """ffmpeg decoding a file's first audio stream (from `start_s`, for `seconds` if given) to raw float32."""
    excerpt = ["-ss", f"{start_s:.6f}"] if start_s > 0 else []
    excerpt += ["-t", f"{seconds:.6f}"] if seconds is not None else []
    return [
        require_program("ffmpeg"), "-nostdin", "-v", "error", "-y", *excerpt, "-i", str(path),
        "-map", "0:a:0", "-vn", "-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", target,
    ]  # fmt: skip


def extract_audio(
    info: MediaInfo, sample_rate: int | None = SPEECH_SAMPLE_RATE, channels: int | None = 1
) -> AudioClip:
    """Decode the first audio stream to float32.

    With the defaults it gives 16 kHz mono for speech; `sample_rate=None, channels=None` keeps the original
    rate and channels, and `channels=2` folds any layout to stereo for the mix. A film without audio gives
    silence of the film's length, so later stages need no special case.
    """
    rate = sample_rate or info.audio_sample_rate or MUSIC_SAMPLE_RATE
    count = channels or info.audio_channels or 2
    if not info.has_audio:
        frames = round(info.duration_s * rate)
        return AudioClip(np.zeros((frames,) if count == 1 else (frames, count), dtype=np.float32), rate)
    samples = decode_audio(info.path, rate, count)
    return AudioClip((samples if count > 1 else samples[:, 0]).copy(), rate)


def decode_audio(
    path: Path, sample_rate: int, channels: int, start_s: float = 0.0, seconds: float | None = None
) -> np.ndarray:
    """A file's first audio stream (from `start_s`, for `seconds` if given) decoded by ffmpeg into memory:
    (frames, channels) float32."""
    command = track_decode_command(path, sample_rate, channels, "-", start_s, seconds)
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        reason = last_line(result.stderr.decode(errors="replace"))
        raise InputError(f"{path}: cannot decode its audio ({reason}). The file may be corrupt.")
    samples = np.frombuffer(result.stdout, dtype=np.float32)
    return samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
