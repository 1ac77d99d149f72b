"""Kept cues in a re-cut: the earlier cut's notes for each kept cue, moved to its new time, in place of
what the new plan would write there; and its sound, rendered again exactly as the earlier cut rendered it.

A cue's part of a score is what the cue wrote: its notes (its last chord rings on past its end, and a roll
into its downbeat starts before it), its controls (the fade of its tail), its programs and drum kit; with
the drums' level and room, set once for the whole score. The earlier part is
rendered alone as every cue is (music/symbolic/cue_sounds.py), from the same beat of the earlier tempo
map, so every event falls on the same sample as it did; then its sound is placed at the new time.
"""

from __future__ import annotations

from dataclasses import replace

from filmscore.music.planning import Cue, CuePlan
from filmscore.music.symbolic.score import (
    CHANNEL_BANKS,
    DRUM_CHANNEL,
    WHOLE_SCORE,
    Composition,
    Control,
    Note,
    Program,
)


def bank(cue: Cue) -> tuple[int, ...]:
    """The channels a cue's parts play on (compose.py alternates banks cue by cue)."""
    return CHANNEL_BANKS[cue.id % 2]


def cue_part(composition: Composition, cue: Cue) -> Composition:
    """What the cue wrote (each note, control and program carries its cue) and what serves every cue,
    with the whole score's tempo map."""

    def ours(item: Note | Control | Program) -> bool:
        return item.cue in (cue.id, WHOLE_SCORE)

    return replace(
        composition,
        notes=tuple(n for n in composition.notes if n.cue == cue.id),
        controls=tuple(c for c in composition.controls if ours(c)),
        programs=tuple(p for p in composition.programs if ours(p)),
        markers=(),
    )


def kept_in(plan: CuePlan) -> list[tuple[Cue, Cue]]:
    """Each kept cue of the plan, with the cue it keeps as the earlier plan had it."""
    return [(cue, cue.kept_from.cue) for cue in plan.cues if cue.kept_from is not None]


def earlier_parts(earlier: Composition, kept: list[tuple[Cue, Cue]]) -> list[Composition]:
    """Each kept cue's part of the earlier score, at its earlier time."""
    return [cue_part(earlier, old) for _, old in kept]


def without_kept(composition: Composition, kept: list[tuple[Cue, Cue]]) -> Composition:
    """The score without the kept cues' notes (their programs and controls stay: they sound nothing
    alone): what is rendered around the kept cues' earlier sound."""
    ids = {cue.id for cue, _ in kept}
    return replace(composition, notes=tuple(n for n in composition.notes if n.cue not in ids))


def moved_part(part: Composition, earlier: Cue, cue: Cue) -> Composition:
    """An earlier cue's part moved to the kept cue's time and onto its bank of channels."""
    shift = cue.start_s - earlier.start_s
    channel = dict(zip(bank(earlier), bank(cue), strict=True))
    channel[DRUM_CHANNEL] = DRUM_CHANNEL
    own = cue.id
    return replace(
        part,
        notes=tuple(replace(n, channel=channel[n.channel], start_s=n.start_s + shift, end_s=n.end_s + shift,
                            cue=own) for n in part.notes),
        controls=tuple(replace(c, channel=channel[c.channel], t_s=c.t_s + shift, cue=own)
                       for c in part.controls if c.cue != WHOLE_SCORE),
        programs=tuple(replace(p, channel=channel[p.channel], t_s=p.t_s + shift, cue=own)
                       for p in part.programs if p.cue != WHOLE_SCORE),
    )  # fmt: skip


def spliced(sounding: Composition, kept: list[tuple[Cue, Cue]], parts: list[Composition]) -> Composition:
    """The score for score.mid: `sounding` (the new score without the kept cues' notes) with each kept
    cue's earlier part moved in, its controls in place of those the new plan wrote there: note for note."""
    moved = [moved_part(part, old, cue) for (cue, old), part in zip(kept, parts, strict=True)]

    ids = {cue.id for cue, _ in kept}
    return replace(
        sounding,
        notes=tuple(sorted((*sounding.notes, *(n for m in moved for n in m.notes)), key=lambda n: n.start_s)),
        controls=(*(c for c in sounding.controls if c.cue not in ids),
                  *(c for m in moved for c in m.controls)),
        programs=(*(p for p in sounding.programs if p.cue not in ids),
                  *(p for m in moved for p in m.programs)),
    )  # fmt: skip
