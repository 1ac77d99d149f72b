"""Fuzzing the one file filmscore reads back, report.json (for `filmscore report`): whatever it holds,
the command ends with exit 0 or a one-line input error (exit 3), never a crash."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filmscore.cli.main import main
from tests.test_deliverables import make_report

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _run_report(text: str, capsys) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "report.json").write_text(text)
        code = main(["report", folder, "-q"])
    return code, capsys.readouterr().err


def _paths(value, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


BASE = make_report(25.0)
PATHS = [p for p in _paths(BASE) if p]


@FUZZ
@given(st.sampled_from(PATHS), JSON_VALUES)
def test_a_report_with_one_value_replaced_never_crashes(capsys, path, value):
    report = json.loads(json.dumps(BASE))
    holder = report
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    code, err = _run_report(json.dumps(report), capsys)
    assert code in (0, 3), err
    assert "Traceback" not in err and "internal error" not in err


@FUZZ
@given(JSON_VALUES)
def test_any_json_at_all_never_crashes(capsys, value):
    code, err = _run_report(json.dumps(value), capsys)
    assert code in (0, 3), err


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_at_all_never_crash(capsys, data):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "report.json").write_bytes(data)
        code = main(["report", folder, "-q"])
    assert code == 3, capsys.readouterr().err


# Cases the fuzzer's first runs found, kept so they stay fixed.
@pytest.mark.parametrize(
    ("where", "value", "code"),
    [
        (("shots", 0, "start_s"), float("nan"), 3),
        (("input", "duration_s"), float("inf"), 3),
        (("transcript", 0, "start_s"), float("-inf"), 3),
        (("input", "fps"), 1e-300, 0),  # a slide show: time codes count whole seconds
        (("input", "fps"), 1e300, 3),  # past the schema's bound: no film runs at 1000 fps or more
        (("shots", 1, "start_s"), 1e300, 0),
    ],
)
def test_non_finite_and_extreme_numbers(capsys, where, value, code):
    report = json.loads(json.dumps(BASE))
    holder = report
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = value
    assert _run_report(json.dumps(report), capsys)[0] == code
