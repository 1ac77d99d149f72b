"""`filmscore batch`: many films scored, each as `filmscore run` would, with a log line per film."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from filmscore.api import resolved_settings
from filmscore.api.preflight import check_writable, sweep_leftovers
from filmscore.batch.records import ItemRecord, Manifest
from filmscore.cli.commands import options_of
from filmscore.core.errors import EXIT_BATCH_PARTIAL, EXIT_OK, UsageError
from filmscore.core.wording import one_line


def run(args: argparse.Namespace) -> int:
    from filmscore.batch.inputs import collect_inputs
    from filmscore.batch.runner import CACHE_FOLDER, BatchOptions, default_jobs, run_args, run_batch
    from filmscore.batch.summary import write_summary_html
    from filmscore.config.settings import SETTINGS
    from filmscore.core.atomic import folder_lock

    # A bad option fails once, before any film.
    settings = resolved_settings(args.pipeline, options_of(args, run_only=True), run_only=True)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be 1 or more")
    if args.film_timeout is not None and not args.film_timeout > 0:
        raise UsageError(f"--film-timeout {args.film_timeout:g} must be a number of seconds above 0")
    items = collect_inputs(args.inputs, args.output_dir)
    if not items:
        raise UsageError("no video files found in the inputs given")
    check_writable(args.output_dir, "-o folder")
    if args.no_cache and args.cache_dir is not None:
        raise UsageError("--cache-dir and --no-cache were both given. Give one of them")
    flags = {s.key: getattr(args, s.key, None) for s in SETTINGS if s.flag}
    opts = BatchOptions(
        out_dir=args.output_dir.resolve(),
        run_args=run_args(args.pipeline, flags, args.max_duration, args.stems, args.keep_original_audio),
        jobs=args.jobs or default_jobs(),
        executor=args.executor,
        ray_address=args.ray_address,
        cache_dir=None if args.no_cache else (args.cache_dir or args.output_dir / CACHE_FOLDER).resolve(),
        rescore=args.overwrite,
        spotting=Path(settings["cues.spotting"]).resolve() if settings["cues.spotting"] else None,
        cuts=Path(settings["analysis.cuts"]).resolve() if settings["analysis.cuts"] else None,
        film_timeout_s=args.film_timeout,
    )
    # One batch at a time on an OUTDIR: two would both rewrite its batch.json. A second is exit 5.
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(opts.out_dir, "batch"):
        sweep_leftovers(opts.out_dir, opts.cache_dir)
        with BatchLog(len(items), quiet=args.quiet, live=sys.stderr.isatty()) as log:
            manifest = run_batch(items, opts, log.record, log.started)
        write_summary_html(manifest, opts.out_dir)
    ours = [item.relative.as_posix() for item in items]
    log.close(manifest, ours)
    if args.json:
        print(json.dumps(manifest.as_dict(ours), indent=2))
    failed = any(manifest.records[name].status == "failed" for name in ours)
    return EXIT_BATCH_PARTIAL if failed else EXIT_OK


class BatchLog:
    """A line on stderr per film as it ends, with the failures so far and an estimate of the time left; a
    table at the close. On a terminal, live bars above those lines: the batch's (films done, elapsed time,
    ETA) and one per film being scored, with its time so far."""

    def __init__(self, total: int, quiet: bool, live: bool = False) -> None:
        self.total, self.quiet, self.started_at = total, quiet, time.monotonic()
        self.ended = self.failures = self.scored = 0
        self._bars: Any = None
        self._films: dict[str, Any] = {}
        if live and not quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description:<30}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
            )  # fmt: skip
            self._overall = self._bars.add_task("batch", total=total)

    def __enter__(self) -> BatchLog:
        if self._bars is not None:
            self._bars.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def started(self, record: ItemRecord) -> None:
        """A film's scoring starts (called from the batch's worker threads)."""
        if self._bars is not None:
            self._films[record.relative] = self._bars.add_task(one_line(record.relative, 30), total=None)

    def record(self, record: ItemRecord) -> None:
        status = record.status
        if status not in ("done", "failed", "skipped"):
            return
        self.ended += 1
        self.failures += status == "failed"
        self.scored += status != "skipped"
        left = self.total - self.ended
        elapsed = time.monotonic() - self.started_at
        eta = f", about {elapsed / self.scored * left:.0f} s left" if self.scored and left else ""
        if self.quiet:
            return
        note = f": {record.error}" if status == "failed" else ""
        line = one_line(f"[{self.ended}/{self.total}] {status} {record.relative}{note} "
                        f"({self.failures} failed so far{eta})")  # fmt: skip
        if self._bars is None:
            print(line, file=sys.stderr, flush=True)
            return
        if (task := self._films.pop(record.relative, None)) is not None:
            self._bars.remove_task(task)
        self._bars.advance(self._overall)
        self._bars.console.print(line, markup=False, highlight=False)

    def close(self, manifest: Manifest, ours: list[str]) -> None:
        if self.quiet:
            return
        records = [manifest.records[name] for name in ours]
        width = max(len(r.relative) for r in records)
        for r in records:
            took = f"{r.seconds:7.1f} s" if r.seconds is not None else " " * 9
            name, error = one_line(r.relative), one_line(r.error or "")
            print(f"  {name:<{width}}  {r.status:<7}  {took}  {error}", file=sys.stderr)
        counts = manifest.as_dict(ours)["summary"]
        print(f"batch: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed "
              f"-> {manifest.path}", file=sys.stderr)  # fmt: skip
