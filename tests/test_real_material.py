"""Real material must not break a run (issue 33): the music's own limits whatever the shots, spotting or
re-cut ask; any name and any frame rate through every writer; a shot cache that reuses only the same
content; editor files read within budgets; spreadsheet-safe cells; one writer per folder at a time."""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmscore.analysis.fusion import ShotEmotion, TimelinePoint, label_for
from filmscore.analysis.shots import Shot
from filmscore.cli.main import main
from filmscore.config.names import REPORT_NAME
from filmscore.core.atomic import output_lock, sweep_dead_runs
from filmscore.core.errors import InputError
from filmscore.core.timecode import sequence_rate
from filmscore.core.wording import clean_text, file_uri, printable, spreadsheet_cell
from filmscore.music.planning import (
    FASTEST_BPM,
    SHORTEST_CUE_S,
    SLOWEST_BPM,
    CuePlan,
    KeptCue,
    plan_cues,
)
from filmscore.music.spotting import MOST_MARKS, Spot, SpotHit, checked_spotting
from filmscore.music.spotting_files import read_spotting
from tests.reports import typed
from tests.synthetic import Line, ShotSpec, make_film

FRAME_RATES = (10.0, 15.0, 24000 / 1001, 24.0, 25.0, 30000 / 1001, 50.0, 60.0, 120.0)
MOODS = ("joyful", "tense", "afraid", "sad", "calm", "neutral", "auto", "none")
PLAN = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the music's own limits ---------------------------------------------------------------------------


def _shots(frames: list[int], affects: list[tuple[float, float]], fps: float) -> tuple[ShotEmotion, ...]:
    """Shots of whole frames at `fps`, one after another: their times are frame-rounded, as a film's."""
    shots, at = [], 0
    for i, (count, (valence, arousal)) in enumerate(zip(frames, affects, strict=True)):
        shot = Shot(i, at, at + count, at / fps, (at + count) / fps)
        shots.append(ShotEmotion(shot, valence, arousal, 0.8, label_for(valence, arousal), {}))
        at += count
    return tuple(shots)


def _timeline(shots: tuple[ShotEmotion, ...]) -> tuple[TimelinePoint, ...]:
    return tuple(TimelinePoint(s.start_s, s.valence, s.arousal) for s in shots)


def _check_limits(plan: CuePlan) -> None:
    """What every plan holds, whatever it was asked: cues in order inside the film, none shorter than the
    musical minimum where there are several, and every beat at a tempo a player can take."""
    assert plan.cues or plan.silences
    for cue in plan.cues:
        assert 0 <= cue.start_s < cue.end_s <= plan.duration_s + 1e-6
        if len(plan.cues) > 1:
            assert cue.duration_s >= SHORTEST_CUE_S - 1e-6, cue
        gaps = np.diff(cue.beat_times)
        assert abs(cue.beat_times[0] - cue.start_s) < 1e-5 and abs(cue.beat_times[-1] - cue.end_s) < 1e-5
        if cue.duration_s >= 60 / FASTEST_BPM:
            assert gaps.min() >= 60 / FASTEST_BPM - 1e-6 and gaps.max() <= 60 / SLOWEST_BPM + 1e-6, gaps
        assert SLOWEST_BPM - 1e-6 <= cue.tempo_bpm <= FASTEST_BPM + 1e-6 or cue.duration_s < 60 / FASTEST_BPM
    for before, after in zip(plan.cues, plan.cues[1:], strict=False):
        assert after.start_s >= before.end_s - 1e-5  # rounded to the microsecond


affect = st.tuples(st.floats(-1, 1), st.floats(-1, 1))
films = st.integers(1, 10).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 240), min_size=n, max_size=n),
        st.lists(affect, min_size=n, max_size=n),
        st.sampled_from(FRAME_RATES),
    )
)


@PLAN
@given(film=films)
def test_any_shot_list_at_any_rate_plans_cues_within_the_music_s_limits(film):
    frames, affects, fps = film
    shots = _shots(frames, affects, fps)
    _check_limits(plan_cues(shots, _timeline(shots), shots[-1].end_s))


