"""What every part of the symbolic composer writes against: a cue's beat clock, its chords, the channel of
each role, and the notes and controls written so far."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from filmscore.music.planning import Cue
from filmscore.music.symbolic.score import Control, Note, Program
from filmscore.music.symbolic.theory import Chord

TENSE = 0.4  # tension above which the arrangement turns to pedal, ostinato and low strings


def drawn(seed: int, figure: str, count: int) -> int:
    """One of `count` choices for a figure, drawn from the seed: each figure draws apart from the others,
    so two seeds that agree on one figure mostly differ on the next."""
    digest = hashlib.sha256(f"{seed}|{figure}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % count


@dataclass
class Parts:
    """The score as it is written, cue after cue."""

    notes: list[Note] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)


class Clock:
    """Converts a cue's beat positions (fractional) to seconds along its fitted beat grid."""

    def __init__(self, cue: Cue) -> None:
        self.times = np.asarray(cue.beat_times)
        self.beats = len(self.times) - 1

    def at(self, beat: float) -> float:
        return float(np.interp(beat, np.arange(self.beats + 1), self.times))


@dataclass(frozen=True)
class Frame:
    """A cue's harmonic frame: its beat clock, the chord over each span of beats, and its channels."""

    cue: Cue
    clock: Clock
    spans: tuple[tuple[int, int], ...]  # (first beat, beat count) of each chord
    chords: tuple[Chord, ...]
    channels: dict[str, int]  # the MIDI channel of each role
    seed: int = 0  # the cue's seed (its take's): it chooses among the arrangement's figures (`variant`)

    def harmony(self) -> Iterator[tuple[int, int, Chord]]:
        """(first beat, beat count, chord) of each span."""
        for (first, count), chord in zip(self.spans, self.chords, strict=True):
            yield first, count, chord

    def chord_at(self, beat: int) -> Chord:
        for first, count, chord in self.harmony():
            if first <= beat < first + count:
                return chord
        return self.chords[-1]

    def variant(self, figure: str, count: int) -> int:
        """Which of `count` versions of a figure (an arpeggio's order, an ostinato's cell) the cue plays:
        drawn from its seed, so another seed or take changes the arrangement, not only the theme."""
        return drawn(self.seed, figure, count)

    @property
    def fearful(self) -> bool:
        return self.cue.tension > TENSE

    def note(self, role: str, pitch: int, velocity: float, start_s: float, end_s: float) -> Note:
        """A note of a role, its pitch and velocity clamped to MIDI's range."""
        # min/max on Python ints: numpy's clip on a scalar cost a score of 60 s 0.04 s
        velocity = min(127, max(1, round(float(velocity))))
        pitch = min(127, max(0, int(pitch)))  # the MIDI file is written without mido's range checks
        return Note(self.channels[role], pitch, velocity, start_s, end_s, self.cue.id)
