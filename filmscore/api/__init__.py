"""The public Python API: `analyze`, `score` and `read_report`, with the settings named as the command line
and the presets name them. The command line is a caller of these; so is anyone scoring from a render farm,
a notebook or an editing system's plug-in. See docs/api.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmscore.api.preflight import (
    check_free_space,
    check_report_dir,
    check_writable,
    load_cut_list,
    load_spotting,
    positive,
    sweep_leftovers,
)
from filmscore.core.errors import UsageError
from filmscore.core.progress import Progress

if TYPE_CHECKING:
    from filmscore.analysis.flow import Analysis
    from filmscore.core.cache import CacheUsage
    from filmscore.media.probe import MediaInfo
    from filmscore.report.model import Report
    from filmscore.scoring.recut import EarlierCut
    from filmscore.scoring.run import ScoredFilm

DEFAULT_PIPELINE = "embedded"
ProgressHook = Progress | Callable[[str, float], None]
_LOG = logging.getLogger("filmscore")


def option_names(run_only: bool = True) -> list[str]:
    """The settings `analyze` (run_only False) or `score` take as keyword arguments: each command-line
    flag's name with underscores (--duck-db is duck_db)."""
    from filmscore.config.settings import SETTINGS

    return [option_name(s.flag) for s in SETTINGS if s.flag and (run_only or not s.run_only)]


def option_name(flag: str) -> str:
    """A command-line flag's name as the API takes it: --duck-db is duck_db."""
    return flag.lstrip("-").replace("-", "_")


def resolved_settings(pipeline: str, options: Mapping[str, Any], run_only: bool) -> dict[str, Any]:
    """Every setting's value: the preset (a name or a file), overridden by the options given (not None),
    checked; under "pipeline", the preset's name. An unknown option is a UsageError naming the valid ones."""
    from filmscore.config.settings import SETTINGS, load_preset, resolve

    by_name = {option_name(s.flag): s for s in SETTINGS if s.flag}
    for name in options:
        if name not in by_name:
            raise UsageError(f"there is no option {name!r}. Use one of {', '.join(sorted(by_name))}")
        if by_name[name].run_only and not run_only and options[name] is not None:
            raise UsageError(f"{name} is a setting of the music, which analyze does not write")
    flags = {by_name[name].key: value for name, value in options.items()}
    preset = load_preset(pipeline)
    return {**resolve(preset, flags), "pipeline": preset.name}


def analyze(
    path: str | Path,
    *,
    report_dir: str | Path | None = None,
    pipeline: str = DEFAULT_PIPELINE,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    max_duration: float | None = None,
    overwrite: bool = False,
    progress: ProgressHook | None = None,
    say: Callable[[str], None] | None = None,
    **options: Any,
) -> Analysis:
    """A film's reading: its shots, transcript, per-shot emotion and timeline. With `report_dir`, the
    report folder too (report.json, report.html, the editors' files), as `filmscore analyze` writes it.
    `options` are the reading's settings (text_emotion="auto", analysis_width=320, spotting=...). The
    reading is kept in the cache folder as `score` keeps it, and a run takes it from there."""
    from filmscore.analysis.cache import cached_analysis
    from filmscore.core.atomic import existing_folder, output_lock
    from filmscore.media.probe import check_input_path, probe
    from filmscore.report.document import write_report
    from filmscore.scoring.options import analysis_choices, analyze_options, check_models

    settings = resolved_settings(pipeline, options, run_only=False)
    film = check_input_path(Path(path))
    kept = cache_folder(cache_dir, cache)
    target = None
    if report_dir is not None:
        target = check_report_dir(Path(report_dir), film, overwrite)
        sweep_leftovers(target, target.parent, kept)
    info = probe(film)
    spotting = load_spotting(settings["cues.spotting"], info, say, settings["cues.tc_start"])
    cut_list = load_cut_list(settings["analysis.cuts"], info, say, settings["cues.tc_start"])
    choices = analysis_choices(settings)
    _say_choices(choices, say)
    opts = analyze_options(settings, choices, positive(max_duration, "--max-duration"))
    opts = replace(opts, shots=replace(opts.shots, cut_list=cut_list))
    check_models(opts)
    hook = _hook(progress)
    if target is None:
        with hook:
            analysis = cached_analysis(film, opts, hook, kept)
    else:
        # The speech track's work file goes beside the report, on the disk the user chose for it.
        with output_lock(target), hook:
            analysis = cached_analysis(film, opts, hook, kept, existing_folder(target.parent))
            with hook.stage("report"):
                write_report(analysis, target, overwrite, spotting)
    _trim_cache(kept, settings["cache.max_gb"])
    return analysis


