"""The symbolic generator, filmscore's own: the cue plan composed as a score (music/symbolic/), rendered with
FluidSynth and a General MIDI SoundFont; in a re-cut, the kept cues' earlier sound spliced in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from filmscore.media.audio import AudioClip, AudioFile
from filmscore.media.probe import MUSIC_SAMPLE_RATE
from filmscore.music.generators import CueSound, Music, MusicGenerator, MusicRequest
from filmscore.music.planning import Cue
from filmscore.music.symbolic.score import Composition


class SymbolicGenerator(MusicGenerator):
    name = "symbolic"
    follows_arrangement = True
    writes_takes = True

    def __init__(self, soundfont: Path | None = None, crossfade_s: float = 1.5) -> None:
        from filmscore.music.symbolic.render import find_soundfont, require_fluidsynth

        require_fluidsynth()  # fail before the analysis, not after it
        self.soundfont = find_soundfont(soundfont)
        self.crossfade_s = crossfade_s

    def prepare(self) -> None:
        from filmscore.music.symbolic.render import warm

        warm(self.soundfont)

    def release(self) -> None:
        from filmscore.core.workers import keeping_workers
        from filmscore.music.symbolic.render import release

        # MuseScore General holds 490 MB: not through the mix, but where the process scores film after
        # film (a batch's warm worker), where loading it again would cost half a second of a core each.
        if not keeping_workers():
            release()

    def generate(self, request: MusicRequest) -> Music:
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.cue_sounds import placed_sum, render_cue_sounds
        from filmscore.music.symbolic.kept import earlier_parts, spliced, without_kept
        from filmscore.music.symbolic.midi import midi_bytes
        from filmscore.music.symbolic.render import render_separately, sum_clips
        from filmscore.music.symbolic.score import split_roles

        composition = compose(request.plan, request.speech, ComposeOptions(request.seed, self.crossfade_s))
        kept, earlier = self._kept_parts(request)
        sounding = without_kept(composition, kept)
        if kept and earlier is not None:
            composition = spliced(sounding, kept, earlier_parts(earlier, kept))
        score = midi_bytes(composition)
        duration = request.plan.duration_s
        stems: dict[str, AudioClip | AudioFile] = {}
        workdir = request.workdir
        if request.stems:
            # One render per instrument group; by linearity they sum to the whole score. Kept cues play
            # their earlier notes here, rendered afresh; the cues' own files are rendered apart.
            roles = split_roles(composition)
            pieces = [midi_bytes(part) for part in roles.values()]
            clips = render_separately(pieces, self.soundfont, duration, workdir)
            stems = dict(zip(roles, clips, strict=True))
            audio = sum_clips(list(clips), workdir, "music")
            cues = render_cue_sounds(
                composition, request.plan.cues, self.soundfont, workdir, request.cache_dir
            )
        else:
            # Each cue rendered alone (a kept cue: its earlier sound), and the music their sum.
            kept_ids = {cue.id for cue, _ in kept}
            new = [cue for cue in request.plan.cues if cue.id not in kept_ids]
            cues = render_cue_sounds(sounding, new, self.soundfont, workdir, request.cache_dir)
            if kept and earlier is not None:
                cues += self._kept_sounds(kept, earlier, workdir, request.cache_dir)
            cues.sort(key=lambda sound: sound.cue_id)
            audio = placed_sum(cues, round(duration * MUSIC_SAMPLE_RATE), workdir)
        details = {
            "style": request.plan.cues[0].style,
            "soundfont": str(self.soundfont.path),
            "soundfont_origin": self.soundfont.origin,
            "licence": f"composed by filmscore's symbolic generator (no model weights); samples: "
            f"{self.soundfont.licence}",
        }
        if kept:
            details["kept_cues"] = str(len(kept))
        return Music(audio, score, details, stems, cue_sounds=tuple(cues))

    def _kept_parts(self, request: MusicRequest) -> tuple[list[tuple[Cue, Cue]], Composition | None]:
        """In a re-cut: each kept cue with the cue it keeps, and the earlier score (written again from the
        earlier plan, seed and dialogue, so exactly as it was)."""
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.kept import kept_in

        earlier = request.earlier
        kept = kept_in(request.plan) if earlier is not None else []
        if earlier is None or not kept:
            return [], None
        return kept, compose(earlier.plan, earlier.speech, ComposeOptions(earlier.seed, self.crossfade_s))

    def _kept_sounds(
        self, kept: list[tuple[Cue, Cue]], earlier: Composition, workdir: Path | None, cache_dir: Path | None
    ) -> list[CueSound]:
        """Each kept cue's sound at its new time: rendered alone as the earlier cut rendered it (its part of
        the earlier score, from the same beat, to the same ring-out), so it sounds sample for sample as
        it did there."""
        from filmscore.music.symbolic.cue_sounds import render_cue_sounds

        sounds = render_cue_sounds(earlier, [old for _, old in kept], self.soundfont, workdir, cache_dir)
        return [
            replace(sound, cue_id=cue.id, start_s=sound.start_s + cue.start_s - old.start_s)
            for (cue, old), sound in zip(kept, sounds, strict=True)
        ]
