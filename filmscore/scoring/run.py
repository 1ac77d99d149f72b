"""`filmscore run`, in a straight line: analyse the film, plan the cues, compose, mix under the dialogue,
mux, and publish the scored film with its report folder, all at once or not at all.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, fields, is_dataclass, replace
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TypeVar

from filmscore.analysis.cache import cached_analysis
from filmscore.analysis.flow import Analysis, AnalyzeOptions
from filmscore.config.names import MUSIC_STEM, REPORT_NAME, SCORE_MIDI
from filmscore.config.settings import default
from filmscore.core.atomic import OutputSet, work_folder
from filmscore.core.progress import PreparedAfter, Progress
from filmscore.core.timecode import sequence_rate
from filmscore.core.workers import audio_helper
from filmscore.delivery.mix import MixOptions, MixResult, mix_under_dialogue, relimit
from filmscore.delivery.mix import helper_warm_up as mix_warm_up
from filmscore.delivery.mux import mux
from filmscore.media.audio import Audio, AudioFile, AudioWriter, blocks, extract_audio_file
from filmscore.media.probe import MUSIC_SAMPLE_RATE, AudioClip, MediaInfo
from filmscore.music.check import MusicCheck, check_music, helper_warm_up, rearrange
from filmscore.music.check_cache import check_key, keep_check, kept_check
from filmscore.music.generators import (
    GENERATORS,
    CueSound,
    Music,
    MusicGenerator,
    MusicRequest,
    silenced,
)
from filmscore.music.mer import MER_BACKENDS, MerBackend
from filmscore.music.planning import CueOptions, CuePlan, KeptCue, plan_cues
from filmscore.music.planning.palette import FIRST_TAKE, film_fingerprint, home_key_for, take_letters
from filmscore.music.spotting import Spotting
from filmscore.music.styles import DEFAULT_STYLE, STYLES
from filmscore.scoring.recut import EarlierCut, Recut, kept_cues, match_shots, recut_of, with_earlier_readings
from filmscore.scoring.stems import CueFile, TakeFile, stage_cue_files, stage_stems, write_wav

WORK_SIGNALS = 9  # film-length stereo signals the work folder may hold at once (see work_space_bytes)
STEM_SIGNALS = 7  # the instrument groups, their sum and one group's speech-band cut, for --stems
DELIVERY_RETRIES = 2  # re-limit and re-encode when the encoder's overshoot passes the true-peak ceiling

T = TypeVar("T")
ReportStager = Callable[["ScoredFilm", Path, OutputSet], object]  # stages the report with the outputs


@dataclass(frozen=True)
class RunOptions:
    analyze: AnalyzeOptions = field(default_factory=AnalyzeOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    mix: MixOptions = field(default_factory=MixOptions)
    generator: str = default("music.generator")  # a name in GENERATORS
    generator_model: str | None = default("music.generator_model")  # its model: a path or a manifest name
    generator_note: str | None = None  # why "auto" chose the generator, for the report
    device: str = default("models.device")  # where a model generator runs
    # the genre a text-prompted generator is asked for: the style's, unless the user names one
    genre: str = STYLES[DEFAULT_STYLE].description
    precision: str = default("music.precision")  # MusicGen's decoder on a CPU: int8 (quantised) or float32
    soundfont: Path | None = None  # a user's General MIDI SoundFont for the symbolic generator
    seed: int = default("music.seed")  # the same seed gives the same music
    keep_original_audio: bool = False
    stems: bool = False  # also write per-instrument stems and the original soundtrack, as mixed
    cache_dir: Path | None = None  # readings and cue renders kept for later runs (core/cache.py); None: none
    mer: str = default("music.mer")  # the music emotion backend that checks each cue; "none" skips the check
    library: Path | None = None  # the indexed music folder of the library generator
    # scores generated (seeds seed, seed + 1, ...); the one closest to the plan is kept
    candidates: int = default("music.candidates")
    takes: int = default("music.takes")  # each cue's takes to offer (a, b, ...): the others are rendered
    spotting: Spotting | None = None  # the editor's spots, read and checked against the film
    previous: EarlierCut | None = None  # an earlier cut whose approved cues a re-cut keeps
    # replace outputs found at their paths when publishing; the CLI gives --overwrite, so a file that
    # appears there while a run works is kept unless the user asked to replace it
    overwrite: bool = True


@dataclass(frozen=True)
class Delivery:
    """What the scored film's main audio track measures, decoded back from the written file."""

    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class ScoredFilm:
    analysis: Analysis
    plan: CuePlan
    music: Music
    mix: MixResult
    delivery: Delivery
    generator: str
    seed: int  # the seed of the score kept
    outputs: dict[str, Path]  # what was written: "video", "music", "midi", "report"
    check: MusicCheck | None = None  # each cue as heard by music emotion recognition, against its target
    recut: Recut | None = None  # with --previous: what was kept, moved, changed and new
    cue_files: tuple[CueFile, ...] = ()  # each cue's own file, as the editing timeline plays it
    take_files: tuple[TakeFile, ...] = ()  # with --takes: each cue's other takes, beside its file


