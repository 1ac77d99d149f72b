"""The command line, in three steps: parse the arguments, validate them into options, run.

Heavy modules are imported inside the commands, so `filmscore --help` stays instant.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmscore import __version__
from filmscore.config.names import REPORT_NAME, default_report_dir
from filmscore.core.atomic import existing_folder
from filmscore.core.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    FilmscoreError,
    OutputError,
    UsageError,
)

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from filmscore.analysis.pipeline import AnalyzeOptions
    from filmscore.batch.runner import ItemRecord, Manifest


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors leave with our exit code and a one-line hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"filmscore: error: {message}. See 'filmscore --help'.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="filmscore", description="Score films: read their emotion, and write music for it.")
    parser.add_argument("--version", action="version", version=f"filmscore {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print no progress")
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    analysis = _analysis_arguments()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    analyze = commands.add_parser(
        "analyze",
        parents=[common, analysis],
        help="write a per-shot emotion report of a film",
        description="Read a film's dialogue, pictures and sound, and write a per-shot emotion report.",
    )
    analyze.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="where report.json goes (default: INPUT_STEM.filmscore/)",
    )
    run = commands.add_parser(
        "run",
        parents=[common, analysis],
        help="score a film: music that follows its emotion, mixed under the dialogue",
        description=(
            "Analyse a film, compose music that follows its emotion, mix it under the dialogue at a loudness "
            "target and write a scored copy (the video stream is copied, not re-encoded), with a report "
            "folder holding report.json, the music stem music.wav and the score as score.mid."
        ),
    )
    report = commands.add_parser(
        "report",
        parents=[common],
        help="rebuild a report folder's files (CSV, subtitles, markers) from its report.json",
        description="Rebuild every editor file in a report folder from its report.json, running no model.",
    )
    report.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="a folder made by analyze or run")
    run.add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="the scored film (default: INPUT_STEM.scored.mp4 beside the input)")  # fmt: skip
    run.add_argument("--report-dir", type=Path, metavar="DIR",
                     help="report folder (default: OUTPUT_STEM.filmscore/ beside the output)")  # fmt: skip
    _run_arguments(run)
    batch = commands.add_parser(
        "batch",
        parents=[common, _analysis_arguments(with_input=False)],
        help="score many films: folders of rushes, or @lists, in parallel and resumably",
        description=(
            "Score every video in the files, folders (searched recursively) and @lists given, each as "
            "`filmscore run` would, with outputs mirroring the input tree under -o. A bad film is recorded "
            "in OUTDIR/batch.json and the rest go on; re-running the same command skips films already done."
        ),
    )
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="a video, a folder, or @list.txt")
    batch.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
                       help="where the scored films, reports, batch.json and batch.html go")  # fmt: skip
    batch.add_argument("--jobs", type=int, metavar="N",
                       help="films scored at once here (default: what the cores and memory fit)")  # fmt: skip
    batch.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local processes, or Ray tasks (default local)")  # fmt: skip
    batch.add_argument("--ray-address", metavar="ADDR",
                       help="a Ray cluster to join (default: start one on this machine)")  # fmt: skip
    batch.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    _run_arguments(batch)
    library = commands.add_parser(
        "library",
        help="index a folder of your own music, to score films from it (--generator library)",
        description="Work with a folder of your own music, for `run --generator library --library DIR`.",
    )
    library_commands = library.add_subparsers(dest="library_command", metavar="ACTION", parser_class=_Parser)
    library.set_defaults(quiet=False, debug=False)  # the action's own -q and --debug set them
    index = library_commands.add_parser(
        "index",
        parents=[common],
        help="measure every track: emotion over time, tempo, beats, key, loudness",
        description=(
            "Measure every track (wav, flac, mp3, ogg, opus, m4a, aiff) in DIR and its sub-folders into "
            "DIR/filmscore-library.json: music emotion every 5 s, tempo, beats, key and loudness. Unchanged "
            "tracks are kept from an earlier index; a file that cannot be decoded is skipped and listed."
        ),
    )
    index.add_argument("folder", type=Path, metavar="DIR", help="the folder of music")
    index.add_argument("--json", action="store_true", help="print the index as JSON on stdout")
    _models_arguments(commands, common)
    return parser


def _models_arguments(commands: Any, common: argparse.ArgumentParser) -> None:
    models = commands.add_parser(
        "models",
        help="list, fetch and check the models filmscore can use",
        description=(
            "The embedded models ship with filmscore's packages (Whisper tiny.en among them); the larger "
            "ones (Whisper small to large-v3, transformers classifiers, CLIP, MusicGen) are fetched once "
            "with `pull`, into $FILMSCORE_MODELS when set, else into Hugging Face's cache ($HF_HOME). A "
            "run never downloads anything."
        ),
    )
    models.set_defaults(quiet=False, debug=False)
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", parser_class=_Parser)
    listing = actions.add_parser(
        "list",
        parents=[common],
        help="every model: task, size, languages, licence, here?",
        description="Every model in the manifest, and whether it is here.",
    )
    listing.add_argument("--json", action="store_true", help="print the list as JSON on stdout")
    pull = actions.add_parser("pull", parents=[common], help="download models (needs the internet)",
                              description="Download models by name (see `filmscore models list`) or by "
                              "Hugging Face repository id, then check them.")  # fmt: skip
    pull.add_argument("names", nargs="+", metavar="NAME")
    verify = actions.add_parser("verify", parents=[common], help="check local models against their checksums",
                                description="Check every model on this machine (or those named) against the "
                                "checksums of the manifest or of the hub.")  # fmt: skip
    verify.add_argument("names", nargs="*", metavar="NAME")


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the score, shared by `run` and `batch`."""
    _setting_arguments(parser, run_only=True)
    parser.add_argument("--stems", action="store_true",
                     help="also write stems/: a WAV per instrument and the original soundtrack")  # fmt: skip
    parser.add_argument("--keep-original-audio", action="store_true",
                     help="add the untouched original soundtrack as a second audio track")  # fmt: skip
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="reuse analyses kept here (by film content and analysis settings)")  # fmt: skip


