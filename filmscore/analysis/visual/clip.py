"""Visual emotion from neural models, fed by the shared decode pass like every visual analyser:

- CLIP zero-shot (transformers CLIPModel): a frame a second is embedded, each shot's frames are averaged,
  and the shot is compared with mood prompts ("a film still of a tense, frightening scene"), each placed
  on the valence/arousal plane; the shot takes the softmax-weighted mean place.
- Optionally a facial-expression classifier (`face_model`, such as a FER2013 ViT): faces found by OpenCV's
  cascade in those frames are classified, and a face counts by its share of the frame, so a close-up
  decides more than a crowd.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from filmscore.analysis.labels import check_labels, expected_place
from filmscore.analysis.shots import Shot
from filmscore.analysis.visual import VisualEmotionBackend
from filmscore.analysis.visual.features import FACE_SHARE_MAX, FACE_WEIGHT_FULL, find_faces, haar_cascade
from filmscore.core.affect import Affect, clip_unit
from filmscore.core.neural import load_pretrained, prepare_torch, torch_device
from filmscore.media.decode import FrameAnalyser, FrameGeometry
from filmscore.store.models import resolve

SAMPLES_PER_S = 1.0  # frames embedded per second of film
BATCH_FRAMES = 16  # frames embedded at once
PROMPT = "a film still of {}"
# Mood prompts and their places (valence, arousal), spread around Russell's circumplex.
MOODS: tuple[tuple[str, float, float], ...] = (
    ("a joyful, happy scene", 0.8, 0.5),
    ("an exciting, thrilling action scene", 0.3, 0.9),
    ("a tense, frightening scene", -0.7, 0.7),
    ("an angry, violent scene", -0.7, 0.8),
    ("a sad, melancholy scene", -0.7, -0.4),
    ("a gloomy, lonely scene", -0.5, -0.6),
    ("a calm, peaceful scene", 0.5, -0.6),
    ("a tender, romantic scene", 0.7, -0.1),
    ("an ordinary, everyday scene", 0.0, -0.2),
)


class ClipVisualEmotion(VisualEmotionBackend):
    name = "clip"

    def __init__(self, model: str | None = None, device: str = "auto", face_model: str | None = None) -> None:
        from transformers import CLIPModel, CLIPProcessor

        path = resolve(model, "visual_emotion", "clip")
        self.device = torch_device(device)
        prepare_torch(self.device)
        self._model = load_pretrained(CLIPModel, path, "CLIP").to(self.device).eval()
        self._processor = load_pretrained(CLIPProcessor, path, "CLIP")
        self._places = np.array([(v, a) for _, v, a in MOODS])
        self._prompts = self._embed_prompts()
        self._faces = FaceExpressions(face_model, self.device) if face_model else None
        self.face_model_path = self._faces.model_path if self._faces else None
        self._sampler: ClipSampler | None = None
        self.model_path = str(path)

    def _embed_prompts(self) -> np.ndarray:
        import torch

        prompts = [PROMPT.format(mood) for mood, _, _ in MOODS]
        inputs = self._processor(text=prompts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            features = self._model.get_text_features(**inputs.to(self.device))
        return _unit_rows(_tensor(features))

    def embed_frames(self, frames: list[np.ndarray]) -> np.ndarray:
        """Unit-length CLIP embeddings of BGR frames."""
        import torch

        rgb = [frame[:, :, ::-1] for frame in frames]
        inputs = self._processor(images=rgb, return_tensors="pt")
        with torch.inference_mode():
            features = self._model.get_image_features(**inputs.to(self.device))
        return _unit_rows(_tensor(features))

    def analysers(
        self, geometry: FrameGeometry, expected_frames: int, cuts: Sequence[int] = ()
    ) -> Sequence[FrameAnalyser]:
        self._sampler = ClipSampler(self, geometry.fps, self._faces)
        return (self._sampler,)

    def estimate(self, shots: tuple[Shot, ...]) -> tuple[Affect, ...]:
        if self._sampler is None:
            raise RuntimeError("estimate() called before the decode pass fed this backend")
        sampler = self._sampler
        frames = np.asarray(sampler.frames)
        if not len(frames):
            return tuple(Affect(0.0, 0.0, 0.0) for _ in shots)
        embeddings = np.concatenate(sampler.embeddings)
        scale = float(self._model.logit_scale.exp().item())
        ratings = []
        for shot in shots:
            inside = _frames_of(shot, frames)
            logits = scale * (_unit_rows(embeddings[inside].mean(axis=0, keepdims=True)) @ self._prompts.T)[0]
            shares = np.exp(logits - logits.max())
            valence, arousal, sureness = _place(shares / shares.sum(), self._places)
            weight = clip_unit(len(inside) / 2.0, 0.25, 1.0) * (0.5 + 0.5 * sureness)
            face = sampler.face_affect(frames[inside])
            if face is not None:
                blend = FACE_SHARE_MAX * face.weight
                valence = (1 - blend) * valence + blend * face.valence
                arousal = (1 - blend) * arousal + blend * face.arousal
            ratings.append(Affect(clip_unit(valence), clip_unit(arousal), weight))
        return tuple(ratings)


def _place(shares: np.ndarray, places: np.ndarray) -> tuple[float, float, float]:
    """The share-weighted mean place of the moods, and how sure: 1 minus the normalised entropy."""
    valence, arousal = (shares[:, None] * places).sum(axis=0)
    entropy = -float(np.sum(shares * np.log(np.maximum(shares, 1e-12))))
    return float(valence), float(arousal), max(0.0, 1.0 - entropy / np.log(len(shares)))


def _frames_of(shot: Shot, frames: np.ndarray) -> np.ndarray:
    """Indices of the samples inside the shot; a shot too short to hold one takes the nearest."""
    inside = np.flatnonzero((frames >= shot.start_frame) & (frames < shot.end_frame))
    if len(inside):
        return inside
    middle = (shot.start_frame + shot.end_frame - 1) / 2
    return np.array([int(np.abs(frames - middle).argmin())])


class ClipSampler:
    """Takes a frame a second from the shared stream and embeds them in batches (and reads their faces)."""

    def __init__(self, backend: ClipVisualEmotion, fps: float, faces: FaceExpressions | None) -> None:
        self._backend = backend
        self._step = max(1, round(fps / SAMPLES_PER_S))
        self._faces = faces
        self._pending: list[np.ndarray] = []
        self.frames: list[int] = []
        self.embeddings: list[np.ndarray] = []
        self.face_readings: dict[int, tuple[Affect, ...]] = {}  # sample's frame -> its faces

    def consume(self, index: int, frame: np.ndarray) -> None:
        if index % self._step:
            return
        self.frames.append(index)
        self._pending.append(frame.copy())  # the stream reuses its buffers
        if self._faces is not None:
            self.face_readings[index] = self._faces.read(frame)
        if len(self._pending) >= BATCH_FRAMES:
            self._flush()

    def finish(self, frame_count: int) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.embeddings.append(self._backend.embed_frames(self._pending))
            self._pending = []

    def face_affect(self, frames: np.ndarray) -> Affect | None:
        """The faces in these samples, each weighted by its size; weight is how much faces fill them."""
        readings = [face for frame in frames for face in self.face_readings.get(int(frame), ())]
        if not readings:
            return None
        total = sum(face.weight for face in readings)
        valence = sum(face.valence * face.weight for face in readings) / total
        arousal = sum(face.arousal * face.weight for face in readings) / total
        fill = total / len(frames)
        return Affect(valence, arousal, clip_unit(fill / FACE_WEIGHT_FULL, 0.0, 1.0))


class FaceExpressions:
    """Faces found by OpenCV's frontal-face cascade, classified by an image-classification model of facial
    expressions; each reading's weight is the face's share of the frame."""

    def __init__(self, model: str, device: str) -> None:
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        path = resolve(model, "visual_emotion", "clip")
        self._detector = haar_cascade("frontalface_default")
        self._processor = load_pretrained(AutoImageProcessor, path, "facial expression")
        self._model = load_pretrained(AutoModelForImageClassification, path, "facial expression")
        self._model = self._model.to(device).eval()
        self._labels = [self._model.config.id2label[i] for i in range(self._model.config.num_labels)]
        check_labels(self._labels, model)
        self._device = device
        self.model_path = str(path)

    def read(self, frame: np.ndarray) -> tuple[Affect, ...]:
        import torch

        grey, boxes = find_faces(self._detector, frame)
        if not len(boxes):
            return ()
        crops = [frame[y : y + h, x : x + w, ::-1] for x, y, w, h in boxes]
        inputs = self._processor(images=crops, return_tensors="pt").to(self._device)
        with torch.inference_mode():
            probabilities = self._model(**inputs).logits.softmax(-1).cpu().numpy()
        area = float(grey.shape[0] * grey.shape[1])
        readings = []
        for (_, _, w, h), row in zip(boxes, probabilities, strict=True):
            valence, arousal, _ = expected_place(dict(zip(self._labels, map(float, row), strict=True)))
            readings.append(Affect(valence, arousal, w * h / area))
        return tuple(readings)


def _tensor(features: object) -> np.ndarray:
    """transformers 5 returns a model output where 4 returned a tensor; either way, the pooled rows."""
    tensor = getattr(features, "pooler_output", features)
    return tensor.detach().float().cpu().numpy()  # type: ignore[attr-defined]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
