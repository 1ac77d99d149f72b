"""Speech recognition: word error rate and speed of Whisper (the default) and PocketSphinx (the fallback).

Run:  .venv/bin/python benchmarks/asr_speed.py [--threads 1 2] [--temperatures 0 0.2 0.4 0.6 0.8 1]

Three sets, each recognised the way a run recognises a film's passages (`dialogue.recognise`: Whisper
packs short passages into one window, PocketSphinx takes them one by one):
- LibriVox: Debian's recordings of read speech with transcripts (package pocketsphinx-testdata);
- LibriVox under music: the same, with a chord progression 9 dB under the voice;
- espeak-ng: 18 sentences in four espeak-ng voices;
- benchmark film: the dialogue of the clip bench_run.py times (60 s 720p, espeak-ng lines in the happy and
  frightened voices), cut from its speech track where the film's VAD hears voice, as a run cuts it.
Word error rates are counted on lower-case words without punctuation ("Mr." as "mister", hyphens split
words, lone digits spelt out). Speed is seconds of speech per second of wall time, on one process, the
model already loaded (the load is timed apart); "doubted" counts the decodes whose mean log-probability
fell under the threshold (Whisper decoded such a window again, hotter, up to five times, before it kept
one decode: see whisper.TEMPERATURES). Results go to benchmarks/results/asr-speed.json and a table on
stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.analysis.asr import whisper
from filmscore.analysis.dialogue import DialogueOptions, create_asr, recognise
from filmscore.core.neural import THREADS_ENV
from filmscore.media.probe import SPEECH_SAMPLE_RATE
from tests.music_synth import progression

RESULTS = Path(__file__).parent / "results"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
ESPEAK_VOICES = ("en-us", "en-us+m3", "en-us+f2", "en")
SENTENCES = (
    "Good morning, how are you today?",
    "I cannot believe you would do this to me.",
    "The train leaves at seven from the north station.",
    "We have to get out of here before they find us.",
    "I love you more than anything in the world.",
    "Please put the box on the table by the window.",
    "Nobody told me the meeting was cancelled.",
    "She said she would call me back tomorrow night.",
    "This is the happiest day of my life.",
    "Get down, they are shooting at us!",
    "Do you remember the summer we spent by the lake?",
    "I think we should talk about what happened yesterday.",
    "The money is gone and nobody knows where it went.",
    "Thank you so much for coming, it means a lot.",
    "Run, run as fast as you can.",
    "He was my brother and now he is dead.",
    "Turn left at the next corner and keep going.",
    "We will never forget what you did for us.",
)
NUMBERS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))

Item = tuple[str, np.ndarray]  # (reference transcript, 16 kHz mono samples)


def normalised(text: str) -> str:
    text = text.lower().replace("-", " ").replace("mr.", "mister")
    words = re.sub(r"[^a-z0-9' ]", " ", text).split()
    return " ".join(NUMBERS.get(int(w), w) if w.isdigit() and int(w) in NUMBERS else w for w in words)


def librivox() -> list[Item]:
    items = []
    for row in (LIBRIVOX / "transcription").read_text().splitlines():
        text, _, utt = row.rpartition("(")
        reference = text.replace("<s>", "").replace("</s>", "").strip()
        samples, _ = soundfile.read(LIBRIVOX / f"{utt.strip(' )')}.wav", dtype="float32")
        items.append((reference, samples))
    return items


def under_music(items: list[Item], below_db: float = 9.0) -> list[Item]:
    """Each item with a chord progression `below_db` under the voice's level."""
    mixed = []
    for reference, samples in items:
        music = progression("minor", 100, 0.2, tonic=2, seconds=len(samples) / SPEECH_SAMPLE_RATE + 1,
                            rate=SPEECH_SAMPLE_RATE)[: len(samples)]  # fmt: skip
        voice = samples[np.abs(samples) > 0.01]
        music *= np.sqrt(np.mean(voice**2) / np.mean(music**2)) * 10 ** (-below_db / 20)
        mixed.append((reference, samples + music))
    return mixed


