"""Ray casting for the figure: Embree through embreex where its wheels exist (Linux x86_64, macOS, Windows x64), and
a NumPy ray caster everywhere else (Linux aarch64 has no embreex wheel, nor an sdist), so ``pip install .`` gives a
figure on every machine. Both answer the same queries with the same arrays (embreex's ``run``), so render.py does not
know which one it has; the NumPy one is much slower (README, "The 3D figure").
"""

from __future__ import annotations

import os

import numpy as np

try:
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh
except ImportError:  # no wheel for this machine: pyproject.toml installs embreex only where one exists
    rtcore_scene = TriangleMesh = None

BACKEND_ENV = "MINIME_RAYCASTER"  # "numpy" forces the fallback (tests, comparisons); unset: Embree when installed
CHUNK = 2048  # rays per NumPy batch: bounds the (ray, candidate triangle) pairs held at once
MISS_FAR = np.float32(1e37)  # embreex's tfar of a ray that hit nothing (and no dists given)


def backend() -> str:
    """``"embree"`` or ``"numpy"``: what ``ray_scene`` builds on this machine now."""
    if os.environ.get(BACKEND_ENV, "").lower() == "numpy" or rtcore_scene is None:
        return "numpy"
    return "embree"


def ray_scene(vertices: np.ndarray, faces: np.ndarray):
    """A scene to cast rays at: ``run(origins, directions, dists=None, query="INTERSECT"|"OCCLUDED", output=None)``
    as embreex's ``EmbreeScene.run``."""
    if backend() == "embree":
        scene = rtcore_scene.EmbreeScene()
        TriangleMesh(scene, vertices, faces)
        return scene
    return NumpyScene(vertices, faces)


