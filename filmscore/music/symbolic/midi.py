"""Write a Composition as a Standard MIDI File (type 1) with mido.

The file carries the real tempo map (every cue's tempo and its glide into the next), the meters and the
cues as markers, so a composer who imports score.mid into a DAW finds bars lined up with the picture.
It ends with all-notes-off and all-sound-off on every channel: a synthesiser left holding a sustained
note never finishes a file render.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import mido
import numpy as np

from filmscore.music.symbolic.score import CHANNEL_BANKS, ROLES, Composition, without_overlaps

TICKS_PER_BEAT = 480
TEMPO_CHANGE = 1e-3  # relative beat-length change below which no new tempo event is written
ALL_SOUND_OFF, ALL_NOTES_OFF = 120, 123
END_MARGIN_S = 0.25  # the all-off messages come this long after the film's end


class TempoMap:
    """Converts seconds to MIDI ticks along the composition's beat grid."""

    def __init__(self, beat_times: tuple[float, ...]) -> None:
        self.times = np.asarray(beat_times, dtype=float)
        self.first_beat_s = float(self.times[1] - self.times[0])
        self.last_beat_s = float(self.times[-1] - self.times[-2])

    def beat_at(self, t_s: float) -> float:
        return float(self.beats_at(np.array([t_s]))[0])

    def beats_at(self, t_s: np.ndarray) -> np.ndarray:
        """The beat (fractional) of each time: along the grid, and at the first and last beat's length
        before and after it."""
        inside = np.interp(t_s, self.times, np.arange(len(self.times), dtype=float))
        before = (t_s - self.times[0]) / self.first_beat_s
        after = len(self.times) - 1 + (t_s - self.times[-1]) / self.last_beat_s
        return np.where(t_s < self.times[0], before, np.where(t_s > self.times[-1], after, inside))

    def tick(self, t_s: float) -> int:
        return int(self.ticks(np.array([t_s]))[0])

    def ticks(self, times_s: np.ndarray) -> np.ndarray:
        """The tick of each time, all at once (a score has thousands of notes), rounded half to even
        as Python's round is."""
        return np.maximum(0, np.rint(self.beats_at(times_s) * TICKS_PER_BEAT)).astype(np.int64)

    def tempo_events(self) -> list[tuple[int, mido.MetaMessage]]:
        events = []
        previous = 0.0
        for beat, length in enumerate(np.diff(self.times)):
            if abs(length - previous) > TEMPO_CHANGE * length:
                events.append(
                    (beat * TICKS_PER_BEAT, mido.MetaMessage("set_tempo", tempo=round(length * 1e6)))
                )
                previous = float(length)
        return events


def to_midi(composition: Composition) -> mido.MidiFile:
    """The composition as a Standard MIDI File: a conductor track (tempo, meters, markers) and a track per
    channel. Messages are made without mido's checks: every value comes from the composer, already in
    range (Frame.note clamps velocities; pitches, programs and controls are the composer's own), and the
    checks took a tenth of a 60 s score's compose and render."""
    tempo = TempoMap(composition.beat_times)
    conductor: list[tuple[int, mido.Message | mido.MetaMessage]] = [*tempo.tempo_events()]
    for t_s, beats in composition.meters:
        conductor.append(
            (tempo.tick(t_s), mido.MetaMessage("time_signature", numerator=beats, denominator=4))
        )
    for t_s, text in composition.markers:
        conductor.append((tempo.tick(t_s), mido.MetaMessage("marker", text=text)))
    channels: dict[int, list[tuple[int, mido.Message | mido.MetaMessage]]] = {}
    program_ticks = tempo.ticks(_times(p.t_s for p in composition.programs))
    for program, tick in zip(composition.programs, map(int, program_ticks), strict=True):
        msg = mido.Message(
            "program_change", skip_checks=True, channel=program.channel, program=program.program
        )
        channels.setdefault(program.channel, []).append((tick, msg))
    control_ticks = tempo.ticks(_times(c.t_s for c in composition.controls))
    for control, tick in zip(composition.controls, map(int, control_ticks), strict=True):
        msg = mido.Message("control_change", skip_checks=True, channel=control.channel,
                           control=control.number, value=control.value)  # fmt: skip
        channels.setdefault(control.channel, []).append((tick, msg))
    _add_notes(composition, tempo, channels)
    end_tick = tempo.tick(composition.end_s + END_MARGIN_S)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_track("filmscore conductor", conductor))
    for channel in range(16):
        events = channels.get(channel, [])
        events += [(end_tick, _control(channel, ALL_NOTES_OFF)), (end_tick, _control(channel, ALL_SOUND_OFF))]
        midi.tracks.append(_track(_track_name(channel), events))
    return midi


def _add_notes(
    composition: Composition,
    tempo: TempoMap,
    channels: dict[int, list[tuple[int, mido.Message | mido.MetaMessage]]],
) -> None:
    """Each note's on and off messages, added to its channel's events. A function of its own, so that
    the notes' list and ticks are let go before the tracks are built (the file's peak of memory)."""
    notes = without_overlaps(composition.notes)
    starts = tempo.ticks(_times(note.start_s for note in notes))
    ends = tempo.ticks(_times(note.end_s for note in notes))
    for note, start, end in zip(notes, map(int, starts), map(int, ends), strict=True):
        events = channels.setdefault(note.channel, [])
        on = mido.Message("note_on", skip_checks=True, channel=note.channel, note=note.pitch,
                          velocity=note.velocity)  # fmt: skip
        off = mido.Message("note_off", skip_checks=True, channel=note.channel, note=note.pitch, velocity=0)
        events.extend([(start, on), (max(end, start + 1), off)])


def _times(times_s: Iterable[float]) -> np.ndarray:
    """Times as one array: 8 bytes each, where a list of floats holds 32 (a 2-hour score has 200,000
    notes, and its messages are built beside them)."""
    return np.fromiter(times_s, dtype=float)


def midi_bytes(composition: Composition) -> bytes:
    """The Standard MIDI File's bytes. mido holds a message as a Python object of about 150 bytes: a
    2-hour score's file object takes about 90 MB for 1 MB of file, so callers keep the bytes, and one
    file object lives at a time."""
    buffer = io.BytesIO()
    to_midi(composition).save(file=buffer)
    return buffer.getvalue()


def _control(channel: int, number: int) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=number, value=0)


def _track_name(channel: int) -> str:
    if channel == 9:
        return "percussion"
    for bank, channels in enumerate(CHANNEL_BANKS):
        if channel in channels:
            return f"{ROLES[channels.index(channel)]} {'AB'[bank]}"
    return f"channel {channel + 1}"


# At equal ticks: programs and controls first, then note-offs before note-ons, so a repeated note
# sounds again instead of being cut by its predecessor's release.
_ORDER = {"program_change": 0, "control_change": 1, "note_off": 2, "note_on": 3}


def _track(name: str, events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
    events = sorted(events, key=lambda e: (e[0], _ORDER.get(e[1].type, -1)))
    now = 0
    for tick, message in events:
        message.time = tick - now  # in place: a copy per message doubled the file's memory while it was built
        track.append(message)
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track
