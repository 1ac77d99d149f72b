"""The command line, in three steps: parse the arguments, validate them into options, run.

Heavy modules are imported inside the commands, so `filmscore --help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from filmscore import __version__
from filmscore.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    FilmscoreError,
    OutputError,
    UsageError,
)

REPORT_DIR_SUFFIX = ".filmscore"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors leave with our exit code and a one-line hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"filmscore: error: {message}. See 'filmscore --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    from filmscore.shots import SHOT_DETECTORS

    parser = _Parser(prog="filmscore", description="Score films: read their emotion, and write music for it.")
    parser.add_argument("--version", action="version", version=f"filmscore {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print no progress")
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    analyze = commands.add_parser(
        "analyze",
        parents=[common],
        help="write a per-shot emotion report of a film",
        description="Read a film's dialogue, pictures and sound, and write a per-shot emotion report.",
    )
    analyze.add_argument("input", type=Path, metavar="INPUT", help="the video file")
    analyze.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="where report.json goes (default: INPUT_STEM.filmscore/)",
    )
    analyze.add_argument(
        "--shot-detector", choices=SHOT_DETECTORS, default="adaptive", help="PySceneDetect detector"
    )
    analyze.add_argument("--asr", default="pocketsphinx", metavar="NAME", help="speech recognition backend")
    analyze.add_argument("--text-emotion", default="lexicon", metavar="NAME", help="text emotion backend")
    analyze.add_argument(
        "--visual-emotion", default="features", metavar="NAME", help="visual emotion backend"
    )
    return parser


def default_report_dir(input_path: Path) -> Path:
    return input_path.parent / f"{input_path.stem}{REPORT_DIR_SUFFIX}"


def check_report_dir(report_dir: Path, input_path: Path) -> Path:
    if report_dir.exists() and not report_dir.is_dir():
        raise OutputError(f"{report_dir} exists and is not a folder. Choose another --report-dir.")
    if report_dir.resolve() == input_path.resolve():
        raise OutputError("the report folder would replace the input. Choose another --report-dir.")
    probe_dir = report_dir if report_dir.exists() else _nearest_existing(report_dir)
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {probe_dir}. Choose a writable --report-dir.")
    return report_dir


def _nearest_existing(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def run_analyze(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from filmscore.media import check_input_path
    from filmscore.pipeline import AnalyzeOptions, analyze
    from filmscore.progress import Progress, TerminalProgress
    from filmscore.report import write_report
    from filmscore.shots import ShotOptions

    input_path = check_input_path(args.input)
    report_dir = check_report_dir(args.report_dir or default_report_dir(args.input), input_path)
    defaults = AnalyzeOptions()
    opts = replace(
        defaults,
        shots=ShotOptions(detector=args.shot_detector),
        dialogue=replace(defaults.dialogue, asr=args.asr),
        text_emotion=args.text_emotion,
        visual_emotion=args.visual_emotion,
    )
    progress = Progress() if args.quiet else TerminalProgress()
    analysis = analyze(args.input, opts, progress)
    with progress.stage("report"):
        path = write_report(analysis, report_dir)
    if not args.quiet:
        print(
            f"{len(analysis.shots)} shots, {len(analysis.transcript.utterances)} lines of dialogue -> {path}"
        )
    return EXIT_OK


COMMANDS = {"analyze": run_analyze}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except FilmscoreError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"filmscore: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("filmscore: interrupted; nothing half-written was kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"filmscore: internal error: {type(exc).__name__}: {exc}. "
            "Run again with --debug and report it as a bug.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


__all__ = ["UsageError", "main"]
