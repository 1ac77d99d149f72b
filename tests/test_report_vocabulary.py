"""The report's schema names its words as the code defines them: every mood, style, ending and re-cut fate
the schema allows is the code's own list, so the two cannot drift apart (issue 37)."""

from __future__ import annotations

from typing import Any

from filmscore.config.names import STYLE_NAMES
from filmscore.core.affect import Mood
from filmscore.music.planning import CLOSE, FILM_END, JOIN
from filmscore.music.spotting import AUTO, NONE
from filmscore.report.schema import report_schema
from filmscore.scoring.recut import FATES

MOODS = [mood.value for mood in Mood]


def _at(path: str) -> Any:
    node: Any = report_schema()
    for key in path.split("/"):
        node = node[int(key)] if key.isdigit() else node[key]
    return node["enum"]


def test_the_schema_s_words_are_the_code_s():
    expected = {
        "properties/shots/items/properties/label": MOODS,
        "properties/cues/items/properties/mood": MOODS,
        "properties/cues/items/properties/reading/properties/mood": MOODS,
        "properties/cues/items/properties/spot/oneOf/1/properties/mood": [*MOODS, AUTO],
        "properties/spotting/properties/spots/items/properties/mood": [*MOODS, AUTO, NONE],
        "properties/hits/items/properties/sting": [*MOODS, None],
        "properties/cues/items/properties/style": list(STYLE_NAMES),
        "properties/cues/items/properties/ending": [JOIN, CLOSE, FILM_END],
        "properties/cues/items/properties/recut/properties/fate": list(FATES),
    }
    for path, words in expected.items():
        assert _at(path) == words, path
