"""Mux: put the scored soundtrack into a copy of the film with ffmpeg. The video stream is copied packet
for packet, never re-encoded; the scored mix becomes the default audio track, and the untouched original
soundtrack can ride along as a second track. The scored track is measured as it is written.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from filmscore.config.names import SCORED_SUFFIX
from filmscore.core.errors import OutputError, UsageError
from filmscore.core.workers import program
from filmscore.delivery.loudness import Measurement, measure_audio
from filmscore.media.audio import SAMPLE_BYTES, AudioFile
from filmscore.media.probe import START_TOLERANCE_S, MediaInfo, Stream, require_program

AUDIO_BITRATE = "256k"  # AAC at 256 kb/s stereo: transparent for a film mix
# No "-movflags +faststart": it rewrites the whole file a second time (minutes for a feature film), and
# editing systems read the index wherever it sits.
LOG_CONTEXT = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")  # ffmpeg's "[tee @ 0x55d1...] " before a message
# ffmpeg's AAC encoder starts with 1024 samples of priming. An MP4 or Matroska file's index hides them
# from a decoder; a bare ADTS stream cannot, so its decoder returns them first.
AAC_PRIMING_FRAMES = 1024


@dataclass(frozen=True)
class Container:
    ffmpeg_format: str
    audio_codec: str
    video_codecs: frozenset[str] | None  # None: anything ffmpeg can copy into it
    # The scored track alone, as ffmpeg also sends it down a pipe to be measured: a format a decoder can
    # read as a stream (ffmpeg's names for its muxer and demuxer), and how many priming frames the decoder
    # returns before the first real one.
    track_muxer: str = "adts"
    track_demuxer: str = "aac"
    track_priming_frames: int = AAC_PRIMING_FRAMES
    # what else it holds, copied as it is (None: anything ffmpeg can copy into it)
    audio_codecs: frozenset[str] | None = None
    subtitle_codecs: frozenset[str] = frozenset()
    attachments: bool = False

    def holds(self, stream: Stream) -> bool:
        """Whether a further stream of the film can be copied into this container as it is."""
        if stream.kind == "attachment":
            return self.attachments
        kinds = {"video": self.video_codecs, "audio": self.audio_codecs, "subtitle": self.subtitle_codecs}
        allowed = kinds.get(stream.kind, frozenset())  # data streams: none
        return allowed is None or stream.codec in allowed


MP4_VIDEO = frozenset({"h264", "hevc", "mpeg4", "av1", "vp9", "mpeg2video", "mpeg1video", "mjpeg"})
# Audio codecs ffmpeg's MP4 muxer takes as they are (PCM, for one, it refuses).
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "flac", "opus", "mp2"})
MOV_TEXT = frozenset({"mov_text"})
MATROSKA_SUBTITLES = frozenset(
    {"subrip", "ass", "ssa", "webvtt", "text", "hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle"}
)
CONTAINERS = {
    ".mp4": Container("mp4", "aac", MP4_VIDEO, audio_codecs=MP4_AUDIO, subtitle_codecs=MOV_TEXT),
    ".m4v": Container("mp4", "aac", MP4_VIDEO, audio_codecs=MP4_AUDIO, subtitle_codecs=MOV_TEXT),
    ".mov": Container("mov", "aac", None, subtitle_codecs=MOV_TEXT),
    ".mkv": Container("matroska", "aac", None, subtitle_codecs=MATROSKA_SUBTITLES, attachments=True),
    # Ogg carries Opus's pre-skip, so its decoder drops the priming itself.
    ".webm": Container(
        "webm", "libopus", frozenset({"vp8", "vp9", "av1"}), "ogg", "ogg", 0,
        audio_codecs=frozenset({"opus", "vorbis"}), subtitle_codecs=frozenset({"webvtt"}),
    ),
}  # fmt: skip


def default_output(info: MediaInfo) -> Path:
    """`<input stem>.scored.mp4` beside the input, or .mkv when MP4 cannot hold its streams as they are."""
    return info.path.with_name(f"{info.path.stem}{SCORED_SUFFIX}{scored_suffix(info)}")


def scored_suffix(info: MediaInfo) -> str:
    """.mp4 where it holds the picture and every further stream, else .mkv (which holds nearly all)."""
    fits = info.video_codec in MP4_VIDEO and not left_out(info, ".mp4")
    return ".mp4" if fits else ".mkv"


def left_out(info: MediaInfo, suffix: str) -> tuple[Stream, ...]:
    """The film's further streams that a `suffix` file cannot hold, so the scored film goes without."""
    container = CONTAINERS[suffix.lower()]
    return tuple(stream for stream in info.others if not container.holds(stream))


