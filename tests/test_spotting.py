"""Spotting in: the editor's spots and hits read from a CSV, an EDL, an OTIO file or FCP 7 XML, checked
against the film, and followed by the cue plan. The run end to end is in test_spotting_run.py."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmscore.core.errors import InputError
from filmscore.core.timecode import timecode_rate
from filmscore.music.planning import CLOSE, FILM_END, JOIN, plan_cues
from filmscore.music.spotting import Spotting
from filmscore.music.spotting_files import read_spotting, spotting_in_folder
from tests.measure import emotions, flat_timeline

FPS = 25.0
DURATION = 20.0
RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


def _csv(tmp_path: Path, text: str, name: str = "spot.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _read(path: Path, fps: float = FPS, duration: float = DURATION) -> Spotting:
    return read_spotting(path, fps, duration).spotting


def test_a_csv_spotting_is_read_with_seconds_time_codes_styles_intensities_and_notes(tmp_path):
    path = _csv(tmp_path, "start,end,mood,style,intensity,note\n"
                          "00:00:04:00,00:00:09:12,Tense,strings,0.8,\"the calm, before\"\n"
                          "0,4,none,,,cold open\n"
                          "10,15,auto\n"
                          "00:00:12:05,,hit\n")  # fmt: skip
    spotting = _read(path)
    assert [(s.start_s, s.end_s, s.mood) for s in spotting.spots] == [
        (0.0, 4.0, "none"), (4.0, 9.48, "tense"), (10.0, 15.0, "auto")
    ]  # fmt: skip
    tense = spotting.spots[1]
    assert (tense.style, tense.intensity, tense.note, tense.row) == (
        "strings",
        0.8,
        "the calm, before",
        "row 2",
    )
    assert [(h.t_s, h.row) for h in spotting.hits] == [(12.2, "row 5")]


@pytest.mark.parametrize("fps", [23.976, 24.0, 25.0, 29.97])
def test_time_codes_count_frames_at_the_films_exact_rate(tmp_path, fps):
    rate = timecode_rate(fps)
    nominal = round(rate)
    spotting = _read(_csv(tmp_path, "start,end,mood\n00:00:01:05,00:00:10:12,sad\n"), fps)
    spot = spotting.spots[0]
    assert spot.start_s == pytest.approx((nominal + 5) / rate, abs=1e-9)
    assert spot.end_s == pytest.approx((10 * nominal + 12) / rate, abs=1e-9)


def test_drop_frame_time_codes_are_read_as_drop_frame(tmp_path):
    # At 29.97 drop-frame, 00:01:00;02 is frame 1800 (frames 0 and 1 of the minute are skipped).
    spotting = _read(_csv(tmp_path, "start,end,mood\n00:01:00;02,00:01:10;00,calm\n"), 29.97, 80.0)
    assert spotting.spots[0].start_s == pytest.approx(1800 / (30000 / 1001), abs=1e-9)


def test_a_spreadsheets_csv_with_a_bom_semicolons_comments_and_blank_lines_is_read(tmp_path):
    path = tmp_path / "spot.csv"
    path.write_bytes("\ufeffStart;End;Mood\n# the opening\n\n0;5;joyful\n5;20;Sad\n".encode())
    assert [s.mood for s in _read(path).spots] == ["joyful", "sad"]


def test_touching_spots_of_one_mood_join_into_one(tmp_path):
    spotting = _read(_csv(tmp_path, "start,end,mood\n0,3,tense\n3,7,tense\n7,9,calm\n"))
    assert [(s.start_s, s.end_s, s.mood) for s in spotting.spots] == [(0, 7, "tense"), (7, 9, "calm")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("start,end,mood\n0,4,angry\n", ["row 2", "'angry'", "afraid, auto, calm"]),
        ("start,end,mood\n0,5,sad\n4,8,calm\n", ["row 3", "overlaps row 2"]),
        ("start,end,mood\n0,25,sad\n", ["row 2", "past the film's end"]),
        ("start,end,mood\n5,4,sad\n", ["row 2", "end after the start"]),
        ("start,end,mood\n0,5,none\n2,,hit\n", ["row 3", "row 2, which has no music"]),
        ("start,end,mood\n30,,hit\n", ["row 2", "outside the film"]),
        ("start,end,mood\n0,abc,sad\n", ["row 2", "'abc'"]),
        ("start,end,mood\n00:00:01:30,00:00:02:00,sad\n", ["row 2", "'00:00:01:30'"]),
        ("start,end,mood,style,intensity\n0,4,sad,,1.5\n", ["row 2", "intensity '1.5'"]),
        ("start,end,mood,style\n0,4,sad,jazz\n", ["row 2", "style 'jazz'", "orchestral"]),
        ("start,mood\n0,sad\n", ["row 1", "lacks end"]),
        ("start,end,mood,colour\n0,4,sad,red\n", ["row 1", "unknown columns"]),
        ("start,end,mood\n0,4,sad,extra\n", ["row 2", "more values"]),
        ("start,end,mood\n0,20,none\n", ["whole film silent"]),
        ("start,end,mood\n", ["no spots or hits"]),
        ("start,end,mood\n0,nan,sad\n", ["row 2", "'nan'"]),
    ],
)
def test_a_bad_row_is_exit_3_with_one_line_naming_it(tmp_path, text, words):
    with pytest.raises(InputError) as caught:
        _read(_csv(tmp_path, text))
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "\n" not in message and len(message) <= 600
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("spot.txt", b"start,end,mood\n", [".txt", "not"]),
        ("missing.csv", None, ["no such spotting file"]),
        ("spot.csv", b"\xff\xfe\x00\xd8 not text", ["UTF-8"]),
        ("spot.edl", b"\x00\x01 this is no EDL at all {{{", ["EDL", "Export it again"]),
        ("spot.otio", b'{"OTIO_SCHEMA": "Timeline.1", "tracks": 12}', ["OpenTimelineIO"]),
        ("spot.xml", b"<xmeml><sequence><broken>", ["FCP 7 XML"]),
    ],
)
def test_an_unreadable_spotting_file_is_exit_3_with_one_line(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        _read(path)
    assert "\n" not in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def _editors_timeline(markers: list[tuple[str, float, float]], offset_s: float = 0.0) -> otio.schema.Timeline:
    """A cut as an editing system writes it: the film as one clip whose media starts at 01:00:00:00, after
    `offset_s` of gap, with markers (name, start, duration) in the clip's media time."""
    rate = FPS
    media_start = 3600 * rate
    timeline = otio.schema.Timeline(name="reel 1")
    track = otio.schema.Track(name="V1")
    timeline.tracks.append(track)
    if offset_s:
        track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(offset_s * rate, rate))))
    media = TR(RT(media_start, rate), RT(DURATION * rate, rate))
    clip = otio.schema.Clip(
        name="film.mp4",
        media_reference=otio.schema.ExternalReference(target_url="file:///film.mp4", available_range=media),
        source_range=media,
    )
    for name, start, length in markers:
        at = TR(RT(media_start + start * rate, rate), RT(length * rate, rate))
        clip.markers.append(otio.schema.Marker(name=name, marked_range=at, color="RED"))
    track.append(clip)
    return timeline


