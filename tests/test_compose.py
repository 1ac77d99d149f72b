"""The symbolic composer and its rendering: measured on the audio it renders, not read from the plan."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import numpy as np
import pytest

from filmscore.core.errors import InputError
from filmscore.music.generators import GENERATORS, MusicRequest
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import CueOptions, plan_cues
from filmscore.music.symbolic.compose import ComposeOptions, compose
from filmscore.music.symbolic.midi import ALL_NOTES_OFF, ALL_SOUND_OFF, midi_bytes, to_midi
from filmscore.music.symbolic.render import find_soundfont
from filmscore.music.symbolic.score import role_channels
from tests.measure import emotions, estimate_key, flat_timeline, onset_strength

MOODS = {"joyful": (0.6, 0.6), "calm": (0.5, -0.6), "sad": (-0.6, -0.4), "tense": (-0.6, 0.7)}


def single_cue_plan(valence: float, arousal: float, seconds: float = 12.0):
    shots = emotions([(seconds, valence, arousal)])
    return plan_cues(shots, flat_timeline(shots), seconds)


_RENDERS: dict[tuple, object] = {}


def render(valence: float, arousal: float, seed: int = 0, speech=()):
    key = (valence, arousal, seed, speech)
    if key not in _RENDERS:
        request = MusicRequest(single_cue_plan(valence, arousal), speech, seed)
        _RENDERS[key] = SymbolicGenerator().generate(request)
    return _RENDERS[key]


@pytest.mark.parametrize("mood", ["joyful", "calm"])
def test_positive_valence_renders_in_a_major_key(mood):
    music = render(*MOODS[mood])
    _, mode, score = estimate_key(music.audio.samples, music.audio.sample_rate)
    assert mode == "major", (mood, score)


@pytest.mark.parametrize("mood", ["sad", "tense"])
def test_negative_valence_renders_in_a_minor_key(mood):
    music = render(*MOODS[mood])
    _, mode, score = estimate_key(music.audio.samples, music.audio.sample_rate)
    assert mode == "minor", (mood, score)


def test_high_arousal_has_more_rhythmic_activity_than_low_arousal():
    lively, quiet = render(0.3, 0.8), render(0.3, -0.6)
    rate = lively.audio.sample_rate
    assert onset_strength(lively.audio.samples, rate) > 1.2 * onset_strength(quiet.audio.samples, rate)


def test_the_same_seed_gives_the_same_audio_and_another_seed_another_tune():
    first = SymbolicGenerator().generate(MusicRequest(single_cue_plan(0.5, 0.2), (), seed=7))
    again = SymbolicGenerator().generate(MusicRequest(single_cue_plan(0.5, 0.2), (), seed=7))
    other = SymbolicGenerator().generate(MusicRequest(single_cue_plan(0.5, 0.2), (), seed=8))
    assert first.audio.samples.tobytes() == again.audio.samples.tobytes()
    assert first.midi == again.midi
    assert first.midi != other.midi


def test_music_is_exactly_as_long_as_the_film_and_not_silent():
    music = render(*MOODS["joyful"])
    assert music.audio.samples.shape == (12 * 48000, 2)
    assert abs(music.audio.samples).max() > 0.01


def test_the_melody_rests_under_dialogue():
    plan = single_cue_plan(0.5, 0.0, seconds=16.0)
    free = compose(plan, (), ComposeOptions(seed=3))
    spoken = compose(plan, ((0.0, 16.0),), ComposeOptions(seed=3))
    melody_channels = set(role_channels("melody"))
    assert any(n.channel in melody_channels for n in free.notes)
    assert not any(n.channel in melody_channels for n in spoken.notes)
    assert len(spoken.notes) < len(free.notes)


def test_the_midi_file_ends_every_channel_with_all_notes_off_and_keeps_the_tempo_map():
    shots = emotions([(8, 0.6, 0.6), (8, -0.6, -0.5)])
    plan = plan_cues(shots, flat_timeline(shots), 16.0)
    midi = to_midi(compose(plan, (), ComposeOptions()))
    reread = mido.MidiFile(file=io.BytesIO(_save(midi)))
    endings = {
        (m.channel, m.control)
        for track in reread.tracks
        for m in track
        if m.type == "control_change" and m.control in (ALL_NOTES_OFF, ALL_SOUND_OFF)
    }
    assert endings == {(ch, cc) for ch in range(16) for cc in (ALL_NOTES_OFF, ALL_SOUND_OFF)}
    tempos = [m for m in reread.tracks[0] if m.type == "set_tempo"]
    assert len(tempos) >= 2
    markers = [m.text for m in reread.tracks[0] if m.type == "marker"]
    assert markers[0].startswith("Cue 1: ") and markers[1].startswith("Cue 2: ")
    # The second cue begins exactly on a beat of the file's tempo map.
    assert reread.length == pytest.approx(16.25, abs=0.05)


def _save(midi: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_a_long_score_is_written_with_one_copy_of_its_messages_in_memory():
    """mido holds a message as a Python object of about 150 bytes, so a feature's file object is large
    (90 MB for a 2-hour score). Its bytes are the same as the object's, and making them holds no more
    than about one file object at a time."""
    import tracemalloc

    moods = [(0.6, 0.6), (0.5, -0.6), (-0.6, -0.4), (-0.6, 0.7)]
    shots = emotions([(5.0, *moods[(i // 3) % 4]) for i in range(120)])  # 10 minutes
    composition = compose(plan_cues(shots, flat_timeline(shots), 600.0), (), ComposeOptions())
    tracemalloc.start()
    try:
        midi = to_midi(composition)
        held = tracemalloc.get_traced_memory()[0]
        expected = _save(midi)
        del midi
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        written = midi_bytes(composition)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert written == expected
    assert peak < 1.4 * held  # a copy of every message while the tracks were built took 2x


def test_a_user_soundfont_is_used_and_a_bad_one_is_refused(tmp_path: Path):
    timgm = find_soundfont().path.parent  # any installed one will do for the positive case
    assert timgm.exists()
    pretty = Path(__import__("pretty_midi").__file__).with_name("TimGM6mb.sf2")
    generator = SymbolicGenerator(soundfont=pretty)
    music = generator.generate(MusicRequest(single_cue_plan(0.4, 0.2, 6.0), (), 0))
    assert music.details["soundfont_origin"] == "user" and music.details["soundfont"].endswith("TimGM6mb.sf2")
    assert abs(music.audio.samples).max() > 0.01
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"not a soundfont at all")
    with pytest.raises(InputError, match="not a SoundFont"):
        SymbolicGenerator(soundfont=fake)
    with pytest.raises(InputError, match="no such SoundFont"):
        SymbolicGenerator(soundfont=tmp_path / "missing.sf2")
    truncated = tmp_path / "truncated.sf2"  # a real font's header, but FluidSynth cannot load it
    truncated.write_bytes(pretty.read_bytes()[:100_000])
    with pytest.raises(InputError, match="FluidSynth cannot load this SoundFont"):
        SymbolicGenerator(soundfont=truncated)


@pytest.fixture(scope="module")
def generator_options(tmp_path_factory):
    """What each generator needs to be created, beyond its defaults."""
    from tests.music_synth import make_library

    return {"library": {"library": make_library(tmp_path_factory.mktemp("library"))}}


@pytest.mark.parametrize("name", GENERATORS.names())
def test_every_generator_follows_the_plan_length_and_is_deterministic(
    name, generator_options, backend_options
):
    options = generator_options.get(name, {}) | backend_options("music_generator", name)
    generator = GENERATORS.create(name, **options)
    plan = single_cue_plan(0.2, 0.1, 5.0)
    first, second = (
        generator.generate(MusicRequest(plan, (), 1)),
        generator.generate(MusicRequest(plan, (), 1)),
    )
    assert first.audio.samples.shape[0] == round(5.0 * first.audio.sample_rate)
    assert first.audio.samples.ndim == 2 and first.audio.samples.shape[1] == 2
    assert first.audio.samples.tobytes() == second.audio.samples.tobytes()


def test_cues_rendered_alone_sum_to_the_whole_score():
    """The music is the sum of its cues, each rendered alone from its first beat (issue 35: each is also
    an editor's clean cue file). Every note belongs to one cue (a roll into the second cue's downbeat
    starts before it), and the sum sounds as the whole score rendered at once: within 1.5 dB in every
    half second. Not sample for sample: FluidSynth's chorus and reverb modulate from the start of a
    render, so a note rendered from another start meets another phase of them."""
    from filmscore.media.audio import load
    from filmscore.music.symbolic.cue_sounds import placed_sum, render_cue_sounds
    from filmscore.music.symbolic.kept import cue_part
    from filmscore.music.symbolic.render import render_separately
    from filmscore.music.symbolic.score import without_overlaps

    plan, composition = _two_cue_composition()
    soundfont = find_soundfont()
    whole = load(render_separately([midi_bytes(composition)], soundfont, 16.0)[0])
    sounds = render_cue_sounds(composition, plan.cues, soundfont, None)
    summed = load(placed_sum(sounds, len(whole), None))
    owned = sum(len(cue_part(composition, cue).notes) for cue in plan.cues)
    assert owned == len(without_overlaps(composition.notes))
    half = 24_000

    def levels(audio: np.ndarray) -> np.ndarray:
        frames = audio[: len(audio) // half * half].reshape(-1, half, 2)
        return 10 * np.log10(np.mean(frames**2, axis=(1, 2)) + 1e-12)

    heard = levels(whole) > -60
    assert np.abs(levels(whole) - levels(summed))[heard].max() < 1.5
    for sound, cue in zip(sounds, plan.cues, strict=True):
        tail = round((cue.end_s + 1.0 - sound.start_s) * 48000)
        assert sound.audio.frames >= tail  # a second's tail at least


def _two_cue_composition():
    shots = emotions([(8, 0.6, -0.5), (8, -0.6, 0.7)])  # calm G major, then tense D minor
    plan = plan_cues(shots, flat_timeline(shots), 16.0)
    assert [c.key for c in plan.cues] == ["G major", "D minor"]
    return plan, compose(plan, (), ComposeOptions(crossfade_s=1.5))


def test_the_outgoing_cue_rings_and_fades_over_the_next_one():
    from filmscore.music.symbolic.score import CC_EXPRESSION, CHANNEL_BANKS

    plan, composition = _two_cue_composition()
    cut = plan.cues[1].start_s
    first_pad, second_pad = CHANNEL_BANKS[0][0], CHANNEL_BANKS[1][0]
    ringing = [n for n in composition.notes if n.channel == first_pad and n.start_s < cut < n.end_s]
    assert ringing and max(n.end_s for n in ringing) == pytest.approx(cut + 1.5)
    fade = [
        c
        for c in composition.controls
        if c.channel == first_pad and c.number == CC_EXPRESSION and c.t_s > cut
    ]
    assert [c.value for c in fade] == sorted((c.value for c in fade), reverse=True) and fade[-1].value == 0
    assert any(n.channel == second_pad and n.start_s == pytest.approx(cut) for n in composition.notes)


def test_the_last_chord_before_a_new_key_is_its_dominant_seventh():
    from filmscore.music.symbolic.score import CHANNEL_BANKS

    plan, composition = _two_cue_composition()
    cut = plan.cues[1].start_s
    last_bar = plan.cues[0].beat_times[-1 - plan.cues[0].meter]
    pad = {
        n.pitch % 12
        for n in composition.notes
        if n.channel == CHANNEL_BANKS[0][0] and n.start_s >= last_bar - 1e-6 and n.start_s < cut
    }
    assert pad == {9, 1, 4, 7}  # A7 (A C# E G): the dominant of D minor, with its leading tone C#


def test_a_strong_hit_gets_a_timpani_roll_and_a_cymbal_on_the_cut():
    from filmscore.music.symbolic.percussion import kit_keys
    from filmscore.music.symbolic.score import DRUM_CHANNEL, role_channels

    shots = emotions([(6, 0.0, -0.6), (6, -0.2, 0.7)])
    plan = plan_cues(shots, flat_timeline(shots), 12.0)
    (hit,) = [h for h in plan.hits if h.strength >= 0.6]
    composition = compose(plan, (), ComposeOptions())
    timpani = [
        n
        for n in composition.notes
        if n.channel in role_channels("timpani") and hit.t_s - 1.0 < n.start_s <= hit.t_s
    ]
    assert len(timpani) >= 10 and timpani[-1].velocity == max(n.velocity for n in timpani)
    cue = plan.cues[-1]
    crash = kit_keys(cue.instruments.kit, cue.tonic)[
        "crash"
    ]  # the kit's cymbal (a concert one in an orchestra)
    assert any(
        n.channel == DRUM_CHANNEL and n.pitch == crash and n.start_s == hit.t_s for n in composition.notes
    )


def test_silent_ranges_silence_the_cue_sounds_as_they_silence_the_music():
    """A spotted `none` range cuts what rings into it: in the music and in each cue's own sound alike, so
    the cue files still sum to the music (a range may start inside a cue's sound, or after it ends)."""
    from filmscore.media.audio import load
    from filmscore.media.probe import AudioClip
    from filmscore.music.generators import CueSound, Music, silenced
    from filmscore.music.symbolic.cue_sounds import placed_sum

    rate = 48_000
    rng = np.random.default_rng(3)

    def noise(seconds: int) -> AudioClip:
        return AudioClip(rng.normal(0, 0.1, (seconds * rate, 2)).astype(np.float32), rate)

    sounds = (CueSound(0, 0.0, noise(3)), CueSound(1, 2.5, noise(2)))
    music = Music(placed_sum(sounds, 5 * rate, None), None, {}, cue_sounds=sounds)
    quiet = silenced(music, ((2.0, 2.6), (4.7, 5.0)))
    assert np.abs(load(quiet.audio)[round(2.0 * rate) : round(2.6 * rate)]).max() == 0
    again = load(placed_sum(quiet.cue_sounds, 5 * rate, None))
    assert np.abs(again - load(quiet.audio)).max() < 1e-6


@pytest.mark.parametrize(("valence", "arousal"), [(0.6, 0.8), (-0.6, 0.8), (0.5, -0.5), (-0.5, -0.4)])
@pytest.mark.parametrize("seconds", [7.37, 12.04])
def test_a_cue_to_the_end_of_the_film_ends_on_its_tonic_a_quarter_second_before(valence, arousal, seconds):
    """Issue 36: a driving cue that ran to the end of the film was cut off mid-phrase, notes starting
    0.13 s before the last frame and no final chord. The film's last cue now strikes its tonic chord on
    its last downbeat at least 0.25 s before the end: a driving cue as a button (every part at once,
    short, nothing after), a still one held and fading with the film."""
    from filmscore.music.symbolic.compose import BUTTON_ENERGY
    from filmscore.music.symbolic.theory import chord_pitch_classes

    plan = single_cue_plan(valence, arousal, seconds)
    cue = plan.cues[-1]
    notes = compose(plan, (), ComposeOptions()).notes
    last_onset = max(n.start_s for n in notes)
    assert last_onset <= seconds - 0.25 and last_onset in cue.beat_times
    final = [n for n in notes if abs(n.start_s - last_onset) < 1e-6 and n.channel != 9]
    tonic = set(chord_pitch_classes(cue.tonic, (0, "maj" if cue.mode == "major" else "min")))
    assert {n.pitch % 12 for n in final} <= tonic and cue.tonic in {n.pitch % 12 for n in final}
    if cue.energy >= BUTTON_ENERGY:  # a button: the whole band at once, nothing ringing from before
        assert len({n.channel for n in final}) >= 3
        assert all(n.end_s <= last_onset + 1e-6 for n in notes if n.start_s < last_onset - 1e-6)


FIVE_FILMS = (
    [(6.0, 0.6, 0.5), (8.0, -0.6, -0.4), (5.0, -0.6, 0.7), (8.0, 0.5, -0.5)],
    [(12.0, -0.5, 0.6), (10.0, 0.4, -0.4)],
    [(7.5, 0.7, 0.7), (7.5, 0.6, 0.2), (9.0, -0.4, -0.5)],
    [(20.0, 0.2, -0.6)],
    [(4.0, -0.7, 0.8), (4.0, 0.7, 0.8), (4.0, -0.5, -0.5), (4.0, 0.5, -0.5), (4.0, 0.0, 0.0)],
)


def _planned(film: list[tuple[float, float, float]], seed: int):
    """A film's plan as a run makes it: its home key from the film and the seed."""
    from filmscore.music.planning import CueOptions
    from filmscore.music.planning.palette import film_fingerprint, home_key_for

    shots = emotions(film)
    duration = sum(length for length, _, _ in film)
    key = home_key_for(seed, film_fingerprint(duration, [(s.start_s, str(s.label)) for s in shots]))
    return plan_cues(shots, flat_timeline(shots), duration, CueOptions(home_key=key))


def test_five_films_with_the_default_seed_play_in_at_least_four_tonics():
    """Issue 36: every cue of every film was in D major, D minor or G major. The home key now comes from
    the film and the seed, and the cues relate to it (relative minor, parallel minor, subdominant, a
    step up), each saying why."""
    plans = [_planned(film, seed=0) for film in FIVE_FILMS]
    assert len({cue.tonic for plan in plans for cue in plan.cues}) >= 4
    assert len({plan.home_key for plan in plans}) >= 3
    assert all(cue.key_reason for plan in plans for cue in plan.cues)
    assert _planned(FIVE_FILMS[0], seed=0) == plans[0]  # the same film and seed: the same plan


def test_two_seeds_on_one_film_share_under_half_the_notes_of_every_part():
    from filmscore.music.symbolic.score import ROLES, role_channels

    scores = [compose(_planned(FIVE_FILMS[0], seed), (), ComposeOptions(seed=seed)) for seed in (0, 1)]
    for role in ROLES:
        channels = set(role_channels(role))
        first, second = ({(n.pitch, round(n.start_s, 3)) for n in s.notes if n.channel in channels}
                         for s in scores)  # fmt: skip
        if first:
            assert len(first & second) < 0.5 * len(first), role


def test_a_tense_cue_holds_a_dominant_pedal_and_says_so():
    """Issue 36: tension sits over its dominant in the bass, unresolved, and the report says why."""
    from filmscore.core.affect import Mood

    shots = emotions([(6.0, 0.7, 0.2), (8.0, -0.4, 0.3), (6.0, 0.6, -0.5)])
    plan = plan_cues(shots, flat_timeline(shots), 20.0, CueOptions())
    tense = plan.cues[1]
    assert tense.mood == Mood.TENSE and "dominant pedal" in tense.key_reason
    composition = compose(plan, (), ComposeOptions())
    bass = [n for n in composition.notes if n.channel in role_channels("bass") and n.cue == tense.id]
    assert bass and {n.pitch % 12 for n in bass} == {(tense.tonic + 7) % 12}
