"""Accessories drawn for the action figure's slots: simple, shaded toy shapes (RGBA)."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageDraw

from minime.core.engines.classic.paint import Color, mix

S = 4  # supersampling for smooth edges


def _canvas(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw, int, int]:
    w, h = size[0] * S, size[1] * S
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    return img, ImageDraw.Draw(img), w, h


def _done(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img.resize(size, Image.Resampling.LANCZOS)


def phone(size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    img, d, w, h = _canvas(size)
    pw = min(w * 0.42, h * 0.5)
    x0, y0, x1, y1 = (w - pw) / 2, h * 0.04, (w + pw) / 2, h * 0.96
    d.rounded_rectangle((x0, y0, x1, y1), pw * 0.16, fill=(*ink, 255))
    d.rounded_rectangle((x0 + pw * 0.07, y0 + pw * 0.12, x1 - pw * 0.07, y1 - pw * 0.12), pw * 0.09,
                        fill=(*mix(accent, (255, 255, 255), 0.3), 255))
    for i in range(3):
        yy = y0 + (y1 - y0) * (0.28 + i * 0.17)
        d.rounded_rectangle((x0 + pw * 0.2, yy, x1 - pw * 0.2, yy + (y1 - y0) * 0.09), pw * 0.04,
                            fill=(*mix(accent, ink, 0.5), 255))
    d.line((x0 + pw * 0.14, y0 + pw * 0.2, x0 + pw * 0.14, y1 - pw * 0.4), fill=(255, 255, 255, 140), width=S * 3)
    return _done(img, size)


def mug(size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    img, d, w, h = _canvas(size)
    mw = min(w * 0.55, h * 0.7)
    x0, y0, x1, y1 = (w - mw) / 2 - mw * 0.1, h * 0.2, (w + mw) / 2 - mw * 0.1, h * 0.9
    d.ellipse((x1 - mw * 0.2, y0 + mw * 0.12, x1 + mw * 0.32, y0 + mw * 0.62), outline=(*accent, 255),
              width=int(mw * 0.09))
    d.rounded_rectangle((x0, y0, x1, y1), mw * 0.12, fill=(*accent, 255))
    d.ellipse((x0, y0 - mw * 0.08, x1, y0 + mw * 0.1), fill=(*mix(accent, (255, 255, 255), 0.3), 255))
    d.ellipse((x0 + mw * 0.06, y0 - mw * 0.05, x1 - mw * 0.06, y0 + mw * 0.07), fill=(90, 55, 30, 255))
    d.line((x0 + mw * 0.14, y0 + mw * 0.2, x0 + mw * 0.14, y1 - mw * 0.15), fill=(255, 255, 255, 150),
           width=int(mw * 0.06))
    for i in range(2):  # steam
        sx = x0 + mw * (0.35 + 0.3 * i)
        d.arc((sx - mw * 0.1, y0 - mw * 0.55, sx + mw * 0.1, y0 - mw * 0.2), 90, 270, fill=(*ink, 120),
              width=int(mw * 0.04))
    return _done(img, size)


def sunglasses(size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    img, d, w, h = _canvas(size)
    gw = min(w * 0.92, h * 1.6)
    x0, cy = (w - gw) / 2, h * 0.5
    lens_w, lens_h = gw * 0.4, gw * 0.26
    for lx in (x0, x0 + gw - lens_w):
        d.rounded_rectangle((lx, cy - lens_h / 2, lx + lens_w, cy + lens_h / 2), lens_h * 0.35,
                            fill=(*mix(ink, (60, 60, 90), 0.3), 255), outline=(*accent, 255), width=int(gw * 0.025))
        d.line((lx + lens_w * 0.2, cy - lens_h * 0.25, lx + lens_w * 0.45, cy - lens_h * 0.25),
               fill=(255, 255, 255, 170), width=int(gw * 0.02))
    d.arc((x0 + lens_w - gw * 0.02, cy - lens_h * 0.55, x0 + gw - lens_w + gw * 0.02, cy + lens_h * 0.2), 200, 340,
          fill=(*accent, 255), width=int(gw * 0.03))
    return _done(img, size)


def camera(size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    img, d, w, h = _canvas(size)
    cw = min(w * 0.8, h * 1.2)
    x0, y0 = (w - cw) / 2, h / 2 - cw * 0.32
    x1, y1 = x0 + cw, h / 2 + cw * 0.32
    d.rounded_rectangle((x0 + cw * 0.12, y0 - cw * 0.1, x0 + cw * 0.38, y0 + cw * 0.05), cw * 0.04,
                        fill=(*ink, 255))
    d.rounded_rectangle((x0, y0, x1, y1), cw * 0.1, fill=(*ink, 255))
    d.rectangle((x0, y0 + cw * 0.12, x1, y0 + cw * 0.22), fill=(*accent, 255))
    r = cw * 0.22
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + cw * 0.04
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(200, 200, 210, 255))
    d.ellipse((cx - r * 0.75, cy - r * 0.75, cx + r * 0.75, cy + r * 0.75), fill=(30, 35, 60, 255))
    d.ellipse((cx - r * 0.45, cy - r * 0.55, cx - r * 0.05, cy - r * 0.15), fill=(255, 255, 255, 170))
    return _done(img, size)


def headphones(size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    img, d, w, h = _canvas(size)
    hw = min(w * 0.75, h * 0.9)
    x0, y0 = (w - hw) / 2, h * 0.1
    d.arc((x0, y0, x0 + hw, y0 + hw), 180, 360, fill=(*ink, 255), width=int(hw * 0.08))
    for ex in (x0 - hw * 0.04, x0 + hw - hw * 0.2):
        d.rounded_rectangle((ex, y0 + hw * 0.42, ex + hw * 0.24, y0 + hw * 0.85), hw * 0.08, fill=(*accent, 255),
                            outline=(*ink, 255), width=int(hw * 0.03))
    return _done(img, size)


DRAWINGS: dict[str, Callable[[tuple[int, int], Color, Color], Image.Image]] = {
    "phone": phone, "mug": mug, "sunglasses": sunglasses, "camera": camera, "headphones": headphones,
}


def draw(item: str, size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    """An accessory by name (unknown names draw a phone)."""
    return DRAWINGS.get(item, phone)(size, accent, ink)
