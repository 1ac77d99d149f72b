"""The cue timeline for the editing system: each cue's own audio file, and timeline.otio, FCP 7 XML and
FCPXML that put them where the cue sheet says, read back through OpenTimelineIO's own adapters."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from filmscore.core.timecode import timecode_rate
from filmscore.report.editors import cue_sheet_csv
from filmscore.report.model import Report
from filmscore.report.timeline import edit_timeline, timeline_fcp7, timeline_fcpx, timeline_otio
from tests.conftest import HAPPY, SAD
from tests.reports import HEADER, film, typed
from tests.reports import cue as plain_cue
from tests.synthetic import Line, ShotSpec, make_film

CUES = ((0.0, 7.5, "joyful"), (7.5, 20.52, "sad"), (20.52, 25.0, "afraid"), (25.0, 33.04, "calm"))
SHOT = {"index": 0, "start_s": 0.0, "end_s": 33.04, "label": "calm", "valence": 0.1, "arousal": -0.2,
        "confidence": 0.5, "sources": {"text": None, "visual": None, "audio": None}}  # fmt: skip
ADAPTERS = {"timeline.otio": "otio_json", "timeline.xml": "fcp_xml", "timeline.fcpxml": "fcpx_xml"}


def _report(folder: Path, fps: float, stems: bool = False, clean: bool = False) -> Report:
    """A run's report, as far as the timeline reads it, with its cue files on disk; `clean`: cue files as
    the run writes them now (from the cue's start to 1.5 s past its end, ducked from 2 to 4 s)."""
    outputs = {"video": str(folder / "film.scored.mp4"), "music": str(folder / "music.wav"),
               "report": str(folder / "report.json")}  # fmt: skip
    cues = []
    for i, (start, end, mood) in enumerate(CUES):
        outputs[f"cues/cue-{i + 1:02d}.wav"] = str(folder / f"cues/cue-{i + 1:02d}.wav")
        file = {"start_s": start, "duration_s": end - start + 1.5, "play_from_s": start,
                "play_to_s": min(end + 1.5, 33.04),
                "gains": [{"t_s": 0.0, "gain_db": 0.0}, {"t_s": 2.0, "gain_db": -10.0},
                          {"t_s": 4.0, "gain_db": 0.0}]}  # fmt: skip
        cues.append(plain_cue(i, start, end, mood, key="D minor", mode="minor", tempo_bpm=96,
                              **({"file": file} if clean else {})))  # fmt: skip
    if stems:
        outputs["stems/pad.wav"] = str(folder / "stems/pad.wav")
        outputs["stems/original.wav"] = str(folder / "stems/original.wav")
    return typed(
        {
            **HEADER,
            "input": film(str(folder / "film.mp4"), 33.04, fps),
            "shots": [SHOT],
            "timeline": [],
            "transcript": [],
            "cues": cues,
            "hits": [{"t_s": 20.52, "strength": 0.8, "shot_index": 0}],
            "music": {"generator": "symbolic", "licence": "MIT", "seed": 0},
            "outputs": outputs,
        }
    )


def _cue_sheet_frames(report: Report, rate: float) -> list[tuple[int, int]]:
    """Each cue's (in, out) frames, from the cue sheet's time codes."""
    nominal = round(rate)
    rows = list(csv.DictReader(io.StringIO(cue_sheet_csv(report))))

    def frames(code: str) -> int:
        hours, minutes, seconds, frame = (int(part) for part in code.split(":"))
        return ((hours * 60 + minutes) * 60 + seconds) * nominal + frame

    return [(frames(row["in_tc"]), frames(row["out_tc"])) for row in rows]


@pytest.mark.parametrize("fps", [23.976, 24.0, 25.0, 29.97])
@pytest.mark.parametrize("clean", [False, True], ids=["old cue files", "clean cue files"])
def test_every_format_puts_each_cue_where_the_cue_sheet_says(tmp_path, fps, clean):
    """Every timeline read back through OTIO's adapters: each cue clip starts at its cue's in; a clean cue
    file's clip plays on through its ring-out (1.5 s here), a cue file of old its cue alone."""
    report = _report(tmp_path, fps, stems=True, clean=clean)
    files = {"timeline.otio": timeline_otio(report), "timeline.xml": timeline_fcp7(report),
             "timeline.fcpxml": timeline_fcpx(report)}  # fmt: skip
    rate = timecode_rate(fps)
    expected = _cue_sheet_frames(report, rate)
    if clean:
        expected = [(first, min(last + round(1.5 * rate), round(33.04 * rate))) for first, last in expected]
    for name, adapter in ADAPTERS.items():
        (tmp_path / name).write_text(files[name])
        if name == "timeline.fcpxml" and rate != round(rate):
            # The FCPXML adapter reads NTSC times at a whole rate (23), so read its cue clips directly.
            placed = _fcpxml_cues(files[name])
        else:
            placed = _cues_read_back(tmp_path / name, adapter)
        assert len(placed) == len(CUES), name
        for (start, end), (first, last) in zip(placed, expected, strict=True):
            assert abs(start - first / rate) <= 1.01 / rate, (name, start, first / rate)
            assert abs(end - last / rate) <= 1.01 / rate, (name, end, last / rate)
    assert "pad.wav" in files["timeline.otio"] and "pad.wav" in files["timeline.xml"]


def _cues_read_back(path: Path, adapter: str) -> list[tuple[float, float]]:
    import opentimelineio as otio

    back = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    timelines = [back] if isinstance(back, otio.schema.Timeline) else list(
        back.find_children(descended_from_type=otio.schema.Timeline))  # fmt: skip
    tracks = timelines[0].tracks
    pictures = [t for t in tracks if t.kind == otio.schema.TrackKind.Video]
    assert Path(pictures[0].find_clips()[0].media_reference.target_url).name == "film.scored.mp4"
    audio = [t for t in tracks if t.kind == otio.schema.TrackKind.Audio]
    cues = sorted(
        (c for t in audio for c in t.find_clips() if "/cues/" in c.media_reference.target_url),
        key=lambda c: Path(c.media_reference.target_url).name,
    )
    names = [Path(c.media_reference.target_url).name for c in cues]
    assert names == [f"cue-{i + 1:02d}.wav" for i in range(len(CUES))]
    ranges = [c.range_in_parent() for c in cues]
    return [(r.start_time.to_seconds(), r.end_time_exclusive().to_seconds()) for r in ranges]


def _fcpxml_cues(text: str) -> list[tuple[float, float]]:
    """The cue clips' (start, end) in seconds, from their offset and duration, which must lie on frames."""
    import xml.etree.ElementTree as ElementTree
    from fractions import Fraction

    def seconds(value: str) -> Fraction:
        return Fraction(value.removesuffix("s"))

    root = ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1])
    cues = sorted((c for c in root.iter("clip") if c.get("name", "").startswith("Cue ")),
                  key=lambda c: int(c.get("name", "").split()[1].rstrip(":")))  # fmt: skip
    return [(float(seconds(c.get("offset", "0s"))), float(seconds(c.get("offset", "0s")) + seconds(c.get(
        "duration", "0s")))) for c in cues]  # fmt: skip


