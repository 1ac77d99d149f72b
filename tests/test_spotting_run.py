"""Spotting end to end: `filmscore run --spotting` on the four-mood film (afraid, calm, joyful, sad; 5 s
each, 25 fps), measured in the music stem, the score and the report."""

from __future__ import annotations

import json
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import pytest
import soundfile

from filmscore.cli.main import main
from filmscore.config.names import HTML_NAME, MUSIC_STEM, REPORT_NAME, SCORE_MIDI
from filmscore.music.spotting_files import read_spotting
from filmscore.music.symbolic.compose import CLOSE_TAIL_S, HELD_ROLES
from tests.measure import filmscore_cli
from tests.synthetic import four_mood_film

pytestmark = pytest.mark.slow

FPS = 25.0
FRAME_S = 1 / FPS
# The calm shot (5 .. 10 s) spotted tense; silence before it and after the joyful shot; a hit at
# 00:00:08:12 (8.48 s), after the calm line ends.
SPOTTING = """start,end,mood,style,intensity,note
0,4,none,,,cold open: no music
4,10,tense,,,the calm before the storm
10,15,auto
15,17.5,none
00:00:08:12,,hit
"""
HIT_S = 8.48
SILENCES = ((0.0, 4.0), (15.0, 17.5))


@pytest.fixture(scope="module")
def spotted_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spotted")
    film = four_mood_film(folder / "four.mp4")
    (folder / "spot.csv").write_text(SPOTTING)
    out = folder / "four.scored.mp4"
    assert main(["run", str(film), "-q", "-o", str(out), "--spotting", str(folder / "spot.csv")]) == 0
    return folder / "four.scored.filmscore"


def _report(run: Path) -> dict:
    return json.loads((run / REPORT_NAME).read_text())


def _stem(run: Path) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(run / MUSIC_STEM, dtype="float32")
    return samples.mean(axis=1), rate


def _db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12))


def test_none_ranges_are_silent_in_the_music_stem(spotted_run):
    music, rate = _stem(spotted_run)
    for start, end in SILENCES:
        stretch = music[round(start * rate) : round(end * rate)]
        assert 20 * np.log10(np.abs(stretch).max() + 1e-12) < -60
    assert _report(spotted_run)["silences"] == [{"start_s": a, "end_s": b} for a, b in SILENCES]


def test_the_override_turns_the_calm_reading_into_a_tense_cue_and_the_report_shows_both(spotted_run):
    report = _report(spotted_run)
    cue = next(c for c in report["cues"] if c["start_s"] == 4.0)
    assert (cue["end_s"], cue["mood"], cue["mode"]) == (10.0, "tense", "minor")
    assert cue["reading"]["mood"] in ("calm", "neutral") and cue["reading"]["valence"] > 0
    assert cue["spot"]["row"] == "row 3" and cue["spot"]["note"] == "the calm before the storm"
    page = (spotted_run / HTML_NAME).read_text()
    assert "spotted; read as" in page and "no music" in page
    assert report["spotting"]["spots"][0]["mood"] == "none"


def test_the_music_enters_on_the_spots_first_downbeat(spotted_run):
    music, rate = _stem(spotted_run)
    midi = pretty_midi.PrettyMIDI(str(spotted_run / SCORE_MIDI))
    downbeats = midi.get_downbeats()
    for start in (4.0, 17.5):
        assert np.min(np.abs(downbeats - start)) < 1e-3
        assert any(abs(n.start - start) < 1e-3 for i in midi.instruments for n in i.notes)
        before = music[round((start - 0.2) * rate) : round(start * rate)]
        first_frame = music[round(start * rate) : round((start + FRAME_S) * rate)]
        assert np.abs(before).max() == 0
        assert _db(first_frame) > -70  # sounding from its first frame


