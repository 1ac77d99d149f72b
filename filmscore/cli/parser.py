"""The command line's grammar: the commands and their flags. A flag for each setting comes from the settings
table, with its default shown in --help; nothing here imports more than the table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from filmscore.core.errors import EXIT_USAGE
from filmscore.core.version import __version__


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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    analyze = commands.add_parser(
        "analyze",
        parents=[common],
        help="write a per-shot emotion report of a film",
        description="Read a film's dialogue, pictures and sound, and write a per-shot emotion report.",
    )
    groups = _film_arguments(analyze, run_only=False)
    groups[INPUT_OUTPUT].add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="where report.json goes (default: INPUT_STEM.filmscore/)",
    )
    run = commands.add_parser(
        "run",
        parents=[common],
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
    groups = _film_arguments(run, run_only=True)
    groups[INPUT_OUTPUT].add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="the scored film (default: INPUT_STEM.scored.mp4 beside the input)")  # fmt: skip
    groups[INPUT_OUTPUT].add_argument("--report-dir", type=Path, metavar="DIR",
                     help="report folder (default: OUTPUT_STEM.filmscore/ beside the output)")  # fmt: skip
    groups[EDITORS].add_argument("--previous", type=Path, metavar="DIR",
                     help="the report folder of an earlier cut of this film: its cues whose shots all came "
                     "back, in order and at their lengths, are kept note for note")  # fmt: skip
    batch = commands.add_parser(
        "batch",
        parents=[common],
        help="score many films: folders of rushes, or @lists, in parallel and resumably",
        description=(
            "Score every video in the files, folders (searched recursively) and @lists given, each as "
            "`filmscore run` would, with outputs mirroring the input tree under -o. A bad film is recorded "
            "in OUTDIR/batch.json and the rest go on; re-running the same command skips films already done."
        ),
    )
    _batch_arguments(batch)
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
    _cache_arguments(commands, common)
    return parser


def _cache_arguments(commands: Any, common: argparse.ArgumentParser) -> None:
    cache = commands.add_parser(
        "cache",
        help="show or clear the readings and renders kept for the next run",
        description=(
            "`analyze` and `run` keep each film's reading and each cue's render in a cache folder "
            "($XDG_CACHE_HOME/filmscore, else ~/.cache/filmscore, or --cache-dir), so another try with "
            "another style, seed, take or spotting skips the work already done. It is bounded by the "
            "setting cache.max_gb (--cache-max-gb): past it, the least recently used go."
        ),
    )
    cache.set_defaults(quiet=False, debug=False)
    actions = cache.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=_Parser)
    for name, what in (
        ("info", "where the cache is, and what it holds"),
        ("clear", "remove everything kept"),
    ):
        action = actions.add_parser(
            name, parents=[common], help=what, description=f"The cache folder: {what}."
        )
        action.add_argument(
            "--cache-dir", type=Path, metavar="DIR", help="a cache folder other than the user's"
        )


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


# The help's sections, by what a user is doing.
INPUT_OUTPUT, READING, MUSIC, MIX, EDITORS, BATCH = (
    "input and output",
    "the reading",
    "the music",
    "the mix",
    "the editor's files",
    "batch",
)
SECTION_OF_SETTING = {
    "analysis": READING,
    "models": READING,
    "music": MUSIC,
    "mix": MIX,
    "cues": EDITORS,
    "cache": READING,
}
SECTION_OF_KEY = {"analysis.cuts": EDITORS}  # the editor's cut list sits with the editor's other files


def _film_arguments(
    parser: argparse.ArgumentParser, run_only: bool, with_input: bool = True
) -> dict[str, Any]:
    """The flags of a command that reads films (and with `run_only`, scores them), in the help's
    sections: input and output, the reading, the music, the mix, the editor's files."""
    from filmscore.config.settings import DEFAULT_PRESET, preset_names

    names = (INPUT_OUTPUT, READING, MUSIC, MIX, EDITORS) if run_only else (INPUT_OUTPUT, READING, EDITORS)
    groups = {name: parser.add_argument_group(name) for name in names}
    put = groups[INPUT_OUTPUT]
    if with_input:
        put.add_argument("input", type=Path, metavar="INPUT", help="the video file")
    put.add_argument(
        "--pipeline",
        default=DEFAULT_PRESET,
        metavar="NAME_OR_FILE",
        help=f"a preset of settings ({', '.join(preset_names())}; filmscore/config/presets/, or "
        f"$FILMSCORE_PIPELINES) or a .toml file; flags override it (default {DEFAULT_PRESET})",
    )
    put.add_argument("--overwrite", action="store_true", help="replace outputs left by an earlier run")
    put.add_argument("--max-duration", type=float, metavar="SECONDS",
                     help="refuse films longer than this (a resource guard)")  # fmt: skip
    _setting_arguments(groups, run_only)
    groups[READING].add_argument("--cache-dir", type=Path, metavar="DIR",
                                 help="keep and reuse readings and renders here (default "
                                 "$XDG_CACHE_HOME/filmscore, else ~/.cache/filmscore)")  # fmt: skip
    groups[READING].add_argument("--no-cache", action="store_true",
                                 help="read the film and render the music afresh; keep nothing")  # fmt: skip
    if run_only:
        put.add_argument("--stems", action="store_true",
                         help="also write stems/: a WAV per instrument and the original sound")  # fmt: skip
        put.add_argument("--keep-original-audio", action="store_true",
                         help="add the untouched original soundtrack as a second audio track")  # fmt: skip
    return groups


def _batch_arguments(batch: argparse.ArgumentParser) -> None:
    group = batch.add_argument_group(BATCH)
    group.add_argument("inputs", nargs="+", metavar="INPUT", help="a video, a folder, or @list.txt")
    group.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
                       help="where the scored films, reports, batch.json and batch.html go")  # fmt: skip
    group.add_argument("--jobs", type=int, metavar="N",
                       help="films scored at once here (default: what the cores and memory fit)")  # fmt: skip
    group.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="warm workers on this machine, or Ray actors (default local)")  # fmt: skip
    group.add_argument("--film-timeout", type=float, metavar="SECONDS",
                       help="stop a film that takes longer, and go on with the next (default: 600 s "
                            "plus 60 s per second of film)")  # fmt: skip
    group.add_argument("--ray-address", metavar="ADDR",
                       help="a Ray cluster to join (default: start one on this machine)")  # fmt: skip
    group.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    _film_arguments(batch, run_only=True, with_input=False)


def _setting_arguments(groups: dict[str, Any], run_only: bool) -> None:
    """A flag for each setting that has one, in its section. Its default is None, meaning "as the preset
    says", so the help shows the built-in default instead."""
    from filmscore.config.settings import SETTINGS

    for setting in SETTINGS:
        if setting.flag and (run_only or not setting.run_only):
            shown = setting.default_text or ("none" if setting.default is None else setting.default)
            section = SECTION_OF_KEY.get(setting.key, SECTION_OF_SETTING[setting.key.split(".")[0]])
            groups[section].add_argument(
                setting.flag,
                dest=setting.key,
                type=setting.kind,
                metavar=setting.metavar,
                help=f"{setting.help} (default {shown})",
            )
