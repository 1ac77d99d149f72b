"""The analysis report: report.json (schema_version 1), built from an Analysis and nothing else."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmscore.analysis.dialogue import lines_by_shot
from filmscore.analysis.flow import Analysis
from filmscore.analysis.fusion import label_for
from filmscore.analysis.thumbnails import picture_hash
from filmscore.config.names import HTML_NAME, REPORT_NAME
from filmscore.core.affect import Affect
from filmscore.core.atomic import OutputSet
from filmscore.core.codec import to_plain
from filmscore.core.errors import InputError
from filmscore.core.version import __version__
from filmscore.core.wording import MAX_VALUE, one_line, utf8
from filmscore.report.editors import build_deliverables, deliverable_names
from filmscore.report.timeline import build_timelines, timeline_names
from filmscore.scoring.recut import FATES

if TYPE_CHECKING:
    from filmscore.music.check import MusicCheck
    from filmscore.music.spotting import Spot, Spotting
    from filmscore.scoring.recut import Recut
    from filmscore.scoring.run import ScoredFilm

SCHEMA_VERSION = 1
THUMBNAIL_FOLDER = "thumbnails"
MAX_THUMBNAIL_BYTES = 4 << 20  # ours are a few KB; anything this big was not written by filmscore
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_REPORT_BYTES = 512 << 20  # a feature film's report is a few MB


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
        "pipeline": analysis.pipeline,
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
                    "envelope_db": list(sound.envelope_db),
                },
                "picture": picture,
                **_thumbnail_entry(analysis, e.shot.index),
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


def write_report(
    analysis: Analysis, report_dir: Path, overwrite: bool = True, spotting: Spotting | None = None
) -> Path:
    """report.json, the thumbnails and the editor deliverables, published together (without `overwrite`,
    not over files that appeared meanwhile). A spotting given is recorded with the reading."""
    report = report_dict(analysis)
    if spotting is not None:
        report["spotting"] = spotting_dict(spotting)
    with OutputSet(overwrite) as outputs:
        stage_report_folder(report, report_dir, outputs, thumbnail_files(analysis))
    return report_dir / REPORT_NAME


def spotting_dict(spotting: Spotting) -> dict[str, Any]:
    """The editor's spotting as read: every spot and hit, with the row it came from."""
    return {
        "source": spotting.source,
        "spots": [_spot_dict(spot) | {"start_s": _r(spot.start_s), "end_s": _r(spot.end_s)}
                  for spot in spotting.spots],
        "hits": [{"t_s": _r(hit.t_s), "row": hit.row} for hit in spotting.hits],
    }  # fmt: skip


def _spot_dict(spot: Spot) -> dict[str, Any]:
    return {"mood": spot.mood, "row": spot.row, "note": spot.note, "style": spot.style,
            "intensity": spot.intensity}  # fmt: skip


def thumbnail_path(index: int) -> str:
    return f"{THUMBNAIL_FOLDER}/shot-{index + 1:04d}.jpg"


def _thumbnail_entry(analysis: Analysis, index: int) -> dict[str, str]:
    """The shot's thumbnail file and its picture hash (hex), which a re-cut matches shots by."""
    jpeg = analysis.thumbnails[index] if index < len(analysis.thumbnails) else b""
    hashed = picture_hash(jpeg) if jpeg else None
    return (
        {
            "thumbnail": thumbnail_path(index),
            **({"picture_hash": f"{hashed:016x}"} if hashed is not None else {}),
        }
        if jpeg
        else {}
    )


def thumbnail_files(analysis: Analysis) -> dict[str, bytes]:
    """The shots' thumbnails by their path in the report folder (shots without one are left out)."""
    return {thumbnail_path(i): jpeg for i, jpeg in enumerate(analysis.thumbnails) if jpeg}


def stage_report_folder(
    report: dict[str, Any], report_dir: Path, outputs: OutputSet, images: dict[str, bytes]
) -> list[Path]:
    """Stage report.json, the thumbnails, every deliverable the report gives, and report.html."""
    written = [outputs.write(report_dir / name, data) for name, data in images.items()]
    files = {REPORT_NAME: json.dumps(report, indent=2, ensure_ascii=False) + "\n"}
    files.update(_pages(report, images, report_dir))
    return written + [outputs.write(report_dir / name, utf8(text)) for name, text in files.items()]


