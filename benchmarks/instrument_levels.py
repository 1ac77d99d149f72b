"""Measure how loud each General MIDI program the styles use sounds in a SoundFont, so the composer can
balance them (filmscore/music/styles.py, PROGRAM_TRIM_DB: the trim that brings each to REFERENCE_DB).

Each program plays one note in its usual register at velocity 100, four beats, reverb and chorus off;
the level is the RMS of the first two seconds.

Run:  .venv/bin/python benchmarks/instrument_levels.py [--soundfont FILE.sf2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.music.styles import GM_NAMES, PROGRAM_TRIM_DB, REFERENCE_DB
from filmscore.music.symbolic.render import find_soundfont

RATE = 22050
REGISTER = {38: 38, 39: 38, 43: 38, 42: 50, 57: 50, 47: 45, 8: 72, 40: 72, 68: 72, 73: 74, 75: 74}


def level_db(soundfont: Path, program: int, folder: Path) -> float:
    pitch = REGISTER.get(program, 60)
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("program_change", channel=0, program=program, time=0)])
    for _ in range(4):
        track.append(mido.Message("note_on", channel=0, note=pitch, velocity=100, time=0))
        track.append(mido.Message("note_off", channel=0, note=pitch, velocity=0, time=480))
    midi.tracks.append(track)
    midi.save(folder / "note.mid")
    raw, score = str(folder / "note.raw"), str(folder / "note.mid")
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-r", str(RATE), "-F", raw, "-T", "raw", "-O", "float",
         "-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0", str(soundfont), score],
        check=True,
    )  # fmt: skip
    audio = np.fromfile(folder / "note.raw", dtype="<f4").reshape(-1, 2).mean(axis=1)[: RATE * 2]
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio))) + 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", type=Path)
    args = parser.parse_args()
    soundfont = find_soundfont(args.soundfont).path
    print(
        f"SoundFont: {soundfont}\n\n| program | name | level dB | trim to {REFERENCE_DB} dB | in the table |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for program in sorted(GM_NAMES):
            level = level_db(soundfont, program, Path(folder))
            trim = int(np.clip(round(REFERENCE_DB - level), -6, 9))
            table = PROGRAM_TRIM_DB.get(program, 0)
            print(f"| {program} | {GM_NAMES[program]} | {level:.1f} | {trim:+d} | {table:+d} |")


if __name__ == "__main__":
    main()
