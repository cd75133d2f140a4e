"""Rendering a figure on the CPU: Embree ray casting (embreex) and NumPy shading.

Why ray casting: it was the fastest of the renderers measured here that install from PyPI alone (see
bench/figure3d_renderers.py and the README's "The 3D figure"), and it gives shadows and occlusion for the price of
more rays. The look is a PVC collectible under a studio's key, fill and rim lights: wrapped diffuse on skin (a cheap
stand-in for light under the skin), soft highlights, occlusion baked per vertex, a contact shadow on the floor.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic.figure3d.body import tie_half
from minime.core.engines.classic.figure3d.head import remap_points
from minime.core.engines.classic.figure3d.raycast import ray_scene

MATERIALS = ("skin", "hair", "cloth", "shoe", "base")
# per material: specular strength, shininess, wrap, subsurface tint strength, rim strength
_MAT = np.float32([
    [0.10, 24, 0.45, 0.28, 0.55],  # skin: soft sheen, light wrapping round the forms
    [0.32, 56, 0.15, 0.00, 0.25],  # hair: glossy sculpted PVC (a tight highlight; a soft rim keeps dark hair dark)
    [0.16, 18, 0.20, 0.00, 0.50],  # cloth: satin PVC
    [0.40, 60, 0.10, 0.00, 0.50],  # shoes: glossy
    [0.55, 90, 0.05, 0.00, 0.35],  # base: lacquered
])
_SSS = np.float32([0.9, 0.25, 0.12])
FOV_DEG = 26.0


@dataclass(frozen=True)
class Lights:
    """A studio setup in camera space (x right, y up, z towards the camera), colours linear."""

    key: tuple[float, float, float]
    key_color: tuple[float, float, float]
    fill: tuple[float, float, float]
    fill_color: tuple[float, float, float]
    rim: tuple[float, float, float]
    rim_color: tuple[float, float, float]
    sky: tuple[float, float, float]
    ground: tuple[float, float, float]


LIGHTS = (
    Lights((-0.45, 0.8, 0.5), (2.2, 2.05, 1.9), (0.8, 0.15, 0.6), (0.42, 0.45, 0.52), (0.5, 0.5, -0.7),
           (1.6, 1.6, 1.75), (0.42, 0.44, 0.5), (0.22, 0.2, 0.19)),
    Lights((0.5, 0.75, 0.5), (2.2, 2.0, 1.8), (-0.8, 0.2, 0.55), (0.38, 0.42, 0.55), (-0.55, 0.45, -0.7),
           (1.8, 1.5, 1.3), (0.4, 0.42, 0.48), (0.22, 0.2, 0.18)),
    Lights((-0.35, 0.8, 0.5), (2.3, 2.15, 2.0), (0.7, 0.0, 0.7), (0.5, 0.42, 0.38), (0.0, 0.55, -0.85),
           (1.4, 1.6, 2.0), (0.45, 0.45, 0.5), (0.2, 0.2, 0.22)),
)


@dataclass
class Scene:
    """What every render of one figure shares (built once per figure and kept in ``model.cache``)."""

    embree: object
    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    color: np.ndarray  # linear
    uv: np.ndarray
    tex: np.ndarray
    ao: np.ndarray
    face_material: np.ndarray
    face_part: np.ndarray
    texture: np.ndarray  # the photo, linear float32
    base: tuple[float, float, float]  # the plinth's outline: radius x, radius z, superellipse exponent
    vees: list  # (part index, (centre x, y of the point, y of the top, half width at the top, front z, linear colour))
    height: float
    radius: float
    attrs: np.ndarray | None = None  # the per-vertex attributes side by side (one gather per hit)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float32)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LUT_SIZE = 4096
_SRGB_LUT = (lambda c: np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055))(
    np.linspace(0, 1, _LUT_SIZE)).astype(np.float32)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """sRGB encoding through a 4096-entry table (a power per pixel costs more than the rest of the frame)."""
    return _SRGB_LUT[(np.clip(c, 0, 1) * (_LUT_SIZE - 1) + 0.5).astype(np.int32)]


def _tonemap(c: np.ndarray) -> np.ndarray:
    white = 3.0
    return c * (1 + c / (white * white)) / (1 + c)


def _vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = verts[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(verts)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return (vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def scene_of(model) -> Scene:
    """The figure's render scene, built on first use."""
    # One lock per figure (dict.setdefault is atomic): two renders of one figure build its scene once, renders of
    # different figures do not wait for each other.
    with model.cache.setdefault("scene_lock", threading.Lock()):
        scene = model.cache.get("scene")
        if scene is None:
            scene = _build_scene(model)
            model.cache["scene"] = scene
        return scene


