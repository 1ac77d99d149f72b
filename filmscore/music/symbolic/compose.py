"""The embedded symbolic composer: turns a cue plan into notes (pad, bass, accompaniment, the motif's
melody, the pulse and brass of lively cues, drums, and timpani hits) with dynamics and crossfades, ready
to write as MIDI. The parts are written in parts.py, texture.py and percussion.py; the cue's style
(music/styles.py) chooses their instruments and the room.

Consecutive cues play on alternate banks of MIDI channels, so the outgoing cue's last chord can ring
and fade over the start of the next cue: the crossfade happens in the arrangement, not by cutting audio.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from filmscore.music.planning import CLOSE, FILM_END, JOIN, Cue, CuePlan, Hit
from filmscore.music.planning.palette import take_seed
from filmscore.music.styles import PROGRAM_TRIM_DB, STYLES
from filmscore.music.symbolic import parts, percussion, texture
from filmscore.music.symbolic.frame import Clock, Frame, Parts, drawn
from filmscore.music.symbolic.percussion import STANDARD_KIT
from filmscore.music.symbolic.score import (
    CC_CHORUS,
    CC_EXPRESSION,
    CC_PAN,
    CC_REVERB,
    CC_SUSTAIN,
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
    make_motif,
    progression,
)

# Mixing balance (CC7, before each program's trim) of each role, and its place in the stereo field at
# full width (pan offset).
ROLE_VOLUME = {
    "pad": 72,
    "bass": 84,
    "accompaniment": 76,
    "melody": 92,
    "timpani": 96,
    "pulse": 84,
    "brass": 84,
}
ROLE_PAN = {
    "pad": 0,
    "bass": -6,
    "accompaniment": -36,
    "melody": 26,
    "timpani": 10,
    "pulse": -18,
    "brass": 34,
}
FAST_TEMPO_BPM = 140.0  # above this, each chord lasts two bars, so harmony keeps a human pace
VOICE_REGISTER = (55, 79)  # G3 .. G5: accompaniment notes here sit on a voice's formants
# A cue that closes before silence holds its last chord over its last bar; the chord is released this
# long before the silence, so its release and the room's tail die away in the cue's own time.
CLOSE_TAIL_S = 0.6
ENDING_LEAD_S = 0.25  # a cue that ends with the film strikes its last chord at least this long before it
BUTTON_ENERGY = 0.6  # a cue this energetic ends on a button; a stiller one holds its last chord
BUTTON_S = 0.4  # how long a button's chord is held (it rings on after)
PEDAL_CATCH_S = 0.05  # the pedal goes down this long after a chord's downbeat (a legato pedal)
HELD_ROLES = ("pad", "bass")  # the parts that hold the closing chord; the others stop at the last bar


@dataclass(frozen=True)
class ComposeOptions:
    # chooses the motif, the progression variants and the arrangement's figures; the same seed gives the
    # same score (a cue playing another take than a is written with that take's seed)
    seed: int = 0
    crossfade_s: float = 1.5  # how long the outgoing cue rings over the next one
    thin_under_speech: bool = True  # no melody or brass under dialogue, and no accompaniment on the voice


def compose(plan: CuePlan, speech: tuple[tuple[float, float], ...], opts: ComposeOptions) -> Composition:
    written = Parts()
    for cue in plan.cues:
        following = plan.cues[cue.id + 1] if cue.ending == JOIN else None
        entered = cue.id > 0 and plan.cues[cue.id - 1].ending == JOIN  # from the cue before, not silence
        hits = tuple(h for h in plan.hits if cue.start_s <= h.t_s < cue.end_s)
        # Each cue is written with its take's seed: take a is the run's seed, so the cues share its theme.
        seed = take_seed(opts.seed, cue.take)
        _compose_cue(cue, following, entered, hits, seed, speech, opts, written)
    written.controls.extend(_setup_drums())
    return Composition(
        notes=tuple(n for n in written.notes if n.end_s > n.start_s and n.start_s < plan.duration_s),
        controls=tuple(written.controls),
        programs=tuple(written.programs),
        beat_times=score_beats(plan),
        meters=tuple(
            sorted(
                [
                    *(m for cue in plan.cues for m in _meters(cue)),
                    *((start, 4) for start, _, _ in _silences_before(plan)),
                ]
            )
        ),
        markers=tuple(
            (c.start_s, f"Cue {c.id + 1}: {c.key}, {c.mood}, {c.tempo_bpm:.0f} bpm") for c in plan.cues
        ),
        end_s=plan.duration_s,
    )


def score_beats(plan: CuePlan) -> tuple[float, ...]:
    """All cues' beats in one increasing list from the film's start, extended past the end at the last
    tempo for the tails. Silence before a cue (spotted `none`) holds a whole number of beats at the cue's
    tempo, so the cue's downbeat falls on a beat of the map."""
    beats: list[float] = []
    for start_s, end_s, cue in _silences_before(plan):
        step = cue.beat_times[1] - cue.beat_times[0]
        count = max(1, round((end_s - start_s) / step))
        beats.extend(start_s + (end_s - start_s) * k / count for k in range(count))
    beats = sorted([*beats, *(t for cue in plan.cues for t in cue.beat_times[:-1])])
    last = plan.cues[-1].beat_times
    step = last[-1] - last[-2]
    beats.extend(last[-1] + step * k for k in range(64))
    return tuple(beats)


