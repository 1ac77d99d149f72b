"""`filmscore`: parse the arguments, run the command, and turn its errors into one line and an exit code.

Each command lives in its own module under cli/commands/ and is imported only when it runs, so `filmscore
--help` stays instant.
"""

from __future__ import annotations

import importlib
import signal
import sys
import traceback
from collections.abc import Sequence

from filmscore.cli.parser import build_parser
from filmscore.core.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    FilmscoreError,
)
from filmscore.core.wording import one_line
from filmscore.core.workers import die_with_parent

COMMANDS = ("analyze", "run", "report", "batch", "library", "models", "cache")  # modules in cli/commands/


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    die_with_parent()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        command = importlib.import_module(f"filmscore.cli.commands.{args.command}")
        return int(command.run(args))
    except FilmscoreError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"filmscore: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through _terminate
        print("filmscore: interrupted; nothing half-written was kept.", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"filmscore: internal error: {type(exc).__name__}: {one_line(str(exc))}. "
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
