"""The cut test set: films with hard cuts on known frames, made with ffmpeg's lavfi sources, as awkward
as footage is: heavy moving grain, hand-held shake, churning cellular patterns, dark to dark, colours a
few levels apart, a flash, a strobe on both sides of a cut, fast pans, a slow dissolve, and films with no
cut at all. Used by tests/test_cuts.py and benchmarks/cut_detection.py, which reports recall, precision
and frame error per detector and preset (docs/cut-detection.md).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

# Every random source is seeded, so each film is the same film on every run (ffmpeg's life and cellauto
# sources otherwise draw a new random start each time: a test on them would judge a different film).
GRAIN = "noise=alls=40:allf=t+u:all_seed=1"  # heavy grain, new in every frame
# Hand-held: the frame wanders a few pixels each way, a little differently every frame.
SHAKE = "crop=w=iw-24:h=ih-24:x='12+9*sin(t*7.3)':y='12+7*sin(t*5.1+1)',scale=iw+24:ih+24"
LIFE = "life=mold=10:ratio=0.5:seed=21:death_color={dead}:life_color={alive}"
CELLS = "cellauto=rule=110:random_fill_ratio=0.5:seed=13"


@dataclass(frozen=True)
class Segment:
    """`frames` frames of a lavfi source (size and rate added), then its filters."""

    source: str
    frames: int
    filters: str = ""


@dataclass(frozen=True)
class CutFilm:
    """A film of the set: its segments back to back at `fps`, hard cuts between them, except that a
    `dissolve_frames` cross-fade joins the segments after the first (a dissolve is one change: it may
    give one cut, anywhere inside, and no more)."""

    name: str
    fps: Fraction
    segments: tuple[Segment, ...]
    dissolve_frames: int = 0

    @property
    def cut_frames(self) -> tuple[int, ...]:
        """The first frame of each shot after the first (none for a dissolve: it has no hard cut)."""
        if self.dissolve_frames:
            return ()
        starts, total = [], 0
        for segment in self.segments[:-1]:
            total += segment.frames
            starts.append(total)
        return tuple(starts)

    @property
    def frame_count(self) -> int:
        return sum(s.frames for s in self.segments) - self.dissolve_frames * (len(self.segments) - 1)

    @property
    def dissolve_span(self) -> tuple[int, int] | None:
        """The frames of the dissolve (first, one past the last), where it has one."""
        if not self.dissolve_frames:
            return None
        start = self.segments[0].frames - self.dissolve_frames
        return start, start + self.dissolve_frames


def _grainy(colour: str, frames: int, extra: str = "") -> Segment:
    return Segment(f"color=c={colour}", frames, ",".join(f for f in (extra, GRAIN) if f))


NTSC = Fraction(24000, 1001)
# Shot lengths are frame counts a little off whole seconds, as an NLE's cuts are.
CUT_FILMS: tuple[CutFilm, ...] = (
    CutFilm("grain", NTSC, (
        _grainy("0xe8c020", 55, SHAKE),  # yellow
        _grainy("0x5a1010", 49),  # dark red
        Segment(LIFE.format(dead="#4a0808", alive="#c02020"), 61, GRAIN),  # a red cellular pattern
        _grainy("0x101c48", 52, SHAKE),  # navy
        _grainy("0x0c0c0c", 47),  # near black
        Segment(LIFE.format(dead="#0c3010", alive="#30a040"), 58, GRAIN),  # a green pattern
    )),
    CutFilm("patterns", Fraction(25), (
        Segment(LIFE.format(dead="#ff6000", alive="#ffff00"), 43, GRAIN),
        Segment(CELLS, 51, f"colorchannelmixer=rr=.3:gg=.6:bb=1,{GRAIN}"),
        Segment(LIFE.format(dead="#202080", alive="#a0a0ff"), 38),
        Segment("mandelbrot", 47, GRAIN),
    )),
    CutFilm("dark to dark", Fraction(30), (
        _grainy("0x06060a", 47),
        _grainy("0x0a1226", 53, SHAKE),
        _grainy("0x1a0606", 44),
        _grainy("0x050505", 51),
    )),
    CutFilm("similar colours", Fraction(25), (
        _grainy("0x7f7f7f", 41),
        _grainy("0x8c7f70", 47),
        _grainy("0x707f8c", 44),
        _grainy("0x7f8c74", 38),
    )),
    CutFilm("flash", Fraction(25), (
        Segment("testsrc2", 62, "drawbox=color=white:t=fill:enable='between(n,20,22)'"),
        Segment("smptebars", 57, "drawbox=color=white:t=fill:enable='between(n,30,31)'"),
    )),
    # Cuts into strobing shots and out of them, mid-strobe: to a still dark shot whose brightness is the
    # strobe's own range (only its hue tells it apart), and to a bright one.
    CutFilm("strobe", Fraction(25), (
        _grainy("0x0a0a10", 63),
        Segment("color=c=0x3a0c0c", 112, f"eq=eval=frame:brightness='.2*gt(sin(11*t)*sin(7*t),.4)',{GRAIN}"),
        Segment("color=c=0x1c2430", 61),
        Segment("color=c=0x3a0c0c", 87, f"eq=eval=frame:brightness='.2*gt(sin(13*t)*sin(5*t),.3)',{GRAIN}"),
        _grainy("0xe0b070", 50),
    )),
    CutFilm("fast pans", NTSC, (
        Segment("testsrc2", 50, "scroll=horizontal=0.03:vertical=0.005"),
        Segment("rgbtestsrc", 46, "scroll=horizontal=-0.04"),
        Segment("smptebars", 41, f"scroll=horizontal=0.05,{GRAIN}"),
    )),
    CutFilm("dissolve", Fraction(25), (
        _grainy("0xc04020", 60),
        _grainy("0x203060", 60),
    ), dissolve_frames=25),
    CutFilm("clean zoom", Fraction(25), (Segment("mandelbrot", 100),)),
    # ffmpeg's test card: a square that swells faster and faster, colours that cycle, a moving gradient.
    CutFilm("swelling test card", Fraction(25), (Segment("testsrc2", 100),)),
    CutFilm("one grainy shot", NTSC, (Segment(LIFE.format(dead="#4a0808", alive="#c02020"), 96, GRAIN),)),
)  # fmt: skip


_SEEDS = re.compile(r"\b(all_seed|seed)=(\d+)")


def redrawn(film: CutFilm, draw: int) -> CutFilm:
    """The same film with every random source drawn again: each seed moved by `draw` (0: the film itself),
    so a detector is judged on many grains and patterns, not one (benchmarks/cut_detection.py --draws)."""

    def moved(text: str) -> str:
        return _SEEDS.sub(lambda m: f"{m[1]}={int(m[2]) + draw * 1009}", text)

    segments = tuple(replace(s, source=moved(s.source), filters=moved(s.filters)) for s in film.segments)
    return replace(film, segments=segments)


def make_cut_film(film: CutFilm, target: Path, size: tuple[int, int] = (320, 180)) -> Path:
    """Render the film: each segment trimmed to its frames at the film's rate, then joined."""
    width, height = size
    rate = f"{film.fps.numerator}/{film.fps.denominator}"
    inputs: list[str] = []
    chains = []
    for i, segment in enumerate(film.segments):
        joiner = ":" if "=" in segment.source else "="
        inputs += ["-f", "lavfi", "-i", f"{segment.source}{joiner}size={width}x{height}:rate={rate}"]
        filters = f",{segment.filters}" if segment.filters else ""
        chains.append(
            f"[{i}:v]trim=end_frame={segment.frames},setpts=PTS-STARTPTS{filters},format=yuv420p,setsar=1[v{i}]"
        )
    chains.append(_join(film))
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", ";".join(chains),
        "-map", "[v]", "-r", rate, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(target),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return target


