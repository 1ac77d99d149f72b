"""One table of the settings a user can choose, with their defaults and valid ranges: the one home of every
default. The stages' options take their defaults from it (`default`), and the command line and the
pipeline presets (TOML, in presets/ and $FILMSCORE_PIPELINES) are checked against it.

A value comes from, in rising order: the table's default, the preset, the command-line flag. A preset is a
TOML file of sections named after the first part of each key:

    description = "What this preset is for"
    [analysis]
    shot_detector = "content"
    [mix]
    loudness = "web"
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmscore.config import backends
from filmscore.config.names import STYLE_NAMES
from filmscore.core.errors import FilmscoreError, InputError, UsageError
from filmscore.core.registry import Registry
from filmscore.core.wording import MAX_VALUE, number, one_line, quoted

# Bundled presets live beside the package in the repository; FILMSCORE_PIPELINES adds a studio's own folder.
BUNDLED_PRESETS = Path(__file__).resolve().parent / "presets"
PRESETS_ENV = "FILMSCORE_PIPELINES"
DEFAULT_PRESET = "embedded"
MAX_PRESET_BYTES = 64 * 1024  # a preset is a few lines; anything larger is not one


@dataclass(frozen=True)
class Setting:
    key: str  # "section.name", as written in a preset
    kind: type  # str, int, float or bool
    default: Any  # None: unset, the stage decides
    help: str
    flag: str | None = None  # the command-line flag that overrides the preset, if any
    choices: Callable[[], list[str]] | None = None  # the valid names, looked up only when checked
    low: float | None = None  # inclusive range for numbers
    high: float | None = None
    check: Callable[[Any], Any] | None = None  # a parser that raises UsageError on a bad value
    run_only: bool = False  # a setting of the score, unused by `analyze`
    metavar: str = "NAME"  # how the flag's value is shown in --help
    default_text: str | None = None  # how --help names the default, where None means more than "none"


LOUDNESS_TARGETS = {"ebu": -23.0, "atsc": -24.0, "web": -16.0, "streaming": -14.0}  # LUFS, by delivery spec
LOUDNESS_RANGE = (-40.0, -5.0)  # targets outside this are typing mistakes, not delivery specs
AUTO = "auto"  # a backend setting's "a model backend where its model is here, else the embedded one"


def _names(registry: Registry[Any], *more: str) -> Callable[[], list[str]]:
    """A registry's backends, and the other words the setting takes, looked up when a value is checked."""
    return lambda: [*registry.names(), *more]


