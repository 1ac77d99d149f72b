"""A palette per film: the score's home key comes from the film and the seed, not from a constant, so a
series of shorts does not sound like one cue. The same film and seed give the same key (the film is
known by its shots' places and moods, which a re-encode keeps); another film or another seed gives,
mostly, another. Every cue's key relates to the home key (planning.tonic_for)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

# The keys a General MIDI orchestra plays well in: open strings and brass sit in them (C, D, E flat, E,
# F, G, A, B flat major); their relative minors are the sad cues' keys.
HOME_KEYS = (0, 2, 3, 4, 5, 7, 9, 10)


def film_fingerprint(duration_s: float, shots: Sequence[tuple[float, str]]) -> str:
    """The film as the palette knows it: its length and each shot's start and mood, to a hundredth of a
    second (a re-encode moves neither)."""
    return f"{duration_s:.2f}|" + ";".join(f"{start:.2f}:{mood}" for start, mood in shots)


def home_key_for(seed: int, fingerprint: str) -> int:
    """The score's home tonic (a pitch class), drawn from HOME_KEYS by the seed and the film."""
    digest = hashlib.sha256(f"{seed}|{fingerprint}".encode()).digest()
    return HOME_KEYS[int.from_bytes(digest[:4], "big") % len(HOME_KEYS)]


# Takes: alternatives of a cue an editor chooses from. Take "a" is the score as the seed writes it; every
# other take is its own seed for the cues that play it, so its theme, harmony and arrangement differ while
# its place, mood, key and tempo stay the cue's. A take is a letter, or a seed given as a whole number.
FIRST_TAKE = "a"
TAKE_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def take_letters(count: int) -> tuple[str, ...]:
    """The first `count` takes' letters: a, b, c, ..."""
    return tuple(TAKE_LETTERS[:count])


def is_take(text: str) -> bool:
    """Whether a text names a take: one letter, or a seed (a whole number below 2**32)."""
    return (len(text) == 1 and text in TAKE_LETTERS) or (_is_seed(text) and int(text) < 2**32)


def _is_seed(text: str) -> bool:
    return re.fullmatch(r"[0-9]{1,10}", text) is not None  # ASCII digits only: str.isdigit takes "²"


def take_seed(seed: int, take: str) -> int:
    """The seed a take's cues are composed with: the run's own for take a, the number itself for a seed,
    and one drawn from the run's seed and the letter for the others (the same letter gives the same take
    in every cue and every cut, so a chosen take survives a re-cut)."""
    if take == FIRST_TAKE:
        return seed
    if _is_seed(take):
        return int(take)
    digest = hashlib.sha256(f"{seed}|take {take}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
