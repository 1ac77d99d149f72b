"""Files filmscore reads back (the analysis cache, the library index, report.json, presets, thumbnails)
are data that others can write: nothing in them runs, reaches outside its folder, or hangs a command,
and each fault is a clean exit 3 or, for the cache, a fresh analysis."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmscore.analysis.cache import (
    STRUCTURE,
    analysis_from_entry,
    cache_key,
    cached_analysis,
    entry_bytes,
    entry_path,
)
from filmscore.analysis.flow import AnalyzeOptions
from filmscore.config.settings import parse_preset
from filmscore.core.codec import DataError, from_plain
from filmscore.core.errors import InputError
from filmscore.core.progress import Progress
from filmscore.music.generators.library import INDEX_NAME, Track, Window, load_index
from filmscore.report.document import rebuild_report_folder, write_report

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class _Planted:
    """Unpickling this creates a marker file: proof that a cache entry ran as code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _json_entry(document: object) -> bytes:
    return _npz(**{STRUCTURE: np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)})


@pytest.fixture(scope="module")
def entry(cuts_film, analysed):
    """A real analysis, its cache key and its cache entry's bytes."""
    analysis = analysed(cuts_film)
    key = cache_key(cuts_film, AnalyzeOptions())
    return analysis, key, entry_bytes(analysis, key)


def test_a_cache_entry_reads_back_as_the_same_analysis_and_only_under_its_key(entry):
    analysis, key, data = entry
    assert analysis_from_entry(data, key) == analysis
    assert analysis.thumbnails and analysis_from_entry(data, key).thumbnails == analysis.thumbnails
    assert analysis_from_entry(data, key + "x") is None  # another film or other settings


def _hostile_entries(tmp_path: Path, key: str, data: bytes) -> dict[str, bytes]:
    marker = str(tmp_path / "ran-as-code")
    document = json.loads(np.load(io.BytesIO(data))[STRUCTURE].tobytes())
    foreign = {**document, "analysis": {**document["analysis"], "info": {"__class__": "no.such.module"}}}
    return {
        "pickle": pickle.dumps(_Planted(marker)),
        "pickle in npz": _npz(**{STRUCTURE: np.array([_Planted(marker)], dtype=object)}),
        "foreign field": _json_entry(foreign),
        "stale format": _json_entry({**document, "format": "filmscore-analysis/0"}),
        "truncated": data[: len(data) // 2],
        "empty": b"",
    }


def test_a_planted_or_broken_cache_entry_is_ignored_and_the_film_analysed_again(
    tmp_path, cuts_film, entry, monkeypatch
):
    analysis, key, data = entry
    cache = tmp_path / "cache"
    cache.mkdir()
    analysed_again = []

    def fresh(*args, **kwargs):
        analysed_again.append(True)
        return analysis

    monkeypatch.setattr("filmscore.analysis.cache.analyze", fresh)
    for name, hostile in _hostile_entries(tmp_path, key, data).items():
        entry_path(cache, key).write_bytes(hostile)
        analysed_again.clear()
        assert cached_analysis(cuts_film, AnalyzeOptions(), Progress(), cache) == analysis, name
        assert analysed_again, f"{name}: the entry was believed"
        assert not (tmp_path / "ran-as-code").exists(), f"{name}: a cache entry ran as code"
        assert analysis_from_entry(entry_path(cache, key).read_bytes(), key) == analysis  # replaced
    analysed_again.clear()
    cached_analysis(cuts_film, AnalyzeOptions(), Progress(), cache)
    assert not analysed_again  # the good entry is used


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_never_a_cache_entry(data):
    assert analysis_from_entry(data, "k") is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(path=st.lists(st.text(max_size=12), min_size=1, max_size=6), value=_json)
def test_a_cache_entry_with_any_one_value_changed_reads_back_whole_or_not_at_all(entry, path, value):
    analysis, key, data = entry
    document = json.loads(np.load(io.BytesIO(data))[STRUCTURE].tobytes())
    node = document["analysis"]
    for step in path[:-1]:  # walk as far as the fuzzed path leads into the real document
        if isinstance(node, dict) and node:
            node = node[sorted(node)[hash(step) % len(node)]]
        elif isinstance(node, list) and node:
            node = node[hash(step) % len(node)]
    if isinstance(node, dict):
        node[path[-1] if not node else sorted(node)[hash(path[-1]) % len(node)]] = value
    elif isinstance(node, list) and node:
        node[hash(path[-1]) % len(node)] = value
    blobs = np.load(io.BytesIO(data))
    arrays = {name: blobs[name] for name in blobs.files}
    arrays[STRUCTURE] = np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)
    read = analysis_from_entry(_npz(**arrays), key)
    assert read is None or type(read) is type(analysis)


