"""Editors' timeline files, read through OpenTimelineIO's adapters: a CMX3600 EDL, an OpenTimelineIO file,
FCP 7 XML (Premiere and Resolve export it) or FCPXML (Final Cut). The spotting reads their markers
(music/spotting_files.py) and the cut list their edits (analysis/cut_list.py).

Each file is checked before an adapter parses it: JSON and XML nested at most MAX_NESTING deep, and XML
without entities or a DTD of its own. It is read from its text (UTF-8, else Latin-1, which older systems
write EDLs in), as OTIO takes only file names that are UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmscore.core.errors import InputError
from filmscore.core.wording import MAX_VALUE, one_line

MAX_NESTING = 100  # an OTIO or XML timeline nests a dozen levels deep; a thousand is an attack on the parser
TIMELINE_ADAPTERS = {".edl": "cmx_3600", ".otio": "otio_json", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml"}
# A CMX3600 event line: number, reel, track, transition (and its frames), then four time codes.
EDL_EVENT = re.compile(r"^\s*\d+\s+\S+\s+\S+\s+\S+(?:\s+\d+)?((?:\s+\d\d[:;]\d\d[:;]\d\d[:;]\d\d){4})\s*$")
# An Avid or filmscore locator: "* LOC: 01:00:05:00 RED     tense".
EDL_LOCATOR = re.compile(r"^\*\s*LOC:\s*(\d\d[:;]\d\d[:;]\d\d[:;]\d\d)\s+(\S+)\s*(.*)$")
# Resolve's marker EDL: each marker an event, with " |C:ResolveColorRed |M:tense |D:1" on the next line.
RESOLVE_MARKER = re.compile(r"\|M:(?P<name>.*?)\s*(?:\|D:(?P<frames>\d+))?\s*$")
DROP_FRAME_CODE = re.compile(r"\d\d:\d\d:\d\d;\d\d")
KINDS = {"cmx_3600": "a CMX3600 EDL", "otio_json": "an OpenTimelineIO file", "fcp_xml": "FCP 7 XML",
         "fcpx_xml": "FCPXML"}  # fmt: skip


def read_timeline(path: Path, rate: float, where: str) -> Any:
    """The file's timeline, as an OTIO Timeline; an InputError (exit 3) for a file that is none. `rate` is
    the frame rate an EDL's time codes are read at (an EDL does not say)."""
    import opentimelineio as otio

    adapter = TIMELINE_ADAPTERS[path.suffix.lower()]
    extra = {"rate": rate} if adapter == "cmx_3600" else {}
    text = editor_text(path, where)
    check_structure(text.encode("utf-8"), adapter, where)
    try:  # from the text, not the path: OTIO takes only names that are UTF-8
        timeline = otio.adapters.read_from_string(text, adapter_name=adapter, **extra)
        if not isinstance(timeline, otio.schema.Timeline):
            timeline = next(iter(timeline.find_children(descended_from_type=otio.schema.Timeline)))
        return timeline
    except Exception as exc:  # the adapters raise whatever their parsers do on a bad file
        detail = one_line(str(exc) or type(exc).__name__, MAX_VALUE)
        raise InputError(f"{where} cannot be read as {KINDS[adapter]} ({detail}). Export it again.") from None


