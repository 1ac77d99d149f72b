"""Files for editors, built from report.json alone, so `filmscore report DIR` can rebuild them without
running any model: shots.csv, transcript.srt/.vtt, markers.otio (OpenTimelineIO), markers.edl (CMX3600
with locators) and, after `run`, cues.csv (a cue sheet).

Time codes are non-drop-frame at the film's frame rate (23.976, 29.97 and 59.94 fps are read as the
exact NTSC rates), counted from 00:00:00:00 at the film's first frame.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filmscore.config.names import cue_file
from filmscore.core.affect import Mood
from filmscore.core.timecode import frames_at, timecode, timecode_rate
from filmscore.core.wording import file_uri, one_line, printable, spreadsheet_cell
from filmscore.report.model import Cue, MusicFacts, Report, Shot, Source, Word

SUBTITLE_MAX_CHARS = 84  # two lines of 42, the usual broadcast limit
SUBTITLE_LINE_CHARS = 42
SUBTITLE_MAX_S = 6.0
SUBTITLE_GAP_S = 0.6  # a pause this long between words starts a new subtitle
LABEL_COLOURS: dict[str, str] = {  # by mood, as NLEs name marker colours
    Mood.JOYFUL: "YELLOW", Mood.CALM: "GREEN", Mood.SAD: "BLUE", Mood.TENSE: "ORANGE", Mood.AFRAID: "RED",
    Mood.NEUTRAL: "WHITE",
}  # fmt: skip
CUE_COLOUR = "PURPLE"


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def _source_value(source: Source | None, axis: str) -> str:
    return "" if source is None else f"{getattr(source, axis):.4f}"


def shots_csv(report: Report) -> str:
    fps = report.input.fps
    sources = ("text", "visual", "audio")
    header = ["shot", "start_s", "end_s", "start_tc", "end_tc", "label", "valence", "arousal", "confidence"]
    header += [f"{s}_{axis}" for s in sources for axis in ("valence", "arousal")]
    header += ["cue_id", "dialogue"]
    rows: list[list[Any]] = [header]
    for shot in report.shots:
        times = [shot.start_s, shot.end_s, timecode(shot.start_s, fps), timecode(shot.end_s, fps)]
        row = [shot.index + 1, *times, shot.label, shot.valence, shot.arousal, shot.confidence]
        row += [
            _source_value(getattr(shot.sources, s), axis) for s in sources for axis in ("valence", "arousal")
        ]
        row += ["" if shot.cue_id is None else shot.cue_id, shot.dialogue]
        rows.append(row)
    return _csv(rows)


def subtitle_blocks(report: Report) -> list[tuple[float, float, str]]:
    """(start_s, end_s, text) subtitles from the word timings: a new block at a pause, or when the text
    would pass two lines of 42 characters or 6 seconds on screen."""
    blocks: list[tuple[float, float, str]] = []
    for line in report.transcript:
        current: list[Word] = []
        for word in line.words:
            if current and _starts_new_block(current, word):
                blocks.append(_block(current))
                current = []
            current.append(word)
        if current:
            blocks.append(_block(current))
    return blocks


def _starts_new_block(current: list[Word], word: Word) -> bool:
    text = " ".join(w.word for w in [*current, word])
    return (
        word.start_s - current[-1].end_s >= SUBTITLE_GAP_S
        or len(text) > SUBTITLE_MAX_CHARS
        or word.end_s - current[0].start_s > SUBTITLE_MAX_S
    )


def _block(words: list[Word]) -> tuple[float, float, str]:
    text = " ".join(w.word for w in words)
    return words[0].start_s, words[-1].end_s, _two_lines(text)


def _two_lines(text: str) -> str:
    """Break at the space nearest the middle when the text is longer than one subtitle line."""
    if len(text) <= SUBTITLE_LINE_CHARS or " " not in text:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return f"{text[:cut]}\n{text[cut + 1 :]}"


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def transcript_srt(report: Report) -> str:
    entries = [
        f"{i}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n"
        for i, (start, end, text) in enumerate(subtitle_blocks(report), start=1)
    ]
    return "\n".join(entries)


def transcript_vtt(report: Report) -> str:
    entries = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text}\n"
        for start, end, text in subtitle_blocks(report)
    ]
    return "WEBVTT\n\n" + "\n".join(entries)


def _film_name(report: Report) -> str:
    return printable(Path(report.input.path).name)


def _shot_marker_name(shot: Shot) -> str:
    return f"Shot {shot.index + 1}: {shot.label}"


def _shot_comment(shot: Shot) -> str:
    text = f"valence {shot.valence:+.2f}, arousal {shot.arousal:+.2f}, confidence {shot.confidence:.2f}"
    return f"{text}. {shot.dialogue}" if shot.dialogue else text


def _shot_metadata(shot: Shot) -> dict[str, Any]:
    return {"kind": "shot", "index": shot.index, "label": str(shot.label), "valence": shot.valence,
            "arousal": shot.arousal, "confidence": shot.confidence}  # fmt: skip


def _cue_marker_name(cue: Cue) -> str:
    return f"Cue {cue.id + 1}: {cue.key}, {cue.tempo_bpm:.0f} bpm"


def markers_timeline(report: Report) -> Any:
    """An OpenTimelineIO timeline: the film as one clip, with a marker per shot and per cue."""
    import opentimelineio as otio

    rate = timecode_rate(report.input.fps)

    def span(start_s: float, end_s: float) -> Any:
        start = frames_at(start_s, rate)
        return otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, rate),
            otio.opentime.RationalTime(frames_at(end_s, rate) - start, rate),
        )

    film = report.input
    clip = otio.schema.Clip(
        name=_film_name(report),
        media_reference=otio.schema.ExternalReference(target_url=file_uri(film.path)),
        source_range=span(0.0, film.duration_s),
    )
    for shot in report.shots:
        clip.markers.append(
            otio.schema.Marker(
                name=_shot_marker_name(shot),
                marked_range=span(shot.start_s, shot.end_s),
                color=LABEL_COLOURS[shot.label],
                comment=_shot_comment(shot),
                metadata={"filmscore": _shot_metadata(shot)},
            )
        )
    for cue in report.cues or ():
        clip.markers.append(
            otio.schema.Marker(
                name=_cue_marker_name(cue),
                marked_range=span(cue.start_s, cue.end_s),
                color=CUE_COLOUR,
                comment=f"{cue.mood}, {cue.style}: {', '.join(cue.instruments)}",
                metadata={"filmscore": {"kind": "cue", "id": cue.id, "key": cue.key}},
            )
        )
    track = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(name=f"{_film_name(report)} (filmscore)")
    timeline.tracks.append(track)
    return timeline


def markers_otio(report: Report) -> str:
    return str(markers_timeline(report).to_json_string()) + "\n"


def markers_edl(report: Report) -> str:
    """CMX3600: one event for the film, with a locator (`* LOC:`) per shot and per cue."""
    fps = report.input.fps
    duration = report.input.duration_s
    start, end = timecode(0.0, fps), timecode(duration, fps)
    # An EDL is read a line at a time: a name with a line break in it would start a bogus event.
    lines = [
        f"TITLE: {one_line(Path(_film_name(report)).stem)} filmscore markers",
        "FCM: NON-DROP FRAME",
        "",
        f"001  AX       V     C        {start} {end} {start} {end}",
        f"* FROM CLIP NAME: {one_line(_film_name(report))}",
    ]
    locators = [(s.start_s, LABEL_COLOURS[s.label], _shot_marker_name(s)) for s in report.shots]
    locators += [(c.start_s, CUE_COLOUR, _cue_marker_name(c)) for c in report.cues or ()]
    for at_s, colour, name in sorted(locators, key=lambda item: item[0]):
        lines.append(f"* LOC: {timecode(at_s, fps)} {colour:<7} {one_line(name)}")
    return "\n".join(lines) + "\n"


CUE_SHEET_HEADER = [
    "cue", "title", "in_tc", "out_tc", "duration_tc", "duration_s",
    "generator", "style", "model", "seed", "take", "licence", "non_commercial", "source",
]  # fmt: skip


def cue_sheet_csv(report: Report) -> str:
    """A music cue sheet: what plays where, what made it, and under which licence."""
    fps = report.input.fps
    music = report.music or MusicFacts("", 0)
    details = music.details
    licence = details.get("licence", "")
    non_commercial = "yes" if "NC" in licence.upper().replace("_", "-").split("-") else "no"
    rows: list[list[Any]] = [CUE_SHEET_HEADER]
    for cue in report.cues or ():
        length = cue.end_s - cue.start_s
        title = f"{_film_name(report)} - {_cue_marker_name(cue)} ({cue.mood})"
        times = [
            timecode(cue.start_s, fps),
            timecode(cue.end_s, fps),
            timecode(length, fps),
            round(length, 3),
        ]
        model = details.get("model", details.get("soundfont", details.get("library", "")))
        rows.append(
            [cue.id + 1, title, *times, music.generator, _style(cue, music), model, music.seed, cue.take,
             licence, non_commercial, _sources(cue, fps)]
        )  # fmt: skip
    return _csv(rows)


def _style(cue: Cue, music: MusicFacts) -> str:
    """The style the score was written in; a library score plays recordings, which have none of ours."""
    return "" if music.generator == "library" else cue.style


def _sources(cue: Cue, fps: float) -> str:
    """The recordings a cue plays, for a library score: "track [in - out]; ..."; empty when composed."""
    return "; ".join(f"{e.track} [{timecode(e.from_s, fps)} - {timecode(e.to_s, fps)}]" for e in cue.excerpts)


# Each deliverable: file name, builder, and whether the report has what it needs.
DELIVERABLES: tuple[tuple[str, Callable[[Report], str], Callable[[Report], bool]], ...] = (
    ("shots.csv", shots_csv, lambda r: True),
    ("transcript.srt", transcript_srt, lambda r: True),
    ("transcript.vtt", transcript_vtt, lambda r: True),
    ("markers.otio", markers_otio, lambda r: True),
    ("markers.edl", markers_edl, lambda r: True),
    ("cues.csv", cue_sheet_csv, lambda r: r.cues is not None),
)


def has_cue_files(report: Report) -> bool:
    """Whether the run wrote every cue's own file (reports from before they were written have none)."""
    outputs = report.outputs or {}
    return bool(report.cues) and all(cue_file(c.id) in outputs for c in report.cues or ())


def deliverable_names(report: Report) -> list[str]:
    """The names of the deliverables the report gives, without building them."""
    return [name for name, _, applies in DELIVERABLES if applies(report)]


def build_deliverables(report: Report) -> dict[str, str]:
    """Every deliverable the report can give, by file name."""
    return {name: build(report) for name, build, applies in DELIVERABLES if applies(report)}
