"""Reading a spotting (spotting.py) from the files editors have: a CSV of rows, or the markers of a CMX3600
EDL, an OpenTimelineIO file or FCP 7 XML (Premiere and Resolve export it), read through OpenTimelineIO's
adapters.

A CSV has a header, `start,end,mood[,style][,intensity][,note][,take]`. Times are seconds or time codes
(HH:MM:SS:FF, or HH:MM:SS;FF drop-frame) at the film's rate. A `hit` row needs only a start. A take (a
letter, or a seed as a whole number) chooses the take of the cue playing over the row's range; an `auto`
row with a take only chooses it, and places nothing.

A marker's name, else its comment, carries the mood: its first word that is a mood, `auto`, `none` or
`hit`. Markers that carry none (an editor's other notes) are left out and named. A ranged marker spans its
range; a marker on one frame spans to the next marker, or to the film's end. A hit is always one frame.
Marker times are on the editor's timeline, which is taken to start where the film starts. In a
markers.otio filmscore wrote after a run, the cue markers are the spotting and the shot markers are left
out (they are the reading the cues came from).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmscore.config.names import STYLE_NAMES
from filmscore.core.errors import InputError
from filmscore.core.timecode import timecode_rate
from filmscore.core.wording import FORMULA_STARTS, MAX_VALUE, clean_text, one_line, quoted, size
from filmscore.media.timelines import (
    KINDS,
    TIMELINE_ADAPTERS,
    drop_frame_codes,
    editor_text,
    edl_marks,
    fcpx_marks,
    fcpx_root,
    fcpx_time,
    read_timeline,
    sequence_start,
    timecode_frames,
)
from filmscore.music.planning.palette import is_take
from filmscore.music.spotting import (
    AUTO,
    HIT,
    MOOD_WORDS,
    MOST_MARKS,
    Spot,
    SpotHit,
    SpotTake,
    Spotting,
    check_mark_count,
    checked_spotting,
    mood_word,
    unknown_mood,
)

MAX_SPOTTING_BYTES = 16 << 20  # a feature's spotting is a few hundred rows; anything this large is not one
CSV_COLUMNS = ("start", "end", "mood", "style", "intensity", "note", "take")
MARKER_ADAPTERS = TIMELINE_ADAPTERS


@dataclass(frozen=True)
class Marker:
    """A marker on the editor's timeline, in seconds from the film's start."""

    start_s: float
    duration_s: float
    name: str
    comment: str
    filmscore_kind: str | None  # "shot" or "cue" in markers filmscore wrote


@dataclass(frozen=True)
class SpottingRead:
    spotting: Spotting
    left_out: tuple[str, ...]  # markers that name no mood, for a note to the user


def read_spotting(path: Path, fps: float, duration_s: float, tc_start: str | None = None) -> SpottingRead:
    """The spotting in `path`, checked against the film (its rate and length): or an InputError (exit 3)
    naming the file and the row. `tc_start` is the sequence's start time code, for an EDL (its first
    event's whole hour without it)."""
    where = one_line(str(path), MAX_VALUE)
    if not path.is_file():
        raise InputError(f"{where}: no such spotting file. Give a .csv, .edl, .otio, .xml or .fcpxml file.")
    if path.stat().st_size > MAX_SPOTTING_BYTES:
        raise InputError(f"{where} is {size(path.stat().st_size)}, too large for a spotting file.")
    rate = timecode_rate(fps)
    suffix = path.suffix.lower()
    left_out: tuple[str, ...]
    takes: list[SpotTake] = []
    if suffix == ".csv" and _is_premiere_markers(text := _text(path, where)):
        markers = premiere_markers(text, rate, where, tc_start)
        check_mark_count(len(markers), where, duration_s, 1 / rate)
        spots, hits, left_out = spots_from_markers(markers, duration_s, 1 / rate)
    elif suffix == ".csv":
        origin = timecode_frames(tc_start, rate) if tc_start else 0.0
        spots, hits, takes = _csv_rows(text, rate, where, origin)
        left_out = ()
    elif suffix in MARKER_ADAPTERS:
        if suffix == ".edl":
            markers = edl_markers(path, rate, where, tc_start)
        elif suffix == ".fcpxml":
            markers = fcpxml_markers(path, rate, where, tc_start)
        else:
            markers = timeline_markers(path, rate, where)
        check_mark_count(len(markers), where, duration_s, 1 / rate)
        spots, hits, left_out = spots_from_markers(markers, duration_s, 1 / rate)
    else:
        raise InputError(
            f"{where}: filmscore reads spotting from .csv, .edl, .otio, .xml (FCP 7) or .fcpxml files, "
            f"not {quoted(path.suffix or 'a file without an extension')}."
        )
    return SpottingRead(checked_spotting(spots, hits, str(path), duration_s, 1 / rate, takes), left_out)


