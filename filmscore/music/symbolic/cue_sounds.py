"""Each cue rendered as a piece of its own, and the music as their sum.

A cue's part of the score (kept.cue_part: its notes, its bank's controls until its tail has faded, its
programs and the drums' set-up) is moved back to the beat it starts on and rendered alone, from its first
beat to the end of its natural ring-out: at least RING_OUT_MIN_S past the cue's end, and on until its
sound has fallen CLEAN_FLOOR_DB under its peak (at most CLEAN_TAIL_S). That render is the cue's clean
file (`cues/cue-NN.wav`), which an editor can trim or extend. Placed at their cues, the renders sum to the
music of the whole film: the music is made that way, so the cue files and the mix agree sample for
sample, and each cue costs a render of its own length only (a 2-hour film's hundred cues are not a
hundred 2-hour renders).

Moving a part back by a whole number of beats keeps every event on its tick (the tempo map is the score's
own, from that beat on), so the cue plays exactly as score.mid writes it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from filmscore.media.audio import AudioFile, AudioWriter, blocks
from filmscore.media.probe import MUSIC_SAMPLE_RATE, AudioClip
from filmscore.music.generators import RENDER_PIECES, RING_OUT_MIN_S, CueSound
from filmscore.music.planning import Cue
from filmscore.music.symbolic.kept import cue_part
from filmscore.music.symbolic.midi import midi_bytes
from filmscore.music.symbolic.render import SoundFont, note_costs, render_separately
from filmscore.music.symbolic.score import RELEASE_S, Composition, Note, programs_in_time

CLEAN_TAIL_S = 4.0  # a cue is rendered this far past its end: its last chord, the release and the room
CLEAN_FLOOR_DB = -60.0  # past that, a cue file ends where its sound has fallen this far under its peak


def start_beat(part: Composition, cue: Cue) -> float:
    """The beat of the score's tempo map that a cue's render starts on: the last at or before the cue and
    its first note (a roll into its downbeat starts before it)."""
    first = min([cue.start_s, *(n.start_s for n in part.notes)])
    beats = part.beat_times
    index = bisect.bisect_right(beats, first + 1e-9) - 1
    return beats[index] if index >= 0 else 0.0


def moved_back(part: Composition, offset_s: float, end_s: float) -> Composition:
    """The part with every time `offset_s` earlier (a beat of its tempo map), ending at `end_s` (in the
    moved time). Events before the offset (the drums' set-up at the film's start) come at its start."""

    def at(t_s: float) -> float:
        return max(0.0, t_s - offset_s)

    beats = tuple(b - offset_s for b in part.beat_times if b >= offset_s - 1e-9)
    return replace(
        part,
        notes=tuple(replace(n, start_s=at(n.start_s), end_s=at(n.end_s)) for n in part.notes),
        controls=tuple(replace(c, t_s=at(c.t_s)) for c in part.controls),
        programs=tuple(replace(p, t_s=at(p.t_s)) for p in part.programs),
        beat_times=beats,
        meters=(),
        markers=(),
        end_s=end_s,
    )


def render_cue_sounds(
    composition: Composition, cues: Sequence[Cue], soundfont: SoundFont, workdir: Path | None
) -> list[CueSound]:
    """These cues of the composition, each rendered alone, each ending where its ring-out has died away;
    in the cues' order. They render RENDER_PIECES at a time, the costliest first, so that the cues rendered
    together take about as long as each other (see part_cost)."""
    jobs = []
    cost = note_costs(soundfont)
    for cue in cues:
        part = cue_part(composition, cue)
        offset = start_beat(part, cue)
        length_s = cue.end_s + CLEAN_TAIL_S - offset
        jobs.append((cue, offset, length_s, part_cost(part, cost), moved_back(part, offset, length_s)))
    jobs.sort(key=lambda job: -job[3])
    sounds = []
    for first in range(0, len(jobs), RENDER_PIECES):
        batch = jobs[first : first + RENDER_PIECES]
        pieces = [midi_bytes(job[4]) for job in batch]
        renders = render_separately(pieces, soundfont, [job[2] for job in batch], workdir)
        for (cue, offset, *_), render in zip(batch, renders, strict=True):
            end = ring_out_end(render, round((cue.end_s + RING_OUT_MIN_S - offset) * render.sample_rate))
            sounds.append(CueSound(cue.id, offset, _shortened(render, end)))
    order = {cue.id: k for k, cue in enumerate(cues)}
    return sorted(sounds, key=lambda sound: order[sound.cue_id])


def part_cost(part: Composition, cost: Callable[[Note, int], float] | None) -> float:
    """A part's synthesis work: its voices' sounding time, where the SoundFont tells each note's voices
    (in MuseScore General a string ensemble note starts 6 voices and a flute's 1), else its notes' time
    and a typical release each."""
    if cost is None:
        return sum(note.end_s - note.start_s + RELEASE_S for note in part.notes)
    program_at = programs_in_time(part.programs)
    return sum(cost(note, program_at(note)) for note in part.notes)


RING_OUT_CHUNK = 256  # frames: the sound's level is read once, as the peak of each chunk this long


def ring_out_end(sound: AudioClip | AudioFile, at_least: int) -> int:
    """The frame after the last one above CLEAN_FLOOR_DB under the sound's peak, and at least
    `at_least` (within the sound). One pass keeps each chunk's peak; the last loud chunk alone is read
    again for its last loud frame."""
    chunks = [_chunk_peaks(sound.read(first, last)) for first, last in blocks(sound.frames)]
    peaks = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if not len(peaks):
        return min(sound.frames, at_least)
    floor = float(peaks.max()) * 10 ** (CLEAN_FLOOR_DB / 20)
    loud = np.flatnonzero(peaks > floor)
    last_loud = 0
    if len(loud):
        first = int(loud[-1]) * RING_OUT_CHUNK
        frames = np.abs(sound.read(first, min(sound.frames, first + RING_OUT_CHUNK))).max(axis=1)
        last_loud = first + int(np.flatnonzero(frames > floor)[-1]) + 1
    return min(sound.frames, max(at_least, last_loud))


def _chunk_peaks(block: np.ndarray) -> np.ndarray:
    """The peak of each RING_OUT_CHUNK frames of a block (blocks are whole numbers of chunks long)."""
    level = np.abs(block).max(axis=1)
    whole = len(level) - len(level) % RING_OUT_CHUNK
    peaks = level[:whole].reshape(-1, RING_OUT_CHUNK).max(axis=1)
    return np.append(peaks, level[whole:].max()) if whole < len(level) else peaks


def _shortened(sound: AudioClip | AudioFile, frames: int) -> AudioClip | AudioFile:
    if isinstance(sound, AudioClip):
        return AudioClip(sound.samples[:frames], sound.sample_rate)
    return AudioFile.fitted(sound.path, frames, sound.channels, sound.sample_rate)


def placed_sum(
    sounds: Sequence[CueSound], frames: int, workdir: Path | None, name: str = "music"
) -> AudioClip | AudioFile:
    """The film's music: each cue's sound added at its start, cut at the film's end."""
    rate = MUSIC_SAMPLE_RATE
    starts = [round(s.start_s * rate) for s in sounds]
    total = AudioWriter(frames, 2, rate, workdir, name)
    for first, last in blocks(frames):
        block = np.zeros((last - first, 2), np.float32)
        for sound, start in zip(sounds, starts, strict=True):
            lo, hi = max(first, start), min(last, start + sound.audio.frames)
            if lo < hi:
                block[lo - first : hi - first] += sound.audio.read(lo - start, hi - start)
        total.write(block)
    return total.finish()
