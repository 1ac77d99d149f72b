"""Progress hooks, so stage code stays free of printing. The pipeline calls `stage()` and `update()`;
what the person sees depends on the hook: a live line on a terminal, one line per stage in a log, or
nothing with -q.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO


class Progress:
    """Silent base: also what -q uses. Records each stage's wall time for reports and benchmarks. Used as
    a context manager by the commands, so a live display is taken down before anything else is said."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

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


class PreparedAfter(Progress):
    """Another hook's progress, passed through; `prepare()` called once the stage named has ended (a run
    starts loading its SoundFont once the picture pass is over), and `on_start()`, where given, as it
    starts (the audio helper gets MER ready while the pictures are read)."""

    def __init__(
        self,
        inner: Progress,
        stage_name: str,
        prepare: Callable[[], None],
        on_start: Callable[[], object] | None = None,
    ) -> None:
        self.inner, self.stage_name, self.prepare, self.on_start = inner, stage_name, prepare, on_start
        self.timings = inner.timings
        self._done = False

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with self.inner.stage(name):
            if name == self.stage_name and self.on_start is not None:
                self.on_start()
            yield
        if name == self.stage_name:
            self.prepared()

    def prepared(self) -> None:
        """`prepare()` now, unless it was called already (the stage named never ran: the reading came
        from the cache)."""
        if not self._done:
            self._done = True
            self.prepare()

    def started(self, name: str) -> None:
        self.inner.started(name)

    def update(self, name: str, fraction: float) -> None:
        self.inner.update(name, fraction)

    def finished(self, name: str, seconds: float) -> None:
        self.inner.finished(name, seconds)


class TerminalProgress(Progress):
    """Shows each stage on stderr: a live percentage on a terminal, one line per stage otherwise (what a
    log gets; LiveProgress draws bars on a terminal)."""

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


# Each stage's usual share of a run, for the overall bar and its ETA: estimates, rounded from the sample
# film's stage times (the picture pass, the soundtrack and speech take most of an analysis, the composer,
# the music check and the mux most of the rest), with room for films that talk more. Stages run in another
# order or more than once (compose, music check) still add up: the overall bar counts each share once.
RUN_STAGES = {
    "probe": 0.03, "pictures and shots": 0.30, "soundtrack": 0.15, "dialogue": 0.12, "emotion": 0.02,
    "cues": 0.01, "compose": 0.15, "music check": 0.07, "mix": 0.05, "mux": 0.10,
}  # fmt: skip
ANALYZE_STAGES = {
    "probe": 0.04, "pictures and shots": 0.45, "soundtrack": 0.2, "dialogue": 0.2, "emotion": 0.03,
    "report": 0.08,
}  # fmt: skip


def progress_for(quiet: bool, stages: dict[str, float], title: str) -> Progress:
    """Nothing with -q; live bars on a terminal; a plain line per stage in a log."""
    if quiet:
        return Progress()
    if sys.stderr.isatty():
        return LiveProgress(stages, title)
    return TerminalProgress()


class LiveProgress(Progress):
    """rich bars on stderr: the whole run's (with its elapsed time and an ETA), and one per stage as it
    runs. A stage that reports no fraction (it cannot tell how far it is) pulses until it ends."""

    def __init__(self, stages: dict[str, float], title: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as Bars

        super().__init__()
        self._shares = stages
        self._done: set[str] = set()
        self._bars = Bars(
            TextColumn("{task.description:<20}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
        )  # fmt: skip
        self._overall = self._bars.add_task(title, total=sum(stages.values()) or 1.0)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> LiveProgress:
        self._bars.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bars.stop()

    def started(self, name: str) -> None:
        if name in self._tasks:
            self._bars.reset(self._tasks[name], total=None)
        else:
            self._tasks[name] = self._bars.add_task(name, total=None)

    def update(self, name: str, fraction: float) -> None:
        if name in self._tasks:
            self._bars.update(self._tasks[name], total=1.0, completed=fraction)
            self._show_overall(name, fraction)

    def finished(self, name: str, seconds: float) -> None:
        if name in self._tasks:
            self._bars.update(self._tasks[name], total=1.0, completed=1.0)
        self._done.add(name)
        self._show_overall()

    def _show_overall(self, running: str | None = None, fraction: float = 0.0) -> None:
        done = sum(self._shares.get(name, 0.0) for name in self._done)
        if running is not None and running not in self._done:
            done += self._shares.get(running, 0.0) * fraction
        self._bars.update(self._overall, completed=done)
