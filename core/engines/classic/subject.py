"""Finding the person: a soft subject mask and the face box, offline.

mediapipe's selfie-segmentation and face-detection models, bundled with minime and run by LiteRT
(person_models.py); if LiteRT cannot run on a platform, OpenCV's Haar face detector seeds a GrabCut segmentation
(and the log says so). When no person is found, callers get a centred crop and
``found=False`` so they can say so.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from minime.core.engines.classic import person_models
from minime.core.logs import get_logger

log = get_logger("minime.subject")

ANALYSIS_SIDE = 384


@dataclass(frozen=True)
class Subject:
    """Where the person is in an image."""

    mask: np.ndarray  # float32 HxW in [0, 1], full image size
    face: tuple[int, int, int, int] | None  # x, y, w, h in image pixels
    found: bool

    def bbox(self, threshold: float = 0.5) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1) of the mask, or the whole image."""
        h, w = self.mask.shape
        binary = (self.mask > threshold).astype(np.uint8)
        x, y, bw, bh = cv2.boundingRect(binary)
        if bw * bh == 0 or int(binary.sum()) < 50:
            return 0, 0, w, h
        return x, y, x + bw, y + bh


class _Models:
    """Lazily created, thread-confined detectors (a LiteRT interpreter is not thread-safe)."""

    def __init__(self) -> None:
        self._local = threading.local()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep the TFLite runtime's start-up chatter out of logs
        try:
            self._local.seg = person_models.SelfieSegmenter()
            self._available = True
        except Exception as exc:  # no LiteRT wheel for this platform: the OpenCV fallback still works
            log.warning("segmentation models unavailable; using the OpenCV fallback (GrabCut)",
                        reason=type(exc).__name__, detail=str(exc)[:200])
            self._available = False
        self._haar = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    @property
    def has_models(self) -> bool:
        return self._available

    def segmenter(self) -> person_models.SelfieSegmenter | None:
        seg = getattr(self._local, "seg", None)
        if seg is None and self._available:
            seg = self._local.seg = person_models.SelfieSegmenter()
        return seg

    def face_detector(self, full_range: bool = False) -> person_models.FaceDetector | None:
        attr = "face_full" if full_range else "face_short"
        det = getattr(self._local, attr, None)
        if det is None and self._available:
            det = person_models.FaceDetector(full_range, min_score=0.5)
            setattr(self._local, attr, det)
        return det

    def haar(self):
        return self._haar


_models: _Models | None = None
_models_lock = threading.Lock()


def models() -> _Models:
    """The process-wide detectors."""
    global _models
    with _models_lock:
        if _models is None:
            _models = _Models()
        return _models


def _analysis_copy(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, ANALYSIS_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return small, scale


def find_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The most confident face (x, y, w, h) in image pixels, or None."""
    small, scale = _analysis_copy(rgb)
    face = _detect_face(small, models())
    return tuple(int(v / scale) for v in face) if face else None


def find_subject(rgb: np.ndarray, face: tuple[int, int, int, int] | None = None, *, face_known: bool = False
                 ) -> Subject:
    """Segment the person and find the face in an RGB uint8 image (pass ``face`` if it is already known)."""
    h, w = rgb.shape[:2]
    small, scale = _analysis_copy(rgb)
    m = models()
    face_small = (tuple(int(v * scale) for v in face) if face else None) if face_known else _detect_face(small, m)
    if m.has_models:
        mask_small = m.segmenter()(small)
        # A sharper, cleaner matte: contrast-stretch the model's soft probabilities.
        mask_small = np.clip((mask_small - 0.25) / 0.5, 0.0, 1.0)
    else:
        mask_small = _grabcut(small, face_small)
    # A person is a detected face that the matte covers; a matte without a face (a mug, a pet) is not trusted.
    found = (face_small is not None and float((mask_small > 0.5).mean()) > 0.03
             and _covers(mask_small, face_small))
    mask_small = _refine_edges(small, _largest_blob(mask_small))
    mask = cv2.resize(mask_small, (w, h), interpolation=cv2.INTER_LINEAR)
    face_full = tuple(int(v / scale) for v in face_small) if face_small else None
    return Subject(mask, face_full, found)


def _covers(mask: np.ndarray, face: tuple[int, int, int, int]) -> bool:
    x, y, w, h = face
    return float(mask[y:y + h, x:x + w].mean()) > 0.4 if w > 0 and h > 0 else False


def _detect_face(small: np.ndarray, m: _Models) -> tuple[int, int, int, int] | None:
    h, w = small.shape[:2]
    for full_range in (False, True) if m.has_models else ():
        faces = m.face_detector(full_range)(small)  # short range first: selfies are close-ups
        if faces:
            best = faces[0]
            x, y = max(0, int(best.xmin * w)), max(0, int(best.ymin * h))
            return x, y, min(w - x, int(best.width * w)), min(h - y, int(best.height * h))
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    faces = m.haar().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    if len(faces):
        x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3])
        return int(x), int(y), int(fw), int(fh)
    return None


def _grabcut(small: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray:
    h, w = small.shape[:2]
    if face is None:
        rect = (int(w * 0.15), int(h * 0.08), int(w * 0.7), int(h * 0.92) - 1)
    else:
        x, y, fw, fh = face
        x0, x1 = max(1, x - int(fw * 1.6)), min(w - 2, x + fw + int(fw * 1.6))
        y0 = max(1, y - int(fh * 0.6))
        rect = (x0, y0, x1 - x0, h - 1 - y0)
    gc_mask = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), gc_mask, rect, bgd, fgd, 3, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return np.zeros((h, w), np.float32)
    fg = np.where((gc_mask == cv2.GC_FGD) | (gc_mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    return cv2.GaussianBlur(fg, (0, 0), 1.5)


def _largest_blob(mask: np.ndarray) -> np.ndarray:
    binary = (mask > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 2:
        return mask
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[keep, cv2.CC_STAT_AREA]
    allowed = np.isin(labels, [i for i in range(1, count) if i == keep or stats[i, cv2.CC_STAT_AREA] > 0.15 * area])
    region = cv2.dilate(allowed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return np.where(region, mask, 0.0).astype(np.float32)


def _refine_edges(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Snap the upscaled matte to image edges with a guided-filter-like smoothing, then feather lightly."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, int(max(mask.shape) / 256))
    eps = 1e-3
    mean_i = cv2.boxFilter(gray, -1, (radius, radius))
    mean_p = cv2.boxFilter(mask, -1, (radius, radius))
    cov_ip = cv2.boxFilter(gray * mask, -1, (radius, radius)) - mean_i * mean_p
    var_i = cv2.boxFilter(gray * gray, -1, (radius, radius)) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    refined = cv2.boxFilter(a, -1, (radius, radius)) * gray + cv2.boxFilter(b, -1, (radius, radius))
    return np.clip(refined, 0.0, 1.0).astype(np.float32)
