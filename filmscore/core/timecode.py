"""Time codes as editing systems count them: non-drop-frame at the film's rate, where 23.976, 29.97 and
59.94 fps are the exact NTSC rates (24000/1001 and so on). The editors' files write them and spotting files
are read with them."""

from __future__ import annotations

NTSC_RATES = (24000 / 1001, 30000 / 1001, 60000 / 1001)
# The rates SMPTE time code (and so an NLE's sequence, and OpenTimelineIO's time-code writers) knows.
TIMECODE_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0)


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


def sequence_rate(fps: float) -> float:
    """The time-code rate an editing system's sequence takes for a film at `fps`: the film's own where
    SMPTE knows it; else the lowest such rate that holds every frame of the film on a frame of its own
    (15 fps on 30, 12 on 24); else the nearest (a 120 fps phone clip on 60, a 10 000 fps camera on 60),
    where each time moves by under a frame of the sequence."""
    rate = timecode_rate(fps)
    for known in TIMECODE_RATES:
        if abs(rate - known) < 1e-3:
            return known
    for known in TIMECODE_RATES:
        multiple = known / rate if rate > 0 else 0.0
        if multiple >= 1 and abs(multiple - round(multiple)) < 1e-6:
            return known
    return min(TIMECODE_RATES, key=lambda known: abs(known - rate))
