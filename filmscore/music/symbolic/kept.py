"""Kept cues in a re-cut: the earlier cut's notes for each kept cue, moved to its new time, in place of
what the new plan would write there; and its sound, rendered again exactly as the earlier cut rendered it.

A cue's part of a score is the notes that start within it on its bank of channels (its last chord rings
on past its end), its controls until its tail has faded, its programs, the drum notes and kit changes
that start within it, and the drums' level and room, set once for the whole score. The earlier part is
rendered alone at its earlier time, with the earlier tempo map, so every event falls on the same sample
as it did; then its stretch is placed at the new time.
"""

from __future__ import annotations

from dataclasses import replace

from filmscore.music.planning import Cue, CuePlan
from filmscore.music.symbolic.score import CHANNEL_BANKS, DRUM_CHANNEL, RELEASE_S, Composition, Note

TAIL_S = 3.0  # what a kept cue's sound is taken for past its end: its ringing chord, the release, the room


def bank(cue: Cue) -> tuple[int, ...]:
    """The channels a cue's parts play on (compose.py alternates banks cue by cue)."""
    return CHANNEL_BANKS[cue.id % 2]


def _owns_note(note: Note, cue: Cue) -> bool:
    channels = (*bank(cue), DRUM_CHANNEL)
    return note.channel in channels and cue.start_s - 1e-6 <= note.start_s < cue.end_s - 1e-6


def _until(cue: Cue, plan: CuePlan) -> float:
    """How long the cue's controls reach: its tail, or the next cue on its bank, whichever comes first."""
    later = [c.start_s for c in plan.cues if c.id > cue.id and c.id % 2 == cue.id % 2]
    return min([cue.end_s + TAIL_S, *later]) - 1e-6


def cue_part(composition: Composition, cue: Cue, plan: CuePlan) -> Composition:
    """The cue's own notes, controls and programs, with the whole score's tempo map."""
    channels = bank(cue)
    until = _until(cue, plan)

    def inside(t: float, channel: int) -> bool:
        if channel == DRUM_CHANNEL:
            return cue.start_s - 1e-6 <= t < cue.end_s - 1e-6
        return channel in channels and cue.start_s - 1e-6 <= t <= until

    # The drum channel's level and room are set once, at the start of the score, for every cue.
    drums = [c for c in composition.controls if c.channel == DRUM_CHANNEL and c.t_s < cue.start_s - 1e-6]
    return replace(
        composition,
        notes=tuple(n for n in composition.notes if _owns_note(n, cue)),
        controls=(*drums, *(c for c in composition.controls if inside(c.t_s, c.channel))),
        programs=tuple(p for p in composition.programs if inside(p.t_s, p.channel)),
        markers=(),
    )


def kept_in(plan: CuePlan) -> list[tuple[Cue, Cue]]:
    """Each kept cue of the plan, with the cue it keeps as the earlier plan had it."""
    return [(cue, cue.kept_from.cue) for cue in plan.cues if cue.kept_from is not None]


def earlier_parts(
    earlier: Composition, kept: list[tuple[Cue, Cue]], earlier_plan: CuePlan
) -> list[Composition]:
    """Each kept cue's part of the earlier score, at its earlier time."""
    return [cue_part(earlier, old, earlier_plan) for _, old in kept]


def without_kept(composition: Composition, kept: list[tuple[Cue, Cue]]) -> Composition:
    """The score without the kept cues' notes (their programs and controls stay: they sound nothing
    alone): what is rendered around the kept cues' earlier sound."""
    cues = [cue for cue, _ in kept]
    return replace(
        composition, notes=tuple(n for n in composition.notes if not any(_owns_note(n, c) for c in cues))
    )


def moved_part(part: Composition, earlier: Cue, cue: Cue) -> Composition:
    """An earlier cue's part moved to the kept cue's time and onto its bank of channels."""
    shift = cue.start_s - earlier.start_s
    channel = dict(zip(bank(earlier), bank(cue), strict=True))
    channel[DRUM_CHANNEL] = DRUM_CHANNEL
    return replace(
        part,
        notes=tuple(replace(n, channel=channel[n.channel], start_s=n.start_s + shift, end_s=n.end_s + shift)
                    for n in part.notes),
        controls=tuple(replace(c, channel=channel[c.channel], t_s=c.t_s + shift) for c in part.controls),
        programs=tuple(replace(p, channel=channel[p.channel], t_s=p.t_s + shift) for p in part.programs),
    )  # fmt: skip


def spliced(
    sounding: Composition, plan: CuePlan, kept: list[tuple[Cue, Cue]], parts: list[Composition]
) -> Composition:
    """The score for score.mid: `sounding` (the new score without the kept cues' notes) with each kept
    cue's earlier part moved in, its controls in place of those the new plan wrote there: note for note."""
    moved = [moved_part(part, old, cue) for (cue, old), part in zip(kept, parts, strict=True)]

    def replaced(channel: int, t_s: float) -> bool:
        return any(channel in bank(c) and c.start_s - 1e-6 <= t_s <= _until(c, plan) for c, _ in kept)

    return replace(
        sounding,
        notes=tuple(sorted((*sounding.notes, *(n for m in moved for n in m.notes)), key=lambda n: n.start_s)),
        controls=(*(c for c in sounding.controls if not replaced(c.channel, c.t_s)),
                  *(c for m in moved for c in m.controls)),
        programs=(*sounding.programs, *(p for m in moved for p in m.programs)),
    )  # fmt: skip


def kept_stretch(
    cue: Cue, earlier: Cue, earlier_duration_s: float, duration_s: float, rate: int
) -> tuple[int, int, int]:
    """(first frame in the earlier render, first frame in the new film, frame count) of a kept cue's
    sound: its span and its tail, as far as both films reach."""
    first = round(earlier.start_s * rate)
    length = round((earlier.end_s - earlier.start_s + TAIL_S + RELEASE_S) * rate)
    at = round(cue.start_s * rate)
    length = max(0, min(length, round(earlier_duration_s * rate) - first, round(duration_s * rate) - at))
    return first, at, length
