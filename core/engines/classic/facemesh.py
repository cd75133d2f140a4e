"""The face's 3D mesh, for looks that show the face as a sculpt: mediapipe's face-landmark model (468 points, bundled in
models/ like the other person models and run by LiteRT the same way, see person_models.py) and a triangulation of
its points for the wireframe."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from minime.core.engines.classic.person_models import MODELS

SIZE = 192  # the model's input: a square crop around the face, RGB in 0..1
ROI_SCALE = 1.5  # mediapipe widens the detected face box this much before it looks for landmarks
_local = threading.local()


def _model():
    """A thread-confined interpreter (LiteRT interpreters are not thread-safe), or None without LiteRT."""
    model = getattr(_local, "model", None)
    if model is None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            return None
        model = Interpreter(model_path=str(MODELS / "face_landmark.tflite"), num_threads=1)
        model.allocate_tensors()
        _local.model = model
    return model


def face_mesh(rgb: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray | None:
    """The 468 landmarks (x, y, z) in ``rgb``'s pixels, found in a square crop around ``face`` (x, y, w, h); None
    when there is no face, it is too small, the model does not see a face there, or LiteRT is missing."""
    if face is None or face[2] < 24:
        return None
    model = _model()
    if model is None:
        return None
    x, y, w, h = face
    side = max(w, h) * ROI_SCALE
    cx, cy = x + w / 2, y + h / 2
    src = np.float32([[cx - side / 2, cy - side / 2], [cx + side / 2, cy - side / 2], [cx - side / 2, cy + side / 2]])
    dst = np.float32([[0, 0], [SIZE, 0], [0, SIZE]])
    crop = cv2.warpAffine(rgb, cv2.getAffineTransform(src, dst), (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    model.set_tensor(model.get_input_details()[0]["index"], (crop.astype(np.float32) / 255)[None])
    model.invoke()
    outputs = {o["name"]: model.get_tensor(o["index"]) for o in model.get_output_details()}
    points = next(v for v in outputs.values() if v.size == 1404).reshape(468, 3).astype(np.float32)
    presence = next(v for v in outputs.values() if v.size == 1).item()
    if 1 / (1 + np.exp(-presence)) < 0.5:
        return None
    scale = side / SIZE
    return np.stack([points[:, 0] * scale + cx - side / 2, points[:, 1] * scale + cy - side / 2, points[:, 2] * scale],
                    axis=1)


def mesh_edges(points: np.ndarray, every: int = 1) -> np.ndarray:
    """The wireframe's edges (pairs of landmark indices): a Delaunay triangulation of every ``every``-th landmark
    (coarser for small faces, where the full mesh would fill in solid)."""
    keep = np.arange(0, len(points), every)
    xy = points[keep, :2].astype(np.float32)
    x0, y0 = np.floor(xy.min(axis=0)) - 2
    x1, y1 = np.ceil(xy.max(axis=0)) + 2
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    lookup: dict[tuple[float, float], int] = {}
    for i, (px, py) in zip(keep, xy):
        subdiv.insert((float(px), float(py)))
        lookup[(round(float(px), 1), round(float(py), 1))] = int(i)
    edges = set()
    for t in subdiv.getTriangleList():
        ids = [lookup.get((round(float(t[k]), 1), round(float(t[k + 1]), 1))) for k in (0, 2, 4)]
        if None not in ids:
            for a, b in ((ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[0])):
                edges.add((min(a, b), max(a, b)))
    return np.array(sorted(edges), np.int32).reshape(-1, 2)
