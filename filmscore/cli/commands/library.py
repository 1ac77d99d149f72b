"""`filmscore library index`: measure a folder of the user's own music, for `run --generator library`."""

from __future__ import annotations

import argparse
import sys

from filmscore.core.errors import EXIT_OK, UsageError
from filmscore.core.wording import one_line


def run(args: argparse.Namespace) -> int:
    from filmscore.music.generators.library import INDEX_NAME, index_library, library_summary
    from filmscore.music.mer import MER_BACKENDS

    if args.library_command is None:
        raise UsageError("say what to do with the library: filmscore library index DIR")

    def show(i: int, count: int, name: str) -> None:
        if not args.quiet:
            print(one_line(f"[{i + 1}/{count}] {name}"), file=sys.stderr)

    index = index_library(args.folder, MER_BACKENDS.create("features"), show)
    if args.json:
        print((args.folder / INDEX_NAME).read_text())
    if not args.quiet:
        print(library_summary(index), file=sys.stderr)
    return EXIT_OK
