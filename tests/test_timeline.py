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
from tests.reports import HEADER, film, typed
from tests.reports import cue as plain_cue

CUES = ((0.0, 7.5, "joyful"), (7.5, 20.52, "sad"), (20.52, 25.0, "afraid"), (25.0, 33.04, "calm"))
SHOT = {"index": 0, "start_s": 0.0, "end_s": 33.04, "label": "calm", "valence": 0.1, "arousal": -0.2,
        "confidence": 0.5, "sources": {"text": None, "visual": None, "audio": None}}  # fmt: skip
ADAPTERS = {"timeline.otio": "otio_json", "timeline.xml": "fcp_xml", "timeline.fcpxml": "fcpx_xml"}


def _report(folder: Path, fps: float, stems: bool = False) -> Report:
    """A run's report, as far as the timeline reads it, with its cue files on disk."""
    outputs = {"video": str(folder / "film.scored.mp4"), "music": str(folder / "music.wav"),
               "report": str(folder / "report.json")}  # fmt: skip
    cues = []
    for i, (start, end, mood) in enumerate(CUES):
        outputs[f"cues/cue-{i + 1:02d}.wav"] = str(folder / f"cues/cue-{i + 1:02d}.wav")
        cues.append(plain_cue(i, start, end, mood, key="D minor", mode="minor", tempo_bpm=96))
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
def test_every_format_puts_each_cue_where_the_cue_sheet_says(tmp_path, fps):

    report = _report(tmp_path, fps, stems=True)
    files = {"timeline.otio": timeline_otio(report), "timeline.xml": timeline_fcp7(report),
             "timeline.fcpxml": timeline_fcpx(report)}  # fmt: skip
    rate = timecode_rate(fps)
    expected = _cue_sheet_frames(report, rate)
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
    music = next(t for t in audio if "cue-01" in t.find_clips()[0].media_reference.target_url)
    names = [Path(c.media_reference.target_url).name for c in music.find_clips()]
    assert names == [f"cue-{i + 1:02d}.wav" for i in range(len(CUES))]
    ranges = [c.range_in_parent() for c in music.find_clips()]
    return [(r.start_time.to_seconds(), r.end_time_exclusive().to_seconds()) for r in ranges]


def _fcpxml_cues(text: str) -> list[tuple[float, float]]:
    """The cue clips' (start, end) in seconds, from their offset and duration, which must lie on frames."""
    import xml.etree.ElementTree as ElementTree
    from fractions import Fraction

    def seconds(value: str) -> Fraction:
        return Fraction(value.removesuffix("s"))

    root = ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1])
    cues = [c for c in root.iter("clip") if c.get("name", "").startswith("Cue ")]
    return [(float(seconds(c.get("offset", "0s"))), float(seconds(c.get("offset", "0s")) + seconds(c.get(
        "duration", "0s")))) for c in cues]  # fmt: skip


def test_the_otio_timeline_carries_the_shot_and_cue_markers(tmp_path):
    timeline = edit_timeline(_report(tmp_path, 25.0))
    film = timeline.tracks[0].find_clips()[0]
    names = [m.name for m in film.markers]
    assert "Shot 1: calm" in names and sum(name.startswith("Cue ") for name in names) == len(CUES)


def test_a_run_writes_each_cue_as_mixed_and_the_timeline_with_it(tmp_path, cuts_film):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", "run", str(cuts_film), "-o", str(out / "scored.mp4"), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder = out / "scored.filmscore"
    report = json.loads((folder / "report.json").read_text())
    stem, rate = soundfile.read(folder / "music.wav", dtype="float32")
    rebuilt = np.zeros_like(stem)
    for cue in report["cues"]:
        part, part_rate = soundfile.read(folder / f"cues/cue-{cue['id'] + 1:02d}.wav", dtype="float32")
        assert part_rate == rate
        first = round(cue["start_s"] * rate)
        rebuilt[first : first + len(part)] += part
    assert np.max(np.abs(rebuilt - stem)) < 1e-4  # placed at their cues, the cue files are the stem
    for name in ADAPTERS:
        assert (folder / name).is_file() and report["outputs"][name] == str(folder / name)
    (folder / "timeline.xml").unlink()
    rebuilt_files = subprocess.run(
        [sys.executable, "-m", "filmscore", "report", str(folder)], capture_output=True, text=True
    )
    assert rebuilt_files.returncode == 0 and (folder / "timeline.xml").is_file()


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
    """Issue 35: the cue clips and every music stem all enabled played the score six times over. The music
    stems are there, switched off; the film's original sound (also written with the stems) stays on."""
    import re

    import opentimelineio as otio

    report = _report(tmp_path, 25.0, stems=True)
    timeline = otio.adapters.read_from_string(timeline_otio(report), "otio_json")
    playing = [t.name for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio and t.enabled]
    assert playing == ["Music (filmscore)", "Stem: original"]
    fcp7 = timeline_fcp7(report)
    tracks = re.findall(r"<track>.*?</track>", fcp7, re.DOTALL)
    off = [t for t in tracks if "<enabled>FALSE</enabled>" in t]
    assert len(off) == 1 and "stems/pad.wav" in off[0]
    fcpx = timeline_fcpx(report)
    disabled = re.findall(r'<clip name="([^"]+)"[^>]*enabled="0"', fcpx)
    assert disabled == ["pad"]
