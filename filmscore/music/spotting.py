"""Spotting: the editor's say in the score. Where each cue starts and ends, what it should feel like, where
the film stays silent, and the frames the music must hit.

A spotting is a list of spots (a time range and a mood, or `auto` where the film's reading decides, or
`none` for silence) and of hits (a frame that gets an accent). Time the spots leave out is scored from
the reading, as without a spotting. spotting_files.py reads it from a CSV, an EDL, an OTIO file or
FCP 7 XML; the cue planner (cues.py) follows it.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from filmscore.analysis.fusion import LABELS
from filmscore.core.affect import Mood, clip_unit
from filmscore.core.errors import InputError
from filmscore.core.wording import MAX_VALUE, number, one_line, quoted

AUTO, NONE, HIT = "auto", "none", "hit"
# The words a spot's mood is written with: the report's moods, and the words editors use for them.
MOOD_WORDS: dict[str, str] = {
    **{mood.value: mood.value for mood in Mood},
    "fear": Mood.AFRAID, "scared": Mood.AFRAID, "scary": Mood.AFRAID, "horror": Mood.AFRAID,
    "tension": Mood.TENSE, "suspense": Mood.TENSE, "danger": Mood.TENSE,
    "joy": Mood.JOYFUL, "happy": Mood.JOYFUL, "triumph": Mood.JOYFUL,
    "sadness": Mood.SAD, "sorrow": Mood.SAD, "grief": Mood.SAD,
    "peaceful": Mood.CALM, "tender": Mood.CALM,
    AUTO: AUTO, NONE: NONE, "silence": NONE, "silent": NONE, HIT: HIT,
}  # fmt: skip
# A spotting's budget: a feature's has a few hundred spots and hits. More than this, or more than the film
# has frames, is not a spotting but a mistake (or an attack), refused before any work.
MOST_MARKS = 5000
# The weakest spot (intensity 0) sits this far along its mood's direction, the strongest (1) at 1.
GENTLEST_RADIUS = 0.25


@dataclass(frozen=True)
class Spot:
    start_s: float
    end_s: float
    mood: str  # a Mood's word, AUTO or NONE
    row: str  # where it was written ("row 4", "marker 'fear' at 00:01:02:03"), for messages
    style: str | None = None  # the cue's style, where it differs from the run's
    intensity: float | None = None  # 0 (a hint of the mood) .. 1 (its extreme); None: the mood's own place
    note: str = ""

    @property
    def is_silent(self) -> bool:
        return self.mood == NONE

    @property
    def sets_mood(self) -> bool:
        return self.mood not in (AUTO, NONE)

    def affect(self) -> tuple[float, float]:
        """The valence and arousal a spotted mood asks for."""
        valence, arousal = LABELS.get(Mood(self.mood), (0.0, 0.0))
        if self.intensity is None:
            return valence, arousal
        radius = math.hypot(valence, arousal) or 1.0
        scale = (GENTLEST_RADIUS + (1 - GENTLEST_RADIUS) * self.intensity) / radius
        return clip_unit(valence * scale), clip_unit(arousal * scale)


@dataclass(frozen=True)
class SpotHit:
    t_s: float
    row: str


@dataclass(frozen=True)
class SpotTake:
    """The take an editor chose for the cue playing over a range (see planning/palette.py: a letter, or a
    seed as a whole number). It places nothing: the cue whose middle falls in the range plays it."""

    start_s: float
    end_s: float
    take: str
    row: str


@dataclass(frozen=True)
class Spotting:
    spots: tuple[Spot, ...]  # in time order, none overlapping
    hits: tuple[SpotHit, ...]  # in time order
    source: str  # the file it was read from
    takes: tuple[SpotTake, ...] = ()  # in time order, none overlapping

    def take_at(self, t_s: float) -> str | None:
        """The take chosen for the cue whose middle is at `t_s`, if one was."""
        return next((t.take for t in self.takes if t.start_s <= t_s < t.end_s), None)

    def silences(self, duration_s: float) -> tuple[tuple[float, float], ...]:
        """The `none` ranges within the film."""
        return tuple(
            (s.start_s, min(s.end_s, duration_s))
            for s in self.spots
            if s.is_silent and s.start_s < duration_s
        )

    def sections(self, duration_s: float) -> list[tuple[float, float, Spot | None]]:
        """The film from 0 to `duration_s` in consecutive ranges: each spot, and the time between spots
        (None: scored from the reading). Spots past `duration_s` (a run cut short) are cut there."""
        sections: list[tuple[float, float, Spot | None]] = []
        at = 0.0
        for spot in self.spots:
            start, end = spot.start_s, min(spot.end_s, duration_s)
            if start >= duration_s - 1e-6:
                break
            if start > at + 1e-6:
                sections.append((at, start, None))
            sections.append((start, end, spot))
            at = end
        if at < duration_s - 1e-6:
            sections.append((at, duration_s, None))
        return sections


def mood_word(text: str) -> str | None:
    """The spotting word a text names: the first word of it that is a mood, auto, none or hit."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in MOOD_WORDS:
            return MOOD_WORDS[word]
    return None


