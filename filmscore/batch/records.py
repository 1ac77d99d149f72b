"""batch.json, the batch's manifest: a record per film (its content and settings hashes, how it ended, what
it wrote), rewritten atomically as each film finishes, so a re-run skips what is done."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filmscore.core.atomic import OutputSet, climbs_out
from filmscore.core.codec import DataError, from_plain
from filmscore.core.errors import InputError
from filmscore.core.version import __version__
from filmscore.core.wording import MAX_VALUE, one_line, quoted

MANIFEST_NAME = "batch.json"


@dataclass
class ItemRecord:
    """One film's line in the manifest."""

    input: str
    relative: str
    content_sha256: str = ""
    settings_sha256: str = ""
    status: str = "pending"  # pending, done, failed, skipped
    exit_code: int | None = None
    error: str | None = None
    started: float | None = None  # Unix times
    finished: float | None = None
    seconds: float | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # "video", "report_dir", relative to out_dir


def _check_outputs(record: ItemRecord) -> None:
    """A record's outputs lie inside the output folder: the batch checks they exist and its summary page
    reads their reports, so a manifest naming paths elsewhere is not one a batch wrote."""
    for place in (record.relative, *record.outputs.values()):
        if climbs_out(place):
            raise DataError(f"{quoted(place)} lies outside the output folder")


def settings_sha256(run_args: tuple[str, ...]) -> str:
    """The settings a film was scored with: the options given and filmscore's version."""
    return hashlib.sha256(json.dumps([__version__, *run_args]).encode()).hexdigest()


class Manifest:
    """batch.json: every film's record, rewritten atomically (temp file, then rename) on each change."""

    def __init__(self, out_dir: Path, records: dict[str, ItemRecord]) -> None:
        self.path = out_dir / MANIFEST_NAME
        self.records = records
        self._lock = threading.Lock()

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        path = out_dir / MANIFEST_NAME
        if not path.exists():
            return cls(out_dir, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = from_plain(tuple[ItemRecord, ...], data.get("items") if isinstance(data, dict) else None)
            for record in items:
                _check_outputs(record)
        except (OSError, ValueError, RecursionError) as exc:  # DataError and JSON's errors are ValueErrors
            raise InputError(
                f"{path} is not a batch manifest ({one_line(str(exc), MAX_VALUE)}). Move it away, or choose "
                "another -o."
            ) from None
        return cls(out_dir, {record.relative: record for record in items})

    def update(self, record: ItemRecord) -> None:
        with self._lock:
            self.records[record.relative] = record
            self.save()

    def as_dict(self, only: Iterable[str] | None = None) -> dict[str, Any]:
        """The manifest; with `only`, just those films (a run's own, in a folder shared by several)."""
        wanted = set(only) if only is not None else None
        records = [r for r in self.records.values() if wanted is None or r.relative in wanted]
        counts = {s: sum(r.status == s for r in records) for s in ("done", "failed", "skipped")}
        return {"filmscore": __version__, "summary": counts, "items": [asdict(r) for r in records]}

    def save(self) -> None:
        with OutputSet() as outputs:
            outputs.write(self.path, json.dumps(self.as_dict(), indent=2).encode())
