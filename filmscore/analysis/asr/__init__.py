"""Speech recognition backends. Each turns a stretch of 16 kHz mono speech into words with timings.

The default, `whisper`, runs Whisper through faster-whisper (CTranslate2), with Whisper tiny.en from a wheel
filmscore depends on, so it hears dialogue offline with nothing to download (see
filmscore/analysis/asr/whisper.py).
`pocketsphinx` is the fallback (analysis/asr/sphinx.py): the small English models that ship inside the
pocketsphinx package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np

from filmscore.config import backends
from filmscore.core.registry import Registry
from filmscore.media.probe import SPEECH_SAMPLE_RATE

Passage = tuple[float, np.ndarray]  # (start_s, 16 kHz mono samples) of one voice-active region


@dataclass(frozen=True)
class Word:
    word: str
    start_s: float
    end_s: float
    confidence: float  # 0 .. 1, the backend's posterior where it gives one


@dataclass(frozen=True)
class Utterance:
    """A run of recognised speech: one line of dialogue."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...]


class AsrBackend(ABC):
    """Recognises the speech in one voice-active region."""

    name: str = ""
    language: str = "en"
    # Whether one backend may recognise film after film (a batch's warm worker keeps it loaded): true where
    # nothing it hears carries over to the next film but what `new_film` forgets.
    reusable: bool = False

    def new_film(self) -> None:
        """Forget what the last film taught the backend, before it hears the next: nothing, for a
        backend that is not `reusable` (it is never kept)."""
        return None

    @classmethod
    def check(cls, model: str | None, language: str | None, device: str) -> str | None:
        """Refuse options that cannot work, before the long work starts (backends are created later, in
        the speech workers); the local path of the model the backend will load, where it loads one."""
        return None

    @abstractmethod
    def recognise(self, samples: np.ndarray) -> tuple[Word, ...]:
        """Words in 16 kHz mono float32 `samples`, with times from the start of `samples`."""

    def recognise_passages(self, passages: Iterable[Passage]) -> Iterator[tuple[float, tuple[Word, ...]]]:
        """(start_s, words) of each passage in turn, the words' times from the passage's start. A backend
        whose model hears a fixed window (Whisper's 30 s) overrides this to recognise several short
        passages at once."""
        for start_s, samples in passages:
            yield start_s, self.recognise(samples)


# The registry's entries are data, in config/backends.py; here it is typed with its base class.
ASR_BACKENDS = cast("Registry[AsrBackend]", backends.ASR)


def speech_duration_s(samples: np.ndarray) -> float:
    return len(samples) / SPEECH_SAMPLE_RATE
