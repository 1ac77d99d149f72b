"""Makes sample_media/demo.mp4: a 33-second film with hard cuts and four spoken lines in four moods.

Run: .venv/bin/python sample_media/make_demo.py  (needs ffmpeg and espeak-ng)
"""

from __future__ import annotations

import sys
from pathlib import Path

# The test films' maker lives with the tests (tests/synthetic.py), beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.synthetic import Line, ShotSpec, make_film

# Each line is spoken over a picture of its own mood, and each shot is long enough for its line.
SCENES = [
    ShotSpec(
        "joy", 5.5, Line("Good morning! What a wonderful day! I am so happy you came home!", "excited", 0.4)
    ),
    ShotSpec("testcard", 2.0),
    ShotSpec("sad", 7.0, Line("I have to tell you something. Your old friend died last night.", "sad")),
    ShotSpec("dark", 6.0, Line("I miss him. I feel so lost and alone.", "sad", 0.4)),
    ShotSpec("fear", 4.5, Line("Run! Get out! The fire is coming, hurry!", "frightened", 0.5)),
    ShotSpec("calm", 8.0, Line("Rest now. It is quiet and calm. Everything will be fine.", "calm", 0.5)),
]


def main() -> None:
    target = Path(__file__).with_name("demo.mp4")
    make_film(target, SCENES, size=(480, 270), fps=25.0, extra_args=("-crf", "30"))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
