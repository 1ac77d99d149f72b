"""Styles: the orchestra a score is written for, and the room it plays in.

A style gives each mood an orchestration (General MIDI programs for each part, and which of the
high-energy parts it has: a driving pulse, brass, a drum kit), a mix space (reverb, chorus, stereo
width) and how far it pushes the energy of its cues. The composer's textures (how busy, how loud, how
high) follow each cue's energy in every style; the style decides what plays them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from filmscore.config.names import STYLE_NAMES
from filmscore.core.affect import Mood, clip_unit

DEFAULT_STYLE = STYLE_NAMES[0]


@dataclass(frozen=True)
class Orchestration:
    """General MIDI programs (0-based) for each part of one mood's arrangement; None leaves a part out."""

    pad: int  # sustained chords
    bass: int
    accompaniment: int  # arpeggios
    melody: int | None  # the score's theme; None: no theme (an ambient bed)
    pulse: int | None = None  # the driving low ostinato of high-energy cues
    brass: int | None = None  # chords on the beat in high-energy cues: fanfare for joy, stabs for fear
    kit: int | None = None  # General MIDI drum kit (bank 128 program) of the percussion

    def names(self) -> tuple[str, ...]:
        """The instruments heard, for the report and the cue sheet."""
        programs = (self.pad, self.bass, self.accompaniment, self.melody, self.pulse, self.brass)
        names = tuple(dict.fromkeys(GM_NAMES[p] for p in programs if p is not None))
        return (*names, f"{KIT_NAMES[self.kit]} percussion") if self.kit is not None else names


@dataclass(frozen=True)
class Style:
    name: str
    description: str  # how a text-prompted generator (MusicGen) is asked for it
    orchestrations: dict[Mood, Orchestration] = field(repr=False)
    reverb: int  # CC91 send of every part: the size of the room
    chorus: int  # CC93 send of the pad
    width: float  # 0 .. 1: how far the parts spread from the centre
    energy_span: float = 1.0  # scales a cue's distance from middle energy (a trailer pushes both ends)
    energy_lift: float = 0.0  # added to every cue's energy
    hit: int = 47  # the program struck on the cuts that matter (timpani; a low piano stroke, a taiko ...)
    cymbal: bool = True  # a cymbal on strong hits too

    def orchestration(self, mood: Mood) -> Orchestration:
        return self.orchestrations[mood]

    def energy(self, arousal: float) -> float:
        """A cue's energy, 0 (a near-still pad) .. 1 (a driving cue), from its arousal."""
        return clip_unit(0.5 + self.energy_span * arousal / 2 + self.energy_lift, 0.0, 1.0)


# The General MIDI names of the programs the styles use.
GM_NAMES = {
    0: "piano",
    4: "electric piano",
    8: "celesta",
    11: "vibraphone",
    38: "synth bass",
    39: "synth bass",
    40: "violin",
    42: "cello",
    43: "contrabass",
    44: "tremolo strings",
    45: "pizzicato strings",
    46: "harp",
    47: "timpani",
    48: "strings",
    49: "slow strings",
    50: "synth strings",
    52: "choir",
    53: "voices",
    56: "trumpet",
    57: "trombone",
    60: "french horn",
    61: "brass section",
    62: "synth brass",
    68: "oboe",
    71: "clarinet",
    73: "flute",
    75: "pan flute",
    81: "saw lead",
    88: "new age pad",
    89: "warm pad",
    94: "halo pad",
    95: "sweep pad",
    99: "atmosphere pad",
    116: "taiko drum",
    118: "synth drum",
}
# How much louder (dB) each program must play to match the others: measured in MuseScore General, the
# default SoundFont, by benchmarks/instrument_levels.py (a note at velocity 100 against REFERENCE_DB).
REFERENCE_DB = -38
PROGRAM_TRIM_DB = {0: 3, 4: -2, 8: 3, 11: 1, 38: -2, 39: -3, 40: 1, 42: -3, 43: 0, 44: 5, 45: 9, 46: -1,
                   47: 3, 48: 0, 49: 3, 50: 4, 52: 6, 53: -1, 56: -2, 57: -6, 60: -2, 61: 1, 62: 0, 68: -1,
                   71: -1, 73: -3, 75: -2, 81: -2, 88: -1, 89: 8, 94: 0, 95: 3, 99: 1, 116: 2,
                   118: -4}  # fmt: skip
KIT_NAMES = {16: "power kit", 24: "electronic kit", 25: "TR-808", 48: "orchestral"}


