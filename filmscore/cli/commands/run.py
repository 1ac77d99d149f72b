"""`filmscore run`: the scored film, its music stem and its report, through the API's `score`."""

from __future__ import annotations

import argparse

from filmscore.cli.commands import options_of, say_on_stderr
from filmscore.core.errors import EXIT_OK


def run(args: argparse.Namespace) -> int:
    import filmscore.api as api
    from filmscore.core.progress import RUN_STAGES, progress_for
    from filmscore.core.wording import one_line

    title = f"scoring {one_line(args.input.name, 40)}"
    scored = api.score(
        args.input,
        args.output,
        report_dir=args.report_dir,
        pipeline=args.pipeline,
        previous=args.previous,
        stems=args.stems,
        keep_original_audio=args.keep_original_audio,
        cache_dir=args.cache_dir,
        cache=not args.no_cache,
        max_duration=args.max_duration,
        overwrite=args.overwrite,
        progress=progress_for(args.quiet, RUN_STAGES, title),
        say=None if args.quiet else say_on_stderr,
        warn=say_on_stderr,  # even when quiet: it loses data
        **options_of(args, run_only=True),
    )
    if not args.quiet:
        delivery = scored.delivery
        print(
            f"{len(scored.plan.cues)} cues over {len(scored.analysis.shots)} shots; "
            f"{delivery.integrated_lufs:.1f} LUFS, true peak {delivery.true_peak_dbtp:.1f} dBTP "
            f"-> {one_line(str(scored.outputs['video']))}\n"
            f"report, music stem and score -> {one_line(str(scored.outputs['report'].parent))}"
        )
    return EXIT_OK
