"""Dialogue: find where someone speaks (voice activity detection), recognise only there, and lay the
lines onto the film's timeline and shots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from filmscore.analysis.asr import ASR_BACKENDS, AsrBackend, Passage, Utterance, Word
from filmscore.analysis.shots import Shot
from filmscore.config.settings import default
from filmscore.media.audio import Audio
from filmscore.media.probe import SPEECH_SAMPLE_RATE

SPEECH_PER_WORKER_S = 30.0  # a speech worker for each this much voice-active audio (see speech_workers)
_kept_asr: dict[tuple[object, ...], AsrBackend] = {}  # a speech worker's recogniser (see _worker_asr)
VAD_BLOCK_FRAMES = 3000  # VAD frames (30 ms each) read from the speech track at once: 90 s, 2.9 MB


@dataclass(frozen=True)
class DialogueOptions:
    asr: str = default("analysis.asr")  # a name in ASR_BACKENDS
    asr_model: str | None = default("analysis.asr_model")  # backend-specific model path or id
    # ISO 639-1 code of the dialogue; None: the backend's own (Whisper detects)
    language: str | None = default("analysis.language")
    device: str = default("models.device")  # where a model runs: auto, cpu or cuda
    vad_mode: int = 2  # WebRTC-style aggressiveness, 0 (keeps most) .. 3 (keeps least)
    min_speech_s: float = 0.25  # shorter bursts are clicks or noise, not speech
    merge_gap_s: float = 0.8  # pauses shorter than this stay inside one line
    pad_s: float = 0.15  # context kept around each region so word edges are not clipped
    min_level_dbfs: float = -50.0  # regions quieter than this are room tone, whatever the VAD says


@dataclass(frozen=True)
class Transcript:
    utterances: tuple[Utterance, ...]
    speech_regions: tuple[tuple[float, float], ...]  # (start_s, end_s) of voice activity
    backend: str
    language: str

    def words_in(self, start_s: float, end_s: float) -> tuple[Word, ...]:
        """Words whose middle falls inside [start_s, end_s)."""
        return self.words_in_spans(((start_s, end_s),))[0]

    def words_in_spans(self, spans: Iterable[tuple[float, float]]) -> tuple[tuple[Word, ...], ...]:
        """For each (start_s, end_s), the words whose middle falls inside it, in transcript order. One sorted
        search for all the spans: a scan of every word per shot cost seconds on a feature (shots x words)."""
        words = [word for line in self.utterances for word in line.words]
        middles = np.array([(w.start_s + w.end_s) / 2 for w in words], dtype=np.float64)
        order = np.argsort(middles, kind="stable")
        ordered = middles[order]
        found = []
        for start_s, end_s in spans:
            first, last = np.searchsorted(ordered, (start_s, end_s), side="left")
            found.append(tuple(words[i] for i in np.sort(order[first:last])))
        return tuple(found)

    def speech_s_in(self, start_s: float, end_s: float) -> float:
        return sum(max(0.0, min(b, end_s) - max(a, start_s)) for a, b in self.speech_regions)


def voice_regions(audio: Audio, opts: DialogueOptions) -> tuple[tuple[float, float], ...]:
    """Voice-active regions, in seconds, from pocketsphinx's WebRTC-derived VAD with smoothing. The track
    is read VAD_BLOCK_FRAMES frames at a time, so a feature's needs no more memory than a short's."""
    from pocketsphinx import Vad

    if audio.sample_rate != SPEECH_SAMPLE_RATE:
        raise ValueError(f"VAD needs {SPEECH_SAMPLE_RATE} Hz audio, got {audio.sample_rate}")
    vad = Vad(mode=opts.vad_mode, sample_rate=SPEECH_SAMPLE_RATE)
    frame_len = vad.frame_bytes // 2
    count = audio.frames // frame_len
    level_floor = 10 ** (opts.min_level_dbfs / 20.0)
    flags = np.zeros(count, dtype=bool)
    for first in range(0, count, VAD_BLOCK_FRAMES):
        last = min(count, first + VAD_BLOCK_FRAMES)
        samples = audio.read(first * frame_len, last * frame_len)[:, 0]
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").reshape(-1, frame_len)
        levels = np.sqrt(np.mean((pcm.astype(np.float32) / 32767) ** 2, axis=1))
        # The VAD keeps state from frame to frame, so it hears only the frames loud enough to pass, in
        # order, as it would frame by frame.
        for i in np.flatnonzero(levels >= level_floor):
            flags[first + i] = vad.is_speech(pcm[i].tobytes())
    return _smooth_regions(flags, vad.frame_length, audio.frames / audio.sample_rate, opts)


def flag_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _smooth_regions(
    flags: np.ndarray, frame_s: float, duration_s: float, opts: DialogueOptions
) -> tuple[tuple[float, float], ...]:
    regions: list[list[float]] = []
    for start, end in flag_runs(flags):
        a, b = start * frame_s, end * frame_s
        if regions and a - regions[-1][1] < opts.merge_gap_s:
            regions[-1][1] = b
        else:
            regions.append([float(a), float(b)])
    return tuple(
        (round(max(0.0, a - opts.pad_s), 3), round(min(duration_s, b + opts.pad_s), 3))
        for a, b in regions
        if b - a >= opts.min_speech_s
    )


def passages(audio: Audio, regions: tuple[tuple[float, float], ...]) -> Iterator[Passage]:
    """Each region's samples, read from the track only when the recogniser comes to it."""
    for start_s, end_s in regions:
        yield start_s, audio.read(int(start_s * SPEECH_SAMPLE_RATE), int(end_s * SPEECH_SAMPLE_RATE))[:, 0]


