"""PocketSphinx, the fallback recogniser: the small English models that ship inside the pocketsphinx
package, or another language's model from a folder."""

from __future__ import annotations

import numpy as np

from filmscore.analysis.asr import AsrBackend, Word
from filmscore.core.errors import UsageError

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
