"""Text emotion: valence and arousal of what is said.

The embedded `lexicon` backend combines two published lexicons that ship inside their packages:
- VADER (Hutto and Gilbert, 2014) gives valence, with its own handling of negation ("not happy"),
  intensifiers ("very") and exclamation;
- Empath's categories (Fast et al., 2016) give arousal: words of fear, rage, violence, celebration and
  the like raise it; words of sleep, rest and contentment lower it. A negation just before a word
  softens it, as VADER does for valence, and VADER's intensifiers and "!" raise arousal.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache
from typing import cast

from filmscore.config import backends
from filmscore.core.affect import Affect, clip_unit
from filmscore.core.registry import Registry


class TextEmotionBackend(ABC):
    """Rates a piece of dialogue."""

    name: str = ""

    @abstractmethod
    def rate(self, text: str) -> Affect:
        """Valence/arousal of `text`; weight 0 when there is nothing to go on."""

    def rate_many(self, texts: Sequence[str]) -> tuple[Affect, ...]:
        """Each of `texts` rated; a model backend overrides this to classify them in batches."""
        return tuple(self.rate(text) for text in texts)


# The registry's entries are data, in config/backends.py; here it is typed with its base class.
TEXT_EMOTION_BACKENDS = cast("Registry[TextEmotionBackend]", backends.TEXT_EMOTION)

# Empath categories whose words signal high or low arousal.
HIGH_AROUSAL_CATEGORIES = (
    "fear", "horror", "nervousness", "rage", "anger", "aggression", "violence", "fight", "war", "weapon",
    "terrorism", "surprise", "zest",
)  # fmt: skip
# Sadness, loss and rest are the low-arousal side of Russell's circumplex.
LOW_AROUSAL_CATEGORIES = ("sleep", "contentment", "sadness", "suffering", "death", "weakness", "leisure")
NEGATION_WINDOW = 3  # words before a term in which a negation ("not scared") softens it, as in VADER
WORDS_FOR_FULL_WEIGHT = 8  # a line of eight words is full evidence; two words count a quarter
_TOKEN = re.compile(r"[a-z']+")


def word_count(text: str) -> int:
    return len(_TOKEN.findall(text.lower()))


@cache
def _arousal_lexicon() -> dict[str, float]:
    """Word -> +1 (arousing) or -1 (calming); a word in both lists cancels out."""
    from empath import Empath

    categories = Empath().cats
    lexicon: dict[str, float] = {}
    for names, sign in ((HIGH_AROUSAL_CATEGORIES, 1.0), (LOW_AROUSAL_CATEGORIES, -1.0)):
        for name in names:
            for term in categories.get(name, ()):
                lexicon[term] = lexicon.get(term, 0.0) + sign
    return {term: max(-1.0, min(1.0, score)) for term, score in lexicon.items() if score}


class LexiconTextEmotion(TextEmotionBackend):
    name = "lexicon"

    def __init__(self) -> None:
        from vaderSentiment import vaderSentiment as vader

        self._vader = vader.SentimentIntensityAnalyzer()
        self._negations = set(vader.NEGATE)
        self._boosters = {word for word, value in vader.BOOSTER_DICT.items() if value > 0}
        self._arousal = _arousal_lexicon()

    def rate(self, text: str) -> Affect:
        tokens = _TOKEN.findall(text.lower())
        if not tokens:
            return Affect(0.0, 0.0, 0.0)
        valence = float(self._vader.polarity_scores(text)["compound"])
        return Affect(
            valence=valence,
            arousal=self._arousal_of(tokens, text, valence),
            weight=clip_unit(len(tokens) / WORDS_FOR_FULL_WEIGHT, 0.0, 1.0),
        )

    def _arousal_of(self, tokens: list[str], text: str, valence: float) -> float:
        score = 0.0
        for i, token in enumerate(tokens):
            term = self._arousal.get(token, 0.0)
            if term and any(t in self._negations for t in tokens[max(0, i - NEGATION_WINDOW) : i]):
                term *= -0.5  # "not afraid" leans calm, but less than "calm" itself
            score += term
        # Density of arousing words, so a long calm line with one loud word stays calm-ish.
        density = score / max(4.0, len(tokens) ** 0.5 * 2.0)
        boosters = sum(token in self._boosters for token in tokens)
        exclaims = text.count("!")
        shouted = sum(1 for word in text.split() if len(word) > 2 and word.isupper())
        return clip_unit(
            density
            + 0.3 * abs(valence)
            - 0.15
            + 0.1 * boosters
            + 0.15 * min(exclaims, 3)
            + 0.1 * min(shouted, 3)
        )
