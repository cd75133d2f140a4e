"""A miniature diorama drawn on the CPU: a tabletop park or town square seen from above, model-railway style.

The scene depends only on the edition (seed) and is cached; the miniature look stands the person's toy figure in it
and blurs it like a tilt-shift photo.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.paint import Color, mix, soft_mask, vertical_gradient
from minime.core.memo import budget_cache

SIZE = 1024
HORIZON = 0.3  # the far edge of the table, as a fraction of the height

SCENES = (
    {"sky": ((142, 196, 240), (222, 238, 250)), "ground": (96, 160, 64), "path": (214, 196, 160), "houses": True},
    {"sky": ((250, 190, 150), (255, 232, 200)), "ground": (118, 168, 70), "path": (200, 200, 196), "houses": True},
    {"sky": ((120, 180, 235), (214, 236, 250)), "ground": (232, 212, 160), "path": (84, 170, 210), "houses": False},
)


def _depth(y: float) -> float:
    """How near a point of the table at height ``y`` (pixels) is: 0 at the horizon, 1 at the bottom."""
    return float(np.clip((y / SIZE - HORIZON) / (1 - HORIZON), 0, 1))


@budget_cache(maxsize=8)
def scene(seed: int) -> Image.Image:
    """The empty diorama (RGB, SIZE²) for an edition: which scene and where its trees and houses stand."""
    kind = SCENES[seed % len(SCENES)]
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (SIZE, SIZE))
    horizon = int(SIZE * HORIZON)
    img.paste(vertical_gradient((SIZE, horizon), *kind["sky"]), (0, 0))
    # The ground: a colour ramp (darker far away) with a grainy texture, like flock on a model railway board.
    ground = np.asarray(vertical_gradient((SIZE, SIZE - horizon), mix(kind["ground"], (60, 80, 90), 0.3),
                                          mix(kind["ground"], (255, 255, 210), 0.12)), np.float32)
    noise = rng.normal(0, 1, ((SIZE - horizon) // 3 + 1, SIZE // 3 + 1)).astype(np.float32)
    noise = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 0.8), (SIZE, SIZE - horizon), interpolation=cv2.INTER_LINEAR)
    ground *= (1 + 0.07 * noise)[..., None]
    img.paste(Image.fromarray(np.clip(ground, 0, 255).astype(np.uint8)), (0, horizon))
    d = ImageDraw.Draw(img)
    # A path (or, on the beach, the sea) running to the horizon.
    cx = SIZE * (0.5 + rng.uniform(-0.08, 0.08))
    if kind["houses"]:
        d.polygon([(cx - 30, horizon), (cx + 30, horizon), (cx + 300, SIZE), (cx - 300, SIZE)], fill=kind["path"])
        for j in range(1, 18):  # paving joints, closer together far away
            t = (j / 18) ** 1.8
            y = horizon + t * (SIZE - horizon)
            half = 30 + 270 * t
            d.line((cx - half, y, cx + half, y), fill=mix(kind["path"], (90, 80, 70), 0.35), width=max(1, int(3 * t)))
    else:
        d.rectangle((0, horizon, SIZE, horizon + 90), fill=kind["path"])
        for j in range(6):
            y = horizon + 12 + j * 14
            d.line((0, y, SIZE, y), fill=mix(kind["path"], (255, 255, 255), 0.35), width=2)
    items = []
    if kind["houses"]:
        for i in range(7):  # a row of little houses along the far edge
            x = (i + rng.uniform(0.1, 0.6)) * SIZE / 7
            items.append(("house", x, horizon + rng.uniform(8, 40), rng))
    for _ in range(40):
        y = horizon + (SIZE - horizon) * rng.uniform(0.02, 1.0) ** 1.6
        x = rng.uniform(0, SIZE)
        if abs(x - cx) < 60 + 320 * _depth(y) or (0.38 * SIZE < x < 0.62 * SIZE and y > SIZE * 0.5):
            continue  # keep the path and the figure's spot clear
        items.append(("tree" if kind["houses"] else "parasol", x, y, rng))
    for name, x, y, r in sorted(items, key=lambda it: it[2]):
        (_house if name == "house" else _tree if name == "tree" else _parasol)(img, x, y, _depth(y), r)
    return img


def _shadow(img: Image.Image, x: float, y: float, rx: float, ry: float, strength: int = 90) -> None:
    pad = int(rx + 10)
    m = np.zeros((2 * pad, 2 * pad), np.uint8)
    cv2.ellipse(m, (pad, pad), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, strength, -1)
    img.paste((20, 30, 20), (int(x - pad + rx * 0.3), int(y - pad)), Image.fromarray(soft_mask(m, max(1.5, ry * 0.5))))


def _tree(img: Image.Image, x: float, y: float, depth: float, rng: np.random.Generator) -> None:
    s = 24 + 120 * depth
    green = mix((46, 120, 52), (120, 170, 60), rng.uniform(0, 1))
    _shadow(img, x, y, s * 0.45, s * 0.14)
    d = ImageDraw.Draw(img)
    d.rectangle((x - s * 0.05, y - s * 0.55, x + s * 0.05, y), fill=(96, 64, 40))
    # A model tree: a dark crown, then clumps of foam in lighter greens towards the light (upper left).
    d.ellipse((x - s * 0.45, y - s * 1.45, x + s * 0.45, y - s * 0.45), fill=mix(green, (10, 40, 10), 0.35))
    for _ in range(int(14 + 10 * depth)):
        a, r = rng.uniform(0, 2 * np.pi), s * 0.36 * np.sqrt(rng.uniform(0, 1))
        cxx, cyy = x + np.cos(a) * r, y - s * 0.95 + np.sin(a) * r * 1.05
        rr = s * rng.uniform(0.08, 0.16)
        lit = float(np.clip(0.5 - (np.cos(a) + np.sin(a)) * 0.3 * r / (s * 0.36), 0, 1))
        d.ellipse((cxx - rr, cyy - rr, cxx + rr, cyy + rr), fill=mix(mix(green, (10, 50, 10), 0.3),
                                                                       (200, 240, 140), lit * 0.55))


def _parasol(img: Image.Image, x: float, y: float, depth: float, rng: np.random.Generator) -> None:
    s = 20 + 100 * depth
    color = ((230, 60, 60), (250, 200, 40), (40, 140, 230), (250, 250, 250))[int(rng.integers(0, 4))]
    _shadow(img, x, y, s * 0.5, s * 0.15)
    d = ImageDraw.Draw(img)
    d.line((x, y, x, y - s * 0.9), fill=(240, 240, 240), width=max(1, int(s * 0.04)))
    d.pieslice((x - s * 0.6, y - s * 1.25, x + s * 0.6, y - s * 0.6), 180, 360, fill=color)
    d.pieslice((x - s * 0.6, y - s * 1.25, x + s * 0.6, y - s * 0.6), 180, 240, fill=mix(color, (255, 255, 255), 0.4))


def _house(img: Image.Image, x: float, y: float, depth: float, rng: np.random.Generator) -> None:
    s = 40 + 60 * depth
    wall: Color = ((236, 220, 190), (214, 120, 90), (240, 240, 232), (170, 200, 220))[int(rng.integers(0, 4))]
    roof: Color = ((170, 60, 50), (70, 70, 90), (120, 80, 60))[int(rng.integers(0, 3))]
    w, h = s * rng.uniform(0.9, 1.4), s * rng.uniform(0.7, 1.0)
    d = ImageDraw.Draw(img)
    d.rectangle((x - w / 2, y - h, x + w / 2, y), fill=wall)
    d.rectangle((x + w * 0.15, y - h, x + w / 2, y), fill=mix(wall, (0, 0, 0), 0.18))
    d.polygon([(x - w / 2 - 4, y - h), (x + w / 2 + 4, y - h), (x + w * 0.15, y - h - s * 0.55)], fill=roof)
    for i in range(2):
        wx = x - w * 0.35 + i * w * 0.3
        d.rectangle((wx, y - h * 0.7, wx + w * 0.14, y - h * 0.4), fill=(70, 110, 150))
    d.rectangle((x - w * 0.06, y - h * 0.45, x + w * 0.06, y), fill=(110, 70, 50))


def tilt_shift(img: np.ndarray, sharp_from: float, sharp_to: float) -> np.ndarray:
    """Blur growing above ``sharp_from`` and below ``sharp_to`` (fractions of the height): a tilt-shift lens."""
    h, w = img.shape[:2]
    levels, small = [img], img
    for _ in range(3):
        small = cv2.pyrDown(small)
        levels.append(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    out = np.empty_like(img)
    band = 16
    for y0 in range(0, h, band):
        y1 = min(h, y0 + band)
        yc = (y0 + y1) / 2 / h
        away = max(0.0, sharp_from - yc, yc - sharp_to)
        t = float(np.clip(away / 0.2, 0, 1)) ** 0.8 * 3.0
        lo = min(2, int(t))
        frac = t - lo
        out[y0:y1] = cv2.addWeighted(levels[lo][y0:y1], 1 - frac, levels[lo + 1][y0:y1], frac, 0)
    return out
