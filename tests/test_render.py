"""The synthesiser under the symbolic generator: FluidSynth in this process renders what the fluidsynth
program renders, from a fresh synthesiser each time, counts the voices each preset starts, stops when told,
and turns FluidSynth's errors into ours without printing its chatter."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from filmscore.core.errors import DependencyError
from filmscore.music.planning import plan_cues
from filmscore.music.symbolic import fluid
from filmscore.music.symbolic.compose import ComposeOptions, compose
from filmscore.music.symbolic.midi import midi_bytes
from filmscore.music.symbolic.render import (
    SYNTH_ENV,
    SYNTH_SETTINGS,
    SoundFont,
    find_soundfont,
    note_costs,
    render_separately,
    sum_clips,
)
from filmscore.music.symbolic.score import Composition, Note
from tests.measure import emotions, flat_timeline

needs_library = pytest.mark.skipif(fluid.library() is None, reason="libfluidsynth is not installed")


def render_midi(pieces: list[bytes], soundfont: SoundFont, seconds: float) -> np.ndarray:
    """The pieces rendered apart and summed, in memory."""
    return np.asarray(
        sum_clips(render_separately(pieces, soundfont, seconds)).read(0, round(seconds * 48000))
    )


def _composition(valence: float, arousal: float, seconds: float) -> Composition:
    shots = emotions([(seconds, valence, arousal)])
    return compose(plan_cues(shots, flat_timeline(shots), seconds), (), ComposeOptions())


@needs_library
def test_the_library_renders_what_the_fluidsynth_program_renders(monkeypatch):
    pieces = [midi_bytes(_composition(-0.6, 0.7, 6.0)), midi_bytes(_composition(0.5, -0.5, 6.0))]
    soundfont = find_soundfont()
    in_process = render_midi(pieces, soundfont, 6.0)
    monkeypatch.setenv(SYNTH_ENV, "program")
    by_program = render_midi(pieces, soundfont, 6.0)
    assert np.abs(in_process).max() > 0.01
    assert in_process.tobytes() == by_program.tobytes()


@needs_library
def test_renders_at_once_each_borrow_the_loaded_font_and_play_what_the_program_plays(monkeypatch):
    """A fresh synthesiser borrows the font from a lender (no presets parsed again), one lender per
    render at a time, since FluidSynth counts a sample's voices without a lock."""
    moods = ((-0.6, 0.7), (0.5, -0.5), (0.7, 0.6))
    pieces = [midi_bytes(_composition(v, a, 3.0)) for v, a in moods]
    soundfont = find_soundfont()
    font = fluid.loaded(soundfont.path, SYNTH_SETTINGS)
    assert font is not None
    at_once = [r.read(0, r.frames) for r in render_separately(pieces, soundfont, 3.0)]
    assert 1 <= len(font._all_lenders) <= len(pieces)
    assert len(font._lenders) == len(font._all_lenders)  # every one given back
    monkeypatch.setenv(SYNTH_ENV, "program")
    by_program = [r.read(0, r.frames) for r in render_separately(pieces, soundfont, 3.0)]
    for ours, theirs in zip(at_once, by_program, strict=True):
        assert np.abs(ours).max() > 0.01
        assert ours.tobytes() == theirs.tobytes()


@needs_library
def test_each_render_starts_from_a_fresh_synthesiser():
    """A synthesiser that has played keeps its reverb's and chorus's modulation running: rendering the same
    piece again in it moved samples by -13 dB. A fresh one per render gives the same samples every time."""
    tense, calm = (midi_bytes(_composition(v, a, 4.0)) for v, a in ((-0.6, 0.7), (0.5, -0.5)))
    soundfont = find_soundfont()
    first = render_separately([tense], soundfont, 4.0)[0]
    render_separately([calm], soundfont, 4.0)
    again = render_separately([tense], soundfont, 4.0)[0]
    assert first.read(0, first.frames).tobytes() == again.read(0, again.frames).tobytes()


@needs_library
def test_voices_are_counted_per_preset_and_per_drum_key():
    font = fluid.loaded(find_soundfont().path, SYNTH_SETTINGS)
    assert font is not None
    counts = [font.voices(0, program, 60) for program in range(128)]
    assert min(counts) >= 1 and max(counts) > 1  # every installed font layers stereo pairs somewhere
    assert font.voices(0, 48, 72) == font.voices(0, 48, 60)  # one count per melodic preset
    drums = {font.voices(9, 0, key) for key in range(35, 82)}
    assert min(drums) >= 1
    costs = note_costs(find_soundfont())
    assert costs is not None
    note = Note(0, 60, 90, 0.0, 2.0)
    assert costs(note, 48) == pytest.approx(font.voices(0, 48, 60) * 2.5)  # its length and a release