def espeak() -> list[Item]:
    import librosa

    items = []
    for i, sentence in enumerate(SENTENCES):
        voice = ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "--stdout", sentence], capture_output=True, check=True
        ).stdout
        samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        items.append((sentence, librosa.resample(samples, orig_sr=rate, target_sr=SPEECH_SAMPLE_RATE)))
    return items


def benchmark_film() -> list[Item]:
    """The benchmark clip's lines as the film's VAD cuts them from its speech track (one line a passage)."""
    from harness import LINES, make_clip

    from filmscore.analysis.dialogue import passages, voice_regions
    from filmscore.media.audio import extract_audio_file
    from filmscore.media.probe import probe

    clip = RESULTS / "film-1280x720-60s.mp4"
    if not clip.exists():
        make_clip(60, (1280, 720), clip)
    with tempfile.TemporaryDirectory() as folder:
        track = extract_audio_file(probe(clip), SPEECH_SAMPLE_RATE, 1, Path(folder) / "speech.f32")
        heard = [samples.copy() for _, samples in passages(track, voice_regions(track, DialogueOptions()))]
    said = [LINES[i % len(LINES)][0] for i in range(0, 2 * len(heard), 2)]  # a line every other shot
    return list(zip(said, heard, strict=True))


class _Doubts(logging.Handler):
    """Counts faster-whisper's notes of a decode under its log-probability (or compression) threshold."""

    count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "threshold is not met" in record.getMessage():
            self.count += 1


def measure(backend: str, sets: dict[str, list[Item]]) -> dict[str, object]:
    """Load the backend once, then recognise each set as a film's passages, 1 s apart."""
    opts = DialogueOptions(asr=backend)
    started = time.perf_counter()
    asr = create_asr(opts)
    results: dict[str, object] = {"load_s": round(time.perf_counter() - started, 2)}
    for name, items in sets.items():
        passages, clock = [], 0.0
        for _, samples in items:
            passages.append((clock, samples))
            clock += len(samples) / SPEECH_SAMPLE_RATE + 1.0
        doubts = _Doubts()
        logger = logging.getLogger("faster_whisper")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(doubts)
        started, cpu = time.perf_counter(), time.process_time()
        lines = recognise(passages, opts, asr)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        logger.removeHandler(doubts)
        speech_s = sum(len(samples) for _, samples in items) / SPEECH_SAMPLE_RATE
        error = jiwer.wer(
            normalised(" ".join(r for r, _ in items)), normalised(" ".join(line.text for line in lines))
        )
        results[name] = {"speech_s": round(speech_s, 1), "x_realtime": round(speech_s / wall, 1),
                         "core_s": round(cpu, 2), "doubted": doubts.count,
                         "wer": round(float(error), 3)}  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="Whisper's CPU threads to try")
    parser.add_argument("--temperatures", type=float, nargs="+", default=list(whisper.TEMPERATURES),
                        help="Whisper's temperatures (faster-whisper's: 0 0.2 0.4 0.6 0.8 1)")  # fmt: skip
    args = parser.parse_args()
    whisper.TEMPERATURES = tuple(args.temperatures)
    clean = librivox()
    sets = {"LibriVox": clean, "LibriVox under music": under_music(clean), "espeak-ng": espeak(),
            "benchmark film": benchmark_film()}  # fmt: skip
    results: dict[str, dict[str, object]] = {}
    for threads in args.threads:
        os.environ[THREADS_ENV] = str(threads)
        results[f"whisper tiny.en, int8, {threads} thread(s)"] = measure("whisper", sets)
    results["pocketsphinx"] = measure("pocketsphinx", sets)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "asr-speed.json").write_text(json.dumps(results, indent=2))
    columns = " | ".join(f"{name}: WER, x real time, core-s, doubted" for name in sets)
    print(f"| backend | load s | {columns} |")
    print("|---|---|" + "---|" * len(sets))
    for backend, by_set in results.items():
        cells = " | ".join(_cell(by_set[n]) for n in sets)  # type: ignore[arg-type]
        print(f"| {backend} | {by_set['load_s']} | {cells} |")


def _cell(result: dict[str, object]) -> str:
    return f"{result['wer']:.3f}, {result['x_realtime']:.1f}x, {result['core_s']}, {result['doubted']}"


if __name__ == "__main__":
    main()
