"""The harmonic parts of a cue: the sustained pad, the bass, the arpeggiated accompaniment and the
melody. Their density, register and attack follow the cue's energy; minor cues keep the tonic and the
minor third in the bass and the ostinato, so the mode is heard under chromatic harmony."""

from __future__ import annotations

import numpy as np

from filmscore.core.affect import Mood
from filmscore.music.symbolic.frame import Frame
from filmscore.music.symbolic.score import Note
from filmscore.music.symbolic.theory import (
    Chord,
    Motif,
    chord_notes,
    chord_pitch_classes,
    degree_of,
    scale_pitch,
    vary_motif,
    voice_chord,
)

# Centre of each melody instrument's singing range (MIDI pitch).
MELODY_CENTRE = {
    0: 72,
    40: 76,
    42: 57,
    53: 67,
    57: 58,
    60: 62,
    61: 64,
    62: 67,
    68: 74,
    71: 67,
    73: 79,
    75: 79,
}
RINGING = {0, 4, 8, 11, 46}  # piano, keys, bells and harp: let arpeggio notes ring over the next ones
SPEECH_MARGIN_S = 0.2  # no melody this close to dialogue (the voice regions already carry 0.15 s padding)
SPARSE = 0.2  # below this energy the accompaniment plays only on the strong beats
# Above this energy the pad stops holding its chords and strikes them (short, accented chords on the
# beat's eighths), as strings chug under an action cue: held chords blur the rhythm a listener's sense of
# energy follows, and every style's pad carries its strokes.
STROKES_ENERGY = 0.72
MAX_STROKE_RATE = 8.0  # chords a second: faster than this, the strokes fall on the beat
OFFBEAT_VOICES = 3  # the strokes between beats play the chord's top voices only
# Below this energy a cue is still: a piano's or harp's chords are rolled (here) and pedalled (compose.py),
# and the bass is not struck like a drum. Struck at once, a chord is a knock, heard as energy.
STILL_ENERGY = 0.4
ROLL_S = 0.06  # a rolled chord's notes follow each other this far apart


def pad(frame: Frame, crossfade_s: float) -> list[Note]:
    """Chords, voice-led from chord to chord: sustained, the last one ringing into the next cue, or struck
    in rhythm above STROKES_ENERGY. They sit low and dark for fear, in the middle for sorrow, and rise with
    energy."""
    cue, clock = frame.cue, frame.clock
    low, high = _pad_range(frame)
    velocity = cue.velocity - 10 - 20 * max(0.0, cue.energy - 0.5)  # held chords step back when rhythm drives
    notes: list[Note] = []
    previous: tuple[int, ...] | None = None
    for i, (first, count, chord) in enumerate(frame.harmony()):
        voicing = voice_chord(chord_pitch_classes(cue.tonic, chord), previous, low, high)
        previous = voicing
        if cue.mode == "minor" and chord[0] == 0:
            voicing = (*voicing, _above(voicing[-1], cue.tonic + 3))  # the minor third on top, heard clearly
        if cue.energy >= STROKES_ENERGY:
            if frame.fearful:  # struck chords weigh more than held ones: fear strikes its tonic's minor triad
                tonic = (0, "min")
                voicing = voice_chord(chord_pitch_classes(cue.tonic, tonic), previous, low, high)
            notes.extend(_strokes(frame, voicing, first, count))
            continue
        start, end = clock.at(first), clock.at(first + count)
        end = end + crossfade_s if i == len(frame.spans) - 1 else end + 0.05  # legato overlap
        roll = ROLL_S if cue.energy < STILL_ENERGY and cue.instruments.pad in RINGING else 0.0
        notes.extend(frame.note("pad", p, velocity, start + k * roll, end) for k, p in enumerate(voicing))
    return notes


def _strokes(frame: Frame, voicing: tuple[int, ...], first: int, count: int) -> list[Note]:
    """The chord struck on every eighth (on every beat when that is too fast), short: the whole chord,
    accented, on the beat, its upper voices alone between (as strings chug; and each string note starts
    several voices, which a render pays for); the top voice doubled an octave higher (and two, for fear's
    shrieking stabs), so the rhythm is heard in the bright band as well."""
    cue, clock = frame.cue, frame.clock
    per_beat = 2 if cue.tempo_bpm / 60 * 2 <= MAX_STROKE_RATE else 1
    pitches = (*voicing, voicing[-1] + 12, *((voicing[-1] + 24,) if frame.fearful else ()))
    notes: list[Note] = []
    for step in range(count * per_beat):
        beat = first + step / per_beat
        start, end = clock.at(beat), clock.at(beat + 0.3 / per_beat)
        on_the_beat = step % per_beat == 0
        struck = pitches if on_the_beat else pitches[-OFFBEAT_VOICES:]
        notes.extend(
            frame.note("pad", p, cue.velocity + (10 if on_the_beat else -14), start, end) for p in struck
        )
    return notes


