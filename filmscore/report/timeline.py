"""The cue timeline an editing system imports, as a working mix: the scored film's picture with the shot,
cue and hit markers, the film's production sound, each cue's clean file (`cues/cue-NN.wav`) on two
checkerboarded score tracks with the mix's ducking as volume keyframes, and the stems, switched off.
Written as OpenTimelineIO (`timeline.otio`) and, through OTIO's adapters and completed here, as FCP 7 XML
(`timeline.xml`, which Premiere and Resolve import) and FCPXML (`timeline.fcpxml`, Final Cut). Built
from report.json alone, so `filmscore report` writes it again.
"""

from __future__ import annotations

import math
import re
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmscore.config.names import STEMS_FOLDER, cue_file
from filmscore.core.timecode import frames_at, sequence_rate
from filmscore.core.wording import file_uri, printable
from filmscore.media.probe import MUSIC_SAMPLE_RATE
from filmscore.report.editors import has_cue_files, markers_timeline
from filmscore.report.model import Cue, Hit, Keyframe, Report

# FCPXML knows NTSC rates by their rounded names only (its adapter looks up 23.98 and 29.97): a timeline
# for it is built at the rounded rate, which moves a cue by under a frame in an hour.
_FCPX_TIME = re.compile(r'(?P<name>offset|duration|start|tcStart)="(?P<num>\d+)(?:/(?P<den>\d+))?s"')
TIMELINE_NAMES = ("timeline.otio", "timeline.xml", "timeline.fcpxml")
APOSTROPHE_STAND_IN = "\ue000"  # a private-use character no name holds (see _without_apostrophes)
FCPX_RATES = {24000 / 1001: 23.98, 30000 / 1001: 29.97, 60000 / 1001: 59.94}
PRODUCTION_SOUND = "Production sound"
SCORE_TRACKS = ("Score A", "Score B")  # cue clips alternate, as the composer's channel banks do


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
    SMPTE time code has no such rate, the one an NLE would set (core/timecode.sequence_rate).

    Tracks: the picture (the scored film, with the shot, cue and hit markers); the production sound (the
    film's own soundtrack, from the input, in sync); the score, its cue clips checkerboarded over two
    tracks so that a cue's ring-out can overlap the next cue's start, each clip at the mix's level under
    dialogue (keyframes); and, with --stems, one track per stem, switched off so the score plays once."""
    import opentimelineio as otio

    rate = rate or sequence_rate(report.input.fps)
    film = report.input
    outputs = report.outputs or {}
    timeline = otio.schema.Timeline(name=f"{printable(Path(film.path).name)} (filmscore)")
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    timeline.metadata["fcp_xml"] = _fcp7_sequence_format(report, rate)
    picture = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    video = outputs.get("video", film.path)
    scored = _clip(printable(Path(video).name), video, 0.0, film.duration_s, rate)
    _describe_media(scored, report, picture=True)
    markers = markers_timeline(report).tracks[0][0].markers
    scored.markers.extend(_rated_marker(marker, rate) for marker in markers)
    scored.markers.extend(_hit_marker(hit, number, rate) for number, hit in enumerate(report.hits or ()))
    picture.append(scored)
    timeline.tracks.append(picture)
    if film.has_audio:
        sound = _audio_track(PRODUCTION_SOUND)
        production = _clip("Production sound", film.path, 0.0, film.duration_s, rate)
        _describe_media(production, report, picture=True)
        production.metadata["fcp_xml"] = {"sourcetrack": {"mediatype": "audio", "trackindex": 1}}
        sound.append(production)
        timeline.tracks.append(sound)
    scores = [_audio_track(name) for name in SCORE_TRACKS]
    for cue in report.cues or ():
        clip = _cue_clip(cue, outputs[cue_file(cue.id)], report, rate)
        _place(scores[cue.id % len(scores)], clip, rate)
    timeline.tracks.extend(score for score in scores if len(score))
    for name, path in sorted(outputs.items()):
        if name.startswith(f"{STEMS_FOLDER}/"):
            stem = _audio_track(f"Stem: {Path(name).stem}")
            clip = _clip(Path(name).stem, path, 0.0, film.duration_s, rate)
            _describe_media(clip, report, picture=False)
            stem.append(clip)
            # The cue clips are the music that plays, and the production sound the film's own: the stems
            # (the original sound's too) are there to mix from, off.
            stem.enabled = False
            stem.metadata["fcp_xml"] = {**stem.metadata["fcp_xml"], "enabled": "FALSE"}
            timeline.tracks.append(stem)
    return timeline


def _audio_track(name: str) -> Any:
    """An audio track, named in OTIO and (as Premiere writes it) in FCP 7 XML."""
    import opentimelineio as otio

    track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
    track.metadata["fcp_xml"] = {"@MZ.TrackName": name}
    return track


def _cue_clip(cue: Cue, path: str, report: Report, rate: float) -> Any:
    """A cue's clip: the stretch of its clean file the mix plays, the rest as handle, with the mix's gain
    as keyframes (OTIO metadata, and FCP 7 XML's Audio Levels)."""
    import opentimelineio as otio

    take = f", take {cue.take}" if cue.take != "a" else ""
    name = f"Cue {cue.id + 1}: {cue.mood}, {cue.key}{take}"
    file = cue.file
    if file is None:  # a report from before the cue files were clean: the file is the cue's span
        clip = _clip(name, path, cue.start_s, cue.end_s, rate)
        _describe_media(clip, report, picture=False)
        return clip
    first, played = frames_at(file.start_s, rate), frames_at(file.play_from_s, rate)
    held = math.floor(file.duration_s * rate + 1e-6)  # the file's whole frames: its last part frame is not
    whole = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(held, rate)
    )
    reference = otio.schema.ExternalReference(target_url=file_uri(path), available_range=whole)
    used = otio.opentime.TimeRange(
        otio.opentime.RationalTime(played - first, rate),
        otio.opentime.RationalTime(min(frames_at(file.play_to_s, rate), first + held) - played, rate),
    )
    clip = otio.schema.Clip(name=name, media_reference=reference, source_range=used)
    _describe_media(clip, report, picture=False)
    gains = [(k.t_s, k.gain_db) for k in file.gains]
    clip.metadata["filmscore"] = {
        "start_frame": played, "cue": cue.id, "mood": cue.mood, "key": cue.key,
        "gain_keyframes": [list(k) for k in gains], "gain_interpolation": "linear in dB",
    }  # fmt: skip
    clip.metadata["fcp_xml"] = {"filter": _fcp7_audio_levels(gains, rate)}
    return clip


def _fcp7_audio_levels(gains: list[tuple[float, float]], rate: float) -> dict[str, Any]:
    """FCP 7 XML's Audio Levels filter with the gains as keyframes: frames from the clip's media start
    (its in point is the file's start), linear gain (FCP 7's Level is not in dB)."""
    keyframes = [{"when": frames_at(t_s, rate), "value": f"{10 ** (db / 20):.6f}"} for t_s, db in gains]
    return {"effect": {
        "name": "Audio Levels", "effectid": "audiolevels", "effectcategory": "audiolevels",
        "effecttype": "audiolevels", "mediatype": "audio",
        "parameter": {"parameterid": "level", "name": "Level", "valuemin": "0", "valuemax": "3.98109",
                      "value": keyframes[0]["value"] if keyframes else "1", "keyframe": keyframes},
    }}  # fmt: skip


def _fcp7_sequence_format(report: Report, rate: float) -> dict[str, Any]:
    """The sequence's picture and sound format in FCP 7 XML (the adapter writes an empty <format>)."""
    film = report.input
    return {"media": {
        "video": {"format": {"samplecharacteristics": {
            "rate": _fcp7_rate(rate), "width": film.width, "height": film.height,
            "pixelaspectratio": "square", "fielddominance": "none"}}},
        "audio": {"format": {"samplecharacteristics": {"depth": 24, "samplerate": MUSIC_SAMPLE_RATE}}},
    }}  # fmt: skip


def _describe_media(clip: Any, report: Report, picture: bool) -> None:
    """The clip's file described as FCP 7 XML's <file> wants it: its picture's size and rate where it is
    the film, and its sound's depth, rate and channels."""
    film = report.input
    media: dict[str, Any] = {}
    if picture:
        size = {"width": film.width, "height": film.height}
        media["video"] = {"samplecharacteristics": {"rate": _fcp7_rate(sequence_rate(film.fps)), **size}}
    if not picture or film.has_audio:
        media["audio"] = {"samplecharacteristics": {"depth": 24, "samplerate": MUSIC_SAMPLE_RATE},
                          "channelcount": 2}  # fmt: skip
    clip.media_reference.metadata["fcp_xml"] = {"media": media}


def _fcp7_rate(rate: float) -> dict[str, Any]:
    return {"timebase": round(rate), "ntsc": "TRUE" if abs(rate - round(rate)) > 1e-6 else "FALSE"}


def _hit_marker(hit: Hit, number: int, rate: float) -> Any:
    """A hit as a one-frame marker: a sting, a spotted hit or an accent."""
    import opentimelineio as otio

    kind = f"sting ({hit.sting})" if hit.sting else ("spotted hit" if hit.spotted else "hit")
    start = otio.opentime.RationalTime(frames_at(hit.t_s, rate), rate)
    return otio.schema.Marker(
        name=f"Hit {number + 1}: {kind}",
        marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(1, rate)),
        color=otio.schema.MarkerColor.ORANGE,
        metadata={"filmscore": {"kind": "hit", "strength": hit.strength, "shot": hit.shot_index}},
    )


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
    return _fcp7_in_order(_through_adapter(edit_timeline(report), "fcp_xml", ".xml"))


