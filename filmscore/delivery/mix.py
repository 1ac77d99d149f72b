"""The mix: the music under the film's own soundtrack, ducked under dialogue, normalised to a loudness
target (ITU-R BS.1770 integrated loudness, measured with pyloudnorm) with a true-peak ceiling.

Under dialogue the music is also cut gently in the speech band (a broad dip centred on 2 kHz, -3 dB of
it at 1 and 4 kHz, where a voice's consonants and formants carry its words), following the ducking's
shape: the music can stay fuller without masking the words.

The music stem is returned exactly as it sits in the mix (after its level, the ducking, the loudness gain
and the limiter), so an editor can rebalance it against the original soundtrack.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from filmscore.config.settings import default, parse_loudness
from filmscore.delivery.loudness import SILENCE_LUFS, limit, measure_audio
from filmscore.media.audio import Audio, AudioWriter, blocks

GAIN_ITERATIONS = 4  # the limiter lowers loudness a little; re-aim the gain this many times at most
LOUDNESS_TOLERANCE_LU = 0.1
CONTROL_RATE = 1000  # samples per second of the ducking envelope before it is stretched to audio rate
MIX_PARTS = ((2, "mix"), (2, "stem"), (1, "scale"))  # channels and work-file names of a mix's parts


@dataclass(frozen=True)
class MixOptions:
    target_lufs: float = parse_loudness(default("mix.loudness"))  # EBU R128 unless set
    true_peak_dbtp: float = -1.0  # the ceiling the delivered file must respect
    peak_margin_db: float = 0.5  # the limiter aims this far below the ceiling: AAC encoding adds overshoot
    duck_db: float = default("mix.duck_db")  # how much quieter the music is under dialogue
    attack_s: float = 0.3  # the music starts to dip this long before a line, so the first word is clear
    release_s: float = 0.8  # and comes back over this long after it
    music_level_lu: float = -3.0  # the music's loudness relative to the original soundtrack, before ducking
    speech_cut_db: float = default("mix.speech_cut_db")  # the dip at 2 kHz in the music under dialogue


@dataclass(frozen=True)
class MixResult:
    mix: Audio  # what goes into the film (stereo)
    stem: Audio  # the music exactly as it sits in `mix`
    # mono: per frame, what the music (after its speech-band cut) was multiplied by to become `stem`
    music_scale: Audio
    target_lufs: float  # what the mix was brought to; run.py measures the written file itself
    ducking_db: float
    music_gain_db: float  # level given to the music against the original soundtrack
    limiter_reduction_db: float  # the deepest gain reduction the limiter applied (0 when it was idle)
    speech_cut: np.ndarray | None = None  # the speech-band cut's depth at CONTROL_RATE (see cut_speech_band)
    speech_cut_db: float = 0.0  # its dip at 2 kHz under dialogue (0: no cut, or no dialogue)


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


def helper_warm_up() -> None:
    """What the audio helper loads as it starts: the mix's filters (scipy.signal), about 0.7 s of a core.
    MER's libraries come later, and only where the music is listened to (scoring/run.py): a run whose
    reading and music check came from the cache mixes without waiting for them."""
    import scipy.signal  # noqa: F401


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
    depth = speech_depth(speech, music.frames, rate, opts)  # one dip shape for the ducking and the cut
    envelope = _dip(depth, opts.duck_db) * _db(music_gain_db)
    cut = 1 - _dip(depth, opts.speech_cut_db) if speech and opts.speech_cut_db > 0 else None
    if cut is not None:
        music = cut_speech_band(music, cut, workdir, "music-cut")
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
        speech_cut=cut,
        speech_cut_db=opts.speech_cut_db if cut is not None else 0.0,
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
    """The music's gain over time at CONTROL_RATE: 1 in the clear, -duck_db under speech."""
    return _dip(speech_depth(speech, frames, rate, opts), opts.duck_db)


def _dip(depth: np.ndarray, db: float) -> np.ndarray:
    """A gain `db` deep where `depth` is 1, unity where it is 0. The speech-band cut takes out 1 minus
    this share of the band."""
    return 10 ** (-db * depth / 20)


SPEECH_BAND_HZ = (1000.0, 4000.0)


def cut_speech_band(audio: Audio, cut: np.ndarray, workdir: Path | None, name: str) -> Audio:
    """`audio` minus `cut` (at CONTROL_RATE) times its speech band, a block at a time in order (the filter
    carries its state from block to block). The band is a first-order Butterworth band-pass, so taking it
    out whole would leave a notch at 2 kHz: taking out a share k of it leaves a dip of 1 - k there."""
    from scipy.signal import butter, sosfilt

    rate = audio.sample_rate
    sos = butter(1, SPEECH_BAND_HZ, btype="bandpass", output="sos", fs=rate)
    state = np.zeros((len(sos), 2, audio.channels))  # silence before the film
    out = AudioWriter(audio.frames, audio.channels, rate, workdir, name)
    for first, last in blocks(audio.frames):
        block = np.asarray(audio.read(first, last), dtype=np.float32)
        block = block if block.ndim == 2 else block[:, None]
        band, state = sosfilt(sos, block, axis=0, zi=state)
        share = envelope_frames(cut, first, last, rate)[:, None]
        out.write((block - share * band).astype(np.float32))
    return out.finish()


def cut_like_the_music(part: Audio, mixed: MixResult, workdir: Path | None, name: str) -> Audio:
    """A part of the music (an instrument stem) with the speech-band cut the whole music had in the mix,
    so that times `music_scale` it is exactly as it sits there."""
    return part if mixed.speech_cut is None else cut_speech_band(part, mixed.speech_cut, workdir, name)


def speech_depth(
    speech: tuple[tuple[float, float], ...], frames: int, rate: int, opts: MixOptions
) -> np.ndarray:
    """0 in the clear, 1 under speech, at CONTROL_RATE: raised-cosine ramps that start `attack_s` before
    each line and recover over `release_s` after it."""
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
    return depth


def envelope_frames(control: np.ndarray, first: int, last: int, rate: int) -> np.ndarray:
    """A control-rate envelope stretched to audio frames first..last."""
    positions = np.arange(first, last) * (CONTROL_RATE / rate)
    return np.interp(positions, np.arange(len(control)), control).astype(np.float32)


def duck_envelope(
    speech: tuple[tuple[float, float], ...], length: int, rate: int, opts: MixOptions
) -> np.ndarray:
    """The ducking gain for every frame of a signal `length` frames long."""
    return envelope_frames(duck_control(speech, length, rate, opts), 0, length, rate)
