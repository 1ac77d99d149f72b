"""Checks made before any work: the settings as given, the output places, the free space, and what a number
flag may hold. Each refuses with the project's own error, whose one line says what to do."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from filmscore.config.names import REPORT_NAME
from filmscore.core.atomic import existing_folder
from filmscore.core.errors import OutputError, UsageError
from filmscore.core.wording import number, size

if TYPE_CHECKING:
    from filmscore.analysis.cut_list import CutList
    from filmscore.media.probe import MediaInfo
    from filmscore.music.spotting import Spotting


def check_report_dir(report_dir: Path, input_path: Path, overwrite: bool = False) -> Path:
    if (report_dir / REPORT_NAME).exists() and not overwrite:
        raise OutputError(f"{report_dir} already holds a report. Pass --overwrite to replace it.")
    if report_dir.exists() and not report_dir.is_dir():
        raise OutputError(f"{report_dir} exists and is not a folder. Choose another --report-dir.")
    if report_dir.resolve() == input_path.resolve():
        raise OutputError("the report folder would replace the input. Choose another --report-dir.")
    check_writable(report_dir if report_dir.exists() else report_dir.parent, "--report-dir")
    return report_dir


def sweep_leftovers(report_dir: Path, *folders: Path | None) -> None:
    """Remove what runs killed without a chance to clean up (SIGKILL, a power cut) left where this run
    writes: work folders and staged outputs (see atomic.sweep_dead_runs) in `folders` and in the report
    folder with its subfolders (thumbnails, stems)."""
    from filmscore.core.atomic import sweep_dead_runs

    inside = [sub for sub in report_dir.iterdir() if _plain_dir(sub)] if _plain_dir(report_dir) else []
    sweep_dead_runs([*(folder for folder in folders if folder is not None), report_dir, *inside])


def _plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def check_writable(folder: Path, flag: str) -> None:
    """Create and drop an unnamed file in the nearest existing folder: the honest test of writability
    (permissions, read-only mounts and pseudo file systems all answer it)."""
    probe_dir = existing_folder(folder)
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError:
        raise OutputError(f"cannot write to {folder}. Choose a writable {flag}.") from None


def check_free_space(folder: Path, needed: int) -> None:
    """Refuse at once, not after the analysis, a run whose work files and outputs would fill the disk."""
    free = shutil.disk_usage(existing_folder(folder)).free
    if free < needed:
        raise OutputError(
            f"scoring this film needs about {size(needed)} free beside the output for its work "
            f"files and outputs, and {folder} has {size(free)}. Free some space, or choose -o on "
            "another disk."
        )


def positive(value: float | None, flag: str) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"{flag} {number(value)} must be a positive number of seconds")
    return value


def load_spotting(
    value: str | None, info: MediaInfo, say: Callable[[str], None] | None, tc_start: str | None = None
) -> Spotting | None:
    """The editor's spotting for this film, read and checked against it (exit 3 names the bad row): the
    file given, or in a folder the file named after the film (film.csv, film.edl, ...); None without.
    What a person should know of it (no file for this film, markers left out) goes to `say`."""
    from filmscore.core.wording import one_line
    from filmscore.music.spotting_files import read_spotting, spotting_in_folder

    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        found = spotting_in_folder(path, info.path)
        if found is None:
            if say is not None:
                say(f"no spotting for {one_line(info.path.name)} in {one_line(value)}; the reading places "
                    "every cue.")  # fmt: skip
            return None
        path = found
    read = read_spotting(path, info.fps, info.duration_s, checked_tc_start(tc_start))
    if read.left_out and say is not None:
        count = len(read.left_out)
        names = ", ".join(read.left_out[:5]) + (f" and {count - 5} more" if count > 5 else "")
        say(f"note: {one_line(f'{count} markers name no mood and are left out: {names}')}")
    return read.spotting


def load_cut_list(
    value: str | None, info: MediaInfo, say: Callable[[str], None] | None, tc_start: str | None = None
) -> CutList | None:
    """The editor's cut list for this film, read and checked against it (exit 3 says what does not fit):
    the file given, or in a folder the file named after the film (film.edl, film.xml, ...); None without.
    A folder with none for this film is said to `say`: its shots are detected."""
    from filmscore.analysis.cut_list import CUT_LIST_SUFFIXES, read_cut_list
    from filmscore.core.wording import one_line
    from filmscore.media.timelines import file_in_folder

    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        found = file_in_folder(path, info.path, CUT_LIST_SUFFIXES)
        if found is None:
            if say is not None:
                say(
                    f"no cut list for {one_line(info.path.name)} in {one_line(value)}; its cuts are detected."
                )
            return None
        path = found
    return read_cut_list(path, info.fps, info.duration_s, checked_tc_start(tc_start))


def checked_tc_start(value: str | None) -> str | None:
    """--tc-start as given, if it is a time code (HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame)."""
    import re

    if value is not None and not re.fullmatch(r"\d\d:[0-5]\d:[0-5]\d[:;]\d\d", value.strip()):
        raise UsageError(f"--tc-start {value!r} is not a time code. Give HH:MM:SS:FF, as 01:00:00:00")
    return None if value is None else value.strip()