def _analysis_arguments(with_input: bool = True) -> _Parser:
    from filmscore.config.settings import DEFAULT_PRESET, preset_names

    analysis = _Parser(add_help=False)
    if with_input:
        analysis.add_argument("input", type=Path, metavar="INPUT", help="the video file")
    analysis.add_argument(
        "--pipeline",
        default=DEFAULT_PRESET,
        metavar="NAME_OR_FILE",
        help=f"a preset of settings from pipelines/ ({', '.join(preset_names())}) or a .toml file; "
        f"flags override it (default {DEFAULT_PRESET})",
    )
    _setting_arguments(analysis, run_only=False)
    analysis.add_argument("--overwrite", action="store_true", help="replace outputs left by an earlier run")
    analysis.add_argument(
        "--max-duration",
        type=float,
        metavar="SECONDS",
        help="refuse films longer than this (a resource guard)",
    )
    return analysis


def _setting_arguments(parser: argparse.ArgumentParser, run_only: bool) -> None:
    """A flag for each setting that has one. Its default is None, meaning "as the preset says", so the
    help shows the built-in default instead."""
    from filmscore.config.settings import SETTINGS

    for setting in SETTINGS:
        if setting.flag and setting.run_only == run_only:
            shown = setting.default_text or ("none" if setting.default is None else setting.default)
            parser.add_argument(
                setting.flag,
                dest=setting.key,
                type=setting.kind,
                metavar=setting.metavar,
                help=f"{setting.help} (default {shown})",
            )


def chosen_settings(args: argparse.Namespace, run_only: bool) -> dict[str, Any]:
    """The preset, overridden by the flags given: every setting's value, checked, and under "pipeline"
    the preset's name."""
    from filmscore.config.settings import SETTINGS, load_preset, resolve

    flags = {s.key: getattr(args, s.key) for s in SETTINGS if s.flag and (run_only or not s.run_only)}
    preset = load_preset(args.pipeline)
    return {**resolve(preset, flags), "pipeline": preset.name}


def check_report_dir(report_dir: Path, input_path: Path, overwrite: bool = False) -> Path:
    if (report_dir / REPORT_NAME).exists() and not overwrite:
        raise OutputError(f"{report_dir} already holds a report. Pass --overwrite to replace it.")
    if report_dir.exists() and not report_dir.is_dir():
        raise OutputError(f"{report_dir} exists and is not a folder. Choose another --report-dir.")
    if report_dir.resolve() == input_path.resolve():
        raise OutputError("the report folder would replace the input. Choose another --report-dir.")
    check_writable(report_dir if report_dir.exists() else report_dir.parent, "--report-dir")
    return report_dir