def test_the_codec_checks_every_value_against_its_field():
    good = {"start_s": 0.0, "valence": 0.1, "arousal": -0.2, "confidence": 1}
    assert from_plain(Window, good) == Window(0.0, 0.1, -0.2, 1.0)
    for bad in ({**good, "valence": "0.1"}, {**good, "extra": 1}, {"start_s": 0.0}, [good], None):
        with pytest.raises(DataError):
            from_plain(Window, bad)
    deep: object = 1.0
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(DataError):
        from_plain(tuple[float, ...], deep)


# The library index ------------------------------------------------------------------------------------


def _track(**changes) -> dict:
    track = Track("a.wav", 30.0, 100.0, 9, "minor", -20.0, 10, 0, (0.5, 1.1), (Window(0.0, -0.5, -0.4, 0.8),))
    entry = json.loads(json.dumps(track.__dict__, default=lambda w: w.__dict__))
    return {**entry, **changes}


def _write_index(folder: Path, tracks: list, **extra) -> None:
    (folder / INDEX_NAME).write_text(json.dumps({"version": 1, "tracks": tracks, "skipped": [], **extra}))


@pytest.mark.parametrize(
    ("name", "changes", "words"),
    [
        ("absolute path", {"path": "/etc/passwd"}, "outside the library"),
        ("climbing path", {"path": "../outside.wav"}, "outside the library"),
        ("no windows", {"windows": []}, "no emotion windows"),
        ("string tempo", {"tempo_bpm": "120"}, "tempo_bpm"),
        ("no key", {"tonic": 14}, "no key"),
        ("missing field", {"path": None}, "path"),
    ],
)
def test_a_hostile_library_index_is_refused(tmp_path, name, changes, words):
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.wav").write_bytes(b"RIFF")
    _write_index(library, [_track(**changes)])
    with pytest.raises(InputError, match=words):
        load_index(library)


def test_a_library_track_linked_outside_its_folder_is_refused(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    (library / "a.wav").symlink_to(tmp_path / "secret.wav")
    _write_index(library, [_track()])
    with pytest.raises(InputError, match="links outside"):
        load_index(library)


@FUZZ
@given(document=_json)
def test_any_json_is_a_library_index_or_a_clean_input_error(tmp_path, document):
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    (library / INDEX_NAME).write_text(json.dumps({"version": 1, "tracks": document}))
    try:
        index = load_index(library)
    except InputError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
    else:
        assert all(not Path(t.path).is_absolute() and t.windows for t in index.tracks)


# report.json and its thumbnails ------------------------------------------------------------------------


@pytest.fixture
def report_dir(tmp_path, cuts_film, analysed):
    folder = tmp_path / "report"
    write_report(analysed(cuts_film), folder)
    return folder


def test_report_does_not_follow_a_thumbnail_link_out_of_its_folder(tmp_path, report_dir):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8\xff" + b"TOP-SECRET" * 10)
    first = sorted((report_dir / "thumbnails").iterdir())[0]
    first.unlink()
    first.symlink_to(secret)
    rebuild_report_folder(report_dir)
    page = (report_dir / "report.html").read_text()
    import base64

    assert base64.b64encode(secret.read_bytes())[:20].decode() not in page
    # a linked thumbnails folder is refused the same way
    (report_dir / "thumbnails").rename(tmp_path / "elsewhere")
    (report_dir / "thumbnails").symlink_to(tmp_path / "elsewhere")
    rebuild_report_folder(report_dir)
    assert "data:image/jpeg" not in (report_dir / "report.html").read_text()


def _filmscore(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "filmscore", *args], capture_output=True, text=True, timeout=timeout
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("a duration of 1e13 s", lambda r: r["input"].update(duration_s=1e13)),
        ("a shot index past int64", lambda r: r["shots"][0].update(index=10**30)),
        ("a 60 KB label", lambda r: r["shots"][0].update(label="x" * 60_000)),
        ("nesting 100000 deep", None),
    ],
)
def test_a_hostile_report_json_gives_exit_3_within_seconds(report_dir, name, change):
    path = report_dir / "report.json"
    if change is None:
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        report = json.loads(path.read_text())
        change(report)
        path.write_text(json.dumps(report))
    done, took = _filmscore("report", str(report_dir))
    assert done.returncode == 3, (name, done.stderr)
    assert took < 15 and "Traceback" not in done.stderr
    assert len(done.stderr) < 700 and done.stderr.count("\n") == 1