def checked_spotting(
    spots: list[Spot],
    hits: list[SpotHit],
    source: str,
    duration_s: float,
    frame_s: float,
    takes: list[SpotTake] | None = None,
) -> Spotting:
    """The spots and hits in time order, or an InputError naming the first row that is wrong: a range
    that ends before it starts, starts or ends past the film's end (one frame's slack: an NLE's sequence
    often runs a frame long), overlaps another, or a hit in a silent range. Touching spots of the same
    kind join into one (an editor who marked every shot of a scene `tense` wants one tense cue)."""
    where = one_line(source, MAX_VALUE)
    takes = takes or []
    if not spots and not hits and not takes:
        raise InputError(f"{where} has no spots or hits. Give rows of start,end,mood (see the README).")
    check_mark_count(len(spots) + len(hits) + len(takes), where, duration_s, frame_s)
    for spot in spots:
        _check_range(spot, where, duration_s, frame_s)
    spots = sorted(spots, key=lambda s: s.start_s)
    for before, after in itertools.pairwise(spots):
        if after.start_s < before.end_s - frame_s / 2:
            raise InputError(
                f"{where}: {after.row} ({_span(after)}) overlaps {before.row} ({_span(before)}). "
                "Give each stretch of film one mood."
            )
    for hit in hits:
        _check_hit(hit, spots, where, duration_s, frame_s)
    spotting = Spotting(
        tuple(_joined(spots)), _one_per_frame(hits, frame_s), source, _checked_takes(takes, where, duration_s)
    )
    if all(spot is not None and spot.is_silent for _, _, spot in spotting.sections(duration_s)):
        raise InputError(f"{where} keeps the whole film silent. Leave some of it auto, or spot a mood.")
    return spotting


def _checked_takes(takes: list[SpotTake], where: str, duration_s: float) -> tuple[SpotTake, ...]:
    """The takes in time order, or an InputError where two ranges with different takes overlap."""
    ordered = sorted(takes, key=lambda t: t.start_s)
    for before, after in itertools.pairwise(ordered):
        if after.start_s < before.end_s - 1e-6 and after.take != before.take:
            raise InputError(
                f"{where}: {after.row} (take {after.take}) overlaps {before.row} (take {before.take}). "
                "Give each cue one take."
            )
    return tuple(t for t in ordered if t.start_s < duration_s)


def check_mark_count(count: int, where: str, duration_s: float, frame_s: float) -> None:
    """At most one spot, hit or marker a frame, and MOST_MARKS in all: or an InputError, at once."""
    frames = math.floor(duration_s / frame_s) + 1 if frame_s > 0 else 1
    most = min(MOST_MARKS, frames)
    if count > most:
        raise InputError(
            f"{where} has {count} spots, hits or markers; a film of {number(round(duration_s, 3))} s takes "
            f"at most {most} (one a frame, {MOST_MARKS} in all). Give the cues' spotting, not every frame."
        )


