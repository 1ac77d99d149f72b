"""A batch's inputs: files, folders searched for video files, and @lists, each film with the place its
outputs take under the output folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from filmscore.config.names import REPORT_DIR_SUFFIX, SCORED_SUFFIX
from filmscore.core.errors import InputError, UsageError

VIDEO_EXTENSIONS = frozenset(
    (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mxf", ".mts", ".m2ts", ".ts",
     ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".dv")
)  # fmt: skip


@dataclass(frozen=True)
class BatchItem:
    source: Path  # the film, resolved
    relative: Path  # where its outputs go under the output folder, without suffix ("day1/take3")


def collect_inputs(inputs: Iterable[str], out_dir: Path | None = None) -> list[BatchItem]:
    """Files, folders (searched recursively for video files) and @lists (one path a line; # comments).
    A folder's films keep their place under it; a file given by itself goes at the top. A folder's search
    leaves out the batch's output folder and whatever filmscore wrote (scored films, report folders, its
    cache and work files), so an output folder inside an input folder is never scored itself."""
    items: list[BatchItem] = []
    for argument in inputs:
        if argument.startswith("@"):
            items += collect_inputs(_list_file(Path(argument[1:])), out_dir)
            continue
        path = Path(argument)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file() and not _ours(p, path, out_dir)
            )  # fmt: skip
            items += [BatchItem(p.resolve(), Path(path.resolve().name) / p.relative_to(path).with_suffix(""))
                      for p in found]  # fmt: skip
        elif path.exists() or path.is_symlink():
            items.append(BatchItem(path.resolve(), Path(path.stem)))
        else:
            raise UsageError(f"{argument}: no such file or folder")
    return _unique(items)


def _ours(film: Path, searched: Path, out_dir: Path | None) -> bool:
    """Whether a file a folder search found is filmscore's own output, or lies in the output folder."""
    if out_dir is not None and film.resolve().is_relative_to(out_dir.resolve()):
        return True
    inside = film.relative_to(searched).parts
    return Path(film.stem).suffix == SCORED_SUFFIX or any(
        part.endswith(REPORT_DIR_SUFFIX) or part.startswith(".filmscore") for part in inside[:-1]
    )


def _list_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list {path}: {exc}") from None
    base = path.parent
    return [str(base / line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _unique(items: list[BatchItem]) -> list[BatchItem]:
    """Each film once; two different films that would land on the same output path are refused."""
    by_place: dict[Path, BatchItem] = {}
    for item in items:
        other = by_place.setdefault(item.relative, item)
        if other.source != item.source:
            raise UsageError(
                f"{other.source} and {item.source} would both be written as {item.relative}; "
                "pass their folders instead, so the outputs mirror the tree"
            )
    return list(by_place.values())