def left_out_note(info: MediaInfo, output: Path) -> str | None:
    """One line naming the streams the scored film cannot keep, and what would keep them."""
    dropped = left_out(info, output.suffix)
    if not dropped:
        return None
    names = ", ".join(stream.describe() for stream in dropped)
    return (
        f"a {output.suffix} file cannot hold {names}: the scored film goes without. -o with .mkv keeps them."
    )


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


def mux(
    info: MediaInfo, mix: AudioFile, target: Path, output_suffix: str, keep_original_audio: bool
) -> Measurement:
    """Write `target` (a temp path; its container comes from `output_suffix`), with `mix` (raw float32)
    encoded as its main audio track, and measure that track as written: loudness and true peak.

    ffmpeg's tee muxer writes the encoded packets into the film and down a pipe to a second ffmpeg, which
    decodes them; they are measured as they arrive, on the other core while the encode goes on, instead
    of decoding the finished file afterwards. The samples are those of the file decoded back (the tests
    compare them). The tee muxer refuses some streams the container's own muxer takes (it keeps an AVI's
    codec tags, which MP4 rejects): then the film is written directly, and its track read back."""
    container = CONTAINERS[output_suffix.lower()]
    keep = keep_original_audio and info.has_audio
    # Either output failing fails the whole (tee's default is to go on with the other when one cannot open).
    film = f"[f={container.ffmpeg_format}:onfail=abort]{_tee_name(f'file:{target}')}"
    track = f"[f={container.track_muxer}:select=1:onfail=abort]pipe:1"  # output stream 1: the scored track
    # The tee muxer rounds the picture's timestamps to its frame rate, which moves a picture that does not
    # start at 0 (by 17 ms in a test film): such films are written directly.
    if info.video_start_s <= START_TOLERANCE_S:
        try:
            tee = _encode_command(info, mix, keep, container, ["-f", "tee", f"{film}|{track}"])
            return _measured(tee, mix, container)
        except _SourceFailed:
            pass
    direct = _encode_command(info, mix, keep, container, ["-f", container.ffmpeg_format, f"file:{target}"])
    with tempfile.TemporaryFile() as log, program(direct, subprocess.DEVNULL, None, log) as writer:
        if writer.wait() != 0:
            raise _mux_error(_log_cause(log), output_suffix)
    read_back = [
        require_program("ffmpeg"), "-nostdin", "-v", "error", "-i", f"file:{target}",
        "-map", "0:a:0", "-c:a", "copy", "-f", container.track_muxer, "pipe:1",
    ]  # fmt: skip
    try:
        return _measured(read_back, mix, container)
    except _SourceFailed as failed:
        raise _unchecked(failed.reason) from None


def _encode_command(
    info: MediaInfo, mix: AudioFile, keep: bool, container: Container, output: list[str]
) -> list[str]:
    others = [stream for stream in info.others if container.holds(stream)]
    # The scored track starts with the picture (the film's other streams keep their own start times).
    offset = ["-itsoffset", f"{info.video_start_s:.6f}"] if info.video_start_s > START_TOLERANCE_S else []
    later_audio = sum(stream.kind == "audio" for stream in others) + keep  # audio tracks after the score
    return [
        require_program("ffmpeg"), "-nostdin", "-v", "error", "-y",
        "-i", str(info.path),
        *offset, "-f", "f32le", "-ar", str(mix.sample_rate), "-ac", str(mix.channels), "-i", str(mix.path),
        "-map", f"0:{info.video_index}", "-map", "1:a:0", *(["-map", "0:a:0"] if keep else []),
        *(arg for stream in others for arg in ("-map", f"0:{stream.index}")),
        "-c", "copy", "-c:a:0", container.audio_codec, "-b:a:0", AUDIO_BITRATE,
        "-map_metadata", "0",  # and each stream's own, which a stream -map_metadata would switch off
        *(["-metadata:s:a:0", f"language={info.audio_language}"] if info.audio_language else []),
        "-metadata:s:a:0", "title=Scored mix (filmscore)", "-disposition:a:0", "default",
        *(["-metadata:s:a:1", "title=Original soundtrack"] if keep else []),
        *(arg for n in range(1, later_audio + 1) for arg in (f"-disposition:a:{n}", "-default")),
        *output,
    ]  # fmt: skip


