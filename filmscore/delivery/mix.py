"""The mix: the music under the film's own soundtrack, ducked under dialogue, normalised to a loudness
target (ITU-R BS.1770 integrated loudness, measured with pyloudnorm) with a true-peak ceiling.

The music stem is returned exactly as it sits in the mix (after its level, the ducking, the loudness gain
and the limiter), so an editor can rebalance it against the original soundtrack.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from filmscore.config.settings import default, parse_loudness
from filmscore.media.audio import Audio, AudioFile, AudioWriter, blocks

OVERSAMPLING = 4  # BS.1770-4 true peak: the peak of the signal upsampled four times
PEAK_TAPS = 48  # BS.1770-4's interpolator length: four phases of 12 taps
SILENCE_LUFS = -70.0  # BS.1770's absolute gate: quieter than this is no programme at all
GAIN_ITERATIONS = 4  # the limiter lowers loudness a little; re-aim the gain this many times at most
LOUDNESS_TOLERANCE_LU = 0.1
LIMITER_WINDOW_S = 0.02  # the limiter's gain is held over +-20 ms around a peak and smoothed over 20 ms
CONTROL_RATE = 1000  # samples per second of the ducking envelope before it is stretched to audio rate
MIX_PARTS = ((2, "mix"), (2, "stem"), (1, "scale"))  # channels and work-file names of a mix's parts
GATE_BLOCK_S, GATE_STEP_S = 0.4, 0.1  # BS.1770 gating blocks: 400 ms, every 100 ms (75% overlap)
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770 channel gains: L, R, C, Ls, Rs
PEAK_BLOCK = 4096  # true peak is interpolated in blocks of this many samples, only where it could matter


@dataclass(frozen=True)
class MixOptions:
    target_lufs: float = parse_loudness(default("mix.loudness"))  # EBU R128 unless set
    true_peak_dbtp: float = -1.0  # the ceiling the delivered file must respect
    peak_margin_db: float = 0.5  # the limiter aims this far below the ceiling: AAC encoding adds overshoot
    duck_db: float = default("mix.duck_db")  # how much quieter the music is under dialogue
    attack_s: float = 0.3  # the music starts to dip this long before a line, so the first word is clear
    release_s: float = 0.8  # and comes back over this long after it
    music_level_lu: float = -3.0  # the music's loudness relative to the original soundtrack, before ducking


@dataclass(frozen=True)
class MixResult:
    mix: Audio  # what goes into the film (stereo)
    stem: Audio  # the music exactly as it sits in `mix`
    music_scale: Audio  # mono: per frame, what the music was multiplied by to become `stem` (for stems)
    target_lufs: float  # what the mix was brought to; run.py measures the written file itself
    ducking_db: float
    music_gain_db: float  # level given to the music against the original soundtrack
    limiter_reduction_db: float  # the deepest gain reduction the limiter applied (0 when it was idle)


@dataclass(frozen=True)
class _Mix:
    """The mix as a signal computed a block at a time from its parts: the bed (the original soundtrack, or
    silence), the music times its envelope (level and ducking), and an overall gain curve (loudness gain
    times limiter). Nothing of film length is held in memory."""

    bed: Audio | None
    music: Audio
    envelope: np.ndarray  # the music's gain at CONTROL_RATE
    gain: Callable[[int, int], np.ndarray]  # frames first..last of the overall gain

    @property
    def frames(self) -> int:
        return self.music.frames

    @property
    def channels(self) -> int:
        return 2

    @property
    def sample_rate(self) -> int:
        return self.music.sample_rate

    def parts(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The bed and the music as they sit in the mix, and the music's scale, for frames first..last."""
        first, last = max(0, first), min(self.frames, last)
        gain = self.gain(first, last)
        scale = envelope_frames(self.envelope, first, last, self.sample_rate) * gain
        music = _stereo(self.music.read(first, last), last - first) * scale[:, None]
        if self.bed is None:
            return np.zeros_like(music), music, scale
        return _stereo(self.bed.read(first, last), last - first) * gain[:, None], music, scale

    def read(self, first: int, last: int) -> np.ndarray:
        bed, music, _ = self.parts(first, last)
        return bed + music


def _unity(first: int, last: int) -> np.ndarray:
    return np.ones(max(0, last - first), np.float32)


