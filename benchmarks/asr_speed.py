"""PocketSphinx's search settings: speed (times real time) against word error rate.

Run:  .venv/bin/python benchmarks/asr_speed.py

It decodes Debian's LibriVox test recordings (real read speech with transcripts, package
pocketsphinx-testdata) and 18 lines spoken by espeak-ng in four voices, with PocketSphinx's defaults and
with the settings filmscore uses (filmscore.asr.SEARCH_OPTIONS), plus a few alternatives, one process and
one thread. Results go to benchmarks/results/asr-speed.json and a table on stdout.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile

from filmscore.asr import SEARCH_OPTIONS
from filmscore.media import SPEECH_SAMPLE_RATE

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
SETTINGS: dict[str, dict[str, object]] = {
    "pocketsphinx defaults": {},
    "filmscore (SEARCH_OPTIONS)": dict(SEARCH_OPTIONS),
    "no second pass, no lattice": {"fwdflat": False, "bestpath": False},
    "+ maxhmmpf 2000": {**SEARCH_OPTIONS, "maxhmmpf": 2000},
    "+ topn 2": {**SEARCH_OPTIONS, "topn": 2},
    "+ ds 2 (every other frame)": {**SEARCH_OPTIONS, "ds": 2},
}


def librivox() -> list[tuple[str, np.ndarray]]:
    items = []
    for row in (LIBRIVOX / "transcription").read_text().splitlines():
        text, _, utt = row.rpartition("(")
        reference = text.replace("<s>", "").replace("</s>", "").strip()
        samples, _ = soundfile.read(LIBRIVOX / f"{utt.strip(' )')}.wav", dtype="float32")
        items.append((reference, samples))
    return items


def espeak() -> list[tuple[str, np.ndarray]]:
    import io

    import librosa

    items = []
    for i, sentence in enumerate(SENTENCES):
        voice = ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "--stdout", sentence], capture_output=True, check=True
        ).stdout
        samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        samples = librosa.resample(samples, orig_sr=rate, target_sr=SPEECH_SAMPLE_RATE)
        items.append((re.sub(r"[^a-z ]", "", sentence.lower()), samples))
    return items


def measure(options: dict[str, object], items: list[tuple[str, np.ndarray]]) -> dict[str, float]:
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL", **options)
    hypotheses = []
    seconds = sum(len(samples) for _, samples in items) / SPEECH_SAMPLE_RATE
    start = time.perf_counter()
    for _, samples in items:
        decoder.start_utt()
        decoder.process_raw((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        hypotheses.append(hypothesis.hypstr if hypothesis else "")
        list(decoder.seg())  # the word timings, as filmscore reads them
    wall = time.perf_counter() - start
    error = jiwer.wer([reference for reference, _ in items], hypotheses)
    return {"speech_s": round(seconds, 1), "x_realtime": round(seconds / wall, 2), "wer": round(error, 3)}


def main() -> None:
    sets = {"LibriVox (real speech)": librivox(), "espeak-ng": espeak()}
    results = {
        name: {label: measure(opts, items) for label, items in sets.items()}
        for name, opts in SETTINGS.items()
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "asr-speed.json").write_text(json.dumps(results, indent=2))
    print("| settings | " + " | ".join(f"{label}: x real time | WER" for label in sets) + " |")
    print("|---|" + "---|---|" * len(sets))
    for name, by_set in results.items():
        cells = " | ".join(f"{r['x_realtime']:.1f} | {r['wer']:.3f}" for r in by_set.values())
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
