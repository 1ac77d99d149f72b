"""report.html: one self-contained page (inline CSS, JavaScript, SVG and images; nothing fetched) that
shows an editor the film's emotion: the valence/arousal plot with shots and cues, a row per shot with its
thumbnail and sources, the cue list, the mix figures, a player that seeks to a shot when its row or
band is clicked, and the spotting editor (spotting_editor.py). Built from report.json and the thumbnails
alone.
"""

from __future__ import annotations

import base64
import html
import math
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filmscore.config.names import cue_file, take_file
from filmscore.core.affect import Mood
from filmscore.core.timecode import timecode
from filmscore.core.wording import printable
from filmscore.report.model import Cue, Heard, Mix, Recut, Report, Shot
from filmscore.report.spotting_editor import SPOTTING_SCRIPT, shot_mood_cell, spotting_section

PLOT_WIDTH, PLOT_HEIGHT = 1000, 240
PLOT_TOP = 22  # the cue strip sits above the curves
LABEL_COLOURS: dict[str, str] = {  # by mood
    Mood.JOYFUL: "#e0b000",
    Mood.CALM: "#2e9e5b",
    Mood.SAD: "#3b6fd1",
    Mood.TENSE: "#e07020",
    Mood.AFRAID: "#b01818",
    Mood.NEUTRAL: "#8a8a8a",
}
VALENCE_COLOUR, AROUSAL_COLOUR = "#6a3dcf", "#e07000"

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header,main{max-width:1100px;margin:auto;padding:12px 20px}
h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:20px 0 8px}
.facts{color:#555}.facts span{margin-right:16px}
svg{background:#fff;border:1px solid #ddd;width:100%;height:auto}
.band{cursor:pointer}.band:hover{fill-opacity:.25}
video{width:100%;max-height:360px;background:#000}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
tr.shot{cursor:pointer}tr.shot:hover{background:#f4f0ff}tr.playing{background:#ffe9c7}
.chip{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-size:12px}
.spotted{font-size:12px;color:#555}
#spot-form{margin:6px 0}#spot-form input,#spot-form select{margin:0 4px}#spot-error{color:#b01818}
.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.src{font-size:12px;color:#555;white-space:nowrap}
img{width:120px;display:block;border-radius:3px}
.takes{display:flex;gap:18px;flex-wrap:wrap}
.takes label{font-size:12px;display:flex;align-items:center;gap:6px}.takes audio{width:240px;height:32px}
tr.takes-row td{border-top:none;padding-top:0}
.legend span{margin-right:14px}.swatch{display:inline-block;width:18px;height:3px;vertical-align:middle}
"""

SCRIPT = """
const video = document.getElementById('player');
function seek(t) {
  if (!video) return;
  video.currentTime = t;
  const playing = video.play();
  if (playing) playing.catch(() => {});
}
document.querySelectorAll('[data-start]').forEach(el =>
  el.addEventListener('click', () => seek(parseFloat(el.dataset.start))));
if (video) {
  const rows = [...document.querySelectorAll('tr.shot')];
  video.addEventListener('timeupdate', () => {
    const t = video.currentTime;
    rows.forEach(r => r.classList.toggle('playing',
      t >= parseFloat(r.dataset.start) && t < parseFloat(r.dataset.end)));
  });
}
"""


def report_html(report: Report, images: Mapping[str, bytes], folder: Path) -> str:
    """The page. `images` holds the thumbnails by their path in the report folder; `folder` is where the
    page will live, so the player can point at the film relative to it."""
    title = f"{Path(report.input.path).name}: filmscore report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>{_facts(report)}</header><main>",
        _player(report, images, folder),
        "<h2>Emotion over time</h2>",
        _plot(report),
        _legend(),
        *(_cues_table(report, report.cues) if report.cues else []),
        *(_mix(report.mix) if report.mix else []),
        spotting_section(report, _e),
        "<h2>Shots</h2>",
        _shots_table(report, images),
        f"</main><script>{SCRIPT}{SPOTTING_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: Any) -> str:
    return html.escape(printable(str(value)), quote=True)


def _facts(report: Report) -> str:
    film = report.input
    facts = [
        f"{film.duration_s:.1f} s",
        f"{film.width}x{film.height}",
        f"{film.fps:g} fps",
        f"{len(report.shots)} shots",
        f"{len(report.transcript)} lines of dialogue",
        "backends: " + ", ".join(f"{k} {v}" for k, v in report.backends.items()),
    ]
    return '<div class="facts">' + "".join(f"<span>{_e(f)}</span>" for f in facts) + "</div>"


def _player(report: Report, images: Mapping[str, bytes], folder: Path) -> str:
    """A player for the scored film (or the input, after analyze), addressed relative to the page, with
    the first shot's thumbnail as its poster."""
    target = (report.outputs or {}).get("video") or report.input.path
    source = os.path.relpath(target, folder.resolve()) if os.path.isabs(target) else target
    first = images.get(report.shots[0].thumbnail or "")
    poster = f' poster="data:image/jpeg;base64,{base64.b64encode(first).decode("ascii")}"' if first else ""
    return f'<video id="player" controls preload="metadata"{poster} src="{_e(_url(Path(source)))}"></video>'


def _url(path: Path) -> str:
    """A relative path as a URL: `#`, `%`, `?` and spaces in a file name would otherwise end or change it
    (a film named "take #2.mp4" played "take ")."""
    return urllib.parse.quote_from_bytes(os.fsencode(path.as_posix()), safe="/")


def _x(t: float, duration: float) -> float:
    return round(PLOT_WIDTH * t / max(duration, 1e-9), 2)


def _y(value: float) -> float:
    """Map -1 .. 1 onto the plot area below the cue strip."""
    return round(PLOT_TOP + (PLOT_HEIGHT - PLOT_TOP - 6) * (1 - value) / 2 + 3, 2)


def _plot(report: Report) -> str:
    duration = report.input.duration_s
    elements = [
        f'<svg id="plot" viewBox="0 0 {PLOT_WIDTH} {PLOT_HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg" role="img">',
        "<title>valence and arousal over time, with shots and cues</title>",
    ]
    for shot in report.shots:
        x0, x1 = _x(shot.start_s, duration), _x(shot.end_s, duration)
        fill = "#000" if shot.index % 2 else "#fff"
        elements.append(
            f'<rect class="band" data-start="{shot.start_s}" x="{x0}" y="{PLOT_TOP}" '
            f'width="{max(x1 - x0, 0.5)}" height="{PLOT_HEIGHT - PLOT_TOP}" fill="{fill}" '
            'fill-opacity="0.05">'
            f"<title>Shot {shot.index + 1}: {_e(shot.label)}</title></rect>"
        )
    for cue in report.cues or ():
        x0, x1 = _x(cue.start_s, duration), _x(cue.end_s, duration)
        colour = LABEL_COLOURS.get(cue.mood, "#888")
        elements.append(
            f'<rect x="{x0}" y="2" width="{max(x1 - x0 - 1, 0.5)}" height="{PLOT_TOP - 6}" fill="{colour}" '
            f'fill-opacity="0.7"><title>Cue {cue.id + 1}: {_e(cue.key)}</title></rect>'
            f'<text x="{x0 + 4}" y="{PLOT_TOP - 9}" font-size="11" fill="#fff">Cue {cue.id + 1}: '
            f"{_e(cue.key)}</text>"
        )
    for silence in report.silences or ():
        x0, x1 = _x(silence.start_s, duration), _x(silence.end_s, duration)
        elements.append(
            f'<rect class="silence" x="{x0}" y="2" width="{max(x1 - x0 - 1, 0.5)}" height="{PLOT_TOP - 6}" '
            'fill="#ccc"><title>no music (spotted)</title></rect>'
            f'<text x="{x0 + 4}" y="{PLOT_TOP - 9}" font-size="11" fill="#555">no music</text>'
        )
    elements.append(
        f'<line x1="0" x2="{PLOT_WIDTH}" y1="{_y(0)}" y2="{_y(0)}" stroke="#bbb" stroke-dasharray="4 4"/>'
    )
    for axis, colour in (("valence", VALENCE_COLOUR), ("arousal", AROUSAL_COLOUR)):
        points = " ".join(f"{_x(p.t_s, duration)},{_y(getattr(p, axis))}" for p in report.timeline)
        elements.append(
            f'<polyline class="{axis}" points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
    for hit in report.hits or ():
        x = _x(hit.t_s, duration)
        triangle = f"M{x - 5},{PLOT_HEIGHT} L{x + 5},{PLOT_HEIGHT} L{x},{PLOT_HEIGHT - 9} Z"
        sting = hit.sting
        colour = LABEL_COLOURS.get(sting, "#444") if sting else "#444"
        title = f"{_e(sting)} sting" if sting else "hit"
        elements.append(
            f'<path d="{triangle}" fill="{colour}"><title>{title} at {hit.t_s:.2f} s</title></path>'
        )
    elements += _time_ticks(duration)
    elements.append(f'<text x="4" y="{_y(1) + 10}" font-size="10" fill="#777">+1</text>')
    elements.append(f'<text x="4" y="{_y(-1) - 2}" font-size="10" fill="#777">-1</text>')
    elements.append("</svg>")
    return "\n".join(elements)


TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)


def _time_ticks(duration: float) -> list[str]:
    """At most ten labelled ticks along the bottom, at a round step (1 s up to 30 min, then hours)."""
    # Past the table, whole hours: a step found from the duration, so no duration makes many ticks.
    step = next((s for s in TICK_STEPS_S if duration / s <= 10), 3600 * math.ceil(duration / 36000))
    ticks = []
    for k in range(1, int(duration // step) + 1):
        x = _x(k * step, duration)
        label = f"{k * step // 60}:{k * step % 60:02d}" if duration >= 120 else f"{k * step} s"
        ticks.append(f'<line x1="{x}" x2="{x}" y1="{PLOT_HEIGHT - 4}" y2="{PLOT_HEIGHT}" stroke="#999"/>')
        ticks.append(f'<text x="{x + 2}" y="{PLOT_HEIGHT - 12}" font-size="10" fill="#777">{label}</text>')
    return ticks


def _legend() -> str:
    keys = [("valence", VALENCE_COLOUR), ("arousal", AROUSAL_COLOUR)]
    spans = [f'<span><i class="swatch" style="background:{c}"></i> {n}</span>' for n, c in keys]
    spans += [f'<span class="chip" style="background:{c}">{n}</span>' for n, c in LABEL_COLOURS.items()]
    return '<p class="legend">' + "".join(spans) + " Click a shot band or row to play from there.</p>"


def _chip(label: str) -> str:
    return f'<span class="chip" style="background:{LABEL_COLOURS.get(label, "#888")}">{_e(label)}</span>'


def _sources(shot: Shot) -> str:
    lines = []
    for name in ("text", "visual", "audio"):
        source = getattr(shot.sources, name)
        reading = "—" if source is None else f"v {source.valence:+.2f} a {source.arousal:+.2f}"
        lines.append(f"{name}: {reading}")
    return '<div class="src">' + "<br>".join(_e(line) for line in lines) + "</div>"


def _thumbnail(shot: Shot, images: Mapping[str, bytes]) -> str:
    data = images.get(shot.thumbnail or "")
    if not data:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="shot {shot.index + 1}" src="data:image/jpeg;base64,{encoded}">'


def _shots_table(report: Report, images: Mapping[str, bytes]) -> str:
    fps = report.input.fps
    rows = [
        '<table id="shots"><thead><tr><th></th><th>#</th><th>time code</th><th>label</th><th>valence</th>'
        "<th>arousal</th><th>confidence</th><th>sources</th><th>dialogue</th><th>score it</th></tr></thead>"
        "<tbody>"
    ]
    for shot in report.shots:
        rows.append(
            f'<tr class="shot" data-start="{shot.start_s}" data-end="{shot.end_s}">'
            f"<td>{_thumbnail(shot, images)}</td><td>{shot.index + 1}</td>"
            f'<td class="num">{timecode(shot.start_s, fps)}<br>{timecode(shot.end_s, fps)}</td>'
            f'<td>{_chip(shot.label)}</td><td class="num">{shot.valence:+.2f}</td>'
            f'<td class="num">{shot.arousal:+.2f}</td><td class="num">{shot.confidence:.2f}</td>'
            f"<td>{_sources(shot)}</td><td>{_e(shot.dialogue)}</td>{shot_mood_cell(shot)}</tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _cues_table(report: Report, cues: tuple[Cue, ...]) -> list[str]:
    fps = report.input.fps
    plays = any(cue.excerpts for cue in cues)  # recordings, with the library generator
    offers = any(cue.takes for cue in cues)  # other takes to choose from, with --takes
    recut = report.recut
    rows = [
        "<h2>Cues</h2>",
        *([_recut_facts(recut)] if recut else []),
        '<table id="cues"><thead><tr><th>cue</th><th>in</th><th>out</th><th>key</th><th>tempo</th>'
        "<th>meter</th><th>mood</th><th>style: instruments</th><th>target v / a</th><th>heard v / a</th>"
        f"{'<th>plays</th>' if plays else ''}{'<th>re-cut</th>' if recut else ''}</tr></thead><tbody>",
    ]
    columns = 10 + plays + bool(recut)
    for cue in cues:
        recordings = "; ".join(e.track for e in cue.excerpts)
        rows.append(
            f'<tr data-start="{cue.start_s}"><td>{cue.id + 1}</td>'
            f'<td class="num">{timecode(cue.start_s, fps)}</td>'
            f'<td class="num">{timecode(cue.end_s, fps)}</td>'
            f'<td>{_e(cue.key)}{_key_reason(cue)}</td><td class="num">{cue.tempo_bpm:.0f} bpm</td>'
            f"<td>{_e(cue.meter)}</td><td>{_cue_mood(cue)}</td>"
            f"<td>{_e(cue.style)}: {_e(', '.join(cue.instruments))}</td>"
            f'<td class="num">{cue.valence:+.2f} / {cue.arousal:+.2f}</td>{_heard(cue.mer)}'
            f"{f'<td>{_e(recordings)}</td>' if plays else ''}{_fate(cue) if recut else ''}</tr>"
        )
        if offers:
            rows.append(f'<tr class="takes-row"><td></td><td colspan="{columns - 1}">{_takes(cue)}</td></tr>')
    rows.append("</tbody></table>")
    return rows


def _takes(cue: Cue) -> str:
    """The cue's takes side by side, each with its player and a choice: the one in the film (its own
    file) and the others (--takes). Choosing one writes it into the spotting CSV's take column."""
    files = {cue.take: cue_file(cue.id), **{t.take: take_file(cue.id, t.take) for t in cue.takes}}
    choices = []
    for take in sorted(files, key=lambda t: (t.isdigit(), t)):
        chosen = " checked" if take == cue.take else ""
        film = " (in the film)" if take == cue.take else ""
        choices.append(
            f'<label class="take"><input type="radio" class="take" name="take-{cue.id}" value="{_e(take)}" '
            f'data-in="{cue.start_s}" data-out="{cue.end_s}"{chosen}> take {_e(take)}{film}'
            f'<audio controls preload="none" src="{_e(_url(Path(files[take])))}"></audio></label>'
        )
    return f'<div class="takes">{"".join(choices)}</div>'


def _recut_facts(recut: Recut) -> str:
    counts = ", ".join(f"{getattr(recut, fate)} {fate}" for fate in ("kept", "moved", "changed", "new"))
    return (
        f'<p class="facts" id="recut">A re-cut of {_e(recut.earlier)}: {recut.shots_matched} shots '
        f"matched; cues {_e(counts)}. Kept and moved cues play the earlier cut's music note for note.</p>"
    )


def _fate(cue: Cue) -> str:
    earlier = cue.recut.earlier_cue if cue.recut else None
    where = f" (earlier cue {earlier + 1})" if earlier is not None else ""
    return f'<td class="fate">{_e(cue.recut.fate if cue.recut else "")}{_e(where)}</td>'


def _cue_mood(cue: Cue) -> str:
    """The cue's mood; where the spotting set it, marked so, with the film's own reading beside it."""
    chip = _chip(cue.mood)
    spot = cue.spot
    if spot is None or spot.mood == "auto":
        return chip
    note = f' title="{_e(spot.note)}"' if spot.note else ""
    return f'{chip} <span class="spotted"{note}>spotted; read as</span> {_chip(cue.reading.mood)}'


def _key_reason(cue: Cue) -> str:
    """Why the cue is in its key, under it (reports from before the palette say nothing)."""
    return f'<div class="spotted">{_e(cue.key_reason)}</div>' if cue.key_reason else ""


def _heard(heard: Heard | None) -> str:
    """The cue as music emotion recognition heard it, marked when it missed its target."""
    if heard is None:
        return '<td class="heard">not checked</td>'
    verdict = "within tolerance" if heard.within_tolerance else "missed"
    return (
        f'<td class="num heard" title="error {heard.error:.2f}, confidence {heard.confidence:.2f}">'
        f"{heard.valence:+.2f} / {heard.arousal:+.2f} ({verdict})</td>"
    )


def _mix(mix: Mix) -> list[str]:
    loudness = "—" if mix.integrated_lufs is None else f"{mix.integrated_lufs:.1f} LUFS"
    peak = "—" if mix.true_peak_dbtp is None else f"{mix.true_peak_dbtp:.1f} dBTP"
    facts = [
        f"target {mix.target_lufs:.1f} LUFS",
        f"measured {loudness}",
        f"true peak {peak}",
        f"music ducked {mix.ducking_db:.0f} dB under dialogue"
        + (f", {mix.speech_cut_db:.0f} dB more at 2 kHz" if mix.speech_cut_db else ""),
    ]
    return [
        "<h2>Mix</h2>",
        '<div class="facts" id="mix">' + "".join(f"<span>{_e(f)}</span>" for f in facts) + "</div>",
    ]
