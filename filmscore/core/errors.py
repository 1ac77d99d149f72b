"""The project's own exceptions. Each carries the exit code the CLI returns for it.

Messages are written for the person at the terminal: what went wrong, then what to do.
"""

from __future__ import annotations

# Exit codes, shared by every command (the README lists them).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_DEPENDENCY = 4
EXIT_OUTPUT = 5
EXIT_BATCH_PARTIAL = 6
EXIT_TIMED_OUT = 124  # a batch's film that ran past its time limit (--film-timeout), as `timeout` says it
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM


class FilmscoreError(Exception):
    """Base class: an error the user can act on, never a bug."""

    exit_code = EXIT_INTERNAL


class UsageError(FilmscoreError):
    """The command line asks for something that does not make sense."""

    exit_code = EXIT_USAGE


class InputError(FilmscoreError):
    """The input is missing, unreadable, not a video, corrupt or has no video stream."""

    exit_code = EXIT_INPUT


class DependencyError(FilmscoreError):
    """A program, package or model that the requested work needs is not installed."""

    exit_code = EXIT_DEPENDENCY


class OutputError(FilmscoreError):
    """An output cannot be written, or would overwrite the input."""

    exit_code = EXIT_OUTPUT