def test_edl_locators_from_an_editing_system_are_spots_to_the_next_locator(tmp_path):
    markers = [("fear", 2, 0), ("fix grade", 3, 0), ("hit", 5, 0), ("calm - the morning after", 8, 0)]
    path = tmp_path / "reel.edl"
    path.write_text(otio.adapters.write_to_string(_editors_timeline(markers), "cmx_3600", rate=FPS))
    read = read_spotting(path, FPS, DURATION)
    spots = read.spotting.spots
    assert [(s.start_s, s.end_s, s.mood) for s in spots] == [(2, 8, "afraid"), (8, DURATION, "calm")]
    assert [h.t_s for h in read.spotting.hits] == [5]
    assert read.left_out == ("FIX GRADE",)


def test_an_edl_written_in_latin_1_is_read(tmp_path):
    """Older editing systems write EDLs in Latin-1: a marker named "fear at the café" is still a spot."""
    timeline = _editors_timeline([("fear at the café", 2, 0)])
    text = otio.adapters.write_to_string(timeline, "cmx_3600", rate=FPS)
    path = tmp_path / "reel.edl"
    path.write_bytes(text.encode("latin-1"))
    assert [(s.start_s, s.mood) for s in read_spotting(path, FPS, DURATION).spotting.spots] == [(2, "afraid")]


