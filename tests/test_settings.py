"""Settings and pipeline presets: one table read by the flags and the TOML presets, with the flag over the
preset over the default; every bundled preset is valid; any preset file, however broken, is accepted or
refused with a one-line input error (exit 3), never a crash."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filmscore.cli.main import main
from filmscore.config.settings import (
    BUNDLED_PRESETS,
    BY_KEY,
    SETTINGS,
    Preset,
    load_preset,
    parse_preset,
    preset_names,
    resolve,
)
from filmscore.core.errors import EXIT_INPUT, InputError, UsageError
from filmscore.report.schema import report_schema


def test_every_bundled_preset_is_valid_and_described():
    names = preset_names()
    assert {"embedded", "trailer", "documentary"} <= set(names)
    for name in names:
        preset = load_preset(name)
        assert preset.name == name and preset.description


def test_the_embedded_preset_is_the_built_in_defaults():
    preset = load_preset("embedded")
    assert preset.values == {}  # the table's defaults are the embedded pipeline: one home for each
    assert resolve(preset, {}) == {setting.key: setting.default for setting in SETTINGS}
    assert BY_KEY["analysis.asr"].default == "whisper" and BY_KEY["music.generator"].default == "symbolic"


def test_a_flag_beats_the_preset_which_beats_the_default():
    preset = parse_preset(b'[mix]\nduck_db = 6\nloudness = "web"\n', "mine")
    resolved = resolve(preset, {"mix.duck_db": 12.0, "mix.loudness": None})
    assert resolved["mix.duck_db"] == 12.0  # the flag
    assert resolved["mix.loudness"] == "web"  # the preset, as no flag was given
    assert resolved["music.seed"] == 0  # the default
    assert set(resolved) == {s.key for s in SETTINGS}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"[mix\n", "not valid UTF-8 TOML"),
        (b"\xff\xfe", "not valid UTF-8 TOML"),
        (b"[sound]\nvolume = 3\n", "[sound] is not a section"),
        (b"[mix]\nvolume = 3\n", "mix.volume is not a setting; [mix] takes loudness, duck_db"),
        (b'[mix]\nduck_db = "loud"\n', "mix.duck_db must be a number"),
        (b"[mix]\nduck_db = 41\n", "out of range; give 0 to 40"),
        (b"[mix]\nduck_db = nan\n", "finite"),
        (b"[music]\nseed = true\n", "not a true/false value"),
        (b'[mix]\nloudness = "loud"\n', "neither a preset"),
        (b'[analysis]\nasr = "nonesuch"\n', "choose one of pocketsphinx"),
        (b"[cues]\nmin_cue_s = 100\n", "longer than cues.max_cue_s"),
        (b"description = 3\n", "description must be a string"),
        (b"mix = 3\n", "[mix] is not a section"),
        (b"#" * 70_000, "over 64 KiB"),
    ],
)
def test_a_bad_preset_names_its_fault_as_an_input_error(text, words):
    with pytest.raises(InputError, match="pipeline preset mine: ") as caught:
        parse_preset(text, "mine")
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_preset_name_is_a_usage_error_listing_the_choices():
    with pytest.raises(
        UsageError, match="choose one of documentary, embedded, fast-preview, neural, trailer"
    ):
        load_preset("nonesuch")


def test_a_studio_folder_of_presets_is_found_by_name(tmp_path, monkeypatch):
    (tmp_path / "house-style.toml").write_text('description = "ours"\n[mix]\nduck_db = 12\n')
    monkeypatch.setenv("FILMSCORE_PIPELINES", str(tmp_path))
    assert "house-style" in preset_names()
    assert load_preset("house-style").values == {"mix.duck_db": 12.0}


def test_a_bad_preset_stops_the_command_before_any_work(tmp_path, capsys, cuts_film):
    preset = tmp_path / "broken.toml"
    preset.write_text("[mix]\nduck_db = 99\n")
    code = main(["run", str(cuts_film), "--pipeline", str(preset), "-o", str(tmp_path / "out.mp4")])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "mix.duck_db 99 is out of range" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.toml"]


def test_a_run_with_a_preset_follows_it_and_records_it(tmp_path, cuts_film):
    out = tmp_path / "film.scored.mp4"
    assert main(["run", str(cuts_film), "-q", "-o", str(out), "--pipeline", "trailer", "--seed", "3"]) == 0
    report = json.loads((tmp_path / "film.scored.filmscore" / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert report["pipeline"] == "trailer"
    assert report["mix"]["target_lufs"] == -14.0 and report["mix"]["ducking_db"] == 6.0
    assert report["mix"]["speech_cut_db"] == 0.0  # a silent film: no dialogue to make room for
    assert report["music"]["seed"] == 3 and report["music"]["style"] == "trailer"
    assert {c["style"] for c in report["cues"]} == {"trailer"}
    assert all(c["end_s"] - c["start_s"] <= 30.0 + 1e-6 for c in report["cues"])


# Fuzzing: documents built from the real sections and keys, with values of any TOML type, so most examples
# reach the checks behind the parser; and plain bytes, which mostly do not.
TOML_SCALARS = (
    st.integers(-(2**40), 2**40).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(lambda x: _toml_float(x))
    | st.booleans().map(lambda b: "true" if b else "false")
    | st.text(max_size=12).map(json.dumps)
    | st.sampled_from(['"ebu"', '"web"', '"-20"', '"pocketsphinx"', '"content"', '"symbolic"'])
)
TOML_VALUES = TOML_SCALARS | st.lists(TOML_SCALARS, max_size=3).map(lambda xs: f"[{', '.join(xs)}]")
KEYS = st.sampled_from([*BY_KEY, "mix.volume", "analysis.", "x.y"])


def _toml_float(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else repr(x)


def _document(entries: list[tuple[str, str]], description: str | None) -> bytes:
    sections: dict[str, list[str]] = {}
    for key, value in entries:
        section, _, name = key.partition(".")
        sections.setdefault(section, []).append(f"{name or 'x'} = {value}")
    head = f"description = {description}\n" if description is not None else ""
    body = "".join(f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items())
    return (head + body).encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(KEYS, TOML_VALUES), max_size=6), st.none() | TOML_VALUES)
def test_any_preset_document_is_accepted_or_refused_as_an_input_error(entries, description):
    _accepted_or_refused(_document(entries, description))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_a_preset_are_accepted_or_refused_as_an_input_error(data):
    _accepted_or_refused(data)


def _accepted_or_refused(data: bytes) -> None:
    try:
        preset = parse_preset(data, "fuzz")
    except InputError as exc:
        assert str(exc).startswith("pipeline preset fuzz: ") and "\n" not in str(exc)
        return
    assert isinstance(preset, Preset)
    for key, value in preset.values.items():  # what is accepted is typed and in range
        setting = BY_KEY[key]
        assert isinstance(value, setting.kind) and not isinstance(value, bool)
        if setting.low is not None:
            assert setting.low <= value <= setting.high


def test_bundled_presets_folder_is_the_repositorys():
    assert BUNDLED_PRESETS.name == "presets" and (BUNDLED_PRESETS / "embedded.toml").is_file()