def parse_loudness(text: str) -> float:
    """A delivery spec's name (ebu, atsc, web, streaming) or a number in LUFS."""
    key = text.strip().lower()
    if key in LOUDNESS_TARGETS:
        return LOUDNESS_TARGETS[key]
    try:
        value = float(key.removesuffix("lufs").removesuffix("lkfs").strip())
    except ValueError:
        raise UsageError(
            f"--loudness {quoted(text)} is neither a preset ({', '.join(LOUDNESS_TARGETS)}) "
            "nor a number like -23"
        ) from None
    low, high = LOUDNESS_RANGE
    if not (low <= value <= high) or math.isnan(value):
        raise UsageError(
            f"--loudness {number(value)} LUFS is out of range; "
            f"give a target from {number(low)} to {number(high)}"
        )
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("analysis.shot_detector", str, "layered", "cut detector: filmscore's own, or PySceneDetect's",
            "--shot-detector", choices=_names(backends.SHOT_DETECTORS)),
    Setting("analysis.asr", str, "whisper", "speech recognition backend", "--asr",
            choices=_names(backends.ASR, AUTO)),
    Setting("analysis.asr_model", str, None, "the ASR backend's model: a path or an id", "--asr-model",
            metavar="PATH_OR_ID", default_text="the backend's own"),
    Setting("analysis.language", str, None, "the dialogue's language: an ISO 639-1 code, or auto for Whisper "
            "to detect it; other than en needs the multilingual extra", "--language", metavar="CODE",
            default_text="en"),
    Setting("analysis.text_emotion", str, "lexicon", "text emotion backend", "--text-emotion",
            choices=_names(backends.TEXT_EMOTION, AUTO)),
    Setting("analysis.text_emotion_model", str, None, "the text emotion backend's model: a path or a name",
            "--text-emotion-model", metavar="PATH_OR_ID", default_text="the backend's own"),
    Setting("analysis.visual_emotion", str, "features", "visual emotion backend", "--visual-emotion",
            choices=_names(backends.VISUAL_EMOTION, AUTO)),
    Setting("analysis.visual_emotion_model", str, None, "the visual emotion backend's model: a path or a "
            "name", "--visual-emotion-model", metavar="PATH_OR_ID", default_text="the backend's own"),
    Setting("analysis.face_model", str, None, "a facial-expression model for --visual-emotion clip: a path "
            "or a name", "--face-model", metavar="PATH_OR_ID"),
    Setting("models.device", str, "auto", "where neural backends run: auto (a GPU if torch sees one), cpu "
            "or cuda", "--device", choices=lambda: ["auto", "cpu", "cuda"], metavar="DEVICE"),
    Setting("analysis.width", int, 256, "width of the shared analysis frames, in pixels", "--analysis-width",
            low=64, high=1920, metavar="PIXELS"),
    Setting("analysis.max_fps", float, 60.0, "analysis frame rate cap: frames above it are skipped",
            "--analysis-fps", low=1, high=240, metavar="FPS"),
    Setting("cues.min_cue_s", float, 4.0, "shortest cue, in seconds", low=1, high=600, run_only=True),
    Setting("cues.max_cue_s", float, 75.0, "longest cue, in seconds", low=4, high=3600, run_only=True),
    Setting("analysis.cuts", str, None, "the editor's cut list: an EDL, FCP 7 XML, FCPXML or OTIO of the "
            "cut, or a folder holding one per film, named after it; its edits are the shots", "--cuts",
            metavar="FILE"),
    Setting("cues.tc_start", str, None, "the time code the editor's sequence starts at, for an EDL given "
            "to --spotting or --cuts (HH:MM:SS:FF; ';' for drop-frame); by default its first event's hour",
            "--tc-start", metavar="TIMECODE"),
    Setting("cues.spotting", str, None, "the editor's spotting: a CSV (start,end,mood), an EDL, OTIO or "
            "FCP 7 XML file of markers, or a folder holding one per film, named after it", "--spotting",
            metavar="FILE"),
    Setting("music.generator", str, "symbolic", "music generator backend", "--generator", run_only=True,
            choices=_names(backends.GENERATORS, AUTO)),
    Setting("music.generator_model", str, None, "the music generator's model: a path or a name",
            "--generator-model", run_only=True, metavar="PATH_OR_ID", default_text="the backend's own"),
    Setting("music.style", str, STYLE_NAMES[0], "the score's orchestra and room: "
            f"{', '.join(STYLE_NAMES)}", "--style", run_only=True, choices=lambda: list(STYLE_NAMES),
            metavar="STYLE"),
    Setting("music.genre", str, None, "the genre MusicGen is asked for in each cue's prompt "
            "(orchestral, ambient electronic, jazz, ...)", "--genre", run_only=True, metavar="GENRE",
            default_text="the style's"),
    Setting("music.precision", str, "int8", "MusicGen on a CPU: int8 (decoder quantised, about 3x faster) or "
            "float32 (as trained); a GPU always runs float32", "--precision", run_only=True,
            choices=lambda: ["int8", "float32"], metavar="P"),
    Setting("music.soundfont", str, None, "a General MIDI SoundFont (.sf2/.sf3) for the symbolic generator",
            "--soundfont", run_only=True, metavar="FILE"),
    Setting("music.seed", int, 0, "the same seed gives the same music", "--seed", low=0, high=2**32 - 1,
            run_only=True, metavar="N"),
    Setting("music.library", str, None, "a folder of your music, indexed with `filmscore library index`, "
            "for --generator library", "--library", run_only=True, metavar="DIR"),
    Setting("music.mer", str, "features", "music emotion backend that checks each cue against its target "
            "(none: no check)", "--mer", run_only=True, choices=_names(backends.MER, backends.NO_MER)),
    Setting("music.candidates", int, 1, "scores to generate (seeds seed, seed+1, ...); the closest to the "
            "plan is kept", "--candidates", low=1, high=16, run_only=True, metavar="N"),
    Setting("music.takes", int, 1, "takes of each cue to choose from (a, b, ...): the others are written as "
            "cues/cue-NN-b.wav, ..., and the spotting CSV's take column chooses", "--takes", low=1, high=8,
            run_only=True, metavar="N"),
    Setting("mix.loudness", str, "ebu", "loudness target: ebu (-23 LUFS), atsc (-24), web (-16), "
            "streaming (-14), or a number in LUFS", "--loudness", check=parse_loudness, run_only=True,
            metavar="TARGET"),
    Setting("mix.duck_db", float, 10.0, "how much quieter the music is under dialogue, in dB", "--duck-db",
            low=0, high=40, run_only=True, metavar="DB"),
    Setting("mix.speech_cut_db", float, 5.0, "how far the music dips at 2 kHz under dialogue (a broad cut "
            "of the speech band, 1 to 4 kHz), in dB; 0 for none", "--speech-cut-db", low=0, high=24,
            run_only=True, metavar="DB"),
    Setting("cache.max_gb", float, 8.0, "the most the cache folder holds (films' readings, cues' renders), "
            "in GB: past it, the least recently used go", "--cache-max-gb", low=0, high=100_000,
            metavar="GB"),
)  # fmt: skip
BY_KEY = {setting.key: setting for setting in SETTINGS}


def default(key: str) -> Any:
    """A setting's default: what an options dataclass starts from."""
    return BY_KEY[key].default


SECTIONS = tuple(dict.fromkeys(setting.key.partition(".")[0] for setting in SETTINGS))


