"""The face's 3D mesh (mediapipe's bundled face-mesh model, 468 landmarks), for looks that show the face as a sculpt."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from minime.core.engines.classic.subject import models

_local = threading.local()


def _mesher():
    """A thread-confined FaceMesh graph (mediapipe graphs are not thread-safe), or None without mediapipe."""
    mesher = getattr(_local, "mesher", None)
    if mesher is None and models().has_mediapipe:
        import mediapipe as mp

        mesher = _local.mesher = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
    return mesher


def tessellation() -> np.ndarray:
    """The mesh's edges as an (N, 2) array of landmark indices."""
    cached = getattr(tessellation, "_edges", None)
    if cached is None:
        import mediapipe as mp

        cached = np.array(sorted(mp.solutions.face_mesh.FACEMESH_TESSELATION), np.int32)
        tessellation._edges = cached  # type: ignore[attr-defined]
    return cached


def face_mesh(rgb: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray | None:
    """The 468 landmarks (x, y, z) in ``rgb``'s pixels (z in the same scale, towards the camera negative), found in
    a crop around ``face``; None when there is no face, the face is too small, or mediapipe is missing."""
    if face is None or face[2] < 24:
        return None
    mesher = _mesher()
    if mesher is None:
        return None
    x, y, w, h = face
    h_img, w_img = rgb.shape[:2]
    side = int(max(w, h) * 2.0)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(w_img, cx + side / 2)), int(min(h_img, cy + side / 2))
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    if crop.shape[0] < 32 or crop.shape[1] < 32:
        return None
    result = mesher.process(crop)
    if not result.multi_face_landmarks:
        return None
    points = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], np.float32)
    cw, ch = crop.shape[1], crop.shape[0]
    return np.stack([points[:, 0] * cw + x0, points[:, 1] * ch + y0, points[:, 2] * cw], axis=1)


def low_poly_edges(points: np.ndarray, every: int = 5) -> np.ndarray:
    """A coarser wireframe for small faces: the face's outline, eyes, brows and lips, plus a Delaunay triangulation
    of every ``every``-th landmark (readable where the full 2556-edge mesh would fill in solid)."""
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    contour = np.array(sorted(fm.FACEMESH_CONTOURS), np.int32)
    keep = np.arange(0, len(points), every)
    xy = points[keep, :2].astype(np.float32)
    x0, y0 = xy.min(axis=0) - 2
    x1, y1 = xy.max(axis=0) + 2
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    lookup = {}
    for i, (x, y) in zip(keep, xy):
        subdiv.insert((float(x), float(y)))
        lookup[(round(float(x), 1), round(float(y), 1))] = int(i)
    edges = []
    for t in subdiv.getTriangleList():
        ids = [lookup.get((round(float(t[k]), 1), round(float(t[k + 1]), 1))) for k in (0, 2, 4)]
        if None not in ids:
            edges += [(ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[0])]
    return np.concatenate([contour, np.array(edges, np.int32).reshape(-1, 2)]) if edges else contour