def test_a_spotted_hit_lands_within_a_frame(spotted_run):
    music, rate = _stem(spotted_run)
    hop = 64
    strength = librosa.onset.onset_strength(y=music, sr=rate, hop_length=hop, n_fft=1024)
    times = librosa.times_like(strength, sr=rate, hop_length=hop)
    near = (times > HIT_S - 0.3) & (times < HIT_S + 0.3)
    peak = int(np.argmax(np.where(near, strength, -1)))
    assert abs(times[peak] - HIT_S) <= FRAME_S
    assert strength[peak] > 3 * np.median(strength[near])
    assert any(h["spotted"] and h["t_s"] == HIT_S for h in _report(spotted_run)["hits"])


def test_a_cue_before_silence_ends_on_a_held_chord_that_dies_away_before_it(spotted_run):
    report = _report(spotted_run)
    closing = next(c for c in report["cues"] if c["end_s"] == 15.0)
    assert closing["ending"] == "close"
    midi = pretty_midi.PrettyMIDI(str(spotted_run / SCORE_MIDI))
    last_bar = max(t for t in midi.get_downbeats() if closing["start_s"] - 1e-3 <= t < closing["end_s"] - 0.1)
    release = closing["end_s"] - CLOSE_TAIL_S
    for instrument in midi.instruments:  # one per track, named after its role ("pad A")
        role = instrument.name.split()[0]
        for note in instrument.notes:
            if not closing["start_s"] - 1e-3 <= note.start < closing["end_s"]:
                continue
            assert note.end <= release + 1e-3, (instrument.name, note)
            if note.start > last_bar + 1e-3:  # only hits strike after the last downbeat
                assert role in ("timpani", "percussion"), (instrument.name, note)
            if role in HELD_ROLES and note.end > last_bar + 1e-3:
                assert note.end == pytest.approx(release, abs=2e-3)  # held to the release
    music, rate = _stem(spotted_run)
    sounding = _db(music[round((last_bar + 0.1) * rate) : round(release * rate)])
    tail = _db(music[round((15 - 0.05) * rate) : round(15 * rate)])
    assert sounding > -45 and tail < sounding - 20  # held, then died away: not cut off mid-note


def test_the_runs_own_markers_read_back_as_its_cues(spotted_run):
    report = _report(spotted_run)
    read = read_spotting(spotted_run / "markers.otio", FPS, report["input"]["duration_s"])
    spots = [(s.start_s, s.end_s, s.mood) for s in read.spotting.spots]
    cues = [(c["start_s"], c["end_s"], c["mood"]) for c in report["cues"]]
    assert [m for _, _, m in spots] == [m for _, _, m in cues]
    assert np.allclose([(a, b) for a, b, _ in spots], [(a, b) for a, b, _ in cues], atol=FRAME_S)


def test_a_bad_spotting_file_fails_at_once_with_exit_3_naming_the_row_and_leaves_nothing(tmp_path, cuts_film):
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    (tmp_path / "spot.csv").write_text("start,end,mood\n0,2,tense\n1,3,calm\n")
    result = filmscore_cli("run", str(film), "--spotting", str(tmp_path / "spot.csv"))
    assert result.returncode == 3
    assert "row 3" in result.stderr and "overlaps row 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4", "spot.csv"]


def test_analyze_checks_the_spotting_and_records_it_with_the_reading(tmp_path, cuts_film):
    (tmp_path / "spot.csv").write_text("start,end,mood\n0,4,sad\n00:00:05:00,,hit\n")
    report_dir = tmp_path / "report"
    args = ["analyze", str(cuts_film), "-q", "--report-dir", str(report_dir)]
    assert main([*args, "--spotting", str(tmp_path / "spot.csv")]) == 0
    spotting = json.loads((report_dir / REPORT_NAME).read_text())["spotting"]
    assert [(s["start_s"], s["end_s"], s["mood"]) for s in spotting["spots"]] == [(0, 4, "sad")]
    assert spotting["hits"] == [{"t_s": 5.0, "row": "row 3"}]
