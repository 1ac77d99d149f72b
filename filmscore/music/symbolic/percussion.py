"""Drums and accents: a drum part whose weight follows the cue's energy, and the strokes on the cuts that
matter (timpani, cymbal, and a sting in its mood's chord)."""

from __future__ import annotations

from filmscore.core.affect import Mood
from filmscore.music.planning import Cue, Hit
from filmscore.music.styles import STYLES
from filmscore.music.symbolic.frame import Frame
from filmscore.music.symbolic.score import DRUM_CHANNEL, Note

# General MIDI percussion keys.
BASS_DRUM, KICK, SNARE, LOW_TOM, MID_TOM, CLOSED_HAT, TAMBOURINE, CRASH = 35, 36, 38, 41, 45, 42, 54, 49
STANDARD_KIT, ORCHESTRA_KIT = 0, 48
PITCHED_TOM_KITS = (24, 25)  # the electronic kit and the TR-808
# In the orchestra kit (GM2) keys 41 .. 53 are timpani tuned F2 .. F3 and 57 is a concert cymbal: a
# hi-hat or crash key there would strike a timpani on a note foreign to the key.
TIMPANI_F = 41
CONCERT_CYMBAL = 57
# Energy from which the drums play lightly, fuller, and at full weight.
DRUM_LEVELS = (0.55, 0.7, 0.85)


def drums(frame: Frame) -> list[Note]:
    """A pattern per bar for the cue's mood, heavier at each of DRUM_LEVELS; a crash opens each phrase
    at full weight. Fear beats a heartbeat and low drums, never a dance backbeat."""
    cue, clock = frame.cue, frame.clock
    level = sum(cue.energy >= threshold for threshold in DRUM_LEVELS)
    if cue.instruments.kit is None or level == 0:
        return []
    keys = kit_keys(cue.instruments.kit, cue.tonic)
    pattern = [(offset, keys[name], velocity) for offset, name, velocity in _pattern(cue, level)]
    notes = []
    for bar, first in enumerate(range(0, clock.beats, cue.meter)):
        extra = [(0.0, keys["crash"], 96)] if level == 3 and bar % 4 == 0 else []
        for offset, key, velocity in pattern + extra:
            if first + offset < clock.beats:
                start = clock.at(first + offset)
                notes.append(Note(DRUM_CHANNEL, key, min(127, velocity), start, start + 0.1, cue.id))
    return notes


def kit_keys(kit: int | None, tonic: int) -> dict[str, int]:
    """The key of each drum in a kit. In the orchestra kit the kick and the bass drum are a timpani on the
    cue's tonic (MuseScore General's concert bass drum rings near F#, a major third in D), the middle
    drum a timpani on the fifth, the hi-hat a tambourine and the crash a concert cymbal."""
    if kit == ORCHESTRA_KIT:
        tonic_drum, fifth_drum = (TIMPANI_F + (pitch_class - 5) % 12 for pitch_class in (tonic, tonic + 7))
        return {"bass_drum": tonic_drum, "kick": tonic_drum, "snare": SNARE, "low": tonic_drum,
                "mid": fifth_drum, "hat": TAMBOURINE, "tambourine": TAMBOURINE,
                "crash": CONCERT_CYMBAL}  # fmt: skip
    # The electronic kits' toms ring at a pitch of their own (the TR-808's made a fear cue in D minor heard
    # as D major): their low drums are the kick and the bass drum.
    low, mid = (KICK, BASS_DRUM) if kit in PITCHED_TOM_KITS else (LOW_TOM, MID_TOM)
    return {"bass_drum": BASS_DRUM, "kick": KICK, "snare": SNARE, "low": low, "mid": mid,
            "hat": CLOSED_HAT, "tambourine": TAMBOURINE, "crash": CRASH}  # fmt: skip


def _pattern(cue: Cue, level: int) -> list[tuple[float, str, int]]:
    """(beat within the bar, drum, velocity) of one bar."""
    loud = cue.velocity
    if cue.mood in (Mood.TENSE, Mood.AFRAID):
        pattern = [(0.0, "bass_drum", loud), (0.5, "bass_drum", loud - 22)]
        if level >= 2:
            pattern += [(2.0, "low", loud - 10), (2.5, "low", loud - 20), (3.0, "mid", loud - 14)]
        if level >= 3:
            pattern += [(b / 2, "snare", loud - 40 + 8 * (b % 2 == 0)) for b in range(cue.meter * 2)]
        return pattern
    pattern = [(0.0, "kick", loud - 10)] + [(b + 0.5, "tambourine", loud - 40) for b in range(cue.meter)]
    if level >= 2:
        pattern += [(2.0, "kick", loud - 16)] + [
            (float(b), "snare", loud - 20) for b in range(1, cue.meter, 2)
        ]
    if level >= 3:
        pattern += [(b / 4, "hat", loud - 44 + 10 * (b % 2 == 0)) for b in range(cue.meter * 4)]
    return pattern


def hits(frame: Frame, cue_hits: tuple[Hit, ...]) -> list[Note]:
    """A stroke on the cut, on the style's hit instrument (timpani in the orchestra), with a crescendo
    roll into strong ones, and a cymbal crash where the style has cymbals; a sting also strikes its
    mood's chord on the pad (STINGS)."""
    cue = frame.cue
    pitch = 41 + (cue.tonic - 41) % 12  # the tonic in the timpani's range (F2 .. E3)
    notes = []
    for hit in cue_hits:
        if hit.strength >= 0.6:
            roll_s, stroke_s = 0.8, 0.06
            count = int(roll_s / stroke_s)
            for k in range(count):
                t = hit.t_s - roll_s + k * stroke_s
                notes.append(
                    frame.note("timpani", pitch, 30 + 60 * k / count * hit.strength, t, t + stroke_s)
                )
        notes.append(frame.note("timpani", pitch, 70 + 50 * hit.strength, hit.t_s, hit.t_s + 1.0))
        if hit.strength >= 0.5 and STYLES[cue.style].cymbal:
            crash = kit_keys(cue.instruments.kit, cue.tonic)["crash"]
            velocity = round(50 + 50 * hit.strength)
            notes.append(Note(DRUM_CHANNEL, crash, velocity, hit.t_s, hit.t_s + 0.5, cue.id))
        if hit.sting is not None:
            low, intervals, length_s, loudness = STINGS[hit.sting]
            root = low + (cue.tonic - low) % 12
            notes.extend(
                frame.note("pad", root + i, loudness, hit.t_s, hit.t_s + length_s) for i in intervals
            )
    return notes


# A sting's chord by mood: (lowest root, intervals above it, length, velocity). Fear and tension strike a
# cluster with a tritone; joy a wide major chord; sorrow and calm a soft low triad.
STINGS: dict[Mood, tuple[int, tuple[int, ...], float, int]] = {
    Mood.AFRAID: (48, (0, 1, 6, 7, 13), 0.7, 120),
    Mood.TENSE: (48, (0, 1, 6, 12), 0.7, 105),
    Mood.JOYFUL: (55, (0, 7, 12, 16, 19, 24), 0.8, 110),
    Mood.SAD: (43, (0, 7, 12, 15), 1.2, 70),
    Mood.CALM: (48, (0, 7, 12, 16), 1.2, 60),
    Mood.NEUTRAL: (48, (0, 7, 12), 0.8, 80),
}
