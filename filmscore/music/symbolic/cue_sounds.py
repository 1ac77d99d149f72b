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
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from filmscore.music.symbolic.render_cache import keep_render, kept_render, render_key
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
    composition: Composition,
    cues: Sequence[Cue],
    soundfont: SoundFont,
    workdir: Path | None,
    cache_dir: Path | None = None,
) -> list[CueSound]:
    """These cues of the composition, each rendered alone, each ending where its ring-out has died away;
    in the cues' order. RENDER_PIECES renders run at once, the costliest cues first (see part_cost), and
    each starts as soon as another ends, so that no synthesiser waits for a longer one. A cue's MIDI file
    and its ring-out are made on the render's own thread too, beside the other render. With `cache_dir`,
    a cue rendered before exactly so is taken from the cache (render_cache.py), and a new one kept."""
    cost = note_costs(soundfont)
    jobs = []
    for cue in cues:
        part = cue_part(composition, cue)
        offset = start_beat(part, cue)
        jobs.append((part_cost(part, cost), cue, part, offset))
    jobs.sort(key=lambda job: -job[0])
    with ThreadPoolExecutor(RENDER_PIECES, thread_name_prefix="filmscore-cue") as pool:
        futures = [
            pool.submit(_cue_sound, cue, part, offset, soundfont, workdir, cache_dir)
            for _, cue, part, offset in jobs
        ]
        try:
            sounds = [future.result() for future in futures]
        except BaseException:  # a failed render or Ctrl-C: the cues not started are not rendered
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    order = {cue.id: k for k, cue in enumerate(cues)}
    return sorted(sounds, key=lambda sound: order[sound.cue_id])


def _cue_sound(
    cue: Cue,
    part: Composition,
    offset: float,
    soundfont: SoundFont,
    workdir: Path | None,
    cache_dir: Path | None,
) -> CueSound:
    """One cue's part rendered from the beat it starts on to its ring-out's end (or taken from the
    cache, where that very render was kept)."""
    length_s = cue.end_s + CLEAN_TAIL_S - offset
    at_least = round((cue.end_s + RING_OUT_MIN_S - offset) * MUSIC_SAMPLE_RATE)
    piece = midi_bytes(moved_back(part, offset, length_s))
    if cache_dir is None:
        return CueSound(cue.id, offset, _rendered(piece, soundfont, length_s, at_least, workdir))
    key = render_key(piece, soundfont, _recipe(length_s, at_least))
    sound = kept_render(cache_dir, key, workdir, f"kept-cue{cue.id}-{next(_KEPT_COPIES)}")
    if sound is None:
        sound = _rendered(piece, soundfont, length_s, at_least, workdir)
        keep_render(cache_dir, key, sound)
    return CueSound(cue.id, offset, sound)


def _rendered(
    piece: bytes, soundfont: SoundFont, length_s: float, at_least: int, workdir: Path | None
) -> AudioClip | AudioFile:
    """A cue's MIDI file rendered `length_s` long, and cut where its ring-out has died away."""
    [render] = render_separately([piece], soundfont, length_s, workdir)
    return _shortened(render, ring_out_end(render, at_least))


_KEPT_COPIES = itertools.count()  # names a kept render's copy in the work folder


def _recipe(length_s: float, at_least: int) -> str:
    """How a cue's MIDI file becomes its sound: the render's length and the ring-out's rule."""
    return f"{length_s!r}|{at_least}|{CLEAN_FLOOR_DB}|{RING_OUT_CHUNK}|{MUSIC_SAMPLE_RATE}"


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
    """The peak of each RING_OUT_CHUNK frames of a block (blocks are whole numbers of chunks long), read
    over the block's samples as laid out (frames of interleaved channels), in one reduction."""
    whole = len(block) - len(block) % RING_OUT_CHUNK
    samples = np.ascontiguousarray(block[:whole]).reshape(-1, RING_OUT_CHUNK * block.shape[1])
    peaks = np.maximum(samples.max(axis=1), -samples.min(axis=1))
    return np.append(peaks, np.abs(block[whole:]).max()) if whole < len(block) else peaks


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
