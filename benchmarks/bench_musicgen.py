"""MusicGen generation speed with musicgen-small-sized random weights: decoder steps per second, and
seconds of music per second of work (x real time), per device, thread count and batch size.

Random weights cost exactly what trained ones do (same shapes, same arithmetic), and need no download.
The model is built from configs laid out as facebook/musicgen-small: a T5-base text encoder, the 32 kHz
EnCodec, and a 24-layer, 1024-wide decoder over 4 codebooks. Each measurement runs filmscore's own
MusicgenGenerator.generate_cues, so windows, continuation and batching are what a run does.

    .venv/bin/python benchmarks/bench_musicgen.py --seconds 10             # this machine's CPU
    .venv/bin/python benchmarks/bench_musicgen.py --device cuda --film-minutes 10 --batch 8 16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).parent / "results"
FRAME_RATE = 50  # EnCodec 32 kHz frames per second: one decoder step each


def build_small(folder: Path) -> Path:
    """A random MusicGen with musicgen-small's shapes, saved as a model folder with a local tokenizer."""
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    from tests.tiny_models import musicgen_processor, t5_tokenizer

    musicgen_processor(t5_tokenizer()).save_pretrained(folder)
    torch.manual_seed(0)
    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    audio = EncodecConfig(
        sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2],
        codebook_size=2048, num_filters=64, hidden_size=128, num_lstm_layers=2, normalize=False,
    )  # fmt: skip
    decoder = MusicgenDecoderConfig(
        vocab_size=2048, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, ffn_dim=4096,
        num_codebooks=4, max_position_embeddings=2048, pad_token_id=2048, bos_token_id=2048,
    )  # fmt: skip
    model = MusicgenForConditionalGeneration(
        MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
    )
    model.generation_config.decoder_start_token_id = 2048
    model.generation_config.pad_token_id = 2048
    model.save_pretrained(folder)
    return folder


def measure(
    folder: Path, device: str, batch: int, cues: list[float], threads: int | None, int8: bool
) -> dict:
    import torch

    from filmscore.music.generators.musicgen import MusicgenGenerator

    if threads:
        os.environ["FILMSCORE_TORCH_THREADS"] = str(threads)
    generator = MusicgenGenerator(model=str(folder), device=device, cpu_int8=int8)
    generator.batch = batch
    texts = [f"orchestral film score, calm mood, D major, {90 + i} bpm" for i in range(len(cues))]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    audio = generator.generate_cues(texts, cues)
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    music_s = sum(len(a) for a in audio) / generator.sample_rate
    result = {
        "device": device,
        "threads": torch.get_num_threads() if device == "cpu" else None,
        "batch": batch,
        "int8": int8,
        "cues": len(cues),
        "music_s": round(music_s, 2),
        "wall_s": round(wall, 2),
        "x_real_time": round(music_s / wall, 3),
        # Decoder steps a second: each step makes one 20 ms frame for every cue of the batch.
        "steps_per_s": round(music_s * FRAME_RATE / min(batch, len(cues)) / wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if device == "cuda":
        result["gpu"] = torch.cuda.get_device_name()
        result["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="one cue this long (without --film-minutes)"
    )
    parser.add_argument("--film-minutes", type=float, help="a film's worth of 30 s cues instead")
    parser.add_argument("--batch", type=int, nargs="+", default=[1], help="cues generated at once")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[0], help="CPU threads; 0: filmscore's default"
    )
    parser.add_argument(
        "--model", type=Path, help="a model folder (default: build musicgen-small-sized weights)"
    )
    parser.add_argument("--int8", action="store_true", help="also measure the int8 decoder (CPU)")
    args = parser.parse_args()
    cues = [30.0] * round(args.film_minutes * 2) if args.film_minutes else [args.seconds]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model or build_small(Path(tmp) / "musicgen-small-random")
        rows = [
            measure(folder, args.device, batch, cues, threads or None, int8)
            for batch in args.batch
            for threads in (args.threads if args.device == "cpu" else [0])
            for int8 in ([False, True] if args.int8 and args.device == "cpu" else [False])
        ]
    for row in rows:
        print(json.dumps(row))
    RESULTS.mkdir(exist_ok=True)
    label = f"{args.film_minutes:g}min" if args.film_minutes else f"{args.seconds:g}s"
    target = RESULTS / f"musicgen-{args.device}-{label}.json"
    machine = {"platform": platform.platform(), "cpus": os.cpu_count()}
    model = str(args.model) if args.model else "random weights with musicgen-small's shapes"
    report = {"machine": machine, "model": model, "command": sys.argv[1:], "rows": rows}
    target.write_text(json.dumps(report, indent=2))
    print(f"-> {target}")


if __name__ == "__main__":
    main()
