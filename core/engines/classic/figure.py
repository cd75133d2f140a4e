"""The person as a collectible toy: a sculpted bust on a pedestal or a standing figure on a clear acrylic base.

Everything is derived on the CPU from the photo, the person's matte and the face box: the silhouette is shaped like a
sculpt (a bust's rounded chest, no flat cuts), the head is enlarged a little for toy proportions, colours are pressed
into a few flat plastic tones (the face keeps its features), and a light model built from an inflated height field of
the silhouette and an ellipsoid head adds diffuse shading, specular highlights, a rim light and ambient occlusion.

Other looks build on :func:`render_figure` (one person) and :func:`render_group` (several people on one base).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.paint import Color, mix, soft_mask

Box = tuple[int, int, int, int]  # x, y, w, h

BUST, STANDING = "bust", "standing"
PEDESTAL, ACRYLIC = "pedestal", "acrylic"


@dataclass(frozen=True)
class FigureStyle:
    """How the toy is finished: the stand's colour, the kind of base, how glossy and how flat the paint is."""

    base: str = PEDESTAL  # "pedestal" (a sculpted stand), "acrylic" (a round clear disc) or "none"
    base_color: Color = (43, 43, 58)
    gloss: float = 1.0
    tones: int = 7  # flat paint colours (the face keeps more of the photo so the person stays recognisable)
    head_scale: float | None = None  # toy proportions; None picks 1.12 for a bust, 1.3 for a standing figure
    shoulders: float = 1.75  # a bust's half width, in face widths (narrower in a group, so each figure is bigger)
    saturation: float = 1.25


DEFAULT_STYLE = FigureStyle()


def figure_kind(mask: np.ndarray, face: Box | None) -> str:
    """``standing`` when the photo shows the body well below the face (full-length), else ``bust``."""
    if face is None:
        return BUST
    ys = np.nonzero((mask > 0.5).any(axis=1))[0]
    if len(ys) == 0:
        return BUST
    _, fy, _, fh = face
    return STANDING if (ys[-1] - fy) > 5.2 * fh else BUST


def render_figure(source: np.ndarray, mask: np.ndarray, face: Box | None, seed: int, *, height: int,
                  style: FigureStyle = DEFAULT_STYLE, max_width: int | None = None) -> Image.Image:
    """One person as a toy figure on its base, ``height`` pixels tall (RGBA, transparent around it).

    Args:
        source: the photo, RGB uint8 (H×W×3).
        mask: the person's matte, float32 in [0, 1] (H×W); only the person around ``face`` is used.
        face: the person's face box (x, y, w, h) in source pixels; None sculpts the whole matte.
        seed: picks the light's direction (variations light the figure from another side).
        height: the figure's height including its base.
        style: base, colours and finish.
        max_width: the figure is scaled down to fit this width when it is wider.
    """
    kind = figure_kind(mask, face)
    face = face or _face_guess(mask)
    crop = _sculpt_crop(source, mask, face, kind, style.shoulders)
    base_frac = 0.0 if style.base == "none" else (0.2 if kind == BUST else 0.1)
    body_h = max(16, int(height * (1 - base_frac)))
    scale = body_h / crop.rgb.shape[0]
    scale = min(scale, 2048 / max(crop.rgb.shape[:2]))  # never an enormous canvas (a bad face box, a tiny crop)
    if max_width:
        scale = min(scale, max_width * 0.98 / crop.rgb.shape[1])
    body = _paint(crop, scale, seed, style, kind)
    return _on_base(body, crop.face_scaled(scale), kind, style, seed, base_frac)


