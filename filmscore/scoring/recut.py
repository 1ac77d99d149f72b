"""Re-cuts: the film is an earlier cut edited again, so what the editor approved then stays.

Each shot is matched to the earlier cut's by content, never by time: its thumbnail's picture hash and
its sound's level envelope (analysis/shot_match.py), both of which a re-encode keeps. A matched shot
keeps its earlier reading. An earlier cue whose shots all came back, in the same order and at the same
lengths, is kept note for note at its new time (music/planning/types.KeptCue); everything else is scored anew
around it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path

from filmscore.analysis.flow import Analysis
from filmscore.analysis.fusion import FusionOptions
from filmscore.analysis.shot_match import (
    ShotPrint,
    ShotReading,
    distance,
    same_length,
    shot_prints,
    with_readings,
)
from filmscore.music.generators import EarlierScore
from filmscore.music.planning import Cue, CuePlan, KeptCue
from filmscore.music.spotting import Spotting

KEPT, MOVED, CHANGED, NEW = "kept", "moved", "changed", "new"
FATES = (KEPT, MOVED, CHANGED, NEW)


@dataclass(frozen=True)
class EarlierShot:
    index: int
    start_s: float
    end_s: float
    print: ShotPrint  # what it is recognised by
    reading: ShotReading


@dataclass(frozen=True)
class EarlierCut:
    """What a run needs of an earlier cut's report folder."""

    folder: Path
    shots: tuple[EarlierShot, ...]
    score: EarlierScore


@dataclass(frozen=True)
class Recut:
    """What a re-cut kept, for the report."""

    earlier: str  # the earlier cut's report folder
    shot_matches: tuple[int | None, ...]  # each shot's earlier shot, or None
    fates: tuple[str, ...]  # each cue's: KEPT (as it was, where it was), MOVED, CHANGED or NEW
    earlier_cues: tuple[int | None, ...]  # each cue's earlier cue, where it is kept


def match_shots(analysis: Analysis, earlier: EarlierCut) -> tuple[int | None, ...]:
    """Each shot's earlier shot, by picture and sound (analysis/shot_match.py); one to one, the closest
    pairs first. Where two pairs are as close (the same picture twice), the one nearer its earlier place
    in the film wins."""
    pairs = []
    prints = shot_prints(analysis)
    count, earlier_count = len(prints), len(earlier.shots)
    frame_s = 1.0 / max(analysis.info.fps, 1.0)
    for j, new in enumerate(prints):
        for old in earlier.shots:
            apart = distance(new, old.print, frame_s)
            if apart is not None:
                place = abs(j / max(count, 1) - old.index / max(earlier_count, 1))
                pairs.append((apart + 0.01 * place, j, old.index))
    matches: list[int | None] = [None] * count
    taken: set[int] = set()
    for _, j, i in sorted(pairs):
        if matches[j] is None and i not in taken:
            matches[j] = i
            taken.add(i)
    return tuple(matches)


def with_earlier_readings(
    analysis: Analysis, earlier: EarlierCut, matches: tuple[int | None, ...], fusion: FusionOptions
) -> Analysis:
    """The analysis with each matched shot's earlier reading (not a trimmed one's: its lines may be cut),
    and the timeline smoothed from them."""
    frame_s = 1.0 / max(analysis.info.fps, 1.0)
    readings = {
        j: earlier.shots[i].reading
        for j, i in enumerate(matches)
        if i is not None
        and same_length(analysis.shots[j].duration_s, earlier.shots[i].print.duration_s, frame_s)
    }
    return with_readings(analysis, readings, fusion)


def kept_cues(
    analysis: Analysis,
    earlier: EarlierCut,
    matches: tuple[int | None, ...],
    spotting: Spotting | None = None,
) -> tuple[KeptCue, ...]:
    """The earlier cues to keep: every shot of the cue came back, in order, at its length (within a
    frame), and the cue began and ended on its shots' cuts. One the spotting now places differently (a
    spot over it with another mood, or silence) is not kept."""
    frame_s = 1.0 / max(analysis.info.fps, 1.0)
    now = {i: j for j, i in enumerate(matches) if i is not None}
    plan = earlier.score.plan
    kept = []
    for cue in plan.cues:
        shots = [now.get(i) for i in cue.shot_indices]
        if any(j is None for j in shots):
            continue
        new = tuple(j for j in shots if j is not None)
        if not _same_run(cue, new, analysis, earlier, frame_s):
            continue
        shift = analysis.shots[new[0]].start_s - earlier.shots[cue.shot_indices[0]].start_s
        candidate = KeptCue(_unkept(cue), _hits_in(plan, cue), new, round(shift, 6))
        if _spotting_agrees(candidate, spotting):
            kept.append(candidate)
    return tuple(kept)


def _same_run(
    cue: Cue, new: tuple[int, ...], analysis: Analysis, earlier: EarlierCut, frame_s: float
) -> bool:
    old = [earlier.shots[i] for i in cue.shot_indices]
    consecutive = all(b == a + 1 for a, b in itertools.pairwise(new))
    lengths = all(
        same_length(analysis.shots[j].duration_s, o.print.duration_s, frame_s)
        for j, o in zip(new, old, strict=True)
    )
    bounds = abs(cue.start_s - old[0].start_s) <= frame_s and abs(cue.end_s - old[-1].end_s) <= frame_s
    return consecutive and lengths and bounds


def _unkept(cue: Cue) -> Cue:
    """The cue without its own history: it is kept from the cut before, not from the one before that."""
    return replace(cue, kept_from=None)


def _hits_in(plan: CuePlan, cue: Cue) -> tuple:
    return tuple(hit for hit in plan.hits if cue.start_s <= hit.t_s < cue.end_s)


def _spotting_agrees(kept: KeptCue, spotting: Spotting | None) -> bool:
    """Whether the spotting leaves the kept cue as it was: no spot over it with another mood, and no
    other take chosen for it."""
    if spotting is None:
        return True
    over = [s for s in spotting.spots if s.end_s > kept.start_s + 1e-6 and s.start_s < kept.end_s - 1e-6]
    was = kept.cue.spot.mood if kept.cue.spot is not None else None
    take = spotting.take_at((kept.start_s + kept.end_s) / 2)
    same_take = take is None or take == kept.cue.take
    return same_take and all(s.mood == was or (s.mood == "auto" and was in (None, "auto")) for s in over)


def recut_of(plan: CuePlan, earlier: EarlierCut, matches: tuple[int | None, ...], frame_s: float) -> Recut:
    """What became of each cue: kept where it was, moved, changed (some of its shots are the earlier
    cut's) or new."""
    fates: list[str] = []
    sources: list[int | None] = []
    for cue in plan.cues:
        kept = cue.kept_from
        if kept is not None:
            fates.append(KEPT if abs(kept.shift_s) < frame_s / 2 else MOVED)
            sources.append(kept.cue.id)
        else:
            fates.append(CHANGED if any(matches[i] is not None for i in cue.shot_indices) else NEW)
            sources.append(None)
    return Recut(str(earlier.folder), matches, tuple(fates), tuple(sources))
