"""report.json, defined once: the typed report every report module builds and reads, in the order its
keys are written. The JSON Schema (report/schema.py) is generated from these types, their constraints
are the `Annotated` extras and each field's `schema` metadata, and core/codec.py writes and reads them.

A field marked `OMIT_NONE` is left out where it is None (a report from `analyze` has no cues); a shot's
`cue_id` and `earlier_shot` are written with the report's cues and re-cut facts, where null has a
meaning of its own (a silent shot, a shot the earlier cut did not have)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Annotated, Any

from filmscore.core.affect import Mood
from filmscore.core.codec import OMIT_NONE, REST, to_plain
from filmscore.music.planning.types import CLOSE, FILM_END, JOIN
from filmscore.music.spotting import AUTO, NONE
from filmscore.music.styles import STYLES
from filmscore.scoring.recut import FATES


@dataclass(frozen=True, eq=False)
class Rule:
    """Constraints a type adds to its schema node (hashable by identity, as `Annotated` needs)."""

    constraints: dict[str, Any]


SCHEMA_VERSION = 1
WRITTEN_WITH = "written_with"  # field metadata: the report part a shot's field is written with
MOST_ITEMS = 10_000_000  # a bound on every count, so a hostile report cannot ask for unbounded work
Unit = Annotated[float, Rule({"minimum": -1, "maximum": 1})]
Share = Annotated[float, Rule({"minimum": 0, "maximum": 1})]
Seconds = Annotated[float, Rule({"minimum": 0})]
Count = Annotated[int, Rule({"minimum": 0, "maximum": MOST_ITEMS})]
Row = Annotated[str, Rule({"maxLength": 1000})]
SpotMood = Annotated[str, Rule({"enum": [*Mood, AUTO]})]
RangeMood = Annotated[str, Rule({"enum": [*Mood, AUTO, NONE]})]
Mode = Annotated[str, Rule({"enum": ["major", "minor"]})]
TakeName = Annotated[str, Rule({"pattern": "^([a-z]|[0-9]{1,10})$"})]  # a letter, or a seed


def schema(description: str = "", **constraints: Any) -> Any:
    """Field metadata: the field's description and constraints in the generated schema."""
    return {"schema": {**({"description": description} if description else {}), **constraints}}


def omitted(description: str = "") -> dict[str, Any]:
    """Field metadata: left out of the JSON where it is None, with its description."""
    return {OMIT_NONE: True, **schema(description)}


def written_with(part: str, description: str) -> dict[str, Any]:
    """Field metadata: written (null included) exactly when the report has `part`."""
    return {WRITTEN_WITH: part, **schema(description)}


@dataclass(frozen=True)
class Film:
    path: str
    duration_s: float = field(metadata=schema(
        "Seconds; at most a week, which no film reaches (a bound, so a hostile report cannot make the "
        "pages grow without limit).", exclusiveMinimum=0, maximum=604800))  # fmt: skip
    width: int = field(metadata=schema(minimum=1, maximum=65536))
    height: int = field(metadata=schema(minimum=1, maximum=65536))
    fps: float = field(metadata=schema(exclusiveMinimum=0, maximum=1_000_000))
    has_audio: bool
    rotation: Annotated[int, Rule({"enum": [0, 90, 180, 270]})] = 0
    variable_frame_rate: bool = False


@dataclass(frozen=True)
class Source:
    """One source's reading of a shot."""

    valence: Unit
    arousal: Unit
    weight: Share


@dataclass(frozen=True)
class Sources:
    text: Source | None
    visual: Source | None
    audio: Source | None


@dataclass(frozen=True)
class Sound:
    level_dbfs: float
    speech_s: Seconds
    pitch_hz: float | None
    words_per_s: float | None
    envelope_db: tuple[float, ...]


