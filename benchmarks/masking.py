"""How much the music masks the dialogue: the music-to-speech ratio in the speech band (1 to 4 kHz)
while each line is spoken, with the mix's speech-band cut off and on.

Each film is scored twice (--speech-cut-db 0, then the default) with --stems, so the dialogue is read
exactly as it sits in the mix (stems/original.wav) beside the music (music.wav). Lower is clearer.

Run:  .venv/bin/python benchmarks/masking.py [FILM ...]   (default: the sample film)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.config.settings import default

ROOT = Path(__file__).resolve().parent.parent
BAND_HZ = (1000.0, 4000.0)


def band_db(samples: np.ndarray, rate: int) -> float:
    from scipy.signal import butter, sosfilt

    sos = butter(4, BAND_HZ, btype="bandpass", output="sos", fs=rate)
    band = sosfilt(sos, samples.mean(axis=1))
    return float(10 * np.log10(np.mean(np.square(band)) + 1e-20))


def score(film: Path, folder: Path, cut_db: float) -> Path:
    report = folder / f"cut{cut_db:g}"
    subprocess.run(
        [sys.executable, "-m", "filmscore", "run", str(film), "-o", str(folder / f"cut{cut_db:g}.mp4"),
         "--report-dir", str(report), "--stems", "--speech-cut-db", str(cut_db), "-q", "--no-cache"],
        check=True,
    )  # fmt: skip
    return report


def masking(report: Path) -> tuple[float, float]:
    """(mean music-to-speech ratio in the band over the lines, mean full-band music level over them)."""
    lines = json.loads((report / "report.json").read_text())["transcript"]
    music, rate = soundfile.read(report / "music.wav", always_2d=True)
    speech, _ = soundfile.read(report / "stems" / "original.wav", always_2d=True)
    ratios, levels = [], []
    for line in lines:
        a, b = round(line["start_s"] * rate), round(line["end_s"] * rate)
        ratios.append(band_db(music[a:b], rate) - band_db(speech[a:b], rate))
        levels.append(float(10 * np.log10(np.mean(np.square(music[a:b])) + 1e-20)))
    return float(np.mean(ratios)), float(np.mean(levels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("films", nargs="*", type=Path, default=[ROOT / "sample_media" / "demo.mp4"])
    args = parser.parse_args()
    cut = float(default("mix.speech_cut_db"))
    print(f"| film | music/speech in 1-4 kHz, no cut | with a {cut:g} dB cut | music level under lines, "
          "no cut | with the cut |")  # fmt: skip
    print("|---|---|---|---|---|")
    for film in args.films:
        with tempfile.TemporaryDirectory() as folder:
            before = masking(score(film, Path(folder), 0.0))
            after = masking(score(film, Path(folder), cut))
        ratios, levels = (
            f"{before[0]:+.1f} dB | {after[0]:+.1f} dB",
            f"{before[1]:.1f} dB | {after[1]:.1f} dB",
        )
        print(f"| {film.name} | {ratios} | {levels} |")


if __name__ == "__main__":
    main()