def _silences_before(plan: CuePlan) -> list[tuple[float, float, Cue]]:
    """(start, end, the cue after it) of each silence before a cue: the film's start before the first
    cue, and the gaps between cues."""
    gaps = []
    at = 0.0
    for cue in plan.cues:
        if cue.start_s > at + 1e-6:
            gaps.append((at, cue.start_s, cue))
        at = cue.end_s
    return gaps


def _meters(cue: Cue) -> list[tuple[float, int]]:
    beats = len(cue.beat_times) - 1
    meters = [(cue.start_s, min(cue.meter, beats))]
    remainder = beats % cue.meter
    if beats > cue.meter and remainder:
        meters.append((cue.beat_times[beats - remainder], remainder))
    return meters


def _compose_cue(
    cue: Cue,
    following: Cue | None,
    entered: bool,
    hits: tuple[Hit, ...],
    seed: int,
    speech: tuple[tuple[float, float], ...],
    opts: ComposeOptions,
    written: Parts,
) -> None:
    clock = Clock(cue)
    spans = _harmonic_spans(cue, clock.beats)
    chords = _chords(cue, following, len(spans), seed)
    motif = _motif(seed)
    crossfade = min(opts.crossfade_s, following.duration_s / 2) if following else 0.0
    channels = dict(zip(ROLES, CHANNEL_BANKS[cue.id % 2], strict=True))
    frame = Frame(cue, clock, tuple(spans), tuple(chords), channels, seed)
    voice = speech if opts.thin_under_speech else ()
    notes = [
        *parts.pad(frame, crossfade),
        *parts.bass(frame),
        *parts.accompaniment(frame),
        *(parts.melody(frame, motif, voice) if cue.instruments.melody is not None else []),
        *texture.pulse(frame),
        *texture.brass(frame),
        *percussion.drums(frame),
    ]
    notes = _clear_the_voice(notes, voice, channels, lift=cue.energy >= parts.STROKES_ENERGY)
    notes = [*_ended(notes, frame), *percussion.hits(frame, hits)]
    written.notes.extend(notes)
    # The channels are set up before the cue's first note: a roll into a hit on its downbeat starts
    # before the cue does, and would otherwise play on whatever the bank last held.
    _setup_channels(cue, channels, min([cue.start_s, *(n.start_s for n in notes)]), written)
    _dynamics(cue, channels, crossfade, opts.crossfade_s if entered else 0.0, written)
    written.controls.extend(_pedalled(frame, notes))


@functools.lru_cache(maxsize=64)
def _motif(seed: int) -> Motif:
    return make_motif(seed)


def _ended(notes: list[Note], frame: Frame) -> list[Note]:
    """The cue's ending as music ends: before silence, a held closing chord (`_closed`); at the film's end,
    the closing chord on the last downbeat at least ENDING_LEAD_S before the last frame, held and fading
    with the film where the cue is still, and a button (a short accented chord, then nothing) where it
    drives. Before another cue, the cue runs on into it."""
    cue = frame.cue
    if cue.ending == CLOSE:
        return _closed(notes, frame)
    if cue.ending != FILM_END:
        return notes
    final = _final_downbeat(frame)
    if final is None:
        return notes
    if cue.energy < BUTTON_ENERGY:
        return _closed(notes, frame, final, cue.end_s)
    return _button(notes, frame, final)


def _final_downbeat(frame: Frame) -> float | None:
    """The last bar's downbeat at least ENDING_LEAD_S before the cue's end (None in a cue too short)."""
    cue, clock = frame.cue, frame.clock
    downbeats = [clock.at(b) for b in range(0, clock.beats, cue.meter)]
    early = [t for t in downbeats if t <= cue.end_s - ENDING_LEAD_S and t > cue.start_s]
    return early[-1] if early else None


