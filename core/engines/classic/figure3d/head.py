"""The head: the face-landmark surface closed into a whole head (cranium, ears, jaw), wearing the photo's face, and
a sculpted hair shell over it.

Both are spheres displaced radially from one centre inside the head. The radius is held on an (azimuth, elevation)
grid: inside the face it is the landmark surface's, far from the face an ellipsoid's (with ears), and between them a
harmonic fill (repeated blurring with both ends held), so the face flows into the cranium without a seam. The hair is
the same grid thickened where the hair grows, sunk below the skin elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from minime.core.engines.classic.figure3d.shapes import Part, limb, loft, unit_sphere

TOY_LENGTH = 0.65  # the toy's torso is ~half a person's in face widths: long hair falls that much less far
GRID_H, GRID_W = 128, 256  # elevation rows (+90° at the top) by azimuth columns (-180°..180°, 0 = the face)
HEAD_SUBDIVISIONS = 6
HAIR_SUBDIVISIONS = 5  # 6 smooths the edge a little more but costs ~150 ms of occlusion baking
# mediapipe face-mesh landmark indices
CHEEK_R, CHEEK_L, FOREHEAD, CHIN, NOSE = 234, 454, 10, 152, 4
EYE_R, EYE_L = 33, 263
SKIN_SPOTS = (50, 280, 101, 330, 151, 108, 337, 205, 425, 93, 323, 132, 361, 58, 288)  # cheeks, forehead, jaw


@dataclass(frozen=True)
class FaceFrame:
    """The face's pose in the photo: canonical (face widths, the face looking along +Z, Y up) = R^T (world - o) / w,
    where world is the photo's pixels with Y and Z turned to point up and towards the viewer."""

    origin: np.ndarray
    rotation: np.ndarray
    width: float

    @classmethod
    def of(cls, points: np.ndarray) -> FaceFrame:
        """The frame of mediapipe's 468 landmarks (x, y, z in pixels)."""
        q = points * np.float32([1, -1, -1])
        ex = q[CHEEK_L] - q[CHEEK_R]
        width = float(np.linalg.norm(ex))
        ex = ex / width
        ey = q[FOREHEAD] - q[CHIN]
        ey = ey - np.dot(ey, ex) * ex
        ey /= np.linalg.norm(ey)
        ez = np.cross(ex, ey)
        return cls((q[CHEEK_L] + q[CHEEK_R]) / 2, np.stack([ex, ey, ez], 1), width)

    def canonical(self, points: np.ndarray) -> np.ndarray:
        """Landmarks (photo pixels) in canonical units."""
        q = points * np.float32([1, -1, -1])
        return ((q - self.origin) @ self.rotation / self.width).astype(np.float32)

    def to_photo(self, canonical: np.ndarray) -> np.ndarray:
        """Where canonical points lie in the photo (x, y pixels)."""
        q = canonical @ self.rotation.T * self.width + self.origin
        return np.stack([q[:, 0], -q[:, 1]], 1).astype(np.float32)

    def facing(self, normals: np.ndarray) -> np.ndarray:
        """How much canonical normals faced the camera in the photo (-1..1)."""
        return (normals @ self.rotation.T)[:, 2]


@dataclass(frozen=True)
class HairStyle:
    """What the photo says about the hair, in canonical units."""

    color: tuple[float, float, float]
    bald: bool = False
    top: float = 0.12  # volume above the cranium
    side: float = 0.06  # volume over the temples
    hairline: float = 0.05  # how far above the top landmark the hair starts
    long: float = 0.0  # how far below the chin it falls (0: short)
    fringe: float = 0.0  # how much of the forehead the hair covers (0..1)
    seen: tuple[float, float, float] | None = None  # the hair's colour in the photo (``color`` is its paint)


