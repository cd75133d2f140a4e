"""Caricature of you and your job: a big head with gently exaggerated features on a small body, the job on a ribbon
and the hobbies as badges around (``/caricature Ada | nurse, running``), on a bright sunburst."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import accessories, figure
from minime.core.engines.classic.cutout import name_and_things
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import Color, display_caps, draw_fitted_text, hex_color, mix, paste_shadow
from minime.core.memo import budget_cache

W, H = 1024, 1280


FEET_Y = 1090  # where the figure (and its props) stand on the poster
PROP = 170  # a prop's size


def caricature(look: Look) -> Image.Image:
    """A bobblehead of the person (everyone in a group photo) dressed for the job, its props at the feet, the name
    above, the job on a ribbon and the hobbies as badges."""
    _, things = name_and_things(look)
    name = look.name(look.theme.package.get("default_name", ""))  # drawn: "bigger name" scales it
    bg, accent, ink = (hex_color(look.palette.get(k, d)) for k, d in (("bg", "#ffb703"), ("accent", "#fb5607"),
                                                                      ("ink", "#1d1b3a")))
    canvas = _burst(bg, mix(bg, (255, 255, 255), 0.35)).copy().convert("RGBA")
    look.progress(0.3)
    job = things[0] if things else None
    toy = figure.model(look)  # figure3d dresses a caricature for the job (the first of the things)
    yaw, light = figure.camera(look.params.seed)
    if toy is None:  # no figure to be had: the photo as a tilted print in the middle
        shown = figure.framed_photo(look, 700, 820).rotate((look.params.seed % 5 - 2) * 3, expand=True,
                                                            resample=Image.Resampling.BICUBIC)
    else:
        shown = figure.shot(toy, 760 if toy.people == 1 else 960, FEET_Y - 170, yaw=yaw, light=light)
    look.progress(0.6)
    x, y = (W - shown.width) // 2, FEET_Y - shown.height
    paste_shadow(canvas, shown.getchannel("A"), (x, y), blur=16, opacity=0.25, offset=(0, -4))
    canvas.alpha_composite(shown, (x, y))
    if toy is not None and job:
        left, right = figure.width_of(shown)
        _props(canvas, job, x + right, accent, ink)
    if name:
        name_h = int(np.clip(116 * look.params.name_scale, 50, 170))
        draw_fitted_text(canvas, (60, 90 - name_h // 2, W - 60, 90 + name_h // 2), display_caps(name), "luckiest-guy",
                         (255, 255, 255), stroke=0.09, stroke_fill=ink, shadow=mix(ink, (0, 0, 0), 0.3), max_lines=2)
    if things:
        _ribbon(canvas, things[0], accent, ink)
        for i, hobby in enumerate(things[1:]):
            side = -1 if i % 2 == 0 else 1
            _badge(canvas, (W // 2 + side * 380, 420 + (i // 2) * 260), hobby, accent if i % 2 else ink,
                   (255, 255, 255), look.params.seed + i)
    return canvas.convert("RGB")


def _props(canvas: Image.Image, job: str, beside: int, accent: Color, ink: Color) -> None:
    """The job's tool (a stethoscope for a nurse, a laptop for a developer) as a moulded prop standing on the floor
    beside the figure (right of ``beside``), on the side the badges leave free."""
    prop = accessories.draw(accessories.prop_for(job), (PROP, PROP), accent, ink)
    x = min(W - PROP - 30, beside + 10)
    y = FEET_Y - PROP + 10
    paste_shadow(canvas, prop.getchannel("A"), (x, y), blur=8, opacity=0.3, offset=(8, 10))
    canvas.alpha_composite(prop, (x, y))


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