def check_writable(folder: Path, flag: str) -> None:
    """Create and drop an unnamed file in the nearest existing folder: the honest test of writability
    (permissions, read-only mounts and pseudo file systems all answer it)."""
    import tempfile

    probe_dir = existing_folder(folder)
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError:
        raise OutputError(f"cannot write to {folder}. Choose a writable {flag}.") from None


def check_free_space(folder: Path, needed: int) -> None:
    """Refuse at once, not after the analysis, a run whose work files and outputs would fill the disk."""
    import shutil

    free = shutil.disk_usage(existing_folder(folder)).free
    if free < needed:
        raise OutputError(
            f"scoring this film needs about {needed / 1e9:.1f} GB free beside the output for its work "
            f"files and outputs, and {folder} has {free / 1e9:.1f} GB. Free some space, or choose -o on "
            "another disk."
        )


def analyze_options(settings: dict[str, Any], args: argparse.Namespace) -> AnalyzeOptions:
    from dataclasses import replace

    from filmscore.analysis.asr import ASR_BACKENDS
    from filmscore.analysis.pipeline import AnalyzeOptions
    from filmscore.analysis.shots import ShotOptions
    from filmscore.analysis.text import TEXT_EMOTION_BACKENDS
    from filmscore.analysis.visual import VISUAL_EMOTION_BACKENDS
    from filmscore.media.decode import DecodeOptions

    notes: list[tuple[str, str]] = []
    asr = _chosen(ASR_BACKENDS, "asr", settings, notes, args.quiet)
    text = _chosen(TEXT_EMOTION_BACKENDS, "text_emotion", settings, notes, args.quiet)
    visual = _chosen(VISUAL_EMOTION_BACKENDS, "visual_emotion", settings, notes, args.quiet)
    if settings["analysis.face_model"] and visual != "clip":
        raise UsageError(f"--face-model works with --visual-emotion clip, not {visual}")
    defaults = AnalyzeOptions()
    return replace(
        defaults,
        decode=DecodeOptions(width=settings["analysis.width"], max_fps=settings["analysis.max_fps"]),
        shots=ShotOptions(detector=settings["analysis.shot_detector"]),
        dialogue=replace(
            defaults.dialogue,
            asr=asr,
            asr_model=settings["analysis.asr_model"],
            language=settings["analysis.language"],
            device=settings["models.device"],
        ),
        text_emotion=text,
        text_emotion_model=settings["analysis.text_emotion_model"],
        visual_emotion=visual,
        visual_emotion_model=settings["analysis.visual_emotion_model"],
        face_model=settings["analysis.face_model"],
        device=settings["models.device"],
        notes=tuple(notes),
        max_duration_s=_positive(args.max_duration, "--max-duration"),
        pipeline=settings["pipeline"],
    )


def check_models(opts: AnalyzeOptions, generator: tuple[str, str | None] | None = None) -> None:
    """Every model the chosen neural backends will load is on this machine, or one exit 4 names them all."""
    from filmscore.analysis.asr import ASR_BACKENDS
    from filmscore.analysis.text import TEXT_EMOTION_BACKENDS
    from filmscore.analysis.visual import VISUAL_EMOTION_BACKENDS
    from filmscore.config.models import require_models
    from filmscore.music.generators import GENERATORS

    wanted: list[tuple[str, str, str | None]] = []
    chosen: list[tuple[Any, str, str, str | None]] = [
        (ASR_BACKENDS, "asr", opts.dialogue.asr, opts.dialogue.asr_model),
        (TEXT_EMOTION_BACKENDS, "text_emotion", opts.text_emotion, opts.text_emotion_model),
        (VISUAL_EMOTION_BACKENDS, "visual_emotion", opts.visual_emotion, opts.visual_emotion_model),
    ]
    if generator is not None:
        chosen.append((GENERATORS, "music_generator", *generator))
    for registry, kind, name, model in chosen:
        if registry.entry(name).neural:
            wanted.append((kind, name, model))
    if opts.face_model:
        wanted.append(("visual_emotion", opts.visual_emotion, opts.face_model))
    require_models(wanted)


