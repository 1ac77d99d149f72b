"""An earlier cut's report folder, read for `run --previous`: its shots (times, picture hashes, sound
envelopes and readings) and the score it was written from (report.json's score_plan), each value checked
as it is read (core/codec.py), and the plan checked for sense before anything is written from it."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from filmscore.analysis.shot_match import ShotPrint, ShotReading
from filmscore.core.affect import Affect
from filmscore.core.codec import DataError, from_plain
from filmscore.core.errors import InputError
from filmscore.core.wording import MAX_VALUE, one_line
from filmscore.music.generators import EarlierScore
from filmscore.music.planning import (
    DYNAMICS_STEP_S,
    FASTEST_BPM,
    SHORTEST_CUE_S,
    SLOWEST_BPM,
    Cue,
    CuePlan,
)
from filmscore.music.styles import STYLES
from filmscore.report.document import read_report
from filmscore.report.model import ScorePlan, Shot
from filmscore.scoring.recut import EarlierCut, EarlierShot

MAX_METER = 12
# What an earlier score may hold, in proportion to its film: a plan filmscore wrote stays far inside these,
# and one past them (planted, or edited by hand) would cost unbounded time to read or write again.
MOST_HITS_PER_S = 8.0
MOST_SPEECH_PER_S = 4.0


def earlier_cut(folder: Path) -> EarlierCut:
    """The earlier cut in a report folder written by `filmscore run`, or an InputError (exit 3)."""
    report = read_report(folder)
    where = one_line(str(folder), MAX_VALUE)
    score = report.score_plan
    if score is None:
        raise InputError(
            f"{where} holds no score: it was written by filmscore analyze, or before re-cuts kept music. "
            "Give the report folder of a filmscore run."
        )
    try:
        check_sizes(score, report.input.duration_s)
        plan = from_plain(CuePlan, score.plan)
        check_plan(plan)
        shots = tuple(_earlier_shot(shot) for shot in report.shots)
        if len(shots) != len(plan.shot_cues) or any(s.index != k for k, s in enumerate(shots)):
            raise ValueError("its shots and its plan disagree")
    except (DataError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{where}: its score cannot be read back ({one_line(str(exc), MAX_VALUE)}). "
            "Run the earlier cut again with filmscore run."
        ) from None
    return EarlierCut(folder, shots, EarlierScore(plan, score.speech, score.seed))


def check_sizes(score: ScorePlan, film_s: float) -> None:
    """Before the plan is read into the score's types: a plan as long as its film, and no more cues,
    beats, dynamics points, hits or lines than a film that long can have. Raises ValueError."""
    plan = score.plan
    duration = plan.get("duration_s")
    if not isinstance(duration, int | float) or not 0 < duration <= film_s + 1.0:
        raise ValueError("its length is not its film's")
    cues = plan.get("cues")
    if not isinstance(cues, list) or len(cues) > duration / SHORTEST_CUE_S + 1:
        raise ValueError("it has more cues than its film has room for")
    for position, cue in enumerate(cues):
        span = _span_of(cue)
        beats, points = _length_of(cue, "beat_times"), _length_of(cue, "dynamics")
        if beats > span * FASTEST_BPM / 60 + 2 or points > span / DYNAMICS_STEP_S + 2:
            raise ValueError(f"cue {position + 1} has more beats or dynamics than its length holds")
    if _length_of(plan, "hits") > duration * MOST_HITS_PER_S + 1:
        raise ValueError("it has more hits than its film has room for")
    if len(score.speech) > film_s * MOST_SPEECH_PER_S + 1:
        raise ValueError("it has more lines than its film has room for")


def _span_of(cue: object) -> float:
    if not isinstance(cue, dict):
        raise ValueError("a cue is not one")
    start, end = cue.get("start_s"), cue.get("end_s")
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        raise ValueError("a cue has no span")
    return max(0.0, float(end) - float(start))


def _length_of(holder: dict[str, Any], name: str) -> int:
    value = holder.get(name, [])
    return len(value) if isinstance(value, list) else 0


def check_plan(plan: CuePlan) -> None:
    """A plan the composer can write: every cue in order and in the film, with a beat grid inside it and
    its musical values in range. Raises ValueError naming the first fault."""
    if not plan.cues:
        raise ValueError("it has no cues")
    for position, cue in enumerate(plan.cues):
        problem = _cue_problem(cue, plan.duration_s, alone=len(plan.cues) == 1)
        if cue.id != position:
            problem = "cue ids are out of order"
        if problem:
            raise ValueError(f"cue {position + 1}: {problem}")


def _cue_problem(cue: Cue, duration_s: float, alone: bool) -> str | None:
    beats = cue.beat_times
    if len(beats) < 2:
        return "its beats make no sense"
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    instruments = [cue.instruments.pad, cue.instruments.bass, cue.instruments.accompaniment,
                   cue.instruments.melody, cue.instruments.pulse, cue.instruments.brass]  # fmt: skip
    checks = [
        (0 <= cue.start_s < cue.end_s <= duration_s + 1e-3, "its span is outside the film"),
        (alone or cue.end_s - cue.start_s >= SHORTEST_CUE_S - 1e-3, "its length"),
        (all(60 / FASTEST_BPM - 1e-3 <= gap <= 60 / SLOWEST_BPM + 1e-3 for gap in gaps), "its beats"),
        (abs(beats[0] - cue.start_s) < 1e-3 and abs(beats[-1] - cue.end_s) < 1e-3, "its beats' span"),
        (0 <= cue.tonic < 12 and cue.mode in ("major", "minor"), "its key"),
        (1 <= cue.meter <= MAX_METER and cue.subdivision in (1, 2, 4), "its meter or density"),
        (1 <= cue.velocity <= 127 and -1 <= cue.register <= 1, "its velocity or register"),
        (0 < cue.articulation <= 1 and 0 <= cue.energy <= 1 and 0 <= cue.tension <= 1, "its values"),
        (cue.style in STYLES, "its style"),
        (all(p is None or 0 <= p <= 127 for p in instruments), "its instruments"),
        (all(0 <= level <= 1 for _, level in cue.dynamics), "its dynamics"),
    ]
    return next((f"{what} make no sense" for ok, what in checks if not ok), None)


def _earlier_shot(shot: Shot) -> EarlierShot:
    hashed = shot.picture_hash
    sources = {
        name: None if value is None else Affect(value.valence, value.arousal, value.weight)
        for name in ("text", "visual", "audio")
        for value in [getattr(shot.sources, name)]
    }
    envelope = shot.sound.envelope_db if shot.sound else ()
    return EarlierShot(
        index=shot.index,
        start_s=shot.start_s,
        end_s=shot.end_s,
        print=ShotPrint(int(hashed, 16) if hashed else None, envelope, shot.end_s - shot.start_s),
        reading=ShotReading(shot.valence, shot.arousal, shot.confidence, shot.label, sources),
    )
