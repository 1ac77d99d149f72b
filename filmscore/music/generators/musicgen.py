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

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np

from filmscore.config.manifest import default_model, find_spec
from filmscore.core.neural import int8_on_cpu, load_pretrained, prepare_torch, torch_device
from filmscore.media.probe import MUSIC_SAMPLE_RATE
from filmscore.music.generators import (
    Music,
    MusicGenerator,
    MusicRequest,
    add_faded,
    equal_power_ramp,
    film_buffer,
)
from filmscore.music.generators.symbolic import SymbolicGenerator
from filmscore.music.planning import Cue
from filmscore.store.models import resolve

WINDOW_S = 30.0  # MusicGen's training clip length: the most generated in one go
OVERLAP_S = 5.0  # audio carried into the next window as its prompt, then cross-faded
GUIDANCE = 3.0  # classifier-free guidance scale, as MusicGen's authors use
TOP_K = 250  # sampling as MusicGen's authors do
CUE_FADE_S = 1.0  # each cue fades in and out over this, half before and half after its cut
PROMPT_TOKENS = 64  # a melody model's text prompt is cut to this many tokens (ours take about 40)
BATCH_ON_GPU = 8  # cues generated at once on a GPU; on a CPU one at a time (batching gains nothing there)


@dataclass(frozen=True)
class _Window:
    """One generation step of one cue."""

    cue_index: int
    text: str
    generate_s: float  # audio the decoder generates
    keep: int  # samples of the output kept (a continuation's output starts with its prompt again)
    overlap: int  # samples at the output's start that overlap the cue so far, to cross-fade
    prompt_audio: np.ndarray | None = None  # the audio a continuation carries on from
    chroma: np.ndarray | None = None  # (frames, 12) one-hot chroma a melody model follows


