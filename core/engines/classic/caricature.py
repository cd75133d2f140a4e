"""Caricature of you and your job: a big head with gently exaggerated features on a small body, the job on a ribbon
and the hobbies as badges around (``/caricature Ada | nurse, running``), on a bright sunburst."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.cutout import cel_shade, die_cut, head_box, name_and_things, person
from minime.core.engines.classic.figure import FigureStyle, render_figure
from minime.core.engines.classic.figure_set import render_group
from minime.core.engines.classic.look import Look, fit_into
from minime.core.engines.classic.paint import Color, display_caps, draw_fitted_text, hex_color, mix, paste_shadow
from minime.core.memo import budget_cache

W, H = 1024, 1280


def caricature(look: Look) -> Image.Image:
    """Big head, small body, job and hobbies."""
    name, things = name_and_things(look, look.theme.package.get("default_name", ""))
    bg, accent, ink = (hex_color(look.palette.get(k, d)) for k, d in (("bg", "#ffb703"), ("accent", "#fb5607"),
                                                                      ("ink", "#1d1b3a")))
    canvas = _burst(bg, mix(bg, (255, 255, 255), 0.35)).copy().convert("RGBA")
    look.progress(0.3)
    cx = W // 2
    if look.person_found:
        _caricature_figure(canvas, look)
        look.progress(0.6)
        head = body = None
    else:
        head = _big_head(look)
        body = _small_body(look)
    look.progress(0.6)
    body_top = 640
    if body is not None:
        body = die_cut(body, 6)
        canvas_shadow = body.getchannel("A")
        paste_shadow(canvas, canvas_shadow, (cx - body.width // 2, body_top), blur=10, opacity=0.3, offset=(10, 12))
        canvas.alpha_composite(body, (cx - body.width // 2, body_top))
    if head is not None:
        head = die_cut(head, 8)
        hx, hy = cx - head.width // 2, min(body_top + 70, 1040) - head.height
        hy = max(hy, 150)
        paste_shadow(canvas, head.getchannel("A"), (hx, hy), blur=12, opacity=0.35, offset=(12, 14))
        canvas.alpha_composite(head, (hx, hy))
    if name:
        draw_fitted_text(canvas, (60, 30, W - 60, 150), display_caps(name), "luckiest-guy", (255, 255, 255),
                         stroke=0.09, stroke_fill=ink, shadow=mix(ink, (0, 0, 0), 0.3), max_size=130)
    if things:
        _ribbon(canvas, things[0], accent, ink)
        for i, hobby in enumerate(things[1:]):
            side = -1 if i % 2 == 0 else 1
            _badge(canvas, (cx + side * 380, 420 + (i // 2) * 260), hobby, accent if i % 2 else ink,
                   (255, 255, 255), look.params.seed + i)
    return canvas.convert("RGB")


def _caricature_figure(canvas: Image.Image, look: Look) -> None:
    """The toy look's sculpted figure with caricature proportions (a head 1.6× its size on the same body), outlined
    like a drawing, standing in the middle of the poster."""
    style = FigureStyle(base="none", head_scale=1.6, saturation=1.15, gloss=0.6)
    if len(look.subject.faces) > 1:  # a group: everyone as a big-headed figure, side by side (two rows if many)
        figure = render_group(np.asarray(look.source), look.subject.mask, list(look.subject.faces), look.params.seed,
                              height=900, max_width=940, style=style)
    else:
        figure = render_figure(np.asarray(look.source), look.subject.mask, look.face, look.params.seed, height=900,
                               style=style, max_width=700)
    box = figure.getbbox()
    figure = figure.crop(box) if box else figure
    if len(look.subject.faces) > 1:  # a group's row of figures filled out to the poster's width
        figure = fit_into(figure, 940, 900)
    figure = die_cut(figure, 8)
    x, y = (W - figure.width) // 2, max(150, 1090 - figure.height)
    paste_shadow(canvas, figure.getchannel("A"), (x, y), blur=12, opacity=0.35, offset=(12, 14))
    canvas.alpha_composite(figure, (x, y))


def _big_head(look: Look) -> Image.Image:
    """The head (face box widened to the hair) enlarged, painted a touch, with the centre of the face bulged."""
    box = head_box(look, below=0.45, side=0.55, above=0.7)
    head = person(look, 640, 620, box=box)
    arr = np.asarray(head).copy()
    rgb = cel_shade(np.ascontiguousarray(arr[..., :3]), levels=9)
    rgb = cv2.addWeighted(rgb, 0.55, arr[..., :3], 0.45, 0)
    arr[..., :3] = rgb
    if look.face:
        h, w = arr.shape[:2]
        arr = _bulge(arr, (w / 2, h * 0.55), min(w, h) * 0.38, 0.28)
    return Image.fromarray(arr, "RGBA")


def _bulge(arr: np.ndarray, center: tuple[float, float], radius: float, amount: float) -> np.ndarray:
    """Magnify the middle of the face (eyes, nose, smile), the caricaturist's first move."""
    h, w = arr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - center[0], yy - center[1]
    r = np.sqrt(dx ** 2 + dy ** 2) / radius
    f = np.where(r < 1, 1 - amount * (1 - r ** 2) ** 2, 1.0).astype(np.float32)
    return cv2.remap(arr, center[0] + dx * f, center[1] + dy * f, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _small_body(look: Look) -> Image.Image | None:
    """The body below the chin, shrunk (a caricature's body is a third of its head)."""
    if not look.face or not look.person_found:
        return None
    x, y, w, h = look.face
    box = (0, int(y + h * 1.05), look.source.width, look.source.height)
    if box[3] - box[1] < h * 0.6:
        return None
    return person(look, 360, 420, box=box)


@budget_cache(maxsize=8)
def _burst(a: Color, b: Color) -> Image.Image:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    angle = np.arctan2(yy - H * 0.45, xx - W * 0.5)
    stripes = cv2.GaussianBlur((np.sin(angle * 16) > 0).astype(np.float32), (0, 0), 1.0)[..., None]
    arr = np.array(a, np.float32) * (1 - stripes) + np.array(b, np.float32) * stripes
    d = np.sqrt(((xx - W / 2) / W) ** 2 + ((yy - H * 0.45) / H) ** 2)[..., None]
    return Image.fromarray(np.clip(arr * (1.05 - 0.45 * d), 0, 255).astype(np.uint8))


def _ribbon(canvas: Image.Image, text: str, color: Color, ink: Color) -> None:
    """A banner across the bottom with the job."""
    y0, y1 = 1110, 1230
    d = ImageDraw.Draw(canvas)
    dark = mix(color, (0, 0, 0), 0.35)
    d.polygon([(40, y0 + 20), (140, y0 + 20), (140, y1 + 20), (40, y1 + 20), (80, (y0 + y1) // 2 + 20)], fill=dark)
    d.polygon([(W - 40, y0 + 20), (W - 140, y0 + 20), (W - 140, y1 + 20), (W - 40, y1 + 20),
               (W - 80, (y0 + y1) // 2 + 20)], fill=dark)
    d.rectangle((110, y0, W - 110, y1), fill=color, outline=ink, width=5)
    draw_fitted_text(canvas, (150, y0 + 12, W - 150, y1 - 12), display_caps(text), "luckiest-guy", (255, 255, 255),
                     stroke=0.06, stroke_fill=ink)


def _badge(canvas: Image.Image, center: tuple[int, int], text: str, color: Color, fill: Color, seed: int) -> None:
    """A round badge with a hobby on it, tilted."""
    r = 112
    layer = Image.new("RGBA", (2 * r + 20, 2 * r + 20), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    d.ellipse((10, 10, 10 + 2 * r, 10 + 2 * r), fill=(*fill, 255))
    d.ellipse((20, 20, 2 * r, 2 * r), fill=(*color, 255))
    for i in range(12):
        a = i * math.pi / 6
        d.ellipse((r + 10 + (r - 18) * math.cos(a) - 4, r + 10 + (r - 18) * math.sin(a) - 4,
                   r + 10 + (r - 18) * math.cos(a) + 4, r + 10 + (r - 18) * math.sin(a) + 4), fill=(*fill, 255))
    draw_fitted_text(layer, (46, r - 30, 2 * r - 26, r + 50), display_caps(text), "luckiest-guy", fill)
    layer = layer.rotate((seed % 5 - 2) * 6, expand=True, resample=Image.Resampling.BICUBIC)
    x, y = center[0] - layer.width // 2, center[1] - layer.height // 2
    x = min(max(x, -20), W - layer.width + 20)
    paste_shadow(canvas, layer.getchannel("A"), (x, y), blur=8, opacity=0.35, offset=(6, 8))
    canvas.alpha_composite(layer, (x, y))
