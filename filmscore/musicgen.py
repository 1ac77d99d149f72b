"""MusicGen as a music generator (transformers `MusicgenForConditionalGeneration`; audiocraft does not
install beside current torch).

Each cue gets a text prompt built from the plan: genre, mood, key and mode, tempo, instruments and
dynamics. MusicGen is trained on 30 s clips, so a longer cue is generated a window at a time: each next
window is prompted with the last seconds of audio so far and continues from them, and the re-generated
overlap is cross-faded into what was there. Cues are generated together in batches, which is where a GPU
earns its keep; cues of similar length share a batch, so little is generated only to be cut. The cues are
placed on the film's clock with the same equal-power cross-fades as the other generators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filmscore.cues import Cue
from filmscore.generators import OUTPUT_RATE, Music, MusicGenerator, MusicRequest, add_faded, film_buffer
from filmscore.models import find_spec, resolve
from filmscore.neural import load_pretrained, prepare_torch, torch_device

WINDOW_S = 30.0  # MusicGen's training clip length: the most generated in one go
OVERLAP_S = 5.0  # audio carried into the next window as its prompt, then cross-faded
GUIDANCE = 3.0  # classifier-free guidance scale, as MusicGen's authors use
TOP_K = 250  # sampling as MusicGen's authors do
CUE_FADE_S = 1.0  # each cue fades in and out over this, half before and half after its cut
BATCH_ON_GPU = 8  # cues generated at once on a GPU; on a CPU one at a time (batching gains nothing there)


@dataclass(frozen=True)
class _Window:
    """One generation step of one cue: its prompt text, and the audio it continues (None: the first)."""

    cue_index: int
    text: str
    seconds: float  # new audio to generate
    prompt_audio: np.ndarray | None


class MusicgenGenerator(MusicGenerator):
    name = "musicgen"

    def __init__(self, model: str | None = None, device: str = "auto", genre: str = "orchestral") -> None:
        from transformers import AutoProcessor, MusicgenForConditionalGeneration

        path = resolve(model, "music_generator", "musicgen")
        self.device = torch_device(device)
        prepare_torch(self.device)
        self._model = (
            load_pretrained(MusicgenForConditionalGeneration, path, "MusicGen").to(self.device).eval()
        )
        self._processor = load_pretrained(AutoProcessor, path, "MusicGen")
        encoder = self._model.config.audio_encoder
        self.sample_rate = int(encoder.sampling_rate)
        self.frame_rate = float(encoder.frame_rate)
        # A window is bounded by training (30 s) and by the decoder's positions, less the codebook delay.
        positions = int(self._model.config.decoder.max_position_embeddings)
        self.window_s = min(
            WINDOW_S, (positions - self._model.config.decoder.num_codebooks - 1) / self.frame_rate
        )
        self.overlap_s = min(OVERLAP_S, self.window_s / 4)
        self.genre = genre
        self.batch = BATCH_ON_GPU if self.device == "cuda" else 1
        spec = find_spec(model) if model else None
        self.licence = spec.licence if spec else "the model's own licence (see its model card)"
        self.model_path = str(path)

    def generate(self, request: MusicRequest) -> Music:
        import torch

        plan = request.plan
        torch.manual_seed(request.seed)
        texts = [cue_prompt(cue, self.genre) for cue in plan.cues]
        # Each cue runs a little past its end, to fade across the next cut.
        lengths = [cue.duration_s + CUE_FADE_S / 2 for cue in plan.cues]
        audio = self.generate_cues(texts, lengths)
        out, result = film_buffer(round(plan.duration_s * OUTPUT_RATE), request.workdir, "musicgen-music")
        for cue, clip in zip(plan.cues, audio, strict=True):
            lead = min(CUE_FADE_S / 2, cue.start_s)
            stereo = np.repeat(_to_output_rate(clip, self.sample_rate)[:, None], 2, axis=1)
            add_faded(out, stereo, round((cue.start_s - lead) * OUTPUT_RATE), lead, CUE_FADE_S)
        if isinstance(out, np.memmap):
            out.flush()
        details = {
            "model": self.model_path,
            "device": self.device,
            "prompts": " | ".join(texts),
            "licence": self.licence,
        }
        return Music(result(out), None, details)

    def generate_cues(self, texts: list[str], seconds: list[float]) -> list[np.ndarray]:
        """Mono audio at the model's rate for each prompt, each as long as asked, by windows."""
        done = [np.zeros(0, np.float32) for _ in texts]
        order = sorted(range(len(texts)), key=lambda i: seconds[i])  # similar lengths share a batch
        while True:
            steps = [self._next_window(i, texts[i], seconds[i], done[i]) for i in order]
            pending = [step for step in steps if step is not None]
            if not pending:
                return done
            for first in range(0, len(pending), self.batch):
                batch = pending[first : first + self.batch]
                for step, audio in zip(batch, self._generate(batch), strict=True):
                    overlap = 0 if step.prompt_audio is None else len(step.prompt_audio)
                    done[step.cue_index] = _joined(done[step.cue_index], audio, overlap)

    def _next_window(self, index: int, text: str, seconds: float, so_far: np.ndarray) -> _Window | None:
        have_s = len(so_far) / self.sample_rate
        if have_s >= seconds - 1 / self.frame_rate:
            return None
        if not len(so_far):
            return _Window(index, text, min(seconds, self.window_s), None)
        overlap = round(self.overlap_s * self.sample_rate)
        new_s = min(seconds - have_s, self.window_s - self.overlap_s)
        return _Window(index, text, new_s, so_far[-overlap:])

    def _generate(self, batch: list[_Window]) -> list[np.ndarray]:
        """One window for each of a batch: audio that, for a continuation, begins with its prompt again."""
        import torch

        continuing = batch[0].prompt_audio is not None
        options: dict[str, object] = {
            "text": [w.text for w in batch],
            "padding": True,
            "return_tensors": "pt",
        }
        if continuing:
            options.update(audio=[w.prompt_audio for w in batch], sampling_rate=self.sample_rate)
        inputs = self._processor(**options).to(self.device)
        longest = max(w.seconds for w in batch)
        # The decoder's output lags by one frame per extra codebook (the delay pattern).
        tokens = int(np.ceil(longest * self.frame_rate)) + self._model.config.decoder.num_codebooks - 1
        with torch.inference_mode():
            values = self._model.generate(
                **inputs, do_sample=True, top_k=TOP_K, guidance_scale=GUIDANCE, max_new_tokens=tokens
            )
        audio = values[:, 0].float().cpu().numpy()
        kept = []
        for window, row in zip(batch, audio, strict=True):
            prompt = 0 if window.prompt_audio is None else len(window.prompt_audio)
            kept.append(row[: prompt + round(window.seconds * self.sample_rate)].astype(np.float32))
        return kept