@PLAN
@given(film=films, data=st.data())
def test_any_spotting_plans_cues_within_the_music_s_limits(film, data):
    frames, affects, fps = film
    shots = _shots(frames, affects, fps)
    total = sum(frames)
    marks = sorted(data.draw(st.sets(st.integers(0, total), min_size=2, max_size=12)))
    spots = [
        Spot(a / fps, b / fps, data.draw(st.sampled_from(MOODS)), f"row {k}")
        for k, (a, b) in enumerate(itertools.pairwise(marks))
        if data.draw(st.booleans())
    ]
    hits = [SpotHit(f / fps, "hit") for f in data.draw(st.lists(st.integers(0, total - 1), max_size=6))]
    hits = [h for h in hits if not any(s.mood == "none" and s.start_s <= h.t_s < s.end_s for s in spots)]
    try:
        spotting = checked_spotting(spots, hits, "spots.csv", total / fps, 1 / fps)
    except InputError:
        return  # refused as a whole (all silent, or nothing): nothing to plan
    _check_limits(plan_cues(shots, _timeline(shots), total / fps, spotting=spotting))


@PLAN
@given(film=films, data=st.data())
def test_any_re_cut_plans_cues_within_the_music_s_limits(film, data):
    """Earlier cues kept at new places a frame (or a frame and a rounding error) apart: the gaps between
    them, however thin, never become cues of their own (issue 33: a 33 µs cue at 1836735 bpm)."""
    frames, affects, fps = film
    earlier_shots = _shots(frames, affects, fps)
    earlier = plan_cues(earlier_shots, _timeline(earlier_shots), earlier_shots[-1].end_s)
    chosen = [c for c in earlier.cues if data.draw(st.booleans())]
    keep, at = [], 0.0
    for cue in chosen:
        gap_frames = data.draw(st.integers(0, 3))
        jitter = data.draw(st.sampled_from([0.0, 1e-6, -1e-6, 4e-5]))
        start = max(0.0, at + gap_frames / fps + jitter)
        keep.append((cue, start - cue.start_s))
        at = start + cue.duration_s
    duration = at + data.draw(st.integers(0, 120)) / fps
    if duration <= 0:
        return
    count = max(1, round(duration * fps))
    shots = _shots([count], [data.draw(affect)], fps)
    shots = (replace(shots[0], shot=replace(shots[0].shot, end_s=duration)),)
    kept = tuple(KeptCue(cue, (), (0,), round(shift, 6)) for cue, shift in keep)
    _check_limits(plan_cues(shots, _timeline(shots), duration, keep=kept))


