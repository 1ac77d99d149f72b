"""The typed report (report/model.py) built from a run's results: from an Analysis alone after `analyze`,
and with the cues, hits, mix and files written after `run`. Values are rounded to 4 places here, once."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from filmscore.analysis.dialogue import lines_by_shot
from filmscore.analysis.flow import Analysis
from filmscore.analysis.fusion import ShotEmotion, label_for
from filmscore.analysis.soundtrack import ShotSound
from filmscore.analysis.thumbnails import picture_hash
from filmscore.core.affect import Affect
from filmscore.core.codec import to_plain
from filmscore.core.version import __version__
from filmscore.report import model
from filmscore.scoring.recut import FATES

if TYPE_CHECKING:
    from filmscore.music.check import MusicCheck
    from filmscore.music.planning import Cue
    from filmscore.music.spotting import Spot, Spotting
    from filmscore.scoring.recut import Recut
    from filmscore.scoring.run import ScoredFilm
    from filmscore.scoring.stems import CueFile

THUMBNAIL_FOLDER = "thumbnails"


def _r(value: float) -> float:
    return round(float(value), 4)


def _rn(value: float | None) -> float | None:
    return None if value is None else _r(value)


def analysis_report(analysis: Analysis, spotting: Spotting | None = None) -> model.Report:
    """The report of a reading: the film, its shots, timeline and transcript (and the spotting it
    followed)."""
    info = analysis.info
    dialogue = lines_by_shot(analysis.transcript, analysis.shots)
    pictures = analysis.pictures if len(analysis.pictures) == len(analysis.shots) else (None,) * len(dialogue)
    return model.Report(
        schema_version=model.SCHEMA_VERSION,
        generator=f"filmscore {__version__}",
        input=model.Film(
            path=str(info.path),
            duration_s=_r(info.duration_s),
            width=info.width,
            height=info.height,
            fps=_r(info.fps),
            has_audio=info.has_audio,
            rotation=info.rotation,
            variable_frame_rate=info.variable_frame_rate,
        ),
        pipeline=analysis.pipeline,
        backends=dict(analysis.backends),
        shots=tuple(
            _shot(analysis, emotion, line, sound, picture)
            for emotion, line, sound, picture in zip(
                analysis.emotions, dialogue, analysis.sounds, pictures, strict=True
            )
        ),
        timeline=tuple(model.Point(p.t_s, p.valence, p.arousal) for p in analysis.timeline),
        transcript=tuple(
            model.Line(
                _r(u.start_s),
                _r(u.end_s),
                u.text,
                tuple(model.Word(w.word, _r(w.start_s), _r(w.end_s), _r(w.confidence)) for w in u.words),
            )
            for u in analysis.transcript.utterances
        ),
        spotting=None if spotting is None else _spotting(spotting),
    )


def _shot(
    analysis: Analysis, e: ShotEmotion, line: str, sound: ShotSound, picture: dict[str, float] | None
) -> model.Shot:
    jpeg = analysis.thumbnails[e.shot.index] if e.shot.index < len(analysis.thumbnails) else b""
    hashed = picture_hash(jpeg) if jpeg else None
    return model.Shot(
        index=e.shot.index, start_s=_r(e.start_s), end_s=_r(e.end_s), valence=_r(e.valence),
        arousal=_r(e.arousal), label=e.label, confidence=_r(e.confidence),
        sources=model.Sources(*(_source(e.sources.get(name)) for name in ("text", "visual", "audio"))),
        dialogue=line,
        sound=model.Sound(
            _r(sound.level_dbfs), _r(sound.speech_s), _rn(sound.pitch_hz), _rn(sound.words_per_s),
            tuple(sound.envelope_db),
        ),
        picture=picture,
        thumbnail=thumbnail_path(e.shot.index) if jpeg else None,
        picture_hash=f"{hashed:016x}" if hashed is not None else None,
    )  # fmt: skip


def _source(reading: Affect | None) -> model.Source | None:
    return (
        None
        if reading is None
        else model.Source(_r(reading.valence), _r(reading.arousal), _r(reading.weight))
    )


def thumbnail_path(index: int) -> str:
    return f"{THUMBNAIL_FOLDER}/shot-{index + 1:04d}.jpg"


def thumbnail_files(analysis: Analysis) -> dict[str, bytes]:
    """The shots' thumbnails by their path in the report folder (shots without one are left out)."""
    return {thumbnail_path(i): jpeg for i, jpeg in enumerate(analysis.thumbnails) if jpeg}


def _spotting(spotting: Spotting) -> model.Spotting:
    """The editor's spotting as read: every spot and hit, with the row it came from."""
    return model.Spotting(
        source=spotting.source,
        spots=tuple(
            model.SpottedRange(mood=s.mood, row=s.row, note=s.note, style=s.style, intensity=s.intensity,
                               start_s=_r(s.start_s), end_s=_r(s.end_s))
            for s in spotting.spots
        ),
        hits=tuple(model.SpottedHit(_r(hit.t_s), hit.row) for hit in spotting.hits),
        takes=tuple(model.SpottedTake(t.take, t.row, _r(t.start_s), _r(t.end_s)) for t in spotting.takes),
    )  # fmt: skip


def _spot(spot: Spot) -> model.Spot:
    return model.Spot(
        mood=spot.mood, row=spot.row, note=spot.note, style=spot.style, intensity=spot.intensity
    )