def _constant(value: float) -> Callable[[int, int], np.ndarray]:
    return lambda first, last: np.full(max(0, last - first), value, np.float32)


def mix_under_dialogue(
    original: Audio | None,
    music: Audio,
    speech: tuple[tuple[float, float], ...],
    opts: MixOptions,
    workdir: Path | None = None,
) -> MixResult:
    """Sum the original soundtrack (or nothing, for a silent film) and the ducked music, at the target.

    Everything streams in blocks; with `workdir` the results are raw files there (a feature's mix does not
    fit in memory), without it they are in memory.
    """
    rate = music.sample_rate
    if original is not None and original.sample_rate != rate:
        raise ValueError("the original soundtrack and the music must share a sample rate")
    bed_lufs = measure_audio(original).integrated_lufs if original is not None else -math.inf
    music_lufs = measure_audio(music).integrated_lufs
    music_gain_db = 0.0
    if bed_lufs > SILENCE_LUFS and music_lufs > SILENCE_LUFS:
        music_gain_db = bed_lufs + opts.music_level_lu - music_lufs
    envelope = duck_control(speech, music.frames, rate, opts) * _db(music_gain_db)
    plain = _Mix(original, music, envelope, _unity)
    gain = _loudness_gain(plain, opts, workdir)
    final = replace(plain, gain=gain.curve)
    mix, stem, scale = _write_mix(final, workdir)
    return MixResult(
        mix=mix,
        stem=stem,
        music_scale=scale,
        target_lufs=opts.target_lufs,
        ducking_db=opts.duck_db,
        music_gain_db=music_gain_db,
        limiter_reduction_db=max(0.0, -20 * math.log10(max(gain.deepest, 1e-6))),
    )


@dataclass(frozen=True)
class _Gain:
    curve: Callable[[int, int], np.ndarray]  # the overall gain, frames first..last
    deepest: float  # the limiter's smallest gain (1 when it was idle)