def test_the_otio_timeline_carries_the_shot_and_cue_markers(tmp_path):
    timeline = edit_timeline(_report(tmp_path, 25.0))
    film = timeline.tracks[0].find_clips()[0]
    names = [m.name for m in film.markers]
    assert "Shot 1: calm" in names and sum(name.startswith("Cue ") for name in names) == len(CUES)


def test_clean_cue_files_at_the_timelines_keyframed_gains_make_the_music_stem(tmp_path):
    """Issue 35: each cue file is the cue alone and un-ducked, ringing on at least 1 s past its cue; the
    mix's ducking is on the timeline as keyframes; and the cue clips, at those gains and where the
    timeline puts them, sum to music.wav within -40 dB. On a 29.97 fps film with lines in two shots,
    lengths a frame off whole seconds. (The speech-band cut is an EQ, not a gain: it is off here.)"""
    import opentimelineio as otio

    fps = 30000 / 1001
    shots = [ShotSpec("testcard", 3.003, Line(HAPPY, "happy")), ShotSpec("dark", 2.536),
             ShotSpec("bars", 3.47, Line(SAD, "sad", at_s=0.4))]  # fmt: skip
    film_path = make_film(tmp_path / "Director's cut.mp4", shots, fps=fps)
    out = tmp_path / "out" / "scored.mp4"
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", "run", str(film_path), "-o", str(out), "-q",
         "--speech-cut-db", "0"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = out.parent / "scored.filmscore"
    report = json.loads((folder / "report.json").read_text())
    stem, rate = soundfile.read(folder / "music.wav", dtype="float64")
    timeline = otio.adapters.read_from_file(str(folder / "timeline.otio"))
    clips = [c for t in timeline.tracks if t.name.startswith("Score") for c in t.find_clips()]
    assert len(clips) == len(report["cues"])
    rebuilt = np.zeros_like(stem)
    deepest = 0.0
    for clip in clips:
        cue = report["cues"][clip.metadata["filmscore"]["cue"]]
        part, part_rate = soundfile.read(otio.url_utils.filepath_from_url(clip.media_reference.target_url),
                                         dtype="float64")  # fmt: skip
        assert (
            part_rate == rate
            and clip.media_reference.available_range.duration.to_seconds() <= len(part) / rate
        )
        placed = clip.range_in_parent()
        file_start = placed.start_time.to_seconds() - clip.source_range.start_time.to_seconds()
        assert file_start + len(part) / rate >= cue["end_s"] + 1.0 - 1e-3  # a tail to extend it by
        keys = np.array(clip.metadata["filmscore"]["gain_keyframes"])
        deepest = min(deepest, keys[:, 1].min())
        first = round(file_start * rate)
        lo = round(clip.source_range.start_time.to_seconds() * rate)
        hi = min(len(part), lo + round(placed.duration.to_seconds() * rate), len(stem) - first)
        gain = 10 ** (np.interp(np.arange(lo, hi) / rate, keys[:, 0], keys[:, 1]) / 20)
        rebuilt[first + lo : first + hi] += part[lo:hi] * gain[:, None]
    error_db = 10 * np.log10(np.sum((rebuilt - stem) ** 2) / np.sum(stem**2))
    assert error_db < -40, error_db
    assert deepest < -6  # the ducking is in the keyframes, not in the files
    for name in ADAPTERS:
        assert (folder / name).is_file() and report["outputs"][name] == str(folder / name)
    (folder / "timeline.xml").unlink()
    rebuilt_files = subprocess.run(
        [sys.executable, "-m", "filmscore", "report", str(folder)], capture_output=True, text=True
    )
    assert rebuilt_files.returncode == 0 and (folder / "timeline.xml").is_file()
    assert "<effectid>audiolevels</effectid>" in (folder / "timeline.xml").read_text()
    assert "<adjust-volume" in (folder / "timeline.fcpxml").read_text()