def _pages(report: dict[str, Any], images: dict[str, bytes], report_dir: Path) -> dict[str, str]:
    from filmscore.report.html import report_html

    return {
        **build_deliverables(report),
        **build_timelines(report),
        HTML_NAME: report_html(report, images, report_dir),
    }


def rebuild_report_folder(report_dir: Path) -> list[Path]:
    """Write every deliverable and report.html again from the folder's report.json, running no model."""
    report = read_report(report_dir)
    images = {}
    for shot in report["shots"]:
        if "thumbnail" in shot and (image := _own_thumbnail(report_dir, shot["thumbnail"])) is not None:
            images[shot["thumbnail"]] = image
    with OutputSet() as outputs:
        pages = _pages(report, images, report_dir)
        return [outputs.write(report_dir / name, utf8(text)) for name, text in pages.items()]


def _own_thumbnail(report_dir: Path, name: str) -> bytes | None:
    """A thumbnail the report folder itself holds, or None. A link (to the file or its folder) is not
    followed: the page embeds what it reads, so a planted link would publish whatever it points at."""
    path = report_dir / name
    folder = report_dir.resolve()
    try:
        if path.resolve() != folder / name or not path.is_file() or path.stat().st_size > MAX_THUMBNAIL_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(JPEG_MAGIC) else None


def read_report(report_dir: Path) -> dict[str, Any]:
    """A report folder's report.json, checked against the schema."""
    import jsonschema

    path = report_dir / REPORT_NAME
    if not path.is_file():
        raise InputError(
            f"{report_dir} has no {REPORT_NAME}. Give a folder made by filmscore analyze or run."
        )
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise ValueError(f"it is over {MAX_REPORT_BYTES >> 20} MB")
        report = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_non_finite)
        jsonschema.validate(report, report_schema())
    except (ValueError, RecursionError, OSError) as exc:  # JSON's and UTF-8's errors are ValueErrors
        what = "valid JSON" if isinstance(exc, json.JSONDecodeError) else "a report filmscore wrote"
        raise InputError(
            f"{path} is not {what} ({one_line(str(exc) or type(exc).__name__, MAX_VALUE)}). "
            "Run filmscore analyze or run again."
        ) from None
    except jsonschema.ValidationError as exc:
        where = one_line("/".join(str(p) for p in exc.absolute_path), MAX_VALUE) or "top level"
        raise InputError(
            f"{path} does not match the report schema at {where}: {one_line(exc.message, MAX_VALUE * 2)}."
        ) from None
    return report


def _refuse_non_finite(name: str) -> float:
    """Python's json reads NaN and Infinity, which JSON does not have and no report holds."""
    raise ValueError(f"it holds {name}, which is not a JSON number")


def report_schema() -> dict[str, Any]:
    """The JSON Schema that every report.json satisfies."""
    text = (
        resources.files("filmscore.report").joinpath("schema/report.schema.json").read_text(encoding="utf-8")
    )
    return json.loads(text)