def _loudness_gain(plain: _Mix, opts: MixOptions, workdir: Path | None) -> _Gain:
    """The gain that brings the mix to the target with no true peak over the ceiling: a constant gain,
    and a limiter where that gain alone would pass the ceiling. The limiter lowers the loudness a little,
    so the gain is aimed again, a few times at most."""
    ceiling = _db(opts.true_peak_dbtp - opts.peak_margin_db)
    loudness = measure_audio(plain).integrated_lufs
    gain_db, gain = 0.0, _Gain(_unity, 1.0)
    for _ in range(GAIN_ITERATIONS):
        if loudness <= SILENCE_LUFS:
            break
        gain_db += opts.target_lufs - loudness
        scaled = replace(plain, gain=_constant(_db(gain_db)))
        limiter = limit(scaled, ceiling, workdir, "limiter")
        if limiter is None:
            # A pure gain moves BS.1770 loudness by exactly its dB (both gates move with it).
            return _Gain(_constant(_db(gain_db)), 1.0)
        gain = _Gain(_LimitedGain(limiter.curve, _db(gain_db)), limiter.deepest)
        loudness = measure_audio(replace(plain, gain=gain.curve)).integrated_lufs
        if abs(loudness - opts.target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
    return gain


@dataclass(frozen=True)
class _LimitedGain:
    """A constant gain times a limiter's curve, frames first..last."""

    curve: Audio
    level: float

    def __call__(self, first: int, last: int) -> np.ndarray:
        return self.curve.read(first, last)[:, 0] * np.float32(self.level)


def _write_mix(mix: _Mix, workdir: Path | None) -> tuple[Audio, Audio, Audio]:
    """The finished mix, the music stem as it sits in it, and the music's scale (mono)."""
    rate = mix.sample_rate
    writers = [AudioWriter(mix.frames, ch, rate, workdir, name) for ch, name in MIX_PARTS]
    for first, last in blocks(mix.frames):
        bed, music, scale = mix.parts(first, last)
        for writer, block in zip(writers, (bed + music, music, scale), strict=True):
            writer.write(block)
    mixed, stem, music_scale = (writer.finish() for writer in writers)
    return mixed, stem, music_scale


def relimit(previous: MixResult, ceiling_dbtp: float, workdir: Path | None = None) -> MixResult:
    """Limit a finished mix again under a lower ceiling, keeping the stem and the music's scale in step
    (the encoder's overshoot can push a mix that met the ceiling over it)."""
    limiter = limit(previous.mix, _db(ceiling_dbtp), workdir, "relimit")
    if limiter is None:
        return previous
    rate = previous.mix.sample_rate
    frames = previous.mix.frames
    writers = [AudioWriter(frames, ch, rate, workdir, f"{name}-relimited") for ch, name in MIX_PARTS]
    for first, last in blocks(previous.mix.frames):
        gain = limiter.curve.read(first, last)
        for writer, part in zip(writers, (previous.mix, previous.stem, previous.music_scale), strict=True):
            writer.write(part.read(first, last) * gain)
    mixed, stem, scale = (writer.finish() for writer in writers)
    deepest = min(limiter.deepest, _db(-previous.limiter_reduction_db))
    return replace(previous, mix=mixed, stem=stem, music_scale=scale,
                   limiter_reduction_db=-20 * math.log10(max(deepest, 1e-6)))  # fmt: skip


def _stereo(block: np.ndarray, frames: int) -> np.ndarray:
    """Any block as stereo float32 of `frames` frames (mono doubled, extra channels dropped, short blocks
    padded with silence: the original soundtrack can end a few frames before the music)."""
    block = block if block.ndim == 2 else block[:, None]
    if block.shape[1] == 1:
        block = np.repeat(block, 2, axis=1)
    block = block[:, :2]
    if len(block) < frames:
        block = np.concatenate([block, np.zeros((frames - len(block), 2), block.dtype)])
    return np.asarray(block[:frames], dtype=np.float32)


def _db(value_db: float) -> float:
    return float(10 ** (value_db / 20))


def duck_control(
    speech: tuple[tuple[float, float], ...], frames: int, rate: int, opts: MixOptions
) -> np.ndarray:
    """The music's gain over time at CONTROL_RATE: 1 in the clear, -duck_db under speech, with
    raised-cosine ramps that start `attack_s` before each line and recover over `release_s` after it."""
    count = math.ceil(frames / rate * CONTROL_RATE) + 1
    depth = np.zeros(count)
    for start_s, end_s in speech:
        first = max(0, int((start_s - opts.attack_s) * CONTROL_RATE))
        last = min(count, math.ceil((end_s + opts.release_s) * CONTROL_RATE) + 1)
        if last <= first:
            continue
        t = np.arange(first, last) / CONTROL_RATE
        rise = np.clip((t - (start_s - opts.attack_s)) / max(opts.attack_s, 1e-3), 0, 1)
        fall = np.clip((end_s + opts.release_s - t) / max(opts.release_s, 1e-3), 0, 1)
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))
        depth[first:last] = np.maximum(depth[first:last], shape)
    return 10 ** (-opts.duck_db * depth / 20)


def envelope_frames(control: np.ndarray, first: int, last: int, rate: int) -> np.ndarray:
    """A control-rate envelope stretched to audio frames first..last."""
    positions = np.arange(first, last) * (CONTROL_RATE / rate)
    return np.interp(positions, np.arange(len(control)), control).astype(np.float32)


def duck_envelope(
    speech: tuple[tuple[float, float], ...], length: int, rate: int, opts: MixOptions
) -> np.ndarray:
    """The ducking gain for every frame of a signal `length` frames long."""
    return envelope_frames(duck_control(speech, length, rate, opts), 0, length, rate)


