"""The spotting editor in report.html: an editor sets a shot's mood from its row, or a range's (in and out
as seconds or time codes, or taken from the player), marks a range as no music or a frame as a hit, picks
a take of each cue in the cue list (html.py plays them side by side), and downloads the spotting CSV that
`--spotting` reads. It runs in the page alone: no server, nothing fetched.

It starts from the spotting the report followed, if any, so a second pass edits the first. A range
replaces what it overlaps, so the file it writes never has overlapping rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filmscore.core.affect import Mood
from filmscore.core.codec import to_plain
from filmscore.core.timecode import timecode_rate
from filmscore.report.model import Report, Shot

SHOT_CHOICES = ("", *(m.value for m in Mood), "none")  # "": as the film reads
RANGE_CHOICES = (*(m.value for m in Mood), "auto", "none", "hit")

SPOTTING_SCRIPT = """
(() => {
const data = JSON.parse(document.getElementById('spotting-data').textContent);
const $ = id => document.getElementById(id);
let spots = data.spots.map(s => ({start: s.start_s, end: s.end_s, mood: s.mood, style: s.style || '',
  intensity: s.intensity ?? '', note: s.note || ''}));
let hits = data.hits.map(h => h.t_s);
let takes = data.takes.map(t => ({start: t.start_s, end: t.end_s, take: t.take}));
const frame = 1 / data.rate;
function parseTime(text) {
  text = text.trim();
  const code = text.match(/^(\\d+):(\\d+):(\\d+)[:;](\\d+)$/);
  if (code) {
    const [h, m, s, f] = code.slice(1).map(Number);
    return ((h * 3600 + m * 60 + s) * Math.round(data.rate) + f) / data.rate;
  }
  return /^\\d+(\\.\\d+)?$/.test(text) ? Number(text) : NaN;
}
function clock(t) {
  const nominal = Math.max(1, Math.round(data.rate)), frames = Math.round(t * data.rate);
  const total = Math.floor(frames / nominal), two = n => String(n).padStart(2, '0');
  return `${two(Math.floor(total / 3600))}:${two(Math.floor(total / 60) % 60)}:${two(total % 60)}:` +
    two(frames % nominal);
}
function place(start, end, mood, note) {
  const kept = [];
  for (const s of spots) {
    if (s.end <= start || s.start >= end) { kept.push(s); continue; }
    if (s.start < start) kept.push({...s, end: start});
    if (s.end > end) kept.push({...s, start: end});
  }
  if (mood) kept.push({start, end, mood, style: '', intensity: '', note: note || ''});
  spots = kept.sort((a, b) => a.start - b.start);
  if (mood === 'none') hits = hits.filter(t => t < start || t >= end);
  render();
}
function csv() {
  // A text a spreadsheet would take for a formula starts with an apostrophe (the reader takes it off).
  const safe = v => /^[=+\\-@\\t\\r]/.test(String(v)) && isNaN(Number(v)) ? "'" + String(v) : String(v);
  const cell = v => /[",\\r\\n]/.test(safe(v)) ? '"' + safe(v).replace(/"/g, '""') + '"' : safe(v);
  const rows = ['start,end,mood,style,intensity,note,take'];
  for (const s of spots) {
    const values = [s.start.toFixed(4), s.end.toFixed(4), s.mood, s.style, s.intensity, s.note, ''];
    rows.push(values.map(cell).join(','));
  }
  for (const t of hits) rows.push(`${t.toFixed(4)},,hit,,,,`);
  // A take's row places nothing: the cue over its middle plays the take.
  for (const t of takes) rows.push(`${t.start.toFixed(4)},${t.end.toFixed(4)},auto,,,,${t.take}`);
  return rows.join('\\n') + '\\n';
}
function render() {
  const body = document.querySelector('#spots tbody');
  body.textContent = '';
  const entries = [...spots, ...hits.map(t => ({start: t, end: null, mood: 'hit', note: ''}))]
    .sort((a, b) => a.start - b.start);
  for (const entry of entries) {
    const row = body.insertRow();
    const out = entry.end === null ? '' : clock(entry.end);
    for (const text of [clock(entry.start), out, entry.mood, entry.note]) row.insertCell().textContent = text;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'spot-remove';
    remove.textContent = 'remove';
    remove.addEventListener('click', () => {
      if (entry.end === null) hits = hits.filter(t => t !== entry.start);
      else spots = spots.filter(s => s !== entry);
      render();
    });
    row.insertCell().append(remove);
  }
  document.querySelectorAll('select.shot-mood').forEach(select => {
    const from = Number(select.dataset.start), to = Number(select.dataset.end);
    const covering = spots.find(s => s.start <= from + 1e-6 && s.end >= to - 1e-6);
    select.value = covering && [...select.options].some(o => o.value === covering.mood) ? covering.mood : '';
  });
  $('spot-download').href = 'data:text/csv;charset=utf-8,' + encodeURIComponent(csv());
  $('spot-count').textContent = `${spots.length} ranges, ${hits.length} hits, ${takes.length} takes chosen`;
  document.querySelectorAll('input.take').forEach(input => {
    const middle = (Number(input.dataset.in) + Number(input.dataset.out)) / 2;
    const chosen = takes.find(t => t.start <= middle && middle < t.end);
    if (chosen) input.checked = input.value === chosen.take;
  });
}
document.querySelectorAll('input.take, label.take, audio').forEach(el =>
  el.addEventListener('click', event => event.stopPropagation()));
document.querySelectorAll('input.take').forEach(input => input.addEventListener('change', () => {
  const start = Number(input.dataset.in), end = Number(input.dataset.out), middle = (start + end) / 2;
  takes = takes.filter(t => !(t.start <= middle && middle < t.end));
  takes.push({start, end, take: input.value});
  takes.sort((a, b) => a.start - b.start);
  render();
}));
document.querySelectorAll('select.shot-mood').forEach(select => {
  select.addEventListener('click', event => event.stopPropagation());
  select.addEventListener('change', () =>
    place(Number(select.dataset.start), Number(select.dataset.end), select.value, ''));
});
$('spot-add').addEventListener('click', () => {
  const start = parseTime($('spot-in').value), end = parseTime($('spot-out').value);
  const mood = $('spot-mood').value, error = $('spot-error');
  if (!(start >= 0 && start <= data.duration + frame)) {
    error.textContent = 'Give the in as seconds or HH:MM:SS:FF, within the film.';
    return;
  }
  if (mood === 'hit') {
    hits = [...hits.filter(t => t !== start), start].sort((a, b) => a - b);
    error.textContent = '';
    render();
    return;
  }
  if (!(end > start && end <= data.duration + frame)) {
    error.textContent = 'Give an out after the in, within the film.';
    return;
  }
  error.textContent = '';
  place(start, Math.min(end, data.duration), mood, $('spot-note').value);
});
for (const side of ['in', 'out']) {
  $(`spot-${side}-now`).addEventListener('click', () => {
    const player = document.getElementById('player');
    if (player) $(`spot-${side}`).value = clock(player.currentTime);
  });
}
render();
})();
"""


def spotting_section(report: Report, escape: Any) -> str:
    """The editor's controls, its list of ranges and hits, the download link, and the data it starts
    from. `escape` is the page's HTML escaper."""
    film = Path(report.input.path)
    options = "".join(f'<option value="{m}">{m}</option>' for m in RANGE_CHOICES)
    return "\n".join([
        "<h2>Spotting</h2>",
        '<p class="facts">Set a shot\'s mood in its row, or a range\'s here; then download the CSV and '
        f"run <code>filmscore run {escape(film.name)} --spotting {escape(film.stem)}.csv</code>. "
        "Time you leave unspotted is scored as the film reads; a take picked in the cue list is kept.</p>",
        '<div id="spot-form">in <input id="spot-in" size="12" placeholder="00:00:00:00">'
        '<button type="button" id="spot-in-now" title="the player\'s time">now</button> '
        'out <input id="spot-out" size="12" placeholder="seconds or time code">'
        '<button type="button" id="spot-out-now" title="the player\'s time">now</button> '
        f'<select id="spot-mood">{options}</select> '
        'note <input id="spot-note" size="24"> <button type="button" id="spot-add">add</button> '
        '<span id="spot-error" class="spotted"></span></div>',
        '<table id="spots"><thead><tr><th>in</th><th>out</th><th>mood</th><th>note</th><th></th></tr>'
        "</thead><tbody></tbody></table>",
        f'<p><a id="spot-download" download="{escape(film.stem)}.csv" href="#">download the spotting '
        'CSV</a> <span id="spot-count" class="spotted"></span></p>',
        f'<script type="application/json" id="spotting-data">{_data(report)}</script>',
    ])  # fmt: skip


def shot_mood_cell(shot: Shot) -> str:
    """A shot row's mood chooser: as the film reads it, a mood, or no music."""
    names = {"": "as read"}
    options = "".join(f'<option value="{m}">{names.get(m, m)}</option>' for m in SHOT_CHOICES)
    return (
        f'<td><select class="shot-mood" data-start="{shot.start_s}" data-end="{shot.end_s}" '
        f'aria-label="mood of shot {shot.index + 1}">{options}</select></td>'
    )


def _data(report: Report) -> str:
    """What the editor starts from, as JSON safe inside a script element."""
    spotting = report.spotting
    data = {
        "rate": timecode_rate(report.input.fps),
        "duration": report.input.duration_s,
        "spots": to_plain(spotting.spots if spotting else (), []),
        "hits": to_plain(spotting.hits if spotting else (), []),
        "takes": to_plain(spotting.takes if spotting else (), []),
    }
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
