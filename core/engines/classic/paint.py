"""Drawing helpers for the classic engine: fonts with fallback, fitted text, gradients, shapes, shadows."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from minime.core.engines.classic.text import draw_text
from minime.core.memo import budget_cache
from minime.core.settings import THEMES_DIR

FONTS = THEMES_DIR / "assets" / "fonts"
FALLBACK_FONT = "DejaVuSans-Bold"

Color = tuple[int, int, int]


def hex_color(value: str | Color) -> Color:
    """``"#ff8800"`` or a tuple to an RGB tuple."""
    if isinstance(value, str):
        value = value.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    return tuple(value)[:3]  # type: ignore[return-value]


def mix(a: Color, b: Color, t: float) -> Color:
    """Linear blend of two colours."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


@lru_cache(maxsize=16)
def _coverage(font_name: str) -> frozenset[int]:
    font = TTFont(str(FONTS / f"{font_name}.ttf"), lazy=True)
    return frozenset(font.getBestCmap() or {})


def display_caps(text: str) -> str:
    """Capitals for packaging titles, without changing the spelling ("ß" stays "ß", never "SS")."""
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def font_for(text: str, font_name: str) -> str:
    """The display font if it covers every character of ``text``, else the broad fallback font."""
    needed = {ord(c) for c in text if not c.isspace()}
    return font_name if needed <= _coverage(font_name) else FALLBACK_FONT


@lru_cache(maxsize=48)  # a FreeType face per size (~0.3 MB each): 256 of them held ~80 MB
def font(font_name: str, size: int) -> ImageFont.FreeTypeFont:
    """A font file of themes/assets/fonts at a pixel size."""
    return ImageFont.truetype(str(FONTS / f"{font_name}.ttf"), max(6, size))


def fit_font(text: str, font_name: str, max_w: int, max_h: int, stroke: float = 0.0
             ) -> ImageFont.FreeTypeFont:
    """The largest size of the (fallback-checked) font at which ``text`` fits in max_w × max_h."""
    name = font_for(text, font_name)
    lo, hi = 6, max(8, max_h * 2)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        f = font(name, mid)
        x0, y0, x1, y1 = f.getbbox(text, stroke_width=int(mid * stroke))
        if x1 - x0 <= max_w and y1 - y0 <= max_h:
            lo = mid
        else:
            hi = mid - 1
    return font(name, lo)


def draw_fitted_text(img: Image.Image, box: tuple[int, int, int, int], text: str, font_name: str, fill: Color,
                     *, stroke: float = 0.0, stroke_fill: Color = (0, 0, 0), shadow: Color | None = None,
                     max_size: int | None = None, anchor: str = "mm", max_lines: int = 1) -> int:
    """Draw ``text`` in any script as large as fits inside ``box`` (x0, y0, x1, y1), centred (``anchor="lm"``:
    left-aligned), on two lines when ``max_lines`` allows and that is much larger; returns the size used."""
    return draw_text(img, box, text, font_name, fill, stroke=stroke, stroke_fill=stroke_fill, shadow=shadow,
                     max_size=max_size, anchor=anchor, max_lines=max_lines)


def vertical_gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    """A top-to-bottom gradient (a fresh image; the pixels are computed once per size and colours)."""
    return _vertical_gradient(tuple(size), tuple(top), tuple(bottom)).copy()


@budget_cache(maxsize=64)
def _vertical_gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    column = (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(np.broadcast_to(column[:, None, :], (h, w, 3))), "RGB")


def radial_gradient(size: tuple[int, int], inner: Color, outer: Color, center: tuple[float, float] = (0.5, 0.45),
                    radius: float = 0.75) -> Image.Image:
    """A radial gradient (centre and radius as fractions of the image); a fresh image, computed once."""
    return _radial_gradient(tuple(size), tuple(inner), tuple(outer), tuple(center), radius).copy()


@budget_cache(maxsize=32)
def _radial_gradient(size: tuple[int, int], inner: Color, outer: Color, center: tuple[float, float],
                     radius: float) -> Image.Image:
    t = _radial_distance(size, center, radius)[..., None]
    arr = np.array(inner, np.float32) * (1 - t) + np.array(outer, np.float32) * t
    return Image.fromarray(arr.astype(np.uint8), "RGB")


