"""The closed loop: listen to each cue of the music actually made (music emotion recognition), compare it
with the valence and arousal the cue plan asked for, and re-arrange the cues that miss.

A cue misses when its reading lies further than the calibrated tolerance from its target on the
valence/arousal plane (see filmscore/music/data/mer.json: the 90th percentile of the held-out error). The
symbolic composer can then re-arrange a missed cue: denser, higher, louder and shorter notes and more
energy (the pulse, brass and drums that come with it) for more arousal, the opposite for less; a higher
register for brighter valence, a lower one for darker. Tempo and mode stay as planned, because the beat
grid is fitted to the cuts and the mode is the plan's reading of the story.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.pool import Pool

import numpy as np

from filmscore.media.audio import Audio, AudioFile
from filmscore.music.mer import MER_RATE, MerBackend, calibration
from filmscore.music.planning import Cue, CuePlan

SETTLE_S = 1.5  # the previous cue's tail rings this long into a cue: measure after it
MIN_CONFIDENCE = 0.3  # a reading less sure than this (very short, near silent, atonal) judges nothing
# How far one re-arrangement moves a cue's energy (which brings or takes away pulse, brass and drums:
# their thresholds are about 0.15 apart).
ENERGY_STEP = 0.15
NUDGE = 0.5  # a cue is re-arranged on an axis that misses by more than this share of the tolerance


@dataclass(frozen=True)
class CueCheck:
    cue_id: int
    target_valence: float
    target_arousal: float
    valence: float  # what MER heard
    arousal: float
    confidence: float
    tempo_bpm: float  # MER's tempo and mode, for the report
    mode: str
    error: float  # distance from the target on the valence/arousal plane

    def misses(self, tolerance: float) -> bool:
        return self.confidence >= MIN_CONFIDENCE and self.error > tolerance


@dataclass(frozen=True)
class MusicCheck:
    backend: str
    tolerance: float
    cues: tuple[CueCheck, ...]
    rearranged: tuple[int, ...] = ()  # ids of cues the composer re-arranged after a first miss

    @property
    def missed(self) -> tuple[int, ...]:
        return tuple(c.cue_id for c in self.cues if c.misses(self.tolerance))

    @property
    def mean_error(self) -> float:
        return float(np.mean([c.error for c in self.cues])) if self.cues else 0.0


def check_music(audio: Audio, plan: CuePlan, mer: MerBackend, helper: Pool | None = None) -> MusicCheck:
    """MER's reading of every cue of `audio`, against the plan. With a `helper` (the audio helper process,
    see `workers.audio_helper`) and the music in a file, the helper listens, so this process never
    imports MER's libraries. The readings are the same either way. (Sharing a long score's cues between
    the two was slower: MER already keeps both cores busy in one process. On a 10-minute film's two
    checks it took 12.6 s against 11.0 s, and the main process grew from 185 MB to 356 MB.)"""
    model = calibration()
    if helper is None or not isinstance(audio, AudioFile):
        readings = tuple(check_cue(audio, cue, mer) for cue in plan.cues)
    else:
        readings = tuple(helper.apply(check_cues, (audio, plan.cues, mer.name)))
    return MusicCheck(mer.name, model.tolerance, readings)


def helper_warm_up(backend: str) -> Callable[[], None] | None:
    """What the audio helper runs as it starts, while the film is probed and decoded: MER's set-up."""
    return None if backend == "none" else functools.partial(_warm_up, backend)


def check_cues(audio: AudioFile, cues: tuple[Cue, ...], backend: str) -> list[CueCheck]:
    """In a worker: MER's reading of each of `cues`."""
    mer = _mer(backend)
    return [check_cue(audio, cue, mer) for cue in cues]


@functools.cache
def _mer(backend: str) -> MerBackend:
    from filmscore.music.mer import MER_BACKENDS

    return MER_BACKENDS.create(backend)


def _warm_up(backend: str) -> None:
    """A helper's start: what its first cue would otherwise pay for (for "features", librosa's import)."""
    try:
        # Quiet noise, not silence: MER answers silence before it touches librosa.
        noise = np.random.default_rng(0).standard_normal(MER_RATE * 2).astype(np.float32)
        _mer(backend).estimate(0.1 * noise, MER_RATE)
    # A pool respawns a worker whose start fails, for ever. The first real cue meets the same error and
    # hands it back to the main process instead.
    except Exception:
        return


def check_cue(audio: Audio, cue: Cue, mer: MerBackend) -> CueCheck:
    settle = min(SETTLE_S, cue.duration_s / 4) if cue.id else 0.0
    first = round((cue.start_s + settle) * audio.sample_rate)
    last = round(cue.end_s * audio.sample_rate)
    heard = mer.estimate(audio.read(first, last), audio.sample_rate)
    target_arousal = played_arousal(cue)
    return CueCheck(
        cue_id=cue.id,
        target_valence=cue.valence,
        target_arousal=target_arousal,
        valence=heard.valence,
        arousal=heard.arousal,
        confidence=heard.confidence,
        tempo_bpm=heard.features.tempo_bpm,
        mode=heard.features.mode,
        error=math.hypot(heard.valence - cue.valence, heard.arousal - target_arousal),
    )


def played_arousal(cue: Cue) -> float:
    """The arousal a cue is meant to be heard at: its style's energy, on the arousal scale. The plan's own
    in the orchestral style; further out in the trailer style, which pushes both ends on purpose, so the
    check does not pull a trailer's cues back to the middle."""
    return 2 * cue.energy - 1


def rearrange(plan: CuePlan, check: MusicCheck) -> CuePlan:
    """The plan with every missed cue's arrangement pushed toward its target, but for kept cues."""
    by_id = {c.cue_id: c for c in check.cues}
    missed = set(check.missed)
    cues = tuple(
        rearranged_cue(cue, by_id[cue.id], check.tolerance)
        if cue.id in missed and cue.kept_from is None
        else cue
        for cue in plan.cues
    )  # a cue kept from an earlier cut stays as it was approved
    return replace(plan, cues=cues)


def rearranged_cue(cue: Cue, heard: CueCheck, tolerance: float) -> Cue:
    """One step of density, register, dynamics and articulation toward the target."""
    arousal_step = _step(heard.target_arousal - heard.arousal, tolerance)
    valence_step = _step(heard.target_valence - heard.valence, tolerance)
    densities = (1, 2, 4)
    density = densities[int(np.clip(densities.index(cue.subdivision) + arousal_step, 0, 2))]
    gain = 1.0 + 0.15 * arousal_step
    return replace(
        cue,
        subdivision=density,
        register=int(np.clip(cue.register + (valence_step or arousal_step), -1, 1)),
        velocity=int(np.clip(cue.velocity + 12 * arousal_step, 40, 120)),
        energy=float(np.clip(cue.energy + ENERGY_STEP * arousal_step, 0.0, 1.0)),
        articulation=float(np.clip(cue.articulation - 0.15 * arousal_step, 0.45, 0.95)),
        dynamics=tuple((t, float(np.clip(level * gain, 0.05, 1.0))) for t, level in cue.dynamics),
    )


def _step(shortfall: float, tolerance: float) -> int:
    """+1 when the music is short of its target by more than NUDGE x tolerance, -1 when over, else 0."""
    if abs(shortfall) <= NUDGE * tolerance:
        return 0
    return 1 if shortfall > 0 else -1