def spotting_in_folder(folder: Path, film: Path) -> Path | None:
    """The spotting file named after the film in a folder of them (film.csv for film.mp4), if any."""
    for suffix in (".csv", *MARKER_ADAPTERS):
        candidate = folder / f"{film.stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _text(path: Path, where: str) -> str:
    try:
        data = path.read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Premiere writes its marker CSV in UTF-16
            return data.decode("utf-16")
        return data.decode("utf-8-sig")  # a spreadsheet's CSV often starts with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where} cannot be read as UTF-8 text ({one_line(str(exc), MAX_VALUE)}).") from None


# -- CSV ---------------------------------------------------------------------------------------------

PREMIERE_COLUMNS = ("marker name", "description", "in", "out")  # and Duration, Marker Type


def _is_premiere_markers(text: str) -> bool:
    """Whether a CSV is Premiere Pro's marker export (Marker Name, Description, In, Out, ...)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    names = [cell.strip().strip('"').lower() for cell in first.replace("\t", ",").split(",")]
    return all(column in names for column in PREMIERE_COLUMNS)


def premiere_markers(text: str, rate: float, where: str, tc_start: str | None) -> list[Marker]:
    """Premiere Pro's marker CSV as markers: the name (else the description) carries the mood, In and Out
    are sequence time codes, from `tc_start` or the first marker's whole hour."""
    delimiter = "\t" if "\t" in text.splitlines()[0] else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]
    try:
        frames = [(timecode_frames(r["in"], rate), timecode_frames(r["out"] or r["in"], rate)) for r in rows]
    except (ValueError, KeyError):
        raise InputError(
            f"{where}: a marker's In or Out is not a time code at the film's rate. Export the markers again."
        ) from None
    if not frames:
        return []
    first = min(start for start, _ in frames)
    origin = sequence_start(tc_start, first, rate, drop_frame_codes(text))
    return sorted(
        (Marker((start - origin) / rate, max(0.0, end - start) / rate, row.get("marker name", ""),
                row.get("description", ""), None)
         for row, (start, end) in zip(rows, frames, strict=True)),
        key=lambda marker: marker.start_s,
    )  # fmt: skip


def _csv_rows(
    text: str, rate: float, where: str, origin: float = 0.0
) -> tuple[list[Spot], list[SpotHit], list[SpotTake]]:
    """The rows as spots and hits; time codes count from `origin` (frames: the sequence start, from
    --tc-start), seconds from the film's first frame."""
    rows = _csv_lines(text, where)
    header_line, header = next(rows, (1, []))
    columns = [name.strip().lower() for name in header]
    missing = [name for name in CSV_COLUMNS[:3] if name not in columns]
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if missing or unknown:
        problem = f"lacks {', '.join(missing)}" if missing else f"has unknown columns {quoted(unknown)}"
        raise InputError(
            f"{where}: the header (row {header_line}) {problem}. "
            f"Start the file with {','.join(CSV_COLUMNS[:3])}[,style][,intensity][,note][,take]."
        )
    spots: list[Spot] = []
    hits: list[SpotHit] = []
    takes: list[SpotTake] = []
    for line, values in rows:
        if len(spots) + len(hits) >= MOST_MARKS:
            raise InputError(
                f"{where} has more than {MOST_MARKS} rows, too many for a spotting file. Give the cues' "
                "spotting, not every frame."
            )
        if len(values) > len(columns):
            raise InputError(f"{where}: row {line} has more values than the header has columns.")
        cells = dict(zip(columns, (v.strip() for v in values), strict=False))
        _csv_row(cells, f"row {line}", (rate, origin), where, (spots, hits, takes))
    return spots, hits, takes


def _csv_lines(text: str, where: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, values) of each row that is not blank or a # comment. Semicolons separate the values
    where the header has no comma: what a spreadsheet writes where the comma is the decimal point."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for values in reader:
            if values and values[0].strip() and not values[0].lstrip().startswith("#"):
                yield reader.line_num, values
    except csv.Error as exc:
        raise InputError(
            f"{where}: row {reader.line_num} is not CSV ({one_line(str(exc), MAX_VALUE)})."
        ) from None