class _SourceFailed(Exception):
    """The program that sends the encoded track down the pipe failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _measured(source: list[str], mix: AudioFile, container: Container) -> Measurement:
    """Loudness and true peak of the encoded track that `source` writes to its output, decoded by a
    second ffmpeg and measured as it arrives."""
    with contextlib.ExitStack() as running:
        source_log, decoder_log = (running.enter_context(tempfile.TemporaryFile()) for _ in range(2))
        sender = running.enter_context(program(source, subprocess.DEVNULL, subprocess.PIPE, source_log))
        decoder = running.enter_context(
            program(_decode_command(container, mix), sender.stdout, subprocess.PIPE, decoder_log)
        )
        assert sender.stdout is not None and decoder.stdout is not None  # both are PIPEs
        sender.stdout.close()  # the decoder's now: if it dies, the sender meets a broken pipe
        track = _DecodedTrack(decoder.stdout, mix, container.track_priming_frames)
        try:
            measured: Measurement | None = measure_audio(track, true_peak=True)
        except _ShortTrack:
            measured = None
        track.drain()  # the decoder's trailing frames, so that it and the sender can finish
        if sender.wait() != 0:
            raise _SourceFailed(_log_cause(source_log))
        if decoder.wait() != 0 or measured is None:
            raise _unchecked(_log_cause(decoder_log))
    return measured


def _unchecked(reason: str) -> OutputError:
    return OutputError(
        f"ffmpeg wrote the scored film but could not decode its audio to check it "
        f"({reason or 'the track ended early'}); run again, or try -o with .mkv."
    )


def _tee_name(name: str) -> str:
    """A file name as one output of ffmpeg's tee muxer: quoted, so that `|`, `[`, `]`, `\\` and spaces in
    it are taken as they are (a `'` ends the quote, is escaped, and starts it again)."""
    return "'" + name.replace("'", "'\\''") + "'"


def _decode_command(container: Container, mix: AudioFile) -> list[str]:
    return [
        require_program("ffmpeg"), "-nostdin", "-v", "error",
        "-f", container.track_demuxer, "-i", "pipe:0",
        "-f", "f32le", "-ar", str(mix.sample_rate), "-ac", str(mix.channels), "pipe:1",
    ]  # fmt: skip


def _log_cause(log: IO[bytes]) -> str:
    """What went wrong first, in a program's log: ffmpeg names the cause, then what it could not do."""
    log.seek(0)
    lines = [line for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    return LOG_CONTEXT.sub("", lines[0]).strip() if lines else ""


def _mux_error(reason: str, output_suffix: str) -> OutputError:
    hint = "try -o with .mkv" if output_suffix.lower() != ".mkv" else "check free space"
    return OutputError(f"ffmpeg could not write the scored film ({reason or 'unknown error'}); {hint}.")


class _ShortTrack(Exception):
    """The decoder's stream ended before the whole track (the encoder failed)."""


class _DecodedTrack:
    """The scored track as the decoder streams it, read once, front to back: an `Audio` for
    `measure_audio`, which reads each block with a few neighbours either side, so the frames from the
    start of the latest read on are kept. The decoder's priming frames come first and are skipped."""

    def __init__(self, stream: IO[bytes], mix: AudioFile, priming: int) -> None:
        self.frames, self.channels, self.sample_rate = mix.frames, mix.channels, mix.sample_rate
        self._stream = stream
        self._kept = np.zeros((0, self.channels), np.float32)
        self._first = -priming  # the frame _kept starts with (the stream's first is the priming's first)

    def read(self, first: int, last: int) -> np.ndarray:
        first, last = max(0, first), min(self.frames, last)
        if first < self._first:
            raise ValueError("the decoded track is read once, front to back")
        behind = first - self._first - len(self._kept)
        if behind > 0:  # frames nobody asked for: the priming
            self._more(behind)
        self._kept = self._kept[max(0, first - self._first) :]
        self._first = first
        wanted = last - first - len(self._kept)
        if wanted > 0:
            self._kept = np.concatenate([self._kept, self._more(wanted)])
        return self._kept[: max(0, last - first)]

    def _more(self, count: int) -> np.ndarray:
        size = count * self.channels * SAMPLE_BYTES
        data = self._stream.read(size)
        if len(data) < size:
            raise _ShortTrack
        return np.frombuffer(data, dtype="<f4").reshape(-1, self.channels)

    def drain(self) -> None:
        while self._stream.read(1 << 16):
            pass
