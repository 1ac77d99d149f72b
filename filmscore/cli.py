"""The command line, in three steps: parse the arguments, validate them into options, run.

Heavy modules are imported inside the commands, so `filmscore --help` stays instant.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmscore import __version__
from filmscore.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    FilmscoreError,
    OutputError,
    UsageError,
)

if TYPE_CHECKING:
    from filmscore.pipeline import AnalyzeOptions

REPORT_DIR_SUFFIX = ".filmscore"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors leave with our exit code and a one-line hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"filmscore: error: {message}. See 'filmscore --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="filmscore", description="Score films: read their emotion, and write music for it.")
    parser.add_argument("--version", action="version", version=f"filmscore {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print no progress")
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    analysis = _analysis_arguments()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    analyze = commands.add_parser(
        "analyze",
        parents=[common, analysis],
        help="write a per-shot emotion report of a film",
        description="Read a film's dialogue, pictures and sound, and write a per-shot emotion report.",
    )
    analyze.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="where report.json goes (default: INPUT_STEM.filmscore/)",
    )
    run = commands.add_parser(
        "run",
        parents=[common, analysis],
        help="score a film: music that follows its emotion, mixed under the dialogue",
        description=(
            "Analyse a film, compose music that follows its emotion, mix it under the dialogue at a loudness "
            "target and write a scored copy (the video stream is copied, not re-encoded), with a report "
            "folder holding report.json, the music stem music.wav and the score as score.mid."
        ),
    )
    report = commands.add_parser(
        "report",
        parents=[common],
        help="rebuild a report folder's files (CSV, subtitles, markers) from its report.json",
        description="Rebuild every editor file in a report folder from its report.json, running no model.",
    )
    report.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="a folder made by analyze or run")
    run.add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="the scored film (default: INPUT_STEM.scored.mp4 beside the input)")  # fmt: skip
    run.add_argument("--report-dir", type=Path, metavar="DIR",
                     help="report folder (default: OUTPUT_STEM.filmscore/ beside the output)")  # fmt: skip
    _setting_arguments(run, run_only=True)
    run.add_argument("--stems", action="store_true",
                     help="also write stems/: a WAV per instrument and the original soundtrack")  # fmt: skip
    run.add_argument("--keep-original-audio", action="store_true",
                     help="add the untouched original soundtrack as a second audio track")  # fmt: skip
    return parser


def _analysis_arguments() -> _Parser:
    from filmscore.settings import DEFAULT_PRESET, preset_names

    analysis = _Parser(add_help=False)
    analysis.add_argument("input", type=Path, metavar="INPUT", help="the video file")
    analysis.add_argument(
        "--pipeline",
        default=DEFAULT_PRESET,
        metavar="NAME_OR_FILE",
        help=f"a preset of settings from pipelines/ ({', '.join(preset_names())}) or a .toml file; "
        f"flags override it (default {DEFAULT_PRESET})",
    )
    _setting_arguments(analysis, run_only=False)
    analysis.add_argument("--overwrite", action="store_true", help="replace outputs left by an earlier run")
    analysis.add_argument(
        "--max-duration",
        type=float,
        metavar="SECONDS",
        help="refuse films longer than this (a resource guard)",
    )
    return analysis


def _setting_arguments(parser: argparse.ArgumentParser, run_only: bool) -> None:
    """A flag for each setting that has one. Its default is None, meaning "as the preset says", so the
    help shows the built-in default instead."""
    from filmscore.settings import SETTINGS

    for setting in SETTINGS:
        if setting.flag and setting.run_only == run_only:
            shown = "none" if setting.default is None else setting.default
            parser.add_argument(
                setting.flag,
                dest=setting.key,
                type=setting.kind,
                metavar=setting.metavar,
                help=f"{setting.help} (default {shown})",
            )


def chosen_settings(args: argparse.Namespace, run_only: bool) -> dict[str, Any]:
    """The preset, overridden by the flags given: every setting's value, checked, and under "pipeline"
    the preset's name."""
    from filmscore.settings import SETTINGS, load_preset, resolve

    flags = {s.key: getattr(args, s.key) for s in SETTINGS if s.flag and (run_only or not s.run_only)}
    preset = load_preset(args.pipeline)
    return {**resolve(preset, flags), "pipeline": preset.name}


def default_report_dir(input_path: Path) -> Path:
    return input_path.parent / f"{input_path.stem}{REPORT_DIR_SUFFIX}"


def check_report_dir(report_dir: Path, input_path: Path, overwrite: bool = False) -> Path:
    if (report_dir / "report.json").exists() and not overwrite:
        raise OutputError(f"{report_dir} already holds a report. Pass --overwrite to replace it.")
    if report_dir.exists() and not report_dir.is_dir():
        raise OutputError(f"{report_dir} exists and is not a folder. Choose another --report-dir.")
    if report_dir.resolve() == input_path.resolve():
        raise OutputError("the report folder would replace the input. Choose another --report-dir.")
    check_writable(report_dir if report_dir.exists() else report_dir.parent, "--report-dir")
    return report_dir


def check_writable(folder: Path, flag: str) -> None:
    """Create and drop an unnamed file in the nearest existing folder: the honest test of writability
    (permissions, read-only mounts and pseudo file systems all answer it)."""
    import tempfile

    probe_dir = folder if folder.exists() else _nearest_existing(folder)
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError:
        raise OutputError(f"cannot write to {folder}. Choose a writable {flag}.") from None


