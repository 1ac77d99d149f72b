"""The emotion sources and their fusion, on films whose mood is known."""

from __future__ import annotations

import numpy as np
import pytest

from filmscore.analysis.fusion import FusionOptions, fuse_shot, gaussian_smoothed, label_for, timeline
from filmscore.analysis.shots import Shot
from filmscore.analysis.text.lexicon import LexiconTextEmotion
from filmscore.core.affect import Affect


def _only_shot(analysis):
    assert len(analysis.emotions) == 1
    return analysis.emotions[0]


def test_happy_dialogue_has_higher_valence_than_sad(analysed, mood_films):
    happy = _only_shot(analysed(mood_films["happy"]))
    sad = _only_shot(analysed(mood_films["sad"]))
    assert happy.sources["text"] is not None and sad.sources["text"] is not None
    assert happy.sources["text"].valence > sad.sources["text"].valence
    assert happy.valence > sad.valence
    # The picture is the same neutral grey, so the difference comes from what is said and how.
    assert happy.sources["visual"].valence == pytest.approx(sad.sources["visual"].valence, abs=0.05)


def test_bright_moving_pictures_are_more_arousing_than_dark_static_ones(analysed, picture_films):
    bright = _only_shot(analysed(picture_films["bright_motion"]))
    dark = _only_shot(analysed(picture_films["dark_static"]))
    assert bright.sources["text"] is None and dark.sources["text"] is None
    assert bright.sources["visual"].arousal > dark.sources["visual"].arousal + 0.3
    assert bright.arousal > dark.arousal


@pytest.mark.parametrize("aroused", ["frightened"])
@pytest.mark.parametrize("subdued", ["calm", "sad"])
def test_frightened_speech_is_more_arousing_than_calm_or_sad(analysed, mood_films, aroused, subdued):
    high = _only_shot(analysed(mood_films[aroused]))
    low = _only_shot(analysed(mood_films[subdued]))
    assert high.sources["audio"].arousal > low.sources["audio"].arousal
    assert high.arousal > low.arousal


def test_lexicon_handles_negation_and_intensity():
    lexicon = LexiconTextEmotion()
    assert lexicon.rate("I am happy").valence > 0 > lexicon.rate("I am not happy").valence
    assert lexicon.rate("I am very very happy").valence > lexicon.rate("I am happy").valence
    assert lexicon.rate("I am terrified and scared").arousal > lexicon.rate("I am not scared").arousal
    assert lexicon.rate("we fight, they attack").arousal > lexicon.rate("rest and sleep now").arousal
    assert lexicon.rate("").weight == 0


SHOT = Shot(index=0, start_frame=0, end_frame=50, start_s=0.0, end_s=2.0)


def test_a_source_without_evidence_weighs_nothing():
    picture = Affect(valence=0.4, arousal=-0.2, weight=1.0)
    silent_text = Affect(valence=-1.0, arousal=1.0, weight=0.0)
    fused = fuse_shot(SHOT, {"text": silent_text, "visual": picture, "audio": Affect(0, 0, 0)})
    assert fused.valence == pytest.approx(0.4) and fused.arousal == pytest.approx(-0.2)
    assert fused.sources["text"] is None and fused.sources["visual"] == picture


def test_words_outweigh_the_picture_on_valence():
    fused = fuse_shot(
        SHOT, {"text": Affect(0.8, 0.0, 1.0), "visual": Affect(-0.8, 0.0, 1.0), "audio": Affect(0, 0, 0)}
    )
    assert fused.valence > 0


def test_confidence_falls_when_sources_disagree():
    agree = fuse_shot(SHOT, {s: Affect(0.5, 0.5, 1.0) for s in ("text", "visual", "audio")})
    disagree = fuse_shot(
        SHOT, {"text": Affect(1, 1, 1.0), "visual": Affect(-1, -1, 1.0), "audio": Affect(1, -1, 1.0)}
    )
    assert agree.confidence > disagree.confidence
    assert agree.confidence == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("valence", "arousal", "label"),
    [
        (0.0, 0.0, "neutral"),
        (0.0, -0.4, "neutral"),  # a quiet shot with nothing pleasant or unpleasant in it
        (0.1, 0.35, "neutral"),
        (0.7, 0.6, "joyful"),
        (-0.3, 0.45, "tense"),
        (-0.6, 0.7, "afraid"),
        (-0.6, -0.5, "sad"),
        (0.5, -0.6, "calm"),
    ],
)
def test_labels(valence, arousal, label):
    assert label_for(valence, arousal) == label


def test_timeline_is_smooth_at_a_fixed_step():
    shots = (SHOT, Shot(1, 50, 100, 2.0, 4.0))
    emotions = (
        fuse_shot(shots[0], {"visual": Affect(-1, -1, 1)}),
        fuse_shot(shots[1], {"visual": Affect(1, 1, 1)}),
    )
    points = timeline(emotions, 4.0, FusionOptions(timeline_step_s=0.5, smoothing_s=0.5))
    assert [p.t_s for p in points] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    values = [p.valence for p in points]
    assert values == sorted(values)  # rises through the cut without jumping
    assert values[0] < -0.9 and values[-1] > 0.9
    assert -0.9 < values[3] < values[4] < 0.9