def test_relative_output_paths_give_a_timeline_of_absolute_links(tmp_path, cuts_film):
    """`-o scored.mp4 --report-dir reports` from the working folder: the report names its outputs in
    full, so the timeline's links (file URIs) hold wherever the folder is opened."""
    import opentimelineio as otio

    (tmp_path / "film.mp4").write_bytes(cuts_film.read_bytes())
    command = ["run", "film.mp4", "-o", "scored.mp4", "--report-dir", "reports", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", *command], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["outputs"]["video"] == str(tmp_path / "scored.mp4")
    timeline = otio.adapters.read_from_file(str(tmp_path / "reports" / "timeline.otio"))
    urls = [clip.media_reference.target_url for clip in timeline.find_clips()]
    assert urls and all(url.startswith("file:///") for url in urls)
    assert (tmp_path / "scored.mp4").as_uri() in urls


def test_with_stems_exactly_one_music_layer_plays_in_every_format(tmp_path):
    """Issue 35: the cue clips and every music stem all enabled played the score six times over. What
    plays is the production sound (the film's own, from the input) and the score's cue clips, on their
    two checkerboarded tracks; the stems (the original sound's too, which the production sound is) are
    there, switched off, in every format."""
    import re

    import opentimelineio as otio

    report = _report(tmp_path, 25.0, stems=True)
    timeline = otio.adapters.read_from_string(timeline_otio(report), "otio_json")
    playing = [t.name for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio and t.enabled]
    assert playing == ["Production sound", "Score A", "Score B"]
    production = timeline.tracks[1].find_clips()[0]
    assert production.media_reference.target_url == (tmp_path / "film.mp4").as_uri()
    fcp7 = timeline_fcp7(report)
    tracks = re.findall(r"<track[ >].*?</track>", fcp7, re.DOTALL)
    off = [t for t in tracks if "<enabled>FALSE</enabled>" in t]
    assert [re.search(r"stems/(\w+)\.wav", t)[1] for t in off] == ["original", "pad"]  # type: ignore[index]
    assert 'MZ.TrackName="Score A"' in fcp7 and 'MZ.TrackName="Production sound"' in fcp7
    fcpx = timeline_fcpx(report)
    disabled = re.findall(r'<clip name="([^"]+)"[^>]*enabled="0"', fcpx)
    assert disabled == ["original", "pad"]


def test_filmscore_report_repoints_the_timelines_after_the_folder_moves(tmp_path):
    """Issue 35: the timelines linked the files where the run wrote them, and broke when the folder moved.
    `filmscore report DIR` moves the paths with the folder (report.json too); the film beside the folder
    moves with it where it is there, and a film elsewhere keeps its path."""
    import shutil
    from dataclasses import replace

    import opentimelineio as otio

    from filmscore.report.document import rebuild_report_folder, report_text

    old = tmp_path / "old" / "film.scored.filmscore"
    old.mkdir(parents=True)
    report = _report(old, 25.0)
    elsewhere = str(tmp_path / "rushes" / "film.mp4")
    outputs = {**(report.outputs or {}), "video": str(old.parent / "film.scored.mp4")}
    report = replace(report, input=replace(report.input, path=elsewhere), outputs=outputs)
    (old / "report.json").write_text(report_text(report), encoding="utf-8")
    (old.parent / "film.scored.mp4").write_bytes(b"")
    new = tmp_path / "moved here" / "film.scored.filmscore"
    shutil.move(old.parent, new.parent)
    rebuild_report_folder(new)
    timeline = otio.adapters.read_from_file(str(new / "timeline.otio"))
    urls = {
        Path(otio.url_utils.filepath_from_url(c.media_reference.target_url)) for c in timeline.find_clips()
    }
    assert new / "cues" / "cue-01.wav" in urls and new.parent / "film.scored.mp4" in urls
    assert Path(elsewhere) in urls  # the input was not beside the folder: it stays where it was
    assert str(old.parent) not in (new / "report.json").read_text()


# What FCPXML's DTD (Apple's published FCPXML DTD: the element and attribute lists, as of v1.10) allows
# for the elements filmscore's timelines hold: each element's children, in the order its content model
# gives (as a pattern over the children's tags), and the attributes it requires or limits. Apple does not
# let its DTD file be passed on, so the rules for these elements are written out here.
_FCPX_CLIP_ITEMS = "audio|video|clip|title|mc-clip|ref-clip|sync-clip|asset-clip|audition|gap"
_FCPX_ANCHOR_ITEMS = "audio|video|clip|title|caption|mc-clip|ref-clip|sync-clip|asset-clip|audition|spine"
_FCPX_MARKERS = "marker|chapter-marker|rating|keyword|analysis-marker"
_FCPX_CONTENT = {
    "fcpxml": r"(import-options )?(resources )?((library )|(event )*|((clip|asset-clip|project) )*)",
    "resources": r"((asset|effect|format|media|locator) )*",
    "format": "", "keyframe": "", "marker": "", "chapter-marker": "",
    "library": r"((event|smart-collection) )*",
    "event": r"((clip|audition|mc-clip|ref-clip|sync-clip|asset-clip|project) )*",
    "project": r"sequence ",
    "sequence": r"(note )?spine (metadata )?",
    "spine": rf"(({_FCPX_CLIP_ITEMS}|transition) )*",
    "clip": rf"(note )?(conform-rate )?(timeMap )?(adjust-volume )?(adjust-panner )?"
            rf"((spine|{_FCPX_CLIP_ITEMS}|caption) )*(({_FCPX_MARKERS}) )*(audio-channel-source )*"
            r"((filter-video|filter-video-mask) )*(filter-audio )*(metadata )?",
    "gap": rf"(note )?(({_FCPX_ANCHOR_ITEMS}) )*(({_FCPX_MARKERS}) )*(metadata )?",
    "audio": rf"(note )?(conform-rate )?(timeMap )?(adjust-volume )?(({_FCPX_ANCHOR_ITEMS}) )*"
             rf"(({_FCPX_MARKERS}) )*(filter-audio )*",
    "video": rf"(param )*(note )?(conform-rate )?(timeMap )?(({_FCPX_ANCHOR_ITEMS}) )*(({_FCPX_MARKERS}) )*",
    "asset-clip": rf"(note )?(conform-rate )?(timeMap )?(adjust-volume )?(adjust-panner )?"
                  rf"(({_FCPX_ANCHOR_ITEMS}) )*(({_FCPX_MARKERS}) )*(audio-channel-source )*(metadata )?",
    "asset": r"((media-rep) )*(metadata )?",
    "adjust-volume": r"(param )*",
    "param": r"(fadeIn )?(fadeOut )?(keyframeAnimation )?(param )*",
    "keyframeAnimation": r"(keyframe )*",
}  # fmt: skip
_FCPX_REQUIRED = {
    "format": ("id",), "asset": ("id",), "asset-clip": ("ref",), "clip": ("duration",), "gap": ("duration",),
    "audio": ("ref", "duration"), "video": ("ref", "duration"), "marker": ("start", "value"),
    "chapter-marker": ("start", "value"), "param": ("name",), "keyframe": ("time", "value"),
}  # fmt: skip
_FCPX_CHOICES = {
    "enabled": {"0", "1"}, "tcFormat": {"DF", "NDF"}, "hasAudio": {"0", "1"}, "hasVideo": {"0", "1"},
}  # fmt: skip


def _fcpx_breaches(text: str) -> list[str]:
    """Where an FCPXML breaks the DTD's rules for the elements above: a child out of its content model, a
    required attribute missing, an attribute outside its choices, a time that is not one."""
    import re
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip())
    breaches = []
    for element in root.iter():
        model = _FCPX_CONTENT.get(element.tag)
        children = "".join(f"{child.tag} " for child in element)
        if model is None:
            breaches.append(f"<{element.tag}> is not an element filmscore's rules know")
        elif re.fullmatch(model, children) is None:
            breaches.append(f"<{element.tag}> holds {children.strip() or 'nothing'}")
        for name in _FCPX_REQUIRED.get(element.tag, ()):
            if name not in element.attrib:
                breaches.append(f"<{element.tag}> has no {name}")
        for name, allowed in _FCPX_CHOICES.items():
            if name in element.attrib and element.get(name) not in allowed:
                breaches.append(f"<{element.tag} {name}={element.get(name)!r}>")
        for name in ("offset", "start", "duration", "time", "tcStart", "frameDuration"):
            if name in element.attrib and re.fullmatch(r"\d+(/\d+)?s", element.get(name, "")) is None:
                breaches.append(f"<{element.tag} {name}={element.get(name)!r}> is no FCPXML time")
    return breaches


