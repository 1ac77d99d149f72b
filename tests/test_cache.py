"""The cache folder (issue 38): a film's reading and its cues' renders are kept by default in the user's
cache folder, bounded in size (least recently used first), data only, and managed with `filmscore cache`;
a second try with another style re-uses the reading, and one with another take renders only what
changed."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import filmscore
from filmscore.cli.main import main
from filmscore.core.cache import KINDS, cache_files, clear, default_cache_dir, mark_used, trim, usage
from filmscore.media.probe import AudioClip
from filmscore.music.symbolic import cue_sounds
from filmscore.music.symbolic.render import SoundFont
from filmscore.music.symbolic.render_cache import (
    HEADER_BYTES,
    entry_path,
    keep_render,
    kept_render,
    render_key,
)
from tests.synthetic import FOUR_MOODS, make_film

NAMES = {
    "analysis": "analysis-{:032x}.npz",
    "shots": "shots-{:032x}.json",
    "render": "render-{:032x}.f32r",
    "check": "check-{:032x}.json",
}
EPOCH = 1_700_000_000


def test_the_user_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "filmscore"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # not absolute: ignored, as XDG says
    assert default_cache_dir() == Path.home() / ".cache" / "filmscore"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "filmscore"


def test_every_kind_of_entry_is_named_as_the_folder_recognises_it(tmp_path):
    from filmscore.core.cache import entry_path as named

    for kind in KINDS:
        path = named(tmp_path, kind, "key of caf\udce9.mp4")  # a path that is not UTF-8 in the key
        path.write_bytes(b"x")
        assert KINDS[kind].match(path.name) and named(tmp_path, kind, "another") != path
    assert sorted(f.kind for f in cache_files(tmp_path)) == sorted(KINDS)


def _entry(folder: Path, kind: str, number: int, size: int, used: int) -> Path:
    path = folder / NAMES[kind].format(number)
    path.write_bytes(b"x" * size)
    os.utime(path, (EPOCH + used, EPOCH + used))
    return path


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 4000), st.integers(0, 10**6)),
        max_size=10,
        unique_by=lambda entry: entry[2],
    ),
    st.integers(0, 25_000),
)
def test_trim_removes_the_least_recently_used_first_and_only_until_within_the_bound(
    tmp_path_factory, entries, bound
):
    folder = tmp_path_factory.mktemp("cache")
    foreign = folder / "my notes.txt"  # a --cache-dir pointed at a folder with other things in it
    foreign.write_bytes(b"y" * 50_000)
    paths = [_entry(folder, kind, i, size, used) for i, (kind, size, used) in enumerate(entries)]
    by_use = sorted(range(len(entries)), key=lambda i: entries[i][2])
    total, expected = sum(size for _, size, _ in entries), []
    for i in by_use:
        if total <= bound:
            break
        expected.append(paths[i])
        total -= entries[i][1]
    assert trim(folder, bound) == expected
    assert sum(p.stat().st_size for p in paths if p.exists()) <= bound
    assert foreign.read_bytes() == b"y" * 50_000


def test_an_entry_read_again_outlives_older_ones(tmp_path):
    older = _entry(tmp_path, "analysis", 1, 100, used=0)
    newer = _entry(tmp_path, "render", 2, 100, used=10)
    mark_used(older)  # a run took the reading from it
    assert trim(tmp_path, 150) == [newer]
    assert older.exists()


def test_clear_and_usage_count_only_filmscores_entries(tmp_path):
    for number, kind in enumerate(("analysis", "shots", "render", "render")):
        _entry(tmp_path, kind, number, 1000, used=number)
    lock = tmp_path / f".shots-{0:032x}.json.lock"  # a lock another run may hold stays
    lock.touch()
    (tmp_path / "render-notours.f32r").write_bytes(b"z")
    models = tmp_path / "models"  # the model store's default home is this folder too (store/models.py)
    models.mkdir()
    (models / f"analysis-{9:032x}.npz").write_bytes(b"weights")
    held = usage(tmp_path)
    assert (held.files, held.bytes) == (4, 4000)
    assert dict((k, (n, b)) for k, n, b in held.by_kind) == {
        "analysis": (1, 1000), "shots": (1, 1000), "render": (2, 2000), "check": (0, 0)
    }  # fmt: skip
    assert clear(tmp_path).files == 4
    assert cache_files(tmp_path) == [] and lock.exists() and (tmp_path / "render-notours.f32r").exists()
    assert (models / f"analysis-{9:032x}.npz").read_bytes() == b"weights"


def _font(tmp_path: Path) -> SoundFont:
    path = tmp_path / "font.sf2"
    path.write_bytes(b"RIFF....sfbk")
    return SoundFont(path, "user")


def _sound(frames: int = 4800) -> AudioClip:
    rng = np.random.default_rng(frames)
    return AudioClip((rng.standard_normal((frames, 2)) * 0.1).astype(np.float32), 48000)


def test_a_render_is_kept_and_read_back_sample_for_sample_under_its_key_only(tmp_path):
    font, sound = _font(tmp_path), _sound()
    key = render_key(b"MThd cue", font, "9.0|48000")
    assert keep_render(tmp_path / "cache", key, sound) == entry_path(tmp_path / "cache", key)
    in_memory = kept_render(tmp_path / "cache", key, None, "copy")
    in_file = kept_render(tmp_path / "cache", key, tmp_path, "copy")
    assert in_memory is not None and in_file is not None
    assert in_memory.samples.tobytes() == sound.samples.tobytes()
    assert in_file.read(0, in_file.frames).tobytes() == sound.samples.tobytes()
    for other in (render_key(b"MThd cue", font, "9.5|48000"), render_key(b"MThd other", font, "9.0|48000")):
        assert kept_render(tmp_path / "cache", other, None, "copy") is None
    font.path.write_bytes(b"RIFF....sfbk, edited")  # the same font's path, another file: rendered anew
    assert render_key(b"MThd cue", font, "9.0|48000") != key


def test_a_planted_truncated_or_unplayable_render_is_a_miss(tmp_path):
    font, sound = _font(tmp_path), _sound(1000)
    key = render_key(b"MThd", font, "r")
    path = keep_render(tmp_path, key, sound)
    assert path is not None
    whole = path.read_bytes()
    path.write_bytes(whole[:-8])  # one frame short
    assert kept_render(tmp_path, key, None, "copy") is None
    loud = np.frombuffer(whole[HEADER_BYTES:], "<f4").copy()
    for bad in (np.nan, np.inf, 1e6):
        loud[5] = bad
        path.write_bytes(whole[:HEADER_BYTES] + loud.tobytes())
        assert kept_render(tmp_path, key, None, "copy") is None
    path.write_bytes(whole.replace(b'"frames": 1000', b'"frames": 999 '))  # a header that lies
    assert kept_render(tmp_path, key, None, "copy") is None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=HEADER_BYTES + 64))
def test_any_bytes_planted_as_a_render_are_a_miss(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("planted")
    key = render_key(b"MThd", SoundFont(Path(__file__), "user"), "r")
    entry_path(folder, key).write_bytes(data)
    assert kept_render(folder, key, None, "copy") is None


def test_a_check_is_kept_under_its_music_and_plan_and_a_planted_one_is_a_miss(tmp_path):
    from filmscore.music.check import CueCheck, MusicCheck
    from filmscore.music.check_cache import check_key, keep_check, kept_check
    from filmscore.music.planning import plan_cues
    from tests.measure import emotions, flat_timeline

    shots = emotions([(3.0, 0.6, 0.6), (3.0, -0.6, -0.5)])
    plan = plan_cues(shots, flat_timeline(shots), 6.0)
    sound = _sound(48000 * 6)
    check = MusicCheck("features", 0.4, (CueCheck(0, 0.6, 0.6, 0.5, 0.4, 0.9, 120.0, "major", 0.2),))
    key = check_key(sound, plan, "features")
    keep_check(tmp_path, key, check)
    assert kept_check(tmp_path, key) == check
    louder = AudioClip(sound.samples * 1.001, 48000)
    assert check_key(louder, plan, "features") != key and check_key(sound, plan, "other") != key
    [entry] = tmp_path.glob("check-*.json")
    for planted in (b"", b"{}", b"[1, 2]", entry.read_bytes().replace(b'"major"', b"7"), b"\xff\xfe"):
        entry.write_bytes(planted)
        assert kept_check(tmp_path, key) is None


def _four_mood_film(tmp_path: Path) -> Path:
    """A phone's 15 fps film with an editor's name, its shots frame-rounded."""
    return make_film(tmp_path / "Director's cut (v3).mov", list(FOUR_MOODS), size=(320, 180), fps=15)


def test_a_second_try_reuses_the_reading_and_renders_only_the_cue_whose_take_changed(tmp_path, monkeypatch):
    film = _four_mood_film(tmp_path)
    readings: list[object] = []
    renders: list[tuple[int, str]] = []  # (cue, take) of each cue rendered, not taken from the cache
    checks: list[object] = []  # each time MER listened to a score
    from filmscore.analysis import cache as analysis_cache
    from filmscore.scoring import run

    real_analyze, real_render, real_cue_sound = (
        analysis_cache.analyze, cue_sounds.render_separately, cue_sounds._cue_sound
    )  # fmt: skip
    rendering = threading.local()

    def analyze(*args, **kwargs):
        readings.append(args)
        return real_analyze(*args, **kwargs)

    def render_separately(*args, **kwargs):
        renders.append(rendering.cue)
        return real_render(*args, **kwargs)

    def cue_sound(cue, *args):
        rendering.cue = (cue.id, cue.take)
        return real_cue_sound(cue, *args)

    real_check = run.check_music

    def check_music(*args, **kwargs):
        checks.append(args)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(analysis_cache, "analyze", analyze)
    monkeypatch.setattr(run, "check_music", check_music)
    monkeypatch.setattr(cue_sounds, "render_separately", render_separately)
    monkeypatch.setattr(cue_sounds, "_cue_sound", cue_sound)

    def score(name: str, **options) -> dict:
        folder = tmp_path / name
        filmscore.score(film, folder / "scored.mov", report_dir=folder / "report", **options)
        return json.loads((folder / "report" / "report.json").read_text())

    first = score("first")
    cues = len(first["cues"])
    assert len(readings) == 1 and sorted(renders) == [(i, "a") for i in range(cues)] and cues >= 3
    assert dict((k, n) for k, n, _ in usage(default_cache_dir()).by_kind)["render"] == cues  # one per cue

    heard = len(checks)
    assert heard >= 1
    again = score("again")  # the same try: nothing read, rendered or listened to again
    assert len(readings) == 1 and len(renders) == cues and len(checks) == heard
    assert again["music_check"] == first["music_check"]

    restyled = score("piano", style="piano")
    assert len(readings) == 1 and restyled["shots"] == first["shots"]  # another style re-uses the reading
    assert len(renders) == 2 * cues  # and renders every cue anew

    cue = first["cues"][1]
    spotting = tmp_path / "takes.csv"
    spotting.write_text(f"start,end,mood,take\n{cue['start_s']:.4f},{cue['end_s']:.4f},auto,b\n")
    before = len(renders)
    retaken = score("take b", spotting=str(spotting), takes=2)  # take b of cue 2, and take b offered
    assert [c["take"] for c in retaken["cues"]] == ["a", "b"] + ["a"] * (cues - 2)
    # Take b of each cue is new (and a cue of it the check re-arranged); take a is all kept.
    assert len(readings) == 1 and {take for _, take in renders[before:]} == {"b"}
    assert {cue for cue, _ in renders[before:]} == set(range(cues))

    before, heard = len(renders), len(checks)
    score("take b again", spotting=str(spotting), takes=2)
    assert len(renders) == before and len(checks) == heard  # all of it kept: nothing made again


def test_no_cache_keeps_nothing_and_a_cache_folder_that_cannot_be_written_costs_nothing(tmp_path, capsys):
    film = _four_mood_film(tmp_path)
    out = ["-q", "-o", str(tmp_path / "a.mov"), "--report-dir", str(tmp_path / "a")]
    assert main(["run", str(film), *out, "--no-cache"]) == 0
    assert not default_cache_dir().exists()
    assert (
        main(["run", str(film), *out, "--no-cache", "--cache-dir", str(tmp_path / "c"), "--overwrite"]) == 2
    )
    assert "--no-cache" in capsys.readouterr().err
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["run", str(film), *out, "--cache-dir", str(locked), "--overwrite"]) == 0
    finally:
        locked.chmod(0o700)
    assert (tmp_path / "a.mov").exists()


def test_analyze_keeps_the_reading_for_run_and_cache_info_and_clear_manage_it(tmp_path, capsys):
    film = _four_mood_film(tmp_path)
    assert main(["analyze", str(film), "-q", "--report-dir", str(tmp_path / "reading")]) == 0
    assert main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    assert str(default_cache_dir()) in shown and "analysis: 1 files" in shown
    assert main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert usage(default_cache_dir()).files == 0
    with pytest.raises(SystemExit):
        main(["cache", "wipe"])