class NumpyScene:
    """embreex's ``EmbreeScene.run`` in NumPy, on a uniform grid: every triangle is listed in the cells its box
    (widened by a quarter cell) touches; a ray, clipped to the figure's box, is sampled every half cell, the triangles
    of the cells of its samples are its candidates (no hit can fall between them: the widening covers the gap), all
    (ray, triangle) pairs are tested at once (Möller–Trumbore) and the nearest hit is kept. Rays go front to back a
    stretch at a time and stop at their first hit. trimesh's ``RayMeshIntersector`` (an rtree query per ray in
    Python) took ~900× Embree's time on a figure; see the README ("The 3D figure") for this one's.

    ``run`` answers, like embreex: the hit triangle per ray (-1: none); for ``query="OCCLUDED"`` 0 where something
    lies within ``dists`` and -1 where not; with ``output=1`` a dict of ``primID``, ``geomID``, ``tfar`` (the hit's
    distance in units of the direction's length; ``dists`` or 1e37 on a miss), barycentric ``u``, ``v`` (the hit is
    ``(1-u-v)·v0 + u·v1 + v·v2``) and the unnormalised geometric normal ``Ng = (v1-v0) × (v2-v0)``. Both sides of a
    triangle are hit, as in Embree.
    """

    CELLS = 256  # cells along the figure box's longest side (measured: 96 cells took 4× longer for occlusion rays)
    STRETCH = 16  # samples (half cells) a ray advances per step of the front-to-back walk

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        self.vertices = np.asarray(vertices, np.float64)
        self.faces = np.asarray(faces, np.int64)
        corners = self.vertices[self.faces]
        self._v0, self._e1, self._e2 = corners[:, 0], corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
        low, high = corners.min(axis=1), corners.max(axis=1)
        self._cell = float((high.max(0) - low.min(0)).max()) / self.CELLS
        self._step = self._cell / 2  # samples along a ray
        widen = self._step / 2 + 1e-6 * self._cell
        self._lo = low.min(0) - self._cell
        self._dims = np.ceil((high.max(0) + self._cell - self._lo) / self._cell).astype(np.int64) + 1
        first = np.floor((low - widen - self._lo) / self._cell).astype(np.int64)
        span = np.floor((high + widen - self._lo) / self._cell).astype(np.int64) - first + 1
        count = span.prod(axis=1)
        tri = np.repeat(np.arange(len(self.faces)), count)
        k = np.arange(len(tri)) - np.repeat(np.cumsum(count) - count, count)
        sy, sz = span[tri, 1], span[tri, 2]
        cells = np.stack([k // (sy * sz), (k // sz) % sy, k % sz], 1) + first[tri]
        key = self._key(cells)
        order = np.argsort(key, kind="stable")
        self._tris = tri[order]
        self._starts = np.searchsorted(key[order], np.arange(int(self._dims.prod()) + 1))
        self._hi = self._lo + self._dims * self._cell

    def _key(self, cells: np.ndarray) -> np.ndarray:
        return (cells[:, 0] * self._dims[1] + cells[:, 1]) * self._dims[2] + cells[:, 2]

    def run(self, vec_origins: np.ndarray, vec_directions: np.ndarray, dists: np.ndarray | None = None,
            query: str = "INTERSECT", output: int | None = None):
        origins = np.asarray(vec_origins, np.float64).reshape(-1, 3)
        directions = np.asarray(vec_directions, np.float64).reshape(-1, 3)
        n = len(origins)
        reach = np.full(n, np.inf) if dists is None else np.broadcast_to(np.asarray(dists, np.float64), (n,))
        prim = np.full(n, -1, np.int64)
        tfar = np.full(n, np.inf)
        u, v = np.zeros(n), np.zeros(n)
        for start in range(0, n, CHUNK):
            part = slice(start, min(n, start + CHUNK))
            self._nearest(origins[part], directions[part], reach[part], prim[part], tfar[part], u[part], v[part],
                          any_hit=query.upper() == "OCCLUDED")
        if query.upper() == "OCCLUDED":
            return np.where(prim >= 0, 0, -1).astype(np.int32)
        if not output:
            return prim.astype(np.int32)
        hit = prim >= 0
        tfar = np.where(hit, tfar, MISS_FAR if dists is None else reach).astype(np.float32)
        ng = np.zeros((n, 3), np.float32)
        ng[hit] = np.cross(self._e1[prim[hit]], self._e2[prim[hit]])
        return {"u": np.where(hit, u, 0).astype(np.float32), "v": np.where(hit, v, 0).astype(np.float32), "Ng": ng,
                "tfar": tfar, "primID": prim.astype(np.int32), "geomID": np.where(hit, 0, -1).astype(np.int32)}

    def _nearest(self, o: np.ndarray, d: np.ndarray, reach: np.ndarray, prim: np.ndarray, tfar: np.ndarray,
                 u: np.ndarray, v: np.ndarray, *, any_hit: bool = False) -> None:
        """Fill the nearest hit of each ray (views of the caller's arrays) within ``reach`` (``any_hit``: any hit
        will do, an occlusion query)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / np.where(d == 0, 1e-30, d)
            a, b = (self._lo - o) * inv, (self._hi - o) * inv
            t0 = np.maximum(np.minimum(a, b).max(axis=1), 0.0)
            t1 = np.minimum(np.maximum(a, b).min(axis=1), reach)
        length = np.linalg.norm(d, axis=1)
        dt = self._step / np.maximum(length, 1e-30)  # a half cell, in the ray's own units
        live = np.nonzero(t1 >= t0)[0]  # rays that cross the grid within their reach
        begin = t0.copy()
        while len(live):
            end = np.minimum(begin[live] + dt[live] * self.STRETCH, t1[live])
            samples = np.floor((end - begin[live]) / dt[live]).astype(np.int64) + 2  # both ends included
            ray = np.repeat(live, samples)
            k = np.arange(len(ray)) - np.repeat(np.cumsum(samples) - samples, samples)
            t = np.minimum(begin[ray] + dt[ray] * k, np.repeat(end, samples))
            cells = np.floor((o[ray] + d[ray] * t[:, None] - self._lo) / self._cell).astype(np.int64)
            cells = np.clip(cells, 0, self._dims - 1)
            pair = np.unique(ray * len(self._starts) + self._key(cells))
            pair_ray, cell = pair // len(self._starts), pair % len(self._starts)
            count = self._starts[cell + 1] - self._starts[cell]
            pair_ray = np.repeat(pair_ray, count)
            offset = np.arange(len(pair_ray)) - np.repeat(np.cumsum(count) - count, count)
            tri = self._tris[np.repeat(self._starts[cell], count) + offset]
            if len(tri):
                self._test(o, d, reach, pair_ray, tri, prim, tfar, u, v)
            # a hit nearer than where this stretch ended is the nearest: nothing nearer was left untested
            done = (tfar[live] <= end) | (end >= t1[live]) | (any_hit & (prim[live] >= 0))
            begin[live] = end
            live = live[~done]

    def _test(self, o: np.ndarray, d: np.ndarray, reach: np.ndarray, ray: np.ndarray, tri: np.ndarray,
              prim: np.ndarray, tfar: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Möller–Trumbore on (ray, triangle) pairs; a pair's hit replaces its ray's when nearer."""
        pair = np.unique(ray * len(self.faces) + tri)  # a triangle in two cells of one ray: tested once
        ray, tri = pair // len(self.faces), pair % len(self.faces)
        dd, e1, e2 = d[ray], self._e1[tri], self._e2[tri]
        pvec = np.cross(dd, e2)
        det = np.einsum("ij,ij->i", e1, pvec)
        ok = np.abs(det) > 1e-18
        inv_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        tvec = o[ray] - self._v0[tri]
        bu = np.einsum("ij,ij->i", tvec, pvec) * inv_det
        qvec = np.cross(tvec, e1)
        bv = np.einsum("ij,ij->i", dd, qvec) * inv_det
        t = np.einsum("ij,ij->i", e2, qvec) * inv_det
        tol = 1e-7
        ok &= (bu >= -tol) & (bv >= -tol) & (bu + bv <= 1 + tol) & (t >= 0) & (t <= reach[ray]) & (t < tfar[ray])
        ray, tri, t, bu, bv = ray[ok], tri[ok], t[ok], bu[ok], bv[ok]
        order = np.lexsort((t, ray))
        rays, nearest = np.unique(ray[order], return_index=True)
        pick = order[nearest]
        prim[rays], tfar[rays], u[rays], v[rays] = tri[pick], t[pick], bu[pick], bv[pick]
