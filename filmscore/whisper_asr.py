"""OpenAI Whisper as an ASR backend (openai-whisper; torch imported when a backend is created).

Whisper is run the way film dialogue needs: only on the voice-active passages the VAD found, each on its
own with `condition_on_previous_text` off, so a hallucinated line cannot carry into the next one; with word
timestamps from its cross-attention; and with its silence-hallucination guard on. Without `--language` it
detects the language of each passage.
"""

from __future__ import annotations

import numpy as np

from filmscore.asr import AsrBackend, Word
from filmscore.errors import UsageError
from filmscore.media import SPEECH_SAMPLE_RATE
from filmscore.models import resolve
from filmscore.neural import prepare_torch, torch_device

SILENCE_DBFS = -50.0  # quieter passages hold no speech; Whisper tends to invent some over silence
HALLUCINATION_SILENCE_S = 2.0  # Whisper skips silences this long where a segment looks hallucinated
_PUNCTUATION_ONLY = set(".,!?;:-\"'…¿¡()[]")


class WhisperAsr(AsrBackend):
    name = "whisper"

    @classmethod
    def check(cls, model: str | None, language: str | None, device: str) -> str | None:
        from whisper.tokenizer import LANGUAGES

        if language is not None and language not in LANGUAGES:
            raise UsageError(
                f"--language {language!r} is not one Whisper knows; give an ISO 639-1 code (en, fr)"
            )
        torch_device(device)
        return str(resolve(model, "asr", "whisper"))

    def __init__(self, model: str | None = None, device: str = "auto", language: str | None = None) -> None:
        import whisper

        checkpoint = self.check(model, language, device)
        self.device = torch_device(device)
        prepare_torch(self.device)
        self._model = whisper.load_model(str(checkpoint), device=self.device)
        self._language = language
        self.language = language or "und"  # becomes the language Whisper detects in the first passage
        self.model_path = str(checkpoint)

    def recognise(self, samples: np.ndarray) -> tuple[Word, ...]:
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if not len(audio) or _level_dbfs(audio) < SILENCE_DBFS:
            return ()
        import whisper

        options = {
            "language": self._language,
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "hallucination_silence_threshold": HALLUCINATION_SILENCE_S,
            "fp16": self.device == "cuda",
            "verbose": None,
        }
        try:
            result = whisper.transcribe(self._model, audio, **options)
        except ValueError:
            # Sampling at a fallback temperature fails when every token is suppressed (the logits are all
            # -inf, so their softmax is NaN); the greedy pass has no such trouble.
            result = whisper.transcribe(self._model, audio, temperature=0.0, **options)
        if self.language == "und" and result.get("language"):
            self.language = str(result["language"])
        duration_s = len(audio) / SPEECH_SAMPLE_RATE
        return tuple(
            word
            for segment in result["segments"]
            for raw in segment.get("words", ())
            if (word := _word(raw, duration_s)) is not None
        )


def _word(raw: dict, duration_s: float) -> Word | None:
    """A Whisper word, trimmed of its leading space, kept inside the passage and at least 10 ms long;
    punctuation on its own is not a word."""
    text = str(raw["word"]).strip()
    if not text or set(text) <= _PUNCTUATION_ONLY:
        return None
    start = min(max(0.0, float(raw["start"])), max(0.0, duration_s - 0.01))
    end = min(max(start + 0.01, float(raw["end"])), duration_s)
    return Word(text, round(start, 3), round(end, 3), float(min(1.0, max(0.0, raw.get("probability", 0.0)))))


def _level_dbfs(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12))