def score_film(
    input_path: Path,
    output: Path,
    report_dir: Path,
    opts: RunOptions,
    progress: Progress,
    helper: Pool | None = None,
    stage_report: ReportStager | None = None,
) -> ScoredFilm:
    """Score the film. `helper`: the run's audio helper when the caller started it already (the CLI
    does, first of all); one is started here otherwise. `stage_report` writes report.json and the editors'
    files from the result into the same set of outputs, so they are published with the film or not at
    all (the report layer sits above this one: it reads ScoredFilm)."""
    generator = _generator(opts)  # before the analysis, so a missing dependency fails at once
    # Film-length audio (the speech track, the render, the original soundtrack, the mix) lives in raw files
    # in a work folder beside the output, streamed a block at a time: a feature's would not fit in memory.
    # The folder goes on every exit path.
    with work_folder(output.parent) as folder:
        work = Path(folder)
        # The helper measures the soundtrack, listens to the music, mixes it, and encodes and measures the
        # scored track.
        with audio_helper(mix_warm_up) if helper is None else nullcontext(helper) as helper:
            space = RunSpace(work, helper)
            preparing = PreparedAfter(
                progress, "pictures and shots", generator.prepare, _mer_ready(helper, opts)
            )
            analysis = cached_analysis(input_path, opts.analyze, preparing, opts.cache_dir, work, helper)
            preparing.prepared()  # a reading from the cache had no picture pass to wait for
            info = analysis.info
            speech = analysis.transcript.speech_regions
            with progress.stage("cues"):
                analysis, keep, matches = _earlier_cut(analysis, opts)
                cue_opts = replace(opts.cues, home_key=_home_key(analysis, opts))
                plan = plan_cues(
                    analysis.emotions, analysis.timeline, info.duration_s, cue_opts, opts.spotting, keep
                )
            earlier = opts.previous.score if opts.previous else None
            request = MusicRequest(plan, speech, opts.seed, opts.stems, work, earlier, opts.cache_dir)
            music, plan, check, seed = compose_takes(generator, request, opts, progress, space.helper)
            generator.release()
            music = silenced(music, plan.silences)
            if opts.generator_note:
                music = replace(music, details={**music.details, "generator_choice": opts.generator_note})
            with progress.stage("mix"):
                mixed = _mix(info, music, speech, opts.mix, space)
            with progress.stage("mux"), OutputSet(opts.overwrite) as outputs:
                paths = {
                    "video": output,
                    "music": report_dir / MUSIC_STEM,
                    **({"report": report_dir / REPORT_NAME} if stage_report else {}),
                    **({"midi": report_dir / SCORE_MIDI} if music.midi else {}),
                }
                target = outputs.stage(output)
                if music.midi:
                    outputs.write(paths["midi"], music.midi)
                files = _MusicFiles(plan, music, report_dir, outputs, sequence_rate(info.fps), opts.stems,
                                    info.has_audio, space.work)  # fmt: skip
                # The music's files are written while the helper encodes and measures the film, on the
                # core it leaves free; a mix the mux had to limit again is written once more, over them.
                writer = files.write_beside(mixed)
                try:
                    delivered, delivery = _deliver(info, mixed, target, output.suffix, opts, space)
                finally:
                    writer.join()  # local work that always ends, in tenths of a second
                files.raise_failure()
                if delivered is not mixed:
                    files.write(delivered)
                mixed = delivered
                paths.update(files.paths)
                cue_files, take_files = files.cue_files, files.take_files
                recut = recut_of(plan, opts.previous, matches, 1 / info.fps) if opts.previous else None
                scored = ScoredFilm(
                    analysis,
                    plan,
                    music,
                    mixed,
                    delivery,
                    generator.name,
                    seed,
                    paths,
                    check,
                    recut,
                    cue_files,
                    take_files,
                )
                if stage_report is not None:
                    stage_report(scored, report_dir, outputs)
    return scored


