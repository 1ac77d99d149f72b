"""Takes (issue 36): `--takes N` writes each cue's other takes beside its file; the report plays them side by
side and picks one into the spotting CSV's take column; the next run plays the chosen take in that cue
alone, every other cue's music unchanged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from filmscore.cli.main import main
from filmscore.core.errors import InputError
from filmscore.music.generators import MusicRequest
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import CueOptions, plan_cues
from filmscore.music.planning.palette import is_take, take_letters, take_seed
from filmscore.music.spotting_files import read_spotting
from filmscore.music.symbolic.compose import ComposeOptions, compose
from filmscore.scoring.run import RunOptions, compose_takes
from tests.measure import emotions, flat_timeline
from tests.synthetic import FOUR_MOODS, make_film

FOUR = [(5.2, -0.7, 0.7), (6.04, 0.7, -0.6), (5.6, 0.8, 0.7), (6.2, -0.7, -0.6)]  # afraid, calm, joyful, sad


def four_cue_plan(spotting=None):
    shots = emotions(FOUR)
    duration = sum(d for d, _, _ in FOUR)
    return plan_cues(shots, flat_timeline(shots), duration, CueOptions(), spotting)


def test_take_names_and_seeds():
    assert take_letters(3) == ("a", "b", "c")
    assert take_seed(7, "a") == 7 and take_seed(7, "1234") == 1234
    assert take_seed(7, "b") != take_seed(7, "c") and take_seed(7, "b") == take_seed(7, "b")
    assert take_seed(7, "b") != take_seed(8, "b")
    assert is_take("b") and is_take("42") and not is_take("B") and not is_take("ab") and not is_take("")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12))
def test_any_take_cell_is_read_or_refused_in_one_line(tmp_path_factory, text):
    """Whatever an editor types in the take column: a take (a letter or a seed) is kept as written, in
    lower case; anything else is exit 3 naming the row."""
    folder = tmp_path_factory.mktemp("take")
    cell = text.replace('"', '""')
    path = folder / "takes.csv"
    path.write_text(f'start,end,mood,take\n1,4,auto,"{cell}"\n', encoding="utf-8", newline="")
    stripped = text.strip().lower()
    try:
        spotting = read_spotting(path, 25.0, 20.0).spotting
    except InputError as error:
        assert error.exit_code == 3 and "\n" not in str(error)
        assert stripped and not is_take(stripped)
        return
    if stripped:
        assert [t.take for t in spotting.takes] == [stripped] and is_take(stripped)
        assert spotting.spots == ()  # an auto row with a take places nothing


def test_a_take_row_chooses_the_cues_take_and_changes_nothing_else(tmp_path):
    plain = four_cue_plan()
    second = plain.cues[1]
    path = tmp_path / "takes.csv"
    path.write_text(f"start,end,mood,take\n{second.start_s},{second.end_s},auto,b\n", encoding="utf-8")
    spotting = read_spotting(path, 25.0, plain.duration_s).spotting
    taken = four_cue_plan(spotting)
    assert [c.take for c in taken.cues] == ["a", "b", "a", "a"]
    assert [replace(c, take="a", spot=None) for c in taken.cues] == [
        replace(c, spot=None) for c in plain.cues
    ]
    assert taken.hits == plain.hits


def test_a_mood_row_with_a_take_spots_and_chooses(tmp_path):
    path = tmp_path / "takes.csv"
    path.write_text("start,end,mood,note,take\n0,5.2,afraid,door,c\n5.2,11.24,calm,,\n", encoding="utf-8")
    spotting = read_spotting(path, 25.0, 23.04).spotting
    assert [s.mood for s in spotting.spots] == ["afraid", "calm"]
    assert [(t.start_s, t.end_s, t.take) for t in spotting.takes] == [(0.0, 5.2, "c")]
    plan = four_cue_plan(spotting)
    assert plan.cues[0].take == "c" and plan.cues[1].take == "a"


def test_two_takes_over_one_cue_are_refused(tmp_path):
    path = tmp_path / "takes.csv"
    path.write_text("start,end,mood,take\n0,6,auto,b\n5,9,auto,c\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3 .*overlaps row 2"):
        read_spotting(path, 25.0, 20.0)


def test_another_take_rewrites_its_cue_alone():
    """Take b of the joyful cue: its theme, harmony and figures change (under half of the notes of its
    melody, accompaniment and pad shared; the drums, the bass's roots and the brass on the beat keep the
    cue's drive); every other cue's notes stay exactly as they were."""
    from filmscore.music.symbolic.score import role_channels

    plain = four_cue_plan()
    taken = replace(plain, cues=tuple(replace(c, take="b") if c.id == 2 else c for c in plain.cues))
    before, after = (compose(p, (), ComposeOptions(seed=3)) for p in (plain, taken))

    def notes(composition, cue_id, *roles):
        channels = set(role_channels(*roles)) if roles else set(range(16))
        return {(n.channel, n.pitch, round(n.start_s, 4)) for n in composition.notes
                if n.cue == cue_id and n.channel in channels}  # fmt: skip

    for cue in (0, 1, 3):
        assert notes(before, cue) == notes(after, cue)
    for role in ("melody", "accompaniment", "pad"):
        old, new = notes(before, 2, role), notes(after, 2, role)
        assert old and len(old & new) < len(old) / 2, (role, len(old & new), len(old))


def test_each_cues_other_takes_are_composed_and_rendered_alone():
    plan = four_cue_plan()
    generator = SymbolicGenerator()
    request = MusicRequest(plan, (), seed=0)
    music, *_ = compose_takes(generator, request, RunOptions(takes=2, mer="none"))
    others = music.other_takes
    assert [(s.cue_id, s.take) for s in others] == [(i, "b") for i in range(4)]
    chosen = replace(plan, cues=tuple(replace(c, take="b") if c.id == 2 else c for c in plan.cues))
    offered, chosen_plan, _, _ = compose_takes(
        generator, replace(request, plan=chosen), RunOptions(takes=3, mer="none")
    )
    assert [(s.cue_id, s.take) for s in offered.other_takes] == [(2, "a"), (0, "b"), (1, "b"), (3, "b")] + [
        (i, "c") for i in range(4)
    ]
    assert [c.take for c in chosen_plan.cues] == ["a", "a", "b", "a"]
    picked = next(s for s in offered.cue_sounds if s.cue_id == 2).audio.samples
    assert np.array_equal(picked, next(s for s in others if s.cue_id == 2).audio.samples)
    # Each take b starts on its cue's beat as take a does, and sounds different.
    for played, other in zip(music.cue_sounds, others, strict=True):
        assert played.start_s == pytest.approx(other.start_s, abs=0.6)
        a, b = played.audio.read(0, 48000 * 3), other.audio.read(0, 48000 * 3)
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] < 0.9


def _cue_files(report_dir: Path) -> dict[str, np.ndarray]:
    return {
        p.name: soundfile.read(p, dtype="float64")[0] for p in sorted((report_dir / "cues").glob("*.wav"))
    }


def _residual_db(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(the gain in dB that best maps `reference` onto `other`, what is left of `other` after it, in dB)."""
    n = min(len(reference), len(other))
    a, b = reference[:n].ravel(), other[:n].ravel()
    gain = float(np.dot(a, b) / np.dot(a, a))
    rest = b - gain * a
    return 20 * np.log10(abs(gain)), 10 * np.log10(np.mean(rest**2) / np.mean(b**2) + 1e-30)


def test_pick_take_b_for_cue_2_through_the_csv_and_only_cue_2_changes(tmp_path):
    """A phone's 29.97 fps film with an editor's name: scored with --takes 2, then take b of cue 2 picked
    (the row the report's picker writes) and scored again. Cue 2 is now its take b; every other cue's
    file is the earlier one sample for sample, but for one gain the whole music shares (the mix's loudness
    normalisation: the music's loudness moved with cue 2)."""
    film = make_film(tmp_path / "Director's cut #2.mov", list(FOUR_MOODS), size=(320, 180), fps=30000 / 1001)
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["run", str(film), "-q", "--takes", "2"]
    assert main([*args, "-o", str(tmp_path / "one.mov"), "--report-dir", str(first)]) == 0
    report = json.loads((first / "report.json").read_text())
    assert len(report["cues"]) >= 3
    assert all(c["take"] == "a" and [t["take"] for t in c["takes"]] == ["b"] for c in report["cues"])
    earlier = _cue_files(first)
    assert sorted(earlier) == sorted(
        [f"cue-{c['id'] + 1:02d}.wav" for c in report["cues"]]
        + [f"cue-{c['id'] + 1:02d}-b.wav" for c in report["cues"]]
    )
    page = (first / "report.html").read_text()
    assert re.search(r'name="take-1" value="b" data-in="[\d.]+" data-out="[\d.]+">', page)
    assert 'src="cues/cue-02-b.wav"' in page

    cue = report["cues"][1]
    spotting = tmp_path / "takes.csv"
    spotting.write_text(f"start,end,mood,style,intensity,note,take\n{cue['start_s']:.4f},{cue['end_s']:.4f},"
                        "auto,,,,b\n", encoding="utf-8")  # fmt: skip
    again = ["--spotting", str(spotting), "-o", str(tmp_path / "two.mov"), "--report-dir", str(second)]
    assert main([*args, *again]) == 0
    rerun = json.loads((second / "report.json").read_text())
    assert [c["take"] for c in rerun["cues"]] == ["a", "b"] + ["a"] * (len(report["cues"]) - 2)
    assert [(c["start_s"], c["end_s"], c["key"]) for c in rerun["cues"]] == [
        (c["start_s"], c["end_s"], c["key"]) for c in report["cues"]
    ]
    assert [t["take"] for t in rerun["cues"][1]["takes"]] == ["a"]  # the other take is now a
    later = _cue_files(second)
    gains = []
    for c in report["cues"]:
        name = f"cue-{c['id'] + 1:02d}.wav"
        gain, rest = _residual_db(earlier[name], later[name])
        if c["id"] == 1:
            assert rest > -10, rest  # another piece of music
            # and it is the take b the first run offered
            assert _residual_db(earlier["cue-02-b.wav"], later[name])[1] < -90
        else:
            assert rest < -90, (name, rest)
            gains.append(gain)
    assert max(gains) - min(gains) < 0.001 and abs(gains[0]) < 1.0
    assert 'value="b" data-in' in (second / "report.html").read_text()
    assert json.loads((second / "report.json").read_text())["spotting"]["takes"][0]["take"] == "b"
