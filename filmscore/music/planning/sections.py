"""Where the cues fall: the film cut into stretches that become cues, from the reading (shots grouped where
the emotion moves far enough), a spotting (its spots and the reading between them) and a re-cut's kept
cues; no stretch shorter than the music's minimum where it has a neighbour."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from filmscore.analysis.fusion import ShotEmotion, label_for
from filmscore.core.affect import Mood
from filmscore.music.planning.types import (
    SHORT_GAP_S,
    SHORTEST_CUE_S,
    CueOptions,
    KeptCue,
    Section,
)
from filmscore.music.spotting import AUTO, Spot, Spotting


def film_sections(
    emotions: tuple[ShotEmotion, ...],
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting | None,
    keep: tuple[KeptCue, ...],
) -> list[Section]:
    """The film's stretches that become cues: the kept cues where they now are, and between them the
    spotting's or the reading's."""
    sections: list[Section] = []
    at = 0.0
    for kept in sorted(keep, key=lambda k: k.start_s):
        if kept.start_s > at + 1e-6:
            sections += _sections_within(emotions, at, kept.start_s, duration_s, opts, spotting)
        cue = kept.cue
        sections.append(Section(kept.start_s, kept.end_s, kept.shots, cue.valence, cue.arousal,
                                cue.read_valence, cue.read_arousal, cue.spot, kept=kept))  # fmt: skip
        at = kept.end_s
    if at < duration_s - 1e-6:
        sections += _sections_within(emotions, at, duration_s, duration_s, opts, spotting)
    return without_slivers(sections)


def without_slivers(sections: list[Section]) -> list[Section]:
    """The sections with none shorter than SHORTEST_CUE_S where it has a neighbour: a sliver (a re-cut's
    frame-rounded gap between kept cues, a sub-second spot, a stretch between markers that nearly meet)
    joins the section it touches, the one before first; one touching only kept cues, which cannot change,
    is left silent. A film shorter than that keeps its one section."""
    result = list(sections)
    while len(result) > 1:
        short = next((k for k, s in enumerate(result) if s.end_s - s.start_s < SHORTEST_CUE_S), None)
        if short is None:
            break
        sliver = result.pop(short)
        before = result[short - 1] if short > 0 else None
        after = result[short] if short < len(result) else None
        if _can_take(before, sliver) and before is not None:
            result[short - 1] = _absorbed(before, sliver, at_end=True)
        elif _can_take(after, sliver) and after is not None:
            result[short] = _absorbed(after, sliver, at_end=False)
    return result


def _can_take(neighbour: Section | None, sliver: Section) -> bool:
    """Whether a neighbour can grow over a sliver: it is composed anew and touches it."""
    if neighbour is None or neighbour.kept is not None:
        return False
    return neighbour.end_s >= sliver.start_s - 1e-6 and neighbour.start_s <= sliver.end_s + 1e-6


def _absorbed(section: Section, sliver: Section, at_end: bool) -> Section:
    """`section` grown over the sliver beside it, with its shots and hits."""
    shots = (*section.shots, *sliver.shots) if at_end else (*sliver.shots, *section.shots)
    return replace(
        section,
        start_s=min(section.start_s, sliver.start_s),
        end_s=max(section.end_s, sliver.end_s),
        shots=tuple(dict.fromkeys(shots)),
        hits=tuple(sorted({*section.hits, *sliver.hits})),
    )


def _sections_within(
    emotions: tuple[ShotEmotion, ...],
    start_s: float,
    end_s: float,
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting | None,
) -> list[Section]:
    if spotting is not None:
        return spotted_sections(emotions, duration_s, opts, spotting, (start_s, end_s))
    shots = _shots_between(emotions, start_s, end_s)
    return _grouped(emotions, shots, start_s, end_s, opts) if shots else []


def _shots_between(emotions: tuple[ShotEmotion, ...], start_s: float, end_s: float) -> tuple[int, ...]:
    """The shots that show at least in part between the two times."""
    return tuple(i for i, e in enumerate(emotions) if e.end_s > start_s and e.start_s < end_s)


def _grouped(
    emotions: tuple[ShotEmotion, ...], shots: tuple[int, ...], start_s: float, end_s: float, opts: CueOptions
) -> list[Section]:
    """`shots` (consecutive, cut to [start_s, end_s]) grouped into cues as the reading decides."""
    local = tuple(_clipped(emotions[i], start_s, end_s) for i in shots)
    groups = group_shots(local, end_s - start_s, opts)
    sections = []
    for k, group in enumerate(groups):
        first = start_s if k == 0 else local[group[0]].start_s
        last = local[groups[k + 1][0]].start_s if k + 1 < len(groups) else end_s
        valence, arousal = cue_affect(local, group)
        sections.append(
            Section(first, last, tuple(shots[j] for j in group), valence, arousal, valence, arousal)
        )
    return sections


def spotted_sections(
    emotions: tuple[ShotEmotion, ...],
    duration_s: float,
    opts: CueOptions,
    spotting: Spotting,
    window: tuple[float, float] | None = None,
) -> list[Section]:
    """The cues of a spotted film (within `window`, the whole film by default): one per spot that sets a
    mood, none in `none` spots, and the reading's grouping in `auto` spots and between spots. Unspotted
    time shorter than SHORT_GAP_S (markers that do not quite meet) joins the stretch before it, so it
    never becomes a cue of its own."""
    low, high = window or (0.0, duration_s)
    stretches = [(max(a, low), min(b, high), spot) for a, b, spot in spotting.sections(duration_s)
                 if b > low + 1e-6 and a < high - 1e-6]  # fmt: skip
    merged: list[tuple[float, float, Spot | None]] = []
    for start, end, spot in stretches:
        if spot is None and end - start < SHORT_GAP_S and merged:
            merged[-1] = (merged[-1][0], end, merged[-1][2])
        else:
            merged.append((start, end, spot))
    sections: list[Section] = []
    hit_times = [hit.t_s for hit in spotting.hits]
    for start, end, spot in merged:
        shots = _shots_between(emotions, start, end)
        if (spot is not None and spot.is_silent) or not shots:
            continue
        if spot is None or spot.mood == AUTO:
            for section in _grouped(emotions, shots, start, end, opts):
                inside = tuple(t for t in hit_times if section.start_s < t < section.end_s)
                sections.append(replace(section, spot=spot, hits=inside))
            continue
        read_valence, read_arousal = _group_affect(
            tuple(_clipped(emotions[i], start, end) for i in shots), tuple(range(len(shots)))
        )
        valence, arousal = spot.affect()
        inside = tuple(t for t in hit_times if start < t < end)
        sections.append(
            Section(start, end, shots, valence, arousal, read_valence, read_arousal, spot, inside)
        )
    return sections


def _clipped(emotion: ShotEmotion, start_s: float, end_s: float) -> ShotEmotion:
    """The shot's reading over the part of it within [start_s, end_s]."""
    shot = replace(emotion.shot, start_s=max(emotion.start_s, start_s), end_s=min(emotion.end_s, end_s))
    return replace(emotion, shot=shot)


