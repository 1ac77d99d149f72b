"""`filmscore analyze`: the per-shot emotion report of a film, through the API's `analyze`."""

from __future__ import annotations

import argparse

from filmscore.cli.commands import options_of, say_on_stderr
from filmscore.config.names import REPORT_NAME, default_report_dir
from filmscore.core.errors import EXIT_OK


def run(args: argparse.Namespace) -> int:
    import filmscore.api as api
    from filmscore.core.progress import ANALYZE_STAGES, progress_for
    from filmscore.core.wording import one_line

    report_dir = args.report_dir or default_report_dir(args.input)
    title = f"analysing {one_line(args.input.name, 40)}"
    analysis = api.analyze(
        args.input,
        report_dir=report_dir,
        pipeline=args.pipeline,
        cache_dir=args.cache_dir,
        cache=not args.no_cache,
        max_duration=args.max_duration,
        overwrite=args.overwrite,
        progress=progress_for(args.quiet, ANALYZE_STAGES, title),
        say=None if args.quiet else say_on_stderr,
        **options_of(args, run_only=False),
    )
    if not args.quiet:
        lines = len(analysis.transcript.utterances)
        path = report_dir / REPORT_NAME
        print(f"{len(analysis.shots)} shots, {lines} lines of dialogue -> {one_line(str(path))}")
    return EXIT_OK