@pytest.mark.parametrize("fps", [23.976, 24.0, 25.0, 29.97])
@pytest.mark.parametrize("stems", [False, True])
def test_the_fcpxml_keeps_the_dtd_s_rules_for_every_element_it_holds(tmp_path, fps, stems):
    """Issue 35: each element and attribute filmscore's FCPXML holds (OTIO's adapter's, and what
    filmscore adds: volume keyframes, roles, formats, switched-off stems) where the DTD allows it."""
    text = timeline_fcpx(_report(tmp_path, fps, stems=stems, clean=True))
    assert _fcpx_breaches(text) == []
    assert text.count("<adjust-volume") == len(CUES) and 'role="dialogue"' in text and 'role="music"' in text


def test_the_dtd_rules_catch_what_final_cut_would_refuse(tmp_path):
    """The rules above find a volume written after the clip's story (the DTD puts it first), an unknown
    element and a keyframe without its time."""
    import re
    import xml.etree.ElementTree as ElementTree

    text = timeline_fcpx(_report(tmp_path, 25.0, clean=True))
    root = ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip())
    cue = next(c for c in root.iter("clip") if c.get("name", "").startswith("Cue 1"))
    volume = cue.find("adjust-volume")
    assert volume is not None
    cue.remove(volume)
    cue.append(volume)
    assert "<clip> holds gap adjust-volume" in _fcpx_breaches(ElementTree.tostring(root, encoding="unicode"))
    volume.tag = "nothing-here"
    unknown = _fcpx_breaches(ElementTree.tostring(root, encoding="unicode"))
    assert "<nothing-here> is not an element filmscore's rules know" in unknown
    unkeyed = re.sub(r'<keyframe time="[^"]*"', "<keyframe", text, count=1)
    assert "<keyframe> has no time" in _fcpx_breaches(unkeyed)


def test_a_film_named_like_a_cue_gets_no_volume_keyframes(tmp_path):
    """The cue clips' keyframes are found by their files, not their names: a scored film called
    "Cue 1: rough.mp4" keeps its picture clip free of them."""
    from dataclasses import replace

    report = _report(tmp_path, 25.0, clean=True)
    outputs = {**(report.outputs or {}), "video": str(tmp_path / "Cue 1: rough.mp4")}
    text = timeline_fcpx(replace(report, outputs=outputs))
    assert text.count("<adjust-volume") == len(CUES)
    assert _fcpx_breaches(text) == []
