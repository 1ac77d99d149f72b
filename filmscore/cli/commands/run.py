"""`filmscore run`: the scored film, its music stem and its report."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from multiprocessing.pool import Pool
from typing import TYPE_CHECKING, Any

from filmscore.cli.preflight import (
    check_free_space,
    check_report_dir,
    check_writable,
    chosen_settings,
    load_spotting,
    positive,
    say_choices,
    sweep_leftovers,
)
from filmscore.config.names import default_report_dir
from filmscore.core.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from filmscore.media.probe import MediaInfo
    from filmscore.scoring.recut import EarlierCut


def run(args: argparse.Namespace) -> int:
    from filmscore.core.workers import audio_helper
    from filmscore.music.check import helper_warm_up

    settings = chosen_settings(args, run_only=True)
    # The audio helper starts before anything else: its librosa import (about 1.3 s of a core) overlaps
    # this process's own imports and checks, which leave the second core idle.
    with audio_helper(helper_warm_up(settings["music.mer"])) as helper:
        return _score(args, settings, helper)


def _score(args: argparse.Namespace, settings: dict[str, Any], helper: Pool) -> int:
    from filmscore.core.atomic import output_lock
    from filmscore.core.progress import RUN_STAGES, progress_for
    from filmscore.core.wording import one_line
    from filmscore.delivery.mux import check_output, default_output, left_out_note
    from filmscore.media.probe import probe
    from filmscore.report.document import stage_scored_report
    from filmscore.scoring import options
    from filmscore.scoring.run import score_film, work_space_bytes

    info = probe(args.input)
    # Absolute, so report.json names the outputs wherever it is read from (the timeline's links need it).
    wanted = (args.output or default_output(info)).absolute()
    output = check_output(wanted, info, args.overwrite, args.keep_original_audio)
    check_writable(output.parent, "-o folder")
    check_free_space(output.parent, work_space_bytes(info.duration_s, args.stems) + info.path.stat().st_size)
    if args.output is None and output.suffix != ".mp4" and not args.quiet:
        note = f"MP4 cannot hold {_what_mp4_cannot_hold(info)} as it is, so the scored film is"
        print(f"filmscore: {note} {output.name}; every stream is copied as it is.", file=sys.stderr)
    if (dropped := left_out_note(info, output)) is not None:
        print(f"filmscore: note: {one_line(dropped)}", file=sys.stderr)  # said even with -q: it loses data
    report_dir = check_report_dir(
        (args.report_dir or default_report_dir(output)).absolute(), info.path, args.overwrite
    )
    if report_dir.resolve() == output.resolve():
        raise UsageError(
            "the report folder and the output film are the same path. Choose another --report-dir"
        )
    sweep_leftovers(report_dir, output.parent, args.cache_dir)
    spotting = load_spotting(settings["cues.spotting"], info, args.quiet)
    generator = options.generator_choice(settings)
    choices = options.analysis_choices(settings)
    say_choices({"generator": generator, **choices}, args.quiet)
    analysis = options.analyze_options(settings, choices, positive(args.max_duration, "--max-duration"))
    opts = options.run_options(
        settings, analysis, generator, args.keep_original_audio, args.stems, args.cache_dir, args.overwrite
    )
    opts = replace(opts, spotting=spotting, previous=_previous(args.previous))
    options.check_models(opts.analyze, (opts.generator, opts.generator_model))
    title = f"scoring {one_line(info.path.name, 40)}"
    with output_lock(output, report_dir), progress_for(args.quiet, RUN_STAGES, title) as progress:
        scored = score_film(info.path, output, report_dir, opts, progress, helper, stage_scored_report)
    if not args.quiet:
        delivery = scored.delivery
        print(
            f"{len(scored.plan.cues)} cues over {len(scored.analysis.shots)} shots; "
            f"{delivery.integrated_lufs:.1f} LUFS, true peak {delivery.true_peak_dbtp:.1f} dBTP "
            f"-> {one_line(str(output))}\nreport, music stem and score -> {one_line(str(report_dir))}"
        )
    return EXIT_OK


def _previous(folder: Path | None) -> EarlierCut | None:
    """The earlier cut whose cues a re-cut keeps (--previous), read and checked before any work."""
    from filmscore.report.recut import earlier_cut

    return earlier_cut(folder) if folder is not None else None


def _what_mp4_cannot_hold(info: MediaInfo) -> str:
    from filmscore.delivery.mux import MP4_VIDEO, left_out

    if info.video_codec not in MP4_VIDEO:
        return f"{info.video_codec} video"
    return ", ".join(stream.describe() for stream in left_out(info, ".mp4"))
