"""A report folder: report.json (typed in report/model.py, built in report/build.py), the shots'
thumbnails, the editors' files and report.html, written together; read back and checked; and rebuilt
from report.json alone by `filmscore report`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from filmscore.analysis.flow import Analysis
from filmscore.config.names import HTML_NAME, REPORT_NAME
from filmscore.core.atomic import OutputSet
from filmscore.core.codec import from_plain
from filmscore.core.errors import InputError
from filmscore.core.wording import MAX_VALUE, one_line, utf8
from filmscore.report.build import analysis_report, scored_report, thumbnail_files
from filmscore.report.editors import build_deliverables, deliverable_names
from filmscore.report.model import Report, report_plain
from filmscore.report.schema import report_schema
from filmscore.report.timeline import build_timelines, timeline_names

if TYPE_CHECKING:
    from filmscore.music.spotting import Spotting
    from filmscore.scoring.run import ScoredFilm

MAX_THUMBNAIL_BYTES = 4 << 20  # ours are a few KB; anything this big was not written by filmscore
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_REPORT_BYTES = 512 << 20  # a feature film's report is a few MB


def write_report(
    analysis: Analysis, report_dir: Path, overwrite: bool = True, spotting: Spotting | None = None
) -> Path:
    """report.json, the thumbnails and the editor deliverables, published together (without `overwrite`,
    not over files that appeared meanwhile). A spotting given is recorded with the reading."""
    with OutputSet(overwrite) as outputs:
        stage_report_folder(
            analysis_report(analysis, spotting), report_dir, outputs, thumbnail_files(analysis)
        )
    return report_dir / REPORT_NAME


def stage_report_folder(
    report: Report, report_dir: Path, outputs: OutputSet, images: dict[str, bytes]
) -> list[Path]:
    """Stage report.json, the thumbnails, every deliverable the report gives, and report.html."""
    written = [outputs.write(report_dir / name, data) for name, data in images.items()]
    files = {REPORT_NAME: report_text(report)}
    files.update(_pages(report, images, report_dir))
    return written + [outputs.write(report_dir / name, utf8(text)) for name, text in files.items()]


def _pages(report: Report, images: dict[str, bytes], report_dir: Path) -> dict[str, str]:
    from filmscore.report.html import report_html

    return {
        **build_deliverables(report),
        **build_timelines(report),
        HTML_NAME: report_html(report, images, report_dir),
    }


def report_text(report: Report) -> str:
    """report.json's text."""
    return json.dumps(report_plain(report), indent=2, ensure_ascii=False) + "\n"


def rebuild_report_folder(report_dir: Path) -> list[Path]:
    """Write every deliverable and report.html again from the folder's report.json, running no model. A
    folder moved since it was written (with the film beside it, or alone) has its paths moved with it:
    report.json is written again too, and the timelines link the files where they are now."""
    read = read_report(report_dir)
    report = repointed(read, report_dir)
    images = {}
    for shot in report.shots:
        if shot.thumbnail is not None and (image := _own_thumbnail(report_dir, shot.thumbnail)) is not None:
            images[shot.thumbnail] = image
    with OutputSet() as outputs:
        pages = _pages(report, images, report_dir)
        if report != read:
            pages = {
                REPORT_NAME: json.dumps(report_plain(report), indent=2, ensure_ascii=False) + "\n",
                **pages,
            }
        return [outputs.write(report_dir / name, utf8(text)) for name, text in pages.items()]


def repointed(report: Report, report_dir: Path) -> Report:
    """The report with the paths of a folder that has moved moved with it: the files it wrote inside the
    folder are where the folder is now; the film and the scored film beside it are where they now lie
    beside it, where they are there. Unmoved, or from a report that names no report.json, as it was."""
    outputs = report.outputs or {}
    if "report" not in outputs:
        return report
    was = Path(outputs["report"]).parent
    now = report_dir.absolute()
    if was == now:
        return report

    def moved(path: str) -> str:
        old = Path(path)
        if old.is_relative_to(was):
            return str(now / old.relative_to(was))
        if old.is_relative_to(was.parent) and (now.parent / old.relative_to(was.parent)).exists():
            return str(now.parent / old.relative_to(was.parent))
        return path

    film = replace(report.input, path=moved(report.input.path))
    return replace(report, input=film, outputs={name: moved(path) for name, path in outputs.items()})


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


def read_report(report_dir: Path) -> Report:
    """A report folder's report.json, checked against the schema and read into its types."""
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
        return from_plain(Report, report)
    # JSON's, UTF-8's and the codec's errors (a value the types refuse) are ValueErrors
    except (ValueError, RecursionError, OSError) as exc:
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


def _refuse_non_finite(name: str) -> float:
    """Python's json reads NaN and Infinity, which JSON does not have and no report holds."""
    raise ValueError(f"it holds {name}, which is not a JSON number")


def stage_scored_report(scored: ScoredFilm, report_dir: Path, outputs: OutputSet) -> list[Path]:
    """Stage the run's report.json and deliverables with the run's other outputs."""
    report = scored_report(scored, scored.outputs)
    names = [*deliverable_names(report), *timeline_names(report), HTML_NAME]
    written = {**(report.outputs or {}), **{name: str(report_dir / name) for name in names}}
    return stage_report_folder(
        replace(report, outputs=written), report_dir, outputs, thumbnail_files(scored.analysis)
    )
