"""`filmscore batch`: score a folder (or a list) of rushes, in parallel, resumably, one bad file never
stopping the rest.

Each film is scored by its own `filmscore run` process, so a crash, a memory blow-up or a corrupt file
touches that film alone, and its outputs are published atomically as in any run. The batch keeps a
manifest, `batch.json` in the output folder, rewritten atomically as each film finishes: a re-run of the
same command skips the films already done (same content hash, same settings), and a killed batch picks
up where it stopped. Films run on a pool of local processes, or as Ray tasks on a cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filmscore import __version__
from filmscore.config.names import REPORT_DIR_SUFFIX, REPORT_NAME, SCORED_SUFFIX
from filmscore.core.atomic import OutputSet
from filmscore.core.errors import EXIT_INPUT, InputError, UsageError
from filmscore.core.workers import DIE_WITH_PARENT_ENV, usable_cores
from filmscore.media.probe import content_sha256

MANIFEST_NAME = "batch.json"
CACHE_FOLDER = ".filmscore-cache"  # analyses by content hash, shared by every run of the batch
VIDEO_EXTENSIONS = frozenset(
    (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mxf", ".mts", ".m2ts", ".ts",
     ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".dv")
)  # fmt: skip
CORES_PER_JOB = 2  # a run keeps two cores busy: the picture pass and the speech workers
MEMORY_PER_JOB = 1.5e9  # bytes a 720p or 1080p run peaks at, with room to spare
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@dataclass(frozen=True)
class BatchItem:
    source: Path  # the film, resolved
    relative: Path  # where its outputs go under the output folder, without suffix ("day1/take3")


@dataclass(frozen=True)
class BatchOptions:
    out_dir: Path
    run_args: tuple[str, ...] = ()  # options passed on to every `filmscore run`
    jobs: int = 1
    executor: str = "local"  # "local" or "ray"
    ray_address: str | None = None  # None: start or join a Ray cluster on this machine
    cache_dir: Path | None = None  # analyses shared by the films' runs (default OUTDIR/.filmscore-cache)
    rescore: bool = False  # score every film again, done or not (--overwrite)


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


def run_args(
    pipeline: str, flags: Mapping[str, Any], max_duration: float | None, stems: bool, keep_original: bool
) -> tuple[str, ...]:
    """The options each film's `filmscore run` is given: the preset (a file by its absolute path), each
    setting's flag that was given, and the run's own switches."""
    from filmscore.config.settings import BY_KEY, DEFAULT_PRESET

    passed: list[str] = []
    if pipeline != DEFAULT_PRESET:
        passed += ["--pipeline", str(Path(pipeline).resolve()) if pipeline.endswith(".toml") else pipeline]
    for key, value in flags.items():
        if value is not None:
            passed += [str(BY_KEY[key].flag), str(value)]
    if max_duration is not None:
        passed += ["--max-duration", str(max_duration)]
    passed += ["--stems"] * stems + ["--keep-original-audio"] * keep_original
    return tuple(passed)


def collect_inputs(inputs: Iterable[str]) -> list[BatchItem]:
    """Files, folders (searched recursively for video files) and @lists (one path a line; # comments).
    A folder's films keep their place under it; a file given by itself goes at the top."""
    items: list[BatchItem] = []
    for argument in inputs:
        if argument.startswith("@"):
            items += collect_inputs(_list_file(Path(argument[1:])))
            continue
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())
            items += [BatchItem(p.resolve(), Path(path.resolve().name) / p.relative_to(path).with_suffix(""))
                      for p in found]  # fmt: skip
        elif path.exists() or path.is_symlink():
            items.append(BatchItem(path.resolve(), Path(path.stem)))
        else:
            raise UsageError(f"{argument}: no such file or folder")
    return _unique(items)


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


