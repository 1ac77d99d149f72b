"""The analysis pipeline, in a straight line: probe, one decode pass, shots, dialogue, three emotion
sources, fusion.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path

from filmscore.analysis.dialogue import (
    DialogueOptions,
    Transcript,
    check_asr,
    each_line_by_shot,
    merge_transcripts,
    speech_workers,
    split_regions,
    transcribe_regions,
    voice_regions,
)
from filmscore.analysis.fusion import FusionOptions, ShotEmotion, TimelinePoint, fuse, timeline
from filmscore.analysis.shots import Shot, ShotAnalyser, ShotOptions
from filmscore.analysis.soundtrack import ShotSound, audio_emotion, measure_soundtrack
from filmscore.analysis.text import TEXT_EMOTION_BACKENDS, TextEmotionBackend
from filmscore.analysis.thumbnails import ThumbnailAnalyser
from filmscore.analysis.visual import VISUAL_EMOTION_BACKENDS
from filmscore.config.settings import DEFAULT_PRESET, default
from filmscore.core.affect import Affect
from filmscore.core.errors import InputError
from filmscore.core.progress import Progress
from filmscore.core.workers import audio_helper, keeping_workers, worker_pool
from filmscore.media.audio import speech_track
from filmscore.media.decode import DecodeOptions, FrameAnalyser, analysis_geometry, decoder_threads, scan
from filmscore.media.probe import MediaInfo, probe

# Speech is recognised in at most this many worker processes, each given consecutive passages with about
# the same amount of speech (one for little speech: dialogue.speech_workers). Two keep both cores of a
# small machine busy once the picture pass ends; fixed rather than the core count, so a film gets the same
# transcript on any machine.
ASR_WORKERS = 2
AUDIO_EMOTION_METHOD = "prosody"  # loudness plus pitch and speech-rate prosody (embedded)


@dataclass(frozen=True)
class AnalyzeOptions:
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    shots: ShotOptions = field(default_factory=ShotOptions)
    dialogue: DialogueOptions = field(default_factory=DialogueOptions)
    text_emotion: str = default("analysis.text_emotion")  # a name in TEXT_EMOTION_BACKENDS
    # its model: a path or a manifest name
    text_emotion_model: str | None = default("analysis.text_emotion_model")
    visual_emotion: str = default("analysis.visual_emotion")  # a name in VISUAL_EMOTION_BACKENDS
    visual_emotion_model: str | None = default("analysis.visual_emotion_model")
    face_model: str | None = default("analysis.face_model")  # a facial-expression model for the clip backend
    device: str = default("models.device")  # where the model backends run
    notes: tuple[tuple[str, str], ...] = ()  # (kind, why that backend) for backends chosen by "auto"
    fusion: FusionOptions = field(default_factory=FusionOptions)
    max_duration_s: float | None = None  # refuse longer films (a guard for shared machines)
    pipeline: str = DEFAULT_PRESET  # the preset these options came from, recorded in the report


@dataclass(frozen=True)
class Analysis:
    """Everything `analyze` learnt about a film; the report is written from this alone."""

    info: MediaInfo
    shots: tuple[Shot, ...]
    transcript: Transcript
    emotions: tuple[ShotEmotion, ...]
    timeline: tuple[TimelinePoint, ...]
    sounds: tuple[ShotSound, ...]
    pictures: tuple[dict[str, float], ...]  # the visual backend's per-shot measures, when it keeps them
    backends: dict[str, str]
    thumbnails: tuple[bytes, ...] = ()  # a JPEG per shot, from the shared decode
    pipeline: str = "embedded"  # the preset of settings used


def analyze(
    path: Path,
    opts: AnalyzeOptions,
    progress: Progress | None = None,
    workdir: Path | None = None,
    helper: Pool | None = None,
) -> Analysis:
    """Everything about the film the report and the composer need. The speech track is kept in a raw
    file in a temporary folder inside `workdir` (else the system's temp folder) for the analysis. The
    soundtrack is measured in `helper` (see `workers.audio_helper`; one is started when none is given)."""
    progress = progress or Progress()
    with contextlib.ExitStack() as cleanup:
        if helper is None:
            helper = cleanup.enter_context(audio_helper())
        with progress.stage("probe"):
            info = probe(path)
            check_duration(info, opts.max_duration_s)
            # Backends are created before the long work, so a missing dependency fails at once.
            text_backend = TEXT_EMOTION_BACKENDS.create_configured(
                opts.text_emotion, opts.text_emotion_model, opts.device
            )
            face = {"face_model": opts.face_model} if opts.face_model else {}
            visual_backend = VISUAL_EMOTION_BACKENDS.create_configured(
                opts.visual_emotion, opts.visual_emotion_model, opts.device, **face
            )
            asr_model = check_asr(opts.dialogue)
            speech_audio = cleanup.enter_context(speech_track(info, workdir))
            regions = voice_regions(speech_audio, opts.dialogue)
            # Pitch and loudness need no words nor pictures: the helper measures them from the track's
            # file beside the picture pass and the speech workers.
            soundtrack = helper.apply_async(measure_soundtrack, (speech_audio, regions))
        # Speech is recognised in worker processes while the single decode pass feeds every visual
        # analyser. A thread would not do: PocketSphinx holds the GIL while it decodes. Each worker reads
        # its own passages from the speech track's file.
        batches = split_regions(regions, speech_workers(regions, ASR_WORKERS))
        # Leaving the block terminates the workers, on Ctrl-C or an error too: no recogniser outlives a run.
        with worker_pool(max(1, len(batches))) as pool:
            work = [(speech_audio, batch, opts.dialogue, keeping_workers()) for batch in batches]
            pending = [pool.apply_async(transcribe_regions, args) for args in work]
            with progress.stage("pictures and shots"):
                geometry = analysis_geometry(info, opts.decode)
                shot_analyser = ShotAnalyser(geometry.fps, opts.shots, geometry.step)
                expected = round(info.duration_s * geometry.fps) + 1
                thumbnails = ThumbnailAnalyser(geometry.fps)
                analysers: list[FrameAnalyser] = [shot_analyser, thumbnails]
                analysers += visual_backend.analysers(geometry, expected, shot_analyser.cuts_so_far)
                threads = decoder_threads(info, beside=len(batches))
                scan(info, geometry, analysers, lambda f: progress.update("pictures and shots", f), threads)
                shots = shot_analyser.shots(info.duration_s)
                shot_source = shot_analyser.source
            with progress.stage("soundtrack"):
                track = soundtrack.get()
            with progress.stage("dialogue"):
                transcript = merge_transcripts([part.get() for part in pending], regions, opts.dialogue)
    with progress.stage("emotion"):
        text = text_emotion(transcript, shots, text_backend)
        visual = visual_backend.estimate(shots)
        audio, sounds = audio_emotion(track, transcript, shots, info.has_audio)
        emotions = fuse(shots, text, visual, audio)
        points = timeline(emotions, info.duration_s, opts.fusion)
    return Analysis(
        info=info,
        shots=shots,
        transcript=transcript,
        emotions=emotions,
        timeline=points,
        sounds=sounds,
        pictures=visual_backend.shot_details(),
        thumbnails=thumbnails.for_shots(shots),
        pipeline=opts.pipeline,
        backends={
            "asr": transcript.backend,
            "text_emotion": text_backend.name,
            "visual_emotion": visual_backend.name,
            "audio_emotion": AUDIO_EMOTION_METHOD,
            "shots": shot_source,
            **_models_used(asr_model, text_backend, visual_backend),
            **{f"{kind}_choice": why for kind, why in opts.notes},
        },
    )


def _models_used(asr_model: str | None, *backends: object) -> dict[str, str]:
    """Which weights the neural backends loaded, and on which device, for the report."""
    used = {"asr_model": asr_model} if asr_model else {}
    for kind, backend in zip(("text_emotion", "visual_emotion"), backends, strict=True):
        if hasattr(backend, "model_path"):
            used[f"{kind}_model"] = str(backend.model_path)
            used["device"] = str(backend.device)  # type: ignore[attr-defined]
        if getattr(backend, "face_model_path", None):
            used["face_model"] = str(backend.face_model_path)  # type: ignore[attr-defined]
    return used


def check_duration(info: MediaInfo, max_duration_s: float | None) -> None:
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise InputError(
            f"{info.path.name} lasts {info.duration_s:.0f} s, over --max-duration {max_duration_s:g} s. "
            "Raise the limit, or split the film."
        )


def text_emotion(
    transcript: Transcript, shots: tuple[Shot, ...], backend: TextEmotionBackend
) -> tuple[Affect, ...]:
    """Each line rated on its own (one batch for the backend), and each shot given its strongest line:
    a shot where someone screams one line and mutters another is a frightened shot, not a lukewarm one."""
    per_shot = each_line_by_shot(transcript, shots)
    ratings = iter(backend.rate_many([line for lines in per_shot for line in lines]))
    return tuple(strongest([next(ratings) for _ in lines]) for lines in per_shot)


def strongest(readings: list[Affect]) -> Affect:
    """The reading that says most: the farthest from neutral, by its evidence; nothing for no reading."""
    if not readings:
        return Affect(0.0, 0.0, 0.0)
    return max(readings, key=lambda r: r.weight * math.hypot(r.valence, r.arousal))
