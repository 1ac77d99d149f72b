"""Makes sample_media/demo.mp4: a 30-second film with hard cuts, spoken lines and several moods.

Run: .venv/bin/python sample_media/make_demo.py  (needs ffmpeg and espeak-ng)
"""

from __future__ import annotations

from pathlib import Path

from filmscore.media.synthetic import Line, ShotSpec, make_film

SCENES = [
    ShotSpec("warm", 4.0, Line("Good morning! What a wonderful day. I am so happy you came home.", "happy")),
    ShotSpec("testcard", 3.0),
    ShotSpec("grey", 4.5, Line("I have to tell you something. Your old friend died last night.", "sad")),
    ShotSpec("night", 4.0, Line("I miss him. I feel so lost and alone.", "sad")),
    ShotSpec("dark", 2.5),
    ShotSpec("bright_motion", 3.5, Line("Run! Get out! The fire is coming, hurry!", "frightened")),
    ShotSpec("zoom", 3.0),
    ShotSpec("bars", 5.5, Line("Rest now. It is quiet and calm. Everything will be fine.", "calm")),
]


def main() -> None:
    target = Path(__file__).with_name("demo.mp4")
    make_film(target, SCENES, size=(480, 270), fps=25.0, extra_args=("-crf", "30"))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
