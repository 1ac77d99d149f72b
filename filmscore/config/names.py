"""The names filmscore gives what it writes, each defined once."""

from __future__ import annotations

from pathlib import Path

SCORED_SUFFIX = ".scored"  # film.mp4 is scored as film.scored.mp4
REPORT_DIR_SUFFIX = ".filmscore"  # and its report folder is film.scored.filmscore/
REPORT_NAME = "report.json"
HTML_NAME = "report.html"
MUSIC_STEM = "music.wav"
SCORE_MIDI = "score.mid"
STEMS_FOLDER = "stems"
CUES_FOLDER = "cues"  # each cue as mixed, cue-01.wav and on, for the editing timeline
ORIGINAL_STEM = "original.wav"  # the film's own soundtrack, as it sits in the mix


def cue_file(cue_id: int) -> str:
    """A cue's own audio file in the report folder: cues/cue-01.wav for the first."""
    return f"{CUES_FOLDER}/cue-{cue_id + 1:02d}.wav"


def take_file(cue_id: int, take: str) -> str:
    """Another take of a cue, beside its file: cues/cue-03-b.wav for the third cue's take b."""
    return f"{CUES_FOLDER}/cue-{cue_id + 1:02d}-{take}.wav"


def default_report_dir(film: Path) -> Path:
    """A film's report folder: beside it, named after it."""
    return film.parent / f"{film.stem}{REPORT_DIR_SUFFIX}"


# The symbolic composer's styles (music/styles.py defines each); the first is the default.
STYLE_NAMES = ("orchestral", "piano", "strings", "ambient", "pulse", "trailer")
