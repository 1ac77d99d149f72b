"""Re-cuts keep approved music: `run --previous`. The four-mood film (afraid, calm, joyful, sad; 5 s shots)
is scored, then re-cut: the first two shots swapped, the joyful shot trimmed to 3.5 s, and the whole cut
re-encoded at another quality. Its unchanged cues must sound as they did, moved to their new times."""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile

from filmscore.cli.main import main
from filmscore.config.names import HTML_NAME, MUSIC_STEM, REPORT_NAME, SCORE_MIDI
from filmscore.core.errors import InputError
from tests.measure import filmscore_cli
from tests.synthetic import FOUR_MOODS, make_film

pytestmark = pytest.mark.slow

FEAR, CALM, JOY, SAD = FOUR_MOODS


@pytest.fixture(scope="module")
def cuts(tmp_path_factory) -> dict[str, Path]:
    """The first cut's and the re-cut's report folders."""
    folder = tmp_path_factory.mktemp("recut")
    first = make_film(folder / "cut1.mp4", list(FOUR_MOODS), size=(320, 180))
    assert main(["run", str(first), "-q"]) == 0
    recut = make_film(
        folder / "cut2-master.mp4", [CALM, FEAR, replace(JOY, duration_s=3.5), SAD], size=(320, 180)
    )
    encoded = folder / "cut2.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(recut), "-c:v", "libx264", "-crf", "32",
                    "-c:a", "aac", "-b:a", "64k", str(encoded)], check=True)  # fmt: skip
    previous = folder / "cut1.scored.filmscore"
    assert main(["run", str(encoded), "-q", "--previous", str(previous)]) == 0
    return {"first": previous, "recut": folder / "cut2.scored.filmscore"}


def _report(folder: Path) -> dict:
    return json.loads((folder / REPORT_NAME).read_text())


def _kept(cuts) -> list[tuple[dict, dict]]:
    """(earlier cue, cue) of every cue the re-cut kept."""
    first, recut = _report(cuts["first"]), _report(cuts["recut"])
    return [(first["cues"][c["recut"]["earlier_cue"]], c) for c in recut["cues"]
            if c["recut"]["earlier_cue"] is not None]  # fmt: skip


def test_shots_are_matched_by_content_through_the_reorder_and_the_re_encode(cuts):
    first, recut = _report(cuts["first"]), _report(cuts["recut"])
    assert [s["label"] for s in first["shots"]] == ["afraid", "calm", "joyful", "sad"]
    matched = [s["earlier_shot"] for s in recut["shots"]]
    assert matched[0] == 1 and matched[1] == 0 and matched[3] == 3
    assert matched[2] in (None, 2)  # the trimmed shot: its picture is noise, so only its sound could tell
    # A matched shot keeps its earlier reading.
    for shot in recut["shots"]:
        if shot["earlier_shot"] is not None and shot["index"] != 2:
            earlier = first["shots"][shot["earlier_shot"]]
            assert (shot["valence"], shot["arousal"], shot["label"]) == (
                earlier["valence"], earlier["arousal"], earlier["label"]
            )  # fmt: skip


def test_unchanged_cues_are_kept_and_moved_and_the_report_says_so(cuts):
    recut = _report(cuts["recut"])
    fates = [(c["recut"]["fate"], c["recut"]["earlier_cue"]) for c in recut["cues"]]
    assert fates == [("moved", 1), ("moved", 0), (fates[2][0], None), ("moved", 3)]
    assert fates[2][0] in ("new", "changed")
    assert recut["recut"]["moved"] == 3 and recut["recut"]["shots_matched"] >= 3
    page = (cuts["recut"] / HTML_NAME).read_text()
    assert 'id="recut"' in page and "moved (earlier cue 2)" in page


