"""`filmscore batch`: score a folder (or a list) of rushes, in parallel, resumably, one bad file never
stopping the rest.

Films are scored by warm film workers (film_workers.py): long-lived processes, one per job, that score
film after film as `filmscore run` would, keeping the models they loaded. A film that fails is recorded
and the worker goes on; a worker that crashes or hangs is replaced, and its film alone is lost. Each
film's outputs are published atomically as in any run. The batch keeps a manifest, `batch.json` in the
output folder, rewritten atomically as each film finishes: a re-run of the same command skips the films
already done (same content hash, same settings), and a killed batch picks up where it stopped. The
workers run on this machine, or as Ray actors on a cluster.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filmscore.batch.film_workers import FilmWorker, default_timeout_s, stop_all
from filmscore.batch.inputs import BatchItem
from filmscore.batch.records import ItemRecord, Manifest, settings_sha256
from filmscore.config.names import REPORT_DIR_SUFFIX, SCORED_SUFFIX
from filmscore.core.atomic import content_sha256
from filmscore.core.errors import EXIT_INPUT, InputError, UsageError
from filmscore.core.workers import DIE_WITH_PARENT_ENV, usable_cores

CACHE_FOLDER = ".filmscore-cache"  # analyses by content hash, shared by every run of the batch
CORES_PER_JOB = 2  # a run keeps two cores busy: the picture pass and the speech workers
MEMORY_PER_JOB = 1.5e9  # bytes a 720p or 1080p run peaks at, with room to spare
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
    film_timeout_s: float | None = None  # a film's time limit; None: by its length (default_timeout_s)


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
    if not todo:  # all done before: no worker (nor Ray) is started for nothing
        return manifest
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
    """The films on `jobs` warm workers, each fed by a thread of its own (the thread that starts a worker
    must outlive it: the worker stops when it ends); records come back as films finish."""
    todo: queue.Queue[ItemRecord] = queue.Queue()
    for record in records:
        todo.put(record)
    done: queue.Queue[ItemRecord | BaseException] = queue.Queue()
    stopping = threading.Event()

    def feed(worker: FilmWorker) -> None:
        try:
            while not stopping.is_set():
                try:
                    record = todo.get_nowait()
                except queue.Empty:
                    return
                on_start(record)
                done.put(score_item(record, opts, worker))
        except BaseException as exc:  # a bug here: the batch reports it rather than waiting for ever
            done.put(exc)
        finally:
            worker.stop()

    feeders = [
        threading.Thread(target=feed, args=(FilmWorker(_item_env(opts.jobs)),), name=f"filmscore-job-{n}")
        for n in range(max(1, min(opts.jobs, len(records))))
    ]
    for feeder in feeders:
        feeder.start()
    try:
        for _ in records:
            finished = done.get()
            if isinstance(finished, BaseException):
                raise finished
            yield finished
    finally:
        stopping.set()
        stop_all()  # none left when the batch ended normally; a stopped batch does not wait for its films
        for feeder in feeders:
            feeder.join()


def _ray_map(
    records: list[ItemRecord], opts: BatchOptions, on_start: Callable[[ItemRecord], None]
) -> Iterator[ItemRecord]:
    """The films on `jobs` Ray actors, each holding a warm worker as a local job does, with the cores a
    run uses (the cluster's share, where it has fewer). On a cluster, the inputs and the output folder
    must be on storage every node sees at the same path."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        from filmscore.core.errors import DependencyError

        raise DependencyError("--executor ray needs Ray. Run: pip install 'filmscore[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=opts.ray_address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)  # fmt: skip
    try:
        jobs = max(1, min(opts.jobs, len(records)))
        cpus = max(1, min(CORES_PER_JOB, int(ray.cluster_resources().get("CPU", 1)) // jobs))
        actor: Any = ray.remote(num_cpus=cpus)(RayFilmWorker)
        actors = [actor.remote(cpus) for _ in range(jobs)]
        pool = ActorPool(actors)
        for record in records:
            on_start(record)
            pool.submit(lambda worker, r: worker.score.remote(r, opts), record)
        while pool.has_next():
            yield pool.get_next_unordered()
        for worker in actors:
            ray.get(worker.stop.remote())
    finally:
        if started_here:
            ray.shutdown()


class RayFilmWorker:
    """A Ray actor holding a warm film worker on its node: the local batch's worker, supervised the same
    way (a crash or a hang ends that film alone, and the worker is replaced)."""

    def __init__(self, cpus: int) -> None:
        self._worker = FilmWorker(_worker_env(cpus))  # the cores Ray gave it

    def score(self, record: ItemRecord, opts: BatchOptions) -> ItemRecord:
        return score_item(record, opts, self._worker)

    def stop(self) -> None:
        self._worker.stop()


def score_item(record: ItemRecord, opts: BatchOptions, worker: FilmWorker) -> ItemRecord:
    """Score one film on `worker`, and record how it ended."""
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
    run_args = [
        record.input, "-q", "--overwrite", "-o", str(video), "--report-dir", str(report_dir),
        *(["--cache-dir", str(opts.cache_dir)] if opts.cache_dir else ["--no-cache"]), *opts.run_args,
    ]  # fmt: skip
    timeout_s = opts.film_timeout_s or default_timeout_s(info.duration_s)
    end = worker.score(run_args, timeout_s)
    record.finished = time.time()
    record.seconds = round(record.finished - record.started, 3)
    record.exit_code = end.code
    if end.code != 0:
        return _failed(record, end.code, end.error or f"exit {end.code}")
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
    """Each local worker's numeric libraries get their share of the cores, so parallel films do not
    fight over threads."""
    return _worker_env(max(1, usable_cores() // max(1, jobs)))


def _worker_env(threads: int) -> dict[str, str]:
    """A film worker's environment: `threads` for its numeric libraries, and the worker stops if the
    process that started it is killed."""
    return {**os.environ, **dict.fromkeys(THREAD_ENV, str(threads)), DIE_WITH_PARENT_ENV: str(os.getpid())}
