"""`filmscore report`: a report folder's files rebuilt from its report.json."""

from __future__ import annotations

import argparse

from filmscore.core.errors import EXIT_OK, InputError


def run(args: argparse.Namespace) -> int:
    from filmscore.core.atomic import output_lock
    from filmscore.report.document import rebuild_report_folder

    if not args.report_dir.is_dir():
        raise InputError(f"{args.report_dir} is not a folder. Give a report folder made by analyze or run.")
    with output_lock(args.report_dir):  # the lock a run or analyze writing the folder holds
        written = rebuild_report_folder(args.report_dir)
    if not args.quiet:
        print(f"rebuilt {', '.join(p.name for p in written)} in {args.report_dir}")
    return EXIT_OK