def _join(film: CutFilm) -> str:
    labels = [f"[v{i}]" for i in range(len(film.segments))]
    if not film.dissolve_frames:
        return f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0[v]"
    first, second = film.segments[0], film.segments[1]
    offset = float(Fraction(first.frames - film.dissolve_frames) / film.fps)
    length = float(Fraction(film.dissolve_frames) / film.fps)
    assert len(film.segments) == 2 and second.frames > film.dissolve_frames
    return f"[v0][v1]xfade=transition=fade:duration={length}:offset={offset}[v]"


@dataclass(frozen=True)
class CutScore:
    """How the cuts found compare with the film's: each true cut is found if a cut lies within
    `tolerance` frames of it (each found cut counts once)."""

    found: int  # true cuts found
    true_cuts: int
    false_cuts: int  # cuts found that match no true cut (inside a dissolve, one is not false)
    frame_errors: tuple[int, ...]  # |found - true| for each true cut found

    @property
    def recall(self) -> float:
        return self.found / self.true_cuts if self.true_cuts else 1.0

    @property
    def precision(self) -> float:
        claimed = self.found + self.false_cuts
        return self.found / claimed if claimed else 1.0


def score_cuts(film: CutFilm, found_s: Sequence[float], tolerance: int = 1) -> CutScore:
    """Compare cut times found (seconds) with the film's cut frames."""
    found = sorted(round(t * film.fps) for t in found_s)
    unmatched = list(found)
    errors = []
    for cut in film.cut_frames:
        nearest = min(unmatched, key=lambda f: abs(f - cut), default=None)
        if nearest is not None and abs(nearest - cut) <= tolerance:
            errors.append(abs(nearest - cut))
            unmatched.remove(nearest)
    span = film.dissolve_span
    in_dissolve = [f for f in unmatched if span and span[0] - tolerance <= f <= span[1] + tolerance]
    false_cuts = len(unmatched) - min(1, len(in_dissolve))
    return CutScore(len(errors), len(film.cut_frames), false_cuts, tuple(errors))
