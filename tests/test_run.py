"""`filmscore run` end to end, on films the tests make: each promise of the scored film is measured."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile

from filmscore.cli.main import main
from filmscore.core.errors import OutputError
from filmscore.media.probe import extract_audio, probe
from filmscore.report.schema import report_schema
from tests.measure import ebur128, rms_db, stream_durations, stream_md5
from tests.synthetic import Line, ShotSpec, make_film

pytestmark = pytest.mark.slow

LINE = "I have waited all day for you. Now tell me, where have you been all this time?"


@pytest.fixture(scope="session")
def talking_film(media_dir: Path) -> Path:
    """One 16-second shot with a line early on: the music has a stretch with and without speech."""
    return make_film(
        media_dir / "talking.mp4", [ShotSpec("warm", 16.0, Line(LINE, "neutral", at_s=2.0))], fps=25.0
    )


_RUNS: dict[tuple, Path] = {}


@pytest.fixture(scope="session")
def scored(tmp_path_factory, talking_film):
    """Score a film once per set of arguments per session; returns the output folder."""

    def run(film: Path, *args: str) -> Path:
        key = (film, args)
        if key not in _RUNS:
            folder = tmp_path_factory.mktemp("run")
            out = folder / "film.scored.mp4"
            assert main(["run", str(film), "-q", "-o", str(out), *args]) == 0
            _RUNS[key] = folder
        return _RUNS[key]

    return run


def test_the_video_is_copied_packet_for_packet_and_the_audio_lasts_as_long(scored, talking_film):
    out = scored(talking_film) / "film.scored.mp4"
    assert stream_md5(out, "0:v:0") == stream_md5(talking_film, "0:v:0")
    durations = stream_durations(out)
    assert len(durations["audio"]) == 1
    assert durations["audio"][0] == pytest.approx(durations["video"][0], abs=0.05)


@pytest.mark.parametrize(("preset", "target"), [("ebu", -23.0), ("streaming", -14.0)])
def test_the_scored_film_meets_the_loudness_target_with_a_true_peak_ceiling(
    scored, talking_film, preset, target
):
    out = scored(talking_film, "--loudness", preset) / "film.scored.mp4"
    integrated, true_peak = ebur128(out)  # ffmpeg's own meter, not ours
    assert integrated == pytest.approx(target, abs=0.5)
    assert true_peak <= -1.0
    report = json.loads((out.parent / "film.scored.filmscore" / "report.json").read_text())
    assert report["mix"]["target_lufs"] == target
    assert report["mix"]["integrated_lufs"] == pytest.approx(integrated, abs=0.3)


def test_the_music_is_at_least_8_db_lower_under_speech(scored, talking_film):
    folder = scored(talking_film) / "film.scored.filmscore"
    report = json.loads((folder / "report.json").read_text())
    stem, rate = soundfile.read(folder / "music.wav", always_2d=True)
    (region,) = [r for r in _speech_regions(talking_film) if r[1] - r[0] > 1.0]
    cue = next(c for c in report["cues"] if c["start_s"] <= region[0] < c["end_s"])
    under = stem[int((region[0] + 0.3) * rate) : int((region[1] - 0.3) * rate)]
    clear_end = cue["end_s"] - 3.2  # before the film's closing fade-out
    clear = stem[int((region[1] + 1.2) * rate) : int(clear_end * rate)]
    assert len(clear) > rate  # at least a second of the same cue without speech
    assert rms_db(under) <= rms_db(clear) - 8.0


def _speech_regions(film: Path) -> tuple[tuple[float, float], ...]:
    from filmscore.analysis.dialogue import DialogueOptions, voice_regions

    return voice_regions(extract_audio(probe(film)), DialogueOptions())


def test_the_report_folder_holds_a_valid_report_the_stem_and_the_score(scored, talking_film):
    folder = scored(talking_film) / "film.scored.filmscore"
    report = json.loads((folder / "report.json").read_text())
    jsonschema.validate(report, report_schema())
    assert {c["id"] for c in report["cues"]} == {s["cue_id"] for s in report["shots"]}
    expected = {"video", "music", "midi", "report", "shots.csv", "markers.otio", "cues.csv"}
    assert expected <= set(report["outputs"])
    assert all(Path(p).is_file() for p in report["outputs"].values())
    info = soundfile.info(folder / "music.wav")
    assert (info.samplerate, info.channels) == (48000, 2)
    assert info.duration == pytest.approx(16.0, abs=0.05)
    assert (folder / "score.mid").read_bytes()[:4] == b"MThd"
    assert not [p for p in folder.parent.rglob("*.part")]


def test_the_report_says_how_the_music_made_room_for_the_voice(scored, talking_film):
    report = json.loads((scored(talking_film) / "film.scored.filmscore" / "report.json").read_text())
    assert report["mix"]["ducking_db"] == 10.0 and report["mix"]["speech_cut_db"] == 5.0


def test_every_cue_is_checked_by_ear_and_lands_within_the_tolerance(scored, talking_film):
    report = json.loads((scored(talking_film) / "film.scored.filmscore" / "report.json").read_text())
    check = report["music_check"]
    assert check["backend"] == "features" and check["cues"] == len(report["cues"])
    for cue in report["cues"]:
        heard = cue["mer"]
        distance = math.hypot(heard["valence"] - cue["valence"], heard["arousal"] - cue["arousal"])
        assert heard["error"] == pytest.approx(distance, abs=2e-3)
        assert heard["within_tolerance"] and heard["error"] <= check["tolerance"], cue
        assert cue["excerpts"] == []  # composed, not taken from recordings


def test_a_run_into_a_folder_that_does_not_exist_yet_creates_it(tmp_path, cuts_film):
    out = tmp_path / "new" / "deeper" / "film.mp4"
    assert main(["run", str(cuts_film), "-q", "-o", str(out), "--mer", "none"]) == 0
    assert out.is_file() and not list(tmp_path.rglob(".filmscore-work-*"))
    report = json.loads((out.parent / "film.filmscore" / "report.json").read_text())
    assert "music_check" not in report and all("mer" not in cue for cue in report["cues"])


def test_keep_original_audio_adds_the_untouched_soundtrack_as_a_second_track(scored, talking_film):
    out = scored(talking_film, "--keep-original-audio") / "film.scored.mp4"
    assert len(stream_durations(out)["audio"]) == 2
    assert stream_md5(out, "0:a:1") == stream_md5(talking_film, "0:a:0")


def test_a_film_without_sound_gets_the_music_alone(scored, cuts_film):
    out = scored(cuts_film) / "film.scored.mp4"
    integrated, true_peak = ebur128(out)
    assert integrated == pytest.approx(-23.0, abs=0.5) and true_peak <= -1.0
    assert stream_md5(out, "0:v:0") == stream_md5(cuts_film, "0:v:0")


def test_the_default_output_sits_beside_the_input_and_the_input_is_untouched(tmp_path, cuts_film):
    film = tmp_path / "rushes.mp4"
    film.write_bytes(cuts_film.read_bytes())
    before = film.read_bytes()
    assert main(["run", str(film), "-q"]) == 0
    assert (tmp_path / "rushes.scored.mp4").is_file()
    assert (tmp_path / "rushes.scored.filmscore" / "report.json").is_file()
    assert film.read_bytes() == before


def _filmscore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "filmscore", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        (lambda f, d: ["-o", str(f)], 5, "never overwrites"),
        (lambda f, d: ["-o", str(d / "out.avi")], 2, "end -o with one of"),
        (lambda f, d: ["-o", str(d / "out.webm")], 2, "cannot hold h264"),
        (lambda f, d: ["--loudness", "loud"], 2, "--loudness"),
        (lambda f, d: ["--duck-db", "-3"], 2, "--duck-db"),
        (lambda f, d: ["--soundfont", str(d / "none.sf2")], 3, "no such SoundFont"),
        (lambda f, d: ["--generator", "nonesuch"], 2, "choose one of library, musicgen, symbolic, auto"),
    ],
)
def test_bad_run_arguments_fail_fast_with_one_line(tmp_path, cuts_film, extra, code, words):
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    result = _filmscore("run", str(film), *extra(film, tmp_path))
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]
    assert film.read_bytes() == cuts_film.read_bytes()


def test_a_run_that_fails_late_leaves_no_output_and_no_temp_files(tmp_path, cuts_film, monkeypatch):
    import filmscore.scoring.run

    def broken_mux(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(filmscore.scoring.run, "mux", broken_mux)
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    assert main(["run", str(film), "-q", "--report-dir", str(tmp_path / "deep" / "reports")]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


def test_the_music_files_follow_a_mix_the_mux_limited_again(tmp_path, talking_film, monkeypatch):
    """The stem and the cue files are written while the mux runs; where the encoder's overshoot made it
    limit the mix again, they are written again from the limited mix, over the first ones."""
    import filmscore.scoring.run as run_module
    from filmscore.delivery.mix import relimit

    real_deliver, real_cue_files = run_module._deliver, run_module.stage_cue_files
    ceiling_dbtp = -24.0
    delivered, cue_mixes = [], []

    def limited_again(info, mixed, target, suffix, opts, space):
        _, delivery = real_deliver(info, mixed, target, suffix, opts, space)
        delivered.append(relimit(mixed, ceiling_dbtp, space.work))
        return delivered[-1], delivery

    def cue_files(plan, music, mixed, *args):
        cue_mixes.append(mixed)
        return real_cue_files(plan, music, mixed, *args)

    monkeypatch.setattr(run_module, "_deliver", limited_again)
    monkeypatch.setattr(run_module, "stage_cue_files", cue_files)
    report = tmp_path / "report"
    assert (
        main(["run", str(talking_film), "-q", "-o", str(tmp_path / "out.mp4"), "--report-dir", str(report)])
        == 0
    )
    stem, _ = soundfile.read(report / "music.wav", dtype="float32")
    assert 20 * np.log10(np.abs(stem).max()) <= ceiling_dbtp + 0.1
    assert len(cue_mixes) == 2 and cue_mixes[1] is delivered[0] and cue_mixes[0] is not delivered[0]
    assert list((report / "cues").glob("cue-*.wav"))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temp file left


def test_a_music_file_that_cannot_be_written_beside_the_mux_fails_the_run_cleanly(
    tmp_path, cuts_film, monkeypatch
):
    import filmscore.scoring.run as run_module

    def full_disk(*args, **kwargs):
        raise OutputError(
            "cannot write cue-01.wav: No space left on device. Check the folder and free space."
        )

    monkeypatch.setattr(run_module, "stage_cue_files", full_disk)
    film = tmp_path / "film.mp4"
    film.write_bytes(cuts_film.read_bytes())
    assert main(["run", str(film), "-q", "--mer", "none"]) == OutputError.exit_code
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


def test_the_same_seed_gives_the_same_music_stem(tmp_path, cuts_film):
    stems = []
    for name in ("a", "b"):
        assert main(["run", str(cuts_film), "-q", "--seed", "5", "-o", str(tmp_path / f"{name}.mp4")]) == 0
        stems.append(soundfile.read(tmp_path / f"{name}.filmscore" / "music.wav")[0])
    assert np.array_equal(stems[0], stems[1])


def test_stems_are_sample_aligned_and_sum_to_the_mix(scored, talking_film):
    import pyloudnorm

    folder = scored(talking_film, "--stems") / "film.scored.filmscore"
    music, rate = soundfile.read(folder / "music.wav", always_2d=True)
    parts = {p.stem: soundfile.read(p, always_2d=True)[0] for p in (folder / "stems").glob("*.wav")}
    assert set(parts) == {"pad", "bass", "accompaniment", "melody", "percussion", "original"}
    assert all(part.shape == music.shape for part in parts.values())
    instruments = sum(part for name, part in parts.items() if name != "original")
    assert np.abs(instruments - music).max() < 1e-5  # 24-bit rounding only
    # The original soundtrack and the music together are the mix before encoding: at the target.
    assert pyloudnorm.Meter(rate).integrated_loudness(parts["original"] + music) == pytest.approx(
        -23.0, abs=0.1
    )
    report = json.loads((folder / "report.json").read_text())
    assert {"stems/original.wav", "stems/melody.wav"} <= set(report["outputs"])


def test_the_cli_starts_the_audio_helper_before_it_probes_and_shares_it_with_the_run(
    tmp_path, cuts_film, monkeypatch
):
    """The helper's librosa import overlaps the CLI's own imports and checks, and the run uses that one
    helper rather than starting another."""
    import multiprocessing

    import filmscore.media.probe
    import filmscore.scoring.run

    helpers_at_probe: list[int] = []
    real_probe = filmscore.media.probe.probe

    def probe_seeing_helpers(path):
        helpers_at_probe.append(len(multiprocessing.active_children()))
        return real_probe(path)

    def no_second_helper(*args, **kwargs):
        raise AssertionError("the run started a helper of its own")

    monkeypatch.setattr(filmscore.media.probe, "probe", probe_seeing_helpers)
    monkeypatch.setattr(filmscore.scoring.run, "audio_helper", no_second_helper)
    assert main(["run", str(cuts_film), "-q", "-o", str(tmp_path / "out.mp4")]) == 0
    assert helpers_at_probe and helpers_at_probe[0] >= 1
    assert not multiprocessing.active_children()


def test_the_main_process_leaves_librosa_and_the_mix_to_the_audio_helper(tmp_path, talking_film):
    """The soundtrack measures, the music check, the mix and the delivery's measures run in the audio
    helper: the scoring process never imports librosa (1.3 s, and 0.3 s more to tear down at exit) nor
    scipy's signal tools and pyloudnorm (0.9 s), nor scipy.ndimage for the timeline (0.14 s), and no
    helper outlives the run."""
    script = (
        "import multiprocessing, sys\n"
        "from filmscore.cli.main import main\n"
        f"code = main(['run', {str(talking_film)!r}, '-q', '-o', {str(tmp_path / 'out.mp4')!r}])\n"
        "heavy = ('librosa', 'scipy.signal', 'scipy.ndimage', 'pyloudnorm')\n"
        "heavy = [name for name in heavy if name in sys.modules]\n"
        "print(code, heavy, len(multiprocessing.active_children()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "[]", "0"], result.stderr
    report = json.loads((tmp_path / "out.filmscore" / "report.json").read_text())
    assert report["music_check"]["cues"] >= 1  # the helper's check reached the report


@pytest.mark.parametrize("with_helper", [False, True])
def test_an_encoder_overshoot_is_limited_away_and_encoded_again(tmp_path, cuts_film, with_helper):
    """A mix that peaks over the delivery's ceiling once encoded is limited harder (stem and music scale
    in step) and encoded again, whether the audio helper or this process does the limiting."""
    import contextlib

    from filmscore.core.workers import audio_helper
    from filmscore.delivery.mix import MixOptions, MixResult
    from filmscore.media.audio import AudioFile, AudioWriter
    from filmscore.media.probe import AudioClip
    from filmscore.scoring.run import RunOptions, RunSpace, _deliver

    info = probe(cuts_film)
    rate, frames = 48000, round(info.duration_s * 48000)
    t = np.arange(frames) / rate
    tone = (0.9 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)  # -0.9 dBFS: over a -3 dBTP ceiling

    def written(name: str, block: np.ndarray) -> AudioClip | AudioFile:
        writer = AudioWriter(frames, block.shape[1], rate, tmp_path, name)
        writer.write(block)
        return writer.finish()

    mix = written("mix", np.stack([tone, tone], axis=1))
    scale = written("scale", np.ones((frames, 1), np.float32))
    mixed = MixResult(mix, mix, scale, -23.0, 10.0, 0.0, 0.0)
    opts = RunOptions(mix=MixOptions(true_peak_dbtp=-3.0))
    with audio_helper() if with_helper else contextlib.nullcontext() as helper:
        final, delivery = _deliver(
            info, mixed, tmp_path / "out.mp4", ".mp4", opts, RunSpace(tmp_path, helper)
        )
    assert delivery.true_peak_dbtp <= -3.0
    assert final.limiter_reduction_db > 2.0
    peak = max(float(np.abs(final.mix.read(0, frames)).max()), 1e-9)
    assert 20 * math.log10(peak) < -3.0
    np.testing.assert_allclose(final.stem.read(0, frames), final.mix.read(0, frames))  # the stem in step
    assert float(final.music_scale.read(0, frames).min()) < 0.8


def test_signals_in_memory_stay_in_this_process():
    """Only files go to the audio helper: a signal in memory, or a mix result holding one, is worked on
    here (pickling a film's signal to another process would cost more than the work)."""
    from filmscore.delivery.mix import MixResult
    from filmscore.media.probe import AudioClip
    from filmscore.scoring.run import in_helper

    class Helper:
        def apply(self, work, args):
            raise AssertionError("a signal in memory was sent to the helper")

    clip = AudioClip(np.zeros((4, 2), np.float32), 48000)
    mixed = MixResult(clip, clip, clip, -23.0, 10.0, 0.0, 0.0)
    assert in_helper(Helper(), lambda a: a, clip) is clip  # type: ignore[arg-type]
    assert in_helper(Helper(), lambda m: m.mix, mixed) is clip  # type: ignore[arg-type]
