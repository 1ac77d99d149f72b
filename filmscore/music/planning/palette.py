"""A palette per film: the score's home key comes from the film and the seed, not from a constant, so a
series of shorts does not sound like one cue. The same film and seed give the same key (the film is
known by its shots' places and moods, which a re-encode keeps); another film or another seed gives,
mostly, another. Every cue's key relates to the home key (planning.tonic_for)."""

from __future__ import annotations

import hashlib
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