def default_jobs() -> int:
    """As many films at once as the cores and the memory allow, at least one."""
    cores = usable_cores()
    try:
        memory = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError):
        memory = MEMORY_PER_JOB
    return max(1, min(cores // CORES_PER_JOB, int(memory // MEMORY_PER_JOB)))


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
            records = {r["relative"]: ItemRecord(**r) for r in data["items"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path} is not a batch manifest ({exc}). Move it away, or choose another -o."
            ) from None
        return cls(out_dir, records)

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


def run_batch(
    items: list[BatchItem], opts: BatchOptions, on_change: Callable[[ItemRecord], None] = lambda r: None
) -> Manifest:
    """Score every film not already done; each finished film is written to the manifest at once. The
    manifest keeps the films of earlier batches into the same folder too."""
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(opts.out_dir)
    settings = settings_sha256(opts.run_args)
    todo = []
    for item in items:
        record = _resumed(manifest, item, settings, opts)
        manifest.update(record)
        on_change(record)
        if record.status != "skipped":
            todo.append(record)
    executor = _ray_map if opts.executor == "ray" else _local_map
    for record in executor(todo, opts):
        manifest.update(record)
        on_change(record)
    return manifest


def _resumed(manifest: Manifest, item: BatchItem, settings: str, opts: BatchOptions) -> ItemRecord:
    """A film done before with the same content and settings, whose outputs are all still there, is
    skipped; any other is (re)scored."""
    record = ItemRecord(str(item.source), item.relative.as_posix(), settings_sha256=settings)
    try:
        record.content_sha256 = content_sha256(item.source)
    except OSError as exc:
        return _failed(record, EXIT_INPUT, f"{item.source}: cannot read it ({exc.strerror})")
    before = manifest.records.get(record.relative)
    if (
        before is not None
        and not opts.rescore
        and before.status in ("done", "skipped")
        and (before.content_sha256, before.settings_sha256) == (record.content_sha256, settings)
        and before.outputs
        and all((opts.out_dir / p).exists() for p in before.outputs.values())
    ):
        return ItemRecord(**{**asdict(before), "status": "skipped"})
    return record


def _failed(record: ItemRecord, code: int, message: str) -> ItemRecord:
    record.status, record.exit_code, record.error = "failed", code, message
    record.finished = time.time()
    return record


def _local_map(records: list[ItemRecord], opts: BatchOptions) -> Iterator[ItemRecord]:
    """Each film in its own process, `jobs` at a time; records come back as films finish."""
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        pending: set[Future[ItemRecord]] = {pool.submit(score_item, r, opts) for r in records}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def _ray_map(records: list[ItemRecord], opts: BatchOptions) -> Iterator[ItemRecord]:
    """Each film as a Ray task asking for the cores a run uses. On a cluster, the inputs and the output
    folder must be on storage every node sees at the same path."""
    try:
        import ray
    except ImportError:
        from filmscore.core.errors import DependencyError

        raise DependencyError("--executor ray needs Ray. Run: pip install 'filmscore[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=opts.ray_address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)  # fmt: skip
    try:
        task = ray.remote(num_cpus=min(CORES_PER_JOB, usable_cores()))(score_item)
        pending = [task.remote(r, opts) for r in records]
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            yield ray.get(finished[0])
    finally:
        if started_here:
            ray.shutdown()


def score_item(record: ItemRecord, opts: BatchOptions) -> ItemRecord:
    """Run `filmscore run` on one film in a child process, and record how it ended."""
    from filmscore.delivery.mux import MP4_VIDEO
    from filmscore.media.probe import probe

    record.started = time.time()
    try:
        info = probe(Path(record.input))
    except InputError as exc:
        return _failed(record, exc.exit_code, str(exc))
    relative = Path(record.relative)
    suffix = ".mp4" if info.video_codec in MP4_VIDEO else ".mkv"
    scored = f"{relative.name}{SCORED_SUFFIX}"
    video = _inside(opts.out_dir, relative.parent / f"{scored}{suffix}")
    report_dir = _inside(opts.out_dir, relative.parent / f"{scored}{REPORT_DIR_SUFFIX}")
    video.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "filmscore", "run", record.input, "-q", "--overwrite",
        "-o", str(video), "--report-dir", str(report_dir),
        *(["--cache-dir", str(opts.cache_dir)] if opts.cache_dir else []), *opts.run_args,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=_item_env(opts.jobs), check=False)
    record.finished = time.time()
    record.seconds = round(record.finished - record.started, 3)
    record.exit_code = result.returncode
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        return _failed(record, result.returncode, lines[-1] if lines else f"exit {result.returncode}")
    record.status, record.error = "done", None
    record.outputs = {"video": video.relative_to(opts.out_dir).as_posix(),
                      "report_dir": report_dir.relative_to(opts.out_dir).as_posix()}  # fmt: skip
    return record


def _inside(out_dir: Path, relative: Path) -> Path:
    """A path under the output folder; anything that would climb out of it is refused."""
    path = (out_dir / relative).resolve()
    if not path.is_relative_to(out_dir.resolve()):
        raise UsageError(f"{relative} would be written outside {out_dir}")
    return path


def _item_env(jobs: int) -> dict[str, str]:
    """Each film's numeric libraries get their share of the cores, so parallel films do not fight over
    threads; and the film's process stops if the batch is killed."""
    share = str(max(1, usable_cores() // max(1, jobs)))
    return {**os.environ, **dict.fromkeys(THREAD_ENV, share), DIE_WITH_PARENT_ENV: str(os.getpid())}


SPARK_WIDTH, SPARK_HEIGHT = 240, 40
THUMBS_PER_ROW = 6


def write_summary_html(manifest: Manifest, out_dir: Path) -> Path:
    """batch.html: a row per film with its status, a strip of shot thumbnails and a valence/arousal
    sparkline, linking to the film's own report.html. Paths are relative, so the folder can be moved."""
    import html

    rows = []
    for record in manifest.records.values():
        report_dir = out_dir / record.outputs["report_dir"] if record.outputs.get("report_dir") else None
        name = html.escape(record.relative)
        if report_dir is not None and (report_dir / REPORT_NAME).is_file() and record.status != "failed":
            link = html.escape(f"{record.outputs['report_dir']}/report.html")
            cells = (f'<a href="{link}">{name}</a>', _thumb_strip(report_dir, out_dir),
                     _sparkline(report_dir / REPORT_NAME))  # fmt: skip
        else:
            cells = (name, "", f'<span class="error">{html.escape(record.error or "")}</span>')
        seconds = f"{record.seconds:.1f} s" if record.seconds is not None else ""
        status = html.escape(record.status)
        rows.append(f'<tr class="{status}"><td>{cells[0]}</td><td>{status}</td><td>{seconds}</td>'
                    f"<td>{cells[1]}</td><td>{cells[2]}</td></tr>")  # fmt: skip
    counts = manifest.as_dict()["summary"]
    page = SUMMARY_PAGE.format(
        summary=html.escape(", ".join(f"{n} {s}" for s, n in counts.items())), rows="\n".join(rows)
    )
    with OutputSet() as outputs:
        return outputs.write(out_dir / "batch.html", page.encode())


def _thumb_strip(report_dir: Path, out_dir: Path) -> str:
    import html

    thumbs = sorted((report_dir / "thumbnails").glob("*.jpg"))[:THUMBS_PER_ROW]
    return "".join(f'<img src="{html.escape(t.relative_to(out_dir).as_posix())}" alt="">' for t in thumbs)


def _sparkline(report_json: Path) -> str:
    """Valence (blue) and arousal (red) over the film, each from -1 (bottom) to 1 (top)."""
    try:
        timeline = json.loads(report_json.read_text(encoding="utf-8"))["timeline"]
        points = [(float(p["t_s"]), float(p["valence"]), float(p["arousal"])) for p in timeline]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if len(points) < 2:
        return ""
    end = points[-1][0] or 1.0

    def line(index: int, colour: str) -> str:
        coords = " ".join(
            f"{point[0] / end * SPARK_WIDTH:.1f},{(1 - point[index]) / 2 * SPARK_HEIGHT:.1f}"
            for point in points
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>'

    middle = SPARK_HEIGHT / 2
    return (f'<svg width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" aria-label="valence and arousal">'
            f'<line x1="0" x2="{SPARK_WIDTH}" y1="{middle}" y2="{middle}" stroke="#ccc"/>'
            f'{line(1, "#2b6cb0")}{line(2, "#c53030")}</svg>')  # fmt: skip


SUMMARY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>filmscore batch</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 6px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: middle; }}
img {{ height: 40px; margin-right: 2px; }}
tr.failed td {{ background: #fff5f5; }}
.error {{ color: #c53030; }}
.key span {{ margin-right: 1.5em; }}
</style></head><body>
<h1>filmscore batch</h1>
<p>{summary}</p>
<p class="key"><span style="color:#2b6cb0">&#9473; valence</span><span style="color:#c53030">&#9473;
arousal</span></p>
<table><thead><tr><th>film</th><th>status</th><th>time</th><th>shots</th><th>emotion</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""