def check_free_space(folder: Path, needed: int) -> None:
    """Refuse at once, not after the analysis, a run whose work files and outputs would fill the disk."""
    import shutil

    free = shutil.disk_usage(folder if folder.exists() else _nearest_existing(folder)).free
    if free < needed:
        raise OutputError(
            f"scoring this film needs about {needed / 1e9:.1f} GB free beside the output for its work "
            f"files and outputs, and {folder} has {free / 1e9:.1f} GB. Free some space, or choose -o on "
            "another disk."
        )


def _nearest_existing(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def analyze_options(settings: dict[str, Any], args: argparse.Namespace) -> AnalyzeOptions:
    from dataclasses import replace

    from filmscore.decode import DecodeOptions
    from filmscore.pipeline import AnalyzeOptions
    from filmscore.shots import ShotOptions

    defaults = AnalyzeOptions()
    return replace(
        defaults,
        decode=DecodeOptions(width=settings["analysis.width"], max_fps=settings["analysis.max_fps"]),
        shots=ShotOptions(detector=settings["analysis.shot_detector"]),
        dialogue=replace(
            defaults.dialogue, asr=settings["analysis.asr"], asr_model=settings["analysis.asr_model"]
        ),
        text_emotion=settings["analysis.text_emotion"],
        visual_emotion=settings["analysis.visual_emotion"],
        max_duration_s=_positive(args.max_duration, "--max-duration"),
        pipeline=settings["pipeline"],
    )


def _positive(value: float | None, flag: str) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"{flag} {value:g} must be a positive number of seconds")
    return value


def run_analyze(args: argparse.Namespace) -> int:
    from filmscore.media import check_input_path
    from filmscore.pipeline import analyze
    from filmscore.progress import Progress, TerminalProgress
    from filmscore.report import write_report

    settings = chosen_settings(args, run_only=False)
    input_path = check_input_path(args.input)
    report_dir = check_report_dir(
        args.report_dir or default_report_dir(args.input), input_path, args.overwrite
    )
    progress = Progress() if args.quiet else TerminalProgress()
    analysis = analyze(args.input, analyze_options(settings, args), progress)
    with progress.stage("report"):
        path = write_report(analysis, report_dir)
    if not args.quiet:
        print(
            f"{len(analysis.shots)} shots, {len(analysis.transcript.utterances)} lines of dialogue -> {path}"
        )
    return EXIT_OK


def run_score(args: argparse.Namespace) -> int:
    from filmscore.cues import CueOptions
    from filmscore.media import probe
    from filmscore.mix import MixOptions, parse_loudness
    from filmscore.mux import check_output, default_output
    from filmscore.progress import Progress, TerminalProgress
    from filmscore.run import RunOptions, score_film, work_space_bytes

    settings = chosen_settings(args, run_only=True)
    info = probe(args.input)
    output = check_output(args.output or default_output(info), info, args.overwrite, args.keep_original_audio)
    check_writable(output.parent, "-o folder")
    check_free_space(output.parent, work_space_bytes(info.duration_s, args.stems) + info.path.stat().st_size)
    if args.output is None and output.suffix != ".mp4" and not args.quiet:
        note = f"MP4 cannot hold {info.video_codec} video without re-encoding it, so the scored film is"
        print(f"filmscore: {note} {output.name}; the video stream is copied as it is.", file=sys.stderr)
    report_dir = check_report_dir(args.report_dir or default_report_dir(output), info.path, args.overwrite)
    if report_dir.resolve() == output.resolve():
        raise UsageError(
            "the report folder and the output film are the same path. Choose another --report-dir"
        )
    soundfont = settings["music.soundfont"]
    opts = RunOptions(
        analyze=analyze_options(settings, args),
        cues=CueOptions(min_cue_s=settings["cues.min_cue_s"], max_cue_s=settings["cues.max_cue_s"]),
        mix=MixOptions(target_lufs=parse_loudness(settings["mix.loudness"]), duck_db=settings["mix.duck_db"]),
        generator=settings["music.generator"],
        soundfont=Path(soundfont) if soundfont else None,
        seed=settings["music.seed"],
        keep_original_audio=args.keep_original_audio,
        stems=args.stems,
    )
    progress = Progress() if args.quiet else TerminalProgress()
    scored = score_film(info.path, output, report_dir, opts, progress)
    if not args.quiet:
        delivery = scored.delivery
        print(
            f"{len(scored.plan.cues)} cues over {len(scored.analysis.shots)} shots; "
            f"{delivery.integrated_lufs:.1f} LUFS, true peak {delivery.true_peak_dbtp:.1f} dBTP -> {output}\n"
            f"report, music stem and score -> {report_dir}"
        )
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    from filmscore.errors import InputError
    from filmscore.report import rebuild_report_folder

    if not args.report_dir.is_dir():
        raise InputError(f"{args.report_dir} is not a folder. Give a report folder made by analyze or run.")
    written = rebuild_report_folder(args.report_dir)
    if not args.quiet:
        print(f"rebuilt {', '.join(p.name for p in written)} in {args.report_dir}")
    return EXIT_OK


COMMANDS = {"analyze": run_analyze, "run": run_score, "report": run_report}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args)
    except FilmscoreError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"filmscore: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through _terminate
        print("filmscore: interrupted; nothing half-written was kept.", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"filmscore: internal error: {type(exc).__name__}: {exc}. "
            "Run again with --debug and report it as a bug.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL

    finally:
        signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every cleanup on the way out runs: temp files removed, workers and
    child programs stopped."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


__all__ = ["UsageError", "main"]