def _chosen(
    registry: Any, kind: str, settings: dict[str, Any], notes: list[tuple[str, str]], quiet: bool
) -> str:
    """The backend of a setting, with "auto" resolved to one whose model is here; the choice is said on
    stderr and kept for the report."""
    from filmscore.config.models import AUTO, choose_backend

    section = "music" if kind == "generator" else "analysis"
    requested = settings[f"{section}.{kind}"]
    name, why = choose_backend(registry, kind_of_models(kind), requested, settings[f"{section}.{kind}_model"])
    if requested == AUTO:
        notes.append((kind, why))
        if not quiet:
            print(f"filmscore: --{kind.replace('_', '-')} {why}", file=sys.stderr)
    return name


def kind_of_models(kind: str) -> str:
    """The manifest's kind for a setting's backend kind."""
    return "music_generator" if kind == "generator" else kind


def _positive(value: float | None, flag: str) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"{flag} {value:g} must be a positive number of seconds")
    return value


def run_analyze(args: argparse.Namespace) -> int:
    from filmscore.analysis.pipeline import analyze
    from filmscore.core.progress import Progress, TerminalProgress
    from filmscore.media.probe import check_input_path
    from filmscore.report.document import write_report

    settings = chosen_settings(args, run_only=False)
    input_path = check_input_path(args.input)
    report_dir = check_report_dir(
        args.report_dir or default_report_dir(args.input), input_path, args.overwrite
    )
    progress = Progress() if args.quiet else TerminalProgress()
    options = analyze_options(settings, args)
    check_models(options)
    # The speech track's work file goes beside the report, on the disk the user chose for it.
    analysis = analyze(args.input, options, progress, existing_folder(report_dir.parent))
    with progress.stage("report"):
        path = write_report(analysis, report_dir)
    if not args.quiet:
        print(
            f"{len(analysis.shots)} shots, {len(analysis.transcript.utterances)} lines of dialogue -> {path}"
        )
    return EXIT_OK


def run_score(args: argparse.Namespace) -> int:
    from filmscore.core.workers import audio_helper
    from filmscore.music.check import helper_warm_up

    settings = chosen_settings(args, run_only=True)
    # The audio helper starts before anything else: its librosa import (about 1.3 s of a core) overlaps
    # this process's own imports and checks, which leave the second core idle.
    with audio_helper(helper_warm_up(settings["music.mer"])) as helper:
        return _score(args, settings, helper)


def _score(args: argparse.Namespace, settings: dict[str, Any], helper: Pool) -> int:
    from filmscore.core.progress import Progress, TerminalProgress
    from filmscore.delivery.mix import MixOptions, parse_loudness
    from filmscore.delivery.mux import check_output, default_output
    from filmscore.media.probe import probe
    from filmscore.music.cues import CueOptions
    from filmscore.report.document import stage_scored_report
    from filmscore.scoring.run import RunOptions, score_film, work_space_bytes

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
    soundfont = settings["music.soundfont"]
    from filmscore.music.generators import GENERATORS

    generator_notes: list[tuple[str, str]] = []
    generator = _chosen(GENERATORS, "generator", settings, generator_notes, args.quiet)
    opts = RunOptions(
        analyze=analyze_options(settings, args),
        cues=CueOptions(min_cue_s=settings["cues.min_cue_s"], max_cue_s=settings["cues.max_cue_s"]),
        mix=MixOptions(target_lufs=parse_loudness(settings["mix.loudness"]), duck_db=settings["mix.duck_db"]),
        generator=generator,
        generator_model=settings["music.generator_model"],
        generator_note=dict(generator_notes).get("generator"),
        genre=settings["music.genre"],
        precision=settings["music.precision"],
        device=settings["models.device"],
        soundfont=Path(soundfont) if soundfont else None,
        seed=settings["music.seed"],
        mer=settings["music.mer"],
        library=Path(settings["music.library"]) if settings["music.library"] else None,
        candidates=settings["music.candidates"],
        keep_original_audio=args.keep_original_audio,
        stems=args.stems,
        cache_dir=args.cache_dir,
    )
    check_models(opts.analyze, (opts.generator, opts.generator_model))
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


