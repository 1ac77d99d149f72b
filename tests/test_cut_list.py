"""The editor's cut list as the shots (`--cuts`, issue 34): EDL, FCP 7 XML, FCPXML and OTIO files written by
OpenTimelineIO as editing systems export them (the sequence at 01:00:00:00), at 23.976, 24, 25 and 29.97
fps (drop-frame too), read back to the film's exact edit points; lists that do not fit the film refused
with exit 3; and a run whose shots are the list's, with detection only in its gaps."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import opentimelineio as otio
import pytest

from filmscore.analysis.cut_list import read_cut_list
from filmscore.core.errors import InputError
from filmscore.report.timeline import FCPX_RATES, on_frames
from tests.cut_films import GRAIN, CutFilm, Segment, make_cut_film

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
FRAMES = (55, 49, 61, 52)  # shot lengths a little off whole seconds
RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
}
FORMATS = (".edl", ".xml", ".fcpxml", ".otio")


def _timeline(rate: float, frames: tuple[int, ...], gap_after: int | None = None) -> otio.schema.Timeline:
    """The cut as an editing system holds it: clips of source media on V1, from 01:00:00:00."""
    timeline = otio.schema.Timeline(name="Director's cut")
    timeline.global_start_time = RT(3600 * round(rate), rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, count in enumerate(frames):
        media = TR(RT(0, rate), RT(100_000, rate))
        reference = otio.schema.ExternalReference(
            target_url=f"file:///rushes/take{i}.mov", available_range=media
        )
        track.append(otio.schema.Clip(name=f"take{i}", media_reference=reference,
                                      source_range=TR(RT(240 + 7 * i, rate), RT(count, rate))))  # fmt: skip
        if gap_after == i:
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(count, rate))))
    timeline.tracks.append(track)
    return timeline


def _written(timeline: otio.schema.Timeline, suffix: str, rate: Fraction, drop_frame: bool) -> str:
    """The timeline as OpenTimelineIO's adapter writes it, then as an editing system exports it: an EDL's
    record side from 01:00:00:00 (drop-frame or not), FCPXML's sequence with tcStart at one hour."""
    if suffix == ".fcpxml":
        return _fcpxml(timeline, rate)
    adapter = {".edl": "cmx_3600", ".xml": "fcp_xml", ".otio": "otio_json"}[suffix]
    text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    if suffix != ".edl":
        return text
    separator = ";" if drop_frame else ":"
    text = re.sub(r"(\d\d):(\d\d):(\d\d)[:;](\d\d)", rf"\1:\2:\3{separator}\4", text)
    lines = [_record_from_hour(line) for line in text.splitlines()]
    return (
        "\n".join([lines[0], f"FCM: {'DROP FRAME' if drop_frame else 'NON-DROP FRAME'}", *lines[1:]]) + "\n"
    )


def _record_from_hour(line: str) -> str:
    codes = re.findall(r"\d\d:\d\d:\d\d[:;]\d\d", line)
    if len(codes) != 4:
        return line
    for code in codes[2:]:
        line = line.replace(f" {code}", f" 01{code[2:]}", 1) if code.startswith("00") else line
    return line


def _fcpxml(timeline: otio.schema.Timeline, rate: Fraction) -> str:
    rounded = FCPX_RATES.get(float(rate), float(rate))
    at_rounded = _timeline(rounded, tuple(round(c.duration().value) for c in timeline.find_clips()))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cut.fcpxml"
        otio.adapters.write_to_file(at_rounded, str(path), adapter_name="fcpx_xml")
        text = on_frames(path.read_text(encoding="utf-8"), 1 / rate)
    root = ElementTree.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip())
    sequence = root.find(".//sequence")
    assert sequence is not None
    sequence.set("tcStart", "3600s")
    for item in sequence.find("spine") or ():
        start = Fraction(item.get("offset", "0s")[:-1]) + 3600
        item.set("offset", f"{start.numerator}/{start.denominator}s")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + ElementTree.tostring(
        root, "unicode"
    )


def _expected_edits(rate: Fraction, frames: tuple[int, ...]) -> list[float]:
    total, edits = 0, []
    for count in frames:
        total += count
        edits.append(float(total / rate))
    return edits