@budget_cache(maxsize=32)
def _radial_distance(size: tuple[int, int], center: tuple[float, float], radius: float,
                     aspect: float = 1.0) -> np.ndarray:
    w, h = size
    xs = (np.arange(w, dtype=np.float32) / w - center[0]) ** 2
    ys = ((np.arange(h, dtype=np.float32) / h - center[1]) ** 2) * aspect
    return np.clip(np.sqrt(ys[:, None] + xs[None, :]) / radius, 0, 1)


def rounded_mask(size: tuple[int, int], radius: int, scale: int = 3) -> Image.Image:
    """An anti-aliased rounded-rectangle mask (L); a fresh image, drawn once per size."""
    return _rounded_mask(tuple(size), radius, scale).copy()


@budget_cache(maxsize=64)
def _rounded_mask(size: tuple[int, int], radius: int, scale: int) -> Image.Image:
    w, h = size
    big = Image.new("L", (w * scale, h * scale), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * scale - 1, h * scale - 1), radius * scale, fill=255)
    return big.resize((w, h), Image.Resampling.BOX)


def soft_mask(alpha: np.ndarray, blur: float) -> np.ndarray:
    """A Gaussian-blurred copy of a uint8 mask; large blurs run on a downscaled copy (same look, far faster)."""
    factor = max(1, int(blur // 4))
    if factor == 1:
        return cv2.GaussianBlur(alpha, (0, 0), blur)
    h, w = alpha.shape
    small = cv2.resize(alpha, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), blur / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def paste_shadow(canvas: Image.Image, alpha: Image.Image, xy: tuple[int, int], *, blur: float, opacity: float,
                 offset: tuple[int, int] = (0, 0), color: Color = (0, 0, 0)) -> None:
    """Darken ``canvas`` under a blurred copy of ``alpha`` placed at ``xy`` + ``offset``."""
    pad = int(blur * 3)
    padded = np.zeros((alpha.height + 2 * pad, alpha.width + 2 * pad), np.uint8)
    padded[pad:pad + alpha.height, pad:pad + alpha.width] = np.asarray(alpha)
    shade = (soft_mask(padded, blur).astype(np.float32) * opacity).astype(np.uint8)
    canvas.paste(Image.new("RGB", (shade.shape[1], shade.shape[0]), color),
                 (xy[0] + offset[0] - pad, xy[1] + offset[1] - pad), Image.fromarray(shade))


def vignette(img: Image.Image | np.ndarray, strength: float, roundness: float = 1.0) -> Image.Image | np.ndarray:
    """Darken the corners (strength 0..1). Arrays in, arrays out; images in, images out."""
    arr = _arr(img)
    mask = _vignette_mask(arr.shape[1], arr.shape[0], round(strength, 3), roundness)
    return _like(img, cv2.multiply(arr, mask, scale=1 / 255))


def _arr(img: Image.Image | np.ndarray) -> np.ndarray:
    return img if isinstance(img, np.ndarray) else np.asarray(img.convert("RGB"))


def _like(original: Image.Image | np.ndarray, arr: np.ndarray) -> Image.Image | np.ndarray:
    return arr if isinstance(original, np.ndarray) else Image.fromarray(arr, "RGB")


@budget_cache(maxsize=16)
def _vignette_mask(w: int, h: int, strength: float, roundness: float) -> np.ndarray:
    d = _radial_distance((w, h), (0.5, 0.5), 0.5 * np.sqrt(2), roundness)
    factor = (255 * (1.0 - strength * d ** 2.2)).astype(np.uint8)
    return cv2.merge([factor] * 3)


def light_leak(size: tuple[int, int], seed: int, colors: list[Color], strength: float = 0.6) -> np.ndarray:
    """Warm film light leaks: large soft blobs of colour entering from an edge (to be screen-blended)."""
    w, h = size
    sw, sh = max(8, w // 8), max(8, h // 8)
    rng = np.random.default_rng(seed)
    leak = np.zeros((sh, sw, 3), np.float32)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    side = int(rng.integers(0, 4))
    for i, color in enumerate(colors):
        along = rng.uniform(0.1, 0.9)
        cx, cy = [(along, -0.05), (1.05, along), (along, 1.05), (-0.05, along)][side]
        r = rng.uniform(0.25, 0.5) * max(sw, sh) * (1.0 - 0.25 * i)
        blob = np.clip(1.0 - np.sqrt((xx - cx * sw) ** 2 + (yy - cy * sh) ** 2) / r, 0, 1) ** 1.6
        leak += blob[..., None] * np.array(color, np.float32) * strength
    small = np.clip(leak, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def screen(base: Image.Image | np.ndarray, layer: Image.Image | np.ndarray) -> Image.Image | np.ndarray:
    """Screen blend."""
    inv = cv2.multiply(cv2.bitwise_not(_arr(base)), cv2.bitwise_not(_arr(layer)), scale=1 / 255)
    return _like(base, cv2.bitwise_not(inv))


def crop_cover(img: Image.Image, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.4)) -> Image.Image:
    """Scale to cover ``size`` and crop around the focus point (fractions); crops first, resizes once."""
    return Image.fromarray(crop_cover_array(img, size, focus), img.mode)


def crop_cover_array(img: Image.Image, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.4)
                     ) -> np.ndarray:
    """``crop_cover`` returning the pixel array."""
    w, h = size
    scale = max(w / img.width, h / img.height)
    cw, ch = min(img.width, w / scale), min(img.height, h / scale)
    x0 = min(max(0.0, focus[0] * img.width - cw / 2), img.width - cw)
    y0 = min(max(0.0, focus[1] * img.height - ch / 2), img.height - ch)
    arr = np.asarray(img)[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    return cv2.resize(np.ascontiguousarray(arr), (w, h), interpolation=_interpolation(scale))


def _interpolation(scale: float) -> int:
    """Area averaging for strong reductions, bilinear near 1:1 (as good there, and much faster), cubic to enlarge."""
    return cv2.INTER_AREA if scale < 0.6 else cv2.INTER_LINEAR if scale < 1.5 else cv2.INTER_CUBIC


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A fast, good-looking resize (area averaging down, cubic up)."""
    if img.size == tuple(size):
        return img
    ratio = size[0] / img.width
    interp = _interpolation(ratio)
    return Image.fromarray(cv2.resize(np.asarray(img), tuple(size), interpolation=interp), img.mode)


def to_array(img: Image.Image) -> np.ndarray:
    """RGB image to float32 array in [0, 1]."""
    return np.asarray(img.convert("RGB"), np.float32) / 255.0


def from_array(arr: np.ndarray) -> Image.Image:
    """float array in [0, 1] to an RGB image."""
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def curves(img: Image.Image | np.ndarray, points: dict[str, list[tuple[float, float]]]) -> Image.Image | np.ndarray:
    """Per-channel tone curves, like a photo editor's: {"r": [(x, y), ...], "g": ..., "b": ..., "all": ...}."""
    return _like(img, cv2.LUT(_arr(img), _curves_lut(_freeze(points))))


def _freeze(points: dict[str, list[tuple[float, float]]]) -> tuple:
    return tuple(sorted((k, tuple(map(tuple, v))) for k, v in points.items()))


@lru_cache(maxsize=64)
def _curves_lut(points: tuple) -> np.ndarray:
    table = dict(points)
    x = np.arange(256, dtype=np.float32) / 255.0
    if "all" in table:
        xs, ys = zip(*table["all"])
        x = np.interp(x, xs, ys)
    channels = []
    for ch in "rgb":
        c = x
        if ch in table:
            xs, ys = zip(*table[ch])
            c = np.interp(x, xs, ys)
        channels.append(c)
    return (np.clip(np.stack(channels, -1), 0, 1) * 255 + 0.5).astype(np.uint8).reshape(256, 1, 3)


def saturate(img: Image.Image | np.ndarray, factor: float) -> Image.Image | np.ndarray:
    """Scale colourfulness around the grey value (1 keeps it)."""
    arr = _arr(img)
    gray = cv2.cvtColor(cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return _like(img, cv2.addWeighted(arr, factor, gray, 1.0 - factor, 0))


def smooth_skin(rgb: np.ndarray, strength: int = 9) -> np.ndarray:
    """Edge-preserving smoothing (toy-like plastic look) on a uint8 RGB array."""
    return cv2.bilateralFilter(rgb, strength, 60, 9)
