"""The cue plan's types (a cue, a hit, the plan, the options), and the music's limits: constants every
part of the planner shares."""

from __future__ import annotations

from dataclasses import dataclass

from filmscore.config.settings import default
from filmscore.core.affect import Mood
from filmscore.music.spotting import Spot, Spotting
from filmscore.music.styles import DEFAULT_STYLE, Orchestration

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
NEUTRAL_TEMPO_BPM = 96.0  # the pace of a cue with arousal 0: a moderate walking tempo
TEMPO_OCTAVES_PER_AROUSAL = 0.6  # arousal -1 .. 1 spans 63 .. 145 bpm
DYNAMICS_STEP_S = 0.5  # spacing of the points of each cue's dynamic curve
VELOCITY_SOFT, VELOCITY_LOUD = 58, 118  # main-beat velocity at energy 0 and 1 (about 13 dB in a GM synth)
EXPRESSION_FLOOR = 0.68  # the dynamic curve's level at energy 0 (CC11; 1 at energy 1): about 7 dB more
SHORT_GAP_S = 1.0  # unspotted time shorter than this between spots joins the stretch before it
# The music's own limits, whatever the film, the spotting or an earlier cut asks: no cue is shorter than
# two beats of a brisk tempo (a shorter stretch joins its neighbour, or stays silent between kept cues),
# and every beat lies within a tempo a player can take.
SHORTEST_CUE_S = 1.0
SLOWEST_BPM, FASTEST_BPM = 40.0, 220.0
# How a cue ends: the next cue enters on its last beat; silence follows (a spotted `none`), so it closes on
# a held chord; or the film ends.
JOIN, CLOSE, FILM_END = "join", "close", "film end"


@dataclass(frozen=True)
class CueOptions:
    home_key: int = 2  # the home tonic's pitch class (a run takes the film's: music/planning/palette.py)
    change_threshold: float = 0.35  # distance on the valence/arousal plane that starts a new cue
    # shorter stretches join their neighbour: music needs time to say anything
    min_cue_s: float = default("cues.min_cue_s")
    # longer stretches are split at a cut, so a long film keeps moving
    max_cue_s: float = default("cues.max_cue_s")
    hit_threshold: float = 0.25  # rise in arousal across a cut that earns an accent
    mode_hysteresis: float = 0.1  # |valence| below this keeps the previous cue's mode
    strong: float = 0.55  # a shot this far from neutral is a strong emotion, which is not averaged away:
    strong_cue_s: float = 2.0  # one this long gets a cue of its own, however short; a shorter one a sting
    style: str = DEFAULT_STYLE  # the orchestra and the room (music/styles.py)


@dataclass(frozen=True)
class Hit:
    """An accent on a cut that matters: a sudden rise in arousal, a new cue, or a sting: a strong emotion
    too short for a cue of its own (a scream, a jump scare, a burst of joy), struck on its shot."""

    t_s: float
    strength: float  # 0 .. 1
    shot_index: int
    sting: Mood | None = None  # the mood of a sting; None for an accent
    spotted: bool = False  # asked for by the spotting (a `hit`), struck on its frame


@dataclass(frozen=True)
class Cue:
    id: int
    start_s: float
    end_s: float
    shot_indices: tuple[int, ...]
    valence: float
    arousal: float
    mood: Mood  # the nearest label on the valence/arousal plane
    tonic: int  # pitch class
    mode: str  # "major" or "minor"
    tension: float  # 0 .. 1: chromatic and diminished harmony for fear
    energy: float  # 0 (a near-still pad) .. 1 (a driving cue): how busy, loud and bright, by the style
    tempo_bpm: float  # the cue's pace (before the glide into the next cue)
    meter: int  # beats per bar
    beat_times: tuple[float, ...]  # onset of every beat of the cue, from start_s, then end_s
    subdivision: int  # accompaniment notes per beat: 1, 2 or 4
    register: int  # octave shift of melody and accompaniment, -1 .. 1
    articulation: float  # fraction of each note's value that sounds: legato 0.95 .. staccato 0.45
    velocity: int  # MIDI velocity of the cue's main beats
    style: str  # the style's name (music/styles.py)
    instruments: Orchestration
    dynamics: tuple[tuple[float, float], ...]  # (t_s, level 0 .. 1) following the film's arousal
    # The film's reading over the cue; valence and arousal differ from it where a spot set the mood.
    read_valence: float = 0.0
    read_arousal: float = 0.0
    spot: Spot | None = None  # the spot that set the cue's place and mood, if any
    ending: str = FILM_END  # JOIN, CLOSE or FILM_END
    kept_from: KeptCue | None = None  # in a re-cut, the earlier cut's cue this one keeps
    key_reason: str = ""  # why the cue is in its key, against the score's home key
    take: str = "a"  # which of the cue's takes plays (music/planning/palette.py): a letter, or a seed

    @property
    def spotted_mood(self) -> bool:
        """Whether the spotting, not the reading, chose the cue's mood."""
        return self.spot is not None and self.spot.sets_mood

    @property
    def key(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class KeptCue:
    """A cue of an earlier cut that a re-cut keeps note for note: its shots all came back, in order and at
    their lengths, so it moves with them."""

    cue: Cue  # as the earlier cut planned it
    hits: tuple[Hit, ...]  # the earlier cut's hits in it
    shots: tuple[int, ...]  # its shots in this cut
    shift_s: float  # where it starts now, less where it started

    @property
    def start_s(self) -> float:
        return self.cue.start_s + self.shift_s

    @property
    def end_s(self) -> float:
        return self.cue.end_s + self.shift_s


@dataclass(frozen=True)
class CuePlan:
    cues: tuple[Cue, ...]
    hits: tuple[Hit, ...]
    shot_cues: tuple[int | None, ...]  # the cue id of every shot (the cue holding most of it); None: silent
    duration_s: float
    silences: tuple[tuple[float, float], ...] = ()  # the spotted `none` ranges: no music there
    spotting: Spotting | None = None  # the editor's spotting followed, if any
    home_key: int = 2  # the score's home tonic (a pitch class), which every cue's key relates to


@dataclass(frozen=True)
class Section:
    """A stretch of film that becomes one cue: its shots, the feeling it is scored with, and the spotted
    hits in it."""

    start_s: float
    end_s: float
    shots: tuple[int, ...]  # indices into the emotions
    valence: float
    arousal: float
    read_valence: float  # the reading's, where a spot set the feeling
    read_arousal: float
    spot: Spot | None = None
    hits: tuple[float, ...] = ()  # times of the spotted hits in it
    kept: KeptCue | None = None  # the earlier cut's cue it keeps, in a re-cut

    @property
    def spotted_mood(self) -> Mood | None:
        """The mood a spot set for it, if one did."""
        return Mood(self.spot.mood) if self.spot is not None and self.spot.sets_mood else None