# The order xmeml gives these elements' children: OTIO keeps metadata in key order, so what filmscore
# puts in it comes out alphabetical (a keyframe's <value> before its <when>).
_FCP7_ORDER = {
    "keyframe": ("when", "value"),
    "parameter": ("parameterid", "name", "valuemin", "valuemax", "value", "keyframe"),
    "effect": ("name", "effectid", "effectcategory", "effecttype", "mediatype", "parameter"),
    "samplecharacteristics": ("rate", "width", "height", "pixelaspectratio", "fielddominance", "depth",
                              "samplerate"),
    "audio": ("samplecharacteristics", "channelcount", "format", "track"),
    "media": ("video", "audio"),
}  # fmt: skip


def _fcp7_in_order(xml: str) -> str:
    """The FCP 7 XML with the children filmscore adds in xmeml's order."""
    import xml.etree.ElementTree as ElementTree

    declaration, _, body = xml.partition("?>")
    root = ElementTree.fromstring(body.strip())
    for tag, order in _FCP7_ORDER.items():
        rank = {name: k for k, name in enumerate(order)}
        for element in root.iter(tag):
            children = sorted(element, key=lambda child: rank.get(child.tag, len(order)))
            element[:] = children
    ElementTree.indent(root, space="    ")
    return f"{declaration}?>\n{ElementTree.tostring(root, encoding='unicode')}\n"