@dataclass(frozen=True)
class Shot:
    index: Count
    start_s: Seconds
    end_s: Seconds
    valence: Unit
    arousal: Unit
    label: Mood
    confidence: Share
    sources: Sources
    dialogue: str = ""
    sound: Sound | None = field(default=None, metadata=omitted())
    picture: dict[str, float] | None = None
    thumbnail: Annotated[str, Rule({"pattern": "^thumbnails/[^/]+\\.jpg$"})] | None = field(
        default=None, metadata=omitted()
    )
    picture_hash: Annotated[str, Rule({"pattern": "^[0-9a-f]{16}$"})] | None = field(
        default=None,
        metadata=omitted("a 64-bit difference hash of the thumbnail, in hex: a re-cut matches shots by it"),
    )
    cue_id: Count | None = field(
        default=None,
        metadata=written_with(
            "cues", "the cue that covers most of the shot; null where the spotting keeps it silent"
        ),
    )
    earlier_shot: Count | None = field(
        default=None,
        metadata=written_with(
            "recut",
            "in a re-cut, the earlier cut's shot this one matched (by picture and sound); null for a shot of "
            "its own",
        ),
    )


@dataclass(frozen=True)
class Point:
    t_s: Seconds
    valence: Unit
    arousal: Unit


@dataclass(frozen=True)
class Word:
    word: Annotated[str, Rule({"minLength": 1})]
    start_s: Seconds
    end_s: Seconds
    confidence: Share = 1.0


@dataclass(frozen=True)
class Line:
    start_s: Seconds
    end_s: Seconds
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Reading:
    valence: Unit
    arousal: Unit
    mood: Mood


@dataclass(frozen=True)
class Spot:
    mood: SpotMood
    row: Row
    note: Row = ""
    style: Annotated[str, Rule({"maxLength": 100})] | None = None
    intensity: Share | None = None


@dataclass(frozen=True)
class Excerpt:
    track: str
    from_s: Seconds
    to_s: Seconds
    at_s: Seconds


@dataclass(frozen=True)
class Heard:
    valence: Unit
    arousal: Unit
    confidence: Share
    tempo_bpm: Annotated[float, Rule({"exclusiveMinimum": 0})]
    mode: Mode
    error: Annotated[float, Rule({"minimum": 0})]
    within_tolerance: bool


@dataclass(frozen=True)
class Fate:
    fate: Annotated[str, Rule({"enum": list(FATES)})]
    earlier_cue: Count | None


@dataclass(frozen=True)
class Keyframe:
    t_s: Seconds = field(metadata=schema("from the start of the cue's file"))
    gain_db: Annotated[float, Rule({"minimum": -120, "maximum": 24})]


@dataclass(frozen=True)
class CueFile:
    """The cue's own file (cues/cue-NN.wav) as the editing timeline plays it."""

    start_s: Seconds = field(metadata=schema("where the file's first sample sits in the film"))
    duration_s: Seconds = field(metadata=schema("the file's length; it may ring on past the film's end"))
    play_from_s: Seconds = field(metadata=schema("film time the timeline's clip starts at"))
    play_to_s: Seconds = field(metadata=schema("and ends at; the rest of the file is handle"))
    gains: Annotated[tuple[Keyframe, ...], Rule({"maxItems": MOST_ITEMS})] = field(metadata=schema(
        "the mix's level under dialogue over the clip, against the file's own: keyframes, linear in dB "
        "between them"))  # fmt: skip


@dataclass(frozen=True)
class Take:
    """Another take of a cue (--takes), written beside its file as cues/cue-NN-<take>.wav."""

    take: TakeName
    start_s: Seconds = field(metadata=schema("where the file's first sample sits in the film"))
    duration_s: Seconds


