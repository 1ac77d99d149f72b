"""Synthetic films with known content, made with ffmpeg's lavfi sources and espeak-ng speech.

Used by the tests, the sample film script (sample_media/make_demo.py) and the benchmarks: cuts sit at known
times, pictures are known to be dark or bright, static or moving, and each line is spoken in a known mood.
It lives with the tests, not in the package users install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filmscore.core.errors import DependencyError

# lavfi sources (size and rate are added per film). Each is distinct enough from the next for a hard cut.
PICTURES = {
    "grey": "color=c=0x7f7f7f",
    "dark": "color=c=0x0a0a10",
    "night": "color=c=0x101830",
    "warm": "color=c=0xe8a040",
    # Conway's life in saturated yellow on orange: bright, saturated, and every pixel churning.
    "bright_motion": "life=mold=10:ratio=0.5:death_color=#ff6000:life_color=#ffff00",
    "bars": "smptebars",
    "testcard": "testsrc2",
    "zoom": "mandelbrot",
    # The evaluation set's pictures, one for each corner of the valence/arousal plane (benchmarks/
    # fidelity.py). A source, then the filters that follow it, after the first comma.
    # Dark red, strobing irregularly, with grain churning in every frame.
    "fear": "color=c=0x3a0c0c,eq=eval=frame:brightness='0.18*gt(sin(11*t)*sin(7*t),0.5)',"
    "noise=alls=25:allf=t",
    "sad": "color=c=0x1c2430",
    "calm": "color=c=0xe0b070",
    # Conway's life in yellow and orange, its dead cells lifted from black to a warm amber.
    "joy": "life=mold=10:ratio=0.5:death_color=#ff6000:life_color=#ffff00,"
    "colorlevels=romin=0.45:gomin=0.3:bomin=0.08",
    "joy_scroll": "testsrc2,scroll=horizontal=0.02:vertical=0.01",
    # Two neutral looks that cut against each other: middling brightness, low saturation (the neutral
    # point of the picture features), warm and plain, cool with a grid.
    # A bright, saturated gradient: the picture of a corporate video (issue 34's neutral voice-over).
    "bright_gradient": "gradients=c0=0xffe040:c1=0xff7020:x0=0:y0=0:x1=320:y1=180:speed=0.002",
    "neutral_warm": "color=c=0x7a6e5f",
    "neutral_cool": "color=c=0x5f6e7a,drawgrid=w=40:h=40:t=2:c=0x505d68",
}


@dataclass(frozen=True)
class Voice:
    """espeak-ng prosody: words per minute, pitch 0-99, amplitude 0-200."""

    speed: int
    pitch: int
    amplitude: int


VOICES = {
    "neutral": Voice(speed=140, pitch=50, amplitude=100),
    "happy": Voice(speed=160, pitch=70, amplitude=130),
    "excited": Voice(speed=195, pitch=90, amplitude=190),
    "frightened": Voice(speed=190, pitch=95, amplitude=180),
    "sad": Voice(speed=105, pitch=20, amplitude=55),
    "calm": Voice(speed=110, pitch=30, amplitude=60),
}


@dataclass(frozen=True)
class Line:
    text: str
    voice: str = "neutral"  # a key of VOICES
    at_s: float = 0.3  # when the line starts, from the start of its shot
    recording: Path | None = None  # a recording of the line (a WAV) to use instead of espeak-ng


@dataclass(frozen=True)
class ShotSpec:
    picture: str  # a key of PICTURES
    duration_s: float
    line: Line | None = None


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise DependencyError(
            f"{program} is needed to make synthetic media. Install it (apt-get install {program})."
        )
    return path


def speak(line: Line, target: Path) -> Path:
    """Speak a line with espeak-ng into a WAV file."""
    voice = VOICES[line.voice]
    cmd = [
        _need("espeak-ng"), "-v", "en-us", "-s", str(voice.speed), "-p", str(voice.pitch),
        "-a", str(voice.amplitude), "-w", str(target), line.text,
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return target


def make_film(
    target: Path,
    shots: list[ShotSpec],
    size: tuple[int, int] = (320, 240),
    fps: float = 25.0,
    audio: bool = True,
    extra_args: tuple[str, ...] = (),
) -> Path:
    """Render shots back to back (hard cuts) with their lines into an H.264/AAC film."""
    width, height = size
    inputs: list[str] = []
    chains: list[str] = []
    with tempfile.TemporaryDirectory(prefix="filmscore-synth-") as tmp:
        for i, shot in enumerate(shots):
            src, _, filters = PICTURES[shot.picture].partition(",")
            joiner = ":" if "=" in src else "="
            source = f"{src}{joiner}size={width}x{height}:rate={fps}" + (f",{filters}" if filters else "")
            inputs += ["-f", "lavfi", "-i", source]
            chains.append(
                f"[{_input_count(inputs) - 1}:v]trim=duration={shot.duration_s},setpts=PTS-STARTPTS,"
                f"format=yuv420p,setsar=1[v{i}]"
            )
            if not audio:
                continue
            if shot.line is None:
                inputs += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
                chains.append(f"[{_input_count(inputs) - 1}:a]atrim=duration={shot.duration_s}[a{i}]")
            else:
                wav = shot.line.recording or speak(shot.line, Path(tmp) / f"line{i}.wav")
                inputs += ["-i", str(wav)]
                delay = round(shot.line.at_s * 1000)
                chains.append(
                    f"[{_input_count(inputs) - 1}:a]aresample=48000,aformat=channel_layouts=stereo,"
                    f"adelay={delay}:all=1,apad,atrim=duration={shot.duration_s}[a{i}]"
                )
        labels = "".join(f"[v{i}]" + (f"[a{i}]" if audio else "") for i in range(len(shots)))
        graph = (
            ";".join(chains)
            + f";{labels}concat=n={len(shots)}:v=1:a={int(audio)}[v]"
            + ("[a]" if audio else "")
        )
        maps = ["-map", "[v]"] + (["-map", "[a]", "-c:a", "aac", "-b:a", "96k"] if audio else [])
        cmd = [
            _need("ffmpeg"), "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", graph, *maps,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-g", str(round(fps * 2)),
            *extra_args, str(target),
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg could not make {target}: {result.stderr.strip()}")
    return target


def _input_count(argv: list[str]) -> int:
    """How many inputs an ffmpeg argv has so far: the index the next one gets, plus one."""
    return argv.count("-i")


# The issue-22 film: four 5 s shots, fear, calm, joy and sorrow, each line spoken over its own picture.
FOUR_MOODS = (
    ShotSpec("fear", 5.0, Line("Run! Get out! The fire is coming, hurry!", "frightened", 0.4)),
    ShotSpec("calm", 5.0, Line("Rest now. It is quiet and calm.", "calm", 0.4)),
    ShotSpec("joy", 5.0, Line("What a wonderful day! I am so happy!", "excited", 0.4)),
    ShotSpec("sad", 5.0, Line("Your old friend died last night.", "sad", 0.4)),
)


def four_mood_film(target: Path) -> Path:
    """A 20 s film whose four shots read afraid, calm, joyful and sad: a check that the score follows."""
    return make_film(Path(target), list(FOUR_MOODS), size=(320, 180))