def speech_workers(regions: tuple[tuple[float, float], ...], most: int) -> int:
    """How many speech workers share `regions`: one per SPEECH_PER_WORKER_S of speech, `most` at most.
    A worker's start costs the picture pass, which keeps both cores busy, about 0.4 s of a core (the
    process and PocketSphinx's model), and one worker recognises 30 s of speech in about 2 s of a core.
    On 60 s 720p films, one worker was 0.22 s faster with 22 s of speech and 0.15 s slower with 52 s
    (benchmarks/ab_run.py). Decided by the film alone, as the split is, so a film gets the same
    transcript on any machine."""
    speech_s = sum(end - start for start, end in regions)
    return max(1, min(most, math.ceil(speech_s / SPEECH_PER_WORKER_S)))


def split_regions(
    regions: tuple[tuple[float, float], ...], count: int
) -> list[tuple[tuple[float, float], ...]]:
    """Consecutive runs of regions with about the same amount of speech each, one per worker."""
    lengths = [int(end * SPEECH_SAMPLE_RATE) - int(start * SPEECH_SAMPLE_RATE) for start, end in regions]
    ends = np.cumsum(lengths) if regions else np.zeros(0)
    total = float(ends[-1]) if len(ends) else 0.0
    groups: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    for region, length, ends_at in zip(regions, lengths, ends, strict=True):
        share = min(count - 1, int((ends_at - length / 2) / max(total, 1.0) * count))
        groups[share].append(region)
    return [tuple(group) for group in groups if group]


def check_asr(opts: DialogueOptions) -> str | None:
    """Fail at once, before the long work, when the ASR backend, its model or its options cannot work (it
    is created later, in the speech workers); the model's local path for a neural backend."""
    checked = ASR_BACKENDS.backend_class(opts.asr).check(opts.asr_model, opts.language, opts.device)
    return checked if ASR_BACKENDS.entry(opts.asr).neural else None


def create_asr(opts: DialogueOptions) -> AsrBackend:
    return ASR_BACKENDS.create_configured(opts.asr, opts.asr_model, opts.device, language=opts.language)


