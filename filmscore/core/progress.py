"""Progress hooks, so stage code stays free of printing. The pipeline calls `stage()` and `update()`;
what the person sees depends on the hook: a live line on a terminal, one line per stage in a log, or
nothing with -q.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO


class Progress:
    """Silent base: also what -q uses. Records each stage's wall time for reports and benchmarks."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self.started(name)
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        self.finished(name, self.timings[name])

    def started(self, name: str) -> None:
        return None

    def update(self, name: str, fraction: float) -> None:
        return None

    def finished(self, name: str, seconds: float) -> None:
        return None


class TerminalProgress(Progress):
    """Shows each stage on stderr: a live percentage on a terminal, one line per stage otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()

    def started(self, name: str) -> None:
        if self._live:
            self._stream.write(f"\r\x1b[K{name} ...")
            self._stream.flush()

    def update(self, name: str, fraction: float) -> None:
        if self._live:
            self._stream.write(f"\r\x1b[K{name} ... {fraction:4.0%}")
            self._stream.flush()

    def finished(self, name: str, seconds: float) -> None:
        prefix = "\r\x1b[K" if self._live else ""
        self._stream.write(f"{prefix}{name}: done in {seconds:.1f} s\n")
        self._stream.flush()
