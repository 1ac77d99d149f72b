"""Scoring from a user's own music library: `filmscore library index DIR` measures every track (music
emotion over time, tempo, beats, key, loudness) into DIR/filmscore-library.json, and the `library`
generator picks, for each cue, the excerpt whose emotion and tempo fit it best. Excerpts start on a
bar, placed so that a downbeat falls on the cue's cut, and cross-fade into each other at cue changes;
the result then goes through the same ducking, loudness and mux as composed music.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from filmscore.core.atomic import OutputSet, climbs_out
from filmscore.core.codec import DataError, from_plain
from filmscore.core.errors import InputError, UsageError
from filmscore.core.wording import MAX_VALUE, one_line, quoted
from filmscore.media.probe import MUSIC_SAMPLE_RATE, decode_audio
from filmscore.music.generators import (
    Excerpt,
    Music,
    MusicGenerator,
    MusicRequest,
    add_faded,
    film_buffer,
)
from filmscore.music.mer import MER_RATE, MerBackend
from filmscore.music.planning import Cue, CuePlan

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff"}
)
INDEX_NAME = "filmscore-library.json"
INDEX_VERSION = 1
WINDOW_S = 10.0  # MER is read over windows this long ...
WINDOW_HOP_S = 5.0  # ... every this many seconds
BEATS_PER_BAR = 4  # excerpts start on every fourth beat: most library music is in 4
CROSSFADE_S = 2.0  # excerpts overlap this long at cue changes, with equal-power fades
FINAL_FADE_S = 3.0  # the film's last excerpt fades out over this long
TEMPO_WEIGHT = 0.3  # cost of an octave of tempo mismatch, beside the valence/arousal distance
REPEAT_COST = 0.15  # cost of playing the same track in two cues in a row
LOOP_COST = 0.2  # cost of an excerpt that runs out before its cue ends and must loop


@dataclass(frozen=True)
class Window:
    start_s: float
    valence: float
    arousal: float
    confidence: float


@dataclass(frozen=True)
class Track:
    path: str  # relative to the library folder
    duration_s: float
    tempo_bpm: float
    tonic: int
    mode: str
    loudness_lufs: float | None  # None for silence
    size: int  # with mtime_ns, tells whether the file changed since it was indexed
    mtime_ns: int
    beats: tuple[float, ...]  # beat onsets, seconds
    windows: tuple[Window, ...]

    @property
    def title(self) -> str:
        return Path(self.path).stem

    def bars(self) -> tuple[float, ...]:
        return self.beats[::BEATS_PER_BAR] or (0.0,)


@dataclass(frozen=True)
class Skipped:
    """A file that could not be analysed, and why; tried again only once it changes."""

    path: str
    why: str
    size: int
    mtime_ns: int

    def unchanged(self, stat: os.stat_result) -> bool:
        return (self.size, self.mtime_ns) == (stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class LibraryIndex:
    folder: Path
    tracks: tuple[Track, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True)
class _Earlier:
    tracks: dict[str, Track]
    skipped: dict[str, Skipped]


def find_tracks(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder. Give the folder that holds your music.")
    tracks = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    if not tracks:
        raise InputError(f"{folder} holds no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))}).")
    return tracks


def index_library(
    folder: Path, mer: MerBackend, on_track: Callable[[int, int, str], None] | None = None
) -> LibraryIndex:
    """Measure every track of `folder` (reusing unchanged ones from an earlier index) and write the index
    atomically. A file that cannot be decoded is listed as skipped, and the others go on."""
    paths = find_tracks(folder)
    earlier = _earlier_index(folder)
    tracks, skipped = [], []
    for i, path in enumerate(paths):
        relative = str(path.relative_to(folder))
        if on_track:
            on_track(i, len(paths), relative)
        stat = path.stat()
        known = earlier.tracks.get(relative) if earlier else None
        if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            tracks.append(known)
            continue
        known_skip = earlier.skipped.get(relative) if earlier else None
        if known_skip and known_skip.unchanged(stat):
            skipped.append(known_skip)  # the same broken file: no use decoding it again
            continue
        try:
            tracks.append(analyse_track(path, relative, mer))
        except InputError as exc:
            skipped.append(Skipped(relative, str(exc), stat.st_size, stat.st_mtime_ns))
    index = LibraryIndex(folder, tuple(tracks), tuple(skipped))
    with OutputSet() as outputs:
        outputs.write(folder / INDEX_NAME, json.dumps(_index_dict(index), indent=1).encode())
    return index


def analyse_track(path: Path, relative: str, mer: MerBackend) -> Track:
    import librosa

    samples = decode_audio(path, MER_RATE, 1)[:, 0]
    duration = len(samples) / MER_RATE
    if duration < 1.0:
        raise InputError(f"{path.name} is shorter than a second")
    tempo, beats = librosa.beat.beat_track(y=samples, sr=MER_RATE, units="time")
    windows = []
    for start in np.arange(0.0, max(duration - WINDOW_S, 0.0) + 1e-6, WINDOW_HOP_S):
        segment = samples[round(start * MER_RATE) : round((start + WINDOW_S) * MER_RATE)]
        heard = mer.estimate(segment, MER_RATE)
        windows.append(Window(round(float(start), 3), heard.valence, heard.arousal, heard.confidence))
    tonic, mode = _track_key(samples, mer)
    stat = path.stat()
    return Track(
        path=relative,
        duration_s=round(duration, 3),
        tempo_bpm=round(float(np.atleast_1d(tempo)[0]), 2),
        tonic=tonic,
        mode=mode,
        loudness_lufs=_loudness(samples),
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        beats=tuple(round(float(t), 4) for t in beats),
        windows=tuple(windows),
    )


def _track_key(samples: np.ndarray, mer: MerBackend) -> tuple[int, str]:
    """The whole track's key, from its chroma (the first two minutes: enough to hear the home key)."""
    features = mer.estimate(samples[: 120 * MER_RATE], MER_RATE).features
    return features.tonic, features.mode