@pytest.mark.parametrize(("suffix", "adapter"), [(".otio", "otio_json"), (".xml", "fcp_xml")])
def test_otio_and_fcp7_markers_are_spots_on_the_timeline_time(tmp_path, suffix, adapter):
    # The clip starts 1 s into the timeline: its markers move with it.
    timeline = _editors_timeline([("Tense", 3, 4), ("sad", 9, 0), ("HIT!", 10, 0)], offset_s=1.0)
    path = tmp_path / f"reel{suffix}"
    path.write_text(otio.adapters.write_to_string(timeline, adapter))
    spotting = _read(path)
    assert [(s.start_s, s.end_s, s.mood) for s in spotting.spots] == [(4, 8, "tense"), (10, DURATION, "sad")]
    assert [h.t_s for h in spotting.hits] == [11]


def test_a_marker_with_its_mood_in_the_comment_is_a_spot(tmp_path):
    timeline = _editors_timeline([])
    timeline.tracks.markers.append(
        otio.schema.Marker(name="M1", marked_range=TR(RT(50, FPS), RT(100, FPS)), comment="sorrow here")
    )
    path = tmp_path / "reel.otio"
    path.write_text(otio.adapters.write_to_string(timeline, "otio_json"))
    assert [(s.start_s, s.end_s, s.mood) for s in _read(path).spots] == [(2, 6, "sad")]


def test_a_folder_of_spotting_files_gives_each_film_its_own(tmp_path):
    (tmp_path / "reel1.csv").write_text("start,end,mood\n0,4,sad\n")
    (tmp_path / "reel2.edl").write_text("")
    assert spotting_in_folder(tmp_path, Path("/films/reel1.mov")) == tmp_path / "reel1.csv"
    assert spotting_in_folder(tmp_path, Path("/films/reel2.mp4")) == tmp_path / "reel2.edl"
    assert spotting_in_folder(tmp_path, Path("/films/reel3.mp4")) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.text(max_size=12), max_size=7), max_size=6))
def test_any_csv_is_read_or_refused_with_an_input_error(tmp_path, rows):
    text = "start,end,mood,style,intensity,note\n" + "\n".join(",".join(row) for row in rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="replace")
    try:
        spotting = _read(path)
    except InputError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 600
    else:
        for before, after in zip(spotting.spots, spotting.spots[1:], strict=False):
            assert before.end_s <= after.start_s + 1 / FPS
        assert all(0 <= s.start_s < s.end_s <= DURATION + 1 / FPS for s in spotting.spots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".edl", ".otio", ".xml"]))
def test_any_marker_file_is_read_or_refused_with_an_input_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        _read(path)
    except InputError as exc:
        assert "\n" not in str(exc)


# -- the plan follows the spotting ----------------------------------------------------------------------


def _plan(spec, csv_text: str, tmp_path: Path):
    shots = emotions(spec)
    duration = shots[-1].end_s
    spotting = _read(_csv(tmp_path, csv_text), FPS, duration)
    return plan_cues(shots, flat_timeline(shots), duration, None, spotting)


CALM_FILM = [(5, 0.45, -0.45), (5, 0.5, -0.5), (5, 0.45, -0.4), (5, 0.4, -0.5)]