def scored_report_dict(scored: ScoredFilm) -> dict[str, Any]:
    """The analysis report plus what `filmscore run` made: cues, hits, the mix and the files written."""
    report = report_dict(scored.analysis)
    plan = scored.plan
    for shot, cue_id in zip(report["shots"], plan.shot_cues, strict=True):
        shot["cue_id"] = cue_id
    report["cues"] = [
        {
            "id": cue.id,
            "start_s": _r(cue.start_s),
            "end_s": _r(cue.end_s),
            "key": cue.key,
            "mode": cue.mode,
            "tempo_bpm": _r(cue.tempo_bpm),
            "meter": f"{cue.meter}/4",
            "valence": _r(cue.valence),
            "arousal": _r(cue.arousal),
            "mood": cue.mood,
            "tension": _r(cue.tension),
            "density": cue.subdivision,
            "energy": _r(cue.energy),
            "style": cue.style,
            "instruments": list(cue.instruments.names()),
            "shots": list(cue.shot_indices),
            "reading": _reading(cue.read_valence, cue.read_arousal),
            "spot": _spot_dict(cue.spot) if cue.spot is not None else None,
            "ending": cue.ending,
        }
        for cue in plan.cues
    ]
    for cue in report["cues"]:
        cue["excerpts"] = [
            {"track": e.track, "from_s": _r(e.from_s), "to_s": _r(e.to_s), "at_s": _r(e.at_s)}
            for e in scored.music.excerpts
            if e.cue_id == cue["id"]
        ]
    if scored.check is not None:
        _add_music_check(report, scored.check)
    report["hits"] = [
        {"t_s": _r(h.t_s), "strength": _r(h.strength), "shot_index": h.shot_index, "sting": h.sting,
         "spotted": h.spotted}
        for h in plan.hits
    ]  # fmt: skip
    report["silences"] = [{"start_s": _r(start), "end_s": _r(end)} for start, end in plan.silences]
    report["score_plan"] = score_plan(scored)
    if scored.recut is not None:
        _add_recut(report, scored.recut)
    if plan.spotting is not None:
        report["spotting"] = spotting_dict(plan.spotting)
    report["music"] = {"generator": scored.generator, "seed": scored.seed, **scored.music.details}
    report["mix"] = {
        "target_lufs": _r(scored.mix.target_lufs),
        "integrated_lufs": _finite(scored.delivery.integrated_lufs),
        "true_peak_dbtp": _finite(scored.delivery.true_peak_dbtp),
        "ducking_db": _r(scored.mix.ducking_db),
        "speech_cut_db": _r(scored.mix.speech_cut_db),
        "music_gain_db": _r(scored.mix.music_gain_db),
        "limiter_reduction_db": _r(scored.mix.limiter_reduction_db),
    }
    report["outputs"] = {name: str(path) for name, path in scored.outputs.items()}
    return report


def score_plan(scored: ScoredFilm) -> dict[str, Any]:
    """The plan the music was written from, whole, with the seed and the dialogue it was written around:
    what `run --previous` needs to write a kept cue again note for note (core/codec.py reads it back,
    every field checked)."""
    plan = scored.plan
    plain_plan = replace(plan, cues=tuple(replace(cue, kept_from=None) for cue in plan.cues))
    return {
        "seed": scored.seed,
        "speech": [list(span) for span in scored.analysis.transcript.speech_regions],
        "plan": to_plain(plain_plan, []),
    }


def _add_recut(report: dict[str, Any], recut: Recut) -> None:
    """What a re-cut kept: each shot's earlier shot, and what became of each cue."""
    for shot, earlier in zip(report["shots"], recut.shot_matches, strict=True):
        shot["earlier_shot"] = earlier
    for cue, fate, earlier in zip(report["cues"], recut.fates, recut.earlier_cues, strict=True):
        cue["recut"] = {"fate": fate, "earlier_cue": earlier}
    report["recut"] = {
        "earlier": recut.earlier,
        "shots_matched": sum(match is not None for match in recut.shot_matches),
        **{fate: recut.fates.count(fate) for fate in FATES},
    }


def _reading(valence: float, arousal: float) -> dict[str, Any]:
    return {"valence": _r(valence), "arousal": _r(arousal), "mood": label_for(valence, arousal)}


def _add_music_check(report: dict[str, Any], check: MusicCheck) -> None:
    """Each cue's reading by music emotion recognition, and the check's summary."""
    for cue, heard in zip(report["cues"], check.cues, strict=True):
        cue["mer"] = {
            "valence": _r(heard.valence),
            "arousal": _r(heard.arousal),
            "confidence": _r(heard.confidence),
            "tempo_bpm": _r(heard.tempo_bpm),
            "mode": heard.mode,
            "error": _r(heard.error),
            "within_tolerance": not heard.misses(check.tolerance),
        }
    report["music_check"] = {
        "backend": check.backend,
        "tolerance": check.tolerance,
        "mean_error": _r(check.mean_error),
        "cues_within_tolerance": len(check.cues) - len(check.missed),
        "cues": len(check.cues),
        "rearranged_cues": list(check.rearranged),
    }


def _finite(value: float) -> float | None:
    """JSON has no infinity: the loudness of silence is reported as null."""
    return _r(value) if math.isfinite(value) else None


def stage_scored_report(scored: ScoredFilm, report_dir: Path, outputs: OutputSet) -> list[Path]:
    """Stage the run's report.json and deliverables with the run's other outputs."""
    report = scored_report_dict(scored)
    names = [*deliverable_names(report), *timeline_names(report), HTML_NAME]
    report["outputs"].update({name: str(report_dir / name) for name in names})
    return stage_report_folder(report, report_dir, outputs, thumbnail_files(scored.analysis))