def _check_range(spot: Spot, where: str, duration_s: float, frame_s: float) -> None:
    if not (spot.end_s > spot.start_s >= 0):
        raise InputError(
            f"{where}: {spot.row} runs from {number(spot.start_s)} s to {number(spot.end_s)} s. "
            "Give an end after the start, both from 0."
        )
    if spot.end_s - spot.start_s < frame_s * 0.99:
        raise InputError(
            f"{where}: {spot.row} runs {number(round(spot.end_s - spot.start_s, 4))} s, less than a frame. "
            "Give each spot at least a frame (a cue, at least a second)."
        )
    if spot.end_s > duration_s + frame_s:
        raise InputError(
            f"{where}: {spot.row} ends at {number(round(spot.end_s, 3))} s, past the film's end "
            f"({number(round(duration_s, 3))} s). {_another_cut_or_hour(spot.start_s, duration_s)}"
        )


def _another_cut_or_hour(t_s: float, duration_s: float) -> str:
    """The hint for a mark past the film: a sequence's time code (an hour in, as NLE sequences start at
    01:00:00:00) when it falls in the film once the whole hours are taken off, another cut otherwise."""
    hours = int(t_s // 3600)
    if hours and t_s - 3600 * hours <= duration_s:
        return (
            f"It starts {hours} h in: it looks like sequence time code from {hours:02d}:00:00:00. Give times "
            f"from the film's first frame, or pass --tc-start {hours:02d}:00:00:00."
        )
    return "Is it spotted for another cut?"


def _check_hit(hit: SpotHit, spots: list[Spot], where: str, duration_s: float, frame_s: float) -> None:
    if not (0 <= hit.t_s <= duration_s + frame_s):
        raise InputError(
            f"{where}: {hit.row} is at {number(round(hit.t_s, 3))} s, outside the film "
            f"(0 to {number(round(duration_s, 3))} s). {_another_cut_or_hour(hit.t_s, duration_s)}"
        )
    for spot in spots:
        if spot.is_silent and spot.start_s <= hit.t_s < spot.end_s:
            raise InputError(
                f"{where}: {hit.row} falls in {spot.row}, which has no music. Move the hit or the range."
            )


def _one_per_frame(hits: list[SpotHit], frame_s: float) -> tuple[SpotHit, ...]:
    """The hits in time order, one a frame: a second mark on a frame already hit is the same hit."""
    kept: list[SpotHit] = []
    for hit in sorted(hits, key=lambda h: h.t_s):
        if not kept or hit.t_s - kept[-1].t_s >= frame_s * 0.99:
            kept.append(hit)
    return tuple(kept)


def _joined(spots: list[Spot]) -> list[Spot]:
    joined: list[Spot] = []
    for spot in spots:
        last = joined[-1] if joined else None
        same = last is not None and (last.mood, last.style, last.intensity) == (
            spot.mood,
            spot.style,
            spot.intensity,
        )
        if last is not None and same and abs(spot.start_s - last.end_s) < 1e-6:
            note = "; ".join(n for n in (last.note, spot.note) if n)
            joined[-1] = Spot(last.start_s, spot.end_s, last.mood, last.row, last.style, last.intensity, note)
        else:
            joined.append(spot)
    return joined


def _span(spot: Spot) -> str:
    return f"{number(round(spot.start_s, 3))} to {number(round(spot.end_s, 3))} s"


def unknown_mood(text: str, row: str, where: str) -> InputError:
    words = sorted({*(m.value for m in Mood), AUTO, NONE, HIT})
    return InputError(
        f"{where}: {row} has the mood {quoted(text)}, which filmscore does not know. "
        f"Use one of {', '.join(words)}."
    )
