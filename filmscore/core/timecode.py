"""Time codes as editing systems count them: non-drop-frame at the film's rate, where 23.976, 29.97 and
59.94 fps are the exact NTSC rates (24000/1001 and so on). The editors' files write them and spotting files
are read with them."""

from __future__ import annotations

NTSC_RATES = (24000 / 1001, 30000 / 1001, 60000 / 1001)


def timecode_rate(fps: float) -> float:
    """The exact rate behind a rounded one: 23.976 is 24000/1001."""
    for rate in NTSC_RATES:
        if abs(fps - rate) < 0.005:
            return rate
    return fps


def frames_at(seconds: float, rate: float) -> int:
    return round(seconds * rate)


def timecode(seconds: float, fps: float) -> str:
    """HH:MM:SS:FF, non-drop-frame: frames are counted at the nominal (integer) rate."""
    rate = timecode_rate(fps)
    nominal = max(1, round(rate))  # below 1 fps (a slide show), count whole seconds
    frames = frames_at(seconds, max(rate, 1.0))
    total_seconds, frame = divmod(frames, nominal)
    hours, rest = divmod(total_seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frame:02d}"