def _runaway_midi() -> bytes:
    """A MIDI file whose player runs for hours: a note every beat at a tempo of an hour a beat."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=3_600_000_000 // 256, time=0)])
    for _ in range(4):
        track += [mido.Message("note_on", note=60, velocity=80, time=0),
                  mido.Message("note_off", note=60, velocity=0, time=480)]  # fmt: skip
    midi.tracks.append(track)
    buffer = __import__("io").BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("synth", ["library", "program"])
def test_a_render_writes_no_more_than_the_score_and_its_ring_out(tmp_path, monkeypatch, synth):
    from filmscore.music.symbolic import fluid, render

    if synth == "library" and fluid.library() is None:
        pytest.skip("libfluidsynth is not installed")
    monkeypatch.setenv(render.SYNTH_ENV, synth)
    soundfont = render.find_soundfont()
    written: list[int] = []
    fitted = render.AudioFile.fitted

    def measured(path, *args, **kwargs):
        written.append(Path(path).stat().st_size)
        return fitted(path, *args, **kwargs)

    monkeypatch.setattr(render.AudioFile, "fitted", staticmethod(measured))
    [music] = render.render_separately([_runaway_midi()], soundfont, 1.0, tmp_path)
    assert music.frames == 48000
    most = (48000 + render.RING_OUT_S * 48000) * render.RAW_FRAME_BYTES
    slack = 60 * 48000 * render.RAW_FRAME_BYTES  # the program is stopped at its next look, 0.1 s on
    assert written and written[0] <= most + (slack if synth == "program" else 1024 * 8), written


# -- names and rates ----------------------------------------------------------------------------------


def test_names_are_kept_where_a_format_can_and_escaped_where_it_cannot():
    odd = os.fsdecode(b"caf\xe9.mp4")
    assert printable(odd) == "caf\\xe9.mp4" and printable("Director's cut.mov") == "Director's cut.mov"
    assert file_uri(f"/films/{odd}") == "file:///films/caf%E9.mp4"
    assert file_uri("/films/Director's cut #2.mov") == "file:///films/Director%27s%20cut%20%232.mov"
    assert spreadsheet_cell("=SUM(A1).mp4") == "'=SUM(A1).mp4" and spreadsheet_cell("-0.25") == "-0.25"
    assert spreadsheet_cell("@cmd") == "'@cmd" and spreadsheet_cell(-0.5) == -0.5
    assert clean_text("a\x1b[31mb\x00c\u202edcba\nnext") == "a[31mbcdcba next"


@pytest.mark.parametrize(
    ("fps", "rate"),
    [(15, 30.0), (10, 30.0), (12, 24.0), (120, 60.0), (10000, 60.0), (29.5, 30000 / 1001),
     (23.976, 24000 / 1001), (25, 25.0), (30000 / 1001, 30000 / 1001), (59.94, 60000 / 1001), (1.0, 24.0)],
)  # fmt: skip
def test_every_frame_rate_has_a_sequence_rate_with_time_code(fps, rate):
    assert sequence_rate(fps) == pytest.approx(rate)


@pytest.fixture(scope="module")
def odd_films(tmp_path_factory) -> dict[str, Path]:
    """An editor's awkward films, scored: an apostrophe at a phone's 15 fps, a name that is not UTF-8 at
    120 fps, a high-speed camera's 10 000 fps; shots of frame-rounded lengths, with a line each."""
    folder = tmp_path_factory.mktemp("odd names")
    made = {}
    happy, afraid = Line("What a wonderful day!", "happy"), Line("Run! The fire is coming!", "frightened")
    for key, name, fps, seconds in (
        ("apostrophe", "Director's cut.mov", 15.0, (2.7, 3.3)),
        ("latin1", b"caf\xe9.mp4", 120.0, (2.7, 3.3)),
        ("high speed", "Phantom take 3.mp4", 10_000.0, (1.1, 1.3)),
    ):
        path = folder / (os.fsdecode(name) if isinstance(name, bytes) else name)
        shots = [ShotSpec("warm", (round(fps * seconds[0]) + 1) / fps, happy),
                 ShotSpec("fear", (round(fps * seconds[1]) + 1) / fps, afraid)]  # fmt: skip
        make_film(path, shots, size=(96, 64) if fps > 1000 else (160, 96), fps=fps)
        assert main(["run", str(path), "-q"]) == 0
        made[key] = path
    return made


def _scored_folder(film: Path) -> Path:
    return film.with_name(f"{film.stem}.scored.filmscore")


def _read_back(text: str, adapter: str):
    import opentimelineio as otio

    return otio.adapters.read_from_string(text, adapter_name=adapter)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["apostrophe", "latin1", "high speed"])
