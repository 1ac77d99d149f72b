"""The score as the symbolic composer writes it: notes, controls and program changes on MIDI channels, one
channel per role in two banks, and the ways a score is split to render (pieces of equal work, or one stem
per instrument group). The composer writes it (compose.py) and midi.py turns it into a Standard MIDI File.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

ROLES = ("pad", "bass", "accompaniment", "melody", "timpani")
CHANNEL_BANKS = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 10))  # one channel per role; channel 9 is GM percussion
DRUM_CHANNEL = 9
RELEASE_S = 0.5  # a typical GM release tail: a note keeps its voice this long after it ends
CC_VOLUME, CC_PAN, CC_EXPRESSION, CC_REVERB, CC_CHORUS = 7, 10, 11, 91, 93


@dataclass(frozen=True)
class Note:
    channel: int
    pitch: int
    velocity: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Control:
    channel: int
    number: int
    value: int
    t_s: float


@dataclass(frozen=True)
class Program:
    channel: int
    program: int
    t_s: float


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


def split_notes(composition: Composition, pieces: int) -> list[Composition]:
    """The composition cut into `pieces` runs of consecutive notes (by start time) with about the same
    sounding time each (what a synthesiser's work grows with), each keeping every control and program
    change, so the pieces render separately and sum to the whole. Notes are made overlap-free first, as
    the whole file would be, so a note cut short by its own key's next strike is cut short in its piece
    too."""
    notes = sorted(without_overlaps(composition.notes), key=lambda n: (n.start_s, n.channel, n.pitch))
    work = np.cumsum([n.end_s - n.start_s + RELEASE_S for n in notes]) if notes else np.zeros(0)
    cuts = np.searchsorted(work, np.linspace(0, work[-1] if len(work) else 0, pieces + 1)[1:-1])
    bounds = [0, *cuts.tolist(), len(notes)]
    return [replace(composition, notes=tuple(notes[a:b])) for a, b in itertools.pairwise(bounds)]


# The stems a score splits into, by the roles' channels (both banks); timpani joins the drums.
STEM_CHANNELS = {
    "pad": (0, 5),
    "bass": (1, 6),
    "accompaniment": (2, 7),
    "melody": (3, 8),
    "percussion": (4, 10, DRUM_CHANNEL),
}


def split_roles(composition: Composition) -> dict[str, Composition]:
    """One composition per stem, each with every control and program change and only its own notes."""
    notes = without_overlaps(composition.notes)
    return {
        stem: replace(composition, notes=tuple(n for n in notes if n.channel in channels))
        for stem, channels in STEM_CHANNELS.items()
    }