class MusicgenGenerator(MusicGenerator):
    name = "musicgen"

    def __init__(
        self, model: str | None = None, device: str = "auto", genre: str = "orchestral", cpu_int8: bool = True
    ) -> None:
        from transformers import AutoConfig

        path = resolve(model, "music_generator", "musicgen")
        self.device = torch_device(device)
        prepare_torch(self.device)
        config = load_pretrained(AutoConfig, path, "MusicGen")
        # MusicGen-Melody also takes a chroma to follow: the symbolic composer's sketch of the same plan.
        melody = config.model_type == "musicgen_melody"
        self._model, self._processor = _load(path, melody)
        self._model = self._model.to(self.device).eval()
        if cpu_int8:
            self._model.decoder = int8_on_cpu(self._model.decoder, self.device)
        self.precision = "int8 decoder" if cpu_int8 and self.device == "cpu" else "float32"
        self._sketcher = SymbolicGenerator() if melody else None
        encoder = self._model.config.audio_encoder
        self.sample_rate = int(encoder.sampling_rate)
        self.frame_rate = float(encoder.frame_rate)
        # A window is bounded by training (30 s) and by the decoder's positions, less the codebook delay.
        decoder = self._model.config.decoder
        positions = int(decoder.max_position_embeddings) - decoder.num_codebooks - 1
        if melody:  # the melody decoder's positions also hold the text and the chroma
            positions -= PROMPT_TOKENS + int(self._model.config.chroma_length)
        self.window_s = min(WINDOW_S, positions / self.frame_rate)
        self.overlap_s = min(OVERLAP_S, self.window_s / 4)
        self.genre = genre
        self.batch = BATCH_ON_GPU if self.device == "cuda" else 1
        spec = find_spec(model) if model else default_model("music_generator", "musicgen")
        self.licence = spec.licence if spec else "the model's own licence (see its model card)"
        self.model_path = str(path)

    @property
    def melody(self) -> bool:
        """A melody model, which follows the chroma of the symbolic sketch."""
        return self._sketcher is not None

    def generate(self, request: MusicRequest) -> Music:
        import torch

        plan = request.plan
        texts = [cue_prompt(cue, self.genre) for cue in plan.cues]
        # Each cue runs a little past its end, to fade across the next cut.
        lengths = [cue.duration_s + CUE_FADE_S / 2 for cue in plan.cues]
        sketch = self._sketch(request)
        sketches = None
        if sketch is not None:
            sketches = [self._sketch_of(sketch, cue, n) for cue, n in zip(plan.cues, lengths, strict=True)]
        torch.manual_seed(request.seed)
        audio = self.generate_cues(texts, lengths, sketches)
        out, result = film_buffer(
            round(plan.duration_s * MUSIC_SAMPLE_RATE), request.workdir, "musicgen-music"
        )
        for cue, clip in zip(plan.cues, audio, strict=True):
            lead = min(CUE_FADE_S / 2, cue.start_s)
            stereo = np.repeat(_resampled(clip, self.sample_rate, MUSIC_SAMPLE_RATE)[:, None], 2, axis=1)
            add_faded(out, stereo, round((cue.start_s - lead) * MUSIC_SAMPLE_RATE), lead, CUE_FADE_S)
        if isinstance(out, np.memmap):
            out.flush()
        details = {
            "model": self.model_path,
            "device": self.device,
            "precision": self.precision,
            "prompts": " | ".join(texts),
            "licence": self.licence,
            **({"melody": "chroma of the symbolic composer's sketch"} if sketch else {}),
        }
        return Music(result(out), sketch.midi if sketch else None, details)

    def _sketch(self, request: MusicRequest) -> Music | None:
        """The symbolic composer's score of the same plan, whose harmony and motif a melody model follows."""
        if self._sketcher is None:
            return None
        folder = request.workdir / "sketch" if request.workdir else None
        if folder:
            folder.mkdir(exist_ok=True)
        return self._sketcher.generate(replace(request, stems=False, workdir=folder))

    def _sketch_of(self, sketch: Music, cue: Cue, seconds: float) -> np.ndarray:
        """The sketch under one cue, mono at the model's rate."""
        audio = sketch.audio
        first = round(cue.start_s * audio.sample_rate)
        last = min(audio.frames, first + round(seconds * audio.sample_rate))
        mono = audio.read(first, last).mean(axis=1)
        return _resampled(mono, audio.sample_rate, self.sample_rate)

    def generate_cues(
        self, texts: list[str], seconds: list[float], sketches: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """Mono audio at the model's rate for each prompt, each as long as asked, by windows. With sketches
        (a melody model), each window follows the chroma of its stretch of the cue's sketch."""
        done = [np.zeros(0, np.float32) for _ in texts]
        order = sorted(range(len(texts)), key=lambda i: seconds[i])  # similar lengths share a batch
        while True:
            steps = [
                self._next_window(i, texts[i], seconds[i], done[i], sketches[i] if sketches else None)
                for i in order
            ]
            pending = [step for step in steps if step is not None]
            if not pending:
                return done
            for first in range(0, len(pending), self.batch):
                batch = pending[first : first + self.batch]
                for step, audio in zip(batch, self._generate(batch), strict=True):
                    done[step.cue_index] = _joined(done[step.cue_index], audio, step.overlap)

    def _next_window(
        self, index: int, text: str, seconds: float, so_far: np.ndarray, sketch: np.ndarray | None
    ) -> _Window | None:
        rate = self.sample_rate
        have_s = len(so_far) / rate
        if have_s >= seconds - 1 / self.frame_rate:
            return None
        if sketch is not None:
            # A melody model is not continued from audio: each window is generated afresh over its own
            # stretch of the sketch, starting an overlap early, and cross-faded.
            start_s = max(0.0, have_s - self.overlap_s) if len(so_far) else 0.0
            length_s = min(seconds - start_s, self.window_s)
            stretch = sketch[round(start_s * rate) : round((start_s + length_s) * rate)]
            overlap = round((have_s - start_s) * rate)
            chroma = melody_chroma(stretch, rate, self._model.config.chroma_length)
            return _Window(index, text, length_s, round(length_s * rate), overlap, chroma=chroma)
        if not len(so_far):
            length_s = min(seconds, self.window_s)
            return _Window(index, text, length_s, round(length_s * rate), 0)
        prompt = so_far[-round(self.overlap_s * rate) :]
        new_s = min(seconds - have_s, self.window_s - self.overlap_s)
        return _Window(
            index, text, new_s, len(prompt) + round(new_s * rate), len(prompt), prompt_audio=prompt
        )

    def _generate(self, batch: list[_Window]) -> list[np.ndarray]:
        """One window for each of a batch."""
        import torch

        texts = [w.text for w in batch]
        if self.melody:
            inputs = self._processor(
                texts, padding=True, truncation=True, max_length=PROMPT_TOKENS, return_tensors="pt"
            )
            chroma = np.stack([w.chroma for w in batch if w.chroma is not None])
            inputs["input_features"] = torch.from_numpy(chroma).float()
        elif batch[0].prompt_audio is not None:
            audio = [w.prompt_audio for w in batch]
            inputs = self._processor(text=texts, audio=audio, sampling_rate=self.sample_rate, padding=True,
                                     return_tensors="pt")  # fmt: skip
        else:
            inputs = self._processor(text=texts, padding=True, return_tensors="pt")
        longest = max(w.generate_s for w in batch)
        # The decoder's output lags by one frame per extra codebook (the delay pattern).
        tokens = int(np.ceil(longest * self.frame_rate)) + self._model.config.decoder.num_codebooks - 1
        with torch.inference_mode():
            values = self._model.generate(
                **inputs.to(self.device), do_sample=True, top_k=TOP_K, guidance_scale=GUIDANCE,
                max_new_tokens=tokens,
            )  # fmt: skip
        audio = values[:, 0].float().cpu().numpy()
        return [row[: window.keep].astype(np.float32) for window, row in zip(batch, audio, strict=True)]


def _load(path: object, melody: bool) -> tuple[Any, Any]:
    """The model, and what prepares its inputs: MusicGen's processor (T5 tokenizer and EnCodec's feature
    extractor, for continuation prompts), or for MusicGen-Melody its tokenizer alone, as its processor's
    chroma extractor needs torchaudio; filmscore computes the chroma itself (melody_chroma)."""
    from transformers import (
        AutoProcessor,
        AutoTokenizer,
        MusicgenForConditionalGeneration,
        MusicgenMelodyForConditionalGeneration,
    )

    if melody:
        model = load_pretrained(MusicgenMelodyForConditionalGeneration, path, "MusicGen-Melody")
        return model, load_pretrained(AutoTokenizer, path, "MusicGen-Melody")
    return load_pretrained(MusicgenForConditionalGeneration, path, "MusicGen"), load_pretrained(
        AutoProcessor, path, "MusicGen"
    )


CHROMA_FFT = 16384  # MusicGen-Melody's chroma: a 16384-point power spectrum every 4096 samples at 32 kHz
CHROMA_HOP = 4096


def melody_chroma(audio: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """The chroma MusicGen-Melody is conditioned on, computed as its feature extractor does (which needs
    torchaudio): the audio padded to the 30 s window, its power spectrogram mapped by the same chroma
    filter bank, and each frame's strongest pitch class kept as a one-hot row. (frames, 12)."""
    import librosa

    padded = np.zeros(max(len(audio), round(WINDOW_S * rate)), np.float32)
    padded[: len(audio)] = audio
    spectrum = np.abs(librosa.stft(padded, n_fft=CHROMA_FFT, hop_length=CHROMA_HOP, pad_mode="reflect")) ** 2
    chroma = _chroma_filters(rate) @ spectrum
    one_hot = np.zeros((chroma.shape[1], 12), np.float32)
    one_hot[np.arange(chroma.shape[1]), chroma.argmax(axis=0)] = 1.0
    return one_hot[:frames]


@cache
def _chroma_filters(rate: int) -> np.ndarray:
    """transformers' chroma filter bank for the melody model's spectrum, made once per rate."""
    from transformers.audio_utils import chroma_filter_bank

    return chroma_filter_bank(num_frequency_bins=CHROMA_FFT, num_chroma=12, sampling_rate=rate, tuning=0)


def _joined(so_far: np.ndarray, window: np.ndarray, overlap: int) -> np.ndarray:
    """Append a window; a continuation starts with a re-generation of the last `overlap` samples so far,
    which is cross-faded (equal power) into them, so the seam is smooth even where the codec re-decodes
    them a little differently."""
    overlap = min(overlap, len(window), len(so_far))
    if overlap == 0:
        return np.concatenate([so_far, window])
    ramp = equal_power_ramp(overlap)
    seam = so_far[-overlap:] * ramp[::-1] + window[:overlap] * ramp
    return np.concatenate([so_far[:-overlap], seam, window[overlap:]])


def _resampled(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return audio.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    common = gcd(rate, target)
    return resample_poly(audio, target // common, rate // common).astype(np.float32)


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