def _mer_ready(helper: Pool, opts: RunOptions) -> Callable[[], object] | None:
    """What gets the helper's MER ready (librosa's import, about 2 s of a core) behind the picture pass; a
    reading from the cache has none, and its music check (where not kept either) pays for it."""
    warm_up = helper_warm_up(opts.mer)
    return None if warm_up is None else functools.partial(helper.apply_async, warm_up)


def _earlier_cut(
    analysis: Analysis, opts: RunOptions
) -> tuple[Analysis, tuple[KeptCue, ...], tuple[int | None, ...]]:
    """In a re-cut: the analysis with the matched shots' earlier readings, the earlier cues to keep, and
    each shot's earlier shot. Otherwise the analysis as it is."""
    if opts.previous is None:
        return analysis, (), ()
    matches = match_shots(analysis, opts.previous)
    analysis = with_earlier_readings(analysis, opts.previous, matches, opts.analyze.fusion)
    return analysis, kept_cues(analysis, opts.previous, matches, opts.spotting), matches


def _home_key(analysis: Analysis, opts: RunOptions) -> int:
    """The score's home key: a re-cut keeps the earlier score's, so its kept cues and the new ones share
    it; else the film's and the seed's (music/planning/palette.py)."""
    if opts.previous is not None:
        return opts.previous.score.plan.home_key
    shots = [(e.start_s, str(e.label)) for e in analysis.emotions]
    return home_key_for(opts.seed, film_fingerprint(analysis.info.duration_s, shots))


def _mix(
    info: MediaInfo,
    music: Music,
    speech: tuple[tuple[float, float], ...],
    opts: MixOptions,
    space: RunSpace,
) -> MixResult:
    """The music ducked under the film's own soundtrack, at the loudness target (mixed in the helper)."""
    original = None
    if info.has_audio:
        original = extract_audio_file(info, MUSIC_SAMPLE_RATE, 2, space.work / "original.f32")
    mixed = space.apply(mix_under_dialogue, original, music.audio, speech, opts, space.work)
    if original is not None:
        original.path.unlink()  # mixed in; its disk space is needed for the delivery
    return mixed


def compose_checked(
    generator: MusicGenerator,
    request: MusicRequest,
    opts: RunOptions,
    progress: Progress | None = None,
    helper: Pool | None = None,
) -> tuple[Music, CuePlan, MusicCheck | None, int]:
    """The music, its plan, MER's check of it, and its seed. With several candidates, each seed's score is
    checked and the closest to the plan kept. A generator that follows the arrangement then re-arranges
    the cues that missed and generates once more, kept if it lands closer. Generating is timed as the
    "compose" stage and listening as "music check", however often each runs. The audio `helper` listens
    (see `cue_check.check_music`); without one, this process does."""
    progress = progress or Progress()

    def compose(request: MusicRequest) -> Music:
        with progress.stage("compose"):
            return generator.generate(request)

    if opts.mer == "none":
        return compose(request), request.plan, None, request.seed
    mer = MER_BACKENDS.create(opts.mer)
    return _compose_and_listen(generator, request, opts, compose, progress, mer, helper)


