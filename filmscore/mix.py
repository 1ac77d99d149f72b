"""The mix: the music under the film's own soundtrack, ducked under dialogue, normalised to a loudness
target (ITU-R BS.1770 integrated loudness, measured with pyloudnorm) with a true-peak ceiling.

The music stem is returned exactly as it sits in the mix (after its level, the ducking, the loudness gain
and the limiter), so an editor can rebalance it against the original soundtrack.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from filmscore.errors import UsageError
from filmscore.media import AudioClip

LOUDNESS_PRESETS = {"ebu": -23.0, "atsc": -24.0, "web": -16.0, "streaming": -14.0}
LOUDNESS_RANGE = (-40.0, -5.0)  # targets outside this are typing mistakes, not delivery specs
OVERSAMPLING = 4  # BS.1770-4 true peak: the peak of the signal upsampled four times
PEAK_TAPS = 48  # BS.1770-4's interpolator length: four phases of 12 taps
SILENCE_LUFS = -70.0  # BS.1770's absolute gate: quieter than this is no programme at all
GAIN_ITERATIONS = 4  # the limiter lowers loudness a little; re-aim the gain this many times at most
LOUDNESS_TOLERANCE_LU = 0.1
LIMITER_WINDOW_S = 0.02  # the limiter's gain is held over +-20 ms around a peak and smoothed over 20 ms
CONTROL_RATE = 1000  # samples per second of the ducking envelope before it is stretched to audio rate
PEAK_BLOCK = 4096  # true peak is interpolated in blocks of this many samples, only where it could matter


@dataclass(frozen=True)
class MixOptions:
    target_lufs: float = -23.0  # EBU R128
    true_peak_dbtp: float = -1.0  # the ceiling the delivered file must respect
    peak_margin_db: float = 0.5  # the limiter aims this far below the ceiling: AAC encoding adds overshoot
    duck_db: float = 10.0  # how much quieter the music is under dialogue
    attack_s: float = 0.3  # the music starts to dip this long before a line, so the first word is clear
    release_s: float = 0.8  # and comes back over this long after it
    music_level_lu: float = -3.0  # the music's loudness relative to the original soundtrack, before ducking


@dataclass(frozen=True)
class MixResult:
    mix: AudioClip  # what goes into the film
    stem: AudioClip  # the music exactly as it sits in `mix`
    music_scale: np.ndarray  # per sample, what the music was multiplied by to become `stem` (for stems)
    target_lufs: float  # what the mix was brought to; run.py measures the written file itself
    ducking_db: float
    music_gain_db: float  # level given to the music against the original soundtrack
    limiter_reduction_db: float  # the deepest gain reduction the limiter applied (0 when it was idle)


def parse_loudness(text: str) -> float:
    """A preset name (ebu, atsc, web, streaming) or a number in LUFS."""
    key = text.strip().lower()
    if key in LOUDNESS_PRESETS:
        return LOUDNESS_PRESETS[key]
    try:
        value = float(key.removesuffix("lufs").removesuffix("lkfs").strip())
    except ValueError:
        raise UsageError(
            f"--loudness {text!r} is neither a preset ({', '.join(LOUDNESS_PRESETS)}) nor a number like -23"
        ) from None
    low, high = LOUDNESS_RANGE
    if not (low <= value <= high) or math.isnan(value):
        raise UsageError(f"--loudness {value:g} LUFS is out of range; give a target from {low:g} to {high:g}")
    return value


def mix_under_dialogue(
    original: AudioClip | None,
    music: AudioClip,
    speech: tuple[tuple[float, float], ...],
    opts: MixOptions,
) -> MixResult:
    """Sum the original soundtrack (or nothing, for a silent film) and the ducked music, at the target."""
    rate = music.sample_rate
    bed = _match(original, music) if original is not None else np.zeros_like(music.samples)
    bed_lufs = integrated_lufs(bed, rate)
    music_lufs = integrated_lufs(music.samples, rate)
    music_gain_db = 0.0
    if bed_lufs > SILENCE_LUFS and music_lufs > SILENCE_LUFS:
        music_gain_db = bed_lufs + opts.music_level_lu - music_lufs
    duck = duck_envelope(speech, len(music.samples), rate, opts) * np.float32(_db(music_gain_db))
    stem = music.samples * duck[:, None]
    ceiling = _db(opts.true_peak_dbtp - opts.peak_margin_db)
    gain_db, limiter = 0.0, np.ones(len(stem), dtype=np.float32)
    loudness = integrated_lufs(bed + stem, rate)
    for _ in range(GAIN_ITERATIONS):
        if loudness <= SILENCE_LUFS:
            break
        gain_db += opts.target_lufs - loudness
        limiter = limiter_gain((bed + stem) * _db(gain_db), rate, ceiling)
        if limiter.min() >= 1.0:
            # A pure gain moves BS.1770 loudness by exactly its dB (both gates move with it).
            loudness = opts.target_lufs
            break
        loudness = integrated_lufs((bed + stem) * (_db(gain_db) * limiter)[:, None], rate)
        if abs(loudness - opts.target_lufs) <= LOUDNESS_TOLERANCE_LU:
            break
    scale = (np.float32(_db(gain_db)) * limiter).astype(np.float32)
    final_stem, final_bed = stem * scale[:, None], bed * scale[:, None]
    mixed = final_bed + final_stem
    return MixResult(
        mix=AudioClip(mixed, rate),
        stem=AudioClip(final_stem, rate),
        music_scale=duck * scale,
        target_lufs=opts.target_lufs,
        ducking_db=opts.duck_db,
        music_gain_db=music_gain_db,
        limiter_reduction_db=max(0.0, float(-20 * np.log10(max(float(limiter.min()), 1e-6)))),
    )


def _match(original: AudioClip, music: AudioClip) -> np.ndarray:
    """The original soundtrack as stereo at the music's length (padding or trimming the last frames)."""
    if original.sample_rate != music.sample_rate:
        raise ValueError("the original soundtrack and the music must share a sample rate")
    samples = original.samples if original.samples.ndim == 2 else original.samples[:, None]
    if samples.shape[1] == 1:
        samples = np.repeat(samples, 2, axis=1)
    samples = samples[:, :2]
    length = len(music.samples)
    if len(samples) < length:
        samples = np.concatenate([samples, np.zeros((length - len(samples), 2), samples.dtype)])
    return np.ascontiguousarray(samples[:length], dtype=np.float32)


