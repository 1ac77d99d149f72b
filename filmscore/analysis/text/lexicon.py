"""The embedded text emotion backend: a line's valence and arousal from lexicons that ship in packages and
from the line's own cues.

- VADER (Hutto and Gilbert, 2014; MIT) gives valence, with its own handling of negation ("not happy"),
  intensifiers ("very") and exclamation.
- filmscore's cue words (cues.py) place words of threat, anger, celebration, calm and grief on the plane,
  and count the commands and exclamations of a shouted line: "Run! They are coming for us!" has no
  sentiment word for VADER, and is as frightened as a line can be.
- Empath's categories (Fast et al., 2016) add arousal where the cue words say nothing: words of fear,
  rage and violence raise it, words of sleep, rest and contentment lower it.
"""

from __future__ import annotations

from functools import cache

from filmscore.analysis.text import WORDS_FOR_FULL_WEIGHT, TextEmotionBackend
from filmscore.analysis.text.cues import NEGATION_WINDOW, NEGATIONS, WORD, find_cues
from filmscore.core.affect import Affect, clip_unit

# Empath categories whose words signal high or low arousal.
HIGH_AROUSAL_CATEGORIES = (
    "fear", "horror", "nervousness", "rage", "anger", "aggression", "violence", "fight", "war", "weapon",
    "terrorism", "surprise", "zest",
)  # fmt: skip
# Sadness, loss and rest are the low-arousal side of Russell's circumplex.
LOW_AROUSAL_CATEGORIES = ("sleep", "contentment", "sadness", "suffering", "death", "weakness", "leisure")
CUE_WEIGHT = 0.35  # each cue word adds this much evidence: "Run!" is short, and decisive
VADER_SCALE = 0.6  # VADER scores sentiment, and saturates quickly: two mild words are not anguish
# Words VADER scores that in film dialogue are conversation, not feeling ("please hand me the folder",
# "well, yes"); "help" is a plea, which the cue words read as threat.
CONVERSATIONAL = ("please", "hand", "help", "like", "well", "sure", "yes", "no", "okay", "straight")
PLAIN_AROUSAL = -0.15  # a plain declarative line with nothing to raise it: slightly below the middle
EXCLAMATION_AROUSAL = 0.12  # each sentence that ends in "!" (three at most)
COMMAND_AROUSAL = 0.15  # each sentence that starts with a command (two at most)


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
        for word in CONVERSATIONAL:
            self._vader.lexicon.pop(word, None)
        self._boosters = {word for word, value in vader.BOOSTER_DICT.items() if value > 0}
        self._arousal = _arousal_lexicon()

    def rate(self, text: str) -> Affect:
        cues = find_cues(text)
        if not cues.words:
            return Affect(0.0, 0.0, 0.0)
        vader = VADER_SCALE * float(self._vader.polarity_scores(text)["compound"])
        # The cue words' share of the reading grows with how many were found: one cue against VADER's
        # reading of the whole line counts a half, three count three quarters.
        found = len(cues.places)
        share = found / (found + 1)
        cue_valence = sum(v for v, _ in cues.places) / found if found else 0.0
        cue_arousal = sum(a for _, a in cues.places) / found if found else 0.0
        valence = (1 - share) * vader + share * cue_valence
        general = self._empath_arousal(text) + 0.25 * abs(vader) + PLAIN_AROUSAL
        arousal = (
            (1 - share) * general
            + share * cue_arousal
            + EXCLAMATION_AROUSAL * min(cues.exclamations, 3)
            + COMMAND_AROUSAL * min(cues.commands, 2)
            + 0.08 * min(cues.shouted, 3)
            + 0.05 * min(cues.questions, 2)
            + 0.06 * min(self._boosts(text), 2)
        )
        weight = cues.words / WORDS_FOR_FULL_WEIGHT + CUE_WEIGHT * found + 0.1 * cues.exclamations
        return Affect(clip_unit(valence), clip_unit(arousal), clip_unit(weight, 0.0, 1.0))

    def _empath_arousal(self, text: str) -> float:
        """Empath's arousing and calming words, as a density, so a long calm line with one loud word stays
        calm-ish; a negation just before a word softens and turns it."""
        tokens = _words(text)
        score = 0.0
        for i, token in enumerate(tokens):
            term = self._arousal.get(token, 0.0)
            if term and any(t in NEGATIONS for t in tokens[max(0, i - NEGATION_WINDOW) : i]):
                term *= -0.5  # "not afraid" leans calm, but less than "calm" itself
            score += term
        return score / max(4.0, len(tokens) ** 0.5 * 2.0)

    def _boosts(self, text: str) -> int:
        return sum(token in self._boosters for token in _words(text))


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())
