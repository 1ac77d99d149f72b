"""report.json is defined once (filmscore/report/model.py): its schema is generated from the types, the
copy users read is that schema, and a report a run wrote reads into the types and writes back to the same
bytes (issue 37)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from filmscore.cli.main import main
from filmscore.config.names import REPORT_NAME
from filmscore.core.codec import OMIT_NONE, REST, DataError, from_plain, to_plain
from filmscore.core.errors import InputError
from filmscore.report.document import read_report
from filmscore.report.model import Report, report_plain
from filmscore.report.schema import SCHEMA_FILE, report_schema, schema_text
from tests.reports import HEADER, cue, film, typed


def _written(report: Report) -> str:
    return json.dumps(report_plain(report), indent=2, ensure_ascii=False) + "\n"


def test_the_schema_file_is_the_schema_the_types_give():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), "run: python -m filmscore.report.schema"


def test_every_object_in_the_schema_refuses_keys_the_types_lack():
    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    found = list(objects(report_schema()))
    assert len(found) > 20
    assert all(node["additionalProperties"] is not True for node in found)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, cuts_film) -> Path:
    folder = tmp_path_factory.mktemp("model")
    film_path = folder / "Director's cut.mp4"
    film_path.write_bytes(cuts_film.read_bytes())
    assert main(["run", str(film_path), "-q"]) == 0
    return folder / "Director's cut.scored.filmscore"


def test_a_run_s_report_reads_into_the_types_and_writes_back_byte_for_byte(run_folder):
    report = read_report(run_folder)
    assert report.cues and report.mix and report.music and report.score_plan and report.outputs
    assert all(shot.cue_id is not None for shot in report.shots)
    assert report.music.details["licence"]  # the generator's own facts, kept among music's keys
    assert _written(report) == (run_folder / REPORT_NAME).read_text(encoding="utf-8")


def test_an_analysis_report_writes_no_run_parts_and_no_shot_cue():
    plain = {
        **HEADER,
        "input": film("/films/a.mov", 4.0, 25.0),
        "shots": [{"index": 0, "start_s": 0.0, "end_s": 4.0, "valence": 0.1, "arousal": 0.2,
                   "label": "neutral", "confidence": 0.5,
                   "sources": {"text": None, "visual": None, "audio": None}, "dialogue": ""}],
        "timeline": [],
        "transcript": [],
    }  # fmt: skip
    report = typed(plain)
    assert report.cues is None and report.shots[0].cue_id is None
    written = json.loads(_written(report))
    assert set(written) == set(plain)  # nothing of a run's
    assert set(written["shots"][0]) == {*plain["shots"][0], "picture"}


def test_a_silent_shot_of_a_run_keeps_its_null_cue():
    plain = {
        **HEADER,
        "input": film("/films/a.mov", 4.0, 25.0),
        "shots": [{"index": 0, "start_s": 0.0, "end_s": 4.0, "valence": 0.1, "arousal": 0.2,
                   "label": "neutral", "confidence": 0.5,
                   "sources": {"text": None, "visual": None, "audio": None}, "cue_id": None}],
        "timeline": [],
        "transcript": [],
        "cues": [cue(0, 0.0, 4.0)],
    }  # fmt: skip
    assert json.loads(_written(typed(plain)))["shots"][0]["cue_id"] is None


def test_a_report_with_a_key_the_types_lack_is_refused_in_one_line(run_folder, tmp_path):
    plain = json.loads((run_folder / REPORT_NAME).read_text(encoding="utf-8"))
    plain["shots"][0]["tempo"] = 120
    (tmp_path / REPORT_NAME).write_text(json.dumps(plain), encoding="utf-8")
    with pytest.raises(InputError, match="shots/0") as caught:
        read_report(tmp_path)
    assert "\n" not in str(caught.value)


@dataclass(frozen=True)
class _Facts:
    name: str
    note: str | None = field(default=None, metadata={OMIT_NONE: True})
    extra: dict[str, str] = field(default_factory=dict, metadata={REST: True})


def test_the_codec_leaves_out_none_and_spreads_the_rest_among_its_keys():
    facts = _Facts("a", None, {"licence": "MIT", "name_of_font": "x"})
    plain = to_plain(facts, [])
    assert plain == {"name": "a", "licence": "MIT", "name_of_font": "x"}
    assert list(plain) == ["name", "licence", "name_of_font"]
    assert from_plain(_Facts, plain) == facts
    assert from_plain(_Facts, {"name": "b", "note": "n"}) == _Facts("b", "n")
    with pytest.raises(DataError):
        from_plain(_Facts, {"name": "b", "licence": 3})  # the rest is typed too
