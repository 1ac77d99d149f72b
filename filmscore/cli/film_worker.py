"""A batch's warm film worker (`python -m filmscore.cli.film_worker`, started by batch/film_workers.py):
it reads a JSON line per film (`{"argv": [...]}`, the command line of `filmscore run`), scores the film as
the `filmscore` program would, and answers with a JSON line (`{"code": exit code, "error": its last error
line}`), keeping its worker pools and loaded models for the next film (core/workers.kept_workers).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
from typing import IO

from filmscore.cli.main import main
from filmscore.core.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE
from filmscore.core.workers import die_with_parent, kept_workers


def serve(requests: IO[str], replies: IO[str]) -> None:
    """Score each film asked for until `requests` ends or a film is stopped (the batch stops the worker
    with SIGTERM: the film under way unwinds and removes its temp files, then the worker ends)."""
    with kept_workers():
        for line in requests:
            code, error = score(json.loads(line)["argv"])
            replies.write(json.dumps({"code": code, "error": error}) + "\n")
            replies.flush()
            if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                return


def score(argv: list[str]) -> tuple[int, str]:
    """One film, as `filmscore ARGV` would score it: its exit code and, where it failed, its last line on
    stderr (the error)."""
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    lines = [line for line in said.getvalue().splitlines() if line.strip()]
    return code, lines[-1] if lines and code != 0 else ""


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # between films: unwind, so kept_workers ends the pools


def _replies_apart() -> IO[str]:
    """The replies' channel: this process's stdout as it started, with stdout itself sent to /dev/null,
    so that nothing a film prints (or a library writes to file descriptor 1) reaches the batch as a
    reply."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)
    return replies


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    die_with_parent()
    serve(sys.stdin, _replies_apart())
