"""Measure a scored film's music stem cue by cue: the key and mode heard (chroma against key profiles),
the tempo heard (beat tracking), loudness and rhythmic activity. The figures come from the audio, not
from the plan, so they check that the music does what report.json says it does.

Run:  .venv/bin/python benchmarks/listen.py sample_media/demo.scored.filmscore
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.delivery.loudness import integrated_lufs
from filmscore.music.planning import PITCH_NAMES
from tests.measure import estimate_key, onset_strength


def heard_tempo(samples: np.ndarray, rate: int) -> float:
    import librosa

    mono = samples.mean(axis=1).astype(np.float32)
    tempo, _ = librosa.beat.beat_track(y=mono, sr=rate)
    return float(np.atleast_1d(tempo)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    args = parser.parse_args()
    report = json.loads((args.report_dir / "report.json").read_text())
    stem, rate = soundfile.read(args.report_dir / "music.wav", dtype="float32", always_2d=True)
    print(f"whole stem: {integrated_lufs(stem, rate):.1f} LUFS")
    print("| cue | time s | planned | heard key | planned bpm | heard bpm | stem LUFS | onset strength |")
    print("|---|---|---|---|---|---|---|---|")
    for cue in report["cues"]:
        part = stem[int(cue["start_s"] * rate) : int(cue["end_s"] * rate)]
        tonic, mode, _ = estimate_key(part, rate)
        print(
            f"| {cue['id'] + 1} | {cue['start_s']:.1f}-{cue['end_s']:.1f} | {cue['key']}, {cue['mood']} | "
            f"{PITCH_NAMES[tonic]} {mode} | {cue['tempo_bpm']:.0f} | {heard_tempo(part, rate):.0f} | "
            f"{integrated_lufs(part, rate):.1f} | {onset_strength(part, rate):.2f} |"
        )


if __name__ == "__main__":
    main()
