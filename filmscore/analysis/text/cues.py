"""Film dialogue's own cues to emotion: words of threat, grief, celebration and calm, the commands people
shout when they are in danger, and the punctuation of a shouted line.

These lists are filmscore's own (part of filmscore, MIT). The published valence/arousal norms that would
do this job (NRC VAD, Warriner et al. 2013) are licensed for research only, and none ships in a package
filmscore may depend on; VADER (MIT) gives valence but no arousal. Each category sits where Russell's
circumplex puts its emotion (as analysis/labels.py places the classifiers' labels). Each cue counts where
it occurs, a phrase speaks for its words, and a negation just before a cue, in its clause, turns it toward
the opposite corner ("not afraid", "no good news").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CueCategory:
    name: str
    valence: float  # where the category sits on the plane, -1 .. 1
    arousal: float
    words: frozenset[str]
    phrases: tuple[str, ...] = ()  # several words, matched on the line's lower-case words joined by spaces


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


THREAT = _words("""
    run running hide hiding gun guns shoot shooting shot shots kill killed killer killing knife blood
    bleeding monster monsters fire burning attack attacking danger dangerous scream screaming hurry
    escape trapped bomb explode explosion murder murderer hurt afraid scared terrified frightened panic die
    dying chasing alarm weapon ambush enemy creature
""")
ANGER = _words("""
    hate furious angry rage damn liar lied betrayed betray cheated idiot stupid fool traitor revenge destroy
    ruined
""")
CELEBRATION = _words("""
    won win winner hooray yay celebrate celebration party amazing awesome fantastic wonderful incredible
    excited exciting wedding birthday congratulations champion victory brilliant hurrah cheers dance
    dancing promoted hired jackpot
""")
CALM = _words("""
    relax relaxed rest resting calm quiet quietly peaceful peace gently gentle softly sleep sleeping breathe
    breath slowly warm safe lovely tea garden sea easy dream cosy comfortable settle tender
""")
GRIEF = _words("""
    gone died death dead lost loss miss alone lonely goodbye buried funeral grave cry crying tears
    hurts empty mourn grieve widow orphan regret forgotten
""")
CATEGORIES = (
    CueCategory("threat", -0.75, 0.85, THREAT, (
        "get down", "get out", "watch out", "look out", "coming for", "let me go", "stay back",
        "don't shoot", "behind you", "stay quiet", "or we die", "help me", "help us", "somebody help",
    )),
    CueCategory("anger", -0.65, 0.75, ANGER, ("how dare", "shut up", "get lost")),
    CueCategory("celebration", 0.8, 0.7, CELEBRATION, (
        "we did it", "i did it", "we made it", "happy birthday", "missed you", "got the job", "got the part",
        "i got in", "we got in", "getting married", "good news",
    )),
    CueCategory("calm", 0.55, -0.6, CALM, (
        "no hurry", "take your time", "deep breath", "calm down", "don't worry", "it's okay",
        "it's all right", "sleep well",
    )),
    CueCategory("grief", -0.7, -0.45, GRIEF, ("never again", "never got to", "couldn't save", "passed away")),
)  # fmt: skip
# The first word of a command a frightened or excited person shouts: a line that starts with one is urgent.
COMMANDS = _words("""
    run get go stop hide move help come look listen hurry wait leave give drop duck jump shut call open quick
""")
NEGATIONS = _words("not no never don't dont can't cannot won't isn't wasn't aren't nothing")
NEGATION_WINDOW = 3  # words before a cue in which a negation turns it
CONJUNCTIONS = _words("and or but so then")  # a negation reaches no further back than one of these
WORD = re.compile(r"[a-z']+")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CLAUSE_BREAK = re.compile(r"[,;:.!?]")  # a negation reaches no further than its clause


@dataclass(frozen=True)
class Cues:
    """What a line's words and punctuation say, before they are weighed."""

    places: tuple[tuple[float, float], ...]  # the valence/arousal place of each cue found
    commands: int  # sentences that start with a command
    exclamations: int  # sentences that end with "!"
    questions: int
    shouted: int  # words in capitals
    words: int


def find_cues(text: str) -> Cues:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    clauses = [WORD.findall(clause) for clause in _CLAUSE_BREAK.split(text.lower())]
    words = [word for clause in clauses for word in clause]
    clause_of = [k for k, clause in enumerate(clauses) for _ in clause]
    # A phrase speaks for its words: "stay quiet" is a threat, and its "quiet" no longer counts as calm.
    found = [(i, len(phrase.split()), category) for category in CATEGORIES for phrase in category.phrases
             for i in _phrase_starts(words, phrase.split())]  # fmt: skip
    in_phrase = {i + k for i, length, _ in found for k in range(length)}
    found += [(i, 1, category) for category in CATEGORIES for i, word in enumerate(words)
              if word in category.words and i not in in_phrase]  # fmt: skip
    places = [_place(category, _negated(words, clause_of, i, category)) for i, _, category in found]
    firsts = [WORD.findall(s.lower())[:1] for s in sentences]
    return Cues(
        places=tuple(places),
        commands=sum(1 for first in firsts if first and first[0] in COMMANDS),
        exclamations=sum(1 for s in sentences if s.endswith("!")),
        questions=sum(1 for s in sentences if s.endswith("?")),
        shouted=sum(1 for word in text.split() if len(word) > 2 and word.isupper()),
        words=len(words),
    )


def _phrase_starts(words: list[str], phrase: list[str]) -> list[int]:
    return [i for i in range(len(words) - len(phrase) + 1) if words[i : i + len(phrase)] == phrase]


def _negated(words: list[str], clause_of: list[int], i: int, category: CueCategory) -> bool:
    """Whether a negation comes just before the word, in its clause ("don't worry, it's okay" is not
    negated twice); "don't" before a threat is a plea ("don't hurt me", "don't shoot"), which leaves it a
    threat."""
    before = []
    for j in range(i - 1, max(-1, i - 1 - NEGATION_WINDOW), -1):
        if clause_of[j] != clause_of[i] or words[j] in CONJUNCTIONS:
            break
        before.append(words[j])
    if category.valence < 0 and category.arousal > 0:
        before = [w for w in before if w not in ("don't", "dont")]
    return any(w in NEGATIONS for w in before)


def _place(category: CueCategory, negated: bool) -> tuple[float, float]:
    """A cue's place; negated, it turns halfway to the opposite corner ("not afraid" leans calm)."""
    if negated:
        return (-0.5 * category.valence, -0.5 * category.arousal)
    return (category.valence, category.arousal)
