"""Renderers for the 3D figure, measured on the same figure (the astronaut's) on this machine: Embree ray casting
(embreex, what figure3d uses), a NumPy z-buffer rasteriser written here for the comparison, and Mitsuba 3 when it is
installed (it is not a dependency). All install from PyPI alone and run without OpenGL; pyrender/moderngl need an
OpenGL context (none here: no EGL, no OSMesa). Blender's bpy wheel was not tried (hundreds of MB).

    python bench/figure3d_renderers.py

Prints ms per 1024² still (median of 3) and what each gives: the rasteriser gives visibility only (shadows need a
second pass from the light, occlusion more), ray casting gives visibility, a shadow ray per pixel and sub-pixel
rays at the silhouette in the same run.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PIL import Image
from skimage import data as skdata

from minime.core.domain import RenderParams
from minime.core.engines.classic import LOW_RES_FACE_PX
from minime.core.engines.classic.figure3d import build, still
from minime.core.engines.classic.figure3d.render import LIGHTS, camera_for, scene_of
from minime.core.engines.classic.look import Look
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

SIZE = 1024


def _figure():
    photo = Image.fromarray(skdata.astronaut())
    scale = 1024 / max(photo.size)
    source = photo.resize((round(photo.width * scale), round(photo.height * scale)))
    look = Look(source, ThemeCatalog.from_dir(THEMES_DIR, engine="classic").get("figurine"), RenderParams(),
                lambda _f: None, min_face_px=LOW_RES_FACE_PX * scale)
    return build(look)


def rasterise(scene, cam) -> tuple[np.ndarray, np.ndarray]:
    """Visibility by z-buffer in NumPy: every triangle's pixels (small triangles in batches over a fixed window,
    large ones one by one), the nearest fragment per pixel kept. Returns the triangle id and depth per pixel."""
    w, h = cam.size
    rel = scene.vertices - cam.eye
    z = rel @ cam.forward
    sx = rel @ cam.right / z * cam.focal + cam.center[0]
    sy = cam.center[1] - rel @ cam.up / z * cam.focal
    tri = scene.faces
    x, y, d = sx[tri], sy[tri], z[tri]
    x0, y0 = np.floor(x.min(1)).astype(int), np.floor(y.min(1)).astype(int)
    x1, y1 = np.ceil(x.max(1)).astype(int), np.ceil(y.max(1)).astype(int)
    span = np.maximum(x1 - x0, y1 - y0)
    frags_pix, frags_z, frags_id = [], [], []

    def cover(ids, win):
        oy, ox = np.mgrid[0:win, 0:win]
        px = x0[ids, None] + ox.ravel()[None] + 0.5
        py = y0[ids, None] + oy.ravel()[None] + 0.5
        ax, ay, bx, by, cx, cy = (x[ids, 0:1], y[ids, 0:1], x[ids, 1:2], y[ids, 1:2], x[ids, 2:3], y[ids, 2:3])
        den = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
        den = np.where(np.abs(den) < 1e-9, 1e-9, den)
        l0 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / den
        l1 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / den
        l2 = 1 - l0 - l1
        inside = (l0 >= 0) & (l1 >= 0) & (l2 >= 0) & (px >= 0) & (px < w) & (py >= 0) & (py < h)
        depth = l0 * d[ids, 0:1] + l1 * d[ids, 1:2] + l2 * d[ids, 2:3]
        r, c = np.nonzero(inside)
        frags_pix.append((py[r, c].astype(np.int64)) * w + px[r, c].astype(np.int64))
        frags_z.append(depth[r, c])
        frags_id.append(ids[r])

    for win in (4, 8, 16):
        ids = np.nonzero((span < win) & (span >= win // 2 if win > 4 else span < win))[0]
        for start in range(0, len(ids), 20000):
            cover(ids[start:start + 20000], win)
    for i in np.nonzero(span >= 16)[0]:
        cover(np.array([i]), int(span[i]) + 1)
    pix, depth, ids = (np.concatenate(a) for a in (frags_pix, frags_z, frags_id))
    order = np.lexsort((depth, pix))
    pix, depth, ids = pix[order], depth[order], ids[order]
    first = np.ones(len(pix), bool)
    first[1:] = pix[1:] != pix[:-1]
    out_id = np.full(w * h, -1, np.int64)
    out_z = np.full(w * h, np.inf, np.float32)
    out_id[pix[first]] = ids[first]
    out_z[pix[first]] = depth[first]
    return out_id.reshape(h, w), out_z.reshape(h, w)


def embree_primary(scene, cam) -> np.ndarray:
    """Visibility by Embree: one primary ray per pixel."""
    w, h = cam.size
    py, px = np.mgrid[0:h, 0:w].astype(np.float32)
    dirs = cam.rays(px.ravel() + 0.5, py.ravel() + 0.5)
    origins = np.broadcast_to(cam.eye, dirs.shape).astype(np.float32)
    return scene.embree.run(origins, dirs)


def mitsuba_still(scene, cam, spp: int = 4):
    """The same figure through Mitsuba 3 (direct illumination, ``scalar_rgb``: its LLVM variant failed to compile
    its kernels here), if mitsuba is installed: a function that renders it, or None."""
    try:
        import mitsuba as mi
    except ImportError:
        return None
    import tempfile

    import trimesh

    mi.set_variant("scalar_rgb")
    folder = tempfile.mkdtemp(prefix="minime-mitsuba-")
    trimesh.Trimesh(scene.vertices, scene.faces, process=False).export(f"{folder}/figure.ply")
    fov = float(np.degrees(2 * np.arctan(cam.size[1] / 2 / cam.focal)))
    look_at = mi.ScalarTransform4f().look_at(origin=cam.eye.tolist(), target=(cam.eye + cam.forward).tolist(),
                                              up=cam.up.tolist())
    loaded = mi.load_dict({
        "type": "scene", "integrator": {"type": "direct"},
        "sensor": {"type": "perspective", "fov": fov, "fov_axis": "y", "to_world": look_at,
                   "film": {"type": "hdrfilm", "width": cam.size[0], "height": cam.size[1]},
                   "sampler": {"type": "independent", "sample_count": spp}},
        "figure": {"type": "ply", "filename": f"{folder}/figure.ply",
                   "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.6, 0.45, 0.35]}}},
        "key": {"type": "directional", "direction": [0.45, -0.8, -0.5], "irradiance": {"type": "rgb", "value": 2.0}},
        "sky": {"type": "constant", "radiance": {"type": "rgb", "value": 0.4}},
    })
    return lambda: np.asarray(mi.render(loaded, spp=spp))


def _ms(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the table."""
    model = _figure()
    scene = scene_of(model)
    cam = camera_for(scene, (SIZE, SIZE), [0.0], 8.0)[0]
    _ = LIGHTS
    ids, _z = rasterise(scene, cam)
    hits = embree_primary(scene, cam)
    agree = float(((ids >= 0) == (hits.reshape(ids.shape) >= 0)).mean())
    print(f"figure: {len(scene.faces)} triangles; coverage agreement raster vs rays: {agree:.4f}")
    print("| renderer | what | ms per 1024² |")
    print("|---|---|---:|")
    print(f"| NumPy z-buffer rasteriser | visibility only | {_ms(lambda: rasterise(scene, cam)):.0f} |")
    print(f"| Embree (embreex) | visibility only (1 ray/pixel) | {_ms(lambda: embree_primary(scene, cam)):.0f} |")
    print(f"| Embree (embreex), figure3d.still | shaded: shadows, AA edges, floor shadow | "
          f"{_ms(lambda: still(model, (SIZE, SIZE))):.0f} |")
    mitsuba = mitsuba_still(scene, cam)
    if mitsuba is None:
        print("| Mitsuba 3 | not installed here (pip install mitsuba==3.9.1 to include it) | – |")
    else:
        print(f"| Mitsuba 3 scalar_rgb, direct, 4 spp | shaded, one flat colour | {_ms(mitsuba):.0f} |")


if __name__ == "__main__":
    main()
