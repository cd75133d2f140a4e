"""Closed, smooth solids the figure is sculpted from: lofted sections (a profile swept along an axis, with elliptical
or rounded-square cross-sections) and radially displaced spheres. Each is watertight by construction (a grid of
rings closed by one pole vertex at each end), so the parts render as solids and union into one printable mesh."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import trimesh


@dataclass(frozen=True, eq=False)
class Part:
    """One closed surface of the figure, with what the renderer needs per vertex.

    ``uv`` (photo pixels) and ``tex`` (0..1) let a part wear the photo (the face); elsewhere ``color`` shows.
    """

    name: str
    vertices: np.ndarray  # (n, 3) float32, Y up, the figure facing +Z
    faces: np.ndarray  # (m, 3) int32, outward winding
    color: np.ndarray  # (n, 3) float32 sRGB 0..1
    material: str
    uv: np.ndarray | None = None  # (n, 2) photo pixel coordinates
    tex: np.ndarray | None = None  # (n,) how much of the photo shows (0: the colour only)
    extras: dict = field(default_factory=dict)

    def moved(self, offset=(0.0, 0.0, 0.0), scale: float = 1.0, about=(0.0, 0.0, 0.0)) -> Part:
        """The part scaled about ``about`` and then shifted by ``offset``."""
        about = np.float32(about)
        verts = (self.vertices - about) * scale + about + np.float32(offset)
        return Part(self.name, verts.astype(np.float32), self.faces, self.color, self.material, self.uv, self.tex,
                    self.extras)


def _outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The faces, flipped if their winding encloses a negative volume."""
    tri = vertices[faces].astype(np.float64)
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum()
    return faces if volume >= 0 else faces[:, ::-1].copy()


def _ring_faces(rings: int, seg: int) -> np.ndarray:
    """Triangles of ``rings`` rings of ``seg`` vertices between a bottom pole (index 0) and a top pole (last)."""
    faces = []
    j = np.arange(seg)
    jn = (j + 1) % seg
    first = 1
    faces.append(np.stack([np.zeros(seg, int), first + jn, first + j], 1))
    for r in range(rings - 1):
        a, b = first + r * seg, first + (r + 1) * seg
        faces.append(np.stack([a + j, a + jn, b + jn], 1))
        faces.append(np.stack([a + j, b + jn, b + j], 1))
    top = first + rings * seg
    last = first + (rings - 1) * seg
    faces.append(np.stack([np.full(seg, top), last + j, last + jn], 1))
    return np.concatenate(faces).astype(np.int32)


def loft(profile: np.ndarray, origin, axis, side=(1.0, 0.0, 0.0), seg: int = 40, roundness: float = 2.0
         ) -> tuple[np.ndarray, np.ndarray]:
    """A closed solid swept along ``axis`` from ``origin``: ``profile`` rows are (distance along the axis, half-width
    along ``side``, half-depth across), first and last rows are the poles (their widths are ignored). ``roundness``
    is the cross-section's superellipse exponent (2: an ellipse; 3-4: a rounded square)."""
    axis = np.float64(axis) / np.linalg.norm(axis)
    side = np.float64(side) - np.dot(side, axis) * axis
    side /= np.linalg.norm(side)
    across = np.cross(side, axis)
    theta = np.linspace(0, 2 * np.pi, seg, endpoint=False)
    c, s = np.cos(theta), np.sin(theta)
    norm = (np.abs(c) ** roundness + np.abs(s) ** roundness) ** (-1 / roundness)
    c, s = c * norm, s * norm
    prof = np.asarray(profile, np.float64)
    mid = prof[1:-1]
    ring = (np.float64(origin) + mid[:, :1, None] * axis + (mid[:, 1:2, None] * c[None, :, None]) * side
            + (mid[:, 2:3, None] * s[None, :, None]) * across)
    verts = np.concatenate([np.float64(origin)[None] + prof[0, 0] * axis, ring.reshape(-1, 3),
                            np.float64(origin)[None] + prof[-1, 0] * axis]).astype(np.float32)
    faces = _ring_faces(len(mid), seg)
    return verts, _outward(verts, faces)


def capsule_profile(length: float, r0: float, r1: float, rings: int = 8, depth: float = 1.0) -> np.ndarray:
    """A tapered capsule's profile (hemispherical ends of radii ``r0`` and ``r1``, ``length`` between their
    centres); ``depth`` flattens it across."""
    a = np.linspace(-np.pi / 2, 0, rings + 1)
    bottom = np.stack([r0 * np.sin(a), r0 * np.cos(a), r0 * np.cos(a) * depth], 1)
    b = np.linspace(0, np.pi / 2, rings + 1)
    top = np.stack([length + r1 * np.sin(b), r1 * np.cos(b), r1 * np.cos(b) * depth], 1)
    return np.concatenate([bottom, top[1:] if r0 == r1 and length == 0 else top])


def limb(p0, p1, r0: float, r1: float, seg: int = 28, rings: int = 7, depth: float = 1.0, side=(1.0, 0.0, 0.0)
         ) -> tuple[np.ndarray, np.ndarray]:
    """A tapered capsule from ``p0`` (radius ``r0``) to ``p1`` (radius ``r1``)."""
    p0, p1 = np.float64(p0), np.float64(p1)
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    if abs(np.dot(axis / length, side)) > 0.95:
        side = (0.0, 0.0, 1.0)
    return loft(capsule_profile(length, r0, r1, rings, depth), p0, axis, side, seg)


def ellipsoid(center, radii, seg: int = 28, rings: int = 14, axis=(0.0, 1.0, 0.0), side=(1.0, 0.0, 0.0),
              roundness: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """An ellipsoid (or a rounded box, ``roundness`` > 2) with ``radii`` along side, axis and across."""
    a = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    rx, ry, rz = radii
    prof = np.stack([ry * np.sin(a), rx * np.abs(np.cos(a)) ** (2 / roundness),
                     rz * np.abs(np.cos(a)) ** (2 / roundness)], 1)
    return loft(prof, center, axis, side, seg, roundness)


@lru_cache(maxsize=4)
def unit_sphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """An icosphere's unit directions and faces (cached: every head and hair shell starts from one)."""
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    verts = np.asarray(sphere.vertices, np.float32)
    verts.flags.writeable = False
    faces = np.asarray(sphere.faces, np.int32)
    faces.flags.writeable = False
    return verts, faces


def plinth(radius_x: float, radius_z: float, height: float, bevel: float, roundness: float = 2.0, seg: int = 96
           ) -> tuple[np.ndarray, np.ndarray]:
    """A rounded plinth standing on y=0: a flat disc (or a rounded slab, ``roundness`` > 2) with a bevelled top
    edge and a small foot chamfer."""
    k = np.linspace(0, np.pi / 2, 7)
    foot = 0.25 * bevel
    rows = [(0.0, 0.0, 0.0), (0.0, 1.0 - foot, 1.0 - foot), (foot, 1.0, 1.0)]
    for a in k:
        rows.append((height - bevel + bevel * np.sin(a), 1.0 - bevel + bevel * np.cos(a),
                     1.0 - bevel + bevel * np.cos(a)))
    rows.append((height, 0.0, 0.0))
    prof = np.float64(rows)
    # The rings as fractions of the outline, which is then stretched to the two radii.
    verts, faces = loft(prof, (0, 0, 0), (0, 1, 0), (1, 0, 0), seg, roundness)
    verts[:, 0] *= radius_x
    verts[:, 2] *= radius_z
    return verts, faces
