"""Where a classifier's emotion labels sit on the valence/arousal plane, for the neural text and face
backends.

The places follow Russell's circumplex (Russell 1980, "A circumplex model of affect", and Scherer 2005's
placement of emotion words): joy pleasant and lively, sadness unpleasant and low, fear and anger
unpleasant and aroused, calm pleasant and low. The numbers are filmscore's reading of those figures on a
-1 .. 1 scale, not fitted values. They cover Ekman's six basic emotions with neutral (the labels of most
7-class text models and of FER2013 face models), the 28 GoEmotions labels, and sentiment labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from filmscore.core.errors import DependencyError

# label: (valence, arousal)
EMOTION_PLACES: dict[str, tuple[float, float]] = {
    # Ekman's six and neutral
    "anger": (-0.6, 0.7),
    "disgust": (-0.7, 0.3),
    "fear": (-0.7, 0.6),
    "joy": (0.8, 0.5),
    "neutral": (0.0, -0.2),
    "sadness": (-0.7, -0.4),
    "surprise": (0.3, 0.8),
    # The rest of GoEmotions
    "admiration": (0.6, 0.2),
    "amusement": (0.7, 0.5),
    "annoyance": (-0.4, 0.4),
    "approval": (0.4, 0.0),
    "caring": (0.6, -0.1),
    "confusion": (-0.2, 0.2),
    "curiosity": (0.3, 0.4),
    "desire": (0.5, 0.5),
    "disappointment": (-0.5, -0.2),
    "disapproval": (-0.4, 0.1),
    "embarrassment": (-0.4, 0.3),
    "excitement": (0.7, 0.8),
    "gratitude": (0.7, 0.1),
    "grief": (-0.8, -0.3),
    "love": (0.8, 0.3),
    "nervousness": (-0.4, 0.6),
    "optimism": (0.6, 0.2),
    "pride": (0.6, 0.4),
    "realization": (0.1, 0.2),
    "relief": (0.5, -0.4),
    "remorse": (-0.6, -0.1),
    # Sentiment models
    "positive": (0.7, 0.1),
    "negative": (-0.7, 0.1),
    # Calm, which some face and text models have
    "calm": (0.4, -0.6),
}
# Other spellings of the same labels (FER2013's adjectives, short forms).
SYNONYMS = {
    "angry": "anger", "disgusted": "disgust", "fearful": "fear", "scared": "fear", "happy": "joy",
    "happiness": "joy", "sad": "sadness", "surprised": "surprise", "contempt": "disgust", "pos": "positive",
    "neg": "negative", "neu": "neutral",
}  # fmt: skip


def place_of(label: str) -> tuple[float, float] | None:
    key = label.strip().lower()
    return EMOTION_PLACES.get(SYNONYMS.get(key, key))


def check_labels(labels: Sequence[str], model: str) -> None:
    """Refuse, when it loads, a model whose labels filmscore cannot place: its scores would mean nothing."""
    unknown = [label for label in labels if place_of(label) is None]
    if unknown:
        raise DependencyError(
            f"the model {model} has labels filmscore cannot place on the valence/arousal plane "
            f"({', '.join(unknown[:5])}). Choose an emotion or sentiment model "
            "(see filmscore/analysis/labels.py)."
        )


def expected_place(scores: Mapping[str, float]) -> tuple[float, float, float]:
    """The score-weighted mean place of a classifier's output, and how sure it is: 1 minus the normalised
    entropy of the scores (0 for a uniform guess, 1 for a single label)."""
    import math

    total = sum(scores.values()) or 1.0
    valence = arousal = entropy = 0.0
    for label, score in scores.items():
        share = score / total
        place = place_of(label) or (0.0, 0.0)
        valence += share * place[0]
        arousal += share * place[1]
        entropy -= share * math.log(share) if share > 0 else 0.0
    sureness = 1.0 - entropy / math.log(len(scores)) if len(scores) > 1 else 1.0
    return valence, arousal, max(0.0, sureness)
