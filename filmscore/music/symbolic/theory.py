"""Music theory for the symbolic composer: scales, chords, progressions by mood, voice leading, and the
score's recurring motif with the variations that fit it to each mood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filmscore.core.affect import Mood

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor; cadences borrow the raised leading tone (harmonic)
}

CHORD_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "dom7": (0, 4, 7, 10),
    "dim7": (0, 3, 6, 9),
}

Chord = tuple[int, str]  # (root in semitones above the tonic, quality)

# Four-bar progressions by (mood, mode). Positive moods get major harmony with bright added tones; sorrow
# gets minor centred on i, iv and the harmonic-minor dominant; fear returns to the tonic between
# diminished sevenths and the Phrygian flat two, so the mode is heard through the chromatic colour.
PROGRESSIONS: dict[tuple[Mood, str], tuple[tuple[Chord, ...], ...]] = {
    (Mood.JOYFUL, "major"): (
        ((0, "add9"), (7, "maj"), (9, "min"), (5, "maj")),
        ((0, "maj"), (5, "add9"), (0, "maj"), (7, "dom7")),
        ((0, "maj"), (9, "min"), (5, "add9"), (7, "maj")),
    ),
    (Mood.CALM, "major"): (
        ((0, "maj"), (5, "add9"), (0, "maj"), (7, "sus4")),
        ((0, "add9"), (5, "maj"), (2, "min7"), (7, "dom7")),
        ((0, "add9"), (5, "add9"), (0, "maj"), (5, "maj")),
    ),
    (Mood.NEUTRAL, "major"): (
        ((0, "maj"), (9, "min"), (5, "maj"), (7, "sus4")),
        ((0, "maj"), (5, "maj"), (2, "min7"), (7, "dom7")),
        ((0, "maj"), (7, "maj"), (5, "maj"), (7, "sus4")),
    ),
    (Mood.NEUTRAL, "minor"): (
        ((0, "min"), (5, "min7"), (8, "maj7"), (7, "sus4")),
        ((0, "min"), (8, "maj"), (5, "min"), (7, "dom7")),
        ((0, "min"), (3, "maj"), (8, "maj"), (7, "dom7")),
    ),
    (Mood.SAD, "minor"): (
        ((0, "min"), (5, "min"), (0, "min"), (7, "maj")),
        ((0, "madd9"), (8, "maj"), (5, "min7"), (7, "dom7")),
        ((0, "min"), (3, "maj"), (5, "min"), (7, "dom7")),
    ),
    (Mood.TENSE, "minor"): (
        ((0, "min"), (11, "dim7"), (0, "min"), (1, "maj")),
        ((0, "min"), (8, "maj"), (0, "min"), (11, "dim7")),
        ((0, "min"), (6, "dim"), (1, "maj"), (11, "dim7")),
    ),
}


def progression(mood: Mood, mode: str, variant: int) -> tuple[Chord, ...]:
    """The chords of one four-bar phrase; `variant` chooses among the progressions of a mood.
    Fear takes tension's harmony (the arrangement sets them apart)."""
    mood = Mood.TENSE if mood == Mood.AFRAID else mood
    choices = PROGRESSIONS.get((mood, mode)) or PROGRESSIONS[(Mood.NEUTRAL, mode)]
    return choices[variant % len(choices)]


def chord_pitch_classes(tonic: int, chord: Chord) -> tuple[int, ...]:
    root, quality = chord
    return tuple((tonic + root + interval) % 12 for interval in CHORD_INTERVALS[quality])


def chord_notes(tonic: int, chord: Chord, low: int) -> tuple[int, ...]:
    """The chord in close position with its root at or above `low`."""
    root, quality = chord
    base = low + (tonic + root - low) % 12
    return tuple(base + interval for interval in CHORD_INTERVALS[quality])