CASES = [(name, suffix, False) for name in RATES for suffix in FORMATS] + [("29.97", ".edl", True)]


@pytest.mark.parametrize(("rate_name", "suffix", "drop_frame"), CASES)
def test_each_format_gives_the_edits_from_the_sequence_start(tmp_path, rate_name, suffix, drop_frame):
    rate = RATES[rate_name]
    path = tmp_path / f"Director's cut{suffix}"
    path.write_text(_written(_timeline(float(rate), FRAMES), suffix, rate, drop_frame), encoding="utf-8")
    duration = float(sum(FRAMES) / rate)
    cut_list = read_cut_list(path, float(rate), duration)
    assert cut_list.edits_s == pytest.approx(_expected_edits(rate, FRAMES), abs=0.5 / float(rate))
    assert cut_list.events[0][0] == pytest.approx(0.0, abs=0.5 / float(rate))


def test_a_gap_in_the_list_is_an_edit_on_both_sides(tmp_path):
    path = tmp_path / "gap.otio"
    path.write_text(_written(_timeline(25.0, (50, 50, 50), gap_after=0), ".otio", Fraction(25), False))
    cut_list = read_cut_list(path, 25.0, 8.0)
    assert cut_list.edits_s == pytest.approx([2.0, 4.0, 6.0, 8.0])
    assert not cut_list.covers(3.0, margin_s=0.2) and cut_list.covers(5.0, margin_s=0.2)


@pytest.mark.parametrize(
    ("film_rate", "duration", "problem"),
    [(25.0, 9.0, "fps"), (24.0, 5.0, "past the film's end")],
)
def test_a_list_that_does_not_fit_the_film_is_refused(tmp_path, film_rate, duration, problem):
    path = tmp_path / "cut.xml"
    path.write_text(_written(_timeline(24.0, FRAMES), ".xml", Fraction(24), False))
    with pytest.raises(InputError, match=problem) as refused:
        read_cut_list(path, film_rate, duration)
    assert "\n" not in str(refused.value)


def test_overlapping_events_are_refused(tmp_path):
    path = tmp_path / "overlap.edl"
    path.write_text(
        "TITLE: overlap\nFCM: NON-DROP FRAME\n\n"
        "001  AX       V     C        00:00:00:00 00:00:04:00 01:00:00:00 01:00:04:00\n"
        "002  AX       V     C        00:00:00:00 00:00:04:00 01:00:03:00 01:00:07:00\n"
    )
    with pytest.raises(InputError):
        read_cut_list(path, 24.0, 10.0)


@pytest.fixture(scope="module")
def gap_film(tmp_path_factory) -> Path:
    """Five shots at 25 fps; the cut list below knows the first two edits and leaves the rest to detection."""
    film = CutFilm("gap film", Fraction(25), tuple(
        Segment(f"color=c={colour}", frames, GRAIN)
        for colour, frames in (("0xe8c020", 40), ("0x5a1010", 45), ("0x101c48", 50), ("0x30a040", 40),
                               ("0xc0c0c0", 45))
    ))  # fmt: skip
    return make_cut_film(film, tmp_path_factory.mktemp("cuts") / "Director's cut.mp4")


def test_a_run_takes_its_shots_from_the_list_and_detects_only_past_it(tmp_path, gap_film):
    cut_list = tmp_path / "Director's cut.edl"
    # The list's first event ends a frame after the film's first cut (the editor's cut is the truth), and
    # the list stops after its second event: detection finds the last two cuts.
    cut_list.write_text(_written(_timeline(25.0, (41, 44)), ".edl", Fraction(25), False))
    report_dir = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(gap_film), "--cuts", str(cut_list),
         "--report-dir", str(report_dir), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads((report_dir / "report.json").read_text())
    starts = [shot["start_s"] for shot in report["shots"]]
    assert starts == pytest.approx([0.0, 41 / 25, 85 / 25, 135 / 25, 175 / 25], abs=1e-3)
    assert report["backends"]["shots"].startswith("cut list ")


def test_a_list_of_another_film_is_exit_3_in_one_line(tmp_path, gap_film):
    cut_list = tmp_path / "other.xml"
    cut_list.write_text(_written(_timeline(24.0, (300, 300)), ".xml", Fraction(24), False))
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(gap_film), "--cuts", str(cut_list), "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