def _build_scene(model) -> Scene:
    verts, faces, normals, color, uv, tex, fmat, fpart = [], [], [], [], [], [], [], []
    offset = 0
    base = (1.0, 1.0, 2.0)
    vees = []
    for i, part in enumerate(model.parts):
        if "vee" in part.extras:
            *shape, shirt, tie = part.extras["vee"]
            vees.append((i, (*shape, _srgb_to_linear(np.float32(shirt)),
                             None if tie is None else _srgb_to_linear(np.float32(tie)))))
        n = len(part.vertices)
        verts.append(part.vertices)
        faces.append(part.faces + offset)
        normals.append(_vertex_normals(part.vertices, part.faces))
        color.append(_srgb_to_linear(part.color))
        uv.append(part.uv if part.uv is not None else np.zeros((n, 2), np.float32))
        tex.append(part.tex if part.tex is not None else np.zeros(n, np.float32))
        fmat.append(np.full(len(part.faces), MATERIALS.index(part.material), np.int32))
        fpart.append(np.full(len(part.faces), i, np.int32))
        offset += n
        if part.name == "base":
            x, z = part.vertices[:, 0], part.vertices[:, 2]
            base = (float(np.abs(x).max()), float(np.abs(z).max()), 2.0 if model.people == 1 else 4.0)
    v = np.concatenate(verts).astype(np.float32)
    f = np.concatenate(faces).astype(np.int32)
    embree = ray_scene(v, f)  # Embree, or a NumPy ray caster where embreex has no wheel (raycast.py)
    nrm = np.concatenate(normals)
    texture = _srgb_to_linear(model.texture.astype(np.float32) / 255)
    scene = Scene(embree, v, f, nrm, np.concatenate(color), np.concatenate(uv).astype(np.float32),
                  np.concatenate(tex).astype(np.float32), np.ones(len(v), np.float32), np.concatenate(fmat),
                  np.concatenate(fpart), texture, base, vees, float(v[:, 1].max()),
                  float(np.sqrt((v[:, 0] ** 2 + v[:, 2] ** 2).max())))
    scene.ao = _vertex_occlusion(scene)
    scene.attrs = np.hstack([scene.normals, scene.color, scene.tex[:, None], scene.ao[:, None], scene.uv]
                            ).astype(np.float32)
    return scene


def _hemisphere(n: int, seed: int = 7) -> np.ndarray:
    """``n`` cosine-weighted directions around +Z (a fixed, stratified set)."""
    rng = np.random.default_rng(seed)
    u = (np.arange(n) + rng.random(n)) / n
    phi = 2 * np.pi * ((np.arange(n) * 0.618034) % 1.0)
    r = np.sqrt(u)
    return np.stack([r * np.cos(phi), r * np.sin(phi), np.sqrt(1 - u)], 1).astype(np.float32)