def _db(value_db: float) -> float:
    return float(10 ** (value_db / 20))


def duck_envelope(
    speech: tuple[tuple[float, float], ...], length: int, rate: int, opts: MixOptions
) -> np.ndarray:
    """The music's gain over time: 1 in the clear, -duck_db under speech, with raised-cosine ramps that
    start `attack_s` before each line and recover over `release_s` after it."""
    frames = math.ceil(length / rate * CONTROL_RATE) + 1
    depth = np.zeros(frames)
    for start_s, end_s in speech:
        first = max(0, int((start_s - opts.attack_s) * CONTROL_RATE))
        last = min(frames, math.ceil((end_s + opts.release_s) * CONTROL_RATE) + 1)
        if last <= first:
            continue
        t = np.arange(first, last) / CONTROL_RATE
        rise = np.clip((t - (start_s - opts.attack_s)) / max(opts.attack_s, 1e-3), 0, 1)
        fall = np.clip((end_s + opts.release_s - t) / max(opts.release_s, 1e-3), 0, 1)
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))
        depth[first:last] = np.maximum(depth[first:last], shape)
    gain = 10 ** (-opts.duck_db * depth / 20)
    positions = np.arange(length) * (CONTROL_RATE / rate)
    return np.interp(positions, np.arange(frames), gain).astype(np.float32)


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """BS.1770 gated integrated loudness (pyloudnorm); -inf for silence."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    block = int(meter.block_size * rate)
    if len(samples) < block:  # too short for one gating block: pad with silence, as a meter would see it
        pad = np.zeros((block - len(samples), *samples.shape[1:]), dtype=samples.dtype)
        samples = np.concatenate([samples, pad])
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(np.asarray(samples, dtype=np.float64)))


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
    peaks = np.abs(frames).max(axis=1)
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
            interpolated = np.abs(windows @ phases).max(axis=1)
            np.maximum(peaks[start:end], interpolated, out=peaks[start:end])
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