def editor_text(path: Path, where: str) -> str:
    """An editor's timeline file as text: UTF-8, else Latin-1 (a name with a café in it, from an older
    system); every byte means something in Latin-1, so a file that is no timeline at all is the adapter's
    to refuse."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{where} cannot be read ({one_line(str(exc), MAX_VALUE)}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def check_structure(data: bytes, adapter: str, where: str) -> None:
    """Before an adapter parses an editor's file: JSON and XML nested at most MAX_NESTING deep (OTIO's C++
    reader recurses, and crashes the process on a deep file), and XML without entities or a DTD of its own
    (expanded entities turn kilobytes into gigabytes). An InputError otherwise, in well under a second."""
    if adapter == "otio_json":
        problem = _json_problem(data)
    elif adapter in ("fcp_xml", "fcpx_xml"):
        problem = _xml_problem(data)
    else:
        return
    if problem is not None:
        raise InputError(f"{where} {problem}, which no editing system writes. Export it again.")


def _json_problem(data: bytes) -> str | None:
    import json

    try:
        document = json.loads(data)  # Python's reader stops a deep file with RecursionError, unharmed
    except RecursionError:
        return f"nests deeper than {MAX_NESTING} levels"
    except ValueError:
        return None  # not JSON: the adapter says so in its own words
    level = [document]
    for _ in range(MAX_NESTING + 1):
        level = [child for node in level for child in _children(node)]
        if not level:
            return None
    return f"nests deeper than {MAX_NESTING} levels"


def _children(node: object) -> list[object]:
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, dict | list)]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, dict | list)]
    return []


class _Refused(Exception):
    """Raised from expat's handlers to stop at the first thing an editor's XML must not hold."""


def _xml_problem(data: bytes) -> str | None:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = [0]

    def declared(*_: object) -> None:
        raise _Refused("declares entities")

    def doctype(name: str, system_id: str | None, public_id: str | None, internal: int) -> None:
        if internal or system_id:
            raise _Refused("has a DTD of its own")

    def opened(*_: object) -> None:
        depth[0] += 1
        if depth[0] > MAX_NESTING:
            raise _Refused(f"nests deeper than {MAX_NESTING} levels")

    def closed(*_: object) -> None:
        depth[0] -= 1

    parser.EntityDeclHandler = declared
    parser.UnparsedEntityDeclHandler = declared
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = opened
    parser.EndElementHandler = closed
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        return str(refused)
    except expat.ExpatError:
        return None  # not XML: the adapter says so in its own words
    return None


def file_in_folder(folder: Path, film: Path, suffixes: tuple[str, ...]) -> Path | None:
    """The file in `folder` named after the film with one of `suffixes` (in that order of preference),
    for a batch whose films each have their own."""
    for suffix in suffixes:
        candidate = folder / f"{film.stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class EdlMark:
    """A marker in an EDL, on the record side (the sequence's time code), in frames at the EDL's rate."""

    frame: float
    frames: float  # how long: 0 for a point
    name: str
    comment: str
    line: int


def edl_marks(text: str, rate: float) -> tuple[list[EdlMark], float | None]:
    """An EDL's markers (`* LOC:` locators, Resolve's `|M:` marker events) on the record side, and the
    first event's record-in, in frames at `rate` (None without events). A locator's time code is on the
    record side (Avid, filmscore) or in its event's source (OpenTimelineIO writes them so): one inside
    its event's source range and not its record range is moved to the record side. OpenTimelineIO's
    reader keeps locators in source time only and reads no Resolve markers, so they are read here."""
    marks: list[EdlMark] = []
    first_record: float | None = None
    event: tuple[float, float, float, float] | None = None  # source in, out, record in, out
    for number, line in enumerate(text.splitlines(), start=1):
        if found := EDL_EVENT.match(line):
            codes = [timecode_frames(code, rate) for code in found.group(1).split()]
            event = (codes[0], codes[1], codes[2], codes[3])
            first_record = event[2] if first_record is None else first_record
        elif locator := EDL_LOCATOR.match(line.strip()):
            frame = _on_record_side(timecode_frames(locator.group(1), rate), event)
            marks.append(EdlMark(frame, 0.0, locator.group(3).strip(), "", number))  # no colour
        elif (resolve := RESOLVE_MARKER.search(line)) and event is not None:
            frames = float(resolve.group("frames") or 0)
            marks.append(EdlMark(event[2], frames if frames > 1 else 0.0, resolve.group("name"), "", number))
    return marks, first_record


def _on_record_side(frame: float, event: tuple[float, float, float, float] | None) -> float:
    if event is None:
        return frame
    source_in, source_out, record_in, record_out = event
    if not record_in <= frame <= record_out and source_in <= frame <= source_out:
        return record_in + frame - source_in
    return frame


def timecode_frames(code: str, rate: float) -> float:
    """A time code's frame count at `rate`, read by OpenTimelineIO (which knows drop-frame counting): a
    ValueError for one that is none, and for a frame number past the rate, which no editing system
    writes."""
    import opentimelineio as otio

    parts = code.replace(";", ":").split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts) or int(parts[3]) >= round(rate):
        raise ValueError(code)
    try:
        return float(otio.opentime.from_timecode(code, rate).value)
    except Exception as exc:  # OTIO raises its own error types for bad codes
        raise ValueError(code) from exc


def sequence_start(tc_start: str | None, first_frames: float, rate: float, drop_frame: bool) -> float:
    """Where an editor's sequence starts, in time-code frames at `rate`: `tc_start` (--tc-start) where
    given, else the whole hour at or below its first time code (`first_frames`)."""
    return (
        timecode_frames(tc_start, rate)
        if tc_start is not None
        else hour_frames(first_frames, rate, drop_frame)
    )


def drop_frame_codes(text: str) -> bool:
    """Whether a file's time codes are drop-frame: written with a semicolon, as they are read (a code
    written with colons is read as non-drop, whatever the FCM line says)."""
    return DROP_FRAME_CODE.search(text) is not None


def hour_frames(code_frames: float, rate: float, drop_frame: bool) -> float:
    """The whole hour of time code at or below `code_frames`: where a sequence starts (01:00:00:00 by
    custom, 00:00:00:00 or 10:00:00:00 by others). An hour of drop-frame time code is an hour of frames;
    of non-drop, 3600 s of the whole rate."""
    hour = round(3600 * rate) if drop_frame else 3600 * round(rate)
    return code_frames - code_frames % hour


def fcpx_time(text: str) -> Fraction:
    """An FCPXML time: "1001/24000s", "5s" or "0s"."""
    if not text.endswith("s"):
        raise ValueError(f"{text!r} is not an FCPXML time")
    return Fraction(text[:-1])


def fcpx_root(path: Path, where: str) -> Any:
    """An FCPXML file's root element, its structure checked first (see check_structure)."""
    from xml.etree import ElementTree

    text = editor_text(path, where)
    check_structure(text.encode("utf-8"), "fcpx_xml", where)
    return ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip())