def test_an_awkward_name_is_scored_and_every_timeline_reads_back(odd_films, key):
    film = odd_films[key]
    folder = _scored_folder(film)
    report = json.loads((folder / REPORT_NAME).read_bytes())
    assert os.fsencode(report["input"]["path"]) == os.fsencode(film)  # the exact bytes, through JSON
    for name, adapter in (("timeline.otio", "otio_json"), ("timeline.xml", "fcp_xml"),
                          ("timeline.fcpxml", "fcpx_xml")):  # fmt: skip
        timeline = _read_back((folder / name).read_text(encoding="utf-8"), adapter)
        assert len(list(timeline.find_clips())) >= 2
    names = [c.name for c in _read_back((folder / "timeline.xml").read_text("utf-8"), "fcp_xml").find_clips()]
    assert printable(film.with_suffix("").name) + ".scored" in " ".join(names)
    for text in ("shots.csv", "cues.csv", "transcript.srt", "markers.edl", "report.html"):
        (folder / text).read_text(encoding="utf-8")  # every text is UTF-8
    assert main(["report", str(folder), "-q"]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("fps", [10.0, 29.5, 10000.0, 23.976])
def test_timelines_at_any_rate_read_back(odd_films, fps):
    from filmscore.report.timeline import build_timelines

    report = json.loads((_scored_folder(odd_films["apostrophe"]) / REPORT_NAME).read_bytes())
    report["input"]["fps"] = fps
    built = build_timelines(typed(report))
    assert set(built) == {"timeline.otio", "timeline.xml", "timeline.fcpxml"}
    for name, adapter in (("timeline.otio", "otio_json"), ("timeline.xml", "fcp_xml"),
                          ("timeline.fcpxml", "fcpx_xml")):  # fmt: skip
        cues = [c for c in _read_back(built[name], adapter).find_clips() if c.name.startswith("Cue")]
        assert len(cues) == len(report["cues"])


@pytest.mark.slow
def test_a_re_cut_of_shots_a_frame_off_whole_seconds_is_scored_with_every_cue_in_limits(tmp_path):
    """Issue 33's first finding: four 5.04 s shots re-cut in another order once planned a cue of 33 µs
    at 1836735 bpm, and its render wrote 7.3 GB."""
    shots = [ShotSpec(p, 5.04, Line(text, voice)) for p, text, voice in (
        ("fear", "Run! Get out!", "frightened"), ("calm", "Rest now.", "calm"),
        ("joy", "What a wonderful day!", "excited"), ("sad", "He died last night.", "sad"))]  # fmt: skip
    first = make_film(tmp_path / "cut1.mp4", shots, size=(160, 96))
    assert main(["run", str(first), "-q"]) == 0
    recut = make_film(tmp_path / "cut2.mp4", [shots[1], shots[0], shots[3], shots[2]], size=(160, 96))
    assert main(["run", str(recut), "-q", "--previous", str(tmp_path / "cut1.scored.filmscore")]) == 0
    report = json.loads((tmp_path / "cut2.scored.filmscore" / REPORT_NAME).read_text())
    plan = report["score_plan"]["plan"]
    for cue in plan["cues"]:
        assert cue["end_s"] - cue["start_s"] >= SHORTEST_CUE_S
        assert np.diff(cue["beat_times"]).min() >= 60 / FASTEST_BPM - 1e-6
    assert report["recut"]["kept"] + report["recut"]["moved"] >= 1  # earlier cues came back


# -- the cache ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_cold_warm_or_foreign_filled_shot_cache_gives_the_same_reading(tmp_path):
    """A bright test card and a dark picture under the same soundtrack: once the cache held the dark
    film's shot, the bright film read as the dark one (-0.62 for its own -0.12)."""
    from filmscore.analysis.cache import cached_analysis, read_shot_entries, shots_key, shots_path
    from filmscore.analysis.flow import AnalyzeOptions, analyze
    from filmscore.core.progress import Progress

    line = Line("Your old friend died last night.", "sad")
    dark = make_film(tmp_path / "dark.mp4", [ShotSpec("dark", 4.0, line)], size=(160, 96))
    bright = make_film(tmp_path / "bright.mp4", [ShotSpec("testcard", 4.0, line)], size=(160, 96))
    opts, cache = AnalyzeOptions(), tmp_path / "cache"
    cold = analyze(bright, opts)
    cached_analysis(dark, opts, Progress(), cache)
    warm = cached_analysis(bright, opts, Progress(), cache)
    assert [(e.valence, e.arousal) for e in warm.emotions] == [(e.valence, e.arousal) for e in cold.emotions]
    assert len(read_shot_entries(shots_path(cache, shots_key(opts)), shots_key(opts))) == 2


# -- editor files within budgets ----------------------------------------------------------------------


def _spotting(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _otio_with_markers(count: int) -> str:
    import opentimelineio as otio

    clip = otio.schema.Clip(name="film", source_range=otio.opentime.range_from_start_end_time(
        otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(150, 25)))  # fmt: skip
    for k in range(count):
        clip.markers.append(otio.schema.Marker(name="hit", marked_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(k % 150, 25), otio.opentime.RationalTime(0, 25))))  # fmt: skip
    track = otio.schema.Track()
    track.append(clip)
    timeline = otio.schema.Timeline()
    timeline.tracks.append(track)
    return str(timeline.to_json_string(indent=-1))


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xmeml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + k)} "{("&" + chr(97 + k) + ";") * 10}">' for k in range(6))
    + "]><xmeml><sequence><name>&g;</name></sequence></xmeml>"
)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("deep.otio", "[" * 100_000, "nests deeper"),
        ("deeper.otio", '{"a": ' * 50_000 + "1" + "}" * 50_000, "nests deeper"),
        ("laughs.xml", LAUGHS, "DTD of its own"),
        ("laughs.fcpxml", LAUGHS.replace("xmeml", "fcpxml"), "DTD of its own"),
        (
            "external.xml",
            '<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
            "DTD of its own",
        ),
        ("nested.xml", "<a>" * 5000 + "</a>" * 5000, "nests deeper"),
        (
            "frames.csv",
            "start,end,mood\n" + "".join(f"{k / 1000},{(k + 1) / 1000},tense\n" for k in range(90_000)),
            "rows, too many",
        ),
        (
            "sub-frame.csv",
            "start,end,mood\n" + "".join(f"{k / 1000},{(k + 1) / 1000},tense\n" for k in range(3000)),
            "at most 151",
        ),
        ("sliver.csv", "start,end,mood\n1,1.01,tense\n", "less than a frame"),
        ("hits.csv", "start,end,mood\n" + "".join(f"{k / 16000},,hit\n" for k in range(4999)), "at most 151"),
        ("markers.otio", _otio_with_markers(10_000), "at most 151"),
    ],
)
def test_a_hostile_or_careless_editor_file_is_refused_at_once(tmp_path, name, content, words):
    with pytest.raises(InputError, match=words) as refused:
        read_spotting(_spotting(tmp_path, name, content), 25.0, 6.0)
    assert "\n" not in str(refused.value)


