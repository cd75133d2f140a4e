"""Checks on generated images before they are sent: is it still the same person, and is it safe to send.

Both run offline on weights that ship with their libraries or that the operator points to; both are loaded on first
use. The classic engine's output is the user's own photo recomposed, so it is checked only in tests (it passes).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from minime.core.logs import get_logger

log = get_logger("minime.checks")


def _dlib_model(name: str) -> str:
    """A model file of face_recognition_models, found without importing it (its __init__ needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face_recognition_models is not installed")
    return str(Path(spec.submodule_search_locations[0]) / "models" / name)


class FaceIdentity:
    """dlib's ResNet face embedding (128-d; the same person is usually within 0.6 of itself)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: tuple | None = None

    def _load(self) -> tuple:
        with self._lock:
            if self._models is None:
                import dlib

                recognition = _dlib_model("dlib_face_recognition_resnet_model_v1.dat")
                self._models = (dlib.get_frontal_face_detector(),
                                dlib.shape_predictor(_dlib_model("shape_predictor_5_face_landmarks.dat")),
                                dlib.face_recognition_model_v1(recognition))
            return self._models

    def embedding(self, img: Image.Image) -> np.ndarray | None:
        """The embedding of the largest face, or None when no face is found."""
        detector, shapes, encoder = self._load()
        rgb = img.convert("RGB")
        scale = min(1.0, 1024 / max(rgb.size))
        if scale < 1.0:
            rgb = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.LANCZOS)
        arr = np.ascontiguousarray(np.asarray(rgb))
        faces = detector(arr, 1)
        if not faces:
            return None
        face = max(faces, key=lambda r: r.width() * r.height())
        return np.asarray(encoder.compute_face_descriptor(arr, shapes(arr, face), 1))

    def distance(self, a: Image.Image, b: Image.Image) -> float | None:
        """Face distance between two images; None when either has no detectable face."""
        reference = self.embedding(a)
        return None if reference is None else self.distance_from(reference, b)

    def distance_from(self, reference: np.ndarray, img: Image.Image) -> float | None:
        """Face distance between an embedding already computed and an image; None when it has no face."""
        other = self.embedding(img)
        return None if other is None else float(np.linalg.norm(reference - other))


@dataclass(frozen=True)
class SafetyVerdict:
    """What the classifier said: flagged or not, the top unsafe label and its score."""

    flagged: bool
    label: str
    score: float


class SafetyCheck:
    """An image-classification model from a local folder (e.g. a ViT NSFW detector), run with transformers."""

    def __init__(self, model: str, unsafe_labels: list[str], threshold: float) -> None:
        self.model, self.unsafe, self.threshold = model, {label.lower() for label in unsafe_labels}, threshold
        self._lock = threading.Lock()
        self._pipe = None

    def _load(self):
        with self._lock:
            if self._pipe is None:
                from transformers import pipeline

                self._pipe = pipeline("image-classification", model=self.model, device="cpu")
                log.info("safety classifier loaded", labels=sorted(self._pipe.model.config.id2label.values()))
            return self._pipe

    def check(self, img: Image.Image) -> SafetyVerdict:
        """Classify an image; flagged when any unsafe label scores at least the threshold."""
        scores = self._load()(img.convert("RGB"), top_k=None)
        unsafe = [s for s in scores if s["label"].lower() in self.unsafe]
        worst = max(unsafe, key=lambda s: s["score"], default={"label": "", "score": 0.0})
        return SafetyVerdict(worst["score"] >= self.threshold, worst["label"], float(worst["score"]))
