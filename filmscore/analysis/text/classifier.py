"""Text emotion from a transformers classifier (`pipeline("text-classification")`), such as a 7-emotion
English model, its labels placed on the valence/arousal plane by `filmscore.analysis.labels`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from filmscore.analysis.labels import check_labels, expected_place
from filmscore.analysis.text import WORDS_FOR_FULL_WEIGHT, TextEmotionBackend, word_count
from filmscore.core.affect import Affect, clip_unit
from filmscore.core.neural import prepare_torch, torch_device
from filmscore.store.models import resolve

BATCH_LINES = 16  # lines classified at once


class TransformersTextEmotion(TextEmotionBackend):
    name = "transformers"

    def __init__(self, model: str | None = None, device: str = "auto") -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        from filmscore.core.neural import load_pretrained

        path = resolve(model, "text_emotion", "transformers")
        self.device = torch_device(device)
        prepare_torch(self.device)
        tokenizer = load_pretrained(AutoTokenizer, path, "text emotion")
        classifier = load_pretrained(AutoModelForSequenceClassification, path, "text emotion")
        check_labels(list(classifier.config.id2label.values()), str(model or path))
        self._pipeline = pipeline(
            "text-classification", model=classifier, tokenizer=tokenizer, device=self.device, top_k=None
        )
        self.model_path = str(path)

    def rate(self, text: str) -> Affect:
        return self.rate_many([text])[0]

    def rate_many(self, texts: Sequence[str]) -> tuple[Affect, ...]:
        spoken = [i for i, text in enumerate(texts) if word_count(text)]
        if not spoken:
            return tuple(Affect(0.0, 0.0, 0.0) for _ in texts)
        outputs = self._pipeline([texts[i] for i in spoken], batch_size=BATCH_LINES, truncation=True)
        ratings = [Affect(0.0, 0.0, 0.0)] * len(texts)
        for i, scores in zip(spoken, outputs, strict=True):
            valence, arousal, sureness = expected_place(_label_scores(scores))
            # A short line is weak evidence, as for the lexicon; an unsure classifier weaker still.
            length = clip_unit(word_count(texts[i]) / WORDS_FOR_FULL_WEIGHT, 0.0, 1.0)
            ratings[i] = Affect(clip_unit(valence), clip_unit(arousal), length * (0.5 + 0.5 * sureness))
        return tuple(ratings)


def _label_scores(scores: Any) -> dict[str, float]:
    """The pipeline's [{"label", "score"}, ...] for one line (top_k=None gives every label)."""
    return {str(score["label"]): float(score["score"]) for score in scores}
