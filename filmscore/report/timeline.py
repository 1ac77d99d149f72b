"""The cue timeline an editing system imports: the scored film as a clip on the picture track, one clip per
cue (`cues/cue-NN.wav`, as mixed) on a music track at its place, the stems as further tracks when they were
written, and the shot and cue markers. Written as OpenTimelineIO (`timeline.otio`) and, through OTIO's
adapters, as FCP 7 XML (`timeline.xml`, which Premiere and Resolve import) and FCPXML (`timeline.fcpxml`,
Final Cut). Built from report.json alone, so `filmscore report` writes it again.
"""

from __future__ import annotations

import re
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmscore.config.names import ORIGINAL_STEM, STEMS_FOLDER, cue_file
from filmscore.core.timecode import frames_at, sequence_rate
from filmscore.core.wording import file_uri, printable
from filmscore.report.editors import has_cue_files, markers_timeline
from filmscore.report.model import Report

# FCPXML knows NTSC rates by their rounded names only (its adapter looks up 23.98 and 29.97): a timeline
# for it is built at the rounded rate, which moves a cue by under a frame in an hour.
_FCPX_TIME = re.compile(r'(?P<name>offset|duration|start|tcStart)="(?P<num>\d+)(?:/(?P<den>\d+))?s"')
TIMELINE_NAMES = ("timeline.otio", "timeline.xml", "timeline.fcpxml")
APOSTROPHE_STAND_IN = "\ue000"  # a private-use character no name holds (see _without_apostrophes)
FCPX_RATES = {24000 / 1001: 23.98, 30000 / 1001: 29.97, 60000 / 1001: 59.94}
# A music stem's track in FCP 7 XML (its file under stems/, not the original sound), and in FCPXML its
# asset and the clips that play it.
_FCP7_MUSIC_STEM_TRACK = re.compile(
    rf"<track>(?=(?:(?!</track>).)*?/{STEMS_FOLDER}/(?!{re.escape(ORIGINAL_STEM)})[^<]*\.wav</pathurl>)",
    re.DOTALL,
)
_FCPX_MUSIC_STEM_ASSET = re.compile(
    rf'<asset [^>]*src="[^"]*/{STEMS_FOLDER}/(?!{re.escape(ORIGINAL_STEM)})[^"]*\.wav"[^>]*id="(r\d+)"'
)
# (the adapter writes an audio-only clip as a clip holding a gap that holds the audio)
_FCPX_AUDIO_CLIP = re.compile(
    r'<clip (?P<attrs>[^>]*)>(?P<body>(?:\s*<gap [^>]*>)?\s*<audio [^>]*ref="(?P<ref>r\d+)")'
)


def timeline_names(report: Report) -> tuple[str, ...]:
    """The timeline files the report gives: all three with its cue files, none without."""
    return TIMELINE_NAMES if has_cue_files(report) else ()


def build_timelines(report: Report) -> dict[str, str]:
    """The timeline in each format, by file name; none for a report without cue files (analyze, or a run
    from before they were written)."""
    builders = (timeline_otio, timeline_fcp7, timeline_fcpx)
    return {name: build(report) for name, build in zip(timeline_names(report), builders, strict=False)}


def edit_timeline(report: Report, rate: float | None = None) -> Any:
    """The timeline as an OTIO object, at the film's sequence rate (or `rate`): the film's own, or where
    SMPTE time code has no such rate, the one an NLE would set (core/timecode.sequence_rate)."""
    import opentimelineio as otio

    rate = rate or sequence_rate(report.input.fps)
    film = report.input
    outputs = report.outputs or {}
    timeline = otio.schema.Timeline(name=f"{printable(Path(film.path).name)} (filmscore)")
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    picture = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    video = outputs.get("video", film.path)
    scored = _clip(printable(Path(video).name), video, 0.0, film.duration_s, rate)
    markers = markers_timeline(report).tracks[0][0].markers
    scored.markers.extend(_rated_marker(marker, rate) for marker in markers)
    picture.append(scored)
    timeline.tracks.append(picture)
    music = otio.schema.Track(name="Music (filmscore)", kind=otio.schema.TrackKind.Audio)
    for cue in report.cues or ():
        _place(music, _clip(f"Cue {cue.id + 1} ({cue.mood})", outputs[cue_file(cue.id)],
                            cue.start_s, cue.end_s, rate), rate)  # fmt: skip
    timeline.tracks.append(music)
    for name, path in sorted(outputs.items()):
        if name.startswith(f"{STEMS_FOLDER}/"):
            stem = otio.schema.Track(name=f"Stem: {Path(name).stem}", kind=otio.schema.TrackKind.Audio)
            stem.append(_clip(Path(name).stem, path, 0.0, film.duration_s, rate))
            # The cue clips are the music that plays; the music's stems are there to mix from, off, so
            # the score plays once (the film's original sound, kept as a stem, stays on).
            stem.enabled = Path(name).name == ORIGINAL_STEM
            timeline.tracks.append(stem)
    return timeline