@dataclass(frozen=True)
class Preset:
    name: str  # the preset's name, or its file's path
    description: str
    values: Mapping[str, Any]  # checked values by key; keys the preset leaves out are absent


def validate(setting: Setting, value: Any, label: str | None = None) -> Any:
    """The value, in the setting's type, or UsageError saying what is wrong and what would be right.
    `label` names the value in the message (a flag); the preset key by default."""
    label = label or setting.key
    value = _typed(setting, value, label)
    if setting.choices is not None and value not in (names := setting.choices()):
        raise UsageError(f"{label} {quoted(value)} is not known; choose one of {', '.join(names)}")
    low, high = setting.low, setting.high
    if low is not None and high is not None and not low <= value <= high:
        raise UsageError(f"{label} {number(value)} is out of range; give {number(low)} to {number(high)}")
    if setting.check is not None:
        setting.check(value)
    return value


def _typed(setting: Setting, value: Any, label: str) -> Any:
    kind = setting.kind
    # bool is an int in Python, and TOML tells them apart: `seed = true` is a mistake, not 1.
    if isinstance(value, bool) and kind is not bool:
        raise UsageError(f"{label} must be {_kind_name(kind)}, not a true/false value")
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise UsageError(f"{label} must be {_kind_name(kind)}, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{label} must be a finite number")
    if isinstance(value, str) and not value.strip():
        raise UsageError(f"{label} must not be empty")
    return value


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}[kind]


def preset_names() -> list[str]:
    """Every preset found by name: the bundled ones and those in $FILMSCORE_PIPELINES."""
    return sorted({path.stem for folder in _preset_folders() for path in folder.glob("*.toml")})


def _preset_folders() -> list[Path]:
    extra = os.environ.get(PRESETS_ENV)
    return ([Path(extra)] if extra else []) + [BUNDLED_PRESETS]


def find_preset(name_or_file: str) -> Path:
    """A preset by name (a user's folder first, then the bundled ones) or by path to a .toml file."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or os.sep in name_or_file:
        if not path.is_file():
            raise UsageError(f"--pipeline {name_or_file}: no such preset file")
        return path
    for folder in _preset_folders():
        candidate = folder / f"{name_or_file}.toml"
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"unknown pipeline {quoted(name_or_file)}; choose one of {', '.join(preset_names())}, or a .toml file"
    )


def load_preset(name_or_file: str) -> Preset:
    path = find_preset(name_or_file)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_PRESET_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the pipeline preset {path}: {exc.strerror}") from None
    name = path.stem if path.parent == BUNDLED_PRESETS else str(path)
    return parse_preset(data, name)


def parse_preset(data: bytes, name: str) -> Preset:
    """Check a preset's text: TOML, known sections and keys, typed values in range. Any fault is an input
    error (exit 3) naming the preset and the key."""
    try:
        if len(data) > MAX_PRESET_BYTES:
            raise UsageError(f"it is over {MAX_PRESET_BYTES // 1024} KiB, which no preset needs")
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"it is not valid UTF-8 TOML ({one_line(str(exc), MAX_VALUE)})") from None
        except RecursionError:  # tomllib recurses once per nested table or array
            raise UsageError("it nests tables or arrays deeper than any preset does") from None
        description = document.pop("description", "")
        if not isinstance(description, str):
            raise UsageError("description must be a string")
        values = _preset_values(document)
        _check_together({**{setting.key: setting.default for setting in SETTINGS}, **values})
        return Preset(name, description, values)
    except FilmscoreError as exc:
        raise InputError(
            f"pipeline preset {name}: {exc}. Fix the file, or choose another --pipeline."
        ) from None


def _preset_values(document: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for section, table in document.items():
        if section not in SECTIONS or not isinstance(table, dict):
            raise UsageError(
                f"[{one_line(section, MAX_VALUE)}] is not a section; the sections are {', '.join(SECTIONS)}"
            )
        for name, value in table.items():
            key = f"{section}.{name}"
            if key not in BY_KEY:
                known = [k.partition(".")[2] for k in BY_KEY if k.startswith(f"{section}.")]
                raise UsageError(
                    f"{one_line(key, MAX_VALUE)} is not a setting; [{section}] takes {', '.join(known)}"
                )
            values[key] = validate(BY_KEY[key], value)
    return values


def _check_together(values: Mapping[str, Any]) -> None:
    """Rules between settings."""
    shortest, longest = values["cues.min_cue_s"], values["cues.max_cue_s"]
    if shortest > longest:
        raise UsageError(f"cues.min_cue_s {number(shortest)} is longer than cues.max_cue_s {number(longest)}")


def resolve(preset: Preset, flags: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's value: the flag where given (not None), else the preset's, else the default."""
    resolved = {setting.key: setting.default for setting in SETTINGS}
    resolved.update(preset.values)
    for key, value in flags.items():
        if value is not None:
            resolved[key] = validate(BY_KEY[key], value, BY_KEY[key].flag)
    return resolved
