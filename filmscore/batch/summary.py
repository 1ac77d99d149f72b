"""batch.html: the batch at a glance, a row per film with its status, its shots and its emotion."""

from __future__ import annotations

import json
from pathlib import Path

from filmscore.batch.records import Manifest
from filmscore.config.names import REPORT_NAME
from filmscore.core.atomic import OutputSet

SPARK_WIDTH, SPARK_HEIGHT = 240, 40

THUMBS_PER_ROW = 6


def write_summary_html(manifest: Manifest, out_dir: Path) -> Path:
    """batch.html: a row per film with its status, a strip of shot thumbnails and a valence/arousal
    sparkline, linking to the film's own report.html. Paths are relative, so the folder can be moved."""
    import html

    rows = []
    for record in manifest.records.values():
        report_dir = out_dir / record.outputs["report_dir"] if record.outputs.get("report_dir") else None
        name = html.escape(record.relative)
        if report_dir is not None and (report_dir / REPORT_NAME).is_file() and record.status != "failed":
            link = html.escape(f"{record.outputs['report_dir']}/report.html")
            cells = (f'<a href="{link}">{name}</a>', _thumb_strip(report_dir, out_dir),
                     _sparkline(report_dir / REPORT_NAME))  # fmt: skip
        else:
            cells = (name, "", f'<span class="error">{html.escape(record.error or "")}</span>')
        seconds = f"{record.seconds:.1f} s" if record.seconds is not None else ""
        status = html.escape(record.status)
        rows.append(f'<tr class="{status}"><td>{cells[0]}</td><td>{status}</td><td>{seconds}</td>'
                    f"<td>{cells[1]}</td><td>{cells[2]}</td></tr>")  # fmt: skip
    counts = manifest.as_dict()["summary"]
    page = SUMMARY_PAGE.format(
        summary=html.escape(", ".join(f"{n} {s}" for s, n in counts.items())), rows="\n".join(rows)
    )
    with OutputSet() as outputs:
        return outputs.write(out_dir / "batch.html", page.encode())


def _thumb_strip(report_dir: Path, out_dir: Path) -> str:
    import html

    thumbs = sorted((report_dir / "thumbnails").glob("*.jpg"))[:THUMBS_PER_ROW]
    return "".join(f'<img src="{html.escape(t.relative_to(out_dir).as_posix())}" alt="">' for t in thumbs)


def _sparkline(report_json: Path) -> str:
    """Valence (blue) and arousal (red) over the film, each from -1 (bottom) to 1 (top)."""
    try:
        timeline = json.loads(report_json.read_text(encoding="utf-8"))["timeline"]
        points = [(float(p["t_s"]), float(p["valence"]), float(p["arousal"])) for p in timeline]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if len(points) < 2:
        return ""
    end = points[-1][0] or 1.0

    def line(index: int, colour: str) -> str:
        coords = " ".join(
            f"{point[0] / end * SPARK_WIDTH:.1f},{(1 - point[index]) / 2 * SPARK_HEIGHT:.1f}"
            for point in points
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>'

    middle = SPARK_HEIGHT / 2
    return (f'<svg width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" aria-label="valence and arousal">'
            f'<line x1="0" x2="{SPARK_WIDTH}" y1="{middle}" y2="{middle}" stroke="#ccc"/>'
            f'{line(1, "#2b6cb0")}{line(2, "#c53030")}</svg>')  # fmt: skip


SUMMARY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>filmscore batch</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 6px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: middle; }}
img {{ height: 40px; margin-right: 2px; }}
tr.failed td {{ background: #fff5f5; }}
.error {{ color: #c53030; }}
.key span {{ margin-right: 1.5em; }}
</style></head><body>
<h1>filmscore batch</h1>
<p>{summary}</p>
<p class="key"><span style="color:#2b6cb0">&#9473; valence</span><span style="color:#c53030">&#9473;
arousal</span></p>
<table><thead><tr><th>film</th><th>status</th><th>time</th><th>shots</th><th>emotion</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""