def _worker_asr(opts: DialogueOptions) -> AsrBackend:
    """The recogniser a speech worker made last, where it is asked for the same one again and the backend
    carries nothing from one film to the next (Whisper, its window conditioned on nothing earlier; not
    PocketSphinx, whose cepstral means adapt to what it heard); a new one otherwise."""
    key = (opts.asr, opts.asr_model, opts.device, opts.language)
    asr = _kept_asr.get(key)
    if asr is not None:
        asr.new_film()
        return asr
    _kept_asr.clear()
    asr = create_asr(opts)
    if asr.reusable:
        _kept_asr[key] = asr
    return asr


def recognise(
    items: Iterable[Passage], opts: DialogueOptions, backend: AsrBackend | None = None
) -> list[Utterance]:
    """One line of dialogue per passage that holds words, with times on the film's clock."""
    asr = backend or create_asr(opts)
    lines = []
    for start_s, heard in asr.recognise_passages(items):
        words = tuple(
            Word(w.word, round(w.start_s + start_s, 3), round(w.end_s + start_s, 3), w.confidence)
            for w in heard
        )
        if words:
            lines.append(Utterance(words[0].start_s, words[-1].end_s, " ".join(w.word for w in words), words))
    return lines


def transcribe_regions(
    audio: Audio, regions: tuple[tuple[float, float], ...], opts: DialogueOptions, keep: bool = False
) -> Transcript:
    """A worker's share of the dialogue: its regions, read from the speech track (a file, when this runs in
    a worker), recognised by a backend of its own. With `keep` (a batch's warm worker, whose speech
    workers serve film after film) the backend is kept for the worker's next share; otherwise it goes
    with the share: a model still held when a worker is stopped (SIGTERM) can hang its exit, as
    CTranslate2's did, one stop in three."""
    asr = _worker_asr(opts) if keep else create_asr(opts)
    return Transcript(tuple(recognise(passages(audio, regions), opts, asr)), regions, asr.name, asr.language)


def merge_transcripts(
    parts: list[Transcript], regions: tuple[tuple[float, float], ...], opts: DialogueOptions
) -> Transcript:
    """The workers' shares in film order, under the full list of voice regions."""
    if not parts:  # nobody speaks, so no backend ran and no language was heard ("und": undetermined)
        return Transcript((), regions, opts.asr, "und")
    lines = tuple(line for part in parts for line in part.utterances)
    return Transcript(lines, regions, parts[0].backend, parts[0].language)


def transcribe(audio: Audio, opts: DialogueOptions, backend: AsrBackend | None = None) -> Transcript:
    """Recognise speech in the voice-active regions only, so music and effects are never transcribed."""
    asr = backend or create_asr(opts)
    regions = voice_regions(audio, opts)
    return Transcript(tuple(recognise(passages(audio, regions), opts, asr)), regions, asr.name, asr.language)


def lines_by_shot(transcript: Transcript, shots: tuple[Shot, ...]) -> tuple[str, ...]:
    """The words spoken in each shot, as text (a line spanning a cut is split at the cut)."""
    spoken = transcript.words_in_spans((s.start_s, s.end_s) for s in shots)
    return tuple(" ".join(w.word for w in words) for words in spoken)


def each_line_by_shot(transcript: Transcript, shots: tuple[Shot, ...]) -> tuple[tuple[str, ...], ...]:
    """The lines spoken in each shot, each as its own text: the part of a line inside the shot (a line
    spanning a cut is split at the cut), one text per line, in the order spoken."""
    line_of = {id(word): i for i, line in enumerate(transcript.utterances) for word in line.words}
    lines = []
    for words in transcript.words_in_spans((s.start_s, s.end_s) for s in shots):
        texts: dict[int, list[str]] = {}
        for word in words:
            texts.setdefault(line_of[id(word)], []).append(word.word)
        lines.append(tuple(" ".join(parts) for _, parts in sorted(texts.items())))
    return tuple(lines)