def group_shots(
    emotions: tuple[ShotEmotion, ...], duration_s: float, opts: CueOptions
) -> list[tuple[int, ...]]:
    """Walk the shots, opening a new cue where the emotion moves far from the current cue's mean, once the
    current cue has had time to say something. A strong emotion long enough for it (strong_cue_s) opens
    its own cue at once, and is closed by the next change: a frightened two-second shot between calm ones
    gets frightened music, not a calm cue's average."""
    groups: list[list[int]] = []
    for i, emotion in enumerate(emotions):
        if not groups:
            groups.append([i])
            continue
        current = groups[-1]
        length = emotions[current[-1]].end_s - emotions[current[0]].start_s
        valence, arousal = _group_affect(emotions, tuple(current))
        far = math.dist((valence, arousal), (emotion.valence, emotion.arousal)) > opts.change_threshold
        too_long = length + emotion.shot.duration_s > opts.max_cue_s
        strong_now = _strong(emotions, current, opts)
        long_enough = length >= opts.min_cue_s or (strong_now and length >= opts.strong_cue_s)
        strong = is_strong(emotion, opts)
        if far and strong and emotion.shot.duration_s >= opts.strong_cue_s:
            if not long_enough and len(groups) > 1 and not strong_now:
                groups[-2].extend(groups.pop())  # a short, weak stretch joins the cue before it
            groups.append([i])
        elif strong and emotion.shot.duration_s < opts.strong_cue_s:
            current.append(i)  # too brief for a cue: a sting (find_hits) in the one it is in
        elif long_enough and (far or too_long):
            groups.append([i])
        else:
            current.append(i)
    # A short last cue joins the one before: the music should not change for a closing moment.
    last = groups[-1]
    short = emotions[last[-1]].end_s - emotions[last[0]].start_s < opts.min_cue_s
    if len(groups) > 1 and short and not _strong(emotions, last, opts):
        groups[-2].extend(groups.pop())
    return [tuple(group) for group in groups]