def _above(pitch: int, pitch_class: int) -> int:
    """The nearest pitch of a pitch class above `pitch`."""
    return pitch + 1 + (pitch_class - pitch - 1) % 12


# The pad's range moves by one of these (semitones), drawn by the cue's seed: the same chords then fall in
# other inversions and spacings, so another take's harmony is voiced anew even where its chords agree.
VOICING_SHIFTS = (0, 4, -3)


def _pad_range(frame: Frame) -> tuple[int, int]:
    cue = frame.cue
    shift = VOICING_SHIFTS[frame.variant("voicing", len(VOICING_SHIFTS))]
    if frame.fearful:
        return 48 + shift, 70 + shift  # dark, low strings for fear
    lift = 5 if cue.energy > 0.72 else 0
    low = 55 if cue.mode == "major" else 50
    return low + lift + shift, low + 24 + lift + shift


def bass(frame: Frame) -> list[Note]:
    """Roots: held when still, root and fifth at moderate energy, driving eighths at high energy. A minor
    cue keeps the tonic underneath (a pedal) except on its dominant, so the key is never in doubt; a tense
    one holds its dominant instead (a dominant pedal), unresolved until the cue after it."""
    cue, clock = frame.cue, frame.clock
    notes = []
    pedal = cue.mood == Mood.TENSE  # tension: the bass holds the dominant, which asks to resolve
    for first, count, chord in frame.harmony():
        root = chord_notes(cue.tonic, (7, "maj") if pedal else _bass_chord(frame, chord), 36)[0]
        if cue.subdivision == 1:
            hits = [(0.0, float(count), root)]
        elif cue.subdivision == 2:
            # Root and fifth; in minor, root and minor third on the tonic chord, so the mode is in the bass.
            other = root + (12 if pedal else 3 if cue.mode == "minor" and chord[0] == 0 else 7)
            hits = [(float(b), 2.0, root if b % 4 == 0 else other) for b in range(0, count, 2)]
        else:
            hits = [(b / 2, 0.5, root) for b in range(count * 2)]
        for offset, length, pitch in hits:
            start = clock.at(first + offset)
            end = clock.at(min(first + count, first + offset + length * cue.articulation))
            accent = 8 if offset == 0 else 0
            if cue.energy < STILL_ENERGY:
                accent = -6  # a still cue's bass is felt under the chord, not struck like a drum
            notes.append(frame.note("bass", pitch, cue.velocity - 8 + accent, start, end))
    return notes


def _bass_chord(frame: Frame, chord: Chord) -> Chord:
    cue = frame.cue
    if frame.fearful or (cue.mode == "minor" and chord[0] != 7):
        return (0, "min" if cue.mode == "minor" else "maj")
    return chord


