"""Loudness and true peak, measured and held: ITU-R BS.1770-4 integrated loudness (as pyloudnorm measures
it, fed a block at a time so a feature is measured in constant memory), the 4x true-peak interpolator, and
a look-ahead limiter whose gain curve keeps every true peak under a ceiling."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmscore.media.audio import Audio, AudioFile, AudioWriter, blocks

OVERSAMPLING = 4  # BS.1770-4 true peak: the peak of the signal upsampled four times

PEAK_TAPS = 48  # BS.1770-4's interpolator length: four phases of 12 taps

SILENCE_LUFS = -70.0  # BS.1770's absolute gate: quieter than this is no programme at all

LIMITER_WINDOW_S = 0.02  # the limiter's gain is held over +-20 ms around a peak and smoothed over 20 ms

GATE_BLOCK_S, GATE_STEP_S = 0.4, 0.1  # BS.1770 gating blocks: 400 ms, every 100 ms (75% overlap)

CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770 channel gains: L, R, C, Ls, Rs

PEAK_BLOCK = 4096  # true peak is interpolated in blocks of this many samples, only where it could matter


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