def _angles(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.arctan2(d[:, 0], d[:, 2]), np.arcsin(np.clip(d[:, 1], -1, 1))


def _cells(az: np.ndarray, el: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ((az + np.pi) / (2 * np.pi) * (GRID_W - 1)).astype(np.float32), \
        ((np.pi / 2 - el) / np.pi * (GRID_H - 1)).astype(np.float32)


def _sample(grid: np.ndarray, az: np.ndarray, el: np.ndarray) -> np.ndarray:
    col, row = _cells(az, el)
    return remap_points(grid.astype(np.float32), col, row)


def remap_points(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``image`` sampled bilinearly at points (x, y): cv2.remap on the points laid out in rows of 1024 (remap
    takes no more than 32767 rows)."""
    n = len(x)
    rows = -(-n // 1024)
    mx = np.zeros(rows * 1024, np.float32)
    my = np.zeros(rows * 1024, np.float32)
    mx[:n], my[:n] = x, y
    out = cv2.remap(image, mx.reshape(rows, 1024), my.reshape(rows, 1024), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * 1024, *image.shape[2:])[:n]


def _grid_angles() -> tuple[np.ndarray, np.ndarray]:
    az = np.linspace(-np.pi, np.pi, GRID_W, dtype=np.float32)
    el = np.linspace(np.pi / 2, -np.pi / 2, GRID_H, dtype=np.float32)
    return np.meshgrid(az, el)


@dataclass(frozen=True)
class HeadShape:
    """The head's radius grid and what goes with it."""

    center: np.ndarray  # canonical
    radius: np.ndarray  # (GRID_H, GRID_W)
    face: np.ndarray  # (GRID_H, GRID_W) 1 inside the landmark surface
    texture: np.ndarray  # (GRID_H, GRID_W) how much of the photo shows
    crown: float  # canonical y of the top of the cranium
    chin: float
    eye_y: float


def _interpolate(points: np.ndarray, values: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``values`` at ``points`` interpolated linearly at grid cells (xs, ys) over the points' Delaunay triangles
    (NaN outside them). The triangles are drawn into an id image with OpenCV and each cell's barycentric weights
    computed at once: scipy's LinearNDInterpolator does the same, but its first query here took up to seconds."""
    tri = Delaunay(points.astype(np.float64)).simplices
    ids = np.full((GRID_H, GRID_W), -1, np.int32)
    fixed = np.round(points * 16).astype(np.int32)
    for k, t in enumerate(tri):
        cv2.fillConvexPoly(ids, fixed[t], k, lineType=cv2.LINE_8, shift=4)
    k = ids[ys, xs]
    out = np.full(len(xs), np.nan, np.float64)
    ok = k >= 0
    a, b, c = (points[tri[k[ok], i]].astype(np.float64) for i in range(3))
    q = np.stack([xs[ok], ys[ok]], 1).astype(np.float64)
    v0, v1, v2 = b - a, c - a, q - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    wb = np.clip((v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den, 0, 1)
    wc = np.clip((v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den, 0, 1 - wb)
    vals = values[tri[k[ok]]].astype(np.float64)
    out[ok] = vals[:, 0] * (1 - wb - wc) + vals[:, 1] * wb + vals[:, 2] * wc
    return out


def head_shape(canon: np.ndarray) -> HeadShape:
    """The whole head's radius grid around a centre, from canonical landmarks."""
    chin, top = float(canon[CHIN, 1]), float(canon[FOREHEAD, 1])
    crown = top + 0.38
    bottom = chin + 0.12
    center = np.float32([0.0, (crown + bottom) / 2, -0.28])
    ax, ay, azr = 0.55, (crown - bottom) / 2, 0.70
    gaz, gel = _grid_angles()
    d = np.stack([np.cos(gel) * np.sin(gaz), np.sin(gel), np.cos(gel) * np.cos(gaz)], -1)
    r_ell = 1 / np.sqrt((d[..., 0] / ax) ** 2 + (d[..., 1] / ay) ** 2 + (d[..., 2] / azr) ** 2)
    # Ears: bumps on the sides, level with the eyes and nose, a little behind the middle.
    eye_y = float((canon[EYE_R, 1] + canon[EYE_L, 1]) / 2)
    ear_el = np.arcsin(np.clip((eye_y - 0.12 - center[1]) / ax, -1, 1))
    for side in (-1, 1):
        r_ell += 0.075 * np.exp(-((gaz - side * 1.68) / 0.13) ** 2 - ((gel - ear_el) / 0.24) ** 2)
    # The landmark surface as radii from the centre.
    rel = canon - center
    r_pts = np.linalg.norm(rel, axis=1)
    p_az, p_el = _angles(rel / r_pts[:, None])
    col, row = _cells(p_az, p_el)
    hull = cv2.convexHull(np.stack([col, row], 1).astype(np.float32)).astype(np.int32)
    face = np.zeros((GRID_H, GRID_W), np.uint8)
    cv2.fillConvexPoly(face, hull, 1)
    ys, xs = np.nonzero(face)
    r_face = _interpolate(np.stack([col, row], 1), r_pts, xs, ys)
    inside = ~np.isnan(r_face)
    face[ys[~inside], xs[~inside]] = 0
    radius = r_ell.astype(np.float32)
    radius[ys[inside], xs[inside]] = r_face[inside]
    # Harmonic fill between the face and the cranium far from it.
    dist = cv2.distanceTransform((1 - face).astype(np.uint8), cv2.DIST_L2, 5)
    far = dist > 22
    held = (face > 0) | far
    held_value = radius.copy()
    r = radius.copy()
    for size in (31, 15, 7, 3):
        for _ in range(25 if size > 3 else 40):
            r = cv2.blur(r, (size, size), borderType=cv2.BORDER_REPLICATE)
            r[held] = held_value[held]
    # Soften the face's own fine steps a touch (the landmark mesh is coarse), leaving its shape; round off the
    # ridge where the face's edge meets the cranium (the face's core keeps its exact shape).
    r = np.where(face > 0, 0.5 * r + 0.5 * cv2.GaussianBlur(r, (0, 0), 0.8), r)
    core = cv2.GaussianBlur(cv2.erode(face, np.ones((9, 9), np.uint8)).astype(np.float32), (0, 0), 2.5)
    r = core * r + (1 - core) * cv2.GaussianBlur(r, (0, 0), 3.0, borderType=cv2.BORDER_REPLICATE)
    # The photo shows inside the face, fading out well inside its outline (the photo's cheek edge, ear or hair
    # beyond it would stripe the head's side): no mask edge where the face meets the head.
    inner = cv2.erode(face, np.ones((13, 13), np.uint8))
    texture = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), 4.5)
    return HeadShape(center, r.astype(np.float32), face.astype(np.float32), texture, crown, chin, eye_y)


def head_part(shape: HeadShape, frame: FaceFrame, skin: np.ndarray) -> Part:
    """The head surface wearing the photo's face (UV = where each point lies in the photo)."""
    dirs, faces = unit_sphere(HEAD_SUBDIVISIONS)
    az, el = _angles(dirs)
    verts = (dirs * _sample(shape.radius, az, el)[:, None] + shape.center).astype(np.float32)
    tex = _sample(shape.texture, az, el)
    # How squarely each point faced the camera in the photo, from its direction out of the head's centre (smooth,
    # unlike the bumpy surface normals): the photo fades out before it stretches over the turning sides.
    tex = tex * _smoothstep(0.3, 0.75, frame.facing(dirs))
    uv = frame.to_photo(verts)
    color = np.broadcast_to(np.float32(skin), verts.shape).copy()
    return Part("head", verts, faces, color, "skin", uv, tex.astype(np.float32))


def _normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = verts[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(verts)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-9)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def _lock_field(gaz: np.ndarray, gel: np.ndarray, part_az: float, part_el: float, locks: int, seed: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sculpted locks flowing out from a parting point on the cranium (a toy's hair is chunky locks, not a cap):
    for every grid direction, how high it stands on its lock (1 on the lock's ridge, 0 in the groove between two),
    which lock it is, and how far (radians) it lies from the parting point. The locks are bands of the angle round
    the parting point, of uneven widths, so they converge at the part and fan out down the head."""
    d = np.stack([np.cos(gel) * np.sin(gaz), np.sin(gel), np.cos(gel) * np.cos(gaz)], -1)
    p = np.float32([np.cos(part_el) * np.sin(part_az), np.sin(part_el), np.cos(part_el) * np.cos(part_az)])
    cos_d = np.clip(d @ p, -1, 1)
    # Tangent axes at the parting point: e1 towards the face (+Z), e2 across.
    e1 = np.float32([0, 0, 1]) - p * p[2]
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(p, e1)
    t = d - cos_d[..., None] * p
    phi = np.arctan2(t @ e2, t @ e1)
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.1, 0.22, 2)
    c, e = rng.uniform(0, 2 * np.pi, 2)
    warp = phi + a * np.sin(3 * phi + c) + b * np.sin(5 * phi + e)  # uneven lock widths, periodic round the part
    u = (warp / (2 * np.pi) + 0.5) * locks
    index = np.floor(u).astype(np.int32) % locks
    f = u - np.floor(u)
    ridge = np.sin(np.pi * f) ** 0.7  # rounded locks, V-shaped grooves between them
    return ridge.astype(np.float32), index, np.arccos(cos_d).astype(np.float32)


def hair_part(shape: HeadShape, style: HairStyle, variation: int = 0) -> Part | None:
    """The sculpted hair shell (None for a bald head): chunky PVC-figure locks flowing from a side parting, volume
    above the crown and over the temples, lock tips that make the hairline irregular (a fringe where the photo's
    hair comes down over the forehead), darker grooves and a glossy band of light across the locks."""
    if style.bald:
        return None
    gaz, gel = _grid_angles()
    # The hairline: the face's top edge in front (raised by ``hairline``), the ear tops at the sides, the nape behind.
    face_rows = np.where(shape.face.any(axis=0), np.argmax(shape.face > 0, axis=0), GRID_H)
    front_el = np.pi / 2 - face_rows / (GRID_H - 1) * np.pi + style.hairline / 1.0
    abs_az = np.abs(gaz[0])
    ear_top = np.arcsin(np.clip((shape.eye_y - 0.08 - shape.center[1]) / 0.6, -1, 1))  # sideburns to mid-ear
    nape = np.arcsin(np.clip((shape.chin + 0.2 - shape.center[1]) / 0.75, -1, 1))
    framing = style.long > 0 or style.side > 0.1  # hair that frames the face down its sides
    if framing:
        ear_top = min(ear_top, np.arcsin(np.clip((shape.chin + 0.25 - shape.center[1]) / 0.7, -1, 1)))
    if style.long > 0:
        nape = -1.2
    edge = np.interp(abs_az, [0.0, 0.8, 1.1, 1.95, 2.4, np.pi], [0, 0, 1, 1, 2, 2])  # the temples covered
    front = np.where(face_rows < GRID_H, front_el, ear_top)
    line = np.where(edge <= 1, (1 - edge) * front + edge * ear_top, (2 - edge) * ear_top + (edge - 1) * nape)
    line = cv2.GaussianBlur(line[None].astype(np.float32), (0, 0), 3)[0][None]
    # The locks: from a side parting (its side from the variation), fewer and chunkier on short hair.
    side = 1 if variation % 2 else -1
    short = style.top <= 0.08 and style.long <= 0
    locks = 20 if short else 15
    ridge, index, from_part = _lock_field(gaz, gel, side * 0.42, 1.05, locks, 11 + variation % 5)
    # Every lock ends in a rounded point below the hairline (a longer one in front, where a fringe falls), each its
    # own length: the hair's edge is a row of lock tips, not a cap's rim.
    jitter = np.random.default_rng(3 + variation % 5).uniform(0.55, 1.0, locks)[index]
    fringe = 0.05 + 0.25 * np.clip(style.fringe * 1.5 - 0.15, 0, 1)  # the photo's fringe: lock tips over the brow
    tip = np.where(edge[None] < 1, fringe, 0.04 if short else 0.12) * jitter * ridge ** 0.8
    low = line - tip
    mask = _smoothstep(-0.03, 0.03, gel - low)  # wider than a grid cell: a smooth edge, not a jagged one
    # Thick right to the edge (the locks' ends are sculpted, rounded off over a short way), fuller above it.
    # Each lock thins to its tip; without a fringe the front is swept back, thinning over a longer way to the
    # hairline (a thick front edge reads as a bowl cut).
    swept = np.where(edge[None] < 1, (1 - np.clip(style.fringe * 2.5, 0, 1)) * (1 - edge[None]), 0.0)
    rounded = _smoothstep(low, low + 0.06 + tip + 0.12 * swept, gel) ** (0.7 + 0.3 * swept)
    lift = _smoothstep(line, line + 0.4, gel)
    crown = _smoothstep(0.25, 1.4, gel)
    pole = 1 - _smoothstep(0.9, 1.45, gel)
    sides = np.exp(-((abs_az[None] - 1.5) / 0.7) ** 2) * pole
    # Short hair is a close-cropped shell; longer hair has a thick sculpted edge. A toy's hair is chunkier than
    # the photo's: a little volume on top and over the temples even for the shortest crop.
    top, side_volume = max(style.top, 0.08), max(style.side, 0.05)
    # A rise over the forehead (a toy's hair stands up at the front rather than lying like a cap).
    quiff = 0.09 * np.exp(-((gel - line - 0.4) / 0.22) ** 2) * np.clip(1 - abs_az[None] / 1.1, 0, 1) ** 1.5
    thick = rounded * ((0.012 if short else 0.035) + lift * ((0.03 if short else 0.045) + 0.45 * side_volume * sides)
                       + top * crown + quiff)
    # Grooves between the locks deepen away from the parting (the locks part as they fall) and are shallow on
    # the crown's top; fine strands run along each lock.
    apart = _smoothstep(0.05, 0.6, from_part)
    groove = (0.022 if short else 0.075) * apart * (1 - ridge) ** 1.5
    strands = 0.004 * _smoothstep(0.5, 1.0, from_part) * np.cos(ridge * np.pi * 3) * ridge  # low on the head
    relief = mask * np.maximum(thick - groove + strands, 0.004) - (1 - mask) * 0.06
    # Softened by a cell or so (round the azimuth's wrap), so a narrow groove is not beaded by the grid.
    pad = 4
    relief = cv2.GaussianBlur(np.pad(relief.astype(np.float32), ((0, 0), (pad, pad)), mode="wrap"), (0, 0), 0.8,
                              borderType=cv2.BORDER_REPLICATE)[:, pad:-pad]
    grid = shape.radius + relief
    dirs, faces = unit_sphere(HAIR_SUBDIVISIONS)
    az, el = _angles(dirs)
    verts = (dirs * _sample(grid.astype(np.float32), az, el)[:, None] + shape.center).astype(np.float32)
    # Paint: the grooves darker, and a band of light across the upper locks (the glossy ring of a toy's hair),
    # brightest on the locks' ridges.
    r = _sample(ridge, az, el)
    a_ = _sample(apart.astype(np.float32), az, el)
    band = np.exp(-((el - 0.72) / 0.16) ** 2) * _smoothstep(1.6, 0.6, np.abs(az)) * r ** 2
    base = np.float32(style.color)[None]
    shade = (1 - 0.35 * a_ * (1 - r))[:, None]
    gloss = (0.22 * band)[:, None]
    color = base * shade * (1 - gloss) + gloss * np.minimum(1, base * 1.6 + 0.12)
    return Part("hair", verts, faces, color.astype(np.float32), "hair")


def front_locks_part(shape: HeadShape, style: HairStyle) -> Part | None:
    """Long hair falling over the shoulders in front (a frontal photo shows long hair beside the face and neck in
    front of the shoulders): on each side two broad, flat lock clumps from the temple down past the ear, over the
    shoulder's front and down the chest to ``style.long`` below the chin, thinning to rounded tips (None for hair
    that ends above the shoulders). Head space: the shoulders' top lies ~0.2 below the chin."""
    if style.bald or style.long < 0.35:
        return None
    cz = float(shape.center[2])
    end = shape.chin - TOY_LENGTH * style.long
    meshes = []
    for side in (-1, 1):
        for k, (dx, dz, r) in enumerate(((0.02, 0.0, 0.16), (0.12, -0.07, 0.13))):
            x = side * (0.47 + dx)
            path = np.float32([[x * 0.95, shape.eye_y, cz + 0.32 + dz],
                               [x * 1.0, shape.chin + 0.05, cz + 0.36 + dz],
                               [x * 1.05, shape.chin - 0.25, cz + 0.46 + dz],
                               [x * 0.98, end + 0.07 * k, cz + 0.5 + dz]])
            radii = (r * 0.9, r, r * 0.95, r * 0.4)
            for a in range(3):
                meshes.append(limb(path[a], path[a + 1], radii[a], radii[a + 1], seg=20, rings=4, depth=0.45,
                                   side=(0.0, 0.0, 1.0)))
    verts = np.concatenate([m[0] for m in meshes])
    faces, n = [], 0
    for v, f in meshes:
        faces.append(f + n)
        n += len(v)
    color = np.broadcast_to(np.float32(style.color), verts.shape).copy()
    return Part("hairfront", verts, np.concatenate(faces).astype(np.int32), color, "hair")


def long_hair_part(shape: HeadShape, style: HairStyle) -> Part | None:
    """Long hair falling behind the shoulders: a rounded slab from the back of the head down to ``style.long``
    below the chin, as wide as the head (None for short hair)."""
    if style.bald or style.long <= 0:
        return None
    top = shape.eye_y + 0.15
    bottom = shape.chin - TOY_LENGTH * style.long
    rows = np.float32([[0.0, 0, 0], [0.05, 0.46, 0.26], [0.3, 0.56, 0.3], [0.7, 0.58, 0.3], [0.95, 0.5, 0.26],
                       [1.0, 0.4, 0.18], [1.03, 0, 0]])
    rows[:, 0] *= top - bottom
    back = shape.center[2] - 0.2
    verts, faces = loft(rows, (0.0, bottom, back), (0, 1, 0), seg=40, roundness=2.4)
    # Strands: gentle waves across the slab's back.
    verts[:, 2] -= 0.02 * np.cos(verts[:, 0] * 30) * (verts[:, 2] < back)
    color = np.broadcast_to(np.float32(style.color), verts.shape).copy()
    return Part("hairback", verts, faces, color, "hair")