def test_kept_cues_play_the_earlier_notes_note_for_note_at_their_new_times(cuts):
    before = pretty_midi.PrettyMIDI(str(cuts["first"] / SCORE_MIDI))
    after = pretty_midi.PrettyMIDI(str(cuts["recut"] / SCORE_MIDI))
    for earlier, cue in _kept(cuts):
        shift = cue["start_s"] - earlier["start_s"]
        old = _notes(before, earlier)
        new = _notes(after, cue)
        assert len(old) > 10
        assert new == [
            (role, pitch, velocity, round(start + shift, 3)) for role, pitch, velocity, start in old
        ]


def _notes(midi: pretty_midi.PrettyMIDI, cue: dict) -> list[tuple]:
    """(role, pitch, velocity, onset) of every note of the cue: starting in its span, on its bank of
    channels (cues alternate banks A and B; a track is named "pad A") or on the drums. The role is the
    track's name without the bank."""
    bank = "AB"[cue["id"] % 2]
    return sorted(
        (instrument.name.split()[0], note.pitch, note.velocity, round(note.start, 3))
        for instrument in midi.instruments
        if instrument.name.endswith(f" {bank}") or instrument.name == "percussion"
        for note in instrument.notes
        if cue["start_s"] - 1e-3 <= note.start < cue["end_s"] - 1e-3
    )


def test_kept_cues_sound_as_they_did_in_the_mix(cuts):
    """In the delivered stems the kept cues sound as before, within what the mix itself changes: the
    re-encoded dialogue's voice activity moves the ducking by a few milliseconds (the music alone is
    compared sample for sample in test_kept_music_is_the_earlier_render_sample_for_sample)."""
    before, rate = soundfile.read(cuts["first"] / MUSIC_STEM, dtype="float32")
    after, _ = soundfile.read(cuts["recut"] / MUSIC_STEM, dtype="float32")
    for earlier, cue in _kept(cuts):
        # Inside the cue: past the cue before's ringing tail (1.5 s and the room) and before the next
        # cue's roll into its downbeat. The mix's overall gain differs between the cuts.
        first, last = earlier["start_s"] + 2.0, earlier["end_s"] - 1.0
        shift = cue["start_s"] - earlier["start_s"]
        x = before[round(first * rate) : round(last * rate)]
        y = after[round((first + shift) * rate) : round((last + shift) * rate)]
        gain = float(np.sum(x * y) / np.sum(y * y))
        residual = 10 * np.log10(np.sum((x - gain * y) ** 2) / np.sum(x**2))
        assert residual < -25, (cue["id"], residual)


def test_kept_music_is_the_earlier_render_sample_for_sample(tmp_path):
    """The symbolic generator alone: a cue kept from an earlier plan, moved 3 s later behind a new cue,
    renders to the same samples as it did, however the cues around it changed."""
    from filmscore.media.audio import load
    from filmscore.music.generators import EarlierScore, MusicRequest
    from filmscore.music.generators.symbolic import SymbolicGenerator
    from filmscore.music.planning import KeptCue, plan_cues
    from tests.measure import emotions, flat_timeline

    generator = SymbolicGenerator()
    shots = emotions([(6, -0.6, 0.7), (6, 0.5, -0.5), (6, 0.6, 0.5)])
    earlier = plan_cues(shots, flat_timeline(shots), 18.0)
    assert len(earlier.cues) == 3
    speech = ((7.0, 9.0),)
    before = load(generator.generate(MusicRequest(earlier, speech, seed=3)).audio)
    calm = earlier.cues[1]
    recut = emotions(
        [(9, 0.0, 0.9), (6, 0.5, -0.5), (4, -0.5, -0.4)]
    )  # a new opening, the calm shot, a new end
    keep = (KeptCue(calm, (), (1,), 3.0),)
    plan = plan_cues(recut, flat_timeline(recut), 19.0, keep=keep)
    request = MusicRequest(plan, ((10.0, 12.0),), seed=8, earlier=EarlierScore(earlier, speech, 3))
    after = load(generator.generate(request).audio)
    rate = 48_000
    first, last = calm.start_s + 2.0, calm.end_s - 1.0  # past the cue before's tail, before the next's roll
    x = before[round(first * rate) : round(last * rate)]
    y = after[round((first + 3.0) * rate) : round((last + 3.0) * rate)]
    residual = 10 * np.log10(np.sum((x - y) ** 2) / np.sum(x**2))
    assert residual < -60, residual


