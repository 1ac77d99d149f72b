"""The parts that carry a cue's energy: a driving low ostinato (the pulse) and brass on the beat.

They enter only above an energy threshold, so a calm cue stays a still pad while a frightened or joyful
one drives. Fear gets a pulse on the tonic and minor third and brass clusters with a flat second; joy
gets octave-leaping roots and bright chords on the beat.
"""

from __future__ import annotations

from filmscore.music.symbolic.frame import Frame
from filmscore.music.symbolic.score import Note
from filmscore.music.symbolic.theory import chord_notes

PULSE_ENERGY = 0.55  # the ostinato enters above this energy: in eighths, in sixteenths above FAST_PULSE
FAST_PULSE = 0.8
MAX_PULSE_RATE = 11.0  # notes a second: faster than this, sixteenths fall back to eighths
BRASS_ENERGY = 0.68  # brass enters above this energy
# The ostinato's cells (semitones over the chord's root, one per note), one drawn by the cue's seed. Fear's
# keep returning to the tonic and its minor third (and a flat second), so the mode stays clear.
CELLS = ((0, 12, 7, 12), (0, 7, 12, 7), (0, 0, 12, 0), (0, 12, 0, 7))
FEAR_CELLS = ((0, 0, 3, 0, 0, 1, 0, 3), (0, 3, 0, 0, 1, 0, 3, 0), (0, 0, 1, 0, 3, 0, 1, 0))


def pulse(frame: Frame) -> list[Note]:
    """An ostinato in the low strings (or the style's pulse instrument): eighths or sixteenths, accented
    on the beat. Fear repeats the tonic with the minor third; other moods leap between root and octave."""
    cue, clock = frame.cue, frame.clock
    if cue.instruments.pulse is None or cue.energy < PULSE_ENERGY:
        return []
    per_beat = 4 if cue.energy >= FAST_PULSE and cue.tempo_bpm / 60 * 4 <= MAX_PULSE_RATE else 2
    notes = []
    for first, count, chord in frame.harmony():
        root = chord_notes(cue.tonic, (0, "min") if frame.fearful else chord, 38)[0]
        cells = FEAR_CELLS if frame.fearful else CELLS
        cell = cells[frame.variant("pulse", len(cells))]
        for step in range(count * per_beat):
            beat = first + step / per_beat
            start = clock.at(beat)
            end = clock.at(beat + 0.6 / per_beat)
            accent = 14 if step % per_beat == 0 else 0
            pitch = root + cell[step % len(cell)]
            notes.append(frame.note("pulse", pitch, cue.velocity - 10 + accent, start, end))
    return notes


def brass(frame: Frame) -> list[Note]:
    """Chords on the beat: for joy a bright, open voicing on beats one and three (and the off-beat before
    three at full energy); for fear a low cluster (tonic, flat second, minor third) struck on each bar."""
    cue, clock = frame.cue, frame.clock
    if cue.instruments.brass is None or cue.energy < BRASS_ENERGY:
        return []
    notes: list[Note] = []
    for first, count, chord in frame.harmony():
        if frame.fearful:
            tonic = 48 + (cue.tonic - 48) % 12
            voicing: tuple[int, ...] = (tonic, tonic + 1, tonic + 3)
            beats = [float(b) for b in range(0, count, cue.meter)]
        else:
            # Root position with the root doubled on top: a fanfare's third must not outweigh its root.
            triad = chord_notes(cue.tonic, chord, 55)[:3]
            voicing = (*triad, triad[0] + 12)
            beats = [float(b) for b in range(0, count, 2)]
            if cue.energy > 0.85:
                beats += [b + 1.5 for b in range(0, count - 2, 4)]
        for beat in beats:
            start = clock.at(first + beat)
            end = clock.at(first + min(float(count), beat + 0.75))
            notes.extend(frame.note("brass", p, cue.velocity + 2, start, end) for p in voicing)
    return notes