def _joined(so_far: np.ndarray, window: np.ndarray, overlap: int) -> np.ndarray:
    """Append a window; a continuation starts with a re-generation of the last `overlap` samples so far,
    which is cross-faded (equal power) into them, so the seam is smooth even where the codec re-decodes
    them a little differently."""
    overlap = min(overlap, len(window), len(so_far))
    if overlap == 0:
        return np.concatenate([so_far, window])
    ramp = np.sin(np.linspace(0, np.pi / 2, overlap, dtype=np.float32))
    seam = so_far[-overlap:] * ramp[::-1] + window[:overlap] * ramp
    return np.concatenate([so_far[:-overlap], seam, window[overlap:]])


def _to_output_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == OUTPUT_RATE:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    common = gcd(rate, OUTPUT_RATE)
    return resample_poly(audio, OUTPUT_RATE // common, rate // common).astype(np.float32)


# How loud and busy, by the cue's arousal (-1 .. 1).
DYNAMICS_WORDS = ((-0.3, "soft, gentle, sparse"), (0.3, "moderate"), (1.01, "powerful, driving"))


def cue_prompt(cue: Cue, genre: str) -> str:
    """A text prompt in the manner of MusicGen's training captions: genre, mood, key, tempo, instruments."""
    dynamics = next(word for bound, word in DYNAMICS_WORDS if cue.arousal < bound)
    instruments = ", ".join(cue.instruments.names())
    return (
        f"{genre} film score, {cue.mood} mood, {cue.key}, {cue.tempo_bpm:.0f} bpm, {instruments}, "
        f"{dynamics}, instrumental, no vocals"
    )