def timeline_fcpx(report: Report) -> str:
    rate = sequence_rate(report.input.fps)
    frame = Fraction(1) / Fraction(rate).limit_denominator(1001)
    timeline = _without_apostrophes(edit_timeline(report, FCPX_RATES.get(rate, rate)))
    text = _finished_fcpx(on_frames(_through_adapter(timeline, "fcpx_xml", ".fcpxml"), frame), report, frame)
    return text.replace(APOSTROPHE_STAND_IN, "&apos;")


def _finished_fcpx(fcpxml: str, report: Report, frame: Fraction) -> str:
    """What OTIO's FCPXML adapter leaves out, added: the format's frame size, each asset's sound (and a
    film's picture and sound both), roles (the production sound is dialogue, the rest music), the cue
    clips' gain as volume keyframes, and the stems switched off (the adapter writes no track's state)."""
    import xml.etree.ElementTree as ElementTree

    declaration, _, body = fcpxml.partition("<!DOCTYPE fcpxml>")
    root = ElementTree.fromstring(body.strip())
    film = report.input
    for format_element in root.iter("format"):
        format_element.set("width", str(film.width))
        format_element.set("height", str(film.height))
    files = {f"/{cue_file(c.id)}": c.file.gains for c in report.cues or () if c.file is not None}
    roles, stems, gains = {}, set(), {}
    for asset in root.iter("asset"):
        source, ref = asset.get("src", ""), asset.get("id", "")
        if source.endswith(".wav"):
            asset.attrib.update(hasAudio="1", audioSources="1", audioChannels="2", audioRate="48k")
            roles[ref] = "music"
            if f"/{STEMS_FOLDER}/" in source:
                stems.add(ref)
            gains[ref] = next((keys for name, keys in files.items() if source.endswith(name)), ())
        else:  # the scored film or the film itself: picture, and sound where the film has it
            asset.attrib.update(hasVideo="1", hasAudio="1" if film.has_audio else "0")
            roles[ref] = "dialogue"
    for clip in root.iter("clip"):
        # An audio clip, as the adapter writes one: a clip holding a gap that holds the audio. The
        # picture's clip holds them all, and is none.
        audio = clip.find("gap/audio")
        ref = audio.get("ref", "") if audio is not None else ""
        if audio is None or ref not in roles:
            continue
        audio.set("role", roles[ref])
        if ref in stems:
            clip.set("enabled", "0")
        if gains.get(ref):
            clip.insert(0, _fcpx_volume(gains[ref], frame))
    ElementTree.indent(root, space="    ")
    return f"{declaration}<!DOCTYPE fcpxml>\n\n{ElementTree.tostring(root, encoding='unicode')}\n"


def _fcpx_volume(keyframes: tuple[Keyframe, ...], frame: Fraction) -> Any:
    """FCPXML's adjust-volume with the gains as keyframes, each on a frame of the clip's own time (the
    clip starts at its file's start)."""
    import xml.etree.ElementTree as ElementTree

    volume = ElementTree.Element("adjust-volume", amount=f"{keyframes[0].gain_db:.2f}dB")
    animation = ElementTree.SubElement(
        ElementTree.SubElement(volume, "param", name="amount"), "keyframeAnimation"
    )
    for keyframe in keyframes:
        at = round(Fraction(keyframe.t_s).limit_denominator(100000) / frame) * frame
        time = f"{at.numerator}/{at.denominator}s" if at else "0s"
        ElementTree.SubElement(animation, "keyframe", time=time, value=f"{keyframe.gain_db:.2f}dB")
    return volume


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
