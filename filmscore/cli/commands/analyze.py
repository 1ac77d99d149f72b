"""`filmscore analyze`: the per-shot emotion report of a film."""

from __future__ import annotations

import argparse

from filmscore.cli.preflight import (
    check_report_dir,
    chosen_settings,
    load_spotting,
    positive,
    say_choices,
    sweep_leftovers,
)
from filmscore.config.names import default_report_dir
from filmscore.core.atomic import existing_folder, output_lock
from filmscore.core.errors import EXIT_OK


def run(args: argparse.Namespace) -> int:
    from filmscore.analysis.pipeline import analyze
    from filmscore.core.progress import ANALYZE_STAGES, progress_for
    from filmscore.core.wording import one_line
    from filmscore.media.probe import check_input_path, probe
    from filmscore.report.document import write_report
    from filmscore.scoring.options import analysis_choices, analyze_options, check_models

    settings = chosen_settings(args, run_only=False)
    input_path = check_input_path(args.input)
    report_dir = check_report_dir(
        args.report_dir or default_report_dir(args.input), input_path, args.overwrite
    )
    sweep_leftovers(report_dir, report_dir.parent)
    spotting = load_spotting(settings["cues.spotting"], probe(input_path), args.quiet)
    choices = analysis_choices(settings)
    say_choices(choices, args.quiet)
    options = analyze_options(settings, choices, positive(args.max_duration, "--max-duration"))
    check_models(options)
    # The speech track's work file goes beside the report, on the disk the user chose for it.
    title = f"analysing {one_line(input_path.name, 40)}"
    with output_lock(report_dir), progress_for(args.quiet, ANALYZE_STAGES, title) as progress:
        analysis = analyze(args.input, options, progress, existing_folder(report_dir.parent))
        with progress.stage("report"):
            path = write_report(analysis, report_dir, args.overwrite, spotting)
    if not args.quiet:
        lines = len(analysis.transcript.utterances)
        print(f"{len(analysis.shots)} shots, {lines} lines of dialogue -> {one_line(str(path))}")
    return EXIT_OK