def _vertex_occlusion(scene: Scene, rays: int = 12, reach: float = 0.7) -> np.ndarray:
    """Ambient occlusion per vertex: the share of short rays over the vertex's hemisphere that hit the figure."""
    n = scene.normals
    helper = np.where(np.abs(n[:, :1]) < 0.9, np.float32([[1, 0, 0]]), np.float32([[0, 1, 0]]))
    t = np.cross(n, helper)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    b = np.cross(n, t)
    dirs = _hemisphere(rays)
    origins = scene.vertices + n * 0.004
    # A vertex buried in another part (a thigh inside the hips) sees that part's inside along its normal; it is
    # never seen and must not darken its visible neighbours, so it counts as open.
    res = scene.embree.run(origins, n.copy(), dists=np.full(len(n), 1.0, np.float32), output=1)
    buried = (res["primID"] >= 0) & (np.einsum("ij,ij->i", res["Ng"], n) > 0)
    open_ = np.nonzero(~buried)[0]
    o, nn, tt, bb = origins[open_], n[open_], t[open_], b[open_]
    occluded = np.zeros(len(n), np.float32)
    reach_all = np.full(len(open_), reach, np.float32)
    for d in dirs:
        world = (tt * d[0] + bb * d[1] + nn * d[2]).astype(np.float32)
        occluded[open_] += scene.embree.run(o, world, dists=reach_all.copy(), query="OCCLUDED") != -1
    # Below the floor there is only the floor: the base's underside and anything facing down is darker.
    floor = np.clip(-n[:, 1], 0, 1) * np.clip(1 - scene.vertices[:, 1] / 0.5, 0, 1) * 0.5
    return np.clip(1 - occluded / rays * 0.85 - floor, 0.1, 1).astype(np.float32)


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: its position, its axes (right, up, forward) and its focal length and centre in pixels."""

    eye: np.ndarray
    right: np.ndarray
    up: np.ndarray
    forward: np.ndarray
    focal: float
    center: tuple[float, float]
    size: tuple[int, int]

    def rays(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Unit directions through pixel coordinates."""
        d = (self.forward[None] * self.focal + self.right[None] * (px - self.center[0])[:, None]
             + self.up[None] * (self.center[1] - py)[:, None])
        return (d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.float32)

    def to_world(self, v) -> np.ndarray:
        """A camera-space direction (x right, y up, z towards the camera) in world space."""
        v = np.float32(v)
        w = self.right * v[0] + self.up * v[1] - self.forward * v[2]
        return (w / np.linalg.norm(w)).astype(np.float32)