def score(
    path: str | Path,
    output: str | Path | None = None,
    *,
    report_dir: str | Path | None = None,
    pipeline: str = DEFAULT_PIPELINE,
    previous: str | Path | None = None,
    stems: bool = False,
    keep_original_audio: bool = False,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    max_duration: float | None = None,
    overwrite: bool = False,
    progress: ProgressHook | None = None,
    say: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    **options: Any,
) -> ScoredFilm:
    """The scored film: music that follows the film's reading, mixed under its dialogue and muxed into a
    copy of it (`output`, by default INPUT_STEM.scored.mp4 beside it), with its report folder (by default
    OUTPUT_STEM.filmscore/), as `filmscore run` writes them. `options` are every setting of the reading
    and the music (style="piano", seed=7, loudness="web", duck_db=12, spotting="cues.csv", ...). `say`
    hears what a person may like to know (what "auto" chose, a spotting's left-out markers), `warn` what
    loses data (a stream the output cannot hold; by default a logging warning). The film's reading and
    the cues' renders are kept in `cache_dir` (by default the user's cache folder, see cache_folder) for
    the next run, and taken from there when they were made before; `cache=False` keeps and takes
    nothing."""
    from filmscore.core.workers import audio_helper
    from filmscore.delivery.mix import helper_warm_up

    settings = resolved_settings(pipeline, options, run_only=True)
    # The audio helper starts before anything else: its librosa import (about 1.3 s of a core) overlaps
    # this process's own imports and checks, which leave the second core idle.
    with audio_helper(helper_warm_up) as helper:
        request = _ScoreRequest(Path(path), _path(output), _path(report_dir), _path(previous), stems,
                                keep_original_audio, cache_folder(cache_dir, cache), max_duration,
                                overwrite)  # fmt: skip
        scored = _score(request, settings, _hook(progress), _Voices(say, warn or _note), helper)
    _trim_cache(request.cache_dir, settings["cache.max_gb"])
    return scored


def cache_folder(cache_dir: str | Path | None = None, cache: bool = True) -> Path | None:
    """Where a run keeps and finds its readings and renders: `cache_dir`, else the user's cache folder
    ($XDG_CACHE_HOME/filmscore, else ~/.cache/filmscore); None with `cache` False."""
    from filmscore.core.cache import default_cache_dir

    if not cache:
        if cache_dir is not None:
            raise UsageError("--cache-dir and --no-cache were both given. Give one of them")
        return None
    return Path(cache_dir).absolute() if cache_dir is not None else default_cache_dir()


def cache_info(cache_dir: str | Path | None = None) -> CacheUsage:
    """What the cache folder (`cache_dir`, else the user's) holds: files and bytes, by kind."""
    from filmscore.core.cache import default_cache_dir, usage

    return usage(cache_folder(cache_dir) or default_cache_dir())


def clear_cache(cache_dir: str | Path | None = None) -> CacheUsage:
    """Remove everything the cache folder holds; what was removed. Nothing else in the folder is
    touched (only files named as filmscore names its entries)."""
    from filmscore.core.cache import clear, default_cache_dir

    return clear(cache_folder(cache_dir) or default_cache_dir())


def _trim_cache(folder: Path | None, max_gb: float) -> None:
    """The cache folder brought back within its bound, least recently used first."""
    from filmscore.core.cache import GB, trim

    if folder is not None:
        trim(folder, round(max_gb * GB))


def read_report(folder: str | Path) -> Report:
    """A report folder's report.json, checked against its schema (generated from its types in
    filmscore/report/model.py) and read into those types."""
    from filmscore.report.document import read_report as read

    return read(Path(folder))


@dataclass(frozen=True)
class _ScoreRequest:
    """What `score` was asked besides the settings."""

    path: Path
    output: Path | None
    report_dir: Path | None
    previous: Path | None
    stems: bool
    keep_original_audio: bool
    cache_dir: Path | None
    max_duration: float | None
    overwrite: bool


