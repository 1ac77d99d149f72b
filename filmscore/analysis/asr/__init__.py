"""Speech recognition backends. Each turns a stretch of 16 kHz mono speech into words with timings.

The default, `whisper`, runs Whisper through faster-whisper (CTranslate2), with Whisper tiny.en from a wheel
filmscore depends on, so it hears dialogue offline with nothing to download (see
filmscore/analysis/asr/whisper.py).
`pocketsphinx` is the fallback: the small English models that ship inside the pocketsphinx package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np

from filmscore.config import backends
from filmscore.core.errors import UsageError
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

# Tokens pocketsphinx emits that are not words: silence, breath and noise fillers, sentence marks.
_NON_WORDS = {
    "<s>",
    "</s>",
    "<sil>",
    "[noise]",
    "[breath]",
    "[cough]",
    "[laugh]",
    "[um]",
    "[uh]",
    "++noise++",
}


# PocketSphinx's search, set for speed: speech recognition was the largest use of CPU in a run (a py-spy
# profile, docs/performance.md "Profiles"). Measured with benchmarks/asr_speed.py on Debian's LibriVox test
# recordings and 18 espeak-ng lines: dropping the second, flat-lexicon pass and capping the active HMMs per
# frame at 3000 makes the search about 3x faster, with no more word errors on either set. The lattice pass
# (bestpath) stays: it gives each word its posterior, our confidence.
SEARCH_OPTIONS = {"fwdflat": False, "maxhmmpf": 3000}


class PocketsphinxAsr(AsrBackend):
    name = "pocketsphinx"

    @classmethod
    def check(cls, model: str | None, language: str | None, device: str) -> str | None:
        if language not in (None, "en") and not model:
            raise UsageError(
                f"PocketSphinx's bundled model is English, not {language!r}. Give --asr-model with a "
                "PocketSphinx model of that language, or use --asr whisper."
            )
        return model

    def __init__(self, model: str | None = None, language: str | None = None) -> None:
        from pocketsphinx import Decoder

        self.check(model, language, "cpu")

        # `model` may name a folder with another language's model (acoustic/, language.lm.bin, words.dict).
        options: dict[str, object] = {"loglevel": "FATAL", **SEARCH_OPTIONS}
        if model:
            options.update(hmm=f"{model}/acoustic", lm=f"{model}/language.lm.bin", dict=f"{model}/words.dict")
        self._decoder = Decoder(**options)
        self._frame_rate = int(self._decoder.config["frate"])  # feature frames per second (100)
        self.language = language or "en"

    def recognise(self, samples: np.ndarray) -> tuple[Word, ...]:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return ()
        words = []
        for segment in decoder.seg():
            token = segment.word
            if token.lower() in _NON_WORDS or token.startswith("++") or token.startswith("["):
                continue
            words.append(
                Word(
                    word=token.split("(")[0],  # "to(3)" names the third pronunciation of "to"
                    start_s=segment.start_frame / self._frame_rate,
                    end_s=(segment.end_frame + 1) / self._frame_rate,
                    confidence=float(min(1.0, max(0.0, segment.prob))),
                )
            )
        return tuple(words)


def speech_duration_s(samples: np.ndarray) -> float:
    return len(samples) / SPEECH_SAMPLE_RATE