def test_a_spotted_mood_turns_a_calm_reading_into_a_tense_cue(tmp_path):
    read = _plan(CALM_FILM, "start,end,mood\n0,20,auto\n", tmp_path).cues
    spotted = _plan(CALM_FILM, "start,end,mood\n0,20,tense\n", tmp_path).cues
    assert {c.mood for c in read} == {"calm"}
    (tense,) = spotted
    assert (tense.mood, tense.mode) == ("tense", "minor") and tense.tension > 0
    assert tense.tempo_bpm > max(c.tempo_bpm for c in read) and tense.energy > max(c.energy for c in read)
    assert tense.read_valence > 0.3 and tense.read_arousal < -0.3  # the reading is kept for the report


def test_cues_start_and_stop_where_spotted_and_silence_has_no_cue(tmp_path):
    plan = _plan(CALM_FILM, "start,end,mood\n0,3.5,none\n3.5,9.2,sad\n12,20,joyful\n", tmp_path)
    cues = plan.cues
    assert (cues[0].start_s, cues[0].end_s) == (3.5, 9.2)
    assert cues[0].beat_times[0] == 3.5 and cues[0].beat_times[-1] == 9.2
    assert cues[-1].start_s == 12 and cues[-1].end_s == 20 and cues[-1].mood == "joyful"
    # 9.2 .. 12 is unspotted: the reading scores it, and it joins the joyful cue on its downbeat.
    assert cues[1].start_s == 9.2 and cues[1].spot is None and cues[1].end_s == 12
    assert [c.ending for c in cues] == [JOIN, JOIN, FILM_END]
    assert plan.silences == ((0.0, 3.5),)
    assert plan.shot_cues[0] == 0  # shot 0 (0..5 s) is mostly in the sad cue


def test_a_cue_before_silence_closes_and_a_shot_in_silence_has_no_cue(tmp_path):
    plan = _plan(CALM_FILM, "start,end,mood\n0,5,afraid\n5,10,none\n10,20,auto\n", tmp_path)
    assert [c.ending for c in plan.cues][:1] == [CLOSE]
    assert plan.shot_cues[1] is None
    assert all(not (c.start_s < 10 and c.end_s > 5) for c in plan.cues)


def test_unspotted_time_under_a_second_between_spots_joins_the_spot_before(tmp_path):
    plan = _plan(CALM_FILM, "start,end,mood\n0,8,sad\n8.6,20,joyful\n", tmp_path)
    assert [(c.start_s, c.end_s, c.mood) for c in plan.cues] == [(0, 8.6, "sad"), (8.6, 20, "joyful")]


def test_a_spotted_hit_falls_on_a_beat_and_the_readings_accents_give_way(tmp_path):
    film = [(5, 0.45, -0.45), (5, -0.6, 0.8), (5, 0.45, -0.4), (5, 0.4, -0.5)]
    plan = _plan(film, "start,end,mood\n0,20,tense\n13.37,,hit\n", tmp_path)
    (cue,) = plan.cues
    assert min(abs(t - 13.37) for t in cue.beat_times) < 1e-6
    assert [(h.t_s, h.spotted, h.strength, h.sting) for h in plan.hits] == [(13.37, True, 1.0, "tense")]


def test_intensity_moves_a_spotted_cue_from_a_hint_of_its_mood_to_its_extreme(tmp_path):
    spec = [(10, 0.0, 0.0)]
    gentle = _plan(spec, "start,end,mood,style,intensity\n0,10,afraid,,0\n", tmp_path).cues[0]
    extreme = _plan(spec, "start,end,mood,style,intensity\n0,10,afraid,,1\n", tmp_path).cues[0]
    assert gentle.mood == extreme.mood == "afraid"
    assert gentle.energy < extreme.energy and gentle.tempo_bpm < extreme.tempo_bpm
    assert gentle.tension < extreme.tension


def test_a_spots_style_orchestrates_its_cue_alone(tmp_path):
    plan = _plan(CALM_FILM, "start,end,mood,style\n0,10,sad,piano\n10,20,sad\n", tmp_path)
    assert [c.style for c in plan.cues] == ["piano", "orchestral"]