@dataclass(frozen=True)
class Cue:
    id: Count
    start_s: Seconds
    end_s: Seconds
    key: Annotated[str, Rule({"pattern": "^[A-G][#b]? (major|minor)$"})]
    mode: Mode
    tempo_bpm: Annotated[float, Rule({"exclusiveMinimum": 0})]
    meter: Annotated[str, Rule({"pattern": "^[0-9]+/4$"})]
    valence: Unit
    arousal: Unit
    mood: Mood
    tension: Share
    density: Annotated[int, Rule({"minimum": 1, "maximum": MOST_ITEMS})]
    energy: Share
    style: Annotated[str, Rule({"enum": list(STYLES)})]
    instruments: Annotated[tuple[str, ...], Rule({"minItems": 1})]
    shots: tuple[Count, ...]
    reading: Reading = field(metadata=schema(
        "the film's own reading over the cue; it differs from the cue's valence, arousal and mood where "
        "a spot set them"))  # fmt: skip
    spot: Spot | None = field(metadata=schema(
        "the spot that placed the cue (mood auto: the reading chose the mood); null where the reading "
        "placed it"))  # fmt: skip
    ending: Annotated[str, Rule({"enum": [JOIN, CLOSE, FILM_END]})] = field(metadata=schema(
        "join: the next cue enters on its last beat; close: a held chord before silence; film end: "
        "its last chord 0.25 s before the end, held and fading, or a button if it drives"))  # fmt: skip
    key_reason: Annotated[str, Rule({"maxLength": 200})] = field(default="", metadata=schema(
        "why the cue is in its key, against the score's home key (the film's and the seed's)"))  # fmt: skip
    excerpts: tuple[Excerpt, ...] = field(
        default=(), metadata=schema("recordings the cue plays (the library generator); empty when composed")
    )
    mer: Heard | None = field(
        default=None,
        metadata=omitted(
            "the cue as heard by music emotion recognition (filmscore/music/mer.py), against its target"
        ),
    )
    recut: Fate | None = field(
        default=None,
        metadata=omitted(
            "in a re-cut, what became of the cue: kept (note for note, where it was), moved (note for note, "
            "at its shots' new time), changed (some of its shots are the earlier cut's) or new"
        ),
    )
    file: CueFile | None = field(
        default=None,
        metadata=omitted(
            "the cue's own file, clean (no ducking, nothing of the cues beside it), as the editing "
            "timeline plays it; absent in an analysis and in reports from before cue files were clean"
        ),
    )
    take: TakeName = field(default="a", metadata=schema(
        "which of the cue's takes plays in the film and its file: a letter, or a seed; the spotting "
        "CSV's take column chooses it"))  # fmt: skip
    takes: Annotated[tuple[Take, ...], Rule({"maxItems": 26})] = field(
        default=(), metadata=schema("its other takes (--takes), each in a file of its own")
    )


@dataclass(frozen=True)
class MusicCheck:
    backend: str
    tolerance: Annotated[float, Rule({"exclusiveMinimum": 0})]
    mean_error: Annotated[float, Rule({"minimum": 0})]
    cues_within_tolerance: Count
    cues: Count
    rearranged_cues: tuple[Count, ...]


@dataclass(frozen=True)
class Hit:
    t_s: Seconds
    strength: Share
    shot_index: Count
    sting: Mood | None = field(default=None, metadata=schema(
        "the mood of a sting: a strong emotion too short for a cue of its own, struck on its shot; null "
        "for an accent"))  # fmt: skip
    spotted: bool = field(default=False, metadata=schema("asked for by the spotting, struck on its frame"))


@dataclass(frozen=True)
class Span:
    start_s: Seconds
    end_s: Seconds


@dataclass(frozen=True)
class SpottedRange:
    mood: RangeMood
    row: Row
    note: Row
    style: Annotated[str, Rule({"maxLength": 100})] | None
    intensity: Share | None
    start_s: Seconds
    end_s: Seconds


@dataclass(frozen=True)
class SpottedHit:
    t_s: Seconds
    row: Row


@dataclass(frozen=True)
class SpottedTake:
    take: TakeName
    row: Row
    start_s: Seconds
    end_s: Seconds


@dataclass(frozen=True)
class Spotting:
    source: Annotated[str, Rule({"maxLength": 4096})]
    spots: Annotated[tuple[SpottedRange, ...], Rule({"maxItems": MOST_ITEMS})]
    hits: Annotated[tuple[SpottedHit, ...], Rule({"maxItems": MOST_ITEMS})]
    takes: Annotated[tuple[SpottedTake, ...], Rule({"maxItems": MOST_ITEMS})] = field(
        default=(), metadata=schema("the takes the spotting chose: the cue over a range's middle plays it")
    )