def _compose_and_listen(
    generator: MusicGenerator,
    request: MusicRequest,
    opts: RunOptions,
    compose: Callable[[MusicRequest], Music],
    progress: Progress,
    mer: MerBackend,
    helper: Pool | None,
) -> tuple[Music, CuePlan, MusicCheck, int]:
    """compose_checked's loop: compose, listen, re-arrange what missed, compose again."""

    def check_of(music: Music, plan: CuePlan) -> MusicCheck:
        with progress.stage("music check"):
            if request.cache_dir is None:
                return check_music(music.audio, plan, mer, helper)
            # Music that is sample for sample an earlier run's (its cues' renders kept) was heard then.
            key = check_key(music.audio, plan, mer.name)
            check = kept_check(request.cache_dir, key)
            if check is None:
                check = check_music(music.audio, plan, mer, helper)
                keep_check(request.cache_dir, key, check)
            return check

    def heard(seed: int, folder: str) -> tuple[Music, MusicCheck, int]:
        music = compose(_in_own_folder(replace(request, seed=seed), folder))
        return music, check_of(music, request.plan), seed

    music, check, seed = heard(request.seed, "candidate-0")
    for k in range(1, opts.candidates):
        other = heard(request.seed + k, f"candidate-{k}")
        if other[1].mean_error < check.mean_error:
            _discard(music)
            music, check, seed = other
        else:
            _discard(other[0])
    if not check.missed or not generator.follows_arrangement:
        return music, request.plan, check, seed
    plan = rearrange(request.plan, check)
    revised = compose(_in_own_folder(replace(request, plan=plan, seed=seed), "rearranged"))
    revised_check = replace(check_of(revised, plan), rearranged=check.missed)
    if revised_check.mean_error < check.mean_error:
        _discard(music)
        return revised, plan, revised_check, seed
    _discard(revised)
    return music, request.plan, check, seed


def compose_takes(
    generator: MusicGenerator,
    request: MusicRequest,
    opts: RunOptions,
    progress: Progress | None = None,
    helper: Pool | None = None,
) -> tuple[Music, CuePlan, MusicCheck | None, int]:
    """compose_checked's result where cues play chosen takes or offer others (--takes): each take's whole
    score (every cue on it) composed and checked as a run's score is (`take_scores`), and each cue's sound
    taken from the score of the take it plays; the others are offered (Music.other_takes). A cue's chosen
    take is then what the earlier run offered, sample for sample, and every other cue is what it was. A
    generator that writes no takes plays take a everywhere and offers none."""
    plan = request.plan
    if not generator.writes_takes:
        request = replace(request, plan=_on_take(plan, FIRST_TAKE))
        return compose_checked(generator, request, opts, progress, helper)
    played = {cue.take for cue in plan.cues}
    if played == {FIRST_TAKE} and opts.takes <= 1:
        return compose_checked(generator, request, opts, progress, helper)
    offered = take_letters(opts.takes)
    scores, seed = take_scores(generator, request, [*sorted(played), *offered], opts, progress, helper)
    chosen = replace(
        plan, cues=tuple(replace(scores[c.take].plan.cues[c.id], take=c.take) for c in plan.cues)
    )
    if played == {FIRST_TAKE}:
        music, check = scores[FIRST_TAKE].music, scores[FIRST_TAKE].check
    else:
        # Each cue renders alone from its own notes, so the chosen plan's render is each take's sound.
        music = generator.generate(_in_own_folder(replace(request, plan=chosen, seed=seed), "chosen"))
        check = _chosen_check(scores, plan)
    others = [
        replace(sound, take=take)
        for take in offered
        for sound in scores[take].music.cue_sounds
        if plan.cues[sound.cue_id].take != take and plan.cues[sound.cue_id].kept_from is None
    ]
    for score in scores.values():
        if score.music is not music:
            _discard(score.music, keep=others)
    return replace(music, other_takes=tuple(others)), chosen, check, seed


@dataclass(frozen=True)
class TakeScore:
    """One take's whole score: the music, its plan (re-arranged where the check asked) and its check."""

    music: Music
    plan: CuePlan
    check: MusicCheck | None


def take_scores(
    generator: MusicGenerator,
    request: MusicRequest,
    takes: list[str],
    opts: RunOptions,
    progress: Progress | None = None,
    helper: Pool | None = None,
) -> tuple[dict[str, TakeScore], int]:
    """Each take's score, every cue on it but a re-cut's kept cues (they keep the sound they had); and the
    seed take a was written with (--candidates choose it), which the other takes draw theirs from."""
    scores: dict[str, TakeScore] = {}
    seed = request.seed
    for take in dict.fromkeys([FIRST_TAKE, *takes]):
        asked = replace(request, plan=_on_take(request.plan, take), seed=seed)
        if take != FIRST_TAKE:
            asked = _in_own_folder(replace(asked, stems=False), f"take-{take}")
        tries = opts if take == FIRST_TAKE else replace(opts, candidates=1)
        music, plan, check, chosen_seed = compose_checked(generator, asked, tries, progress, helper)
        seed = chosen_seed if take == FIRST_TAKE else seed
        scores[take] = TakeScore(music, plan, check)
    return scores, seed