def scored_report(scored: ScoredFilm, outputs: dict[str, Path]) -> model.Report:
    """The analysis report plus what `filmscore run` made: cues, hits, the mix and the files written
    (`outputs`: the run's and the report folder's, by name)."""
    plan, recut = scored.plan, scored.recut
    report = analysis_report(scored.analysis, plan.spotting)
    shots = tuple(
        replace(shot, cue_id=cue_id, earlier_shot=None if recut is None else recut.shot_matches[shot.index])
        for shot, cue_id in zip(report.shots, plan.shot_cues, strict=True)
    )
    return replace(
        report,
        shots=shots,
        cues=tuple(_cue(scored, cue) for cue in plan.cues),
        music_check=None if scored.check is None else _music_check(scored.check),
        hits=tuple(model.Hit(_r(h.t_s), _r(h.strength), h.shot_index, h.sting, h.spotted) for h in plan.hits),
        silences=tuple(model.Span(_r(start), _r(end)) for start, end in plan.silences),
        score_plan=score_plan(scored),
        recut=None if recut is None else _recut(recut),
        music=model.MusicFacts(scored.generator, scored.seed, dict(scored.music.details)),
        mix=model.Mix(
            target_lufs=_r(scored.mix.target_lufs),
            integrated_lufs=_finite(scored.delivery.integrated_lufs),
            true_peak_dbtp=_finite(scored.delivery.true_peak_dbtp),
            ducking_db=_r(scored.mix.ducking_db),
            speech_cut_db=_r(scored.mix.speech_cut_db),
            music_gain_db=_r(scored.mix.music_gain_db),
            limiter_reduction_db=_r(scored.mix.limiter_reduction_db),
        ),
        outputs={name: str(path) for name, path in outputs.items()},
    )


def _cue(scored: ScoredFilm, cue: Cue) -> model.Cue:
    heard = None if scored.check is None else scored.check.cues[cue.id]
    recut = scored.recut
    return model.Cue(
        id=cue.id, start_s=_r(cue.start_s), end_s=_r(cue.end_s), key=cue.key, mode=cue.mode,
        tempo_bpm=_r(cue.tempo_bpm), meter=f"{cue.meter}/4", valence=_r(cue.valence), arousal=_r(cue.arousal),
        mood=cue.mood, tension=_r(cue.tension), density=cue.subdivision, energy=_r(cue.energy),
        style=cue.style, instruments=tuple(cue.instruments.names()), shots=tuple(cue.shot_indices),
        reading=model.Reading(_r(cue.read_valence), _r(cue.read_arousal),
                              label_for(cue.read_valence, cue.read_arousal)),
        spot=None if cue.spot is None else _spot(cue.spot),
        ending=cue.ending,
        key_reason=cue.key_reason,
        excerpts=tuple(
            model.Excerpt(e.track, _r(e.from_s), _r(e.to_s), _r(e.at_s))
            for e in scored.music.excerpts if e.cue_id == cue.id
        ),
        mer=None if heard is None or scored.check is None else model.Heard(
            valence=_r(heard.valence), arousal=_r(heard.arousal), confidence=_r(heard.confidence),
            tempo_bpm=_r(heard.tempo_bpm), mode=heard.mode, error=_r(heard.error),
            within_tolerance=not heard.misses(scored.check.tolerance),
        ),
        recut=None if recut is None else model.Fate(recut.fates[cue.id], recut.earlier_cues[cue.id]),
        file=next((_cue_file(f) for f in scored.cue_files if f.cue_id == cue.id), None),
        take=cue.take,
        takes=tuple(model.Take(t.take, _r(t.start_s), _r(t.duration_s))
                    for t in scored.take_files if t.cue_id == cue.id),
    )  # fmt: skip


def _cue_file(file: CueFile) -> model.CueFile:
    return model.CueFile(
        start_s=_r(file.start_s), duration_s=_r(file.duration_s), play_from_s=_r(file.play_from_s),
        play_to_s=_r(file.play_to_s), gains=tuple(model.Keyframe(t, db) for t, db in file.gains),
    )  # fmt: skip


def _music_check(check: MusicCheck) -> model.MusicCheck:
    """The closed-loop check's summary (each cue's own reading is on the cue)."""
    return model.MusicCheck(
        backend=check.backend, tolerance=check.tolerance, mean_error=_r(check.mean_error),
        cues_within_tolerance=len(check.cues) - len(check.missed), cues=len(check.cues),
        rearranged_cues=tuple(check.rearranged),
    )  # fmt: skip


def score_plan(scored: ScoredFilm) -> model.ScorePlan:
    """The plan the music was written from, whole, with the seed and the dialogue it was written around:
    what `run --previous` needs to write a kept cue again note for note (core/codec.py reads it back,
    every field checked)."""
    plan = scored.plan
    plain_plan = replace(plan, cues=tuple(replace(cue, kept_from=None) for cue in plan.cues))
    speech = tuple((start, end) for start, end in scored.analysis.transcript.speech_regions)
    return model.ScorePlan(seed=scored.seed, speech=speech, plan=to_plain(plain_plan, []))


def _recut(recut: Recut) -> model.Recut:
    """What a re-cut kept: how many shots matched, and what became of the cues."""
    counts = {fate: recut.fates.count(fate) for fate in FATES}
    matched = sum(match is not None for match in recut.shot_matches)
    return model.Recut(earlier=recut.earlier, shots_matched=matched, **counts)


def _finite(value: float) -> float | None:
    """JSON has no infinity: the loudness of silence is reported as null."""
    return _r(value) if math.isfinite(value) else None