@dataclass(frozen=True)
class ScorePlan:
    seed: Annotated[int, Rule({"minimum": 0, "maximum": 2**32 - 1})]
    speech: Annotated[tuple[tuple[Seconds, Seconds], ...], Rule({"maxItems": MOST_ITEMS})]
    plan: dict[str, Any]  # the CuePlan as core/codec.py writes it; earlier_cut.py reads it back


@dataclass(frozen=True)
class Recut:
    earlier: Annotated[str, Rule({"maxLength": 4096})]
    shots_matched: Count
    kept: Count
    moved: Count
    changed: Count
    new: Count


@dataclass(frozen=True)
class MusicFacts:
    generator: str
    seed: Annotated[int, Rule({"minimum": -(2**63), "maximum": 2**63 - 1})]
    # what made it: style, SoundFont or model, licence (by the generator's own names)
    details: dict[str, str] = field(default_factory=dict, metadata={REST: True})


@dataclass(frozen=True)
class Mix:
    target_lufs: float
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    ducking_db: Annotated[float, Rule({"minimum": 0})]
    speech_cut_db: Annotated[float, Rule({"minimum": 0})] = 0.0
    music_gain_db: float = 0.0
    limiter_reduction_db: Annotated[float, Rule({"minimum": 0})] = 0.0


OUTPUTS = ["video", "music", "report"]
BACKENDS = ["asr", "text_emotion", "visual_emotion", "audio_emotion"]


@dataclass(frozen=True)
class Report:
    """What filmscore learnt about one film: per-shot emotion, a smoothed timeline and the transcript;
    after `filmscore run`, also the cues, the mix and the files written."""

    schema_version: Annotated[int, Rule({"const": SCHEMA_VERSION})]
    generator: str
    input: Film
    pipeline: str = field(
        metadata=schema(
            "The preset of settings used: a name from filmscore/config/presets/ or a .toml file's path."
        )
    )
    backends: Annotated[dict[str, str], Rule({"required": BACKENDS})]
    shots: Annotated[tuple[Shot, ...], Rule({"minItems": 1})]
    timeline: tuple[Point, ...]
    transcript: tuple[Line, ...]
    cues: Annotated[tuple[Cue, ...], Rule({"minItems": 1})] | None = field(default=None, metadata=omitted())
    music_check: MusicCheck | None = field(
        default=None, metadata=omitted("the closed-loop check of the music against the cue plan")
    )
    hits: tuple[Hit, ...] | None = field(default=None, metadata=omitted())
    silences: Annotated[tuple[Span, ...], Rule({"maxItems": MOST_ITEMS})] | None = field(
        default=None, metadata=omitted("the spotted none ranges: no music there")
    )
    score_plan: ScorePlan | None = field(
        default=None,
        metadata=omitted(
            "the cue plan the music was written from, with its seed and the dialogue it was written around, "
            "for a later run --previous (read back field by field, never run)"
        ),
    )
    recut: Recut | None = field(
        default=None,
        metadata=omitted(
            "with run --previous: the earlier cut's report folder, how many shots matched, and how many cues "
            "were kept, moved, changed and new"
        ),
    )
    spotting: Spotting | None = field(
        default=None, metadata=omitted("the editor's spotting the run or analysis followed")
    )
    music: MusicFacts | None = field(default=None, metadata=omitted())
    mix: Mix | None = field(default=None, metadata=omitted())
    outputs: Annotated[dict[str, str], Rule({"required": OUTPUTS})] | None = field(
        default=None, metadata=omitted()
    )


def report_plain(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, in its written key order."""
    plain = to_plain(report, [])
    present = {name for name, value in plain.items() if value is not None}
    parts = {f.name: f.metadata.get(WRITTEN_WITH) for f in fields(Shot)}
    unwritten = [name for name, part in parts.items() if part is not None and part not in present]
    for shot in plain["shots"]:
        for name in unwritten:
            shot.pop(name, None)
    return plain