def _button(notes: list[Note], frame: Frame, at_s: float) -> list[Note]:
    """A driving cue's end: every part stops at the final downbeat, where the whole band strikes the
    tonic chord once, short and accented, and lets it ring."""
    cue = frame.cue
    kept = [replace(n, end_s=min(n.end_s, at_s)) for n in notes if n.start_s < at_s - 1e-6]
    length = min(BUTTON_S, cue.end_s - at_s)
    velocity = min(127, cue.velocity + 20)
    tonic = (0, "maj" if cue.mode == "major" else "min")
    voicings = {"bass": (36, 1), "pad": (55, 3), "accompaniment": (60, 3), "brass": (55, 3)}
    playing = {"bass": cue.instruments.bass, "pad": cue.instruments.pad,
               "accompaniment": cue.instruments.accompaniment, "brass": cue.instruments.brass}  # fmt: skip
    button = [
        frame.note(role, pitch, velocity, at_s, at_s + length)
        for role, (low, count) in voicings.items()
        if playing[role] is not None
        for pitch in chord_notes(cue.tonic, tonic, low)[:count]
    ]
    return [*kept, *button]


def _closed(
    notes: list[Note], frame: Frame, last_bar: float | None = None, release: float | None = None
) -> list[Note]:
    """A musical ending: the parts that move stop at the last bar (or `last_bar`), where the pad and the
    bass hold the closing chord (the cue's last chord is its tonic) until CLOSE_TAIL_S before the end
    (or `release`)."""
    cue, clock = frame.cue, frame.clock
    if last_bar is None:
        last_bar = clock.at(((clock.beats - 1) // cue.meter) * cue.meter)
    if release is None:
        release = max(last_bar + 0.1, cue.end_s - CLOSE_TAIL_S)
    held = {frame.channels[role] for role in HELD_ROLES}
    closed = []
    for note in notes:
        holds = note.channel in held and note.start_s <= last_bar + 1e-6
        if note.start_s >= last_bar - 1e-6 and not holds:
            continue  # a moving part's note in the last bar, or a held part's after its downbeat
        end = max(note.end_s, release) if holds and note.end_s >= last_bar - 1e-6 else note.end_s
        closed.append(replace(note, end_s=min(end, release)))
    return closed


def _clear_the_voice(
    notes: list[Note], speech: tuple[tuple[float, float], ...], channels: dict[str, int], lift: bool
) -> list[Note]:
    """Under dialogue, the parts that sit on the voice make room: the brass drops out, and accompaniment
    notes in the voice's register drop out too, or, in a driving cue (`lift`), go up an octave above it,
    so the cue stays as busy and bright under a line as in the clear. The melody already rests."""
    if not speech:
        return notes
    low, high = VOICE_REGISTER
    cleared = []
    for note in notes:
        on_the_voice = note.channel == channels["brass"] or (
            note.channel == channels["accompaniment"] and low <= note.pitch <= high
        )
        if not on_the_voice or not parts.under_speech(note, speech):
            cleared.append(note)
        elif lift and note.channel == channels["accompaniment"]:
            cleared.append(replace(note, pitch=note.pitch + 12 * math.ceil((high + 1 - note.pitch) / 12)))
    return cleared


def _harmonic_spans(cue: Cue, beats: int) -> list[tuple[int, int]]:
    """(first beat, beat count) of each chord: one per bar, or per two bars at fast tempos."""
    bars_per_chord = 2 if cue.tempo_bpm > FAST_TEMPO_BPM else 1
    size = cue.meter * bars_per_chord
    return [(b, min(size, beats - b)) for b in range(0, beats, size)]


def _chords(cue: Cue, following: Cue | None, count: int, seed: int) -> list[Chord]:
    """Phrase after phrase of the mood's progression; the last chord leads into the next cue.

    Before another cue the last chord is the dominant seventh of the next cue's key (a pivot, so a key
    or mode change sounds prepared), when the cue is long enough that a pivot does not colour it, and
    never a pivot holding the major third of a minor cue's tonic. The film's last cue ends on its tonic.
    """
    tonic: Chord = (0, "maj" if cue.mode == "major" else "min")
    first = drawn(seed, "progression", 1 << 16)  # phrase after phrase from there
    chords = [progression(cue.mood, cue.mode, first + i // 4)[i % 4] for i in range(count)]
    if count == 1:
        return [tonic]
    pivot: Chord | None = ((following.tonic + 7 - cue.tonic) % 12, "dom7") if following else None
    major_third = (cue.tonic + 4) % 12
    if pivot is not None and cue.mode == "minor" and major_third in chord_pitch_classes(cue.tonic, pivot):
        pivot = (7, "dom7")  # a pivot holding the tonic's major third would sound major: our own dominant
    chords[-1] = pivot if pivot is not None and count >= 3 else tonic
    return chords


def _setup_channels(cue: Cue, channels: dict[str, int], at_s: float, written: Parts) -> None:
    """Each role's program, level, place and room, from the cue's style; and the drum kit: at `at_s`."""
    style = STYLES[cue.style]
    kinds = cue.instruments
    programs = {"pad": kinds.pad, "bass": kinds.bass, "accompaniment": kinds.accompaniment,
                "melody": kinds.melody, "timpani": style.hit, "pulse": kinds.pulse,
                "brass": kinds.brass}  # fmt: skip
    reverb = min(127, style.reverb + (10 if cue.energy < 0.4 else 0))  # still cues sit in a larger room
    for role, channel in channels.items():
        program = programs[role]
        if program is None:
            continue
        written.programs.append(Program(channel, program, at_s, cue.id))
        pan = round(64 + ROLE_PAN[role] * style.width * 1.4)
        trim = 10 ** (PROGRAM_TRIM_DB.get(program, 0) / 40)  # CC7 attenuates by 40 log10(value / 127)
        volume = min(127, round(ROLE_VOLUME[role] * trim))
        for number, value in ((CC_VOLUME, volume), (CC_PAN, pan), (CC_REVERB, reverb),
                              (CC_CHORUS, style.chorus if role == "pad" else 0)):  # fmt: skip
            written.controls.append(Control(channel, number, value, at_s, cue.id))
    # Every cue sets the kit, so a cue without drums strikes its hits on a standard kit's cymbal.
    written.programs.append(
        Program(DRUM_CHANNEL, kinds.kit if kinds.kit is not None else STANDARD_KIT, at_s, cue.id)
    )


def _pedalled(frame: Frame, notes: list[Note]) -> list[Control]:
    """A still cue's piano, harp and bells are pedalled: the sustain pedal goes down just after each
    chord's downbeat and is lifted on the next, so its chords ring into each other as a pianist plays
    them, rather than as dry strokes. It is lifted for good when the cue's notes end."""
    cue = frame.cue
    if cue.energy >= parts.STILL_ENERGY:
        return []
    kinds = cue.instruments
    programs = {"pad": kinds.pad, "accompaniment": kinds.accompaniment, "melody": kinds.melody}
    channels = [frame.channels[role] for role, program in programs.items() if program in parts.RINGING]
    if not channels:
        return []
    last = max((n.end_s for n in notes if n.channel in channels), default=cue.end_s)
    changes = [frame.clock.at(first) for first, _, _ in frame.harmony()]
    controls = []
    for channel in channels:
        for t in changes:
            controls.append(Control(channel, CC_SUSTAIN, 0, t, cue.id))
            controls.append(Control(channel, CC_SUSTAIN, 127, t + PEDAL_CATCH_S, cue.id))
        controls.append(Control(channel, CC_SUSTAIN, 0, last, cue.id))
    return controls


def _setup_drums() -> list[Control]:
    return [Control(DRUM_CHANNEL, CC_VOLUME, 84, 0.0), Control(DRUM_CHANNEL, CC_REVERB, 50, 0.0)]


def _dynamics(
    cue: Cue,
    channels: dict[str, int],
    crossfade_out_s: float,
    crossfade_in_s: float,
    written: Parts,
) -> None:
    """Expression (CC11) follows the film's arousal; it rises in from the previous cue (a cue after
    silence enters at once, on its downbeat), fades the tail out over the next one, and fades the film's
    last cue to silence."""
    # The film's last cue fades with it, unless it drives: a button ends it, and does not fade.
    fades = cue.ending == FILM_END and cue.energy < BUTTON_ENERGY
    fade_out_s = min(3.0, cue.duration_s / 3) if fades else 0.0
    for t, level in cue.dynamics:
        gain = level * _ramp(t - cue.start_s, crossfade_in_s, floor=0.55)
        if fade_out_s:
            gain *= _ramp(cue.end_s - t, fade_out_s, floor=0.0)
        value = round(127 * gain)
        written.controls.extend(Control(ch, CC_EXPRESSION, value, t, cue.id) for ch in channels.values())
    if crossfade_out_s > 0:
        last_level = cue.dynamics[-1][1] if cue.dynamics else 0.7
        for k in range(1, 9):
            value = round(127 * last_level * math.cos(k / 8 * math.pi / 2))
            written.controls.append(
                Control(channels["pad"], CC_EXPRESSION, value, cue.end_s + k / 8 * crossfade_out_s, cue.id)
            )


def _ramp(elapsed_s: float, length_s: float, floor: float) -> float:
    """An equal-power rise from `floor` to 1 over `length_s` (1 when there is no ramp)."""
    if length_s <= 0 or elapsed_s >= length_s:
        return 1.0
    return floor + (1 - floor) * math.sin(max(0.0, elapsed_s) / length_s * math.pi / 2)
