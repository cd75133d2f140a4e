"""Painted anime restyle (2025's biggest trend): cel-shaded flat tones and ink lines on the person, the background
painted into a summer sky with soft clouds, warm light and a gentle bloom."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic import tiers
from minime.core.engines.classic.cutout import cel_shade, ink_lines
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import Color, crop_cover_array, hex_color
from minime.core.memo import budget_cache

W, H = 1024, 1280


def anime(look: Look) -> Image.Image:
    """The photo as a frame of a painted anime film."""
    focus = look.face_center()
    # A group too wide for the portrait frame is cut out and rearranged to fill it (see ``tiers``), sky above.
    group = tiers.arrange(look, (W, H), 230, H - 40) if look.person_found and not look.fits((W, H)) else None
    photo = group.rgb if group else crop_cover_array(look.source, (W, H), focus=focus)
    flat = cel_shade(photo, levels=5)
    look.progress(0.4)
    # (The compositing runs in 8 bits with OpenCV's per-pixel blends: a few ms each instead of float passes.)
    lines = ink_lines(photo) * 0.85
    person = cv2.blendLinear(flat, _solid((52, 30, 40)), 1 - lines, lines)
    if look.person_found:
        mask8 = (look.subject.mask * 255).astype(np.uint8)
        m = group.alpha if group else crop_cover_array(Image.fromarray(mask8), (W, H),
                                                       focus=focus).astype(np.float32) / 255
        alpha = cv2.GaussianBlur(m, (0, 0), 1.5)
        sky = _sky(hex_color(look.palette.get("sky_top", "#3f8fe0")), hex_color(look.palette.get("sky_bottom",
                                                                                                 "#bfe6ff")),
                   look.params.seed % 4)
        # The old background shows through faintly, painted, so the place still reads.
        # (blurred at a quarter of the size: the same soft wash for a tenth of the cost)
        painted_bg = cv2.resize(cv2.GaussianBlur(cv2.resize(flat, (W // 4, H // 4), interpolation=cv2.INTER_AREA),
                                                 (0, 0), 1.5), (W, H), interpolation=cv2.INTER_LINEAR)
        if group:  # the sky alone but near the people, where the place fades in behind them
            small = cv2.resize(group.alpha, (W // 8, H // 8), interpolation=cv2.INTER_AREA)  # (wide blur, 1/8 size)
            place = 0.22 * cv2.resize(cv2.GaussianBlur(small, (0, 0), 5), (W, H), interpolation=cv2.INTER_LINEAR)
            background = cv2.blendLinear(sky, painted_bg, 1 - place, place)
        else:
            background = cv2.addWeighted(sky, 0.78, painted_bg, 0.22, 0)
        out = cv2.blendLinear(background, person, 1 - alpha, alpha)
        # A thin warm rim where the person meets the sky (backlight).
        edge = np.clip(alpha - cv2.erode(alpha, np.ones((7, 7), np.uint8)), 0, 1) * 0.55
        out = cv2.blendLinear(out, _solid((255, 236, 200)), 1 - edge, edge)
    else:
        out = person
    look.progress(0.7)
    # Warm afternoon light and bloom on the highlights.
    bright = cv2.min(cv2.subtract(out, (190, 190, 190, 0)), (65, 65, 65, 0))
    small = cv2.resize(bright, (W // 8, H // 8), interpolation=cv2.INTER_AREA)
    out = cv2.scaleAdd(cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (W, H)), 0.8, out)
    return Image.fromarray(cv2.LUT(out, _WARM))


_WARM = np.clip(np.arange(256, dtype=np.float32)[:, None] * np.array([1.03, 1.0, 0.96], np.float32), 0, 255
                ).astype(np.uint8)[:, None, :]  # the warm afternoon tint, one table per channel


@budget_cache(maxsize=4)
def _solid(color: Color) -> np.ndarray:
    return np.full((H, W, 3), color, np.uint8)


@budget_cache(maxsize=8)
def _sky(top: Color, bottom: Color, variant: int) -> np.ndarray:
    """A summer sky: a blue gradient and painted cumulus clouds (flat white tops, lilac-grey shade beneath)."""
    t = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    sky = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    sky = np.broadcast_to(sky, (H, W, 3)).copy()
    rng = np.random.default_rng(40 + variant)
    cloud = np.zeros((H // 4, W // 4), np.float32)
    for _ in range(26):
        cx, cy = rng.uniform(-20, W // 4 + 20), rng.uniform(H // 4 * 0.35, H // 4 * 0.95)
        r = rng.uniform(10, 34)
        cv2.circle(cloud, (int(cx), int(cy)), int(r), 1.0, -1)
        for _ in range(4):
            cv2.circle(cloud, (int(cx + rng.uniform(-1.6, 1.6) * r), int(cy + rng.uniform(-0.3, 0.5) * r)),
                       int(r * rng.uniform(0.5, 0.9)), 1.0, -1)
    cloud = cv2.resize(cv2.GaussianBlur(cloud, (0, 0), 1.2), (W, H), interpolation=cv2.INTER_CUBIC)
    shade = np.clip(cv2.GaussianBlur(cloud, (0, 0), 10) - np.roll(cv2.GaussianBlur(cloud, (0, 0), 10), 24, axis=0),
                    0, 1)
    cloud = np.clip(cloud, 0, 1)[..., None]
    body = np.array([255, 255, 255], np.float32) - shade[..., None] * np.array([70, 60, 30], np.float32)
    return np.clip(sky * (1 - cloud) + body * cloud, 0, 255).astype(np.uint8)