def _clip(name: str, path: str, start_s: float, end_s: float, rate: float) -> Any:
    """A clip of a whole media file, `end_s - start_s` long, to be placed at `start_s`."""
    import opentimelineio as otio

    length = otio.opentime.RationalTime(frames_at(end_s, rate) - frames_at(start_s, rate), rate)
    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), length)
    reference = otio.schema.ExternalReference(target_url=file_uri(path), available_range=whole)
    clip = otio.schema.Clip(name=name, media_reference=reference, source_range=whole)
    clip.metadata["filmscore"] = {"start_frame": frames_at(start_s, rate)}
    return clip


def _place(track: Any, clip: Any, rate: float) -> None:
    """Append `clip` at its frame, with a gap before it if the track ends earlier."""
    import opentimelineio as otio

    at = otio.opentime.RationalTime(clip.metadata["filmscore"]["start_frame"], rate)
    if at > track.duration():
        track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=at - track.duration())))
    track.append(clip)


def _rated_marker(marker: Any, rate: float) -> Any:
    """A copy of a marker with its range at `rate` (the markers are made at the film's own rate)."""
    import opentimelineio as otio

    copy = marker.clone()
    start, length = marker.marked_range.start_time, marker.marked_range.duration
    copy.marked_range = otio.opentime.TimeRange(
        start.rescaled_to(rate).round(), length.rescaled_to(rate).round()
    )
    return copy


def timeline_otio(report: Report) -> str:
    return str(edit_timeline(report).to_json_string()) + "\n"


def timeline_fcp7(report: Report) -> str:
    return _music_stems_off_fcp7(_through_adapter(edit_timeline(report), "fcp_xml", ".xml"))


def _music_stems_off_fcp7(xml: str) -> str:
    """Each music stem's track disabled (`<enabled>FALSE</enabled>`): OTIO's FCP 7 adapter writes no
    track's state."""
    return _FCP7_MUSIC_STEM_TRACK.sub(r"<track>\n<enabled>FALSE</enabled>", xml)


def timeline_fcpx(report: Report) -> str:
    rate = sequence_rate(report.input.fps)
    timeline = _without_apostrophes(edit_timeline(report, FCPX_RATES.get(rate, rate)))
    text = _through_adapter(timeline, "fcpx_xml", ".fcpxml").replace(APOSTROPHE_STAND_IN, "&apos;")
    return _music_stems_off_fcpx(on_frames(text, Fraction(1) / Fraction(rate).limit_denominator(1001)))


def _music_stems_off_fcpx(fcpxml: str) -> str:
    """Each music stem's clip disabled (`enabled="0"`): OTIO's FCPXML adapter writes no track's state."""
    stems = set(_FCPX_MUSIC_STEM_ASSET.findall(fcpxml))

    def disabled(match: re.Match[str]) -> str:
        return f'<clip {match["attrs"]} enabled="0">{match["body"]}' if match["ref"] in stems else match[0]

    return _FCPX_AUDIO_CLIP.sub(disabled, fcpxml)


def _without_apostrophes(timeline: Any) -> Any:
    """The timeline with APOSTROPHE_STAND_IN for every apostrophe in a name: the FCPXML adapter looks
    clips up by name in XPath predicates quoted with apostrophes, which a film called "Director's cut"
    would end. The written file gets the apostrophes back, as XML's &apos;."""
    named = [timeline, *timeline.find_children()]
    named += [marker for item in named for marker in getattr(item, "markers", [])]
    for item in named:
        item.name = str(item.name).replace("'", APOSTROPHE_STAND_IN)
    return timeline


def on_frames(fcpxml: str, frame: Fraction) -> str:
    """Every time in an FCPXML moved to the nearest frame boundary, written as whole frames of `frame`
    seconds: the adapter divides by the rounded NTSC rate (23.98), which puts times between frames, and
    Final Cut wants every offset and duration on a frame."""

    def snapped(match: re.Match[str]) -> str:
        seconds = Fraction(match["num"]) / Fraction(match["den"] or 1)
        frames = round(seconds / frame)
        exact = frames * frame
        return (
            f'{match["name"]}="{exact.numerator}/{exact.denominator}s"' if frames else f'{match["name"]}="0s"'
        )

    return _FCPX_TIME.sub(snapped, fcpxml)


def _through_adapter(timeline: Any, adapter: str, suffix: str) -> str:
    """The timeline as an OTIO adapter writes it (the adapters write files, not strings)."""
    import opentimelineio as otio

    with tempfile.TemporaryDirectory(prefix="filmscore-timeline-") as folder:
        path = Path(folder) / f"timeline{suffix}"
        otio.adapters.write_to_file(timeline, str(path), adapter_name=adapter)
        return path.read_text(encoding="utf-8")
