"""The same conformance tests run on every registered backend of each kind."""

from __future__ import annotations

import numpy as np
import pytest

from filmscore.analysis.asr import ASR_BACKENDS, AsrBackend, Word
from filmscore.analysis.shots import ShotAnalyser, ShotOptions
from filmscore.analysis.text import TEXT_EMOTION_BACKENDS
from filmscore.analysis.visual import VISUAL_EMOTION_BACKENDS
from filmscore.core.affect import Affect
from filmscore.core.errors import DependencyError, UsageError
from filmscore.core.registry import Registry
from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media.probe import extract_audio, probe

from .conftest import HAPPY

# Every registered backend, embedded and neural: the neural ones run on tiny random models (see
# tests/tiny_models.py), so these tests check the contract, not the quality of the answers. Quality is
# tested on the embedded backends, below and in test_emotion.py.


@pytest.mark.parametrize("name", ASR_BACKENDS.names())
def test_asr_backend_gives_ordered_words_inside_the_audio(name, mood_films, backend_options):
    backend = ASR_BACKENDS.create(name, **backend_options("asr", name))
    assert isinstance(backend, AsrBackend) and backend.name == name
    audio = extract_audio(probe(mood_films["happy"]))
    words = backend.recognise(audio.samples)
    assert all(isinstance(w, Word) and w.word.strip() for w in words)
    assert all(0 <= w.start_s < w.end_s <= audio.duration_s + 0.05 for w in words)
    assert all(0 <= w.confidence <= 1 for w in words)
    assert [w.start_s for w in words] == sorted(w.start_s for w in words)
    assert backend.language
    # Silence may still give a stray word (PocketSphinx does): the VAD gate keeps it out of transcripts.
    assert len(backend.recognise(np.zeros(16000, dtype=np.float32))) <= 1


def test_pocketsphinx_hears_the_words(mood_films):
    words = ASR_BACKENDS.create("pocketsphinx").recognise(extract_audio(probe(mood_films["happy"])).samples)
    assert {"happy", "day"} <= {w.word for w in words}


@pytest.mark.parametrize("name", TEXT_EMOTION_BACKENDS.names())
def test_text_emotion_backend_rates_in_range(name, backend_options):
    backend = TEXT_EMOTION_BACKENDS.create(name, **backend_options("text_emotion", name))
    assert backend.name == name
    texts = (HAPPY, "no", "", "???")
    ratings = backend.rate_many(texts)
    for text, rating in zip(texts, ratings, strict=True):
        assert isinstance(rating, Affect)
        assert -1 <= rating.valence <= 1 and -1 <= rating.arousal <= 1 and 0 <= rating.weight <= 1
        alone = backend.rate(text)  # in a batch or alone, the same rating (padding may move the last digits)
        assert (rating.valence, rating.arousal, rating.weight) == pytest.approx(
            (alone.valence, alone.arousal, alone.weight), abs=1e-6
        )
    assert backend.rate("").weight == 0 and backend.rate(HAPPY).weight > 0


def test_lexicon_reads_a_happy_line_as_pleasant():
    assert TEXT_EMOTION_BACKENDS.create("lexicon").rate(HAPPY).valence > 0


def _rate_shots(backend, film):
    info = probe(film)
    geometry = analysis_geometry(info, DecodeOptions())
    shots_analyser = ShotAnalyser(geometry.fps, ShotOptions())
    scan(info, geometry, [shots_analyser, *backend.analysers(geometry, 200, shots_analyser.cuts_so_far)])
    shots = shots_analyser.shots()
    return shots, backend.estimate(shots)


@pytest.mark.parametrize("name", VISUAL_EMOTION_BACKENDS.names())
def test_visual_emotion_backend_rates_every_shot_from_the_shared_pass(name, cuts_film, backend_options):
    backend = VISUAL_EMOTION_BACKENDS.create(name, **backend_options("visual_emotion", name))
    shots, ratings = _rate_shots(backend, cuts_film)
    assert len(ratings) == len(shots) == 4
    for rating in ratings:
        assert -1 <= rating.valence <= 1 and -1 <= rating.arousal <= 1 and 0 < rating.weight <= 1
    # Different pictures, different readings, whatever the weights.
    assert len({round(r.valence, 6) for r in ratings}) > 1


def test_picture_features_read_the_dark_shot_as_less_pleasant(cuts_film):
    _, ratings = _rate_shots(VISUAL_EMOTION_BACKENDS.create("features"), cuts_film)
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
