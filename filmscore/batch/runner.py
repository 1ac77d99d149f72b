"""`filmscore batch`: score a folder (or a list) of rushes, in parallel, resumably, one bad file never
stopping the rest.

Each film is scored by its own `filmscore run` process, so a crash, a memory blow-up or a corrupt file
touches that film alone, and its outputs are published atomically as in any run. The batch keeps a
manifest, `batch.json` in the output folder, rewritten atomically as each film finishes: a re-run of the
same command skips the films already done (same content hash, same settings), and a killed batch picks
up where it stopped. Films run on a pool of local processes, or as Ray tasks on a cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filmscore.batch.inputs import BatchItem
from filmscore.batch.records import ItemRecord, Manifest, settings_sha256
from filmscore.config.names import REPORT_DIR_SUFFIX, SCORED_SUFFIX
from filmscore.core.atomic import content_sha256
from filmscore.core.errors import EXIT_INPUT, InputError, UsageError
from filmscore.core.workers import DIE_WITH_PARENT_ENV, usable_cores

CACHE_FOLDER = ".filmscore-cache"  # analyses by content hash, shared by every run of the batch
CORES_PER_JOB = 2  # a run keeps two cores busy: the picture pass and the speech workers
MEMORY_PER_JOB = 1.5e9  # bytes a 720p or 1080p run peaks at, with room to spare
FILM_STOP_S = 5.0  # a stopped film's process has this long to clean up before it is killed
_films: set[subprocess.Popen[str]] = set()  # the films' processes running now, for stop_films
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@dataclass(frozen=True)
class BatchOptions:
    out_dir: Path
    run_args: tuple[str, ...] = ()  # options passed on to every `filmscore run`
    jobs: int = 1
    executor: str = "local"  # "local" or "ray"
    ray_address: str | None = None  # None: start or join a Ray cluster on this machine
    # readings and renders shared by the films' runs (default OUTDIR/.filmscore-cache); None: --no-cache
    cache_dir: Path | None = None
    rescore: bool = False  # score every film again, done or not (--overwrite)
    spotting: Path | None = None  # the spotting setting (flag or preset): a file, or a folder of them
    cuts: Path | None = None  # the cut list setting (--cuts): a file, or a folder of them


# Settings that name a file or folder: passed on as absolute paths, so a film's run (in another process, or
# on another machine of a Ray cluster with the same mounts) finds them wherever it starts.
PATH_SETTINGS = ("cues.spotting", "analysis.cuts", "music.soundfont", "music.library")


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
            passed += [
                str(BY_KEY[key].flag),
                str(Path(value).resolve()) if key in PATH_SETTINGS else str(value),
            ]
    if max_duration is not None:
        passed += ["--max-duration", str(max_duration)]
    passed += ["--stems"] * stems + ["--keep-original-audio"] * keep_original
    return tuple(passed)


def default_jobs() -> int:
    """As many films at once as the cores and the memory allow, at least one."""
    cores = usable_cores()
    try:
        memory = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError):
        memory = MEMORY_PER_JOB
    return max(1, min(cores // CORES_PER_JOB, int(memory // MEMORY_PER_JOB)))


def run_batch(
    items: list[BatchItem],
    opts: BatchOptions,
    on_change: Callable[[ItemRecord], None] = lambda r: None,
    on_start: Callable[[ItemRecord], None] = lambda r: None,
) -> Manifest:
    """Score every film not already done; each finished film is written to the manifest at once. The
    manifest keeps the films of earlier batches into the same folder too. `on_start` hears of each film
    as its scoring starts (on this machine; Ray's tasks as they are sent)."""
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(opts.out_dir)
    settings = settings_sha256(opts.run_args)
    todo = []
    for item in items:
        film_settings = _with_editor_files(settings, opts, item.source)
        record = _resumed(manifest, item, film_settings, opts)
        manifest.update(record)
        on_change(record)
        if record.status != "skipped":
            todo.append(record)
    executor = _ray_map if opts.executor == "ray" else _local_map
    for record in executor(todo, opts, on_start):
        manifest.update(record)
        on_change(record)
    return manifest


def _with_editor_files(settings: str, opts: BatchOptions, film: Path) -> str:
    """The settings, with the content of the film's spotting file and cut list where it has them: a film
    whose spotting or cut changed is scored again."""
    from filmscore.analysis.cut_list import CUT_LIST_SUFFIXES
    from filmscore.media.timelines import file_in_folder
    from filmscore.music.spotting_files import spotting_in_folder

    files: list[Path | None] = []
    if opts.spotting is not None:
        files.append(spotting_in_folder(opts.spotting, film) if opts.spotting.is_dir() else opts.spotting)
    if opts.cuts is not None:
        files.append(file_in_folder(opts.cuts, film, CUT_LIST_SUFFIXES) if opts.cuts.is_dir() else opts.cuts)
    contents = [content_sha256(path) for path in files if path is not None and path.is_file()]
    if not contents:
        return settings
    return hashlib.sha256(" ".join([settings, *contents]).encode()).hexdigest()


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


def _local_map(
    records: list[ItemRecord], opts: BatchOptions, on_start: Callable[[ItemRecord], None]
) -> Iterator[ItemRecord]:
    """Each film in its own process, `jobs` at a time; records come back as films finish."""

    def started_and_scored(record: ItemRecord) -> ItemRecord:
        on_start(record)
        return score_item(record, opts)

    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        pending: set[Future[ItemRecord]] = {pool.submit(started_and_scored, r) for r in records}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
            stop_films()  # none left when the batch ended normally


def _ray_map(
    records: list[ItemRecord], opts: BatchOptions, on_start: Callable[[ItemRecord], None]
) -> Iterator[ItemRecord]:
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
        for record in records:
            on_start(record)
        pending = [task.remote(r, opts) for r in records]
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            yield ray.get(finished[0])
    finally:
        if started_here:
            ray.shutdown()


def score_item(record: ItemRecord, opts: BatchOptions) -> ItemRecord:
    """Run `filmscore run` on one film in a child process, and record how it ended."""
    from filmscore.delivery.mux import scored_suffix
    from filmscore.media.probe import probe

    record.started = time.time()
    try:
        info = probe(Path(record.input))
    except InputError as exc:
        return _failed(record, exc.exit_code, str(exc))
    relative = Path(record.relative)
    suffix = scored_suffix(info)
    scored = f"{relative.name}{SCORED_SUFFIX}"
    video = _inside(opts.out_dir, relative.parent / f"{scored}{suffix}")
    report_dir = _inside(opts.out_dir, relative.parent / f"{scored}{REPORT_DIR_SUFFIX}")
    video.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "filmscore", "run", record.input, "-q", "--overwrite",
        "-o", str(video), "--report-dir", str(report_dir),
        *(["--cache-dir", str(opts.cache_dir)] if opts.cache_dir else ["--no-cache"]), *opts.run_args,
    ]  # fmt: skip
    result = _film_process(command, _item_env(opts.jobs))
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


def _film_process(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one film's process to its end, known to `stop_films` meanwhile."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        _films.add(process)
        try:
            stdout, stderr = process.communicate()
        finally:
            _films.discard(process)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def stop_films() -> None:
    """Ask every running film's process to stop (each removes its own temp files on SIGTERM), and kill
    those still running after FILM_STOP_S. Called when the batch is interrupted: waiting for them to finish
    would keep a stopped batch running for as long as its longest film."""
    running = list(_films)
    for process in running:
        with contextlib.suppress(OSError):
            process.terminate()
    deadline = time.monotonic() + FILM_STOP_S
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


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