def run_report(args: argparse.Namespace) -> int:
    from filmscore.core.errors import InputError
    from filmscore.report.document import rebuild_report_folder

    if not args.report_dir.is_dir():
        raise InputError(f"{args.report_dir} is not a folder. Give a report folder made by analyze or run.")
    written = rebuild_report_folder(args.report_dir)
    if not args.quiet:
        print(f"rebuilt {', '.join(p.name for p in written)} in {args.report_dir}")
    return EXIT_OK


def run_batch_command(args: argparse.Namespace) -> int:
    import json

    from filmscore.batch.runner import (
        CACHE_FOLDER,
        BatchOptions,
        collect_inputs,
        default_jobs,
        run_batch,
        write_summary_html,
    )
    from filmscore.core.errors import EXIT_BATCH_PARTIAL

    chosen_settings(args, run_only=True)  # a bad option fails once, before any film
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be 1 or more")
    items = collect_inputs(args.inputs)
    if not items:
        raise UsageError("no video files found in the inputs given")
    check_writable(args.output_dir, "-o folder")
    opts = BatchOptions(
        out_dir=args.output_dir.resolve(),
        run_args=batch_run_args(args),
        jobs=args.jobs or default_jobs(),
        executor=args.executor,
        ray_address=args.ray_address,
        cache_dir=(args.cache_dir or args.output_dir / CACHE_FOLDER).resolve(),
        rescore=args.overwrite,
    )
    log = _BatchLog(len(items), quiet=args.quiet)
    manifest = run_batch(items, opts, log.record)
    write_summary_html(manifest, opts.out_dir)
    ours = [item.relative.as_posix() for item in items]
    log.close(manifest, ours)
    if args.json:
        print(json.dumps(manifest.as_dict(ours), indent=2))
    failed = any(manifest.records[name].status == "failed" for name in ours)
    return EXIT_BATCH_PARTIAL if failed else EXIT_OK


def batch_run_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The options a batch passes on to each film's `filmscore run`, from what was given."""
    from filmscore.config.settings import DEFAULT_PRESET, SETTINGS

    passed: list[str] = []
    if args.pipeline != DEFAULT_PRESET:
        preset = args.pipeline
        passed += ["--pipeline", str(Path(preset).resolve()) if preset.endswith(".toml") else preset]
    for setting in SETTINGS:
        value = getattr(args, setting.key, None) if setting.flag else None
        if value is not None:
            passed += [str(setting.flag), str(value)]
    if args.max_duration is not None:
        passed += ["--max-duration", str(args.max_duration)]
    passed += ["--stems"] * args.stems + ["--keep-original-audio"] * args.keep_original_audio
    return tuple(passed)


class _BatchLog:
    """A line on stderr per film as it ends, with the failures so far and an estimate of the time left;
    a table at the close."""

    def __init__(self, total: int, quiet: bool) -> None:
        import time

        self.total, self.quiet, self.started = total, quiet, time.monotonic()
        self.ended = self.failures = self.scored = 0

    def record(self, record: ItemRecord) -> None:
        import time

        status = record.status
        if status not in ("done", "failed", "skipped"):
            return
        self.ended += 1
        self.failures += status == "failed"
        self.scored += status != "skipped"
        left = self.total - self.ended
        elapsed = time.monotonic() - self.started
        eta = f", about {elapsed / self.scored * left:.0f} s left" if self.scored and left else ""
        if not self.quiet:
            note = f": {record.error}" if status == "failed" else ""
            print(f"[{self.ended}/{self.total}] {status} {record.relative}{note} "
                  f"({self.failures} failed so far{eta})", file=sys.stderr, flush=True)  # fmt: skip

    def close(self, manifest: Manifest, ours: list[str]) -> None:
        if self.quiet:
            return
        records = [manifest.records[name] for name in ours]
        width = max(len(r.relative) for r in records)
        for r in records:
            took = f"{r.seconds:7.1f} s" if r.seconds is not None else " " * 9
            print(f"  {r.relative:<{width}}  {r.status:<7}  {took}  {r.error or ''}", file=sys.stderr)
        counts = manifest.as_dict(ours)["summary"]
        print(f"batch: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed "
              f"-> {manifest.path}", file=sys.stderr)  # fmt: skip


