"""Reports the tests write by hand, as report.json holds them: `cue` fills in a cue's every field, and
`typed` checks a plain report against the schema and reads it into the report's types
(filmscore/report/model.py), as `filmscore report` does."""

from __future__ import annotations

from typing import Any

import jsonschema

from filmscore.core.codec import from_plain
from filmscore.report.model import Report
from filmscore.report.schema import report_schema

MINOR_KEYS = {"afraid", "sad", "tense"}


def cue(index: int, start_s: float, end_s: float, mood: str = "calm", **fields: Any) -> dict[str, Any]:
    """A cue of a run's report, every field filled in; `fields` override them."""
    mode = "minor" if mood in MINOR_KEYS else "major"
    return {
        "id": index, "start_s": start_s, "end_s": end_s, "key": f"D {mode}", "mode": mode,
        "tempo_bpm": 96.0, "meter": "4/4", "valence": 0.0, "arousal": 0.0, "mood": mood, "tension": 0.3,
        "density": 2, "energy": 0.5, "style": "orchestral", "instruments": ["strings"], "shots": [0],
        "reading": {"valence": 0.0, "arousal": 0.0, "mood": mood}, "spot": None, "ending": "film end",
        **fields,
    }  # fmt: skip


def film(path: str, duration_s: float, fps: float) -> dict[str, Any]:
    return {"path": path, "duration_s": duration_s, "width": 1920, "height": 1080, "fps": fps,
            "has_audio": True}  # fmt: skip


HEADER = {
    "schema_version": 1,
    "generator": "filmscore (test)",
    "pipeline": "embedded",
    "backends": {"asr": "pocketsphinx", "text_emotion": "lexicon", "visual_emotion": "features",
                 "audio_emotion": "prosody"},
}  # fmt: skip


def typed(plain: dict[str, Any]) -> Report:
    jsonschema.validate(plain, report_schema())
    return from_plain(Report, plain)