def _csv_row(
    cells: dict[str, str],
    row: str,
    clock: tuple[float, float],
    where: str,
    into: tuple[list[Spot], list[SpotHit], list[SpotTake]],
) -> None:
    """One row, its times read at `clock` (the rate, and the sequence start in frames)."""
    rate, origin = clock
    spots, hits, takes = into
    mood_text = cells.get("mood", "")
    mood = MOOD_WORDS.get(mood_text.lower())
    if mood is None:
        raise unknown_mood(mood_text, row, where)
    start = seconds(cells.get("start", ""), rate, row, where, origin)
    if mood == HIT:
        hits.append(SpotHit(start, row))
        return
    end = seconds(cells.get("end", ""), rate, row, where, origin)
    take = _take(cells, row, where)
    if take is not None:
        takes.append(SpotTake(start, end, take, row))
        if mood == AUTO and not cells.get("style") and not cells.get("intensity"):
            return  # a take's row: it chooses the cue's take and places nothing
    style = cells.get("style") or None
    if style is not None and style.lower() not in STYLE_NAMES:
        raise InputError(
            f"{where}: {row} has the style {quoted(style)}. "
            f"Use one of {', '.join(STYLE_NAMES)}, or leave it empty."
        )
    spots.append(
        Spot(
            start,
            end,
            mood,
            row,
            style and style.lower(),
            _intensity(cells, row, where),
            _note(cells.get("note", "")),
        )
    )


def _take(cells: dict[str, str], row: str, where: str) -> str | None:
    text = cells.get("take", "").lower()
    if not text:
        return None
    if not is_take(text):
        raise InputError(
            f"{where}: {row} has the take {quoted(cells['take'])}. Give a letter (a, b, c, ...) or a seed "
            "(a whole number)."
        )
    return text


def _note(text: str) -> str:
    """A note as kept: clean text, without the apostrophe a spreadsheet-safe CSV puts before a formula."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        text = text[1:]
    return clean_text(text)


def _intensity(cells: dict[str, str], row: str, where: str) -> float | None:
    text = cells.get("intensity", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise InputError(f"{where}: {row} has the intensity {quoted(text)}. Give a number from 0 to 1.")
    return value


def seconds(text: str, rate: float, row: str, where: str, origin: float = 0.0) -> float:
    """A time written as seconds (12.5) or as a time code at the film's rate (00:00:12:12; drop-frame
    with a semicolon, counted from `origin` frames), in seconds."""
    import opentimelineio as otio

    if not text:
        raise InputError(f"{where}: {row} has no time where one is needed. Give seconds or HH:MM:SS:FF.")
    try:
        if ":" in text or ";" in text:
            frames = timecode_frames(text, rate) - origin
            return float(otio.opentime.RationalTime(frames, rate).to_seconds())
        value = float(text)
        if value == value and abs(value) < 1e9:  # not NaN, and within reason
            return value
    except ValueError:
        pass
    raise InputError(
        f"{where}: {row} has the time {quoted(text)}. Give seconds (12.5) or a time code at the film's "
        f"rate (00:00:12:12)."
    )


# -- markers -----------------------------------------------------------------------------------------


def edl_markers(path: Path, rate: float, where: str, tc_start: str | None) -> list[Marker]:
    """An EDL's markers (Avid `* LOC:` locators, Resolve's marker events) from the sequence's start:
    `tc_start`, or the whole hour of the first event's record-in (of the first marker without events),
    as NLE sequences start at 01:00:00:00."""
    text = editor_text(path, where)
    try:
        marks, first_record = edl_marks(text, rate)
    except ValueError as exc:
        raise InputError(
            f"{where} has the time code {quoted(str(exc))}, not one at the film's rate. Export it again."
        ) from None
    if not marks:
        raise InputError(
            f"{where} has no markers of an EDL (`* LOC:` locators, or Resolve's `|M:` marker events). "
            "Export it again with the sequence's markers, or give a CSV."
        )
    first = first_record if first_record is not None else min(m.frame for m in marks)
    origin = sequence_start(tc_start, first, rate, drop_frame_codes(text))
    return [
        Marker((m.frame - origin) / rate, m.frames / rate, m.name, m.comment, None)
        for m in sorted(marks, key=lambda mark: mark.frame)
    ]


def fcpxml_markers(path: Path, rate: float, where: str, tc_start: str | None) -> list[Marker]:
    """Every marker and chapter marker of an FCPXML's first sequence, from its start: `tc_start` where
    given, else the sequence's tcStart (01:00:00:00 in Final Cut by custom). Read from the XML itself:
    OTIO's adapter skips chapter markers and puts the start time code in as an hour-long gap."""
    from xml.etree import ElementTree

    try:
        sequence = fcpx_root(path, where).find(".//sequence")
        if sequence is None:
            raise ValueError("it has no sequence")
        start = (
            Fraction(timecode_frames(tc_start, rate)) / Fraction(rate).limit_denominator(1001)
            if tc_start is not None
            else fcpx_time(sequence.get("tcStart", "0s"))
        )
        marks = fcpx_marks(sequence)
    except (ValueError, ZeroDivisionError, ElementTree.ParseError) as exc:
        raise InputError(
            f"{where} cannot be read as FCPXML ({one_line(str(exc), MAX_VALUE)}). Export it again."
        ) from None
    return [Marker(float(at - start), float(length), name, note, None) for at, length, name, note in marks]


