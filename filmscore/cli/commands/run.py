"""`filmscore run`: the scored film, its music stem and its report."""

from __future__ import annotations

import argparse
import sys
from multiprocessing.pool import Pool
from typing import Any

from filmscore.cli.preflight import (
    check_free_space,
    check_report_dir,
    check_writable,
    chosen_settings,
    positive,
    say_choices,
)
from filmscore.config.names import default_report_dir
from filmscore.core.errors import EXIT_OK, UsageError


def run(args: argparse.Namespace) -> int:
    from filmscore.core.workers import audio_helper
    from filmscore.music.check import helper_warm_up

    settings = chosen_settings(args, run_only=True)
    # The audio helper starts before anything else: its librosa import (about 1.3 s of a core) overlaps
    # this process's own imports and checks, which leave the second core idle.
    with audio_helper(helper_warm_up(settings["music.mer"])) as helper:
        return _score(args, settings, helper)


def _score(args: argparse.Namespace, settings: dict[str, Any], helper: Pool) -> int:
    from filmscore.core.progress import Progress, TerminalProgress
    from filmscore.delivery.mux import check_output, default_output
    from filmscore.media.probe import probe
    from filmscore.report.document import stage_scored_report
    from filmscore.scoring import options
    from filmscore.scoring.run import score_film, work_space_bytes

    info = probe(args.input)
    output = check_output(args.output or default_output(info), info, args.overwrite, args.keep_original_audio)
    check_writable(output.parent, "-o folder")
    check_free_space(output.parent, work_space_bytes(info.duration_s, args.stems) + info.path.stat().st_size)
    if args.output is None and output.suffix != ".mp4" and not args.quiet:
        note = f"MP4 cannot hold {info.video_codec} video without re-encoding it, so the scored film is"
        print(f"filmscore: {note} {output.name}; the video stream is copied as it is.", file=sys.stderr)
    report_dir = check_report_dir(args.report_dir or default_report_dir(output), info.path, args.overwrite)
    if report_dir.resolve() == output.resolve():
        raise UsageError(
            "the report folder and the output film are the same path. Choose another --report-dir"
        )
    generator = options.generator_choice(settings)
    choices = options.analysis_choices(settings)
    say_choices({"generator": generator, **choices}, args.quiet)
    analysis = options.analyze_options(settings, choices, positive(args.max_duration, "--max-duration"))
    opts = options.run_options(
        settings, analysis, generator, args.keep_original_audio, args.stems, args.cache_dir
    )
    options.check_models(opts.analyze, (opts.generator, opts.generator_model))
    progress = Progress() if args.quiet else TerminalProgress()
    scored = score_film(info.path, output, report_dir, opts, progress, helper, stage_scored_report)
    if not args.quiet:
        delivery = scored.delivery
        print(
            f"{len(scored.plan.cues)} cues over {len(scored.analysis.shots)} shots; "
            f"{delivery.integrated_lufs:.1f} LUFS, true peak {delivery.true_peak_dbtp:.1f} dBTP -> {output}\n"
            f"report, music stem and score -> {report_dir}"
        )
    return EXIT_OK
