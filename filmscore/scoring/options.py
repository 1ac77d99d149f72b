"""The typed options of a run, built from the settings (the table's defaults, a preset, the flags): where
"auto" backends are resolved, and every model the run will load is checked before any work starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from filmscore.analysis.flow import AnalyzeOptions
from filmscore.analysis.shots import ShotOptions
from filmscore.config import backends
from filmscore.config.settings import AUTO, parse_loudness
from filmscore.core.errors import UsageError
from filmscore.core.registry import Registry
from filmscore.delivery.mix import MixOptions
from filmscore.media.decode import DecodeOptions
from filmscore.music.planning import CueOptions
from filmscore.music.styles import STYLES
from filmscore.scoring.run import RunOptions
from filmscore.store.models import choose_backend, require_models

Settings = Mapping[str, Any]  # every setting's value by key, and the preset's name under "pipeline"


@dataclass(frozen=True)
class Choice:
    """A backend setting resolved: the backend that runs, and, where "auto" chose it, why."""

    name: str
    why: str | None = None


def choose(registry: Registry[Any], kind: str, requested: str, model: str | None) -> Choice:
    """`requested` itself, or for "auto" the backend choose_backend finds, with its reason."""
    name, why = choose_backend(registry, kind, requested, model)
    return Choice(name, why if requested == AUTO else None)


def analysis_choices(settings: Settings) -> dict[str, Choice]:
    """The analysis backends, by setting name (asr, text_emotion, visual_emotion)."""
    registries = {"asr": backends.ASR, "text_emotion": backends.TEXT_EMOTION,
                  "visual_emotion": backends.VISUAL_EMOTION}  # fmt: skip
    return {
        kind: choose(registry, kind, settings[f"analysis.{kind}"], settings[f"analysis.{kind}_model"])
        for kind, registry in registries.items()
    }


def generator_choice(settings: Settings) -> Choice:
    return choose(backends.GENERATORS, "music_generator", settings["music.generator"],
                  settings["music.generator_model"])  # fmt: skip


def analyze_options(
    settings: Settings, choices: Mapping[str, Choice], max_duration_s: float | None = None
) -> AnalyzeOptions:
    """The analysis options: the settings, with the backends as chosen."""
    visual = choices["visual_emotion"].name
    if settings["analysis.face_model"] and visual != "clip":
        raise UsageError(f"--face-model works with --visual-emotion clip, not {visual}")
    defaults = AnalyzeOptions()
    return replace(
        defaults,
        decode=DecodeOptions(width=settings["analysis.width"], max_fps=settings["analysis.max_fps"]),
        shots=ShotOptions(detector=settings["analysis.shot_detector"]),
        dialogue=replace(
            defaults.dialogue,
            asr=choices["asr"].name,
            asr_model=settings["analysis.asr_model"],
            language=settings["analysis.language"],
            device=settings["models.device"],
        ),
        text_emotion=choices["text_emotion"].name,
        text_emotion_model=settings["analysis.text_emotion_model"],
        visual_emotion=visual,
        visual_emotion_model=settings["analysis.visual_emotion_model"],
        face_model=settings["analysis.face_model"],
        device=settings["models.device"],
        notes=tuple((kind, choice.why) for kind, choice in choices.items() if choice.why),
        max_duration_s=max_duration_s,
        pipeline=settings["pipeline"],
    )


def run_options(
    settings: Settings,
    analyze: AnalyzeOptions,
    generator: Choice,
    keep_original_audio: bool = False,
    stems: bool = False,
    cache_dir: Path | None = None,
    overwrite: bool = True,
) -> RunOptions:
    """The options of `filmscore run`: the analysis's, and the score's from the settings."""
    soundfont, library = settings["music.soundfont"], settings["music.library"]
    return RunOptions(
        analyze=analyze,
        cues=CueOptions(
            min_cue_s=settings["cues.min_cue_s"],
            max_cue_s=settings["cues.max_cue_s"],
            style=settings["music.style"],
        ),
        mix=MixOptions(
            target_lufs=parse_loudness(settings["mix.loudness"]),
            duck_db=settings["mix.duck_db"],
            speech_cut_db=settings["mix.speech_cut_db"],
        ),
        generator=generator.name,
        generator_model=settings["music.generator_model"],
        generator_note=generator.why,
        genre=settings["music.genre"] or STYLES[settings["music.style"]].description,
        precision=settings["music.precision"],
        device=settings["models.device"],
        soundfont=Path(soundfont) if soundfont else None,
        seed=settings["music.seed"],
        mer=settings["music.mer"],
        library=Path(library) if library else None,
        candidates=settings["music.candidates"],
        takes=settings["music.takes"],
        keep_original_audio=keep_original_audio,
        stems=stems,
        cache_dir=cache_dir,
        overwrite=overwrite,
    )


def check_models(opts: AnalyzeOptions, generator: tuple[str, str | None] | None = None) -> None:
    """Every model the chosen backends will load is on this machine, or one exit 4 names them all."""
    chosen: list[tuple[str, str, str | None]] = [
        ("asr", opts.dialogue.asr, opts.dialogue.asr_model),
        ("text_emotion", opts.text_emotion, opts.text_emotion_model),
        ("visual_emotion", opts.visual_emotion, opts.visual_emotion_model),
    ]
    if generator is not None:
        chosen.append(("music_generator", *generator))
    wanted = [(kind, name, model) for kind, name, model in chosen
              if backends.BY_MODEL_KIND[kind].entry(name).neural]  # fmt: skip
    if opts.face_model:
        wanted.append(("visual_emotion", opts.visual_emotion, opts.face_model))
    require_models(wanted)