def test_the_new_stretch_is_composed_anew_and_joins_the_kept_cues_on_the_beat(cuts):
    recut = _report(cuts["recut"])
    cues = recut["cues"]
    joy = cues[2]
    assert joy["start_s"] == cues[1]["end_s"] and joy["end_s"] == cues[3]["start_s"]
    assert joy["mood"] == "joyful" and joy["ending"] == "join"
    plan = recut["score_plan"]["plan"]["cues"][2]
    assert plan["beat_times"][0] == joy["start_s"] and plan["beat_times"][-1] == pytest.approx(joy["end_s"])


def test_a_folder_that_holds_no_score_is_exit_3_with_one_line(tmp_path, cuts_film):
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    analysed = tmp_path / "analysed"
    assert main(["analyze", str(film), "-q", "--report-dir", str(analysed)]) == 0
    for folder, words in ((analysed, "holds no score"), (tmp_path / "nowhere", "has no report.json")):
        result = filmscore_cli("run", str(film), "--previous", str(folder))
        assert result.returncode == 3, result.stderr
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("plan", "cues", 0, "beat_times"), []),
        (("plan", "cues", 0, "tonic"), 99),
        (("plan", "cues", 0, "style"), "polka"),
        (("plan", "cues", 0, "instruments", "pad"), 1000),
        (("plan", "cues", 0, "id"), 5),
        (("plan", "cues"), []),
        (("plan", "hits"), "__import__('os').system('touch /tmp/pwned')"),
    ],
)
def test_a_hostile_earlier_score_is_refused_with_exit_3(tmp_path, cuts, path, value):
    folder = tmp_path / "earlier"
    folder.mkdir()
    report = _report(cuts["first"])
    target = report["score_plan"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (folder / REPORT_NAME).write_text(json.dumps(report))
    film = Path(report["input"]["path"])
    result = filmscore_cli("run", str(film), "--previous", str(folder), "-o", str(tmp_path / "out.mp4"))
    assert result.returncode == 3, result.stderr
    assert "cannot be read back" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.mp4").exists()


def test_the_shot_cache_reuses_only_the_same_content_and_never_changes_a_reading(cuts, tmp_path):
    """In a batch, films share an analysis cache. A shot's kept reading is given only to exactly the same
    picture and sound (a reused take under another name); a re-encoded re-cut's shots, which only look
    and sound alike, are read afresh, so a cold and a warm cache give the same reading."""
    import shutil

    from filmscore.analysis.cache import cached_analysis, read_shot_entries, shots_key, shots_path
    from filmscore.analysis.flow import AnalyzeOptions, analyze
    from filmscore.core.progress import Progress

    folder = cuts["first"].parent
    cache = tmp_path / "cache"
    opts = AnalyzeOptions()
    first = cached_analysis(folder / "cut1.mp4", opts, Progress(), cache)
    assert len(read_shot_entries(shots_path(cache, shots_key(opts)), shots_key(opts))) == 4
    recut = cached_analysis(folder / "cut2.mp4", opts, Progress(), cache)
    fresh = analyze(folder / "cut2.mp4", opts)

    def readings(analysis):
        return [(e.valence, e.arousal, e.label) for e in analysis.emotions]

    assert readings(recut) == readings(fresh)  # warm (with the first cut's shots) as cold
    assert len(read_shot_entries(shots_path(cache, shots_key(opts)), shots_key(opts))) == 8
    take = tmp_path / "the same take, renamed.mp4"
    shutil.copy(folder / "cut1.mp4", take)
    again = cached_analysis(take, opts, Progress(), cache)  # another path: the whole-film entry misses
    assert readings(again) == readings(first)


def test_a_planted_or_broken_shot_cache_is_ignored_and_replaced(tmp_path, cuts):
    from filmscore.analysis.cache import cached_analysis, read_shot_entries, shots_key, shots_path
    from filmscore.analysis.flow import AnalyzeOptions
    from filmscore.core.progress import Progress

    opts = AnalyzeOptions()
    path = shots_path(tmp_path, shots_key(opts))
    outside = {"valence": 5.0, "arousal": 0.0, "confidence": 1.0, "label": "joyful", "sources": {}}
    for planted in (b"\x80\x04cos\nsystem\n", b'{"format": "filmscore-shots/2", "key": 1, "shots": []}',
                    json.dumps({"format": "filmscore-shots/2", "key": shots_key(opts),
                                "shots": [{"content": 7, "reading": {}}]}).encode(),
                    json.dumps({"format": "filmscore-shots/2", "key": shots_key(opts),
                                "shots": [{"content": "ab", "reading": outside}]}).encode()):  # fmt: skip
        path.write_bytes(planted)
        assert read_shot_entries(path, shots_key(opts)) == ()
    cached_analysis(cuts["first"].parent / "cut1.mp4", opts, Progress(), tmp_path)
    assert len(read_shot_entries(path, shots_key(opts))) == 4


def test_the_same_cut_again_keeps_every_cue_and_the_same_sound(cuts, tmp_path):
    """A run on the first cut itself with --previous: every shot matches, every cue is kept where it was,
    and the stem is the first run's (each cue rendered alone, the drums' level and room included)."""
    film = cuts["first"].parent / "cut1.mp4"
    out = tmp_path / "again.mp4"
    assert main(["run", str(film), "-q", "-o", str(out), "--previous", str(cuts["first"])]) == 0
    report = _report(tmp_path / "again.filmscore")
    assert report["recut"]["kept"] == len(report["cues"]) == len(_report(cuts["first"])["cues"])
    before, _ = soundfile.read(cuts["first"] / MUSIC_STEM, dtype="float32")
    after, _ = soundfile.read(tmp_path / "again.filmscore" / MUSIC_STEM, dtype="float32")
    residual = 10 * np.log10(np.sum((before - after) ** 2) / np.sum(before**2) + 1e-30)  # identical: -300
    assert residual < -45, residual


def _beats(cue: dict, count: int | None) -> list[float]:
    """`count` beats over the cue; None: as many as its budget allows (a beat more than 220 bpm fills, and
    the first and last), so every beat is a little faster than 220 bpm."""
    span = cue["end_s"] - cue["start_s"]
    return list(np.linspace(cue["start_s"], cue["end_s"], count or math.floor(span * 220 / 60) + 2))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda plan: plan["cues"][0].update(beat_times=_beats(plan["cues"][0], 400_000)), "more beats"),
        (lambda plan: plan["cues"][0].update(dynamics=[[0.0, 0.5]] * 200_000), "more beats or dynamics"),
        (lambda plan: plan.update(duration_s=1e7), "its length is not its film's"),
        (
            lambda plan: plan["cues"][0].update(beat_times=_beats(plan["cues"][0], None)),
            "its beats make no sense",
        ),
        (
            lambda plan: (
                plan.update(hits=[plan["hits"][0]] * 100_000)
                if plan["hits"]
                else plan.update(hits=[{"t_s": 1.0, "strength": 1.0, "shot_index": 0}] * 100_000)
            ),
            "more hits",
        ),
    ],
)
def test_an_earlier_score_past_its_film_s_budget_is_refused_at_once(tmp_path, cuts, change, words):
    """Issue 33: 400 000 beats in one cue ran past 150 s, 200 000 dynamics points took 127 s and 1.8 GB,
    and a plan of 1e7 s was exit 4. Each is an input error before the plan is read into its types."""
    from filmscore.report.earlier_cut import earlier_cut

    report = _report(cuts["first"])
    change(report["score_plan"]["plan"])
    folder = tmp_path / "earlier"
    folder.mkdir()
    (folder / REPORT_NAME).write_text(json.dumps(report))
    with pytest.raises(InputError, match=words):
        earlier_cut(folder)