class LoudnessMeter:
    """BS.1770-4 integrated loudness, fed a block at a time, so a feature is measured in constant memory.

    The K-weighting is pyloudnorm's pair of filters, run with their state carried from block to block;
    the gating follows pyloudnorm's Meter exactly (400 ms blocks every 100 ms, -70 LUFS absolute and
    -10 LU relative gates), so the value equals `pyloudnorm.Meter.integrated_loudness` on the whole signal
    (the tests compare them).
    """

    def __init__(self, rate: int, channels: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        self.rate, self.channels = rate, channels
        # BS.1770-4's K-weighting: a +4 dB high shelf at 1.5 kHz, then a 38 Hz high-pass. Run as one
        # cascade of second-order sections (sosfilt): half the time of two lfilter passes, equal to 1e-13.
        stages = [
            IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
            IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
        ]
        self._sections = np.array([[*(f.b / f.a[0] * f.passband_gain), *(f.a / f.a[0])] for f in stages])
        self._state = np.zeros((len(stages), channels, 2))
        self._step = round(rate * GATE_STEP_S)
        self._steps: list[np.ndarray] = []  # sums of squares of each complete 100 ms step, per channel
        self._partial, self._partial_frames = np.zeros(channels), 0
        self.frames = 0

    def add(self, block: np.ndarray) -> None:
        from scipy.signal import sosfilt

        # Channel after channel in memory: the filter and the sums below run along contiguous samples.
        samples = np.asarray(block, dtype=np.float64).reshape(-1, self.channels).T
        weighted, self._state = sosfilt(self._sections, samples, axis=-1, zi=self._state)
        self.frames += weighted.shape[1]
        self._add_squares(np.square(weighted, out=weighted))

    def _add_squares(self, squares: np.ndarray) -> None:
        """`squares`: (channels, frames)."""
        step, position, frames = self._step, 0, squares.shape[1]
        if self._partial_frames:
            take = min(step - self._partial_frames, frames)
            self._partial += squares[:, :take].sum(axis=1)
            self._partial_frames += take
            position = take
            if self._partial_frames == step:
                self._steps.append(self._partial)
                self._partial, self._partial_frames = np.zeros(self.channels), 0
        whole = (frames - position) // step
        if whole:
            body = squares[:, position : position + whole * step].reshape(self.channels, whole, step)
            self._steps.extend(body.sum(axis=2).T)
            position += whole * step
        if position < frames:
            self._partial = self._partial + squares[:, position:].sum(axis=1)
            self._partial_frames += frames - position

    def integrated_lufs(self) -> float:
        """-inf for silence. A signal shorter than one gating block counts as padded with silence."""
        block_frames = round(GATE_BLOCK_S * self.rate)
        seconds = max(self.frames, block_frames) / self.rate
        count = max(1, int(np.round((seconds - GATE_BLOCK_S) / GATE_STEP_S)) + 1)
        per_block = round(GATE_BLOCK_S / GATE_STEP_S)
        steps = np.zeros((count + per_block, self.channels))
        known = [*self._steps, self._partial][: len(steps)]
        steps[: len(known)] = known
        sums = np.concatenate([np.zeros((1, self.channels)), np.cumsum(steps, axis=0)])
        z = (sums[per_block : per_block + count] - sums[:count]) / block_frames  # (blocks, channels)
        weights = np.array(CHANNEL_WEIGHTS[: self.channels])
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(z @ weights)
            loud = block_lufs >= SILENCE_LUFS
            if not loud.any():
                return -math.inf
            relative = -0.691 + 10 * np.log10(z[loud].mean(axis=0) @ weights) - 10
            gated = (block_lufs > relative) & loud
            if not gated.any():
                return -math.inf
            return float(-0.691 + 10 * np.log10(z[gated].mean(axis=0) @ weights))


@dataclass(frozen=True)
class Measurement:
    integrated_lufs: float
    true_peak_dbtp: float  # -inf when not measured


def measure_audio(audio: Audio, true_peak: bool = False) -> Measurement:
    """Integrated loudness, and the true peak if asked, of any signal, a block at a time."""
    meter = LoudnessMeter(audio.sample_rate, audio.channels)
    reach = _interpolator()[0].shape[0]
    peak = 0.0
    for first, last in blocks(audio.frames):
        # For the true peak, a little either side too, so the interpolation at the block's edges sees its
        # neighbours; one read serves both measures.
        window, inner = _with_neighbours(audio, first, last, reach if true_peak else 0)
        meter.add(window[inner])
        if true_peak:
            peak = max(peak, float(sample_peaks(window, floor=peak)[inner].max(initial=0.0)))
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    return Measurement(meter.integrated_lufs(), peak_db)


def _with_neighbours(audio: Audio, first: int, last: int, margin: int) -> tuple[np.ndarray, slice]:
    """Frames first..last with up to `margin` more either side (fewer at the signal's ends), and where
    first..last sit inside them."""
    lead = first - max(0, first - margin)
    return audio.read(first - margin, last + margin), slice(lead, lead + last - first)


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """BS.1770 gated integrated loudness of an in-memory signal; -inf for silence."""
    meter = LoudnessMeter(rate, 1 if samples.ndim == 1 else samples.shape[1])
    meter.add(samples)
    return meter.integrated_lufs()


@dataclass(frozen=True)
class Limiter:
    curve: Audio  # mono gain per frame
    deepest: float  # its smallest gain


def limit(audio: Audio, ceiling: float, workdir: Path | None, name: str) -> Limiter | None:
    """The limiter's gain curve for a whole signal, a block at a time (None where it never acts). Each
    block is computed with enough of its neighbours that the curve equals `limiter_gain` on the whole
    signal: the interpolator's reach, the hold window and the smoothing window."""
    rate = audio.sample_rate
    half = max(1, int(LIMITER_WINDOW_S * rate))
    margin = _interpolator()[0].shape[0] + half + half // 2 + 2
    writer = AudioWriter(audio.frames, 1, rate, workdir, name)
    deepest = 1.0
    for first, last in blocks(audio.frames):
        window, core = _with_neighbours(audio, first, last, margin)
        gain = limiter_gain(window, rate, ceiling)[core]
        deepest = min(deepest, float(gain.min(initial=1.0)))
        writer.write(gain)
    curve = writer.finish()
    if deepest >= 1.0:
        if isinstance(curve, AudioFile):
            curve.path.unlink()
        return None
    return Limiter(curve, deepest)


@functools.cache
def _interpolator() -> tuple[np.ndarray, float]:
    """The 4x true-peak interpolator in BS.1770-4's shape (48 taps, four phases of 12), as a (12, 4)
    matrix with one column per phase, and the largest L1 norm of a phase: no output of a phase can
    exceed that norm times the largest input sample it reads."""
    from scipy.signal import firwin

    taps = firwin(PEAK_TAPS, 1 / OVERSAMPLING, window=("kaiser", 8.0)) * OVERSAMPLING
    phases = np.stack([taps[k::OVERSAMPLING][::-1] for k in range(OVERSAMPLING)], axis=1).astype(np.float32)
    return phases, float(np.abs(phases).sum(axis=0).max())


def sample_peaks(samples: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """For every sample, the largest absolute value of the 4x-upsampled signal around it, over channels.

    The interpolation is only computed in blocks where it could reach `floor`; elsewhere the sample's
    own magnitude stands in (a lower bound). Callers that only care about peaks above a level (the
    limiter, or the maximum) pass it, and quiet passages cost nothing.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    frames = np.asarray(samples if samples.ndim == 2 else samples[:, None], dtype=np.float32)
    # Maxima are taken column by column here: numpy's max along a short last axis (two channels, four
    # phases) is many times slower.
    peaks = np.abs(frames[:, 0])
    for channel in range(1, frames.shape[1]):
        np.maximum(peaks, np.abs(frames[:, channel]), out=peaks)
    phases, gain_bound = _interpolator()
    reach = phases.shape[0]  # input samples each output reads
    half = reach // 2
    padded = np.concatenate([np.zeros((half, frames.shape[1]), np.float32), frames,
                             np.zeros((reach - half, frames.shape[1]), np.float32)])  # fmt: skip
    for start in range(0, len(frames), PEAK_BLOCK):
        end = min(len(frames), start + PEAK_BLOCK)
        if peaks[max(0, start - reach) : end + reach].max() * gain_bound < floor:
            continue
        for channel in range(frames.shape[1]):
            windows = sliding_window_view(padded[start : end + reach - 1, channel], reach)
            for phase in (windows @ phases).T:
                np.maximum(peaks[start:end], np.abs(phase), out=peaks[start:end])
    return peaks


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    if not len(samples):
        return -math.inf
    # The true peak is at least the largest sample, so only blocks that could beat that are interpolated.
    peak = float(sample_peaks(samples, floor=float(np.abs(samples).max())).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limiter_gain(samples: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """A look-ahead brick-wall limiter's gain curve, so no true peak passes `ceiling` (linear).

    The gain each sample needs is held at its minimum over a window around the peak, then averaged over
    half that window. The average of the held curve never rises above what any sample in reach needs,
    so the peak itself is covered, and the gain moves smoothly instead of clicking.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peaks = sample_peaks(samples, floor=ceiling)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9)).astype(np.float32)
    if need.min() >= 1.0:
        return np.ones(len(samples), dtype=np.float32)
    half = max(1, int(LIMITER_WINDOW_S * rate))
    held = minimum_filter1d(need, size=2 * half + 1, mode="nearest")
    smooth = uniform_filter1d(held, size=half, mode="nearest")
    return np.minimum(smooth, need).astype(np.float32)