def test_budgets_leave_an_editor_s_real_spotting_alone(tmp_path):
    """A spot a frame long, hits on every other frame, and two marks on one frame (the same hit)."""
    rows = 'start,end,mood,style,intensity,note\n0,0.04,tense,,,one frame\n1,6,calm,,,"\'=HYPERLINK(x)"\n'
    rows += "".join(f"{k * 0.08:.2f},,hit\n" for k in range(1, 12)) + "0.08,,hit\n"
    spotting = read_spotting(_spotting(tmp_path, "real.csv", rows), 25.0, 6.0).spotting
    assert len(spotting.hits) == 11 and len(spotting.spots) == 2
    assert spotting.spots[1].note == "=HYPERLINK(x)"  # the spreadsheet's apostrophe taken off


def test_notes_keep_no_control_characters(tmp_path):
    rows = 'start,end,mood,style,intensity,note\n0,6,tense,,,"red\x1b[31m\x00 \u202eevil"\n'
    spot = read_spotting(_spotting(tmp_path, "notes.csv", rows), 25.0, 6.0).spotting.spots[0]
    assert spot.note == "red[31m evil"


def test_the_budget_is_a_few_thousand_marks_even_on_a_feature():
    with pytest.raises(InputError, match=f"at most {MOST_MARKS}"):
        checked_spotting([], [SpotHit(k * 0.5, "hit") for k in range(MOST_MARKS + 1)], "hits.csv", 7200, 0.04)


# -- spreadsheets, locks ------------------------------------------------------------------------------


def test_the_cue_sheet_and_shot_list_are_spreadsheet_safe():
    from filmscore.report.editors import _csv

    text = _csv([["=SUM(A1).mp4", "+1 lie", "-0.5", -0.25, "@x", "plain"]])
    assert text == "'=SUM(A1).mp4,'+1 lie,-0.5,-0.25,'@x,plain\n"


@contextlib.contextmanager
def _held(path: Path):
    with output_lock(path):
        yield


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "filmscore", *args], capture_output=True, text=True,
                          check=False, timeout=300)  # fmt: skip


def test_report_is_refused_while_a_run_writes_the_folder(tmp_path):
    folder = tmp_path / "film.filmscore"
    folder.mkdir()
    (folder / REPORT_NAME).write_text("{}")
    with _held(folder):
        result = _cli("report", str(folder))
    assert result.returncode == 5 and "another filmscore run is writing" in result.stderr


def test_two_batches_on_one_folder_refuse_each_other(tmp_path, cuts_film):
    from filmscore.core.atomic import folder_lock

    rushes = tmp_path / "rushes"
    rushes.mkdir()
    (rushes / "take.mp4").write_bytes(cuts_film.read_bytes())
    out = tmp_path / "scored"
    out.mkdir()
    with folder_lock(out, "batch"):
        result = _cli("batch", str(rushes), "-o", str(out), "-q")
    assert result.returncode == 5, result.stderr
    assert "another filmscore batch is writing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (out / "batch.json").exists()


def test_a_killed_run_s_lock_files_are_swept_and_a_held_one_stays(tmp_path):
    stale, live = tmp_path / ".film.scored.mp4.lock", tmp_path / "live.mp4"
    stale.write_text("")
    with _held(live):
        held = tmp_path / ".live.mp4.lock"
        swept = sweep_dead_runs([tmp_path])
        assert held.exists() and stale not in list(tmp_path.iterdir())
        assert swept == [stale]
        fd = os.open(held, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    assert not (tmp_path / ".live.mp4.lock").exists()