def _axes(yaw_deg: float, elevation_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    yaw, el = np.radians(yaw_deg), np.radians(elevation_deg)
    back = np.float32([np.sin(yaw) * np.cos(el), np.sin(el), np.cos(yaw) * np.cos(el)])  # towards the camera
    forward = -back
    right = np.cross(forward, np.float32([0, 1, 0]))
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return back, forward.astype(np.float32), right.astype(np.float32), up.astype(np.float32)


def camera_for(scene: Scene, size: tuple[int, int], yaws: list[float], elevation_deg: float, fill: float = 0.9
               ) -> list[Camera]:
    """Cameras at ``yaws`` around the figure, one distance and framing for all, so the figure (and a little floor
    under it) fills ``fill`` of the picture at every angle."""
    w, h = size
    focal = 0.5 * h / np.tan(np.radians(FOV_DEG) / 2)
    target = np.float32([0, scene.height * 0.5, 0])
    pts = scene.vertices[:: max(1, len(scene.vertices) // 4000)]
    # Rough distance first, then the projected extent tells the exact one.
    dist = max(scene.height, 2 * scene.radius) / (2 * np.tan(np.radians(FOV_DEG) / 2)) * 1.2 + scene.radius
    lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
    for _ in range(2):
        lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
        for yaw in yaws:
            back, fwd, right, up = _axes(yaw, elevation_deg)
            rel = pts - (target + back * dist)
            z = rel @ fwd
            xy = np.stack([rel @ right / z, rel @ up / z], 1)
            lo, hi = np.minimum(lo, xy.min(0)), np.maximum(hi, xy.max(0))
        lo[1] -= 0.02 * (hi[1] - lo[1])  # room for the shadow below the base
        need = max((hi[0] - lo[0]) * focal / (fill * w), (hi[1] - lo[1]) * focal / (fill * h))
        dist *= need
    cams = []
    for yaw in yaws:
        back, fwd, right, up = _axes(yaw, elevation_deg)
        mid = (lo + hi) / 2 / need  # the extent's centre at the final distance (the extent scales with 1/dist)
        cams.append(Camera((target + back * dist).astype(np.float32), right, up, fwd, float(focal),
                           (w / 2 - mid[0] * focal, h / 2 + mid[1] * focal), (w, h)))
    return cams


def _sample_texture(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    return remap_points(texture, uv[:, 0], uv[:, 1])


def _shade(scene: Scene, cam: Camera, lights: Lights, origins: np.ndarray, dirs: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trace ``dirs`` from ``origins``: linear colour (black where missed), hit mask and the part hit (-1: none)."""
    n = len(dirs)
    out = np.zeros((n, 3), np.float32)
    res = scene.embree.run(origins, dirs, output=1)
    prim = res["primID"]
    hit = prim >= 0
    part = np.full(n, -1, np.int32)
    if not hit.any():
        return out, hit, part
    idx = np.nonzero(hit)[0]
    p = prim[idx]
    tri = scene.faces[p]
    u, v = res["u"][idx][:, None], res["v"][idx][:, None]
    w0 = 1 - u - v

    # Every vertex attribute in one gather: normal 0:3, colour 3:6, photo weight 6, occlusion 7, photo uv 8:10.
    attrs = scene.attrs
    blend = attrs[tri[:, 0]] * w0 + attrs[tri[:, 1]] * u + attrs[tri[:, 2]] * v
    d = dirs[idx]
    pos = origins[idx] + d * res["tfar"][idx][:, None]
    nrm = blend[:, 0:3]
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
    # Smooth normals can face away at the silhouette: bend them back towards the viewer.
    facing = np.einsum("ij,ij->i", nrm, d)
    nrm = np.where(facing[:, None] > 0, nrm - 1.02 * facing[:, None] * d, nrm)
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
    albedo = blend[:, 3:6]
    tex = blend[:, 6]
    textured = tex > 0.01
    if textured.any():
        uv = blend[textured, 8:10]
        albedo[textured] = (albedo[textured] * (1 - tex[textured, None])
                            + _sample_texture(scene.texture, uv) * tex[textured, None])
    hit_part = scene.face_part[p]
    for index, (cx, y0, y1, half, front, shirt, tie) in scene.vees:
        on = np.nonzero(hit_part == index)[0]
        if len(on):
            q = pos[on]
            width = half * np.clip((q[:, 1] - y0) / (y1 - y0), 0, 1)
            inside = np.clip((width - np.abs(q[:, 0] - cx)) / 0.012, 0, 1) * (q[:, 2] > front)
            albedo[on] = albedo[on] * (1 - inside[:, None]) + shirt * inside[:, None]
            if tie is not None:
                band = np.clip((tie_half(q[:, 1], y0, y1) - np.abs(q[:, 0] - cx)) / 0.008, 0, 1) * (q[:, 2] > front)
                albedo[on] = albedo[on] * (1 - band[:, None]) + tie * band[:, None]
    ao = blend[:, 7]
    mat = _MAT[scene.face_material[p]]
    spec_k, shin, wrap, sss, rim_k = (mat[:, i] for i in range(5))
    view = -d
    key, fill, rim = cam.to_world(lights.key), cam.to_world(lights.fill), cam.to_world(lights.rim)
    # Key light shadow: one ray each towards the light.
    # Key light shadow: three rays towards a softbox (a small disc round the key direction), staggered per pixel,
    # so shadow edges fall off over a penumbra instead of cutting hard across the figure.
    start = (pos + nrm * 0.004).astype(np.float32)
    side = np.cross(key, np.float32([0, 1, 0]))
    side /= max(1e-6, float(np.linalg.norm(side)))
    up = np.cross(side, key)
    turn = (np.arange(len(pos)) % 3)[:, None] * (2 * np.pi / 9)
    lit = np.zeros(len(pos), np.float32)
    for k in range(3):
        angle = turn + k * 2 * np.pi / 3
        towards = key + 0.07 * (np.cos(angle) * side + np.sin(angle) * up)
        towards = (towards / np.linalg.norm(towards, axis=1, keepdims=True)).astype(np.float32)
        lit += scene.embree.run(start, towards, query="OCCLUDED") == -1
    lit /= 3
    nk = nrm @ key
    wrapped = np.clip((nk + wrap) / (1 + wrap), 0, 1)
    lambert = np.clip(nk, 0, 1)
    key_diffuse = wrapped * (0.45 + 0.55 * lit)
    diffuse = key_diffuse[:, None] * np.float32(lights.key_color)
    diffuse += (sss * np.clip(wrapped - lambert, 0, 1))[:, None] * _SSS * np.float32(lights.key_color)
    diffuse += np.clip((nrm @ fill + 0.3) / 1.3, 0, 1)[:, None] * np.float32(lights.fill_color)
    hemi = 0.5 + 0.5 * nrm[:, 1]
    ambient = (np.float32(lights.sky) * hemi[:, None] + np.float32(lights.ground) * (1 - hemi[:, None]))
    diffuse += ambient * ao[:, None]
    diffuse *= (0.55 + 0.45 * ao)[:, None]
    # The photo's face already holds its own light: shade it more gently.
    diffuse = diffuse * (1 - 0.3 * tex[:, None]) + 0.3 * tex[:, None] * (0.7 + 0.4 * diffuse)
    half = key + view
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    spec = spec_k * np.clip(np.einsum("ij,ij->i", nrm, half), 0, 1) ** shin * lit * (shin + 8) / 40
    fresnel = (1 - np.clip(np.einsum("ij,ij->i", nrm, view), 0, 1)) ** 3
    rim_light = rim_k * fresnel * np.clip(nrm @ rim + 0.35, 0, 1)
    color = albedo * diffuse + spec[:, None] * np.float32(lights.key_color) * 0.6
    color += rim_light[:, None] * np.float32(lights.rim_color) * (0.35 + 0.65 * albedo) * ao[:, None]
    color += (0.06 * fresnel * ao)[:, None] * np.float32(lights.sky)
    out[idx] = color
    part[idx] = hit_part
    return out, hit, part


_SUBPIXELS = np.float32([[0.125, 0.375], [0.375, -0.125], [-0.125, -0.375], [-0.375, 0.125]])


def render_rgba(scene: Scene, cam: Camera, lights: Lights) -> tuple[np.ndarray, np.ndarray]:
    """The figure's linear colour (premultiplied) and coverage, and the floor shadow's opacity, at the camera's
    size. Silhouette pixels get four sub-pixel rays (antialiasing)."""
    w, h = cam.size
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    px, py = px.ravel() + 0.5, py.ravel() + 0.5
    origins = np.broadcast_to(cam.eye, (h * w, 3)).astype(np.float32)
    # Where the figure can be: a ray every 4 pixels, grown by two cells; only there is every pixel traced.
    step = 4
    sy, sx = np.mgrid[0:h:step, 0:w:step].astype(np.float32)
    coarse = scene.embree.run(origins[: sx.size], cam.rays(sx.ravel() + step / 2, sy.ravel() + step / 2),
                              query="OCCLUDED").reshape(sx.shape) != -1
    near = cv2.dilate(coarse.astype(np.uint8), np.ones((5, 5), np.uint8))
    near = cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST).ravel() > 0
    color = np.zeros((h * w, 3), np.float32)
    hit = np.zeros(h * w, bool)
    part = np.full(h * w, -1, np.int32)
    sel = np.nonzero(near)[0]
    color[sel], hit[sel], part[sel] = _shade(scene, cam, lights, origins[: len(sel)], cam.rays(px[sel], py[sel]))
    alpha = hit.astype(np.float32)
    ids = part.reshape(h, w).astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    edge = (cv2.dilate(ids, kernel) != cv2.erode(ids, kernel)).ravel()
    e = np.nonzero(edge)[0]
    if len(e):
        acc = np.zeros((len(e), 3), np.float32)
        cov = np.zeros(len(e), np.float32)
        for dx, dy in _SUBPIXELS:
            sub = cam.rays(px[e] + dx, py[e] + dy)
            c, hh, _ = _shade(scene, cam, lights, origins[: len(e)], sub)
            acc += c
            cov += hh
        color[e] = acc / 4
        alpha[e] = cov / 4
    shadow = _floor_shadow(scene, cam, lights, px, py, hit)
    return color.reshape(h, w, 3), np.stack([alpha.reshape(h, w), shadow.reshape(h, w)])


def _floor_shadow(scene: Scene, cam: Camera, lights: Lights, px: np.ndarray, py: np.ndarray, hit: np.ndarray
                  ) -> np.ndarray:
    """The floor's darkening (0..1) where the figure does not cover it: contact shadow round the base and the key
    light's cast shadow, softened. Only the floor within reach of a shadow (its box on screen) is traced."""
    n = len(px)
    shadow = np.zeros(n, np.float32)
    rx, rz, k = scene.base
    ring = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    floor = np.stack([2.6 * rx * np.cos(ring), np.zeros(64), 2.6 * rz * np.sin(ring)], 1).astype(np.float32)
    rel = floor - cam.eye
    depth = rel @ cam.forward
    if (depth <= 0).any():
        box = (0, 0, cam.size[0], cam.size[1])
    else:
        fx = rel @ cam.right / depth * cam.focal + cam.center[0]
        fy = cam.center[1] - rel @ cam.up / depth * cam.focal
        box = (fx.min(), fy.min(), fx.max(), fy.max())
    inside = (px >= box[0]) & (px <= box[2]) & (py >= box[1]) & (py <= box[3]) & ~hit
    idx = np.nonzero(inside)[0]
    rays = cam.rays(px[idx], py[idx])
    down = rays[:, 1] < -1e-4
    idx, rays = idx[down], rays[down]
    t = -cam.eye[1] / rays[:, 1]
    g = cam.eye + rays * t[:, None]
    rx, rz, k = scene.base
    rho = ((np.abs(g[:, 0]) / rx) ** k + (np.abs(g[:, 2]) / rz) ** k) ** (1 / k)
    gap = np.maximum(rho - 1, 0) * min(rx, rz)
    contact = (0.55 * np.exp(-gap / 0.06) + 0.3 * np.exp(-gap / 0.3)) * np.clip(1 - gap / 0.8, 0, 1)
    near = rho < 2.5
    cast = np.zeros(len(idx), np.float32)
    key = cam.to_world(lights.key)
    if key[1] > 0.05 and near.any():
        occl = scene.embree.run(g[near].astype(np.float32), np.broadcast_to(key, g[near].shape).copy(),
                                query="OCCLUDED")
        cast[near] = (occl != -1) * 0.45 * np.clip(2.5 - rho[near], 0, 1)
    shadow[idx] = np.maximum(contact, 0)
    cast_full = np.zeros(n, np.float32)
    cast_full[idx] = cast
    w, h = cam.size
    soft = cv2.GaussianBlur(cast_full.reshape(h, w), (0, 0), max(1.0, h / 170)).ravel()
    # Faded out towards the picture's edges, so no shadow is ever cut off by the frame.
    margin = 0.05 * min(w, h)
    ex = np.minimum(np.arange(w) + 0.5, w - np.arange(w) - 0.5) / margin
    ey = np.minimum(np.arange(h) + 0.5, h - np.arange(h) - 0.5) / margin
    border = (np.clip(ey, 0, 1)[:, None] * np.clip(ex, 0, 1)[None, :]).ravel()
    return np.clip(np.maximum(shadow, soft) * (~hit) * border, 0, 0.85).astype(np.float32)


def still(model, size: tuple[int, int], *, yaw_deg: float = 0.0, elevation_deg: float = 8.0, light: int = 0
          ) -> Image.Image:
    """The figure (with its base) on transparent, its contact shadow in the alpha."""
    scene = scene_of(model)
    lights = LIGHTS[(light + model.options.variation) % len(LIGHTS)]
    cam = camera_for(scene, size, [yaw_deg], elevation_deg)[0]
    color, (alpha, shadow) = render_rgba(scene, cam, lights)
    return to_rgba(color, alpha, shadow)


def to_rgba(color: np.ndarray, alpha: np.ndarray, shadow: np.ndarray) -> Image.Image:
    """Premultiplied linear colour and coverage over a floor shadow, as a straight-alpha sRGB image."""
    a = alpha + (1 - alpha) * shadow
    rgb = _linear_to_srgb(_tonemap(color / np.maximum(alpha, 1e-6)[..., None]))
    rgb = rgb * (alpha / np.maximum(a, 1e-6))[..., None]  # the shadow's own colour is black
    out = np.dstack([rgb * 255, a * 255]).clip(0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


def on_backdrop(color: np.ndarray, alpha: np.ndarray, shadow: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The figure and its shadow over an opaque sRGB backdrop (float 0..1), as uint8 RGB."""
    fig = _linear_to_srgb(_tonemap(color / np.maximum(alpha, 1e-6)[..., None]))
    under = backdrop * (1 - shadow[..., None] * 0.9)
    return (np.clip(fig * alpha[..., None] + under * (1 - alpha[..., None]), 0, 1) * 255).astype(np.uint8)
