"""How values appear in messages: one line, a bounded length, numbers and sizes a person reads at once.
Every message that may quote a value from outside (a file name, a setting, a file's contents) goes
through these, so a hostile or unlucky value can neither flood the terminal nor break a line-based log."""

from __future__ import annotations

import math

MAX_MESSAGE = 600  # characters of one error line
MAX_VALUE = 80  # characters of one quoted value


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` on one line (line breaks shown as \\n, other control characters dropped), cut to `limit`."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    flat = "".join(ch for ch in flat if ch.isprintable())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quoted(value: object, limit: int = MAX_VALUE) -> str:
    """A value quoted in a message: its repr, on one line and cut to `limit`."""
    return one_line(repr(value), limit)


def number(value: float) -> str:
    """A number as a person writes it: whole numbers without exponent or point, others to 4 digits."""
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return f"{int(value):,}".replace(",", "_") if abs(value) >= 1e6 else str(int(value))
    return f"{value:.4g}"


def size(n_bytes: float) -> str:
    """A size in bytes with a unit that keeps it readable: 512 B, 40 KB, 3.1 MB, 12 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(n_bytes)} B"
