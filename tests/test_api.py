"""The public API (docs/api.md): every example there runs as it is written, the settings have the command
line's names, and errors are the project's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import filmscore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), flags=re.S)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{k + 1}" for k in range(len(EXAMPLES))])
def test_each_example_in_the_api_docs_runs_as_written(example, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(example, "docs/api.md", "exec"), {"__name__": "docs_api"})


def test_the_front_door_names_the_promised_api():
    assert set(filmscore.__all__) >= {"analyze", "score", "read_report", "FilmscoreError", "InputError"}
    for name in filmscore.__all__:
        assert getattr(filmscore, name) is not None


def test_the_settings_are_named_as_on_the_command_line():
    from filmscore.cli.parser import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for name in filmscore.option_names():
        assert f"--{name.replace('_', '-')}" in help_text


@pytest.mark.parametrize(
    ("options", "words"),
    [({"colour": "blue"}, "there is no option 'colour'"), ({"style": "piano"}, "a setting of the music"),
     ({"analysis_width": 5}, "analysis")],
)  # fmt: skip
def test_a_bad_setting_is_a_usage_error_before_any_work(options, words):
    with pytest.raises(filmscore.UsageError, match=words):
        filmscore.analyze("sample_media/demo.mp4", **options)


def test_a_missing_film_is_an_input_error_with_exit_code_3(tmp_path):
    with pytest.raises(filmscore.InputError) as refused:
        filmscore.score(tmp_path / "nothing here.mp4")
    assert refused.value.exit_code == 3