def is_strong(emotion: ShotEmotion, opts: CueOptions) -> bool:
    """Whether a shot holds a strong emotion: far from neutral, and not calm. Calm is the absence of one,
    and a composer does not break into a cue for a brief, pleasant picture (a bright title card)."""
    far = math.hypot(emotion.valence, emotion.arousal) >= opts.strong
    return far and label_for(emotion.valence, emotion.arousal) not in (Mood.CALM, Mood.NEUTRAL)


def _strong(emotions: tuple[ShotEmotion, ...], group: list[int], opts: CueOptions) -> bool:
    """Whether a group of shots reads as a strong emotion as a whole (as _is_strong judges a shot)."""
    valence, arousal = _group_affect(emotions, tuple(group))
    far = math.hypot(valence, arousal) >= opts.strong
    return far and label_for(valence, arousal) not in (Mood.CALM, Mood.NEUTRAL)


def cue_affect(emotions: tuple[ShotEmotion, ...], group: tuple[int, ...]) -> tuple[float, float]:
    """The feeling a cue of these shots is scored with. Their weighted mean where its mood is one of
    theirs; where it is not (an afraid shot and a calm one average to neutral, a sad one and a joyful one
    to calm), the mean of the shots of the most salient mood among them: the most screen time, the most
    confidence, the farthest from neutral and spoken (or, where even that mean leaves the mood, its most
    salient shot's feeling). A cue never takes a mood none of its shots has."""
    valence, arousal = _group_affect(emotions, group)
    labels = {i: label_for(emotions[i].valence, emotions[i].arousal) for i in group}
    if label_for(valence, arousal) in labels.values():
        return valence, arousal
    salience: dict[Mood, float] = {}
    for i, label in labels.items():
        salience[label] = salience.get(label, 0.0) + _salience(emotions[i])
    strongest = max(salience, key=lambda label: salience[label])
    shots = tuple(i for i in group if labels[i] == strongest)
    valence, arousal = _group_affect(emotions, shots)
    if label_for(valence, arousal) == strongest:
        return valence, arousal
    # A mood's region is not convex (calm at (0.23, 0) and at (0, -1) average to neutral): its most
    # salient shot's own feeling, then.
    salient = max(shots, key=lambda i: _salience(emotions[i]))
    return emotions[salient].valence, emotions[salient].arousal


SPOKEN_SALIENCE = 1.5  # a shot whose words were read counts this much more: the story is told in its lines


def _salience(emotion: ShotEmotion) -> float:
    """How much a shot's feeling stands out in a cue: its screen time, confidence and distance from neutral,
    and more where someone speaks."""
    text = emotion.sources.get("text")
    spoken = SPOKEN_SALIENCE if text is not None and text.weight > 0 else 1.0
    strength = 0.25 + math.hypot(emotion.valence, emotion.arousal)
    return emotion.shot.duration_s * (0.5 + emotion.confidence) * strength * spoken


def _group_affect(emotions: tuple[ShotEmotion, ...], group: tuple[int, ...]) -> tuple[float, float]:
    """Duration- and confidence-weighted mean valence and arousal of a group of shots."""
    weights = np.array([emotions[i].shot.duration_s * (0.5 + emotions[i].confidence) for i in group])
    if weights.sum() <= 0:
        weights = np.ones(len(group))
    valence = float(np.average([emotions[i].valence for i in group], weights=weights))
    arousal = float(np.average([emotions[i].arousal for i in group], weights=weights))
    return valence, arousal