def voice_chord(
    pitch_classes: tuple[int, ...], previous: tuple[int, ...] | None, low: int, high: int
) -> tuple[int, ...]:
    """Voice a chord inside [low, high], moving each voice as little as possible from the previous chord
    (smooth voice leading: the pad never jumps).
    """
    voicings = []
    for inversion in range(len(pitch_classes)):
        order = pitch_classes[inversion:] + pitch_classes[:inversion]
        notes = [low + (order[0] - low) % 12]
        for pc in order[1:]:
            notes.append(notes[-1] + (pc - notes[-1]) % 12)
        for shift in (0, 12):
            candidate = tuple(n + shift for n in notes)
            if candidate[-1] <= high:
                voicings.append(candidate)
    if not voicings:
        return tuple(sorted(low + (pc - low) % 12 for pc in pitch_classes))
    if previous is None:
        centre = (low + high) / 2
        return min(voicings, key=lambda v: abs(float(np.mean(v)) - centre))
    return min(voicings, key=lambda v: _movement(v, previous))


def _movement(voicing: tuple[int, ...], previous: tuple[int, ...]) -> float:
    """Total semitones the voices move, pairing each note with the nearest note of the previous chord."""
    return float(sum(min(abs(n - p) for p in previous) for n in voicing))


def scale_pitch(tonic: int, mode: str, degree: int, octave_base: int) -> int:
    """The MIDI pitch of a scale degree (0 = tonic, may be negative or above 6) from the tonic at or
    above `octave_base`."""
    scale = SCALES[mode]
    tonic_pitch = octave_base + (tonic - octave_base) % 12
    return tonic_pitch + scale[degree % 7] + 12 * (degree // 7)


def degree_of(tonic: int, mode: str, pitch_class: int) -> int:
    """The scale degree nearest to a pitch class (a chromatic root maps to the degree below it)."""
    interval = (pitch_class - tonic) % 12
    scale = SCALES[mode]
    return max(i for i, step in enumerate(scale) if step <= interval)


@dataclass(frozen=True)
class Motif:
    """The score's theme: scale-degree steps from its first note, and each note's share of the phrase."""

    degrees: tuple[int, ...]
    durations: tuple[float, ...]  # fractions of the phrase, summing to 1


# Rhythm cells in eighth notes over two bars of 4/4 (16 eighths); the last note is long, so the motif
# breathes before the answer.
_RHYTHMS = (
    (2, 2, 4, 2, 6),
    (3, 1, 2, 2, 8),
    (2, 1, 1, 4, 8),
    (1, 1, 2, 4, 2, 6),
    (4, 2, 2, 2, 6),
    (2, 2, 2, 2, 8),
)
# Melodic steps in scale degrees, with the weights that make mostly stepwise lines with an occasional leap.
_STEPS = (-2, -1, 1, 2, 3, 4, -3)
_STEP_WEIGHTS = (0.15, 0.25, 0.25, 0.15, 0.08, 0.04, 0.08)


def make_motif(seed: int) -> Motif:
    """A short, singable theme, the same for a given seed."""
    rng = np.random.default_rng(seed)
    rhythm = _RHYTHMS[int(rng.integers(len(_RHYTHMS)))]
    degrees = [0]
    for _ in range(len(rhythm) - 2):
        step = int(rng.choice(_STEPS, p=_STEP_WEIGHTS))
        degrees.append(int(np.clip(degrees[-1] + step, -3, 7)))
    # End on the root or fifth of the opening harmony (a held third would outweigh the tonic for a listener
    # judging the key), approached by step or small leap.
    degrees.append(min((0, 4, 7), key=lambda d: abs(d - degrees[-1]) or 99))
    total = sum(rhythm)
    return Motif(tuple(degrees), tuple(r / total for r in rhythm))


def vary_motif(motif: Motif, tension: float, answer: bool) -> Motif:
    """The motif as a mood hears it: fear turns its contour upside down (inversion); the answering phrase
    is the statement a step higher, ending on the fifth so it sounds unresolved until the next statement.
    """
    degrees = list(motif.degrees)
    if tension > 0.5:
        degrees = [-d for d in degrees]
    if answer:
        degrees = [d + 1 for d in degrees[:-1]] + [4]
    return Motif(tuple(degrees), motif.durations)
