"""What the voice says: each line's loudness, pitch, pitch movement and pace, read against the film's own
speech.

A loud, fast, high line in a quiet film is aroused even if it is quiet in absolute dBFS: the classic vocal
signs of arousal (Scherer, 2003; Juslin and Laukka, 2003) are judged as z-scores against the film's
baseline, the mean and spread of its lines. A film with few lines leans on the norms of ordinary speech
(PRIOR), as if PRIOR_LINES more lines of it had been heard. Valence is barely in the voice: fear and joy
are both high and fast; only a lively voice leans positive and a flat, low one negative.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from filmscore.analysis.asr import Word
from filmscore.core.affect import Affect

REFERENCE_F0_HZ = 160.0  # between typical male and female speaking pitch: 0 semitones
PRIOR_LINES = 3.0  # ordinary speech counts as this many lines heard before the film's own
# Ordinary speech: (mean, spread) of each measure, from read and conversational English.
PRIOR = {
    "level_db": (-24.0, 4.0),  # dBFS of the voiced frames, as dialogue sits in a mix
    "pitch_st": (0.0, 3.5),  # semitones above REFERENCE_F0_HZ
    "spread_st": (2.5, 1.2),  # semitones of pitch movement within the line
    "syllables_per_s": (4.2, 1.0),
}
# How much each measure's z-score says of arousal: loudness and pace most (Juslin and Laukka's review).
AROUSAL_WEIGHTS = {"level_db": 0.4, "pitch_st": 0.25, "spread_st": 0.15, "syllables_per_s": 0.35}
AROUSAL_SCALE = 1.4  # a line about this many weighted z-scores above the film reads as fully aroused
VALENCE_SCALE = 0.2  # the most the voice alone moves valence
MIN_VOICED_FRAMES = 10  # fewer pitched frames than this give no pitch (about 0.16 s)
_VOWELS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class LineVoice:
    """How one line (or the part of it inside a shot) was spoken."""

    start_s: float
    end_s: float
    level_db: float  # mean RMS level of its voiced frames, dBFS
    pitch_st: float | None  # median pitch, semitones above REFERENCE_F0_HZ
    spread_st: float | None  # standard deviation of its pitch, semitones
    syllables_per_s: float | None  # its pace, from the words' timings

    def measures(self) -> dict[str, float | None]:
        return {"level_db": self.level_db, "pitch_st": self.pitch_st, "spread_st": self.spread_st,
                "syllables_per_s": self.syllables_per_s}  # fmt: skip


@dataclass(frozen=True)
class VoiceBaseline:
    """The film's speech: each measure's mean and spread over its lines, leaning on PRIOR when it has few."""

    stats: dict[str, tuple[float, float]]

    def z(self, measure: str, value: float | None) -> float | None:
        if value is None:
            return None
        mean, spread = self.stats[measure]
        return (value - mean) / spread


def syllables(word: str) -> int:
    """About how many syllables a word has: its groups of vowels, at least one."""
    return max(1, len(_VOWELS.findall(word.lower())))


def line_voice(
    words: tuple[Word, ...], times: np.ndarray, rms_db: np.ndarray, f0_hz: np.ndarray
) -> LineVoice:
    """The voice of a run of words, from the soundtrack's frame measures (`times` their centres)."""
    start, end = words[0].start_s, words[-1].end_s
    inside = slice(int(np.searchsorted(times, start)), int(np.searchsorted(times, end)))
    pitch = f0_hz[inside]
    voiced = np.isfinite(pitch)
    levels = rms_db[inside][voiced] if voiced.any() else rms_db[inside]
    level = float(np.mean(levels)) if len(levels) else -120.0
    semitones = 12 * np.log2(pitch[voiced] / REFERENCE_F0_HZ) if voiced.sum() >= MIN_VOICED_FRAMES else None
    duration = end - start
    count = sum(syllables(w.word) for w in words)
    return LineVoice(
        start_s=start,
        end_s=end,
        level_db=level,
        pitch_st=float(np.median(semitones)) if semitones is not None else None,
        spread_st=float(np.std(semitones)) if semitones is not None else None,
        syllables_per_s=count / duration if duration >= 0.4 else None,
    )


def voice_baseline(lines: list[LineVoice]) -> VoiceBaseline:
    """Each measure's mean and spread over the film's lines, blended with PRIOR as PRIOR_LINES lines; the
    spread is kept from falling below half the prior's, so a film of one voice does not read every small
    difference as a shout."""
    stats = {}
    for measure, (prior_mean, prior_spread) in PRIOR.items():
        values = np.array([v for line in lines if (v := line.measures()[measure]) is not None], float)
        n = len(values)
        mean = (values.sum() + PRIOR_LINES * prior_mean) / (n + PRIOR_LINES)
        variance = (np.square(values - mean).sum() + PRIOR_LINES * prior_spread**2) / (n + PRIOR_LINES)
        stats[measure] = (float(mean), max(math.sqrt(variance), prior_spread / 2))
    return VoiceBaseline(stats)


def voice_affect(line: LineVoice, baseline: VoiceBaseline) -> Affect:
    """Arousal from the line's weighted z-scores against the film; a little valence from its liveliness."""
    zs = {m: baseline.z(m, v) for m, v in line.measures().items()}
    known = {m: z for m, z in zs.items() if z is not None}
    total = sum(AROUSAL_WEIGHTS[m] for m in known)
    score = sum(AROUSAL_WEIGHTS[m] * z for m, z in known.items()) / total if total else 0.0
    arousal = math.tanh(score * sum(AROUSAL_WEIGHTS.values()) / AROUSAL_SCALE)
    lively = 0.6 * (zs["spread_st"] or 0.0) + 0.4 * (zs["pitch_st"] or 0.0)
    valence = VALENCE_SCALE * math.tanh(lively)
    # A second of speech with a pitch is full evidence; a mumble of two words little.
    weight = min(1.0, (line.end_s - line.start_s) / 1.0) * (1.0 if line.pitch_st is not None else 0.5)
    return Affect(valence, arousal, weight)