# Issue 35: marker EDLs as NLEs export them, their sequence at 01:00:00:00.
AVID_LOCATORS = """TITLE: Director's cut
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:20:00 01:00:00:00 01:00:20:00
* FROM CLIP NAME: Director's cut.mov
* LOC: 01:00:05:00 RED     tense
* LOC: 01:00:12:00 BLUE    sad
* LOC: 01:00:16:12 YELLOW  hit
"""
RESOLVE_MARKERS = """TITLE: Timeline 1
FCM: NON-DROP FRAME

001  001      V     C        01:00:05:00 01:00:05:01 01:00:05:00 01:00:05:01
 |C:ResolveColorRed |M:tense |D:1

002  001      V     C        01:00:12:00 01:00:12:01 01:00:12:00 01:00:12:01
 |C:ResolveColorBlue |M:sad |D:1

003  001      V     C        01:00:16:12 01:00:16:13 01:00:16:12 01:00:16:13
 |C:ResolveColorYellow |M:hit |D:1
"""
SAME_MARKS_CSV = (
    "start,end,mood\n00:00:05:00,00:00:12:00,tense\n00:00:12:00,00:00:20:00,sad\n00:00:16:12,,hit\n"
)


def _spots_and_hits(path: Path, fps: float = 24.0, tc_start: str | None = None):
    spotting = read_spotting(path, fps, 20.0, tc_start).spotting
    return [(s.start_s, s.end_s, s.mood) for s in spotting.spots], [h.t_s for h in spotting.hits]


@pytest.mark.parametrize(("name", "text"), [("avid.edl", AVID_LOCATORS), ("resolve.edl", RESOLVE_MARKERS)])
def test_marker_edls_from_a_sequence_at_one_hour_give_the_csv_s_cues(tmp_path, name, text):
    (tmp_path / "marks.csv").write_text(SAME_MARKS_CSV)
    (tmp_path / name).write_text(text)
    assert _spots_and_hits(tmp_path / name) == _spots_and_hits(tmp_path / "marks.csv")


def test_the_sequence_start_can_be_given(tmp_path):
    (tmp_path / "ten.edl").write_text(AVID_LOCATORS.replace(" 01:00:", " 10:00:"))
    (tmp_path / "marks.csv").write_text(SAME_MARKS_CSV)
    assert _spots_and_hits(tmp_path / "ten.edl") == _spots_and_hits(tmp_path / "marks.csv")
    # A sequence that starts 2 s into the hour: the marks move 2 s earlier.
    spots, hits = _spots_and_hits(tmp_path / "ten.edl", tc_start="10:00:02:00")
    assert spots[0][:2] == (3.0, 10.0) and hits == [pytest.approx(14.5)]


def test_filmscore_s_own_markers_moved_to_one_hour_read_back(tmp_path):
    text = AVID_LOCATORS.replace("Director's cut.mov", "film.mov")
    (tmp_path / "moved.edl").write_text(text)
    spots, _ = _spots_and_hits(tmp_path / "moved.edl")
    assert spots[0] == (5.0, 12.0, "tense")


def test_a_tc_start_that_is_no_time_code_is_a_usage_error(tmp_path, cuts_film):
    from filmscore.cli.main import main

    (tmp_path / "marks.edl").write_text(AVID_LOCATORS)
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    assert (
        main(["analyze", str(film), "--spotting", str(tmp_path / "marks.edl"), "--tc-start", "1h", "-q"]) == 2
    )


PREMIERE_MARKERS = (
    "Marker Name,Description,In,Out,Duration,Marker Type\n"
    "tense,the chase,01:00:05:00,01:00:05:00,00:00:00:00,Comment\n"
    "Sad,,01:00:12:00,01:00:12:00,00:00:00:00,Comment\n"
    "hit,door slam,01:00:16:12,01:00:16:12,00:00:00:00,Comment\n"
)