@needs_library
def test_a_render_told_to_give_up_stops_with_our_error(tmp_path: Path):
    font = fluid.loaded(find_soundfont().path, SYNTH_SETTINGS)
    assert font is not None
    midi = midi_bytes(_composition(0.5, -0.5, 20.0))
    with pytest.raises(fluid.FluidError, match="stopped"):
        font.render(midi, tmp_path / "piece.f32", lambda: True)


@needs_library
def test_a_file_fluidsynth_cannot_read_is_a_dependency_error_without_its_chatter(tmp_path: Path, capfd):
    with pytest.raises(DependencyError, match="FluidSynth failed to render the score"):
        render_separately([b"MThd but not a MIDI file"], find_soundfont(), 1.0, tmp_path)
    assert capfd.readouterr().err == ""  # FluidSynth's own log lines are collected, not printed


def test_without_the_library_the_fluidsynth_program_renders(monkeypatch):
    monkeypatch.setattr(fluid, "library", lambda: None)
    soundfont = find_soundfont()
    assert note_costs(soundfont) is None
    composition = _composition(0.6, 0.6, 3.0)
    music = render_midi([midi_bytes(composition)], soundfont, 3.0)
    assert music.shape == (3 * 48000, 2) and np.abs(music).max() > 0.01
    quiet = replace(composition, notes=())
    silence = render_midi([midi_bytes(quiet)], soundfont, 3.0)
    assert np.abs(silence).max() < 1e-6  # what FluidSynth adds against denormals


@needs_library
def test_a_generator_lets_its_soundfont_go_when_released_and_loads_it_again_when_asked():
    from filmscore.music.generators import MusicRequest
    from filmscore.music.generators.symbolic import SymbolicGenerator

    generator = SymbolicGenerator()
    shots = emotions([(2.0, 0.5, -0.5)])
    plan = plan_cues(shots, flat_timeline(shots), 2.0)
    first = generator.generate(MusicRequest(plan, (), 0)).audio.samples
    generator.release()
    assert not fluid._LOADED  # a run lets go of MuseScore General's 490 MB before the mix
    again = generator.generate(MusicRequest(plan, (), 0)).audio.samples
    assert first.tobytes() == again.tobytes()


def test_a_run_prepares_its_generator_once_the_picture_pass_is_over():
    from filmscore.core.progress import PreparedAfter, Progress

    calls: list[str] = []

    class Recording(Progress):
        def started(self, name: str) -> None:
            calls.append(f"start {name}")

        def finished(self, name: str, seconds: float) -> None:
            calls.append(f"end {name}")

    inner = Recording()
    progress = PreparedAfter(
        inner, "pictures and shots", lambda: calls.append("prepare"), lambda: calls.append("mer")
    )
    for stage in ("probe", "pictures and shots", "soundtrack"):
        with progress.stage(stage):
            pass
    progress.prepared()  # once only
    assert calls == [
        "start probe", "end probe", "start pictures and shots", "mer", "end pictures and shots", "prepare",
        "start soundtrack", "end soundtrack",
    ]  # fmt: skip
    assert set(progress.timings) == set(inner.timings) == {"probe", "pictures and shots", "soundtrack"}


def test_a_reading_from_the_cache_prepares_the_generator_without_a_picture_pass():
    from filmscore.core.progress import PreparedAfter, Progress

    calls: list[str] = []
    progress = PreparedAfter(Progress(), "pictures and shots", lambda: calls.append("prepare"), calls.clear)
    progress.prepared()
    progress.prepared()
    assert calls == ["prepare"]


def test_a_render_that_finds_the_disk_full_is_the_outputs_trouble(tmp_path: Path):
    from filmscore.core.errors import OutputError
    from filmscore.music.symbolic.render import render_failure

    full = render_failure(tmp_path, "Audio file write error: System error : No space left on device.")
    assert isinstance(full, OutputError) and "cannot write a work file" in str(full)
    assert isinstance(render_failure(tmp_path / "gone", "no output"), OutputError)
    assert isinstance(render_failure(tmp_path, "Failed to load the SoundFont"), DependencyError)