def _loudness(samples: np.ndarray) -> float | None:
    import pyloudnorm

    if len(samples) < MER_RATE // 2:
        return None
    value = pyloudnorm.Meter(MER_RATE).integrated_loudness(samples.astype(np.float64))
    return round(float(value), 2) if math.isfinite(value) else None


def load_index(folder: Path) -> LibraryIndex:
    path = folder / INDEX_NAME
    hint = f"Run: filmscore library index {folder}"
    if not folder.is_dir():
        raise InputError(f"--library {folder} is not a folder. Give the folder that holds your music.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            raise DataError("not a version 1 index")
        tracks = from_plain(tuple[Track, ...], data.get("tracks"))
        skipped = from_plain(tuple[Skipped, ...], data.get("skipped", []))
        for track in tracks:
            _check_track(track, folder)
    except FileNotFoundError:
        raise InputError(f"{folder} has no library index yet. {hint}") from None
    except (OSError, ValueError, RecursionError) as exc:  # DataError and JSON's errors are ValueErrors
        raise InputError(
            f"{path} is not a filmscore library index ({one_line(str(exc), MAX_VALUE * 2)}). {hint}"
        ) from None
    if not tracks:
        raise InputError(f"the library index of {folder} lists no usable tracks. {hint}")
    return LibraryIndex(folder, tracks, skipped)


def _earlier_index(folder: Path) -> _Earlier | None:
    try:
        index = load_index(folder)
    except InputError:
        return None
    return _Earlier({t.path: t for t in index.tracks}, {s.path: s for s in index.skipped})


def _check_track(track: Track, folder: Path) -> None:
    """Refuse an entry no index we write holds: a path that leaves the library folder (an index is data
    anyone may hand over, and its tracks are mixed into the film), or measures out of their range."""
    inside = folder.resolve()
    where = f"track {quoted(track.path)}"
    if climbs_out(track.path):
        raise DataError(f"{where} lies outside the library folder")
    if not (inside / track.path).resolve().is_relative_to(inside):
        raise DataError(f"{where} links outside the library folder")
    if not track.windows or track.duration_s <= 0 or track.tempo_bpm <= 0:
        raise DataError(f"{where} has no emotion windows, duration or tempo")
    if not 0 <= track.tonic < 12 or track.mode not in ("major", "minor"):
        raise DataError(f"{where} has no key")
    if any(not -1 <= v <= 1 for w in track.windows for v in (w.valence, w.arousal)):
        raise DataError(f"{where} has a valence or arousal outside -1 .. 1")


def _index_dict(index: LibraryIndex) -> dict:
    return {
        "version": INDEX_VERSION,
        "tracks": [asdict(track) for track in index.tracks],
        "skipped": [asdict(s) for s in index.skipped],
    }


@dataclass(frozen=True)
class _Choice:
    track: Track
    bar_s: float  # the bar of the track that lands on the cue's cut
    cost: float


class LibraryGenerator(MusicGenerator):
    """Music for each cue from the user's indexed library."""

    name = "library"

    def __init__(self, library: Path | None = None) -> None:
        if library is None:
            raise UsageError("--generator library needs --library DIR, a folder of your music")
        self.index = load_index(library)

    def generate(self, request: MusicRequest) -> Music:
        plan = request.plan
        frames = round(plan.duration_s * MUSIC_SAMPLE_RATE)
        out, result = film_buffer(frames, request.workdir, "library-music")
        excerpts: list[Excerpt] = []
        previous: Track | None = None
        for cue in plan.cues:
            choice = self.choose(cue, previous)
            excerpts.extend(self._place(choice, cue, plan, out))
            previous = choice.track
        if isinstance(out, np.memmap):
            out.flush()
        details = {
            "library": str(self.index.folder),
            "licence": "the user's own recordings: each track's licence applies (see the cue sheet)",
        }
        return Music(result(out), None, details, excerpts=tuple(excerpts))

    def choose(self, cue: Cue, previous: Track | None) -> _Choice:
        """The track and bar whose music, over the cue's length, is closest to the cue's emotion and tempo."""
        return min(
            (
                _Choice(track, bar, _cost(track, bar, cue, previous))
                for track in self.index.tracks
                for bar in track.bars()
            ),
            key=lambda choice: choice.cost,
        )

    def _place(self, choice: _Choice, cue: Cue, plan: CuePlan, out: np.ndarray) -> list[Excerpt]:
        """Add the chosen excerpt into `out`, faded in before the cut and out after the cue's end. A track
        shorter than the cue plays again from its first bar, cross-faded into itself."""
        track = choice.track
        lead = min(CROSSFADE_S / 2, cue.start_s, choice.bar_s)
        tail = CROSSFADE_S / 2 if cue.end_s < plan.duration_s else 0.0
        at, end = cue.start_s - lead, cue.end_s + tail
        start_in_track, fade_in = choice.bar_s - lead, lead
        placed: list[Excerpt] = []
        while end - at > 1e-3:
            seconds = min(end - at, track.duration_s - start_in_track)
            audio = decode_audio(
                self.index.folder / track.path, MUSIC_SAMPLE_RATE, 2, start_in_track, seconds
            )
            last = at + len(audio) / MUSIC_SAMPLE_RATE >= end - 1e-3
            fade_out = (FINAL_FADE_S if tail == 0.0 else tail) if last else CROSSFADE_S / 2
            add_faded(out, audio, round(at * MUSIC_SAMPLE_RATE), fade_in, fade_out)
            placed.append(
                Excerpt(
                    cue.id, track.path, start_in_track, start_in_track + len(audio) / MUSIC_SAMPLE_RATE, at
                )
            )
            advance = len(audio) / MUSIC_SAMPLE_RATE - CROSSFADE_S / 2
            if last or advance <= CROSSFADE_S / 2:
                break  # done, or a track too short to loop: the rest of the cue stays silent
            at += advance
            start_in_track, fade_in = max(0.0, track.bars()[0] - CROSSFADE_S / 2), CROSSFADE_S / 2
        return placed


def _cost(track: Track, bar_s: float, cue: Cue, previous: Track | None) -> float:
    """How badly an excerpt from `bar_s` fits the cue: its emotion's distance from the cue's, plus its
    tempo's distance in octaves, a repeat of the previous cue's track, and running out before the cue ends."""
    tempo = TEMPO_WEIGHT * _octave_distance(track.tempo_bpm, cue.tempo_bpm)
    repeat = REPEAT_COST if track is previous else 0.0
    loop = LOOP_COST if track.duration_s - bar_s < cue.duration_s else 0.0
    return _affect_distance(track, bar_s, cue) + tempo + repeat + loop


def _affect_distance(track: Track, bar_s: float, cue: Cue) -> float:
    """Distance on the valence/arousal plane between the cue and the windows the excerpt plays,
    weighted by MER's confidence in each."""
    span_end = bar_s + cue.duration_s
    windows = [w for w in track.windows if w.start_s + WINDOW_S > bar_s and w.start_s < span_end]
    windows = windows or list(track.windows)
    weights = np.array([max(w.confidence, 0.05) for w in windows])
    valence = float(np.average([w.valence for w in windows], weights=weights))
    arousal = float(np.average([w.arousal for w in windows], weights=weights))
    return math.hypot(valence - cue.valence, arousal - cue.arousal)


def _octave_distance(a_bpm: float, b_bpm: float) -> float:
    return abs(math.log2(max(a_bpm, 1.0) / max(b_bpm, 1.0)))


def library_summary(index: LibraryIndex) -> str:
    lines = [f"{len(index.tracks)} tracks indexed in {index.folder / INDEX_NAME}"]
    lines += [f"skipped {s.path}: {s.why}" for s in index.skipped]
    return os.linesep.join(lines)
