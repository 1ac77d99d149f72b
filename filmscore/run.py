"""`filmscore run`, in a straight line: analyse the film, plan the cues, compose, mix under the dialogue,
mux, and publish the scored film with its report folder, all at once or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import soundfile

from filmscore.atomic import OutputSet
from filmscore.cues import CueOptions, CuePlan, plan_cues
from filmscore.errors import OutputError
from filmscore.generators import GENERATORS, Music, MusicGenerator, MusicRequest
from filmscore.media import AudioClip, MediaInfo, extract_audio
from filmscore.mix import MixOptions, MixResult, integrated_lufs, mix_under_dialogue, true_peak_dbtp
from filmscore.mux import mux
from filmscore.pipeline import Analysis, AnalyzeOptions, analyze
from filmscore.progress import Progress
from filmscore.render import MUSIC_SAMPLE_RATE

MUSIC_STEM = "music.wav"
SCORE_MIDI = "score.mid"
STEMS_FOLDER = "stems"
ORIGINAL_STEM = "original.wav"  # the film's own soundtrack, as it sits in the mix
DELIVERY_RETRIES = 2  # re-limit and re-encode when the encoder's overshoot passes the true-peak ceiling


@dataclass(frozen=True)
class RunOptions:
    analyze: AnalyzeOptions = field(default_factory=AnalyzeOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    mix: MixOptions = field(default_factory=MixOptions)
    generator: str = "symbolic"  # a name in GENERATORS
    soundfont: Path | None = None  # a user's General MIDI SoundFont for the symbolic generator
    seed: int = 0
    keep_original_audio: bool = False
    stems: bool = False  # also write per-instrument stems and the original soundtrack, as mixed


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
    seed: int
    outputs: dict[str, Path]  # what was written: "video", "music", "midi", "report"


def score_film(
    input_path: Path, output: Path, report_dir: Path, opts: RunOptions, progress: Progress
) -> ScoredFilm:
    from filmscore.report import REPORT_NAME, stage_scored_report

    generator = _generator(opts)  # before the analysis, so a missing dependency fails at once
    analysis = analyze(input_path, opts.analyze, progress)
    info = analysis.info
    speech = analysis.transcript.speech_regions
    with progress.stage("cues"):
        plan = plan_cues(analysis.emotions, analysis.timeline, info.duration_s, opts.cues)
    with progress.stage("compose"):
        music = generator.generate(MusicRequest(plan, speech, opts.seed, stems=opts.stems))
    with progress.stage("mix"):
        original = extract_audio(info, MUSIC_SAMPLE_RATE, channels=2) if info.has_audio else None
        mixed = mix_under_dialogue(original, music.audio, speech, opts.mix)
    with progress.stage("mux"), OutputSet() as outputs:
        paths = {
            "video": output,
            "music": report_dir / MUSIC_STEM,
            "report": report_dir / REPORT_NAME,
            **({"midi": report_dir / SCORE_MIDI} if music.midi else {}),
        }
        mixed, delivery = _deliver(info, mixed, outputs.stage(output), output.suffix, opts)
        _write_wav(outputs.stage(paths["music"]), mixed.stem)
        if music.midi:
            outputs.write(paths["midi"], music.midi)
        if opts.stems:
            paths.update(_stage_stems(music, mixed, report_dir, outputs, info.has_audio))
        scored = ScoredFilm(analysis, plan, music, mixed, delivery, generator.name, opts.seed, paths)
        stage_scored_report(scored, report_dir, outputs)
    return scored


def _write_wav(target: Path, clip: AudioClip, subtype: str = "PCM_24") -> None:
    """48 kHz WAV (24-bit PCM by default: what an editing system imports without asking). libsndfile
    reports a full disk as its own error, so both kinds become an output error here."""
    try:
        soundfile.write(target, clip.samples, clip.sample_rate, subtype=subtype, format="WAV")
    except (OSError, soundfile.SoundFileError) as exc:
        raise OutputError(
            f"cannot write {target.name} in {target.parent}: {exc}. Check free space."
        ) from None


def _stage_stems(
    music: Music, mixed: MixResult, report_dir: Path, outputs: OutputSet, has_audio: bool
) -> dict[str, Path]:
    """stems/<group>.wav for each instrument group and stems/original.wav, each exactly as it sits in the
    mix (the music's level, ducking, loudness gain and limiter applied), sample-aligned with the film's
    start: together they sum to the scored track before encoding."""
    written = {}
    scale = mixed.music_scale[:, None]
    for name, clip in music.stems.items():
        target = report_dir / STEMS_FOLDER / f"{name}.wav"
        _write_wav(outputs.stage(target), AudioClip(clip.samples * scale, clip.sample_rate))
        written[f"{STEMS_FOLDER}/{name}.wav"] = target
    if has_audio:
        target = report_dir / STEMS_FOLDER / ORIGINAL_STEM
        _write_wav(
            outputs.stage(target), AudioClip(mixed.mix.samples - mixed.stem.samples, mixed.mix.sample_rate)
        )
        written[f"{STEMS_FOLDER}/{ORIGINAL_STEM}"] = target
    return written


def _generator(opts: RunOptions) -> MusicGenerator:
    options = {"soundfont": opts.soundfont} if opts.generator == "symbolic" and opts.soundfont else {}
    return GENERATORS.create(opts.generator, **options)


def _deliver(
    info: MediaInfo, mixed: MixResult, target: Path, suffix: str, opts: RunOptions
) -> tuple[MixResult, Delivery]:
    """Encode and mux, then measure the written file; if the encoder pushed the true peak over the ceiling,
    limit harder by the overshoot and encode again."""
    import tempfile

    mix_opts = opts.mix
    # Beside the output, like every temp file of a run: the same disk, and removed on every exit path.
    with tempfile.TemporaryDirectory(prefix=".filmscore-mix-", dir=target.parent) as folder:
        wav = Path(folder) / "mix.wav"
        for _ in range(DELIVERY_RETRIES):
            delivery = _encode(info, mixed, wav, target, suffix, opts.keep_original_audio)
            overshoot = delivery.true_peak_dbtp - mix_opts.true_peak_dbtp
            if overshoot <= 0:
                return mixed, delivery
            mix_opts = replace(mix_opts, peak_margin_db=mix_opts.peak_margin_db + overshoot + 0.2)
            mixed = _remix(mixed, mix_opts)
        return mixed, _encode(info, mixed, wav, target, suffix, opts.keep_original_audio)


def _encode(info: MediaInfo, mixed: MixResult, wav: Path, target: Path, suffix: str, keep: bool) -> Delivery:
    _write_wav(wav, mixed.mix, subtype="FLOAT")
    mux(info, wav, target, suffix, keep)
    return measure_delivery(target, mixed.mix.sample_rate)


def _remix(previous: MixResult, opts: MixOptions) -> MixResult:
    """Run the limiter again on the finished mix with a lower ceiling, keeping the stem in step."""
    from filmscore.mix import limiter_gain

    rate = previous.mix.sample_rate
    ceiling = 10 ** ((opts.true_peak_dbtp - opts.peak_margin_db) / 20)
    gain = limiter_gain(previous.mix.samples, rate, ceiling)
    mix = previous.mix.samples * gain[:, None]
    return replace(
        previous,
        mix=AudioClip(mix, rate),
        stem=AudioClip(previous.stem.samples * gain[:, None], rate),
        music_scale=previous.music_scale * gain,
    )


def measure_delivery(path: Path, rate: int) -> Delivery:
    """Loudness and true peak of the first audio track of a written film."""
    from filmscore.media import probe

    audio = extract_audio(probe(path), rate, channels=2)
    return Delivery(integrated_lufs(audio.samples, rate), true_peak_dbtp(audio.samples, rate))