def run_library(args: argparse.Namespace) -> int:
    from filmscore.music.generators.library import INDEX_NAME, index_library, library_summary
    from filmscore.music.mer import MER_BACKENDS

    if args.library_command is None:
        raise UsageError("say what to do with the library: filmscore library index DIR")

    def show(i: int, count: int, name: str) -> None:
        if not args.quiet:
            print(f"[{i + 1}/{count}] {name}", file=sys.stderr)

    index = index_library(args.folder, MER_BACKENDS.create("features"), show)
    if args.json:
        print((args.folder / INDEX_NAME).read_text())
    if not args.quiet:
        print(library_summary(index), file=sys.stderr)
    return EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    import json

    from filmscore.config import models

    if args.models_command is None:
        raise UsageError("say what to do with models: filmscore models list, pull NAME or verify")
    if args.models_command == "list":
        rows = [_model_row(spec) for spec in models.manifest()]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            _print_models(rows)
        return EXIT_OK
    if args.models_command == "pull":
        for name in args.names:
            path = models.pull(_named_model(name))
            if not args.quiet:
                print(f"{name}: ready in {path}", file=sys.stderr)
        return EXIT_OK
    specs = [_named_model(name) for name in args.names] or list(models.manifest())
    checked = 0
    for spec in specs:
        found = models.require_local(spec) if args.names else models.local_path(spec)
        if found is None:
            continue
        count = models.verify(spec, found)
        checked += 1
        if not args.quiet:
            print(f"{spec.name}: {count} file(s) match their checksums ({found})", file=sys.stderr)
    if not args.quiet:
        print(f"verified {checked} model(s)", file=sys.stderr)
    return EXIT_OK


def _named_model(name: str) -> Any:
    """A manifest model by name or hub id; another hub repository as a model of its own."""
    from filmscore.config import models

    spec = models.find_spec(name)
    if spec is not None:
        return spec
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return models.hub_model(name)
    raise UsageError(
        f"no model is called {name!r}; see `filmscore models list`, or give a hub id (owner/name)"
    )


def _model_row(spec: Any) -> dict[str, Any]:
    from filmscore.config import models

    path = models.local_path(spec)
    return {
        "name": spec.name,
        "task": spec.task,
        "backend": spec.backend,
        "size_mb": spec.size_mb,
        "languages": list(spec.languages),
        "licence": spec.licence,
        "commercial_use": spec.commercial,
        "embedded": spec.embedded,
        "extra": spec.extra,
        "present": path is not None,
        "path": str(path) if path else None,
    }


def _print_models(rows: list[dict[str, Any]]) -> None:
    print(f"{'NAME':<30} {'TASK':<16} {'BACKEND':<13} {'SIZE':>8}  {'COMES WITH':<14} {'LANGUAGES':<9} "
          f"{'HERE':<4}  LICENCE")  # fmt: skip
    for row in rows:
        size = f"{row['size_mb']:,.0f} MB" if row["size_mb"] else ""
        comes = (
            "filmscore" if row["embedded"] else f"[{row['extra']}] extra" if row["extra"] else "models pull"
        )
        languages = {(): "", ("*",): "99", ("en",): "English"}.get(tuple(row["languages"]), "")
        languages = languages or ", ".join(row["languages"])
        licence = row["licence"] if row["commercial_use"] else f"NON-COMMERCIAL: {row['licence']}"
        here = "yes" if row["present"] else "no"
        print(f"{row['name']:<30} {row['task']:<16} {row['backend']:<13} {size:>8}  {comes:<14} "
              f"{languages:<9} {here:<4}  {licence}")  # fmt: skip


COMMANDS = {
    "analyze": run_analyze,
    "run": run_score,
    "report": run_report,
    "batch": run_batch_command,
    "library": run_library,
    "models": run_models,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from filmscore.batch.runner import die_with_parent

    die_with_parent()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args)
    except FilmscoreError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"filmscore: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM through _terminate
        print("filmscore: interrupted; nothing half-written was kept.", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"filmscore: internal error: {type(exc).__name__}: {exc}. "
            "Run again with --debug and report it as a bug.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL

    finally:
        signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every cleanup on the way out runs: temp files removed, workers and
    child programs stopped."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


__all__ = ["UsageError", "main"]
