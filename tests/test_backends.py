"""The same conformance tests run on every registered backend of each kind."""

from __future__ import annotations

import numpy as np
import pytest

from filmscore.affect import Affect
from filmscore.asr import ASR_BACKENDS, AsrBackend, Word
from filmscore.decode import DecodeOptions, analysis_geometry, scan
from filmscore.errors import DependencyError, UsageError
from filmscore.media import extract_audio, probe
from filmscore.registry import Registry
from filmscore.shots import ShotAnalyser, ShotOptions
from filmscore.text_emotion import TEXT_EMOTION_BACKENDS
from filmscore.visual_emotion import VISUAL_EMOTION_BACKENDS

from .conftest import HAPPY


@pytest.mark.parametrize("name", ASR_BACKENDS.available())
def test_asr_backend_gives_ordered_words_inside_the_audio(name, mood_films):
    backend = ASR_BACKENDS.create(name)
    assert isinstance(backend, AsrBackend) and backend.name == name
    audio = extract_audio(probe(mood_films["happy"]))
    words = backend.recognise(audio.samples)
    assert words and all(isinstance(w, Word) for w in words)
    assert all(0 <= w.start_s < w.end_s <= audio.duration_s + 0.05 for w in words)
    assert all(0 <= w.confidence <= 1 for w in words)
    # Silence may still give a stray word (PocketSphinx does): the VAD gate keeps it out of transcripts.
    assert len(backend.recognise(np.zeros(16000, dtype=np.float32))) <= 1


@pytest.mark.parametrize("name", TEXT_EMOTION_BACKENDS.available())
def test_text_emotion_backend_rates_in_range(name):
    backend = TEXT_EMOTION_BACKENDS.create(name)
    assert backend.name == name
    for text in (HAPPY, "no", "", "???"):
        rating = backend.rate(text)
        assert isinstance(rating, Affect)
        assert -1 <= rating.valence <= 1 and -1 <= rating.arousal <= 1 and 0 <= rating.weight <= 1
    assert backend.rate("").weight == 0
    assert backend.rate(HAPPY).valence > 0


@pytest.mark.parametrize("name", VISUAL_EMOTION_BACKENDS.available())
def test_visual_emotion_backend_rates_every_shot_from_the_shared_pass(name, cuts_film):
    backend = VISUAL_EMOTION_BACKENDS.create(name)
    info = probe(cuts_film)
    geometry = analysis_geometry(info, DecodeOptions())
    shots_analyser = ShotAnalyser(geometry.fps, ShotOptions())
    scan(info, geometry, [shots_analyser, *backend.analysers(geometry, 200)])
    shots = shots_analyser.shots()
    ratings = backend.estimate(shots)
    assert len(ratings) == len(shots) == 4
    for rating in ratings:
        assert -1 <= rating.valence <= 1 and -1 <= rating.arousal <= 1 and 0 < rating.weight <= 1
    # The dark last shot is less pleasant than the bright test card.
    assert ratings[3].valence < ratings[0].valence


def test_registry_explains_unknown_and_missing_backends():
    registry: Registry[object] = Registry("test")
    registry.register("present", "collections:OrderedDict")
    registry.register("absent", "nowhere:Thing", requires=("no_such_module_xyz",), extra="neural")
    assert registry.available() == ["present"]
    assert registry.names() == ["absent", "present"]
    with pytest.raises(UsageError, match="choose one of absent, present"):
        registry.create("other")
    with pytest.raises(DependencyError, match=r"filmscore\[neural\]"):
        registry.create("absent")
    assert type(registry.create("present")).__name__ == "OrderedDict"