# Final Cut's sequence starts at 01:00:00:00 (tcStart 3600s); a marker is in its clip's own time (from the
# clip's `start`), a connected clip's in its parent's; chapter markers are markers too.
FCPXML_MARKERS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.9">
  <resources>
    <format id="r1" frameDuration="1/24s" name="FFVideoFormat1080p24" width="1920" height="1080"/>
    <asset id="r2" name="Director's cut" src="file:///films/Director's%20cut.mov" start="0s" duration="20s"
      hasVideo="1" hasAudio="1" format="r1"/>
    <asset id="r3" name="door" src="file:///sfx/door.wav" start="0s" duration="2s" hasAudio="1"/>
  </resources>
  <library><event name="Spotting"><project name="Cut 3">
    <sequence duration="20s" format="r1" tcStart="3600s" tcFormat="NDF">
      <spine>
        <asset-clip name="Director's cut" ref="r2" offset="3600s" duration="20s" start="10s" format="r1">
          <marker start="15s" duration="1/24s" value="tense" note="the chase"/>
          <chapter-marker start="22s" duration="1/24s" value="Sad" posterOffset="0s"/>
          <asset-clip name="door" ref="r3" lane="-1" offset="26s" duration="1s" start="1s">
            <marker start="3/2s" duration="1/24s" value="hit"/>
          </asset-clip>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_an_fcpxml_from_a_sequence_at_one_hour_gives_the_csv_s_cues(tmp_path):
    """Issue 35: OTIO's FCPXML reader put the hour of tcStart in as a gap (a marker at 3605 s was refused
    as past the film) and skips chapter markers."""
    (tmp_path / "marks.csv").write_text(SAME_MARKS_CSV)
    (tmp_path / "cut 3.fcpxml").write_text(FCPXML_MARKERS)
    assert _spots_and_hits(tmp_path / "cut 3.fcpxml") == _spots_and_hits(tmp_path / "marks.csv")
    spots, hits = _spots_and_hits(tmp_path / "cut 3.fcpxml", tc_start="01:00:02:00")
    assert spots[0][:2] == (3.0, 10.0) and hits == [pytest.approx(14.5)]


def test_premiere_s_marker_csv_gives_the_csv_s_cues(tmp_path):
    (tmp_path / "marks.csv").write_text(SAME_MARKS_CSV)
    (tmp_path / "premiere.csv").write_text(PREMIERE_MARKERS)
    # Older Premiere versions write the same export tab-separated, in UTF-16.
    (tmp_path / "premiere16.csv").write_bytes(PREMIERE_MARKERS.replace(",", "\t").encode("utf-16"))
    expected = _spots_and_hits(tmp_path / "marks.csv")
    assert _spots_and_hits(tmp_path / "premiere.csv") == expected
    assert _spots_and_hits(tmp_path / "premiere16.csv") == expected


def test_a_csv_of_sequence_time_codes_says_to_pass_tc_start_and_reads_with_it(tmp_path):
    path = tmp_path / "sequence.csv"
    path.write_text(SAME_MARKS_CSV.replace("00:00:", "01:00:"))
    with pytest.raises(InputError, match=r"--tc-start 01:00:00:00") as caught:
        _spots_and_hits(path)
    assert "\n" not in str(caught.value)
    (tmp_path / "marks.csv").write_text(SAME_MARKS_CSV)
    assert _spots_and_hits(path, tc_start="01:00:00:00") == _spots_and_hits(tmp_path / "marks.csv")


def test_a_marker_edl_with_a_frame_past_the_rate_is_exit_3_in_one_line(tmp_path):
    path = tmp_path / "bad.edl"
    path.write_text(AVID_LOCATORS.replace("01:00:16:12", "01:00:16:27"))  # frame 27 at 24 fps
    with pytest.raises(InputError, match="01:00:16:27") as caught:
        _spots_and_hits(path)
    assert "\n" not in str(caught.value)
