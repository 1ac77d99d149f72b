"""The embedded symbolic composer: turns a cue plan into notes (pad, bass, accompaniment, the motif's
melody, percussion and timpani hits) with dynamics and crossfades, ready to write as MIDI.

Consecutive cues play on alternate banks of MIDI channels, so the outgoing cue's last chord can ring
and fade over the start of the next cue: the crossfade happens in the arrangement, not by cutting audio.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from filmscore.core.affect import Mood
from filmscore.music.cues import Cue, CuePlan, Hit
from filmscore.music.symbolic.score import (
    CC_CHORUS,
    CC_EXPRESSION,
    CC_PAN,
    CC_REVERB,
    CC_VOLUME,
    CHANNEL_BANKS,
    DRUM_CHANNEL,
    ROLES,
    Composition,
    Control,
    Note,
    Program,
)
from filmscore.music.symbolic.theory import (
    Chord,
    Motif,
    chord_notes,
    chord_pitch_classes,
    degree_of,
    make_motif,
    progression,
    scale_pitch,
    vary_motif,
    voice_chord,
)

TIMPANI = 47  # GM program
# Mixing balance (CC7) and stereo placement (CC10) of each role, as an orchestra sits.
ROLE_VOLUME = {"pad": 80, "bass": 92, "accompaniment": 82, "melody": 100, "timpani": 104}
ROLE_PAN = {"pad": 64, "bass": 60, "accompaniment": 44, "melody": 80, "timpani": 70}
# Centre of each melody instrument's singing range (MIDI pitch): flute, oboe, clarinet, horn, cello.
MELODY_CENTRE = {73: 79, 68: 74, 71: 67, 60: 62, 42: 57}
RINGING = {0, 46}  # piano and harp: let arpeggio notes ring over the next ones
SPEECH_MARGIN_S = 0.2  # no melody this close to dialogue (the voice regions already carry 0.15 s padding)
FAST_TEMPO_BPM = 140.0  # above this, each chord lasts two bars, so harmony keeps a human pace
TENSE = 0.4  # tension above which the arrangement turns to pedal, ostinato and low strings


@dataclass(frozen=True)
class ComposeOptions:
    seed: int = 0  # chooses the motif and the progression variants; the same seed gives the same score
    crossfade_s: float = 1.5  # how long the outgoing cue rings over the next one
    thin_under_speech: bool = True  # drop melody notes under dialogue


@dataclass
class _Parts:
    notes: list[Note] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)


def compose(plan: CuePlan, speech: tuple[tuple[float, float], ...], opts: ComposeOptions) -> Composition:
    motif = make_motif(opts.seed)
    parts = _Parts()
    for cue in plan.cues:
        following = plan.cues[cue.id + 1] if cue.id + 1 < len(plan.cues) else None
        hits = tuple(h for h in plan.hits if cue.start_s <= h.t_s < cue.end_s)
        _compose_cue(cue, following, hits, motif, speech, opts, parts)
    parts.controls.extend(_setup_drums())
    return Composition(
        notes=tuple(n for n in parts.notes if n.end_s > n.start_s and n.start_s < plan.duration_s),
        controls=tuple(parts.controls),
        programs=tuple(parts.programs),
        beat_times=score_beats(plan),
        meters=tuple(m for cue in plan.cues for m in _meters(cue)),
        markers=tuple(
            (c.start_s, f"Cue {c.id + 1}: {c.key}, {c.mood}, {c.tempo_bpm:.0f} bpm") for c in plan.cues
        ),
        end_s=plan.duration_s,
    )


def score_beats(plan: CuePlan) -> tuple[float, ...]:
    """All cues' beats in one increasing list, extended past the end at the last tempo for the tails."""
    beats = [t for cue in plan.cues for t in cue.beat_times[:-1]]
    last = plan.cues[-1].beat_times
    step = last[-1] - last[-2]
    beats.extend(last[-1] + step * k for k in range(64))
    return tuple(beats)


