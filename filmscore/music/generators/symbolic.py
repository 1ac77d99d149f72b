"""The symbolic generator, filmscore's own: the cue plan composed as a score (music/symbolic/), rendered with
FluidSynth and a General MIDI SoundFont; in a re-cut, the kept cues' earlier sound spliced in."""

from __future__ import annotations

from pathlib import Path

from filmscore.media.audio import AudioClip, AudioFile
from filmscore.music.generators import (
    RENDER_PIECES,
    Music,
    MusicGenerator,
    MusicRequest,
    add_faded,
    writable,
    written,
)
from filmscore.music.planning import Cue
from filmscore.music.symbolic.score import Composition

KEPT_TAIL_FADE_S = 0.05  # a kept cue's sound, cut where its tail has died away, ends with this fade


class SymbolicGenerator(MusicGenerator):
    name = "symbolic"
    follows_arrangement = True

    def __init__(self, soundfont: Path | None = None, crossfade_s: float = 1.5) -> None:
        from filmscore.music.symbolic.render import find_soundfont, require_fluidsynth

        require_fluidsynth()  # fail before the analysis, not after it
        self.soundfont = find_soundfont(soundfont)
        self.crossfade_s = crossfade_s

    def prepare(self) -> None:
        from filmscore.music.symbolic.render import warm

        warm(self.soundfont)

    def release(self) -> None:
        from filmscore.music.symbolic.render import release

        release()  # MuseScore General holds 490 MB: not through the mix

    def generate(self, request: MusicRequest) -> Music:
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.kept import spliced, without_kept
        from filmscore.music.symbolic.midi import midi_bytes
        from filmscore.music.symbolic.render import note_costs, render_midi, render_separately, sum_clips
        from filmscore.music.symbolic.score import split_notes, split_roles

        composition = compose(request.plan, request.speech, ComposeOptions(request.seed, self.crossfade_s))
        kept, earlier, earlier_duration = self._kept_parts(request)
        sounding = without_kept(composition, kept)
        if kept:
            composition = spliced(sounding, request.plan, kept, earlier)
        score = midi_bytes(composition)
        duration = request.plan.duration_s
        stems: dict[str, AudioClip | AudioFile] = {}
        workdir = request.workdir
        if request.stems:
            # One render per instrument group; by linearity they sum to the whole score. Kept cues play
            # their earlier notes here, rendered afresh.
            roles = split_roles(composition)
            parts = [midi_bytes(part) for part in roles.values()]
            clips = render_separately(parts, self.soundfont, duration, workdir)
            stems = dict(zip(roles, clips, strict=True))
            audio = sum_clips(list(clips), workdir, "music")
        else:
            costs = note_costs(self.soundfont)
            pieces = [midi_bytes(piece) for piece in split_notes(sounding, RENDER_PIECES, costs)]
            audio = render_midi(pieces, self.soundfont, duration, workdir)
            if kept:
                audio = self._with_kept_sound(audio, kept, earlier, earlier_duration, duration, workdir)
        details = {
            "style": request.plan.cues[0].style,
            "soundfont": str(self.soundfont.path),
            "soundfont_origin": self.soundfont.origin,
            "licence": f"composed by filmscore's symbolic generator (no model weights); samples: "
            f"{self.soundfont.licence}",
        }
        if kept:
            details["kept_cues"] = str(len(kept))
        return Music(audio, score, details, stems)

    def _kept_parts(self, request: MusicRequest) -> tuple[list[tuple[Cue, Cue]], list[Composition], float]:
        """In a re-cut: each kept cue with the cue it keeps, its part of the earlier score (written again
        from the earlier plan, seed and dialogue, so exactly as it was), and the earlier film's length."""
        from filmscore.music.symbolic.compose import ComposeOptions, compose
        from filmscore.music.symbolic.kept import earlier_parts, kept_in

        earlier = request.earlier
        kept = kept_in(request.plan) if earlier is not None else []
        if earlier is None or not kept:
            return [], [], 0.0
        score = compose(earlier.plan, earlier.speech, ComposeOptions(earlier.seed, self.crossfade_s))
        return kept, earlier_parts(score, kept, earlier.plan), earlier.plan.duration_s

    def _with_kept_sound(
        self,
        audio: AudioClip | AudioFile,
        kept: list[tuple[Cue, Cue]],
        parts: list[Composition],
        earlier_duration_s: float,
        duration_s: float,
        workdir: Path | None,
    ) -> AudioClip | AudioFile:
        """The render with each kept cue's sound added at its new time: its earlier part rendered alone at
        its earlier time, so it sounds sample for sample as the earlier cut rendered it; its tail, cut
        TAIL_S after its end, fades over KEPT_TAIL_FADE_S."""
        from filmscore.music.symbolic.kept import kept_stretch
        from filmscore.music.symbolic.midi import midi_bytes
        from filmscore.music.symbolic.render import render_separately

        sounds = render_separately(
            [midi_bytes(part) for part in parts], self.soundfont, earlier_duration_s, workdir
        )
        out = writable(audio)
        for (cue, old), sound in zip(kept, sounds, strict=True):
            first, at, length = kept_stretch(cue, old, earlier_duration_s, duration_s, sound.sample_rate)
            add_faded(out, sound.read(first, first + length), at, 0.0, KEPT_TAIL_FADE_S)
            if isinstance(sound, AudioFile):
                sound.path.unlink(missing_ok=True)
        return written(audio, out)
