"""One module per command, each a function of the parsed arguments that returns the exit code, calling the
API (filmscore/api/). Each imports what it needs when it runs, so `filmscore --help` imports none of it."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def options_of(args: argparse.Namespace, run_only: bool) -> dict[str, Any]:
    """The settings' flags as given on the command line, by the API's names for them (--duck-db is
    duck_db); those not given are None, so the preset decides."""
    from filmscore.api import option_name
    from filmscore.config.settings import SETTINGS

    chosen = [s for s in SETTINGS if s.flag and (run_only or not s.run_only)]
    return {option_name(s.flag): getattr(args, s.key) for s in chosen if s.flag}


def say_on_stderr(text: str) -> None:
    """A note for the person at the terminal: one line on stderr."""
    from filmscore.core.wording import one_line

    print(f"filmscore: {one_line(text)}", file=sys.stderr)
