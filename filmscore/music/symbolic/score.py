"""The score as the symbolic composer writes it: notes, controls and program changes on MIDI channels, one
channel per role in two banks, and its split into one stem per instrument group. The composer writes it
(compose.py) and midi.py turns it into a Standard MIDI File.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, replace

ROLES = ("pad", "bass", "accompaniment", "melody", "timpani", "pulse", "brass")
# One channel per role in each bank; channel 9 is GM percussion.
CHANNEL_BANKS = ((0, 1, 2, 3, 4, 5, 6), (7, 8, 10, 11, 12, 13, 14))
DRUM_CHANNEL = 9
RELEASE_S = 0.5  # a typical GM release tail: a note keeps its voice this long after it ends
CC_VOLUME, CC_PAN, CC_EXPRESSION, CC_SUSTAIN, CC_REVERB, CC_CHORUS = 7, 10, 11, 64, 91, 93


WHOLE_SCORE = -1  # the `cue` of what serves every cue (the drums' level and room)


@dataclass(frozen=True)
class Note:
    channel: int
    pitch: int
    velocity: int
    start_s: float
    end_s: float
    cue: int = WHOLE_SCORE  # the cue that wrote it: a cue's part is what it wrote (kept.cue_part)


@dataclass(frozen=True)
class Control:
    channel: int
    number: int
    value: int
    t_s: float
    cue: int = WHOLE_SCORE


@dataclass(frozen=True)
class Program:
    channel: int
    program: int
    t_s: float
    cue: int = WHOLE_SCORE


@dataclass(frozen=True)
class Composition:
    notes: tuple[Note, ...]
    controls: tuple[Control, ...]
    programs: tuple[Program, ...]
    beat_times: tuple[float, ...]  # every beat onset of the whole score, increasing (the tempo map)
    meters: tuple[tuple[float, int], ...]  # (t_s, beats per bar) where the meter is set or changes
    markers: tuple[tuple[float, str], ...]  # (t_s, text): the cues, for a DAW's marker lane
    end_s: float


def without_overlaps(notes: tuple[Note, ...]) -> list[Note]:
    """Shorten a note that would still hold when the same key sounds again on its channel: MIDI cannot
    tell two notes of one key apart, so the first one's note-off would silence the second."""
    result: list[Note] = []
    latest: dict[tuple[int, int], int] = {}
    for note in sorted(notes, key=lambda n: (n.channel, n.pitch, n.start_s)):
        key = (note.channel, note.pitch)
        if key in latest and result[latest[key]].end_s > note.start_s:
            result[latest[key]] = replace(result[latest[key]], end_s=note.start_s)
        latest[key] = len(result)
        result.append(note)
    return result


def programs_in_time(programs: tuple[Program, ...]) -> Callable[[Note], int]:
    """The program a note plays: its channel's latest program change at or before the note (General MIDI's
    program 0 before any)."""
    changes: dict[int, tuple[list[float], list[int]]] = {}
    for change in sorted(programs, key=lambda p: p.t_s):
        times, numbers = changes.setdefault(change.channel, ([], []))
        times.append(change.t_s)
        numbers.append(change.program)

    def program_at(note: Note) -> int:
        times, numbers = changes.get(note.channel, ([], []))
        index = bisect.bisect_right(times, note.start_s) - 1
        return numbers[index] if index >= 0 else 0

    return program_at


def only_channels(composition: Composition, channels: set[int]) -> Composition:
    """The composition with only these channels' notes, programs and controls."""
    return replace(
        composition,
        notes=tuple(n for n in composition.notes if n.channel in channels),
        programs=tuple(p for p in composition.programs if p.channel in channels),
        controls=tuple(c for c in composition.controls if c.channel in channels),
    )


# The stems a score splits into, by role (both banks): the pulse joins the bass, the brass the
# accompaniment, and timpani the drums.
STEM_ROLES = {
    "pad": ("pad",),
    "bass": ("bass", "pulse"),
    "accompaniment": ("accompaniment", "brass"),
    "melody": ("melody",),
    "percussion": ("timpani",),
}


def role_channels(*roles: str) -> tuple[int, ...]:
    """The channels of these roles in both banks."""
    return tuple(bank[ROLES.index(role)] for bank in CHANNEL_BANKS for role in roles)


STEM_CHANNELS = {stem: role_channels(*roles) for stem, roles in STEM_ROLES.items()}
STEM_CHANNELS["percussion"] += (DRUM_CHANNEL,)


def split_roles(composition: Composition) -> dict[str, Composition]:
    """One composition per stem, each with only its own channels' notes, programs and controls."""
    whole = replace(composition, notes=tuple(without_overlaps(composition.notes)))
    return {stem: only_channels(whole, set(channels)) for stem, channels in STEM_CHANNELS.items()}
