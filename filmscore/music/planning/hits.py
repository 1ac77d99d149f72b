"""The accents of a cue plan: rises in arousal across a cut, new livelier cues, stings for strong emotions too
brief for a cue, the spotted hits on their frames, and a re-cut's kept hits."""

from __future__ import annotations

from dataclasses import replace

from filmscore.analysis.fusion import ShotEmotion, label_for
from filmscore.music.planning.sections import is_strong
from filmscore.music.planning.types import (
    Cue,
    CueOptions,
    Hit,
)
from filmscore.music.spotting import Spotting


def find_hits(
    emotions: tuple[ShotEmotion, ...], cues: list[Cue], opts: CueOptions, spotting: Spotting | None = None
) -> tuple[Hit, ...]:
    """The reading's accents and stings (read_hits) in the cues whose mood the reading chose, and every
    spotted hit, struck at full strength on its frame with its cue's mood chord (an accent the reading
    put within a beat of one gives way to it)."""
    spotted = [
        Hit(round(hit.t_s, 6), 1.0, _shot_at(emotions, hit.t_s), cue.mood, spotted=True)
        for hit in (spotting.hits if spotting else ())
        if (cue := _cue_at(cues, hit.t_s)) is not None and cue.kept_from is None
    ]

    def the_readings(hit: Hit) -> bool:
        """Whether the reading chose the mood of the cue it falls in, and no spotted hit is near."""
        cue = _cue_at(cues, hit.t_s)
        chosen = cue is not None and not cue.spotted_mood and cue.kept_from is None
        return chosen and not any(abs(hit.t_s - s.t_s) < 0.25 for s in spotted)

    read = [hit for hit in read_hits(emotions, cues, opts) if the_readings(hit)]
    return tuple(sorted([*read, *spotted, *_kept_hits(emotions, cues)], key=lambda hit: hit.t_s))


def _kept_hits(emotions: tuple[ShotEmotion, ...], cues: list[Cue]) -> list[Hit]:
    """The earlier cut's hits in each kept cue, moved with it."""
    moved = []
    for cue in cues:
        if cue.kept_from is None:
            continue
        for hit in cue.kept_from.hits:
            t_s = round(hit.t_s + cue.kept_from.shift_s, 6)
            moved.append(replace(hit, t_s=t_s, shot_index=_shot_at(emotions, t_s)))
    return moved


def _cue_at(cues: list[Cue], t_s: float) -> Cue | None:
    """The cue playing at a time; None in silence."""
    return next((cue for cue in cues if cue.start_s <= t_s < cue.end_s), None)


def _shot_at(emotions: tuple[ShotEmotion, ...], t_s: float) -> int:
    return next((e.shot.index for e in emotions if e.start_s <= t_s < e.end_s), emotions[-1].shot.index)


def read_hits(emotions: tuple[ShotEmotion, ...], cues: list[Cue], opts: CueOptions) -> list[Hit]:
    """Accents on cuts where arousal jumps up, softer ones where a livelier cue begins, and a sting on each
    strong shot too short for a cue of its own whose mood its cue does not share. None in silence."""
    hits = []
    for i in range(1, len(emotions)):
        emotion = emotions[i]
        cue = _cue_at(cues, emotion.start_s)
        if cue is None:
            continue
        rise = emotion.arousal - emotions[i - 1].arousal
        strength = 0.0
        if rise >= opts.hit_threshold:
            strength = min(1.0, rise / (2 * opts.hit_threshold))
        if cue.id > 0 and abs(cue.start_s - emotion.start_s) < 1e-6 and cue.arousal > -0.2:
            strength = max(strength, 0.35)
        mood = label_for(emotion.valence, emotion.arousal)
        sting = None
        brief = is_strong(emotion, opts) and emotion.shot.duration_s < opts.strong_cue_s
        if brief and mood != cue.mood:
            sting, strength = mood, 1.0
        if strength > 0:
            hits.append(Hit(round(emotion.start_s, 6), round(strength, 3), emotion.shot.index, sting))
    return hits