def timeline_markers(path: Path, rate: float, where: str) -> list[Marker]:
    """Every marker in an EDL, OTIO or FCP XML file, on the timeline's time: markers of the whole
    timeline, of each track, and of each clip (whose own are in the clip's media time)."""
    import opentimelineio as otio

    timeline = read_timeline(path, rate, where)
    try:
        return _markers_of(timeline, otio)
    except Exception as exc:  # OTIO raises its own errors on a timeline whose times make no sense
        kind = KINDS[MARKER_ADAPTERS[path.suffix.lower()]]
        detail = one_line(str(exc) or type(exc).__name__, MAX_VALUE)
        raise InputError(f"{where} cannot be read as {kind} ({detail}). Export it again.") from None


def _markers_of(timeline: Any, otio: Any) -> list[Marker]:
    stack = timeline.tracks
    found = [_marker(m, m.marked_range) for m in stack.markers]
    for item in stack.find_children():
        for marker in getattr(item, "markers", []):
            found.append(_marker(marker, item.transformed_time_range(marker.marked_range, stack)))
    return sorted(found, key=lambda m: m.start_s)


def _marker(marker: Any, marked: Any) -> Marker:
    ours = marker.metadata.get("filmscore") if isinstance(marker.metadata, Mapping) else None
    kind = ours.get("kind") if isinstance(ours, Mapping) else None
    return Marker(
        start_s=float(marked.start_time.to_seconds()),
        duration_s=float(marked.duration.to_seconds()),
        name=str(marker.name or ""),
        comment=str(getattr(marker, "comment", "") or ""),
        filmscore_kind=kind if isinstance(kind, str) else None,
    )


def spots_from_markers(
    markers: list[Marker], duration_s: float, frame_s: float
) -> tuple[list[Spot], list[SpotHit], tuple[str, ...]]:
    """Spots and hits from markers, and the names of those that carry no mood word. A marker a frame
    long or less is a point (some editing systems give point markers one frame)."""
    if any(m.filmscore_kind == "cue" for m in markers):
        markers = [m for m in markers if m.filmscore_kind != "shot"]
    worded = [(m, mood_word(m.name) or mood_word(m.comment)) for m in markers]
    left_out = tuple(one_line(m.name or "(unnamed)", MAX_VALUE) for m, word in worded if word is None)
    moods = [(m, word) for m, word in worded if word is not None]
    spots: list[Spot] = []
    hits: list[SpotHit] = []
    for i, (marker, word) in enumerate(moods):
        row = f"marker {quoted(marker.name)} at {marker.start_s:.3f} s"
        if word == HIT:
            hits.append(SpotHit(marker.start_s, row))
            continue
        end = marker.start_s + marker.duration_s
        if (
            marker.duration_s <= frame_s * 1.01
        ):  # a point: to the next mood marker that starts later, or the end
            later = [m.start_s for m, w in moods[i + 1 :] if w != HIT and m.start_s > marker.start_s]
            end = later[0] if later else duration_s
        spots.append(
            Spot(marker.start_s, end, word, row, note=clean_text(one_line(marker.comment, MAX_VALUE)))
        )
    return spots, hits, left_out
