"""Text emotion: valence and arousal of what is said.

The embedded `lexicon` backend (lexicon.py) reads VADER's valence, filmscore's own cue words of threat,
grief, celebration and calm (cues.py), a line's commands and exclamations, and Empath's arousing and
calming words. Each line of dialogue is rated on its own; the pipeline carries a shot's strongest line.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import cast

from filmscore.config import backends
from filmscore.core.affect import Affect
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

WORDS_FOR_FULL_WEIGHT = 8  # a line of eight words is full evidence; two words count a quarter
_TOKEN = re.compile(r"[a-z']+")


def word_count(text: str) -> int:
    return len(_TOKEN.findall(text.lower()))