def _meters(cue: Cue) -> list[tuple[float, int]]:
    beats = len(cue.beat_times) - 1
    meters = [(cue.start_s, min(cue.meter, beats))]
    remainder = beats % cue.meter
    if beats > cue.meter and remainder:
        meters.append((cue.beat_times[beats - remainder], remainder))
    return meters


class _Clock:
    """Converts a cue's beat positions (fractional) to seconds along its fitted beat grid."""

    def __init__(self, cue: Cue) -> None:
        self.times = np.asarray(cue.beat_times)
        self.beats = len(self.times) - 1

    def at(self, beat: float) -> float:
        return float(np.interp(beat, np.arange(self.beats + 1), self.times))


@dataclass(frozen=True)
class _Frame:
    """A cue's harmonic frame: its beat clock, and the chord over each span of beats."""

    cue: Cue
    clock: _Clock
    spans: tuple[tuple[int, int], ...]  # (first beat, beat count) of each chord
    chords: tuple[Chord, ...]

    def harmony(self) -> Iterator[tuple[int, int, Chord]]:
        """(first beat, beat count, chord) of each span."""
        for (first, count), chord in zip(self.spans, self.chords, strict=True):
            yield first, count, chord

    def chord_at(self, beat: int) -> Chord:
        for first, count, chord in self.harmony():
            if first <= beat < first + count:
                return chord
        return self.chords[-1]


def _compose_cue(
    cue: Cue,
    following: Cue | None,
    hits: tuple[Hit, ...],
    motif: Motif,
    speech: tuple[tuple[float, float], ...],
    opts: ComposeOptions,
    parts: _Parts,
) -> None:
    channels = dict(zip(ROLES, CHANNEL_BANKS[cue.id % 2], strict=True))
    clock = _Clock(cue)
    spans = _harmonic_spans(cue, clock.beats)
    chords = _chords(cue, following, len(spans), opts.seed)
    crossfade = min(opts.crossfade_s, following.duration_s / 2) if following else 0.0
    _setup_channels(cue, channels, parts)
    frame = _Frame(cue, clock, tuple(spans), tuple(chords))
    _pad(frame, channels["pad"], crossfade, parts)
    _bass(frame, channels["bass"], parts)
    _accompaniment(frame, channels["accompaniment"], parts)
    _melody(frame, motif, speech, channels["melody"], opts, parts)
    _percussion(cue, clock, parts)
    _hits(cue, hits, channels, parts)
    _dynamics(cue, channels, crossfade, opts.crossfade_s if cue.id else 0.0, following is None, parts)


def _harmonic_spans(cue: Cue, beats: int) -> list[tuple[int, int]]:
    """(first beat, beat count) of each chord: one per bar, or per two bars at fast tempos."""
    bars_per_chord = 2 if cue.tempo_bpm > FAST_TEMPO_BPM else 1
    size = cue.meter * bars_per_chord
    return [(b, min(size, beats - b)) for b in range(0, beats, size)]


