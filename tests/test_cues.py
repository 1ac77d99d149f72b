"""Cue planning: grouping shots into cues, the musical parameters, the beat grid and the hits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filmscore.music.planning import CueOptions, fit_beats, plan_cues, tempo_for
from tests.measure import emotions, flat_timeline


def plan(spec, opts=None):
    shots = emotions(spec)
    return plan_cues(shots, flat_timeline(shots), shots[-1].end_s, opts)


def test_similar_shots_share_a_cue_and_a_change_of_mood_starts_one():
    result = plan([(5, 0.5, 0.2), (5, 0.55, 0.25), (5, 0.45, 0.2), (8, -0.6, -0.5), (8, -0.55, -0.45)])
    assert [c.shot_indices for c in result.cues] == [(0, 1, 2), (3, 4)]
    assert result.shot_cues == (0, 0, 0, 1, 1)
    assert result.cues[0].start_s == 0 and result.cues[-1].end_s == 31
    assert result.cues[0].end_s == result.cues[1].start_s == 15


def test_short_shots_do_not_change_the_music_at_every_cut():
    # Alternating moods in 1-second shots: each cue must last at least min_cue_s.
    spec = [(1.0, 0.6 if i % 2 else -0.6, 0.0) for i in range(20)]
    result = plan(spec, CueOptions(min_cue_s=4.0))
    assert all(c.duration_s >= 4.0 for c in result.cues)
    assert len(result.cues) <= 5


def test_a_long_unchanging_film_is_split_into_cues_no_longer_than_the_maximum():
    result = plan([(10, 0.3, 0.0)] * 30, CueOptions(max_cue_s=60))
    assert len(result.cues) >= 5
    assert all(c.duration_s <= 60 for c in result.cues)


@pytest.mark.parametrize(
    ("valence", "arousal", "mode"),
    [(0.6, 0.5, "major"), (0.5, -0.5, "major"), (-0.6, -0.4, "minor"), (-0.5, 0.7, "minor")],
)
def test_valence_sets_the_mode(valence, arousal, mode):
    assert plan([(10, valence, arousal)]).cues[0].mode == mode


def test_fear_gets_tension_and_joy_none():
    tense = plan([(10, -0.6, 0.8)]).cues[0]
    joyful = plan([(10, 0.6, 0.6)]).cues[0]
    assert tense.tension > 0.5 and tense.mood == "afraid"
    assert joyful.tension == 0


def test_arousal_drives_tempo_density_articulation_and_loudness():
    calm, lively = plan([(10, 0.2, -0.7)]).cues[0], plan([(10, 0.2, 0.8)]).cues[0]
    assert lively.tempo_bpm > calm.tempo_bpm + 30
    assert lively.subdivision > calm.subdivision
    assert lively.articulation < calm.articulation
    assert lively.velocity > calm.velocity
    assert lively.register > calm.register
    assert tempo_for(-1) < tempo_for(0) < tempo_for(1)


def test_each_cue_holds_whole_beats_so_the_next_cue_starts_on_a_downbeat():
    result = plan([(7.3, 0.5, 0.5), (9.1, -0.6, -0.6), (6.7, -0.5, 0.8)])
    for cue in result.cues:
        assert cue.beat_times[0] == cue.start_s
        assert cue.beat_times[-1] == pytest.approx(cue.end_s)
        lengths = np.diff(cue.beat_times)
        assert lengths.min() > 0


def test_the_last_bar_glides_toward_the_next_tempo():
    beats = fit_beats(0.0, 10.0, 120.0, 60.0, meter=4)
    lengths = np.diff(beats)
    assert sum(lengths) == pytest.approx(10.0)
    # Slowing down into a 60 bpm cue: the last four beats lengthen step by step toward 1 s.
    assert list(lengths[-4:]) == sorted(lengths[-4:])
    assert lengths[-1] > lengths[0] * 1.3


def test_a_sudden_rise_in_arousal_is_a_hit():
    result = plan([(6, 0.0, -0.5), (6, 0.0, -0.45), (6, -0.2, 0.6)])
    strong = [h for h in result.hits if h.strength >= 0.6]
    assert [h.t_s for h in strong] == [12.0]
    assert not any(h.t_s == 6.0 for h in result.hits)


def test_dynamics_follow_arousal_within_a_cue():
    shots = emotions([(6, 0.3, -0.6), (6, 0.3, 0.0)])
    result = plan_cues(shots, flat_timeline(shots), 12.0, CueOptions(change_threshold=1.0))
    (cue,) = result.cues
    levels = dict(cue.dynamics)
    assert levels[9.0] > levels[2.0]
    assert all(0 < level <= 1 for _, level in cue.dynamics)


def test_a_strong_emotion_shorter_than_a_cue_gets_its_own_cue():
    """A frightened 2.5 s shot between calm ones: not averaged into a calm cue."""
    cues = plan([(6, 0.5, -0.5), (2.5, -0.7, 0.8), (6, 0.5, -0.5)]).cues
    assert [c.mood for c in cues] == ["calm", "afraid", "calm"]
    assert cues[1].start_s == 6.0 and cues[1].end_s == 8.5 and cues[1].mode == "minor"


def test_a_brief_calm_picture_does_not_break_into_a_cue():
    """A bright 2 s title card reads far from neutral, but calm is no strong emotion: the joyful cue goes
    on through it, with no cue or sting of its own."""
    result = plan([(6, 0.7, 0.5), (2.0, 0.75, -0.1), (7, -0.5, -0.5)])
    assert [(c.mood, c.start_s, c.end_s) for c in result.cues] == [("joyful", 0.0, 8.0), ("sad", 8.0, 15.0)]
    assert not [h for h in result.hits if h.sting is not None]


def test_a_strong_emotion_too_short_for_a_cue_gets_a_sting():
    result = plan([(6, 0.5, -0.5), (1.2, -0.7, 0.8), (6, 0.5, -0.5)])
    assert [c.mood for c in result.cues] == ["calm"]  # a 1.2 s shot is no cue
    (sting,) = [h for h in result.hits if h.sting is not None]
    assert sting.sting == "afraid" and sting.t_s == 6.0 and sting.strength == 1.0
    weak = plan([(6, 0.5, -0.5), (1.2, -0.2, 0.2), (6, 0.5, -0.5)])
    assert not [h for h in weak.hits if h.sting is not None]  # a mild shot is no sting


def test_stings_strike_their_moods_chord():
    from filmscore.music.symbolic.compose import ComposeOptions, compose

    result = plan([(6, 0.5, -0.5), (1.2, -0.7, 0.8), (6, 0.5, -0.5)])
    notes = compose(result, (), ComposeOptions()).notes
    struck = sorted(n.pitch for n in notes if n.start_s == 6.0 and n.velocity >= 110)
    assert len(struck) >= 5 and any(b - a == 1 for a, b in itertools.pairwise(struck))  # a cluster


@pytest.mark.parametrize(
    "order",
    [
        ("afraid", "calm", "joyful", "sad"),
        ("sad", "calm", "afraid", "joyful"),
        ("joyful", "sad", "calm", "afraid"),
    ],
)
def test_a_long_cue_keeps_a_mood_one_of_its_shots_has(order):
    """Issue 34: with the documentary preset's 8 s shortest cue, an afraid shot and a calm one became one
    neutral cue, which neither shot is; a merged cue takes the most salient mood of its shots."""
    from filmscore.analysis.fusion import LABELS
    from filmscore.core.affect import Mood

    spec = [(5.0, *LABELS[Mood(mood)]) for mood in order]
    result = plan(spec, CueOptions(min_cue_s=8.0, max_cue_s=120.0))
    for cue in result.cues:
        assert cue.mood in {order[i] for i in cue.shot_indices}, (cue.mood, cue.shot_indices)


@settings(max_examples=150, deadline=None)
@given(
    shots=st.lists(
        st.tuples(st.floats(0.5, 12), st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=12
    ),
    min_cue_s=st.floats(1, 20),
)
@example(shots=[(2.0, 0.234375, 0.0), (0.5, 0.0, -1.0)], min_cue_s=1.0)  # two calm shots average to neutral
def test_every_cue_the_reading_places_has_the_mood_of_one_of_its_shots(shots, min_cue_s):
    from filmscore.analysis.fusion import label_for

    result = plan(shots, CueOptions(min_cue_s=min_cue_s, max_cue_s=max(min_cue_s, 75.0)))
    for cue in result.cues:
        assert cue.mood in {label_for(shots[i][1], shots[i][2]) for i in cue.shot_indices}


def test_the_documentary_preset_on_a_four_mood_film_gives_each_cue_a_mood_of_its_shots(tmp_path):
    """Issue 34's done-when, end to end: the documentary preset's 8 s shortest cue merges the film's 5 s
    shots, and every cue still has the mood of one of them."""
    import filmscore
    from tests.synthetic import four_mood_film

    film = four_mood_film(tmp_path / "four moods.mp4")
    scored = filmscore.score(film, pipeline="documentary", mer="none")
    labels = [emotion.label for emotion in scored.analysis.emotions]
    assert len(scored.plan.cues) < len(labels)  # the shots were merged
    for cue in scored.plan.cues:
        assert cue.mood in {labels[i] for i in cue.shot_indices}, (cue.mood, cue.shot_indices, labels)
