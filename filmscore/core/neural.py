"""What every neural backend shares: the torch device, CPU threads, and loading without the network.

torch and transformers are imported here only inside functions, so nothing that merely imports a backend
module pays for them; `filmscore --help` and the embedded path never do.
"""

from __future__ import annotations

import os
from typing import Any

from filmscore.core.errors import DependencyError, UsageError
from filmscore.core.workers import usable_cores

DEVICES = ("auto", "cpu", "cuda")
THREADS_ENV = "FILMSCORE_TORCH_THREADS"


def torch_device(requested: str) -> str:
    """ "cuda" or "cpu": auto takes a GPU when torch sees one."""
    if requested not in DEVICES:
        raise UsageError(f"--device {requested!r} is not known; choose one of {', '.join(DEVICES)}")
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise DependencyError(
            "--device cuda: torch sees no CUDA GPU (this torch may be a CPU build). Use --device cpu or auto."
        )
    return requested


def prepare_torch(device: str) -> None:
    """Keep the hub offline while models load (a run never downloads), and torch to few threads on a CPU,
    leaving cores to the decoder and the speech workers. On this 2-core machine a second thread gained
    MusicGen 4% (docs/performance.md, "MusicGen speed"; benchmarks/bench_musicgen.py), not worth the core
    it takes."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch

    if device == "cpu":
        torch.set_num_threads(cpu_threads())


def cpu_threads() -> int:
    """Threads torch may use on a CPU: $FILMSCORE_TORCH_THREADS, else half the cores (1 on 2 cores)."""
    value = os.environ.get(THREADS_ENV)
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"{THREADS_ENV}={value!r} must be a whole number of threads, 1 or more")
        return int(value)
    return max(1, usable_cores() // 2)


def load_pretrained(loader: Any, path: object, what: str, **options: Any) -> Any:
    """`loader.from_pretrained(path)` from local files only, with a broken or foreign folder reported as a
    dependency error that says what to do, not a traceback."""
    quiet_transformers()
    try:
        return loader.from_pretrained(str(path), local_files_only=True, **options)
    except (OSError, ValueError, KeyError) as exc:
        raise DependencyError(
            f"cannot load the {what} model from {path}: {str(exc).splitlines()[0]}. "
            "Check the folder, or fetch the model again with `filmscore models pull NAME`."
        ) from None


def quiet_transformers() -> None:
    """transformers prints progress bars and advice while loading; a run has its own progress display."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def int8_on_cpu(module: Any, device: str) -> Any:
    """The module with its linear layers quantised to int8 (dynamic quantisation) on a CPU, where it made
    MusicGen's decoder 2.9 times faster (docs/performance.md, "MusicGen speed"; benchmarks/bench_musicgen.py);
    a GPU keeps it unchanged."""
    if device != "cpu":
        return module
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)