def _chords(cue: Cue, following: Cue | None, count: int, seed: int) -> list[Chord]:
    """Phrase after phrase of the mood's progression; the last chord leads into the next cue.

    Before another cue the last chord is the dominant seventh of the next cue's key (a pivot, so a key
    or mode change sounds prepared); the film's last cue ends on its tonic.
    """
    chords = [progression(cue.mood, cue.mode, seed + i // 4)[i % 4] for i in range(count)]
    if count == 1:
        return [(0, "maj" if cue.mode == "major" else "min")]
    if following is not None:
        chords[-1] = ((following.tonic + 7 - cue.tonic) % 12, "dom7")
    else:
        chords[-1] = (0, "maj" if cue.mode == "major" else "min")
    return chords


def _setup_channels(cue: Cue, channels: dict[str, int], parts: _Parts) -> None:
    programs = {
        "pad": cue.instruments.pad,
        "bass": cue.instruments.bass,
        "accompaniment": cue.instruments.accompaniment,
        "melody": cue.instruments.melody,
        "timpani": TIMPANI,
    }
    reverb = 72 if cue.arousal < 0 else 52  # slower, darker cues sit in a larger room
    for role, channel in channels.items():
        parts.programs.append(Program(channel, programs[role], cue.start_s))
        for number, value in ((CC_VOLUME, ROLE_VOLUME[role]), (CC_PAN, ROLE_PAN[role]), (CC_REVERB, reverb),
                              (CC_CHORUS, 20 if role == "pad" else 0)):  # fmt: skip
            parts.controls.append(Control(channel, number, value, cue.start_s))


def _setup_drums() -> list[Control]:
    return [Control(DRUM_CHANNEL, CC_VOLUME, 84, 0.0), Control(DRUM_CHANNEL, CC_REVERB, 50, 0.0)]


def _pad_range(cue: Cue) -> tuple[int, int]:
    if cue.tension > TENSE:
        return 48, 70  # dark, low strings for fear
    return (55, 79) if cue.mode == "major" else (50, 74)


def _pad(frame: _Frame, channel: int, crossfade_s: float, parts: _Parts) -> None:
    """Sustained strings, voice-led from chord to chord; the last chord rings into the next cue."""
    cue, clock = frame.cue, frame.clock
    low, high = _pad_range(cue)
    previous: tuple[int, ...] | None = None
    for i, (first, count, chord) in enumerate(frame.harmony()):
        voicing = voice_chord(chord_pitch_classes(cue.tonic, chord), previous, low, high)
        start, end = clock.at(first), clock.at(first + count)
        end = end + crossfade_s if i == len(frame.spans) - 1 else end + 0.05  # legato overlap
        velocity = cue.velocity - 14
        parts.notes.extend(Note(channel, p, velocity, start, end) for p in voicing)
        previous = voicing


def _bass(frame: _Frame, channel: int, parts: _Parts) -> None:
    """Roots: held at low arousal, root and fifth at moderate, driving eighths at high arousal. Under
    fear the bass stays on the tonic (a pedal) while the harmony above it grinds."""
    cue, clock = frame.cue, frame.clock
    for first, count, chord in frame.harmony():
        root = chord_notes(cue.tonic, (0, "min") if cue.tension > TENSE else chord, 36)[0]
        if cue.subdivision == 1:
            hits = [(0.0, float(count), root)]
        elif cue.subdivision == 2:
            hits = [(float(b), 2.0, root if b % 4 == 0 else root + 7) for b in range(0, count, 2)]
        else:
            hits = [(b / 2, 0.5, root) for b in range(count * 2)]
        for offset, length, pitch in hits:
            start = clock.at(first + offset)
            end = clock.at(min(first + count, first + offset + length * cue.articulation))
            accent = 8 if offset == 0 else 0
            parts.notes.append(Note(channel, pitch, min(127, cue.velocity - 4 + accent), start, end))


def _accompaniment(frame: _Frame, channel: int, parts: _Parts) -> None:
    """Arpeggios through the chord, `subdivision` notes a beat; fear gets a low ostinato that keeps
    returning to the tonic and minor third between the chord's notes."""
    cue, clock = frame.cue, frame.clock
    low = (55 if cue.mode == "major" else 50) + 12 * cue.register
    ring = 2.0 if cue.instruments.accompaniment in RINGING else cue.articulation
    for first, count, chord in frame.harmony():
        if cue.tension > TENSE:
            tonic = chord_notes(cue.tonic, (0, "min"), 45)[0]
            # Tonic and minor third keep coming back, so the mode stays clear under chromatic chords.
            tones = (tonic, tonic + 3, *chord_notes(cue.tonic, chord, tonic + 4))
            order = [0, 1, 0, 2, 0, 1, 0, 3]
        else:
            tones = chord_notes(cue.tonic, chord, low)
            tones = tones + tuple(t + 12 for t in tones[:2])
            order = list(range(len(tones))) + list(range(len(tones) - 2, 0, -1))
        for step in range(count * cue.subdivision):
            beat = first + step / cue.subdivision
            start = clock.at(beat)
            end = clock.at(min(first + count + 1, beat + ring / cue.subdivision))
            accent = 10 if step % (cue.meter * cue.subdivision) == 0 else 0
            pitch = tones[order[step % len(order)] % len(tones)]
            parts.notes.append(Note(channel, pitch, min(127, cue.velocity - 16 + accent), start, end))


def _melody(
    frame: _Frame,
    motif: Motif,
    speech: tuple[tuple[float, float], ...],
    channel: int,
    opts: ComposeOptions,
    parts: _Parts,
) -> None:
    """The motif, then its answer, in phrase-long slots. A slot with dialogue in it stays silent
    as a whole: the theme is heard between lines, never as fragments under one. When the gaps are too
    short for the cue's phrase length, the motif is played at half the length or in one bar (diminution)."""
    arousal = frame.cue.arousal
    preferred = 4 if arousal < -0.4 else 1 if arousal > 0.5 else 2
    for bars in dict.fromkeys((preferred, max(1, preferred // 2), 1)):
        notes = _phrases(frame, motif, speech if opts.thin_under_speech else (), channel, bars)
        if notes:
            parts.notes.extend(notes)
            return


def _phrases(
    frame: _Frame, motif: Motif, speech: tuple[tuple[float, float], ...], channel: int, bars: int
) -> list[Note]:
    """Statement and answer alternate, each on the first beat where it fits between lines of dialogue;
    after each pair the melody rests for a phrase unless the film is lively."""
    cue, clock = frame.cue, frame.clock
    phrase_beats = bars * cue.meter
    centre = MELODY_CENTRE.get(cue.instruments.melody, 72)
    notes: list[Note] = []
    played, start_beat = 0, 0
    while start_beat + phrase_beats <= clock.beats:
        chord = frame.chord_at(start_beat)
        root_degree = degree_of(cue.tonic, cue.mode, chord_pitch_classes(cue.tonic, chord)[0])
        line = vary_motif(motif, cue.tension, answer=played % 2 == 1)
        phrase = _realise(line, cue, chord, root_degree, start_beat, phrase_beats, clock, channel, centre)
        if any(_under_speech(note, speech) for note in phrase):
            start_beat += 1  # try the next beat: a phrase may start off the bar, like a pickup
            continue
        notes.extend(phrase)
        played += 1
        rest = played % 2 == 0 and cue.arousal <= 0.3
        start_beat += phrase_beats * (2 if rest else 1)
    return notes


def _realise(
    motif: Motif,
    cue: Cue,
    chord: Chord,
    root_degree: int,
    start_beat: int,
    phrase_beats: int,
    clock: _Clock,
    channel: int,
    centre: int,
) -> list[Note]:
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
        velocity = min(127, cue.velocity + 6 + (8 if i == 0 else 0))
        notes.append(Note(channel, pitch, velocity, clock.at(onsets[i]), clock.at(onsets[i] + length)))
    return notes


def _under_speech(note: Note, speech: tuple[tuple[float, float], ...]) -> bool:
    return any(note.start_s < b + SPEECH_MARGIN_S and note.end_s > a - SPEECH_MARGIN_S for a, b in speech)


# GM percussion keys.
KICK, BASS_DRUM, LOW_TOM, CLOSED_HAT, TAMBOURINE, CRASH = 36, 35, 45, 42, 54, 49


def _percussion(cue: Cue, clock: _Clock, parts: _Parts) -> None:
    """A light pulse under lively cues: kick and tambourine for joy, a heartbeat drum for fear."""
    if not cue.instruments.percussion or cue.arousal <= 0.15:
        return
    if cue.mood in (Mood.TENSE, Mood.AFRAID):
        pattern = [(0.0, BASS_DRUM, 84), (0.5, BASS_DRUM, 62), (2.0, LOW_TOM, 56)]
    elif cue.mood == Mood.JOYFUL:
        pattern = [(0.0, KICK, 66), (2.0, KICK, 58)] + [(b + 0.5, TAMBOURINE, 46) for b in range(cue.meter)]
    else:
        pattern = [(0.0, KICK, 60)] + [(b / 2, CLOSED_HAT, 38) for b in range(cue.meter * 2)]
    for bar in range(0, clock.beats, cue.meter):
        for offset, key, velocity in pattern:
            beat = bar + offset
            if beat < clock.beats:
                start = clock.at(beat)
                parts.notes.append(Note(DRUM_CHANNEL, key, velocity, start, start + 0.1))


def _hits(cue: Cue, hits: tuple[Hit, ...], channels: dict[str, int], parts: _Parts) -> None:
    """A timpani stroke on the cut (with a crescendo roll into strong ones) and a cymbal crash; a sting
    also strikes its mood's chord on the strings (STINGS)."""
    pitch = 41 + (cue.tonic - 41) % 12  # the tonic in the timpani's range (F2 .. E3)
    for hit in hits:
        if hit.strength >= 0.6:
            roll_s, stroke_s = 0.8, 0.06
            count = int(roll_s / stroke_s)
            for k in range(count):
                t = hit.t_s - roll_s + k * stroke_s
                velocity = round(30 + 60 * k / count * hit.strength)
                parts.notes.append(Note(channels["timpani"], pitch, velocity, t, t + stroke_s))
        velocity = round(70 + 50 * hit.strength)
        parts.notes.append(Note(channels["timpani"], pitch, velocity, hit.t_s, hit.t_s + 1.0))
        if hit.strength >= 0.5:
            parts.notes.append(
                Note(DRUM_CHANNEL, CRASH, round(50 + 50 * hit.strength), hit.t_s, hit.t_s + 0.5)
            )
        if hit.sting is not None:
            low, intervals, length_s, loudness = STINGS[hit.sting]
            root = low + (cue.tonic - low) % 12
            parts.notes.extend(
                Note(channels["pad"], root + interval, loudness, hit.t_s, hit.t_s + length_s)
                for interval in intervals
            )


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


def _dynamics(
    cue: Cue,
    channels: dict[str, int],
    crossfade_out_s: float,
    crossfade_in_s: float,
    is_last: bool,
    parts: _Parts,
) -> None:
    """Expression (CC11) follows the film's arousal; it rises in from the previous cue, fades the tail out
    over the next one, and fades the film's last cue to silence."""
    fade_out_s = min(3.0, cue.duration_s / 3) if is_last else 0.0
    for t, level in cue.dynamics:
        gain = level * _ramp(t - cue.start_s, crossfade_in_s, floor=0.55)
        if fade_out_s:
            gain *= _ramp(cue.end_s - t, fade_out_s, floor=0.0)
        value = round(127 * gain)
        parts.controls.extend(Control(ch, CC_EXPRESSION, value, t) for ch in channels.values())
    if crossfade_out_s > 0:
        last_level = cue.dynamics[-1][1] if cue.dynamics else 0.7
        for k in range(1, 9):
            value = round(127 * last_level * math.cos(k / 8 * math.pi / 2))
            parts.controls.append(
                Control(channels["pad"], CC_EXPRESSION, value, cue.end_s + k / 8 * crossfade_out_s)
            )


def _ramp(elapsed_s: float, length_s: float, floor: float) -> float:
    """An equal-power rise from `floor` to 1 over `length_s` (1 when there is no ramp)."""
    if length_s <= 0 or elapsed_s >= length_s:
        return 1.0
    return floor + (1 - floor) * math.sin(max(0.0, elapsed_s) / length_s * math.pi / 2)
