"""A tabletop diorama drawn on the CPU, as a tilt-shift photo of a model-railway scene would show it.

The table is real geometry seen by a pinhole camera looking down on it: the ground (static grass, a gravel path,
cobbles, boardwalk planks, sand, snow) is evaluated in the table's own coordinates for every pixel, so its grain
shrinks with distance; the props (model trees with clumpy foam foliage, pines, benches, lamps, fences, houses,
parasols, beach huts, a snowman) are boxes, cylinders and clusters of shaded spheres projected by the same camera,
lit by one sun and casting their shadows along it. The sun is the key light figure3d lights the figures with, turned
into the table's space, so the figures' cast shadows fall the same way as the trees'.

A scene depends only on its edition (seed) and on how many people stand in it; the miniature look (photo.py) puts
the figures on the spot the scene kept free for them, then blurs the picture like a tilt-shift lens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from minime.core.memo import budget_cache

SIZE = 1024
FOCAL = SIZE * 1.35  # a normal-to-long lens: ~42° across
FIGURE = 1.0  # a figure's height: the table's unit of length
KEYS = ((-0.45, 0.8, 0.5), (0.5, 0.75, 0.5))
FAR = 1e4  # the sky's depth  # figure3d's key lights (camera space) from the left and the right


@dataclass(frozen=True)
class View:
    """The camera over the table: at (0, height, 0), looking along +Z, pitched down by ``pitch`` degrees."""

    pitch: float
    height: float

    @property
    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = np.radians(self.pitch)
        right = np.float32([1, 0, 0])
        up = np.float32([0, np.cos(p), np.sin(p)])
        forward = np.float32([0, -np.sin(p), np.cos(p)])
        return right, up, forward

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Screen positions (N×2) and depths of world points (N×3)."""
        right, up, forward = self.axes
        rel = np.asarray(pts, np.float32) - np.float32([0, self.height, 0])
        depth = np.maximum(rel @ forward, 1e-3)
        return np.stack([SIZE / 2 + FOCAL * (rel @ right) / depth, SIZE / 2 - FOCAL * (rel @ up) / depth], -1), depth

    def ground(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The table point (X, Z) each screen pixel sees, and the pixels per unit there."""
        right, up, forward = self.axes
        u, v = (xs - SIZE / 2) / FOCAL, (SIZE / 2 - ys) / FOCAL
        d = right[None, None] * u[..., None] + up[None, None] * v[..., None] + forward[None, None]
        t = self.height / np.maximum(-d[..., 1], 1e-4)
        return t * d[..., 0], t * d[..., 2], FOCAL / np.maximum(t, 1e-3)

    def to_world(self, cam: tuple[float, float, float]) -> np.ndarray:
        """A camera-space direction (x right, y up, z towards the camera) in the table's space."""
        right, up, forward = self.axes
        v = cam[0] * right + cam[1] * up - cam[2] * forward
        return (v / np.linalg.norm(v)).astype(np.float32)


@dataclass(frozen=True)
class Stage:
    """An empty diorama and where its figures go."""

    back: np.ndarray  # RGB uint8, SIZE²: the table and everything standing behind the figures
    front: np.ndarray  # RGBA uint8: what stands between them and the camera
    feet: tuple[int, int]  # the screen point where the middle of the group stands
    unit: float  # pixels per unit (one figure's height) at the feet
    pitch: float  # the camera's pitch: the figures are shot from the same angle
    sun_left: bool  # the sun (and the figures' key light) on the left
    scene: str
    grade: tuple[float, float, float]  # the light's colour (multipliers), warm at golden hour
    shadow_step: tuple[float, float]  # on screen, where the sun throws the shadow of a point one unit up (px)
    depth: np.ndarray  # float16, SIZE²: how far (camera forward, units) what each pixel shows is; in front, the front


# ---- noise ----------------------------------------------------------------------------------------------------


@budget_cache(maxsize=4)
def _tile(seed: int, size: int, cutoff: float) -> np.ndarray:
    """Tileable smooth noise (size², zero mean, unit std): white noise low-passed in the frequency domain."""
    rng = np.random.default_rng(seed)
    f = np.fft.fft2(rng.normal(0, 1, (size, size)))
    k = np.fft.fftfreq(size)
    r = np.sqrt(k[:, None] ** 2 + k[None, :] ** 2)
    n = np.real(np.fft.ifft2(f * np.exp(-((r / cutoff) ** 2)))).astype(np.float32)
    return (n - n.mean()) / max(float(n.std()), 1e-6)


def haze_of(depth: np.ndarray | float) -> np.ndarray | float:
    """How much of the haze colour a thing ``depth`` units away takes (nothing within a few units)."""
    return 1 - np.exp(-np.maximum(np.asarray(depth, np.float32) - 6, 0) / 40)


def _sample(tile: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return cv2.remap(tile, u.astype(np.float32), v.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


def _smooth(t: np.ndarray, a: float, b: float) -> np.ndarray:
    x = np.clip((t - a) / (b - a), 0, 1)
    return x * x * (3 - 2 * x)


# ---- drawing primitives (float RGB canvases, painter's order) ---------------------------------------------------


class Canvas:
    """An RGB float canvas with an alpha (for the front layer) and the camera and sun that draw on it."""

    def __init__(self, view: View, sun: np.ndarray, rng: np.random.Generator, haze: tuple,
                 rgb: np.ndarray | None = None) -> None:
        self.view, self.sun, self.rng, self.haze = view, sun, rng, np.asarray(haze, np.float32)
        self.rgb = rgb if rgb is not None else np.zeros((SIZE, SIZE, 3), np.float32)
        self.alpha = np.zeros((SIZE, SIZE), np.float32)
        self.depth = np.full((SIZE, SIZE), np.inf, np.float32)  # how far what covers a pixel is (camera forward)
        self.at = np.inf  # the depth of what is being drawn
        right, up, forward = view.axes
        self.sun_cam = np.float32([sun @ right, sun @ up, -(sun @ forward)])
        self.grain = _tile(7, 128, 0.25)

    def fog(self, color: np.ndarray, depth: float) -> np.ndarray:
        """A colour seen through the air between it and the camera: far things fade into the haze."""
        k = haze_of(depth)
        return color * (1 - k) + self.haze * k

    def _put(self, x0: int, y0: int, cover: np.ndarray, color: np.ndarray) -> None:
        h, w = cover.shape
        x1, y1 = min(SIZE, x0 + w), min(SIZE, y0 + h)
        cx0, cy0 = max(0, x0), max(0, y0)
        if x1 <= cx0 or y1 <= cy0:
            return
        c = cover[cy0 - y0:y1 - y0, cx0 - x0:x1 - x0, None]
        col = color[cy0 - y0:y1 - y0, cx0 - x0:x1 - x0] if color.ndim == 3 else color
        part = self.rgb[cy0:y1, cx0:x1]
        part += (col - part) * c
        a = self.alpha[cy0:y1, cx0:x1]
        a += (1 - a) * c[..., 0]
        d = self.depth[cy0:y1, cx0:x1]
        d[c[..., 0] > 0.5] = self.at

    def polygon(self, pts: np.ndarray | list[np.ndarray], color: np.ndarray) -> None:
        """Flat polygons of one colour (screen points, one array each), antialiased by drawing at 4× and averaging."""
        polys = [np.asarray(p, np.float32) for p in (pts if isinstance(pts, list) else [pts])]
        every = np.concatenate(polys)
        x0, y0 = np.floor(every.min(0)).astype(int) - 1
        x1, y1 = np.ceil(every.max(0)).astype(int) + 1
        if x1 < 0 or y1 < 0 or x0 >= SIZE or y0 >= SIZE or x1 - x0 > 4 * SIZE or y1 - y0 > 4 * SIZE:
            return
        x0, y0 = max(x0, -SIZE), max(y0, -SIZE)
        w, h = min(x1, 2 * SIZE) - x0, min(y1, 2 * SIZE) - y0
        m = np.zeros((h * 4, w * 4), np.uint8)
        cv2.fillPoly(m, [np.round((p - (x0, y0)) * 4 * 16).astype(np.int32) for p in polys], 255, cv2.LINE_AA,
                     shift=4)
        cover = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        self._put(x0, y0, cover, np.asarray(color, np.float32))

    def face(self, corners: np.ndarray, color: tuple[float, float, float]) -> None:
        """A flat face of a prop (world corners, counter-clockwise seen from outside), shaded by the sun, skipped
        when it faces away from the camera."""
        self.faces([corners], color)

    def faces(self, many: list[np.ndarray], color: tuple[float, float, float]) -> None:
        """Faces of one colour lying in one plane (a facade's windows), drawn at once: shaded like the first."""
        corners = np.asarray(many[0], np.float32)
        n = _cross(corners[1] - corners[0], corners[2] - corners[0])
        n /= max(float(np.linalg.norm(n)), 1e-6)
        eye = np.float32([0, self.view.height, 0])
        if float(n @ (eye - corners[0])) <= 0:
            return
        light = 0.5 + 0.75 * max(0.0, float(n @ self.sun)) + 0.12 * max(0.0, float(n[1]))
        pts, depth = self.view.project(np.concatenate([np.asarray(c, np.float32) for c in many]))
        k = len(corners)
        self.at = float(depth.mean())
        self.polygon([pts[i:i + k] for i in range(0, len(pts), k)],
                     self.fog(np.asarray(color, np.float32) * light, float(depth.mean())))

    def box(self, c: tuple[float, float, float], size: tuple[float, float, float], color: tuple,
            top: tuple | None = None) -> None:
        """An axis-aligned box standing on its bottom centre ``c`` (x, y, z), ``size`` (width, height, depth)."""
        x, y, z = c
        w, h, d = size[0] / 2, size[1], size[2] / 2
        p = np.float32([[x - w, y, z - d], [x + w, y, z - d], [x + w, y, z + d], [x - w, y, z + d],
                        [x - w, y + h, z - d], [x + w, y + h, z - d], [x + w, y + h, z + d], [x - w, y + h, z + d]])
        for idx, col in (((1, 5, 6, 2), color), ((0, 3, 7, 4), color), ((0, 4, 5, 1), color),
                         ((4, 7, 6, 5), top or color)):  # outward normals
            self.face(p[list(idx)], col)

    def cylinder(self, base: tuple[float, float, float], height: float, r0: float, r1: float, color: tuple) -> None:
        """An upright (tapered) cylinder: a trunk, a post, a lamp's pole; shaded round by the sun."""
        ends, depth = self.view.project(np.float32([base, (base[0], base[1] + height, base[2])]))
        (bx, by), (tx, ty) = ends
        scale = FOCAL / float(depth[0])
        w0, w1 = r0 * scale, r1 * scale
        x0, x1 = int(min(bx - w0, tx - w1)) - 2, int(max(bx + w0, tx + w1)) + 3
        y0, y1 = int(min(by, ty)) - 2, int(max(by, ty)) + 3
        if x1 < 0 or x0 >= SIZE or y1 < 0 or y0 >= SIZE or y1 - y0 < 2:
            return
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        t = np.clip((yy - by) / min(-1e-3, ty - by), 0, 1)
        cx, half = bx + (tx - bx) * t, np.maximum(w0 + (w1 - w0) * t, 0.6)
        u = (xx - cx) / half
        cover = np.clip((1 - np.abs(u)) * half, 0, 1) * (yy >= min(by, ty) - 0.5) * (yy <= max(by, ty) + 0.5)
        nx = np.clip(u, -1, 1)
        nz = np.sqrt(1 - nx * nx)
        lum = 0.45 + 0.8 * np.maximum(0, nx * self.sun_cam[0] + nz * self.sun_cam[2]) * 0.9
        col = self.fog(np.asarray(color, np.float32) * lum[..., None], FOCAL / scale)
        self.at = FOCAL / scale
        self._put(x0, y0, cover.astype(np.float32), col)

    def spheres(self, centers: np.ndarray, radii: np.ndarray, colors: np.ndarray, fuzz: float = 0.0,
                gloss: float = 0.0) -> None:
        """Shaded balls (world centres, radii, colours), far ones first: foam foliage when ``fuzz`` frays their
        edges and speckles them, snow, a lamp's globe."""
        pts, depth = self.view.project(centers)
        order = np.argsort(-depth)
        sx, sy, sz = self.sun_cam
        for i in order:
            r = float(radii[i]) * FOCAL / float(depth[i])
            if r < 0.6:
                continue
            cx, cy = pts[i]
            x0, y0 = int(cx - r) - 2, int(cy - r) - 2
            n = int(2 * r) + 5
            if x0 >= SIZE or y0 >= SIZE or x0 + n < 0 or y0 + n < 0:
                continue
            yy, xx = np.mgrid[y0:y0 + n, x0:x0 + n].astype(np.float32)
            nx, ny = (xx - cx) / r, (cy - yy) / r
            d2 = nx * nx + ny * ny
            if fuzz:  # foam: lumps a sixth of the ball across, wherever the ball is
                g = _sample(self.grain, (xx - cx) / r * 7 + 13.7 * i, (yy - cy) / r * 7 + 5.3 * i)
                edge = 1 - fuzz * 0.3 * np.clip(g + 1, 0, 3)
            else:
                g, edge = 0.0, 1.0
            cover = np.clip((edge - np.sqrt(d2)) * r, 0, 1)
            nz = np.sqrt(np.clip(1 - d2, 0, 1))
            lum = 0.38 + 0.95 * np.clip(nx * sx + ny * sy + nz * sz, 0, 1) + 0.1 * ny
            if fuzz:
                lum = lum * (1 + 0.22 * fuzz * g)
            col = self.fog(np.asarray(colors[i], np.float32) * lum[..., None], float(depth[i]))
            if gloss:
                spec = np.clip(nx * sx + ny * sy + nz * sz, 0, 1) ** 30 * gloss
                col = col + spec[..., None] * 255
            self.at = float(depth[i])
            self._put(x0, y0, cover, col)


# ---- ground materials (table coordinates X, Z) --------------------------------------------------------------


def _grass(x: np.ndarray, z: np.ndarray, rng: np.random.Generator, base: tuple, dry: float = 0.0) -> np.ndarray:
    fine = _sample(_tile(1, 256, 0.3), x * 90, z * 90)
    mid = _sample(_tile(2, 256, 0.08), x * 22, z * 22)
    big = _sample(_tile(3, 128, 0.05), x * 3 + 40, z * 3)
    col = np.asarray(base, np.float32)
    yellow = np.float32([190, 180, 90])
    out = col * (1 + 0.16 * fine[..., None] + 0.1 * mid[..., None])
    out += (yellow - col) * np.clip(0.25 * big + 0.15 + dry, 0, 0.7)[..., None] * 0.6
    tufts = _smooth(fine + 0.6 * mid, 1.3, 2.2)[..., None]  # light tips of the static grass
    return out + (np.float32([215, 220, 140]) - out) * tufts * 0.45


def _gravel(x: np.ndarray, z: np.ndarray, base: tuple) -> np.ndarray:
    fine = _sample(_tile(4, 256, 0.45), x * 160, z * 160)
    mid = _sample(_tile(2, 256, 0.08), x * 30, z * 30)
    col = np.asarray(base, np.float32) * (1 + 0.13 * fine[..., None] + 0.05 * mid[..., None])
    dots = _smooth(fine, 1.6, 2.2)[..., None]
    return col * (1 - 0.35 * dots)


def _cobbles(x: np.ndarray, z: np.ndarray, base: tuple, size: float = 0.24) -> np.ndarray:
    """Setts in a running bond: each stone domed (lit on its sunny side), its own tone, sandy joints between."""
    jitter = 0.08 * _sample(_tile(2, 256, 0.08), x * 9, z * 9)
    row = np.floor(z / (size * 0.7) + jitter)
    u = x / size + 0.5 * (row % 2) + jitter
    col_i = np.floor(u)
    fu, fv = u - col_i, z / (size * 0.7) + jitter - row
    edge = np.minimum(np.minimum(fu, 1 - fu) * size, np.minimum(fv, 1 - fv) * size * 0.7)
    h = np.sin(col_i * 12.9898 + row * 78.233) * 43758.5453
    tone = (h - np.floor(h)) - 0.5
    # rounded corners: near a corner the edge distance is taken to the corner's arc
    cu, cv_ = np.minimum(fu, 1 - fu) * size, np.minimum(fv, 1 - fv) * size * 0.7
    corner = 0.035 - np.sqrt(np.maximum(0.035 - cu, 0) ** 2 + np.maximum(0.035 - cv_, 0) ** 2)
    edge = np.minimum(edge, np.where((cu < 0.035) & (cv_ < 0.035), corner, edge))
    stone = _smooth(edge, 0.004, 0.024)
    fine = _sample(_tile(4, 256, 0.45), x * 200, z * 200)
    col = np.asarray(base, np.float32)[None, None] * (1 + 0.3 * tone[..., None] + 0.07 * fine[..., None])
    dome = 0.88 + 0.24 * np.sqrt(np.clip(edge / (size * 0.3), 0, 1))[..., None] + 0.08 * (0.5 - fv)[..., None]
    joint = np.asarray(base, np.float32) * 0.62 * (1 + 0.1 * fine[..., None])
    return joint + (col * dome - joint) * stone[..., None]


def _planks(x: np.ndarray, z: np.ndarray, base: tuple, width: float = 0.16) -> np.ndarray:
    row = np.floor(z / width)
    fv = z / width - row
    h = np.sin(row * 91.7) * 43758.5453
    off = (h - np.floor(h)) * 3
    u = (x + off) / 1.3
    fu = u - np.floor(u)
    seam = _smooth(np.minimum(fv, 1 - fv) * width, 0.002, 0.012) * _smooth(np.minimum(fu, 1 - fu) * 1.3, 0.002,
                                                                            0.01)
    grain = _sample(_tile(5, 256, 0.2), x * 12, z * 260)
    k = np.floor(u) * 7.1 + row
    tone = np.sin(k * 12.9898) * 43758.5453
    tone = (tone - np.floor(tone)) - 0.5
    col = np.asarray(base, np.float32)[None, None] * (1 + 0.18 * tone[..., None] + 0.08 * grain[..., None])
    return col * (0.4 + 0.6 * seam[..., None])


def _sand(x: np.ndarray, z: np.ndarray, base: tuple) -> np.ndarray:
    fine = _sample(_tile(4, 256, 0.45), x * 220, z * 220)
    mid = _sample(_tile(2, 256, 0.08), x * 8, z * 8)
    ripple = np.sin(z * 14 + 1.5 * mid) * 0.5 + 0.5
    return np.asarray(base, np.float32) * (1 + 0.07 * fine[..., None] + 0.05 * mid[..., None]
                                           - 0.05 * ripple[..., None])


def _snow(x: np.ndarray, z: np.ndarray, base: tuple) -> np.ndarray:
    fine = _sample(_tile(4, 256, 0.45), x * 200, z * 200)
    mid = _sample(_tile(2, 256, 0.08), x * 6, z * 6)
    col = np.asarray(base, np.float32) * (1 + 0.03 * fine[..., None] + 0.05 * mid[..., None])
    col = col + (np.float32([150, 175, 215]) - col) * np.clip(-0.25 * mid, 0, 0.35)[..., None]
    return col + _smooth(fine, 2.3, 2.7)[..., None] * 40  # glitter


def _water(x: np.ndarray, z: np.ndarray, base: tuple) -> np.ndarray:
    wave = _sample(_tile(5, 256, 0.2), x * 5, z * 30)
    col = np.asarray(base, np.float32) * (1 + 0.12 * wave[..., None])
    return col + _smooth(wave, 1.2, 1.8)[..., None] * 80


# ---- props --------------------------------------------------------------------------------------------------


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cross product of two 3-vectors (np.cross costs ~50 µs of bookkeeping per call; a scene calls it ~300
    times)."""
    return np.float32([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _front(x0: float, x1: float, y0: float, y1: float, z: float) -> np.ndarray:
    """A rectangle facing the camera (-Z) at depth z: a window, a door, a stripe (outward winding)."""
    return np.float32([[x0, y0, z], [x0, y1, z], [x1, y1, z], [x1, y0, z]])


def _glass(wall: tuple, pane: tuple = (110, 140, 170), depth: float = 0.86) -> tuple:
    """A window (or door) in a wall: the pane's hue at nearly the wall's brightness. Model windows catch the sky;
    dark holes in a bright wall blur, far behind the lens's sharp band, into eyes and a mouth a face detector
    trusts (the window grid differs from the wall in colour, not in lightness)."""
    luma = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]  # noqa: E731
    k = depth * luma(wall) / max(luma(pane), 1.0)
    return tuple(min(255.0, v * k) for v in pane)


def _shade(c: tuple, k: float) -> tuple:
    return tuple(float(v) * k for v in c)


def _tree(cv: Canvas, x: float, z: float, s: float, green: tuple) -> None:
    """A model tree: a trunk with a few branches and a crown of foam clumps."""
    rng = cv.rng
    trunk_h = s * rng.uniform(0.35, 0.5)
    cv.cylinder((x, 0, z), trunk_h + s * 0.2, s * 0.05, s * 0.025, (96, 74, 58))
    crown_y = trunk_h + s * 0.38
    n = int(rng.integers(26, 40))
    a = rng.uniform(0, 2 * np.pi, n)
    el = rng.uniform(-0.9, 1.0, n)
    rr = s * 0.36 * rng.uniform(0.55, 1.0, n) ** 0.5
    centers = np.stack([x + rr * np.cos(a) * np.sqrt(1 - el ** 2 * 0.7),
                        crown_y + rr * el * 0.85,
                        z + rr * np.sin(a) * np.sqrt(1 - el ** 2 * 0.7)], 1)
    radii = s * rng.uniform(0.11, 0.2, n)
    tint = rng.uniform(-0.12, 0.12, (n, 1))
    colors = np.asarray(green, np.float32)[None] * (1 + tint)
    cv.spheres(centers, radii, colors, fuzz=1.0)


def _pine(cv: Canvas, x: float, z: float, s: float, green: tuple, snow: bool) -> None:
    """A model fir: tiers of drooping foam around a trunk, snow on the tiers when it is winter."""
    rng = cv.rng
    cv.cylinder((x, 0, z), s * 0.25, s * 0.04, s * 0.03, (86, 64, 50))
    tiers = 7
    for i in range(tiers):
        t = i / (tiers - 1)
        y = s * (0.18 + 0.78 * t)
        r = s * 0.3 * (1 - t) + s * 0.04
        k = int(8 + 10 * (1 - t))
        a = rng.uniform(0, 2 * np.pi, k)
        centers = np.stack([x + r * np.cos(a) * 0.85, np.full(k, y) - rng.uniform(0, 0.06 * s, k),
                            z + r * np.sin(a) * 0.85], 1)
        radii = np.full(k, s * (0.07 + 0.07 * (1 - t)))
        cols = np.asarray(green, np.float32)[None] * (1 + rng.uniform(-0.1, 0.1, (k, 1)))
        cv.spheres(centers, radii, cols, fuzz=0.8)
        if snow:
            cv.spheres(centers + np.float32([0, s * 0.045, 0]), radii * 0.62,
                       np.tile(np.float32([236, 240, 248]), (k, 1)), fuzz=0.6)


SPRITE_PPU = 400.0  # a prop sprite's pixels per unit (a tree one unit tall is ~400 px)


@dataclass(frozen=True)
class Sprite:
    """A prop drawn once in the sun from the left (every scene pastes it, scaled, tinted, mirrored for the sun
    on the right): straight colour, coverage, and where it meets the table."""

    rgb: np.ndarray
    alpha: np.ndarray
    foot: tuple[float, float]


def _sprite(draw: Callable[[Canvas], None], height: float) -> Sprite:
    """Draws a prop of size 1 standing at the origin's depth, as a model-railway camera sees it (pitch 14°)."""
    pitch = 14.0
    z = FOCAL / SPRITE_PPU / np.cos(np.radians(pitch))
    view = View(pitch, height / 2 + z * float(np.tan(np.radians(pitch))))
    sun = view.to_world(KEYS[0])
    sun[1] = max(float(sun[1]), 0.55)
    cv = Canvas(view, sun / np.linalg.norm(sun), np.random.default_rng(0), (0, 0, 0))
    draw(cv)
    ys, xs = np.nonzero(cv.alpha > 0.01)
    (fx, fy), = view.project(np.float32([[0, 0, z]]))[0]
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = cv.alpha[y0:y1, x0:x1].copy()
    rgb = cv.rgb[y0:y1, x0:x1] / np.maximum(alpha, 1e-3)[..., None]
    return Sprite(np.clip(rgb, 0, 255).astype(np.float32), alpha, (float(fx - x0), float(fy - y0)))


TREE_GREEN = (80, 120, 50)


@budget_cache(maxsize=1)
def _sprites() -> dict[str, tuple[Sprite, ...]]:
    """The model trees and firs every scene plants (drawn once per process: ~1 s, then each tree is a resize)."""
    z = FOCAL / SPRITE_PPU / np.cos(np.radians(14.0))

    def tree(seed: int) -> Callable[[Canvas], None]:
        def draw(cv: Canvas) -> None:
            cv.rng = np.random.default_rng(seed)
            _tree(cv, 0.0, z, 1.0, TREE_GREEN)
        return draw

    def fir(seed: int) -> Callable[[Canvas], None]:
        def draw(cv: Canvas) -> None:
            cv.rng = np.random.default_rng(seed)
            _pine(cv, 0.0, z, 1.0, (44, 84, 60), True)
        return draw

    def bush(seed: int, flowers: tuple | None) -> Callable[[Canvas], None]:
        def draw(cv: Canvas) -> None:
            cv.rng = np.random.default_rng(seed)
            _bush(cv, 0.0, z, 1.0, TREE_GREEN, flowers)
        return draw

    sprites = {"tree": tuple(_sprite(tree(k), 1.15) for k in range(4)),
               "fir": tuple(_sprite(fir(k), 1.05) for k in range(3)),
               "bush": tuple(_sprite(bush(k, None), 0.6) for k in range(3))}
    for i, color in enumerate(FLOWERS):
        sprites[f"bush{i}"] = tuple(_sprite(bush(10 + k, color), 0.6) for k in range(2))
    return sprites


FLOWERS = ((230, 70, 80), (250, 210, 60), (240, 240, 245), (170, 90, 200))


def _shrub(cv: Canvas, x: float, z: float, s: float, green: tuple, flowers: int | None = None) -> None:
    """A bush ``s`` units across, in flower (one of FLOWERS) or not."""
    _plant(cv, "bush" if flowers is None else f"bush{flowers}", x, z, s, green)


def _plant(cv: Canvas, kind: str, x: float, z: float, s: float, tint: tuple = TREE_GREEN) -> None:
    """One of the sprites ``kind`` (picked by the place), ``s`` units tall, standing at (x, z), in the haze."""
    options = _sprites()[kind]
    sprite = options[int(abs(x * 7.3 + z * 3.1)) % len(options)]
    pts, depth = cv.view.project(np.float32([[x, 0, z]]))
    u, v = pts[0]
    scale = s * FOCAL / float(depth[0]) / SPRITE_PPU
    h, w = sprite.alpha.shape
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    if nh < 3:
        return
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    rgb = cv2.resize(sprite.rgb, (nw, nh), interpolation=interp)
    alpha = cv2.resize(sprite.alpha, (nw, nh), interpolation=interp)
    fx, fy = sprite.foot[0] * nw / w, sprite.foot[1] * nh / h
    if cv.sun_cam[0] > 0:  # the sun on the right: the same tree, mirrored
        rgb, alpha, fx = rgb[:, ::-1], alpha[:, ::-1], nw - fx
    rgb = rgb * (np.float32(tint) / np.float32(TREE_GREEN))
    cv.at = float(depth[0])
    cv._put(int(round(u - fx)), int(round(v - fy)), np.ascontiguousarray(alpha),
            cv.fog(np.ascontiguousarray(rgb), float(depth[0])))


def _bush(cv: Canvas, x: float, z: float, s: float, green: tuple, flowers: tuple | None = None) -> None:
    rng = cv.rng
    n = 14
    a = rng.uniform(0, 2 * np.pi, n)
    r = s * rng.uniform(0, 0.45, n)
    centers = np.stack([x + r * np.cos(a), s * rng.uniform(0.12, 0.35, n), z + r * np.sin(a) * 0.7], 1)
    cv.spheres(centers, s * rng.uniform(0.15, 0.25, n),
               np.asarray(green, np.float32)[None] * (1 + rng.uniform(-0.1, 0.1, (n, 1))), fuzz=1.0)
    if flowers:  # blossoms: specks on the sunny upper side of the bush
        k = 40
        a = rng.uniform(0, 2 * np.pi, k)
        r = s * rng.uniform(0, 0.5, k)
        centers = np.stack([x + r * np.cos(a), s * rng.uniform(0.3, 0.52, k), z + r * np.sin(a) * 0.7], 1)
        cv.spheres(centers, np.full(k, s * 0.022), np.tile(np.float32(flowers), (k, 1)))


def _bench(cv: Canvas, x: float, z: float, wood: tuple = (128, 88, 62)) -> None:
    """A park bench: cast-iron ends, a seat and a back of wooden slats with gaps between them."""
    iron = (46, 50, 48)
    for dx in (-0.42, 0.42):
        cv.box((x + dx, 0, z + 0.02), (0.04, 0.22, 0.26), iron)
        cv.box((x + dx, 0.22, z + 0.13), (0.04, 0.24, 0.03), iron)
    for i, dz in enumerate((-0.09, 0.0, 0.09)):
        cv.box((x, 0.22, z + dz), (1.0, 0.03, 0.07), _shade(wood, 1 + 0.06 * (i - 1)))
    for dy in (0.3, 0.4):
        cv.box((x, dy, z + 0.14), (1.0, 0.07, 0.025), wood)


def _lamp(cv: Canvas, x: float, z: float, lit: bool) -> None:
    cv.cylinder((x, 0, z), 1.45, 0.03, 0.02, (40, 50, 46))
    cv.box((x, 1.42, z), (0.15, 0.18, 0.15), (40, 50, 46))
    glow = (255, 236, 170) if lit else (220, 226, 220)
    cv.spheres(np.float32([[x, 1.51, z]]), np.float32([0.065]), np.float32([glow]), gloss=0.5)


def _fence(cv: Canvas, x0: float, x1: float, z: float, color: tuple) -> None:
    for x in np.arange(x0, x1 + 1e-3, 0.45):
        cv.box((float(x), 0, z), (0.05, 0.42, 0.05), color)
    for y in (0.14, 0.32):
        cv.box(((x0 + x1) / 2, y, z), (x1 - x0, 0.04, 0.03), color)


def _house(cv: Canvas, x: float, z: float, w: float, h: float, d: float, wall: tuple, roof: tuple,
           snow: bool = False) -> None:
    """A little house: walls with windows and a door, a gable roof."""
    cv.box((x, 0, z), (w, h, d), wall)
    eye = np.float32([0, cv.view.height, 0])
    win = _glass(wall)
    # windows on the front (facing the camera, -Z) and on the side the camera sees
    rows = max(1, int(h / 0.9))
    for r in range(rows):
        y0 = 0.35 + r * h / rows
        for k in range(max(1, int(w / 0.8))):
            cols = max(1, int(w / 0.8))
            wx = x - w / 2 + (k + 0.5) * w / cols
            if r == 0 and k == cols // 2:
                cv.face(_front(wx - 0.14, wx + 0.14, 0, 0.55, z - d / 2 - 0.005), _glass(wall, (130, 84, 60), 0.72))
                continue
            cv.face(_front(wx - 0.13, wx + 0.13, y0, y0 + 0.3, z - d / 2 - 0.005), win)
    side = 1 if x < 0 else -1  # the side facing the middle (the camera sees it)
    sx = x + side * (w / 2 + 0.005)
    for k in range(max(1, int(d / 0.9))):
        wz = z - d / 2 + (k + 0.5) * d / max(1, int(d / 0.9))
        pts = np.float32([[sx, 0.45, wz - 0.13 * side], [sx, 0.45, wz + 0.13 * side],
                          [sx, 0.75, wz + 0.13 * side], [sx, 0.75, wz - 0.13 * side]])
        if float(_cross(pts[1] - pts[0], pts[2] - pts[0]) @ (eye - pts[0])) > 0:
            cv.face(pts, win)
        else:
            cv.face(pts[::-1], win)
    ridge = h + w * 0.45
    e = 0.08
    a, b = x - w / 2 - e, x + w / 2 + e
    z0, z1 = z - d / 2 - e, z + d / 2 + e
    gable = np.float32([[x - w / 2, h, z - d / 2], [x + w / 2, h, z - d / 2], [x, ridge, z - d / 2]])
    cv.face(gable[::-1], wall)
    cv.face(np.float32([[a, h - 0.04, z0], [x, ridge, z0], [x, ridge, z1], [a, h - 0.04, z1]])[::-1], roof)
    cv.face(np.float32([[b, h - 0.04, z1], [x, ridge, z1], [x, ridge, z0], [b, h - 0.04, z0]])[::-1], roof)
    if snow:
        white = (238, 242, 250)
        cv.face(np.float32([[a + 0.05, h + 0.06, z0], [x, ridge + 0.03, z0], [x, ridge + 0.03, z1],
                            [a + 0.05, h + 0.06, z1]])[::-1], white)
        cv.face(np.float32([[b - 0.05, h + 0.06, z1], [x, ridge + 0.03, z1], [x, ridge + 0.03, z0],
                            [b - 0.05, h + 0.06, z0]])[::-1], white)


def _facade(cv: Canvas, x: float, z: float, w: float, h: float, wall: tuple, awning: tuple) -> None:
    """A town house on the plaza: a shop front under a striped awning, then floors of narrow framed windows between
    light string courses, a cornice on top."""
    front = z - 0.605
    cv.box((x, 0, z), (w, h, 1.2), wall)
    cv.face(_front(x - w / 2 + 0.08, x + w / 2 - 0.08, 0.04, 0.58, front), _glass(wall, (120, 130, 140), 0.8))
    stripes = max(2, int(w / 0.3))
    edges = x - w / 2 + 0.05 + np.arange(stripes + 1) * (w - 0.1) / stripes
    awning_at = [np.float32([[a0, 0.6, front - 0.35], [a0, 0.78, front - 0.01], [a1, 0.78, front - 0.01],
                             [a1, 0.6, front - 0.35]]) for a0, a1 in zip(edges[:-1], edges[1:])]
    cv.faces(awning_at[1::2], awning)  # the awning, in stripes
    cv.faces(awning_at[::2], (240, 238, 230))
    light = tuple(min(255.0, 1.12 * v + 12) for v in wall)
    floors = max(2, int((h - 0.9) / 0.6))
    cols = max(3, int(w / 0.42))
    frames, panes = [], []
    for r in range(floors):
        y0 = 0.95 + r * (h - 1.05) / floors
        frames.append(_front(x - w / 2, x + w / 2, y0 - 0.06, y0 - 0.02, front - 0.002))  # string course
        for k in range(cols):
            wx = x - w / 2 + (k + 0.5) * w / cols
            frames.append(_front(wx - 0.11, wx + 0.11, y0 + 0.04, y0 + 0.42, front - 0.003))
            panes.append(_front(wx - 0.08, wx + 0.08, y0 + 0.07, y0 + 0.39, front - 0.005))
    cv.faces(frames, light)
    cv.faces(panes, _glass(wall))
    cv.box((x, h, z - 0.02), (w + 0.1, 0.12, 1.3), _shade(wall, 0.8))


def _parasol(cv: Canvas, x: float, z: float, color: tuple) -> None:
    cv.cylinder((x, 0, z), 1.15, 0.018, 0.018, (235, 235, 230))
    top = np.float32([x, 1.3, z])
    k = 12
    for i in range(k):
        a0, a1 = 2 * np.pi * i / k, 2 * np.pi * (i + 1) / k
        rim = [np.float32([x + 0.65 * np.cos(a), 1.02, z + 0.65 * np.sin(a)]) for a in (a0, a1)]
        col = color if i % 2 else (245, 245, 240)
        cv.face(np.stack([rim[1], rim[0], top]), col)
        cv.face(np.stack([rim[0], rim[1], top]), col)


def _hut(cv: Canvas, x: float, z: float, color: tuple) -> None:
    cv.box((x, 0, z), (0.9, 1.25, 0.9), (246, 244, 236))
    for i in range(3):  # painted stripes on the front
        sx = x - 0.45 + 0.15 + i * 0.3
        cv.face(_front(sx - 0.07, sx + 0.07, 0.02, 1.23, z - 0.455), color)
    cv.face(np.float32([[x - 0.52, 1.25, z - 0.52], [x + 0.52, 1.25, z - 0.52], [x + 0.52, 1.25, z + 0.52],
                        [x - 0.52, 1.25, z + 0.52]])[::-1], (200, 80, 70))
    cv.box((x, 1.25, z), (0.9, 0.3, 0.9), _shade(color, 0.85))


def _snowman(cv: Canvas, x: float, z: float) -> None:
    white = np.float32([240, 244, 250])
    cv.spheres(np.float32([[x, 0.28, z], [x, 0.68, z], [x, 0.98, z]]), np.float32([0.3, 0.22, 0.16]),
               np.stack([white] * 3))
    cv.spheres(np.float32([[x, 0.98, z - 0.17]]), np.float32([0.03]), np.float32([[240, 120, 40]]))
    cv.box((x, 1.07, z), (0.2, 0.16, 0.2), (30, 30, 34))


# ---- scenes --------------------------------------------------------------------------------------------------

SCENES = ("park", "plaza", "beach", "snow")
AIR = {  # (haze at the horizon, sky at the top) by day; the golden hour warms both
    "park": ((206, 222, 228), (112, 168, 226)),
    "plaza": ((222, 218, 212), (124, 170, 220)),
    "beach": ((210, 230, 242), (90, 160, 230)),
    "snow": ((226, 232, 242), (150, 180, 220)),
}
GOLDEN = ((252, 214, 170), (150, 164, 204))  # a low sun: peach at the horizon, the sky above still blue


@dataclass
class _Plan:
    view: View
    feet: tuple[float, float]  # world X, Z of the group's middle
    half_width: float  # the group's half width (units)
    rng: np.random.Generator
    blobs: list = field(default_factory=list)  # (x, z, height, radius) of what casts a shadow

    def free(self, x: float, z: float, r: float) -> bool:
        """Whether a prop of radius r at (x, z) leaves the figures' spot (and the view of them) clear."""
        fx, fz = self.feet
        if abs(x - fx) < self.half_width + r + 0.35 and fz - 1.2 - r < z < fz + 2.5 + r:
            return False  # the figures' spot, and the ground just behind their heads (a bench there is clutter)
        if z < fz and abs(x - fx) < self.half_width + r + 0.6:
            return False  # nothing between the camera and the figures
        return True

    def spots(self, n: int, zmin: float, zmax: float, r: float, xspread: float) -> list[tuple[float, float]]:
        out = []
        for _ in range(n * 6):
            z = self.rng.uniform(zmin, zmax)
            x = self.rng.uniform(-xspread, xspread) * (0.2 + z * SIZE / 2 / FOCAL)  # across the view at z
            if self.free(x, z, r) and all((x - a) ** 2 + (z - b) ** 2 > (1.6 * r) ** 2 for a, b in out):
                out.append((x, z))
            if len(out) == n:
                break
        return out


def _path_x(z: np.ndarray | float, fx: float, bend: float, phase: float) -> np.ndarray | float:
    return fx + bend * np.sin(z * 0.22 + phase) - bend * np.sin(phase)


def _ground(kind: str, plan: _Plan, x: np.ndarray, z: np.ndarray, rng: np.random.Generator, dry: float,
            bend: float, phase: float) -> np.ndarray:
    fx, fz = plan.feet
    wobble = 0.12 * _sample(_tile(2, 256, 0.08), x * 3, z * 3)
    if kind == "park":
        grass = _grass(x, z, rng, (92, 140, 52), dry)
        px = _path_x(z, fx, bend, phase)
        half = plan.half_width + 0.55
        on = _smooth(half - np.abs(x - px) + wobble, -0.05, 0.05)[..., None]
        gravel = _gravel(x, z, (196, 178, 146))
        kerb = _smooth(np.abs(np.abs(x - px) - wobble - half), 0.0, 0.08)[..., None]
        return (grass + (gravel - grass) * on) * (0.75 + 0.25 * kerb)
    if kind == "plaza":
        stone = _cobbles(x, z, (150, 140, 128))
        band = _smooth(np.abs(np.mod(x - fx + 2.6, 5.2) - 2.6), 0.9, 1.0)[..., None]  # lighter paving rows
        light = _cobbles(x * 1.4 + 0.37, z * 1.4, (196, 186, 168))
        return light + (stone - light) * band
    if kind == "beach":
        sand = _sand(x, z, (226, 202, 156))
        walk = _planks(x, z, (170, 124, 84))
        half = plan.half_width + 0.5
        on = _smooth(half - np.abs(x - fx), -0.02, 0.02)[..., None]
        out = sand + (walk - sand) * on
        sea_z = fz + 9
        wet = _smooth(z + 1.3 * wobble, sea_z - 1.2, sea_z)[..., None]
        out = out + (out * 0.78 - out) * wet
        sea = _smooth(z + 1.3 * wobble, sea_z, sea_z + 0.3)[..., None]
        return out + (_water(x, z, (60, 150, 185)) - out) * sea
    snow = _snow(x, z, (232, 238, 248))
    px = _path_x(z, fx, bend, phase)
    half = plan.half_width + 0.5
    on = _smooth(half - np.abs(x - px) + wobble, -0.15, 0.15)[..., None]
    trodden = _gravel(x, z, (196, 196, 204)) * 0.5 + snow * 0.5
    return snow + (trodden - snow) * on * 0.8


def _props(kind: str, plan: _Plan, golden: bool, bend: float, phase: float) -> list[tuple[float, Callable]]:
    """The scene's props as (depth, draw(canvas)) pairs; their shadows go to ``plan.blobs``."""
    rng = plan.rng
    fx, fz = plan.feet
    items: list[tuple[float, Callable]] = []
    greens = [(62, 112, 44), (84, 128, 50), (48, 96, 50), (104, 140, 58)]

    def add(z: float, fn: Callable, shadow: tuple[float, float, float, float] | None = None) -> None:
        items.append((z, fn))
        if shadow:
            plan.blobs.append(shadow)

    def path(z: float) -> float:
        return float(_path_x(z, fx, bend, phase))

    if kind in ("park", "snow"):
        side = 1 if rng.uniform() < 0.5 else -1
        bz = fz + 2.0
        bx = path(bz) + side * (plan.half_width + 1.3)
        if kind == "park":
            add(bz, lambda c: _bench(c, bx, bz), (bx, bz, 0.3, 0.35))
        else:
            add(bz, lambda c: _snowman(c, bx, bz), (bx, bz, 0.9, 0.28))
        for i, zz in enumerate(np.arange(fz + 1.0, fz + 16, 4.5)):
            for s in (-1, 1):
                lx, lz = path(float(zz)) + s * (plan.half_width + 0.85), float(zz)
                if plan.free(lx, lz, 0.6) and (i + (s > 0)) % 2 == 0:
                    add(lz, lambda c, lx=lx, lz=lz: _lamp(c, lx, lz, golden), (lx, lz, 1.5, 0.06))
        for x, z in plan.spots(18, fz - 0.5, fz + 18, 0.7, 1.15):
            if abs(x - path(z)) < plan.half_width + 1.0:
                continue
            s = rng.uniform(1.5, 2.4) * (1 + max(0.0, z - fz - 4) * 0.08)
            if kind == "park":
                g = greens[int(rng.integers(0, len(greens)))]
                add(z, lambda c, x=x, z=z, s=s, g=g: _plant(c, "tree", x, z, s, g), (x, z, s * 0.75, s * 0.36))
            else:
                add(z, lambda c, x=x, z=z, s=s: _plant(c, "fir", x, z, s), (x, z, s * 0.45, s * 0.25))
        for x, z in plan.spots(16, fz - 1.8, fz + 10, 0.3, 1.15):
            if abs(x - path(z)) < plan.half_width + 0.8:
                continue
            if kind == "park":
                fl = [0, 1, 2, 3, None][int(rng.integers(0, 5))]
                g = greens[int(rng.integers(0, len(greens)))]
                add(z, lambda c, x=x, z=z, g=g, fl=fl: _shrub(c, x, z, 0.7, g, fl), (x, z, 0.2, 0.3))
            else:
                add(z, lambda c, x=x, z=z: _plant(c, "fir", x, z, 1.0), (x, z, 0.45, 0.25))
        fence_z = fz + 6.5
        fence_color = (236, 236, 228) if kind == "park" else (110, 80, 60)
        add(fence_z, lambda c: _fence(c, fx - 9, path(fence_z) - plan.half_width - 1.0, fence_z, fence_color))
        walls = [(236, 220, 190), (214, 150, 110), (240, 238, 230), (180, 200, 214), (226, 196, 150)]
        roofs = [(160, 60, 48), (74, 74, 88), (130, 84, 60)]
        for i in range(6):
            hx = fx + (i - 2.5) * 3.3 + rng.uniform(-0.4, 0.4)
            hz = fz + 13 + rng.uniform(0, 4)
            wall, roof = walls[int(rng.integers(0, 5))], roofs[int(rng.integers(0, 3))]
            w, h = rng.uniform(1.8, 2.6), rng.uniform(1.4, 2.2)
            if abs(hx - path(hz)) < 1.8:
                continue
            add(hz, lambda c, hx=hx, hz=hz, w=w, h=h, wall=wall, roof=roof: _house(c, hx, hz, w, h, 1.8, wall, roof,
                                                                               kind == "snow"))
    elif kind == "plaza":
        walls = [(226, 190, 140), (210, 120, 90), (236, 226, 206), (150, 170, 180), (220, 200, 120), (190, 110, 100)]
        x = fx - 8.0
        while x < fx + 8.5:
            w, h = rng.uniform(1.6, 2.6), rng.uniform(2.6, 4.2)
            col = walls[int(rng.integers(0, len(walls)))]
            awning = [(200, 60, 60), (40, 110, 170), (40, 130, 90), (230, 170, 40)][int(rng.integers(0, 4))]
            add(fz + 8.5, lambda c, x=x, w=w, h=h, col=col, aw=awning: _facade(c, x + w / 2, fz + 8.5, w, h, col, aw))
            x += w
        for x, z in plan.spots(6, fz - 0.8, fz + 6, 0.5, 1.15):
            g = greens[int(rng.integers(0, len(greens)))]
            fl = [0, 1, None][int(rng.integers(0, 3))]

            def planter(c: Canvas, x: float = x, z: float = z, g: tuple = g, fl: int | None = fl) -> None:
                c.box((x, 0, z), (0.6, 0.35, 0.6), (120, 116, 110))
                _shrub(c, x, z, 0.6, g, fl)
            add(z, planter, (x, z, 0.5, 0.35))
        for x, z in plan.spots(4, fz + 1.0, fz + 7, 0.7, 1.15):
            if rng.uniform() < 0.5:
                add(z, lambda c, x=x, z=z: _lamp(c, x, z, golden), (x, z, 1.5, 0.06))
            else:
                add(z, lambda c, x=x, z=z: _bench(c, x, z, (120, 84, 60)), (x, z, 0.3, 0.35))
        for x, z in plan.spots(3, fz + 2.5, fz + 7.5, 1.0, 1.15):
            col = [(200, 60, 60), (40, 110, 170), (230, 170, 40)][int(rng.integers(0, 3))]

            def cafe(c: Canvas, x: float = x, z: float = z, col: tuple = col) -> None:
                c.cylinder((x, 0, z), 0.34, 0.03, 0.03, (50, 50, 50))
                c.box((x, 0.34, z), (0.4, 0.03, 0.4), (230, 230, 226))
                _parasol(c, x, z, col)
            add(z, cafe, (x, z, 1.1, 0.6))
        for x, z in plan.spots(3, fz + 3, fz + 8, 1.0, 1.15):
            s = rng.uniform(1.8, 2.6)
            g = greens[int(rng.integers(0, len(greens)))]
            add(z, lambda c, x=x, z=z, s=s, g=g: _plant(c, "tree", x, z, s, g), (x, z, s * 0.75, s * 0.36))
    else:  # beach
        colors = [(220, 60, 60), (40, 120, 200), (250, 190, 40), (60, 170, 120), (240, 120, 160)]
        for x, z in plan.spots(9, fz - 0.8, fz + 7.5, 0.7, 1.15):
            col = colors[int(rng.integers(0, len(colors)))]
            if abs(x - fx) < plan.half_width + 0.9:
                continue
            add(z, lambda c, x=x, z=z, col=col: _parasol(c, x, z, col), (x, z, 1.1, 0.6))
        for i in range(7):
            hx = fx + (i - 3) * 1.7 + rng.uniform(-0.2, 0.2)
            col = colors[int(rng.integers(0, len(colors)))]
            if abs(hx - fx) < plan.half_width + 1.0:
                continue
            add(fz + 5.5, lambda c, hx=hx, col=col: _hut(c, hx, fz + 5.5, col), (hx, fz + 5.5, 1.2, 0.5))
        for x in (fx - plan.half_width - 0.55, fx + plan.half_width + 0.55):
            for zz in np.arange(fz - 2.0, fz + 7.5, 1.5):
                add(float(zz), lambda c, x=x, zz=float(zz): c.box((x, 0, zz), (0.06, 0.35, 0.06), (120, 90, 60)),
                    (x, float(zz), 0.35, 0.04))
            add(fz + 7.3, lambda c, x=x: c.box((x, 0.3, fz + 2.75), (0.04, 0.04, 9.5), (130, 96, 64)))
        for x, z in plan.spots(5, fz + 1, fz + 7, 0.5, 1.15):
            if abs(x - fx) > plan.half_width + 0.9:  # dune grass beside the boardwalk, never on it
                add(z, lambda c, x=x, z=z: _shrub(c, x, z, 0.55, (96, 140, 70)), (x, z, 0.2, 0.3))
    return items


SHADOW_RES = 24  # texels per unit of the shadow map


def _shadow_map(plan: _Plan, sun: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """How shaded each table point is: each prop (x, z, height, radius) casts a soft blob along the sun, drawn on a
    top-down map of the table and looked up for every pixel."""
    fx, fz = plan.feet
    x0, z0, span = fx - 16, fz - 4, 32
    n = span * SHADOW_RES
    m = np.zeros((n, n), np.float32)
    dx, dz = -sun[0] / sun[1], -sun[2] / sun[1]

    def at(px: float, pz: float) -> tuple[int, int]:
        return int((px - x0) * SHADOW_RES), int((pz - z0) * SHADOW_RES)

    for bx, bz, h, r in plan.blobs:
        top = at(bx + dx * h, bz + dz * h)
        cv2.line(m, at(bx, bz), top, 0.85, max(1, int(0.06 * SHADOW_RES)), cv2.LINE_AA)
        cv2.ellipse(m, top, (max(1, int(r * SHADOW_RES * (1 + 0.3 * abs(dx)))), max(1, int(r * SHADOW_RES))), 0, 0,
                    360, 0.8, -1, cv2.LINE_AA)
    m = cv2.GaussianBlur(m, (0, 0), SHADOW_RES * 0.08)
    return cv2.remap(m, ((x - x0) * SHADOW_RES).astype(np.float32), ((z - z0) * SHADOW_RES).astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@budget_cache(maxsize=6)
def stage(seed: int, people: int) -> Stage:
    """The edition's empty diorama, with room for ``people`` figures standing side by side."""
    kind = SCENES[seed % len(SCENES)]
    rng = np.random.default_rng([seed, 24])
    sun_left = (seed // len(SCENES)) % 2 == 0
    golden = (seed // (2 * len(SCENES))) % 2 == 1
    pitch = float(rng.uniform(11, 17))
    # The figures stand a third of the way across, their feet low in the frame, one figure about a third as tall.
    unit = SIZE * (0.34 if people <= 2 else 0.3)
    width = 0.38 * people + 0.1
    if width * unit > 0.8 * SIZE:
        unit = 0.8 * SIZE / width
    side = 1 if rng.uniform() < 0.5 else -1
    sx = SIZE * (0.5 + side * min(0.17, max(0.0, 0.5 - width * unit / SIZE / 2 - 0.07)))
    sy = SIZE * 0.79
    p = np.radians(pitch)
    u, v = (sx - SIZE / 2) / FOCAL, (SIZE / 2 - sy) / FOCAL
    d = np.float32([u, v * np.cos(p) - np.sin(p), v * np.sin(p) + np.cos(p)])
    depth = FOCAL / unit
    t = depth  # the ray's parameter at that depth (d's forward component is 1)
    height = float(t * -d[1])
    view = View(pitch, height)
    feet = (float(t * d[0]), float(t * d[2]))
    plan = _Plan(view, feet, width / 2, rng)
    sun = view.to_world(KEYS[0] if sun_left else KEYS[1])
    sun = sun.copy()
    sun[1] = max(sun[1], 0.55)
    sun /= np.linalg.norm(sun)
    bend, phase = rng.uniform(0.6, 1.6) * side, rng.uniform(0, 2 * np.pi)

    haze, sky = GOLDEN if golden else AIR[kind]
    horizon = SIZE / 2 - FOCAL * np.tan(np.radians(pitch))
    top = int(np.clip(horizon - 2, 0, SIZE - 4)) // 2 * 2  # the table's first row (the sky is above it)
    items = _props(kind, plan, golden, bend, phase)
    # The table at half resolution (its materials are smooth at that scale), its finest grain at full resolution.
    ys, xs = (np.mgrid[top:SIZE:2, 0:SIZE:2] + 0.5).astype(np.float32)
    x, z, ppu = view.ground(xs, ys)
    table = _ground(kind, plan, x, z, rng, 0.15 if golden else 0.0, bend, phase)
    shade = _shadow_map(plan, sun, x, z)[..., None]
    table = table * (1 - 0.5 * shade) + np.float32([10, 18, 40]) * 0.5 * shade
    near = 1 - haze_of(FOCAL / ppu)
    table = table * near[..., None] + np.float32(haze) * (1 - near[..., None])  # far off, the table fades
    table = cv2.resize(table, (SIZE, SIZE - top), interpolation=cv2.INTER_LINEAR)
    x, z = (cv2.resize(a, (SIZE, SIZE - top), interpolation=cv2.INTER_LINEAR) for a in (x, z))
    fine = _sample(_tile(4, 256, 0.45), x * 170, z * 170)
    table *= (1 + 0.07 * fine * cv2.resize(near, (SIZE, SIZE - top)))[..., None]
    up = np.clip((horizon - np.arange(SIZE, dtype=np.float32)) / (0.5 * SIZE), 0, 1) ** 0.7
    ground = np.empty((SIZE, SIZE, 3), np.float32)
    ground[:] = (np.float32(haze)[None] + (np.float32(sky) - np.float32(haze))[None] * up[:, None])[:, None, :]
    below = max(0, int(np.ceil(horizon)))
    ground[below:] = table[below - top:]
    back = Canvas(view, sun, rng, haze, ground)
    back.depth[:] = FAR
    back.depth[below:] = cv2.resize(FOCAL / ppu, (SIZE, SIZE - top), interpolation=cv2.INTER_LINEAR)[below - top:]
    front = Canvas(view, sun, rng, haze)
    cut = feet[1] - 0.25
    for zz, draw in sorted(items, key=lambda it: -it[0]):
        draw(back if zz >= cut else front)
    grade = (1.06, 0.99, 0.88) if golden else (1.02, 1.0, 0.96)
    rgb = np.clip(back.rgb * np.float32(grade), 0, 255).astype(np.uint8)
    layer = np.zeros((SIZE, SIZE, 4), np.uint8)  # the front props, straight alpha, only where there are some
    depth = np.minimum(back.depth, FAR)
    rows, cols = np.nonzero(front.alpha.any(axis=1))[0], np.nonzero(front.alpha.any(axis=0))[0]
    if len(rows):
        box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        a = front.alpha[box]
        layer[box + (slice(0, 3),)] = np.clip(front.rgb[box] * np.float32(grade) / np.maximum(a, 1e-3)[..., None],
                                              0, 255)
        layer[box + (3,)] = a * 255
        depth[box] = np.where(a > 0.5, front.depth[box], depth[box])
    ends, _ = view.project(np.float32([[feet[0], 0, feet[1]],
                                       [feet[0] - sun[0] / sun[1], 0, feet[1] - sun[2] / sun[1]]]))
    step = ends[1] - ends[0]
    return Stage(rgb, layer, (int(sx), int(sy)), float(unit), pitch, sun_left, kind, grade,
                 (float(step[0]), float(step[1])), depth.astype(np.float16))


def cast_shadow(stage: Stage, figures: np.ndarray, at: tuple[int, int], height_px: float) -> np.ndarray:
    """The stage's table with the shadow the figures cast in its sun: their silhouette (coverage, placed at ``at``
    on the stage, ``height_px`` tall for one unit) laid down on the table along the sun from their feet, softer the
    further it falls."""
    mask = np.zeros((SIZE, SIZE), np.float32)
    x0, y0 = at
    h, w = figures.shape
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(SIZE, x0 + w), min(SIZE, y0 + h)
    if sx1 <= sx0 or sy1 <= sy0:
        return stage.back
    mask[sy0:sy1, sx0:sx1] = figures[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
    feet = float(stage.feet[1])
    kx, ky = stage.shadow_step[0] / height_px, stage.shadow_step[1] / height_px
    # a point (x, y) of the figure, (feet - y) px up, falls at (x + kx (feet - y), feet + ky (feet - y))
    m = np.float32([[1, -kx, kx * feet], [0, -ky, feet + ky * feet]])
    shadow = cv2.warpAffine(mask, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    rows, cols = np.nonzero(shadow.any(axis=1))[0], np.nonzero(shadow.any(axis=0))[0]
    if not len(rows):
        return stage.back
    pad = 24  # the softest blur's reach
    r0, r1 = max(0, rows[0] - pad), min(SIZE, rows[-1] + pad + 1)
    c0, c1 = max(0, cols[0] - pad), min(SIZE, cols[-1] + pad + 1)
    part = shadow[r0:r1, c0:c1]
    part = 0.5 * cv2.GaussianBlur(part, (0, 0), 2.0) + 0.5 * cv2.GaussianBlur(part, (0, 0), 7.0)
    dark = (0.5 * np.clip(part, 0, 1))[..., None]
    out = stage.back.copy()
    out[r0:r1, c0:c1] = (out[r0:r1, c0:c1] * (1 - dark) + np.float32([12, 20, 44]) * dark).astype(np.uint8)
    return out



def tilt_shift(img: np.ndarray, sharp_from: float, sharp_to: float, strength: float = 1.0,
               defocus: np.ndarray | None = None) -> np.ndarray:
    """Blur growing above ``sharp_from`` and below ``sharp_to`` (fractions of the height): a tilt-shift lens.
    The blur's radius grows smoothly with the distance from the sharp band, up to ~17 px (×``strength``) per 1024
    px at the far edges. ``defocus`` (optional, px per 1024, per pixel) blurs what lies off the focal plane too:
    a pixel gets the larger of the two."""
    h, w = img.shape[:2]
    unit = max(h, w) / 1024
    base = (1.8, 4.0, 8.5, 17.0)
    sigmas = [s * unit * strength for s in base]
    src = img.astype(np.float32)
    levels = [src]
    small = cv2.resize(src, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    for s in sigmas:
        if s < 4:
            levels.append(cv2.GaussianBlur(src, (0, 0), s))
        else:
            levels.append(cv2.resize(cv2.GaussianBlur(small, (0, 0), s / 4), (w, h), interpolation=cv2.INTER_LINEAR))
    yc = (np.arange(h, dtype=np.float32) + 0.5) / h
    away = np.maximum(0.0, np.maximum(sharp_from - yc, yc - sharp_to))
    reach = np.where(yc > sharp_to, 0.22, 0.3)  # the near side goes soft sooner, like a lens tilted towards it
    t = (np.clip(away / reach, 0, 1) ** 0.85 * (len(levels) - 1)).astype(np.float32)
    out = np.zeros_like(src)
    if defocus is None:
        for k, level in enumerate(levels):
            wk = np.clip(1 - np.abs(t - k), 0, 1)
            rows = np.nonzero(wk > 0)[0]
            if len(rows):
                out[rows] += level[rows] * wk[rows, None, None]
        return np.clip(out, 0, 255).astype(np.uint8)
    index = np.interp(defocus.astype(np.float32) / strength, (0.0, *base), np.arange(len(levels))).astype(np.float32)
    t = np.maximum(t[:, None], index)
    for k, level in enumerate(levels):  # each level weighs in where t is within one of k (OpenCV: a few ms each)
        wk = 1 - cv2.absdiff(t, (float(k), 0.0, 0.0, 0.0))
        np.maximum(wk, 0, out=wk)
        rows = np.nonzero(wk.max(axis=1) > 0)[0]
        if len(rows):
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            cv2.accumulateProduct(level[r0:r1], cv2.merge([wk[r0:r1]] * 3), out[r0:r1])
    return np.clip(out, 0, 255).astype(np.uint8)


def defocus(stage: Stage, figures: np.ndarray, at: tuple[int, int], aperture: float = 14.0) -> np.ndarray:
    """How out of focus each pixel of the stage is (blur px per 1024) with the lens focused on the figures: a thin
    lens's circle of confusion, ``aperture`` × |1 − focus / depth|, softened at the edges between depths and nil on
    the figures themselves (``figures``: their coverage, placed at ``at``)."""
    focus = FOCAL / stage.unit
    depth = stage.depth.astype(np.float32)
    coc = aperture * np.abs(1 - focus / np.maximum(depth, 1e-3))
    coc = cv2.GaussianBlur(coc, (0, 0), 2.5)
    x0, y0 = at
    h, w = figures.shape
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(SIZE, x0 + w), min(SIZE, y0 + h)
    if sx1 > sx0 and sy1 > sy0:
        part = coc[sy0:sy1, sx0:sx1]
        part *= 1 - np.clip(figures[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] * 2, 0, 1)
    return coc