def render_group(source: np.ndarray, mask: np.ndarray, faces: list[Box], seed: int, *, height: int,
                 max_width: int, style: FigureStyle = DEFAULT_STYLE) -> Image.Image:
    """Several people as a row of figures sharing one base, every face kept (RGBA)."""
    faces = sorted(faces, key=lambda f: f[0])
    if len(faces) <= 1:
        return render_figure(source, mask, faces[0] if faces else None, seed, height=height, style=style,
                             max_width=max_width)
    parts = split_people(mask, faces)
    solo = FigureStyle(base="none", base_color=style.base_color, gloss=style.gloss, tones=style.tones,
                       head_scale=style.head_scale, saturation=style.saturation, shoulders=1.3)
    ref = max(f[3] for f in faces)
    figures = []
    for i, (face, part) in enumerate(zip(faces, parts)):
        # People further away stay smaller, as in the photo, but never below 70 % of the nearest.
        h = int(height * 0.86 * max(0.7, min(1.0, face[3] / ref)))
        figures.append(render_figure(source, part, face, seed + i, height=h, style=solo))
    overlap = 0.22

    def row_width(row: list[Image.Image]) -> float:
        return sum(f.width for f in row) - overlap * sum(f.width for f in row[1:])

    # One row; or, for three people or more whom one row would shrink a lot, a back row (raised, a little
    # smaller) behind a front row, like a team photo.
    rows = [figures]
    if len(figures) >= 3 and max_width * 0.94 / max(1.0, row_width(figures)) < 0.75:
        rows = [figures[1::2], figures[0::2]]
    lift, back_scale = 0.3, 0.9
    base_h = int(height * 0.14) if style.base != "none" else 0
    row_h = max(f.height for f in figures)
    widths = [row_width(r) * (back_scale if len(rows) == 2 and i == 0 else 1.0) for i, r in enumerate(rows)]
    need_h = row_h * (1 + (lift if len(rows) == 2 else 0)) + base_h
    fit = min(1.0, max_width * 0.94 / max(1.0, max(widths)), height / max(1.0, need_h))
    canvas_w = int(max(widths) * fit * 1.06) + 8
    row_h_fit = int(row_h * fit)
    top_pad = int(row_h * lift * fit) if len(rows) == 2 else 0
    canvas = Image.new("RGBA", (canvas_w, top_pad + row_h_fit + base_h), (0, 0, 0, 0))
    if base_h:
        span = max(widths) * fit
        x0 = (canvas_w - span) / 2
        _draw_base(canvas, (int(x0 - span * 0.03), top_pad + row_h_fit - int(base_h * 0.55), int(x0 + span * 1.03),
                            top_pad + row_h_fit + base_h - 2), style)
    for i, row in enumerate(rows):
        back = len(rows) == 2 and i == 0
        k = fit * (back_scale if back else 1.0)
        scaled = [f.resize((max(1, int(f.width * k)), max(1, int(f.height * k))), Image.Resampling.LANCZOS)
                  if k != 1.0 else f for f in row]
        x = (canvas_w - row_width(scaled)) / 2
        floor = top_pad + row_h_fit - (int(row_h_fit * lift * 0.8) if back else 0)
        placed = []
        for f in scaled:
            placed.append((f, int(x), floor - f.height + (int(base_h * 0.05) if base_h else 0)))
            x += f.width * (1 - overlap)
        # Smaller (further away) first, so nearer people overlap the others.
        for f, fx, fy in sorted(placed, key=lambda p: p[0].height):
            if not back:
                _contact_shadow(canvas, fx + f.width // 2, fy + f.height - 4, int(f.width * 0.34))
            canvas.alpha_composite(f, (fx, max(0, fy)))
    return canvas


def split_people(mask: np.ndarray, faces: list[Box]) -> list[np.ndarray]:
    """The matte divided between the faces: each pixel goes to the face nearest to it (sideways distance counts
    most, so arms and shoulders follow the person below the face)."""
    h, w = mask.shape
    small = max(1, max(h, w) // 256)
    ys, xs = np.mgrid[0:h:small, 0:w:small].astype(np.float32)
    best = np.full(xs.shape, np.inf, np.float32)
    owner = np.zeros(xs.shape, np.int32)
    for i, (fx, fy, fw, fh) in enumerate(faces):
        cx, cy = fx + fw / 2, fy + fh / 2
        d = ((xs - cx) / max(fw, 1)) ** 2 + (np.maximum(0, cy - ys) / max(fh, 1)) ** 2 * 0.5 \
            + (np.maximum(0, ys - cy) / max(fh, 1)) ** 2 * 0.05
        closer = d < best
        best[closer], owner[closer] = d[closer], i
    owner = cv2.resize(owner.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return [np.where(owner == i, mask, 0.0).astype(np.float32) for i in range(len(faces))]


# ---- framing ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Crop:
    rgb: np.ndarray  # uint8, the sculpt's frame of the photo (padded where it leaves the photo)
    alpha: np.ndarray  # float32, the sculpted silhouette in that frame
    face: tuple[float, float, float, float]  # face box in the frame

    def face_scaled(self, scale: float) -> tuple[float, float, float, float]:
        return tuple(v * scale for v in self.face)  # type: ignore[return-value]


def _face_guess(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask > 0.5)
    if len(xs) < 10:
        h, w = mask.shape
        return int(w * 0.4), int(h * 0.2), int(w * 0.2), int(h * 0.25)
    x0, x1, y0 = xs.min(), xs.max(), ys.min()
    fw = max(8, int((x1 - x0) * 0.32))
    return int((x0 + x1) / 2 - fw / 2), int(y0 + fw * 0.3), fw, int(fw * 1.2)


def _sculpt_crop(source: np.ndarray, mask: np.ndarray, face: Box, kind: str, shoulders: float = 1.75) -> _Crop:
    h, w = mask.shape
    fx, fy, fw, fh = face
    cx = fx + fw / 2
    person = _person_only(mask, face)
    rows = np.nonzero((person > 0.5).any(axis=1))[0]
    top = min(fy - 0.75 * fh, float(rows[0]) if len(rows) else fy - 0.75 * fh)
    if kind == STANDING:
        cols = np.nonzero((person > 0.5).any(axis=0))[0]
        x0, x1 = float(cols[0]), float(cols[-1])
        bottom = float(rows[-1]) + 2
        half = max(cx - x0, x1 - cx) + 0.1 * fw
        box = (cx - half, top - 0.08 * fh, cx + half, bottom + 2)
        envelope = None
    else:
        last = float(rows[-1]) if len(rows) else fy + 2 * fh
        shoulders = fy + fh * 1.45
        chest = min(fy + fh * 3.1, last - 0.04 * fh)
        # As wide as the shoulders, but closing inside the photo (no side cut flat where the photo ends).
        band = person[int(min(h - 1, shoulders)):int(min(h, chest + 1))]
        cols = np.nonzero((band > 0.5).any(axis=0))[0] if band.size else np.array([])
        widest = shoulders * fw
        reach = min(cx - cols[0], cols[-1] - cx) if len(cols) else widest
        half = float(np.clip(min(widest, reach * 0.97 if reach > 0.6 * fw else widest), 0.6 * fw, widest))
        box = (cx - half - 0.05 * fw, top - 0.08 * fh, cx + half + 0.05 * fw, max(chest, fy + fh * 1.2) + 2)
        envelope = (cx, shoulders, half, max(0.25 * fh, chest - shoulders))
    rgb, alpha = _crop_padded(source, person, box)
    ox, oy = box[0], box[1]
    if envelope is not None:
        # The bust's outline: everything above the shoulders, and below them a half ellipse (the rounded chest).
        ecx, ecy, ea, eb = envelope
        inside = np.zeros(alpha.shape, np.uint8)
        top_rows = int(max(0, ecy - oy))
        inside[:top_rows, int(max(0, ecx - ea - ox)):int(max(0, ecx + ea - ox))] = 255
        cv2.ellipse(inside, (int(ecx - ox), int(ecy - oy)), (int(ea), int(eb)), 0, 0, 180, 255, -1)
        alpha = alpha * (soft_mask(inside, max(1.0, fw * 0.02)).astype(np.float32) / 255.0)
    return _Crop(rgb, alpha, (fx - ox, fy - oy, fw, fh))


def _person_only(mask: np.ndarray, face: Box) -> np.ndarray:
    """The matte's part that belongs to the person at ``face``: the face region is always in (where the matte and
    the face disagree, the face wins) and blobs not joined to it (a chair, someone else's arm) are dropped.
    The blobs are found on a quarter-size copy (the same answer, far faster)."""
    fx, fy, fw, fh = face
    h, w = mask.shape
    k = 4
    small = cv2.resize(mask, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    head = np.zeros(small.shape, np.uint8)
    cv2.ellipse(head, (int((fx + fw / 2) / k), int((fy + fh * 0.5) / k)), (max(1, int(fw * 0.5 / k)),
                max(1, int(fh * 0.62 / k))), 0, 0, 360, 1, -1)
    binary = ((small > 0.5) | (head > 0)).astype(np.uint8)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    keep_small = head.astype(np.float32)
    if count > 2:
        keep = labels[int(np.clip((fy + fh / 2) / k, 0, small.shape[0] - 1)),
                      int(np.clip((fx + fw / 2) / k, 0, small.shape[1] - 1))]
        if keep:
            keep_small = np.maximum(keep_small, cv2.dilate((labels == keep).astype(np.uint8), np.ones((3, 3),
                                                                                                     np.uint8)))
        else:
            keep_small = np.maximum(keep_small, (binary > 0).astype(np.float32))
    else:
        keep_small = np.maximum(keep_small, (binary > 0).astype(np.float32))
    keep_full = cv2.resize(keep_small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    head_full = cv2.resize(cv2.GaussianBlur(head.astype(np.float32), (0, 0), 1.0), (w, h),
                           interpolation=cv2.INTER_LINEAR)
    return np.maximum(mask * (keep_full > 0.01), head_full).astype(np.float32)


def _crop_padded(rgb: np.ndarray, mask: np.ndarray, box: tuple[float, float, float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    out_rgb = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    out_a = np.zeros((y1 - y0, x1 - x0), np.float32)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out_rgb[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        out_a[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = mask[sy0:sy1, sx0:sx1]
    return out_rgb, out_a


# ---- the plastic --------------------------------------------------------------------------------------------------

def _paint(crop: _Crop, scale: float, seed: int, style: FigureStyle, kind: str) -> Image.Image:
    ch, cw = crop.alpha.shape
    w, h = max(8, round(cw * scale)), max(8, round(ch * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(crop.rgb, (w, h), interpolation=interp)
    alpha = cv2.resize(crop.alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    fx, fy, fw, fh = crop.face_scaled(scale)
    head_c = (fx + fw / 2, fy + fh * 0.45)
    head_r = (fw * 0.62, fh * 0.78)
    s = style.head_scale or (1.12 if kind == BUST else 1.3)
    if s != 1.0:
        map_x, map_y = _bulge(w, h, head_c, max(fw, fh) * (1.25 if kind == BUST else 1.6), s)
        rgb = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
        head_r = (head_r[0] * s, head_r[1] * s)
    # A clean, hard silhouette: no halo of the old background, a hint of anti-aliasing.
    hard = np.clip((alpha - 0.5) * 6 + 0.5, 0, 1)
    hard = cv2.GaussianBlur(hard, (0, 0), 0.7)
    solid = (hard > 0.5).astype(np.uint8)
    rgb = _decontaminate(rgb, solid, max(2, int(min(w, h) * 0.01)))
    face_w = _ellipse_weight(w, h, head_c, (head_r[0] * 0.95, head_r[1] * 0.95))
    albedo = _flat_tones(rgb, solid, face_w, style.tones, style.saturation)
    shaded = _light(albedo, hard, solid, head_c, head_r, seed, style.gloss)
    seam = _seam(hard)
    shaded = shaded * (1 - seam[..., None] * 0.55)
    out = np.dstack([(np.clip(shaded, 0, 1) * 255).astype(np.uint8), (hard * 255).astype(np.uint8)])
    return Image.fromarray(out, "RGBA")


@lru_cache(maxsize=8)
def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return xx, yy


def _bulge(w: int, h: int, center: tuple[float, float], radius: float, s: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """A smooth magnifier (``s`` at the centre, 1 at ``radius``): the toy's bigger head, without seams."""
    xx, yy = _grid(w, h)
    dx, dy = xx - center[0], yy - center[1]
    r = np.sqrt(dx * dx + dy * dy) / max(radius, 1.0)
    shrink = np.where(r < 1, 1 - (1 - 1 / s) * (1 - np.minimum(r, 1)) ** 2, 1.0).astype(np.float32)
    return (center[0] + dx * shrink).astype(np.float32), (center[1] + dy * shrink).astype(np.float32)


def _decontaminate(rgb: np.ndarray, solid: np.ndarray, band: int) -> np.ndarray:
    """Replace the colours at the silhouette's edge (where the old background bleeds in) by the person's own
    colours from just inside it (normalized convolution)."""
    inner = cv2.erode(solid, np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(np.float32)
    if inner.sum() < 50:
        return rgb
    # Blur on a quarter-size copy: the fill is smooth anyway.
    h, w = solid.shape
    sw, sh = max(4, w // 4), max(4, h // 4)
    sigma = max(1.0, band * 1.5 / 4)
    num = cv2.GaussianBlur(cv2.resize(rgb.astype(np.float32) * inner[..., None], (sw, sh),
                                      interpolation=cv2.INTER_AREA), (0, 0), sigma)
    den = cv2.GaussianBlur(cv2.resize(inner, (sw, sh), interpolation=cv2.INTER_AREA), (0, 0), sigma)[..., None]
    fill = cv2.resize(num / np.maximum(den, 1e-3), (w, h), interpolation=cv2.INTER_LINEAR)
    edge = (solid.astype(np.float32) - inner)[..., None]
    return np.where(edge > 0, fill, rgb.astype(np.float32)).clip(0, 255).astype(np.uint8)


def _ellipse_weight(w: int, h: int, c: tuple[float, float], r: tuple[float, float]) -> np.ndarray:
    xx, yy = _grid(w, h)
    d = ((xx - c[0]) / max(r[0], 1)) ** 2 + ((yy - c[1]) / max(r[1], 1)) ** 2
    return np.clip((1.15 - d) / 0.35, 0, 1).astype(np.float32)


def _flat_tones(rgb: np.ndarray, solid: np.ndarray, face_w: np.ndarray, tones: int, saturation: float
                ) -> np.ndarray:
    """Few flat paint colours (k-means in Lab over the figure), with the face keeping the photo's detail."""
    smooth = cv2.bilateralFilter(rgb, 7, 45, 5)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32)
    pts = lab[solid > 0]
    if len(pts) < tones * 4:
        return smooth.astype(np.float32) / 255.0
    step = max(1, len(pts) // 3000)
    sample = np.ascontiguousarray(pts[::step])
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(7)
    _, _, centers = cv2.kmeans(sample, tones, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    flat_lab = _nearest(lab, centers)
    # Keep lightness a little (folds and features read), flatten colour fully outside the face.
    keep_l = 0.35 + 0.55 * face_w
    flat_lab[..., 0] = flat_lab[..., 0] * (1 - keep_l) + lab[..., 0] * keep_l
    keep_ab = (0.15 + 0.75 * face_w)[..., None]
    flat_lab[..., 1:] = flat_lab[..., 1:] * (1 - keep_ab) + lab[..., 1:] * keep_ab
    flat = cv2.cvtColor(np.clip(flat_lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32) / 255.0
    luma = flat @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(luma[..., None] + (flat - luma[..., None]) * saturation, 0, 1)


def _nearest(lab: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each pixel's nearest centre, through a 32³ lookup table of Lab (far faster than per-pixel distances)."""
    grid = (np.arange(32, dtype=np.float32) * 8 + 4)
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    d = -2.0 * cube @ centers.T + (centers * centers).sum(1)[None, :]
    table = centers[np.argmin(d, axis=1)].astype(np.float32)
    idx = (lab.astype(np.uint8) >> 3).astype(np.int32)
    return table[(idx[..., 0] << 10) | (idx[..., 1] << 5) | idx[..., 2]]


def _light(albedo: np.ndarray, hard: np.ndarray, solid: np.ndarray, head_c: tuple[float, float],
           head_r: tuple[float, float], seed: int, gloss: float) -> np.ndarray:
    """Plastic shading: an inflated height field of the silhouette plus an ellipsoid head give normals; a key light
    (its side set by the seed), a specular highlight, a rim light and ambient occlusion shade the paint."""
    h, w = hard.shape
    scale = max(1, int(max(h, w) // 320))  # the light is smooth: compute it on a smaller grid
    sw, sh = max(8, w // scale), max(8, h // scale)
    small = cv2.resize(solid, (sw, sh), interpolation=cv2.INTER_AREA)
    dist = cv2.distanceTransform((small > 0).astype(np.uint8), cv2.DIST_L2, 5)
    reach = max(4.0, float(np.percentile(dist[dist > 0], 90)) if (dist > 0).any() else 4.0)
    body = np.sqrt(np.clip(dist / reach, 0, 1))
    xx, yy = _grid(sw, sh)
    cx, cy, rx, ry = head_c[0] / scale, head_c[1] / scale, head_r[0] / scale, head_r[1] / scale
    q = 1 - ((xx - cx) / max(rx, 1)) ** 2 - ((yy - cy) / max(ry, 1)) ** 2
    head = np.sqrt(np.clip(q, 0, 1)) * 1.1
    height = cv2.GaussianBlur(np.maximum(body * 0.8, head) * (small > 0), (0, 0), 1.5)
    gy, gx = np.gradient(height * max(sw, sh) * 0.09)
    nz = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
    nx, ny = -gx * nz, -gy * nz
    side = -1.0 if seed % 2 == 0 else 1.0
    light = np.array([0.55 * side, -0.6, 0.6], np.float32)
    light /= np.linalg.norm(light)
    ndl = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    half = light + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    ndh = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0, 1)
    spec = ndh ** 60 * 0.75 * gloss + ndh ** 12 * 0.12 * gloss
    rim = np.clip(1 - nz, 0, 1) ** 2.2 * np.clip(-(nx * light[0]) + 0.3, 0, 1) * 0.55 * gloss
    ao = 0.72 + 0.28 * np.clip(cv2.GaussianBlur((small > 0).astype(np.float32), (0, 0), max(2.0, sw * 0.03)) * 1.6
                               - 0.3, 0, 1)
    shade = (0.58 + 0.55 * ndl) * ao
    maps = cv2.resize(np.dstack([shade, spec, rim]).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = albedo * maps[..., :1]
    out = out + maps[..., 1:2] * (1 - out) + maps[..., 2:3] * np.array([0.85, 0.92, 1.0], np.float32)
    return out


def _seam(hard: np.ndarray) -> np.ndarray:
    """A thin darker line just inside the silhouette, like the edge of a painted moulding (not a sticker rim)."""
    inside = (hard > 0.5).astype(np.uint8)
    thin = cv2.erode(inside, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur((inside - thin).astype(np.float32), (0, 0), 0.8)


# ---- bases --------------------------------------------------------------------------------------------------------

def _on_base(body: Image.Image, face: tuple[float, float, float, float], kind: str, style: FigureStyle, seed: int,
             base_frac: float) -> Image.Image:
    bw, bh = body.size
    if style.base == "none" or base_frac == 0:
        return body
    alpha = np.asarray(body.getchannel("A"))
    rows = np.nonzero((alpha > 128).any(axis=1))[0]
    bottom = int(rows[-1]) if len(rows) else bh - 1
    cols = np.nonzero(alpha[max(0, bottom - max(3, bh // 40)):bottom + 1].max(axis=0) > 128)[0]
    foot_w = (int(cols[-1] - cols[0]) if len(cols) else bw // 2)
    total_h = int(round(bh / (1 - base_frac)))
    base_h = total_h - bh
    if kind == BUST:
        disc_w = int(max(foot_w * 0.95, face[2] * 1.9))
    else:
        disc_w = int(max(foot_w * 1.5, face[2] * 2.4, bw * 0.55))
    width = max(bw, disc_w + 8)
    canvas = Image.new("RGBA", (width, bottom + 1 + base_h + 4), (0, 0, 0, 0))
    bx = (width - bw) // 2
    cx = width // 2
    top = bottom + 1
    if kind == BUST:
        # A short stem under the chest, then a round plinth: the bust's rounded bottom sits on the stem.
        stem_w = int(max(disc_w * 0.5, foot_w * 0.55))
        _draw_stem(canvas, cx, top - int(base_h * 0.45), stem_w, int(base_h * 0.7), style.base_color)
        _draw_base(canvas, (cx - disc_w // 2, top + int(base_h * 0.12), cx + disc_w // 2, top + base_h), style)
        canvas.alpha_composite(body, (bx, 0))
    else:
        _draw_base(canvas, (cx - disc_w // 2, top - int(base_h * 0.55), cx + disc_w // 2, top + base_h - 6),
                   style)
        _contact_shadow(canvas, cx, top - int(base_h * 0.05), int(foot_w * 0.7))
        canvas.alpha_composite(body, (bx, 0))
    return canvas


def _contact_shadow(canvas: Image.Image, cx: int, cy: int, half_w: int) -> None:
    half_w = max(6, half_w)
    half_h = max(3, half_w // 5)
    layer = np.zeros((canvas.height, canvas.width), np.uint8)
    cv2.ellipse(layer, (cx, cy), (half_w, half_h), 0, 0, 360, 150, -1)
    shade = soft_mask(layer, max(2.0, half_h * 0.8))
    dark = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    dark.putalpha(Image.fromarray(shade))
    canvas.alpha_composite(dark)


def _draw_stem(canvas: Image.Image, cx: int, y0: int, w: int, h: int, color: Color) -> None:
    stem = Image.new("RGBA", (w, max(2, h)), (0, 0, 0, 0))
    ramp = _cylinder_ramp(w, color)
    arr = np.ascontiguousarray(np.broadcast_to(ramp[None], (max(2, h), w, 4)))
    stem = Image.fromarray(arr, "RGBA")
    mask = Image.new("L", stem.size, 0)
    inset = int(w * 0.08)
    ImageDraw.Draw(mask).polygon([(inset, 0), (w - inset, 0), (w - 1, stem.height - 1), (0, stem.height - 1)],
                                 fill=255)
    stem.putalpha(mask)
    canvas.alpha_composite(stem, (cx - w // 2, y0))


def _cylinder_ramp(w: int, color: Color) -> np.ndarray:
    """One row of a lit cylinder: darker at the sides, a bright band of light left of centre."""
    t = np.linspace(-1, 1, max(2, w), dtype=np.float32)
    shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - t * t, 0, 1))
    band = np.exp(-((t + 0.35) / 0.12) ** 2) * 0.55
    rgb = np.array(color, np.float32)[None] * shade[:, None]
    rgb = rgb + (255 - rgb) * band[:, None]
    return np.dstack([np.clip(rgb, 0, 255).astype(np.uint8)[None], np.full((1, len(t), 1), 255, np.uint8)])[0]


def _draw_base(canvas: Image.Image, box: tuple[int, int, int, int], style: FigureStyle) -> None:
    """A round base seen slightly from above: a glossy plinth in the stand colour or a clear acrylic disc."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w < 8 or h < 6:
        return
    top_h = max(6, int(w * 0.22))
    thick = max(4, h - top_h)
    layer = Image.new("RGBA", (w, top_h + thick), (0, 0, 0, 0))
    clear = style.base == ACRYLIC
    c = (200, 214, 230) if clear else style.base_color
    side = Image.fromarray(np.ascontiguousarray(np.broadcast_to(_cylinder_ramp(w, c)[None],
                                                                (thick + top_h // 2, w, 4))), "RGBA")
    side_mask = Image.new("L", side.size, 0)
    opacity = 110 if clear else 255
    ImageDraw.Draw(side_mask).rectangle((0, 0, w, thick), fill=opacity)
    ImageDraw.Draw(side_mask).ellipse((0, thick - top_h // 2, w - 1, thick + top_h // 2 - 1), fill=opacity)
    side.putalpha(side_mask)
    layer.alpha_composite(side, (0, top_h // 2))
    d = ImageDraw.Draw(layer)
    if clear:  # a round clear acrylic disc: see-through top, bright polished edges
        d.ellipse((0, 0, w - 1, top_h - 1), fill=(235, 245, 255, 80), outline=(255, 255, 255, 230), width=3)
        d.arc((w * 0.06, top_h * 0.12, w * 0.94, top_h * 0.9), 195, 300, fill=(255, 255, 255, 230), width=3)
        d.arc((0, thick, w - 1, thick + top_h - 1), 10, 170, fill=(255, 255, 255, 210), width=2)
    else:
        d.ellipse((0, 0, w - 1, top_h - 1), fill=(*mix(c, (255, 255, 255), 0.22), 255))
        d.ellipse((w * 0.1, top_h * 0.14, w * 0.9, top_h * 0.84), fill=(*mix(c, (255, 255, 255), 0.1), 255))
        d.arc((w * 0.04, top_h * 0.06, w * 0.96, top_h * 0.94), 195, 320, fill=(255, 255, 255, 150), width=3)
    canvas.alpha_composite(layer, (x0, y0))