def _on_take(plan: CuePlan, take: str) -> CuePlan:
    """The plan with every cue on `take`, but the kept cues of a re-cut."""
    return replace(
        plan, cues=tuple(cue if cue.kept_from is not None else replace(cue, take=take) for cue in plan.cues)
    )


def _chosen_check(scores: dict[str, TakeScore], plan: CuePlan) -> MusicCheck | None:
    """Each cue's check as its take's score heard it."""
    checks = {take: score.check for take, score in scores.items()}
    first = checks[FIRST_TAKE]
    if first is None:
        return None
    heard = [checks[cue.take].cues[cue.id] for cue in plan.cues]  # type: ignore[union-attr]
    rearranged = [cue.id for cue in plan.cues if cue.id in checks[cue.take].rearranged]  # type: ignore[union-attr]
    return replace(first, cues=tuple(heard), rearranged=tuple(rearranged))


def _in_own_folder(request: MusicRequest, name: str) -> MusicRequest:
    """The request with a work subfolder of its own, so one score's files never overwrite another's."""
    if request.workdir is None:
        return request
    folder = request.workdir / name
    folder.mkdir(exist_ok=True)
    return replace(request, workdir=folder)


def _discard(music: Music, keep: Sequence[CueSound] = ()) -> None:
    """Free the disk a rejected score's work files hold, but those of the sounds in `keep`."""
    kept = {id(sound.audio) for sound in keep}
    sounds = [s for s in (*music.cue_sounds, *music.other_takes) if id(s.audio) not in kept]
    for audio in (music.audio, *music.stems.values(), *(cue.audio for cue in sounds)):
        if isinstance(audio, AudioFile):
            audio.path.unlink(missing_ok=True)


def work_space_bytes(duration_s: float, stems: bool, takes: int = 1) -> int:
    """About the most the work folder holds at once for a film this long: the music and its cues' own
    sounds (together about a film's length, kept for the cue files), its speech-band cut, the original
    soundtrack, the limiter's curve and the finished mix, stem and gain while mixing, then a re-limited
    copy and the delivered track decoded back while muxing; with --stems, one more signal per group (and
    the cut of the one being written); with --takes, about a film's length more for each other take."""
    signal = duration_s * MUSIC_SAMPLE_RATE * 2 * 4  # 48 kHz stereo float32
    return int(signal * (WORK_SIGNALS + (STEM_SIGNALS if stems else 0) + takes - 1))


def _generator(opts: RunOptions) -> MusicGenerator:
    options: dict[str, object] = {}
    if opts.generator == "symbolic" and opts.soundfont:
        options["soundfont"] = opts.soundfont
    if opts.generator == "library":
        options["library"] = opts.library
    if opts.generator == "musicgen":
        options.update(genre=opts.genre, cpu_int8=opts.precision == "int8")
    return GENERATORS.create_configured(opts.generator, opts.generator_model, opts.device, **options)


