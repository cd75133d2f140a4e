"""Photo looks: the tilt-shift miniature and Warhol-style pop art."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import crop_cover_array, curves, hex_color, saturate, vignette


def miniature(look: Look) -> Image.Image:
    """Tilt-shift diorama: a sharp band across the face, blur growing above and below, toy-bright colour."""
    src = look.source
    scale = 1024 / max(src.size)
    size = (round(src.width * scale), round(src.height * scale))
    x = cv2.resize(np.asarray(src), size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    x = saturate(curves(x, {"all": [(0, 0.0), (0.25, 0.24), (0.75, 0.84), (1, 1)]}), 1.5)
    h, w = x.shape[:2]
    # Blurred copies from an image pyramid: each level halves the size, then comes back up smoothly.
    levels, small = [x], x
    for _ in range(3):
        small = cv2.pyrDown(small)
        levels.append(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    look.progress(0.5)
    _, fy = look.face_center()
    out = np.empty_like(x)
    band_h = 16
    for y0 in range(0, h, band_h):
        y1 = min(h, y0 + band_h)
        t = float(np.clip((abs((y0 + y1) / 2 / h - fy) - 0.07) / 0.42, 0, 1)) ** 0.9 * 3.0
        lo = min(2, int(t))
        frac = t - lo
        out[y0:y1] = cv2.addWeighted(levels[lo][y0:y1], 1 - frac, levels[lo + 1][y0:y1], frac, 0)
    # Toy-scale light: a gentle top-down brightening, as if lit by a desk lamp.
    out = cv2.multiply(out, _lamp(w, h), scale=1 / 200)
    return Image.fromarray(vignette(out, 0.3), "RGB")


@lru_cache(maxsize=4)
def _lamp(w: int, h: int) -> np.ndarray:
    column = (np.linspace(1.06, 0.94, h, dtype=np.float32) * 200).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, None], (h, w, 3)))


@dataclass(frozen=True)
class _PopShapes:
    """What pop art keeps of a photo: four tone levels, where the dots go, the ink lines and the silhouette."""

    levels: np.ndarray  # uint8 0..3 per pixel
    dots: np.ndarray  # bool: Ben-Day dots over the mid tones
    lines: np.ndarray  # uint8 ink coverage
    alpha: np.ndarray  # uint8 subject coverage
    bg_dots: np.ndarray  # bool: finer dots on the background


def pop_art(look: Look) -> Image.Image:
    """Posterised flat colour, Ben-Day dots and bold outlines; ``grid`` makes the 2×2 Warhol sheet."""
    if (look.params.variant or look.theme.default_variant) == "grid":
        shapes = _pop_shapes(look, 512, dot=7)
        sheet = Image.new("RGB", (1024, 1024))
        for i in range(4):
            tile = _pop_paint(shapes, look.theme.palette(look.params.palette + i))
            sheet.paste(Image.fromarray(tile, "RGB"), ((i % 2) * 512, (i // 2) * 512))
        look.progress(0.75)
        return sheet
    return Image.fromarray(_pop_paint(_pop_shapes(look, 1024, dot=11), look.palette), "RGB")


def _pop_shapes(look: Look, side: int, dot: int) -> _PopShapes:
    focus = look.face_center()
    work = min(side, 512)  # tones and lines are found at 512 px, then drawn at full size
    rgb = crop_cover_array(look.source, (work, work), focus)
    if look.subject.found:
        mask_img = Image.fromarray((look.subject.mask * 255).astype(np.uint8))
        mask = crop_cover_array(mask_img, (work, work), focus)
    else:
        mask = np.full((work, work), 255, np.uint8)
    smooth = cv2.bilateralFilter(cv2.bilateralFilter(rgb, 7, 50, 7), 7, 50, 7)
    gray = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)
    inside = mask > 127
    values = gray[inside] if inside.sum() > 100 else gray.ravel()
    t1, t2, t3 = np.percentile(values, [18, 50, 80])
    levels = np.digitize(gray, [t1, t2, t3]).astype(np.uint8)
    edges = cv2.Canny(gray, 40, 110)
    silhouette = cv2.Canny(mask, 60, 160)
    lines = cv2.dilate(np.maximum(np.where(mask > 76, edges, 0), silhouette), np.ones((2, 2), np.uint8))
    look.progress(0.5)
    if side != work:  # tone boundaries re-found on the smoothly upscaled grey: clean curves, no stair steps
        gray = cv2.resize(gray, (side, side), interpolation=cv2.INTER_CUBIC)
        levels = np.digitize(gray, [t1, t2, t3]).astype(np.uint8)
        lines = cv2.resize(lines, (side, side), interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask, (side, side), interpolation=cv2.INTER_LINEAR)
    lines = cv2.GaussianBlur(lines, (0, 0), 0.7)
    dots_big, dots_small = _dot_screens(side, dot)
    zone = (levels == 2) | ((levels == 3) & (gray < t3 + 12))
    return _PopShapes(levels, dots_big & zone, lines, cv2.GaussianBlur(mask, (0, 0), 1.0), dots_small)


@lru_cache(maxsize=8)
def _dot_screens(side: int, dot: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    u, v = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2)
    cell = dot * 2.2
    du, dv = (u % cell) - cell / 2, (v % cell) - cell / 2
    r2 = du * du + dv * dv
    return r2 < (dot * 0.5) ** 2, r2 < (dot * 0.32) ** 2


def _pop_paint(shapes: _PopShapes, palette: dict) -> np.ndarray:
    bg, shadow, mid, light, ink = (hex_color(palette.get(k, d)) for k, d in (
        ("bg", "#ffde00"), ("shadow", "#e5007e"), ("mid", "#ff7a00"), ("light", "#ffd1e8"), ("ink", "#111111")))
    table = np.array([ink, shadow, mid, light], np.uint8)
    poster = table[shapes.levels]
    poster[shapes.dots] = (poster[shapes.dots].astype(np.uint16) * 200 // 255).astype(np.uint8)
    background = np.empty_like(poster)
    background[:] = bg
    background[shapes.bg_dots] = (np.array(bg, np.uint16) * 225 // 255).astype(np.uint8)
    alpha = cv2.merge([shapes.alpha] * 3)
    out = cv2.add(cv2.multiply(poster, alpha, scale=1 / 255), cv2.multiply(background, cv2.bitwise_not(alpha),
                                                                           scale=1 / 255))
    lines = cv2.merge([shapes.lines] * 3)
    ink_layer = np.empty_like(out)
    ink_layer[:] = ink
    return cv2.add(cv2.multiply(out, cv2.bitwise_not(lines), scale=1 / 255), cv2.multiply(ink_layer, lines,
                                                                                          scale=1 / 255))