@pytest.mark.parametrize(("length", "sigma"), [(200, 2.0), (7, 2.0), (1, 0.7), (50, 0.3), (30, 12.0)])
def test_the_timeline_is_smoothed_as_scipy_smooths(length, sigma):
    from scipy.ndimage import gaussian_filter1d

    values = np.random.default_rng(length).uniform(-1, 1, length)
    expected = gaussian_filter1d(values, sigma, mode="nearest")
    assert np.allclose(gaussian_smoothed(values, sigma), expected, rtol=0, atol=1e-14)


def test_the_soundtrack_is_measured_in_chunks_with_the_values_of_one_pass():
    """A film longer than a chunk gets exactly the frames one whole-signal librosa pass would give."""
    import librosa

    from filmscore.analysis.soundtrack import CHUNK_FRAMES, FRAME, HOP, measure_soundtrack
    from filmscore.media.probe import AudioClip

    rate = 16000
    t = np.arange(int((CHUNK_FRAMES * 2.3) * HOP)) / rate  # two and a bit chunks
    voice = np.sin(2 * np.pi * (150 + 30 * np.sin(t)) * t) * (0.2 + 0.15 * np.sin(t / 3))
    samples = voice.astype(np.float32)
    track = measure_soundtrack(AudioClip(samples, rate))
    rms = librosa.feature.rms(y=samples, frame_length=FRAME, hop_length=HOP)[0]
    f0 = librosa.yin(samples, fmin=60, fmax=500, sr=rate, frame_length=FRAME, hop_length=HOP)
    assert len(track.rms_db) == len(rms) == len(f0)
    np.testing.assert_allclose(track.rms_db, 20 * np.log10(np.maximum(rms, 1e-6)), atol=1e-3)
    voiced = np.isfinite(track.f0_hz)
    assert voiced.mean() > 0.9
    np.testing.assert_allclose(track.f0_hz[voiced], f0[voiced], rtol=1e-3)


def test_pitch_is_measured_only_where_someone_speaks_with_the_values_of_the_whole():
    from filmscore.analysis.soundtrack import CHUNK_FRAMES, HOP, measure_soundtrack, speech_frames
    from filmscore.media.probe import AudioClip

    rate = 16000
    t = np.arange(int((CHUNK_FRAMES * 2.3) * HOP)) / rate  # two and a bit chunks: 37 s
    samples = (np.sin(2 * np.pi * (150 + 30 * np.sin(t)) * t) * 0.3).astype(np.float32)
    speech = ((1.0, 3.5), (15.0, 18.0), (36.5, 40.0))  # the second spans chunks, the last runs past the end
    whole = measure_soundtrack(AudioClip(samples, rate))
    spoken = measure_soundtrack(AudioClip(samples, rate), speech)
    np.testing.assert_array_equal(spoken.rms_db, whole.rms_db)
    inside = speech_frames(len(whole.f0_hz), whole.frame_s, speech)
    assert 0.1 < inside.mean() < 0.3
    np.testing.assert_allclose(spoken.f0_hz[inside], whole.f0_hz[inside], rtol=1e-5)
    assert np.isfinite(spoken.f0_hz[inside]).all() and np.isnan(spoken.f0_hz[~inside]).all()


BRIGHT_PICTURE = Affect(0.9975, 0.3, 0.9)  # issue 34: a bright, saturated gradient


@pytest.mark.parametrize("weight", [0.6, 1.0])
def test_plain_words_calmly_spoken_are_not_overruled_by_a_bright_picture(weight):
    """A corporate voice-over over a bright gradient: text valence 0.00, picture 0.9975, read joyful
    before issue 34."""
    words, voice = Affect(0.0, 0.1, weight), Affect(0.0, -0.1, 0.8)
    shot = fuse_shot(Shot(0, 0, 100, 0.0, 4.0), {"text": words, "visual": BRIGHT_PICTURE, "audio": voice})
    assert shot.label.value in ("neutral", "calm") and shot.valence < 0.22


@pytest.mark.parametrize(
    ("words", "voice_arousal"),
    [(Affect(0.6, 0.3, 1.0), -0.1), (Affect(0.0, 0.1, 1.0), 0.5), (Affect(0.0, 0.0, 0.25), -0.1)],
    ids=["happy words", "excited voice", "two words"],
)
def test_the_picture_keeps_its_say_unless_the_words_are_plain_and_calm(words, voice_arousal):
    voice = Affect(0.0, voice_arousal, 0.8)
    shot = fuse_shot(Shot(0, 0, 100, 0.0, 4.0), {"text": words, "visual": BRIGHT_PICTURE, "audio": voice})
    assert shot.label.value == "joyful"


def test_a_corporate_voice_over_on_a_bright_gradient_reads_neutral(tmp_path):
    from tests.synthetic import Line, ShotSpec, make_film

    line = Line("The quarterly numbers are in line with the forecast, and the budget is unchanged.", at_s=0.4)
    film = make_film(tmp_path / "corporate.mp4", [ShotSpec("bright_gradient", 6.0, line)], size=(320, 180))
    import filmscore

    (shot,) = filmscore.analyze(film).emotions
    assert shot.sources["visual"] is not None and shot.sources["visual"].valence > 0.8  # a bright picture
    assert shot.label.value in ("neutral", "calm")
