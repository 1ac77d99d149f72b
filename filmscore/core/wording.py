"""How values appear in messages: one line, a bounded length, numbers and sizes a person reads at once.
Every message that may quote a value from outside (a file name, a setting, a file's contents) goes
through these, so a hostile or unlucky value can neither flood the terminal nor break a line-based log."""

from __future__ import annotations

import math
import os
from pathlib import PurePath
from urllib.parse import quote_from_bytes

MAX_MESSAGE = 600  # characters of one error line
MAX_VALUE = 80  # characters of one quoted value


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` on one line (line breaks shown as \\n, other control characters dropped), cut to `limit`."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    flat = "".join(ch for ch in flat if ch.isprintable())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# Characters no kept text needs and some do harm with: the bidirectional overrides and isolates, which
# make a note read backwards in a page or a terminal ("Trojan Source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A spreadsheet takes a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clean_text(text: str) -> str:
    """A text filmscore keeps (a note, a marker's name): without control characters (ESC, NUL, ...) and
    bidirectional overrides; tabs and line breaks become spaces."""
    spaced = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "".join(ch for ch in spaced if ch.isprintable() and ch not in BIDI_CONTROLS)


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that would start a formula gets a leading
    apostrophe (numbers, negative ones too, stay numbers)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def printable(text: str) -> str:
    """A file name as text any format holds: bytes of a name that are not UTF-8 (Python keeps them as
    surrogates: caf\\udce9.mp4) written as \\xNN escapes (caf\\xe9.mp4); every other name unchanged."""
    return os.fsencode(text).decode("utf-8", "backslashreplace") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def file_uri(path: str | PurePath) -> str:
    """A file's URL (file:///...), its bytes percent-encoded: a name that is not UTF-8 is kept exactly."""
    absolute = os.path.abspath(os.fspath(path))
    return "file://" + quote_from_bytes(os.fsencode(absolute), safe="/")


def utf8(text: str) -> bytes:
    """Text as UTF-8, never failing: a name's non-UTF-8 bytes (surrogates) become backslash escapes,
    which in JSON text are themselves JSON escapes (\\udce9) and read back as the same name."""
    return text.encode("utf-8", "backslashreplace")


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