def _moods(
    joyful: Orchestration,
    calm: Orchestration,
    sad: Orchestration,
    afraid: Orchestration,
    neutral: Orchestration,
) -> dict[Mood, Orchestration]:
    """Tension takes fear's orchestra: the composer's textures set them apart by energy."""
    return {Mood.JOYFUL: joyful, Mood.CALM: calm, Mood.SAD: sad, Mood.AFRAID: afraid, Mood.TENSE: afraid,
            Mood.NEUTRAL: neutral}  # fmt: skip


Orch = Orchestration
STYLES: dict[str, Style] = {
    # Strings, harp and woodwinds; horns and trumpets for joy, low brass and tremolo strings for fear.
    "orchestral": Style(
        "orchestral", "orchestral",
        _moods(
            joyful=Orch(pad=48, bass=43, accompaniment=45, melody=73, pulse=42, brass=61, kit=48),
            calm=Orch(pad=49, bass=43, accompaniment=46, melody=71),
            sad=Orch(pad=49, bass=43, accompaniment=0, melody=42),
            afraid=Orch(pad=44, bass=43, accompaniment=45, melody=60, pulse=42, brass=57, kit=48),
            neutral=Orch(pad=48, bass=43, accompaniment=46, melody=68, pulse=48),
        ),
        reverb=64, chorus=12, width=0.7,
    ),
    # A solo piano: its energy is in the left hand's ostinato and the attack of the chords.
    "piano": Style(
        "piano", "solo piano",
        _moods(*(Orch(pad=0, bass=0, accompaniment=0, melody=0, pulse=0) for _ in range(5))),
        reverb=48, chorus=0, width=0.45, energy_span=0.85,  # a piano's velocity already spans a lot
        hit=0, cymbal=False,  # a low piano stroke: nothing but the piano
    ),
    # A string orchestra: pizzicato and spiccato ostinati carry the energy, tremolo the fear.
    "strings": Style(
        "strings", "string orchestra",
        _moods(
            joyful=Orch(pad=48, bass=43, accompaniment=45, melody=40, pulse=42),
            calm=Orch(pad=49, bass=43, accompaniment=48, melody=42),
            sad=Orch(pad=49, bass=43, accompaniment=48, melody=42),
            afraid=Orch(pad=44, bass=43, accompaniment=45, melody=42, pulse=48),
            neutral=Orch(pad=48, bass=43, accompaniment=45, melody=40, pulse=42),
        ),
        reverb=70, chorus=8, width=0.75, cymbal=False,
    ),
    # Pads and bells in a large room, with no theme; a synth pulse is its energy.
    "ambient": Style(
        "ambient", "ambient electronic",
        _moods(
            joyful=Orch(pad=88, bass=38, accompaniment=8, melody=None, pulse=38),
            calm=Orch(pad=89, bass=38, accompaniment=11, melody=None),
            sad=Orch(pad=94, bass=38, accompaniment=11, melody=None),
            afraid=Orch(pad=94, bass=38, accompaniment=11, melody=None, pulse=39),
            neutral=Orch(pad=89, bass=38, accompaniment=11, melody=None, pulse=38),
        ),
        reverb=100, chorus=40, width=0.9, energy_span=1.15,  # pads even out: push the ends
        hit=116, cymbal=False,  # a taiko's boom
    ),
    # A modern hybrid score: synth bass ostinato, saw arpeggios, synth brass and electronic drums.
    "pulse": Style(
        "pulse", "hybrid electronic film score with synth pulses",
        _moods(
            joyful=Orch(pad=50, bass=38, accompaniment=81, melody=62, pulse=39, brass=62, kit=24),
            calm=Orch(pad=89, bass=38, accompaniment=4, melody=75),
            sad=Orch(pad=94, bass=38, accompaniment=4, melody=53),
            afraid=Orch(pad=95, bass=38, accompaniment=81, melody=62, pulse=39, brass=62, kit=25),
            neutral=Orch(pad=50, bass=38, accompaniment=81, melody=62, pulse=39, kit=24),
        ),
        reverb=56, chorus=30, width=0.8, hit=118,  # a synth drum
    ),
    # The orchestra pushed to both ends: choir and brass, low-string ostinati and a power kit.
    "trailer": Style(
        "trailer", "epic cinematic trailer",
        _moods(
            joyful=Orch(pad=48, bass=43, accompaniment=48, melody=61, pulse=48, brass=61, kit=16),
            calm=Orch(pad=52, bass=43, accompaniment=0, melody=60),
            sad=Orch(pad=52, bass=43, accompaniment=0, melody=42),
            afraid=Orch(pad=44, bass=43, accompaniment=48, melody=57, pulse=42, brass=57, kit=16),
            neutral=Orch(pad=48, bass=43, accompaniment=48, melody=60, pulse=48, kit=48),
        ),
        reverb=80, chorus=10, width=0.85, energy_span=1.35, hit=116,  # taiko hits, the trailer's signature
    ),
}  # fmt: skip
del Orch