# What FCPXML places on a storyline: clips of every kind, and gaps (which hold connected clips too)
FCPX_ITEMS = ("asset-clip", "clip", "ref-clip", "mc-clip", "sync-clip", "video", "audio", "gap", "title")
FCPX_MARKERS = ("marker", "chapter-marker")


def fcpx_marks(sequence: Any) -> list[tuple[Fraction, Fraction, str, str]]:
    """Every marker and chapter marker on a sequence's storylines, as (start, duration, name, note) on the
    sequence's time (its tcStart included): a marker is in its clip's own time, which starts at the
    clip's `start` and sits at its `offset` in its parent's time, storylines and connected clips alike."""
    spine = sequence.find("spine")
    marks: list[tuple[Fraction, Fraction, str, str]] = []
    if spine is not None:
        _fcpx_walk(spine, Fraction(0), Fraction(0), marks)
    return sorted(marks)


def _fcpx_walk(parent: Any, at: Fraction, origin: Fraction, marks: list[Any]) -> None:
    """The markers under `parent`, whose own time `origin` sits at `at` on the sequence."""
    for item in parent:
        if item.tag in FCPX_MARKERS:
            start = at + fcpx_time(item.get("start", "0s")) - origin
            length = fcpx_time(item.get("duration", "0s"))
            marks.append((start, length, item.get("value", ""), item.get("note", "")))
        elif item.tag in FCPX_ITEMS or item.tag == "spine":
            placed = at + fcpx_time(item.get("offset", "0s")) - origin
            _fcpx_walk(item, placed, fcpx_time(item.get("start", "0s")), marks)
