"""Editor deliverables, parsed back and checked against the report they were built from, at the frame
rates editors meet: 23.976, 24, 25 and 29.97 fps."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import opentimelineio as otio
import pytest

from filmscore.cli.main import main
from filmscore.core.timecode import timecode, timecode_rate
from filmscore.report.editors import build_deliverables
from filmscore.report.schema import report_schema
from tests.reports import HEADER, cue, film, typed

RATES = [23.976, 24.0, 25.0, 29.97]
LABELS = ["calm", "sad", "tense", "joyful", "neutral"]
LINE = "so this is where it ends then said the old man quietly to nobody at all"
WORDS = LINE.split()


def make_report(fps: float, shots: int = 6, with_cues: bool = True) -> dict:
    """A report as analyze/run write it: shots on frame boundaries, two spoken lines, two cues."""
    rate = timecode_rate(fps)
    bounds = [round(i * 97.3) / rate for i in range(shots + 1)]  # uneven shots, whole frames
    duration = bounds[-1]

    def source(v: float, a: float) -> dict:
        return {"valence": v, "arousal": a, "weight": 1.0}

    report = {
        **HEADER,
        "input": film("/films/reel 1.mov", duration, fps),
        "shots": [
            {"index": i, "start_s": bounds[i], "end_s": bounds[i + 1], "valence": round(0.3 - 0.1 * i, 4),
             "arousal": round(-0.5 + 0.2 * i, 4), "label": LABELS[i % len(LABELS)], "confidence": 0.7,
             "sources": {"text": source(0.2, 0.1) if i % 2 else None, "visual": source(0.1, -0.2),
                         "audio": source(0.0, 0.3)},
             "dialogue": "a line, with a comma" if i == 1 else ""}
            for i in range(shots)
        ],
        "timeline": [{"t_s": 0.0, "valence": 0.0, "arousal": 0.0}],
        "transcript": [_line(2.0, WORDS[:9]), _line(9.0, WORDS[9:])],
    }  # fmt: skip
    if with_cues:
        half = bounds[shots // 2]
        report["cues"] = [
            cue(0, 0.0, half, "calm", valence=0.3, arousal=-0.2, instruments=["strings", "harp"]),
            cue(1, half, duration, "tense", tempo_bpm=120.0, valence=-0.4, arousal=0.5,
                instruments=["tremolo strings"]),
        ]  # fmt: skip
        for shot in report["shots"]:
            shot["cue_id"] = 0 if shot["start_s"] < half else 1
        report["music"] = {"generator": "symbolic", "seed": 3, "licence": "CC-BY-NC-4.0 (test weights)"}
    jsonschema.validate(report, report_schema())
    return report


def _line(start: float, words: list[str]) -> dict:
    timed = [{"word": w, "start_s": round(start + 0.4 * i, 3), "end_s": round(start + 0.4 * i + 0.3, 3)}
             for i, w in enumerate(words)]  # fmt: skip
    return {
        "start_s": timed[0]["start_s"],
        "end_s": timed[-1]["end_s"],
        "text": " ".join(words),
        "words": timed,
    }


@pytest.mark.parametrize("fps", RATES)
def test_timecodes_agree_with_opentimelineio(fps):
    rate = timecode_rate(fps)
    for seconds in (0.0, 1.0, 59.5, 3661.5, 7199.96):
        frames = round(seconds * rate)
        expected = otio.opentime.to_timecode(otio.opentime.RationalTime(frames, rate), rate, False)
        assert timecode(seconds, fps) == expected


@pytest.mark.parametrize("fps", RATES)
def test_shots_csv_has_a_row_per_shot_with_its_time_codes(fps):
    report = make_report(fps)
    rows = list(csv.DictReader(io.StringIO(build_deliverables(typed(report))["shots.csv"])))
    assert len(rows) == len(report["shots"])
    for row, shot in zip(rows, report["shots"], strict=True):
        assert float(row["start_s"]) == shot["start_s"] and row["start_tc"] == timecode(shot["start_s"], fps)
        assert row["end_tc"] == timecode(shot["end_s"], fps)
        assert row["label"] == shot["label"] and float(row["valence"]) == shot["valence"]
        assert row["cue_id"] == str(shot["cue_id"]) and row["dialogue"] == shot["dialogue"]
        assert row["text_valence"] == ("" if shot["sources"]["text"] is None else "0.2000")


SRT_TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"


def _seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


@pytest.mark.parametrize("kind", ["srt", "vtt"])
def test_subtitles_follow_the_word_timings(kind):
    report = make_report(25.0)
    text = build_deliverables(typed(report))[f"transcript.{kind}"]
    if kind == "vtt":
        assert text.startswith("WEBVTT\n")
    spans = [(_seconds(m[:4]), _seconds(m[4:])) for m in re.findall(f"{SRT_TIME} --> {SRT_TIME}", text)]
    assert (
        spans[0][0] == report["transcript"][0]["start_s"]
        and spans[-1][1] == report["transcript"][-1]["end_s"]
    )
    assert all(end > start for start, end in spans)
    words = " ".join(re.sub(r"^\d+$|.*-->.*|WEBVTT", "", text, flags=re.M).split())
    assert words == " ".join(WORDS)


@pytest.mark.parametrize("fps", RATES)
def test_opentimelineio_reads_the_markers_back(fps, tmp_path):
    report = make_report(fps)
    expected = [s["start_s"] for s in report["shots"]] + [c["start_s"] for c in report["cues"]]
    for name, options in (("markers.otio", {}), ("markers.edl", {"rate": timecode_rate(fps)})):
        path = tmp_path / name
        path.write_text(build_deliverables(typed(report))[name])
        timeline = otio.adapters.read_from_file(str(path), **options)
        (clip,) = list(timeline.find_clips())
        starts = sorted(m.marked_range.start_time.to_seconds() for m in clip.markers)
        assert starts == pytest.approx(sorted(expected), abs=0.5 / fps), name
        assert clip.source_range.duration.to_seconds() == pytest.approx(
            report["input"]["duration_s"], abs=1 / fps
        )
    shot_marker = next(m for m in clip.markers if m.name.startswith("Shot 2"))
    assert shot_marker.color == "BLUE"  # sad


def test_the_cue_sheet_flags_non_commercial_licences():
    report = make_report(24.0)
    rows = list(csv.DictReader(io.StringIO(build_deliverables(typed(report))["cues.csv"])))
    assert [r["cue"] for r in rows] == ["1", "2"]
    assert rows[1]["in_tc"] == timecode(report["cues"][1]["start_s"], 24.0)
    assert all(r["non_commercial"] == "yes" and r["seed"] == "3" for r in rows)
    assert [r["style"] for r in rows] == ["orchestral", "orchestral"]  # the cue sheet names the style


def test_an_analysis_report_gives_no_cue_sheet():
    assert "cues.csv" not in build_deliverables(typed(make_report(25.0, with_cues=False)))


def test_filmscore_report_rebuilds_every_file_from_report_json(tmp_path):
    report = make_report(29.97)
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert main(["report", str(tmp_path), "-q"]) == 0
    built = build_deliverables(typed(report))
    assert {p.name for p in tmp_path.iterdir()} == {"report.json", "report.html", *built}
    assert all((tmp_path / name).read_text() == text for name, text in built.items())


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "has no report.json"),
        ("{not json", "not valid JSON"),
        ('{"schema_version": 1}', "report schema"),
    ],
)
def test_filmscore_report_refuses_a_folder_without_a_valid_report(tmp_path, content, words, capsys):
    if content is not None:
        (tmp_path / "report.json").write_text(content)
    assert main(["report", str(tmp_path)]) == 3
    assert words in capsys.readouterr().err
    assert {p.name for p in tmp_path.iterdir()} <= {"report.json"}


def test_analyze_and_run_fill_the_report_folder(tmp_path, cuts_film):
    assert main(["run", str(cuts_film), "-q", "-o", str(tmp_path / "s.mp4")]) == 0
    folder = tmp_path / "s.filmscore"
    report = json.loads((folder / "report.json").read_text())
    for name in ("shots.csv", "transcript.srt", "transcript.vtt", "markers.otio", "markers.edl", "cues.csv"):
        assert (folder / name).is_file() and Path(report["outputs"][name]) == folder / name
