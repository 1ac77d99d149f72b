"""Telling a shot again by its content, never by its time: its thumbnail's picture hash and its sound's
level envelope, both of which a re-encode keeps. A re-cut (scoring/recut.py) matches its shots to the
earlier cut's with it, and the analysis cache (cache.py) recognises shots it has read before in other
films of a batch, so the same shot keeps the same reading.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from filmscore.analysis.flow import Analysis
from filmscore.analysis.fusion import FusionOptions, ShotEmotion, timeline
from filmscore.analysis.thumbnails import picture_hash
from filmscore.core.affect import Affect, Mood

MAX_HASH_BITS = 12  # of 64: a re-encode or a frame's difference moves a few, another picture about 32
MAX_ENVELOPE_DB = 3.0  # mean level difference over the shot's parts: a codec moves levels by a fraction
AUDIBLE_DB = -50.0  # a shot whose envelope passes this somewhere has sound enough to be told by it


@dataclass(frozen=True)
class ShotPrint:
    """What a shot is recognised by."""

    picture_hash: int | None
    envelope_db: tuple[float, ...]
    duration_s: float


@dataclass(frozen=True)
class ShotReading:
    """What was read of a shot, to give to the same shot elsewhere."""

    valence: float
    arousal: float
    confidence: float
    label: Mood
    sources: dict[str, Affect | None]


def shot_prints(analysis: Analysis) -> tuple[ShotPrint, ...]:
    prints = []
    for j, shot in enumerate(analysis.shots):
        jpeg = analysis.thumbnails[j] if j < len(analysis.thumbnails) else b""
        envelope = analysis.sounds[j].envelope_db if j < len(analysis.sounds) else ()
        prints.append(ShotPrint(picture_hash(jpeg) if jpeg else None, envelope, shot.duration_s))
    return tuple(prints)


def content_digests(analysis: Analysis) -> tuple[str | None, ...]:
    """Each shot's exact content, as the analysis cache recognises it: a SHA-256 of its picture (the
    thumbnail's bytes and what the visual backend measured over all its frames), its sound (the digest
    of its level, frame by frame) and its length in frames. None for a shot that lacks one of them."""
    digests: list[str | None] = []
    frames = max(analysis.info.fps, 1.0)
    for j, shot in enumerate(analysis.shots):
        jpeg = analysis.thumbnails[j] if j < len(analysis.thumbnails) else b""
        sound = analysis.sounds[j].digest if j < len(analysis.sounds) else ""
        if not jpeg or not sound:
            digests.append(None)
            continue
        picture = analysis.pictures[j] if j < len(analysis.pictures) else {}
        content = hashlib.sha256(jpeg)
        content.update(repr(sorted(picture.items())).encode())
        content.update(f"|{sound}|{round(shot.duration_s * frames)}".encode())
        digests.append(content.hexdigest())
    return tuple(digests)


def plausible(reading: ShotReading) -> bool:
    """Whether a reading read back holds values a reading can have."""
    values = [reading.valence, reading.arousal]
    values += [v for a in reading.sources.values() if a is not None for v in (a.valence, a.arousal)]
    weights = [reading.confidence, *(a.weight for a in reading.sources.values() if a is not None)]
    return all(-1 <= v <= 1 for v in values) and all(0 <= w <= 1 for w in weights)


def reading_of(emotion: ShotEmotion) -> ShotReading:
    return ShotReading(emotion.valence, emotion.arousal, emotion.confidence, emotion.label, emotion.sources)


def distance(new: ShotPrint, old: ShotPrint, frame_s: float) -> float | None:
    """How far a shot is from another (0: the same), or None when it is not that shot. The same shot
    looks alike (its picture hash within MAX_HASH_BITS) and sounds alike (its envelope within
    MAX_ENVELOPE_DB); where the picture alone cannot tell (noise, flicker, a moving crowd), sounding the
    same within a third of that, with a voice or sound in it, is enough. A trimmed shot (lengths more than
    a frame apart) can only look alike: its envelope is spread over another length."""
    if new.picture_hash is not None and old.picture_hash is not None:
        bits = bin(new.picture_hash ^ old.picture_hash).count("1")
    else:
        bits = 64
    if not same_length(new.duration_s, old.duration_s, frame_s):
        return bits / 64 + 0.5 if bits <= MAX_HASH_BITS else None
    if len(new.envelope_db) != len(old.envelope_db):
        return None
    level = float(np.mean(np.abs(np.subtract(new.envelope_db, old.envelope_db)))) if new.envelope_db else 0.0
    heard = bool(new.envelope_db) and max(new.envelope_db) > AUDIBLE_DB
    looks_alike = bits <= MAX_HASH_BITS and level <= MAX_ENVELOPE_DB
    sounds_same = heard and level <= MAX_ENVELOPE_DB / 3
    if not (looks_alike or sounds_same):
        return None
    return bits / 64 + level / 30


def same_length(duration_s: float, other_s: float, frame_s: float) -> bool:
    """Whether two shots last as long, to a frame: a shot trimmed by a frame or more is another length."""
    return abs(duration_s - other_s) <= frame_s


def with_readings(analysis: Analysis, readings: Mapping[int, ShotReading], fusion: FusionOptions) -> Analysis:
    """The analysis with these shots' readings (by shot index) in place of its own, and the timeline
    smoothed again from them."""
    if not readings:
        return analysis

    def read(index: int, emotion: ShotEmotion) -> ShotEmotion:
        given = readings.get(index)
        if given is None:
            return emotion
        return replace(emotion, valence=given.valence, arousal=given.arousal, confidence=given.confidence,
                       label=given.label, sources=given.sources)  # fmt: skip

    emotions = tuple(read(i, e) for i, e in enumerate(analysis.emotions))
    return replace(analysis, emotions=emotions, timeline=timeline(emotions, analysis.info.duration_s, fusion))