class _MusicFiles:
    """The music stem, each cue's file (and its takes') and with --stems the instrument stems, as one
    mix leaves them, staged with the run's outputs; `paths` and the cue files once written."""

    def __init__(self, plan: CuePlan, music: Music, report_dir: Path, outputs: OutputSet, fps: float,
                 stems: bool, has_audio: bool, work: Path) -> None:  # fmt: skip
        self._plan, self._music, self._report_dir, self._outputs = plan, music, report_dir, outputs
        self._fps, self._stems, self._has_audio, self._work = fps, stems, has_audio, work
        self.paths: dict[str, Path] = {}
        self.cue_files: tuple[CueFile, ...] = ()
        self.take_files: tuple[TakeFile, ...] = ()
        self._failed: BaseException | None = None

    def write_beside(self, mixed: MixResult) -> threading.Thread:
        """Write them in a thread of their own, started; raise_failure after joining it."""
        writer = threading.Thread(target=self._write_catching, args=(mixed,), name="filmscore-music-files")
        writer.start()
        return writer

    def raise_failure(self) -> None:
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def write(self, mixed: MixResult) -> None:
        music_path = self._report_dir / MUSIC_STEM
        write_wav(self._outputs.stage(music_path), mixed.stem)
        paths, self.cue_files, self.take_files = stage_cue_files(
            self._plan, self._music, mixed, self._fps, self._report_dir, self._outputs
        )
        if self._stems:
            paths.update(stage_stems(self._music, mixed, self._report_dir, self._outputs, self._has_audio,
                                     self._work))  # fmt: skip
        self.paths = {"music": music_path, **paths}

    def _write_catching(self, mixed: MixResult) -> None:
        try:
            self.write(mixed)
        except BaseException as exc:  # handed to the run's thread by raise_failure
            self._failed = exc


def _deliver(
    info: MediaInfo,
    mixed: MixResult,
    target: Path,
    suffix: str,
    opts: RunOptions,
    space: RunSpace,
) -> tuple[MixResult, Delivery]:
    """Encode and mux, then measure the written file; if the encoder pushed the true peak over the ceiling,
    limit harder by the overshoot and encode again. The limiter and the measures run in the helper."""
    mix_opts = opts.mix
    for _ in range(DELIVERY_RETRIES):
        delivery = _encode(info, mixed, target, suffix, opts.keep_original_audio, space)
        overshoot = delivery.true_peak_dbtp - mix_opts.true_peak_dbtp
        if overshoot <= 0:
            return mixed, delivery
        mix_opts = replace(mix_opts, peak_margin_db=mix_opts.peak_margin_db + overshoot + 0.2)
        ceiling = mix_opts.true_peak_dbtp - mix_opts.peak_margin_db
        mixed = space.apply(relimit, mixed, ceiling, space.work)
    return mixed, _encode(info, mixed, target, suffix, opts.keep_original_audio, space)


def _encode(
    info: MediaInfo, mixed: MixResult, target: Path, suffix: str, keep: bool, space: RunSpace
) -> Delivery:
    mix = _as_file(mixed.mix, space.work / "mix-input.f32")
    measured = space.apply(mux, info, mix, target, suffix, keep)
    return Delivery(measured.integrated_lufs, measured.true_peak_dbtp)


def _as_file(audio: Audio, path: Path) -> AudioFile:
    """The signal as a raw file ffmpeg can read: itself if it is one already."""
    if isinstance(audio, AudioFile):
        return audio
    writer = AudioWriter(audio.frames, audio.channels, audio.sample_rate, path.parent, path.stem)
    for first, last in blocks(audio.frames):
        writer.write(audio.read(first, last))
    written = writer.finish()
    assert isinstance(written, AudioFile)  # a writer with a folder writes a file
    return written


@dataclass(frozen=True)
class RunSpace:
    """Where a run works: its work folder (film-length audio as raw files) and its audio helper (a worker
    with the mix's libraries loaded; None: this process does the work), carried together."""

    work: Path
    helper: Pool | None = None

    def apply(self, work: Callable[..., T], *args: object) -> T:
        """`work(*args)` in the helper, as `in_helper` decides."""
        return in_helper(self.helper, work, *args)


def in_helper(helper: Pool | None, work: Callable[..., T], *args: object) -> T:
    """`work(*args)` in the audio helper, which has the mix's libraries (scipy's signal tools, pyloudnorm)
    loaded already, so this process never imports them: about 0.9 s on one core, paid while both cores
    are busy with the analysis. Here instead when there is no helper, or when a signal is held in memory
    (only files, which pickle as their paths, go between processes)."""
    if helper is None or any(_holds_clip(arg) for arg in args):
        return work(*args)
    return helper.apply(work, args)


def _holds_clip(arg: object) -> bool:
    """Whether `arg` is a signal in memory, or a result (a MixResult) with one among its fields."""
    if isinstance(arg, AudioClip):
        return True
    return is_dataclass(arg) and any(isinstance(getattr(arg, f.name), AudioClip) for f in fields(arg))