def accompaniment(frame: Frame) -> list[Note]:
    """Arpeggios through the chord, `subdivision` notes a beat (only the strong beats when the cue is
    nearly still); fear gets a low ostinato that keeps returning to the tonic and the minor third."""
    cue, clock = frame.cue, frame.clock
    low = (55 if cue.mode == "major" else 50) + 7 * cue.register
    ringing = cue.instruments.accompaniment in RINGING and cue.energy < STROKES_ENERGY  # driving: dry
    ring = 2.0 if ringing else cue.articulation
    step_of_bar = cue.meter * cue.subdivision
    strong = (0, step_of_bar // 2 + step_of_bar % 2)
    notes = []
    for first, count, chord in frame.harmony():
        tones, order = _arpeggio(frame, chord, low)
        steps = [
            s for s in range(count * cue.subdivision) if cue.energy >= SPARSE or s % step_of_bar in strong
        ]
        for k, step in enumerate(steps):  # k, not step, walks the arpeggio: a sparse one still sounds it all
            beat = first + step / cue.subdivision
            start = clock.at(beat)
            end = clock.at(min(first + count + 1, beat + ring / cue.subdivision))
            accent = 10 if step % step_of_bar == 0 else 0
            pitch = tones[order[k % len(order)] % len(tones)]
            notes.append(frame.note("accompaniment", pitch, cue.velocity - 16 + accent, start, end))
    return notes


def _arpeggio(frame: Frame, chord: Chord, low: int) -> tuple[tuple[int, ...], list[int]]:
    """The notes an arpeggio runs through, and the order it plays them in."""
    cue = frame.cue
    if frame.fearful:
        # A driving fear's ostinato shrieks high (from A4); under a line it goes up above the voice.
        tonic = chord_notes(cue.tonic, (0, "min"), 69 if cue.energy >= STROKES_ENERGY else 45)[0]
        # Tonic and minor third keep coming back, so the mode stays clear under chromatic chords.
        fear_orders = ([0, 1, 0, 2, 0, 1, 0, 3], [0, 0, 1, 0, 2, 0, 1, 3], [0, 1, 2, 1, 0, 1, 3, 1])
        order = fear_orders[frame.variant("fear arpeggio", len(fear_orders))]
        return (tonic, tonic + 3, *chord_notes(cue.tonic, chord, tonic + 4)), list(order)
    tones = chord_notes(cue.tonic, chord, low)
    tones = tones + tuple(t + 12 for t in tones[:2])
    last = len(tones) - 1
    orders = (
        list(range(len(tones))) + list(range(last - 1, 0, -1)),  # up and down
        list(range(len(tones))),  # up, and again
        [0, 2, 1, 2, 0, 3, 1, 3],  # broken, Alberti-like
        [0, last, 1, last - 1, 2, last - 2],  # outside in
    )
    return tones, orders[frame.variant("arpeggio", len(orders))]


def melody(frame: Frame, motif: Motif, speech: tuple[tuple[float, float], ...]) -> list[Note]:
    """The motif, then its answer, in phrase-long slots. A slot with dialogue in it stays silent
    as a whole: the theme is heard between lines, never as fragments under one. When the gaps are too
    short for the cue's phrase length, the motif is played at half the length or in one bar (diminution)."""
    energy = frame.cue.energy
    preferred = 4 if energy < 0.3 else 1 if energy > 0.75 else 2
    for bars in dict.fromkeys((preferred, max(1, preferred // 2), 1)):
        notes = _phrases(frame, motif, speech, bars)
        if notes:
            return notes
    return []


def _phrases(frame: Frame, motif: Motif, speech: tuple[tuple[float, float], ...], bars: int) -> list[Note]:
    """Statement and answer alternate, each on the first beat where it fits between lines of dialogue;
    after each pair the melody rests for a phrase unless the cue is lively."""
    cue, clock = frame.cue, frame.clock
    phrase_beats = bars * cue.meter
    centre = MELODY_CENTRE.get(cue.instruments.melody or 0, 72) + 5 * cue.register
    notes: list[Note] = []
    played, start_beat = 0, 0
    while start_beat + phrase_beats <= clock.beats:
        chord = frame.chord_at(start_beat)
        root_degree = degree_of(cue.tonic, cue.mode, chord_pitch_classes(cue.tonic, chord)[0])
        line = vary_motif(motif, cue.tension, answer=played % 2 == 1)
        phrase = _realise(frame, line, chord, root_degree, start_beat, phrase_beats, centre)
        if any(under_speech(note, speech) for note in phrase):
            start_beat += 1  # try the next beat: a phrase may start off the bar, like a pickup
            continue
        notes.extend(phrase)
        played += 1
        rest = played % 2 == 0 and cue.energy <= 0.65
        start_beat += phrase_beats * (2 if rest else 1)
    return notes


def _realise(
    frame: Frame,
    motif: Motif,
    chord: Chord,
    root_degree: int,
    start_beat: int,
    phrase_beats: int,
    centre: int,
) -> list[Note]:
    cue, clock = frame.cue, frame.clock
    onsets = start_beat + np.round(np.concatenate([[0.0], np.cumsum(motif.durations)]) * phrase_beats * 2) / 2
    notes = []
    for i, degree in enumerate(motif.degrees):
        if onsets[i + 1] <= onsets[i]:
            continue
        pitch = scale_pitch(cue.tonic, cue.mode, root_degree + degree, centre - 6)
        if cue.mode == "minor" and chord[0] == 7 and (pitch - cue.tonic) % 12 == 10:
            pitch += 1  # the raised leading tone over the dominant (harmonic minor)
        last = i == len(motif.degrees) - 1
        length = (onsets[i + 1] - onsets[i]) * (1.0 if last else max(cue.articulation, 0.6))
        velocity = cue.velocity + 6 + (8 if i == 0 else 0)
        notes.append(frame.note("melody", pitch, velocity, clock.at(onsets[i]), clock.at(onsets[i] + length)))
    return notes


def under_speech(note: Note, speech: tuple[tuple[float, float], ...]) -> bool:
    return any(note.start_s < b + SPEECH_MARGIN_S and note.end_s > a - SPEECH_MARGIN_S for a, b in speech)
