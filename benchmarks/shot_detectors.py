"""Which PySceneDetect detector makes the fewest false cuts on fades and flashes?

Run:  .venv/bin/python benchmarks/shot_detectors.py

Makes a 24-second clip at 25 fps with:
- four hard cuts (at 4, 8, 14 and 20 s), which every detector should find within one frame;
- a fade to black and back in the middle of one picture (10-12 s) and a cross-fade between two
  pictures (15-17 s): one cut inside a fade is fine, more are false;
- three camera-flash style white frames inside a shot (at 6 s and 18 s): no cut belongs there;
- a fast zoom (the mandelbrot shot, 0-4 s): motion, not a cut.
Prints, for each detector, the hard cuts found and the false cuts, and writes benchmarks/results/shots.json.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from filmscore.analysis.shots import SHOT_DETECTORS, ShotAnalyser, ShotOptions
from filmscore.media.decode import DecodeOptions, analysis_geometry, scan
from filmscore.media.probe import probe

FPS = 25
# The red picture starts at 14 s on a hard cut from the bars; 1 s in, it cross-fades for 2 s (xfade's
# offset is from the start of its first input).
HARD_CUTS_S = (4.0, 8.0, 14.0, 20.0)
FADES_S = ((10.0, 12.0), (15.0, 17.0))  # a cut anywhere inside is accepted, once
RESULTS = Path(__file__).parent / "results"


def make_clip(target: Path) -> Path:
    size = "640x360"
    sources = [
        f"mandelbrot=size={size}:rate={FPS}",  # 0-4 fast zoom
        f"testsrc2=size={size}:rate={FPS}",  # 4-8, flash at 6
        f"smptebars=size={size}:rate={FPS}",  # 8-14 fade out/in at 10-12
        f"color=c=0xc04020:size={size}:rate={FPS}",  # 14-17: a hard cut in, then a cross-fade into the next
        f"rgbtestsrc=size={size}:rate={FPS}",  # 16-20, flash at 18
        f"color=c=0x203060:size={size}:rate={FPS}",  # 20-24
    ]
    flash = "drawbox=color=white:t=fill:enable='between(t,{0},{0}+0.1)'"
    graph = ";".join(
        [
            "[0]trim=duration=4,setpts=PTS-STARTPTS[a]",
            f"[1]trim=duration=4,setpts=PTS-STARTPTS,{flash.format(2)}[b]",
            "[2]trim=duration=6,setpts=PTS-STARTPTS,fade=t=out:st=2:d=1,fade=t=in:st=3:d=1[c]",
            "[3]trim=duration=3,setpts=PTS-STARTPTS[d]",
            f"[4]trim=duration=5,setpts=PTS-STARTPTS,{flash.format(3)}[e]",
            "[d][e]xfade=transition=fade:duration=2:offset=1[de]",
            "[5]trim=duration=4,setpts=PTS-STARTPTS[f]",
            "[a][b][c][de][f]concat=n=5:v=1:a=0,format=yuv420p[v]",
        ]
    )
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for source in sources:
        cmd += ["-f", "lavfi", "-i", source]
    cmd += ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", str(target)]
    subprocess.run(cmd, check=True)
    return target


def score(cuts_s: list[float]) -> dict[str, object]:
    tolerance = 1.0 / FPS + 1e-6
    found = [c for c in HARD_CUTS_S if any(abs(c - x) <= tolerance for x in cuts_s)]
    false = 0
    used_fades: set[int] = set()
    for cut in cuts_s:
        if any(abs(cut - c) <= tolerance for c in HARD_CUTS_S):
            continue
        fade = next((i for i, (a, b) in enumerate(FADES_S) if a - tolerance <= cut <= b + tolerance), None)
        if fade is not None and fade not in used_fades:
            used_fades.add(fade)
            continue
        false += 1
    return {
        "hard_cuts_found": len(found),
        "hard_cuts": len(HARD_CUTS_S),
        "false_cuts": false,
        "cuts_s": cuts_s,
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "fades_and_flashes.mp4")
        info = probe(clip)
        geometry = analysis_geometry(info, DecodeOptions())
        results = {}
        for name in SHOT_DETECTORS.names():
            analyser = ShotAnalyser(geometry.fps, ShotOptions(detector=name), geometry.step)
            scan(info, geometry, [analyser])
            results[name] = score([round(s.start_s, 3) for s in analyser.shots()[1:]])
    (RESULTS / "shots.json").write_text(json.dumps(results, indent=2))
    print("| detector | hard cuts found | false cuts (fades, flashes, motion) |")
    print("|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['hard_cuts_found']}/{r['hard_cuts']} | {r['false_cuts']} |")


if __name__ == "__main__":
    main()