# presets ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[music]\nseed = " + "[" * 5000 + "]" * 5000,
        "a = " + "{b = " * 3000 + "1" + "}" * 3000,
        "[music]\nstyle = '" + "x" * 60_000 + "'",
    ],
)
def test_a_hostile_preset_is_an_input_error_on_one_short_line(text):
    with pytest.raises(InputError) as caught:
        parse_preset(text.encode(), "hostile.toml")
    assert len(str(caught.value)) < 400


def test_a_deeply_nested_preset_file_gives_exit_3(tmp_path, cuts_film):
    preset = tmp_path / "deep.toml"
    preset.write_text("[music]\nseed = " + "[" * 5000 + "]" * 5000)
    done, took = _filmscore(
        "analyze", str(cuts_film), "--pipeline", str(preset), "--report-dir", str(tmp_path / "r")
    )
    assert done.returncode == 3 and "Traceback" not in done.stderr and took < 30


# messages ---------------------------------------------------------------------------------------------


def test_range_errors_read_as_numbers_a_person_writes(cuts_film):
    done, _ = _filmscore("run", str(cuts_film), "--seed", "99999999999")
    assert done.returncode == 2
    assert "4_294_967_295" in done.stderr and "e+" not in done.stderr


def test_a_free_space_error_names_sizes_in_readable_units(tmp_path, monkeypatch):
    import shutil as shutil_module

    from filmscore.api import preflight
    from filmscore.core.errors import OutputError

    usage = shutil_module.disk_usage(tmp_path)
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda _: usage._replace(free=20_000))
    with pytest.raises(OutputError) as caught:
        preflight.check_free_space(tmp_path, 3_400_000)
    assert "3.4 MB" in str(caught.value) and "20 KB" in str(caught.value)
    assert "0.0 GB" not in str(caught.value)


def test_a_file_name_with_a_line_break_stays_on_one_error_line(tmp_path):
    odd = tmp_path / "two\nlines.mp4"
    odd.write_bytes(b"not a film")
    done, _ = _filmscore("analyze", str(odd))
    assert done.returncode == 3 and done.stderr.count("\n") == 1 and "two\\nlines" in done.stderr


def test_a_cache_entry_is_keyed_by_the_film_s_content_and_the_settings(tmp_path, cuts_film):
    copy = tmp_path / "film.mp4"
    copy.write_bytes(cuts_film.read_bytes())
    before = cache_key(copy, AnalyzeOptions())
    assert cache_key(copy, replace(AnalyzeOptions(), max_duration_s=9.0)) != before
    with copy.open("ab") as stream:
        stream.write(b"\0")
    assert cache_key(copy, AnalyzeOptions()) != before


# the batch manifest ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"items": [{"input": "a.mp4", "relative": "a", "outputs": 5}]},
        {"items": [{"input": "a.mp4", "relative": "../../elsewhere"}]},
        {"items": [{"input": "a.mp4", "relative": "a", "outputs": {"report_dir": "/etc"}}]},
        {"items": [{"input": "a.mp4", "relative": "a", "seconds": "fast"}]},
        [1],
    ],
)
def test_a_hostile_batch_manifest_is_refused_on_one_line(tmp_path, document):
    from filmscore.batch.records import Manifest

    (tmp_path / "batch.json").write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        Manifest.load(tmp_path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 600


@FUZZ
@given(document=_json)
def test_any_json_is_a_batch_manifest_or_a_clean_input_error(tmp_path, document):
    from filmscore.batch.records import Manifest

    (tmp_path / "batch.json").write_text(json.dumps({"items": document}))
    try:
        manifest = Manifest.load(tmp_path)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(".." not in Path(r.relative).parts for r in manifest.records.values())
