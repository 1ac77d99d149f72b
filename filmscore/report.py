"""The analysis report: report.json (schema_version 1), built from an Analysis and nothing else."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from filmscore import __version__
from filmscore.affect import Affect
from filmscore.atomic import write_text_atomic
from filmscore.dialogue import lines_by_shot
from filmscore.pipeline import Analysis

SCHEMA_VERSION = 1
REPORT_NAME = "report.json"


def _source(reading: Affect | None) -> dict[str, float] | None:
    if reading is None:
        return None
    return {"valence": _r(reading.valence), "arousal": _r(reading.arousal), "weight": _r(reading.weight)}


def _pad(details: tuple[dict[str, float], ...], count: int) -> tuple[dict[str, float] | None, ...]:
    return details if len(details) == count else (None,) * count


def _r(value: float) -> float:
    return round(float(value), 4)


def report_dict(analysis: Analysis) -> dict[str, Any]:
    info = analysis.info
    dialogue = lines_by_shot(analysis.transcript, analysis.shots)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"filmscore {__version__}",
        "input": {
            "path": str(info.path),
            "duration_s": _r(info.duration_s),
            "width": info.width,
            "height": info.height,
            "fps": _r(info.fps),
            "has_audio": info.has_audio,
            "rotation": info.rotation,
            "variable_frame_rate": info.variable_frame_rate,
        },
        "backends": dict(analysis.backends),
        "shots": [
            {
                "index": e.shot.index,
                "start_s": _r(e.start_s),
                "end_s": _r(e.end_s),
                "valence": _r(e.valence),
                "arousal": _r(e.arousal),
                "label": e.label,
                "confidence": _r(e.confidence),
                "sources": {name: _source(reading) for name, reading in e.sources.items()},
                "dialogue": line,
                "sound": {
                    "level_dbfs": _r(sound.level_dbfs),
                    "speech_s": _r(sound.speech_s),
                    "pitch_hz": None if sound.pitch_hz is None else _r(sound.pitch_hz),
                    "words_per_s": None if sound.words_per_s is None else _r(sound.words_per_s),
                },
                "picture": picture,
            }
            for e, line, sound, picture in zip(
                analysis.emotions,
                dialogue,
                analysis.sounds,
                _pad(analysis.pictures, len(analysis.shots)),
                strict=True,
            )
        ],
        "timeline": [{"t_s": p.t_s, "valence": p.valence, "arousal": p.arousal} for p in analysis.timeline],
        "transcript": [
            {
                "start_s": _r(u.start_s),
                "end_s": _r(u.end_s),
                "text": u.text,
                "words": [
                    {
                        "word": w.word,
                        "start_s": _r(w.start_s),
                        "end_s": _r(w.end_s),
                        "confidence": _r(w.confidence),
                    }
                    for w in u.words
                ],
            }
            for u in analysis.transcript.utterances
        ],
    }


def write_report(analysis: Analysis, report_dir: Path) -> Path:
    target = report_dir / REPORT_NAME
    write_text_atomic(target, json.dumps(report_dict(analysis), indent=2, ensure_ascii=False) + "\n")
    return target


def report_schema() -> dict[str, Any]:
    """The JSON Schema that every report.json satisfies."""
    text = resources.files("filmscore").joinpath("schema/report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