def _score(
    request: _ScoreRequest,
    settings: dict[str, Any],
    hook: Progress,
    voices: _Voices,
    helper: Any,
) -> ScoredFilm:
    from filmscore.config.names import default_report_dir
    from filmscore.core.atomic import output_lock
    from filmscore.delivery.mux import check_output, default_output, left_out_note
    from filmscore.media.probe import probe
    from filmscore.report.document import stage_scored_report
    from filmscore.scoring import options
    from filmscore.scoring.run import score_film

    info = probe(request.path)
    # Absolute, so report.json names the outputs wherever it is read from (the timeline's links need it).
    wanted = (request.output or default_output(info)).absolute()
    output = check_output(wanted, info, request.overwrite, request.keep_original_audio)
    _check_places(info, output, request, settings["music.takes"])
    if request.output is None and output.suffix != ".mp4" and voices.say is not None:
        cannot = _what_mp4_cannot_hold(info)
        voices.say(f"MP4 cannot hold {cannot} as it is, so the scored film is {output.name}; every stream is "
                   "copied as it is.")  # fmt: skip
    if (dropped := left_out_note(info, output)) is not None:
        voices.warn(f"note: {dropped}")
    report_dir = check_report_dir(
        (request.report_dir or default_report_dir(output)).absolute(), info.path, request.overwrite
    )
    if report_dir.resolve() == output.resolve():
        raise UsageError(
            "the report folder and the output film are the same path. Choose another --report-dir"
        )
    sweep_leftovers(report_dir, output.parent, request.cache_dir)
    spotting = load_spotting(settings["cues.spotting"], info, voices.say, settings["cues.tc_start"])
    cut_list = load_cut_list(settings["analysis.cuts"], info, voices.say, settings["cues.tc_start"])
    generator = options.generator_choice(settings)
    choices = options.analysis_choices(settings)
    _say_choices({"generator": generator, **choices}, voices.say)
    analysis = options.analyze_options(settings, choices, positive(request.max_duration, "--max-duration"))
    analysis = replace(analysis, shots=replace(analysis.shots, cut_list=cut_list))
    opts = options.run_options(settings, analysis, generator, request.keep_original_audio, request.stems,
                               request.cache_dir, request.overwrite)  # fmt: skip
    opts = replace(opts, spotting=spotting, previous=_previous(request.previous))
    options.check_models(opts.analyze, (opts.generator, opts.generator_model))
    with output_lock(output, report_dir), hook:
        return score_film(info.path, output, report_dir, opts, hook, helper, stage_scored_report)


@dataclass(frozen=True)
class _Voices:
    """Where `score` tells what it notices: `say` (or nobody) for news, `warn` for what loses data."""

    say: Callable[[str], None] | None
    warn: Callable[[str], None]


def _check_places(info: MediaInfo, output: Path, request: _ScoreRequest, takes: int) -> None:
    from filmscore.scoring.run import work_space_bytes

    check_writable(output.parent, "-o folder")
    work = work_space_bytes(info.duration_s, request.stems, takes)
    check_free_space(output.parent, work + info.path.stat().st_size)


def _previous(folder: Path | None) -> EarlierCut | None:
    """The earlier cut whose cues a re-cut keeps (--previous), read and checked before any work."""
    from filmscore.report.earlier_cut import earlier_cut

    return earlier_cut(folder) if folder is not None else None


def _what_mp4_cannot_hold(info: MediaInfo) -> str:
    from filmscore.delivery.mux import MP4_VIDEO, left_out

    if info.video_codec not in MP4_VIDEO:
        return f"{info.video_codec} video"
    return ", ".join(stream.describe() for stream in left_out(info, ".mp4"))


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


def _hook(progress: ProgressHook | None) -> Progress:
    """A progress hook: the one given, a callable of (stage, fraction) wrapped as one, or a silent one."""
    if progress is None:
        return Progress()
    if isinstance(progress, Progress):
        return progress
    return _CallbackProgress(progress)


class _CallbackProgress(Progress):
    """Progress told to a callable as (stage, fraction done): 0 when a stage starts, 1 when it ends."""

    def __init__(self, callback: Callable[[str, float], None]) -> None:
        super().__init__()
        self.callback = callback

    def started(self, name: str) -> None:
        self.callback(name, 0.0)

    def update(self, name: str, fraction: float) -> None:
        self.callback(name, fraction)

    def finished(self, name: str, seconds: float) -> None:
        self.callback(name, 1.0)


def _note(text: str) -> None:
    _LOG.warning("%s", text)


def _say_choices(choices: Mapping[str, Any], say: Callable[[str], None] | None) -> None:
    """What "auto" chose for each backend, and why."""
    for kind, choice in choices.items():
        if choice.why and say is not None:
            say(f"--{kind.replace('_', '-')} {choice.why}")
