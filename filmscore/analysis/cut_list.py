"""The editor's own cut list as the shots (`--cuts FILE`): a CMX3600 EDL of the cut, FCP 7 XML, FCPXML or
OpenTimelineIO. The record-side edits of the first video track become the shot boundaries, taken from
the sequence's start time code (usually 01:00:00:00), so its first frame is the film's. Where the list
says nothing (a gap, or past its last event) the cut detector fills in.

EDL, FCP 7 XML and OTIO are read through OpenTimelineIO's adapters. FCPXML is read from its spine
directly: its times are exact fractions of a second, which the FCPXML adapter rounds to a whole frame rate
at 23.976 and 29.97 fps.

A list that does not fit the film (events past its end, overlapping events, another frame rate) is an
InputError, exit 3.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmscore.core.errors import InputError
from filmscore.core.wording import MAX_VALUE, one_line
from filmscore.media.timelines import (
    EDL_EVENT,
    TIMELINE_ADAPTERS,
    drop_frame_codes,
    editor_text,
    fcpx_root,
    fcpx_time,
    read_timeline,
    sequence_start,
    timecode_frames,
)

CUT_LIST_SUFFIXES = tuple(TIMELINE_ADAPTERS)
RATE_TOLERANCE = 0.002  # frames a second: 23.976 is not 24


@dataclass(frozen=True)
class CutList:
    """The events of an editor's cut list, on the film's time."""

    source: str  # the file, as given
    events: tuple[tuple[float, float], ...]  # (start_s, end_s) of each event, in order

    @property
    def edits_s(self) -> tuple[float, ...]:
        """Where a shot starts: every event's start, and the end of an event that a gap follows."""
        starts = {start for start, _ in self.events}
        before_gaps = {end for (_, end), (start, _) in itertools.pairwise(self.events) if start - end > 1e-6}
        return tuple(sorted(t for t in starts | before_gaps | {self.end_s} if t > 1e-6))

    @property
    def end_s(self) -> float:
        """Where the list's last event ends."""
        return max((end for _, end in self.events), default=0.0)

    def covers(self, t_s: float, margin_s: float) -> bool:
        """Whether an event spans `t_s` (a detected cut there is not the list's, and is left out)."""
        return any(start - margin_s <= t_s <= end + margin_s for start, end in self.events)


def read_cut_list(path: Path, fps: float, duration_s: float, tc_start: str | None = None) -> CutList:
    """The cut list in `path`, checked against the film (its rate `fps`, its length `duration_s`).
    `tc_start` is the sequence's start time code, for an EDL (its first event's whole hour without it)."""
    where = f"The cut list {one_line(str(path), MAX_VALUE)}"
    suffix = path.suffix.lower()
    if suffix not in TIMELINE_ADAPTERS:
        raise InputError(
            f"{where} is not an EDL, OTIO, FCP 7 XML or FCPXML file. Export the cut as one of "
            f"{', '.join(CUT_LIST_SUFFIXES)}."
        )
    if not path.is_file():
        raise InputError(f"{where} does not exist. Give the file your editing system exported.")
    if suffix == ".fcpxml":
        events, rate = _fcpxml_events(path, where)
    else:
        events, rate = _otio_events(read_timeline(path, fps, where), where)
        if suffix == ".edl":
            try:
                events = _from_record_start(events, editor_text(path, where), fps, tc_start)
            except ValueError as exc:
                raise InputError(
                    f"{where} has the time code {exc}, not one at the film's rate. Export it again."
                ) from None
    _check_fit(events, rate, fps, duration_s, where)
    return CutList(str(path), tuple(events))


def _otio_events(timeline: Any, where: str) -> tuple[list[tuple[float, float]], float | None]:
    """The clips of the first video track that has any, as (start_s, end_s) from the track's start."""
    import opentimelineio as otio

    for track in timeline.video_tracks():
        spans, rate = [], None
        for index, item in enumerate(track):
            if isinstance(item, otio.schema.Clip):
                placed = track.range_of_child_at_index(index)
                spans.append((placed.start_time.to_seconds(), placed.end_time_exclusive().to_seconds()))
                rate = placed.duration.rate
        if spans:
            return spans, rate
    raise InputError(f"{where} has no video events. Export the cut's picture track.")


def _from_record_start(
    events: list[tuple[float, float]], text: str, fps: float, tc_start: str | None
) -> list[tuple[float, float]]:
    """An EDL's events from its sequence start. OTIO's reader places the first event at 0: the first
    record-in's distance from the sequence start (`tc_start`, or its whole hour, as sequences start at
    01:00:00:00) is put back."""
    for line in text.splitlines():
        if match := EDL_EVENT.match(line):
            frames = timecode_frames(match.group(1).split()[2], fps)
            offset = (frames - sequence_start(tc_start, frames, fps, drop_frame_codes(text))) / fps
            return [(start + offset, end + offset) for start, end in events]
    return events


def _fcpxml_events(path: Path, where: str) -> tuple[list[tuple[float, float]], float | None]:
    """The primary storyline's clips of the first sequence, from its tcStart, in exact seconds."""
    from xml.etree import ElementTree

    try:
        root = fcpx_root(path, where)
        sequence = root.find(".//sequence")
        spine = sequence.find("spine") if sequence is not None else None
        if sequence is None or spine is None:
            raise ValueError("it has no sequence with a spine")
        start = fcpx_time(sequence.get("tcStart", "0s"))
        events = [
            (float(at - start), float(at - start + fcpx_time(item.get("duration", "0s"))))
            for item in spine
            if item.tag in ("asset-clip", "clip", "ref-clip", "mc-clip", "sync-clip", "video")
            for at in [fcpx_time(item.get("offset", "0s"))]
        ]
        rate = _fcpx_rate(root, sequence.get("format"))
    except (ValueError, ZeroDivisionError, ElementTree.ParseError) as exc:
        detail = one_line(str(exc), MAX_VALUE)
        raise InputError(f"{where} cannot be read as FCPXML ({detail}). Export it again.") from None
    if not events:
        raise InputError(f"{where} has no video events. Export the cut's picture track.")
    return events, rate


def _fcpx_rate(root: Any, format_id: str | None) -> float | None:
    for media_format in root.iter("format"):
        if media_format.get("id") == format_id and media_format.get("frameDuration"):
            return float(1 / fcpx_time(media_format.get("frameDuration")))
    return None


def _check_fit(
    events: list[tuple[float, float]], rate: float | None, fps: float, duration_s: float, where: str
) -> None:
    """Refuse a list that is not this film's cut."""
    if rate is not None and abs(rate - fps) > RATE_TOLERANCE:
        raise InputError(
            f"{where} is at {rate:.3f} fps and the film at {fps:.3f} fps: it is another version's cut. "
            "Export the list from the sequence this film was rendered from."
        )
    frame = 1 / fps
    ordered = sorted(events)
    for (_, end), (next_start, _) in itertools.pairwise(ordered):
        if next_start < end - frame / 2:
            raise InputError(
                f"{where} has events that overlap at {next_start:.3f} s. Export the cut's one picture track."
            )
    last = max(end for _, end in ordered)
    if ordered[0][0] < -frame / 2 or last > duration_s + 1.5 * frame or not math.isfinite(last):
        raise InputError(
            f"{where} runs to {last:.3f} s, past the film's end at {duration_s:.3f} s: it is another "
            "version's cut. Export the list from the sequence this film was rendered from."
        )
