"""Painted anime restyle (2025's biggest trend): cel-shaded flat tones and ink lines on the person, the face drawn
(faceart.py), the photo's own surroundings painted behind them with a painted sky where the photo has sky, the
edition's light (afternoon, golden hour, dusk, morning) and a gentle bloom."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic.faceart import toon
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import Color, hex_color, mix
from minime.core.memo import budget_cache

W, H = 1024, 1280
WIDE = (1280, 800)  # a film frame for a group too wide for the portrait one


LIGHTS = (  # the edition's light: (tint per channel, sky top, sky bottom, rim colour)
    ((1.03, 1.0, 0.96), None, None, (255, 236, 200)),  # summer afternoon (the palette's own sky)
    ((1.08, 0.98, 0.88), (246, 140, 92), (255, 214, 150), (255, 214, 150)),  # golden hour
    ((1.02, 0.94, 1.06), (86, 70, 160), (250, 160, 170), (255, 190, 220)),  # dusk
    ((0.96, 1.0, 1.05), (120, 180, 235), (232, 244, 255), (235, 248, 255)),  # a clear morning
)


def anime(look: Look) -> Image.Image:
    """The photo as a frame of a painted anime film: the people cel-shaded with drawn faces, their own surroundings
    painted behind them (a painted sky only where the photo has sky). A group too wide for the portrait frame gets
    a wide film frame, everyone whole in their own place."""
    seed = look.params.seed
    tint, sky_top, sky_bottom, rim = LIGHTS[seed % len(LIGHTS)]
    size = WIDE if len(look.faces) > 1 and look.person_found and not look.fits((W, H)) else (W, H)
    w, h = size
    # (``frame``: the edition also picks a closer or wider shot, framed further left or right.)
    photo = look.frame(size)
    faces = look.faces_in(size, look.frame_window(size))
    m = look.frame(size, (look.subject.mask * 255).astype(np.uint8)).astype(np.float32) / 255 \
        if look.person_found else None
    flat, lines = toon(photo, faces, levels=5, person=m)
    look.progress(0.4)
    # (The compositing runs in 8 bits with OpenCV's per-pixel blends: a few ms each instead of float passes.)
    lines = lines * 0.85
    person = cv2.blendLinear(flat, _solid((52, 30, 40), size), 1 - lines, lines)
    top = hex_color(look.palette.get("sky_top", "#3f8fe0")) if sky_top is None else sky_top
    bottom = hex_color(look.palette.get("sky_bottom", "#bfe6ff")) if sky_bottom is None else sky_bottom
    if m is not None:
        alpha = cv2.GaussianBlur(m, (0, 0), 1.5)
        sky = _sky(top, bottom, seed // len(LIGHTS) % 4, size)
        background = _painted_place(photo, m, sky)
        # The edition's light washes over the place behind the people (a colour script: warm, dusk, morning).
        wash = _wash(top, bottom, size)
        background = cv2.addWeighted(background, 0.62, wash, 0.38, 0)
        out = cv2.blendLinear(background, person, 1 - alpha, alpha)
        # A thin rim of the light where the person meets the background (backlight).
        edge = np.clip(alpha - cv2.erode(alpha, np.ones((7, 7), np.uint8)), 0, 1) * 0.5
        out = cv2.blendLinear(out, _solid(rim, size), 1 - edge, edge)
    else:
        out = person
    look.progress(0.7)
    # Warm afternoon light and bloom on the highlights.
    bright = cv2.min(cv2.subtract(out, (190, 190, 190, 0)), (65, 65, 65, 0))
    small = cv2.resize(bright, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    out = cv2.scaleAdd(cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), size), 0.8, out)
    return Image.fromarray(cv2.LUT(out, _tint(tint)))


@budget_cache(maxsize=8)
def _wash(top: Color, bottom: Color, size: tuple[int, int]) -> np.ndarray:
    """The light's colour over the picture: the sky's colours from top to bottom, paler below."""
    t = np.linspace(0, 1, size[1], dtype=np.float32)[:, None, None]
    column = np.array(top, np.float32) * (1 - t) + np.array(mix(bottom, (255, 255, 255), 0.2), np.float32) * t
    return np.ascontiguousarray(np.broadcast_to(column, (size[1], size[0], 3)).astype(np.uint8))


@lru_cache(maxsize=8)
def _tint(factors: tuple[float, float, float]) -> np.ndarray:
    """The light's tint, one table per channel."""
    return np.clip(np.arange(256, dtype=np.float32)[:, None] * np.array(factors, np.float32), 0, 255
                   ).astype(np.uint8)[:, None, :]


def _painted_place(photo: np.ndarray, people: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """The photo's own surroundings as a background painting: edge-preserving smoothing and flat colour regions
    (smoothed at a quarter of the size, as soft as a painted backdrop behind the drawn people), and the painted
    sky only where the photo shows sky."""
    h, w = photo.shape[:2]
    q = (w // 4, h // 4)
    small = cv2.resize(photo, q, interpolation=cv2.INTER_AREA)
    person = cv2.resize(people, q, interpolation=cv2.INTER_AREA)
    painted = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=30, sigma_r=0.35)
    where = _sky_in(small, person)
    # (Drawn up smoothly first, then flattened into colour regions at full size: clean edges, no stair steps.)
    hsv = cv2.cvtColor(cv2.resize(painted, (w, h), interpolation=cv2.INTER_LINEAR), cv2.COLOR_RGB2HSV)
    hsv[..., 2] = cv2.LUT(hsv[..., 2], _FLAT_V)
    hsv[..., 1] = cv2.LUT(hsv[..., 1], _RICH_S)
    up = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    sky_w = cv2.resize(where, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(sky, up, sky_w, 1 - sky_w)


_FLAT_V = np.clip(np.round((np.arange(256) / 255) ** 0.9 * 7) / 7 * 240 + 14, 0, 255).astype(np.uint8)
_RICH_S = np.clip(np.arange(256) * 1.2, 0, 255).astype(np.uint8)


def _sky_in(small: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Where the photo shows sky (float32 0..1 at ``small``'s size): smooth, bright, blue or overcast-white areas
    that reach the top edge and are not the person. Indoors (a wall, a window blind, an office) there is none."""
    h, w = small.shape[:2]
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.float32)
    hue, sat, val = hsv[..., 0], hsv[..., 1] / 255, hsv[..., 2] / 255
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    texture = cv2.GaussianBlur(np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3)), (0, 0), 2)
    blue = (hue > 90) & (hue < 130) & (sat > 0.18) & (val > 0.45)
    overcast = (sat < 0.12) & (val > 0.8)
    candidate = ((blue | overcast) & (texture < 6) & (person < 0.3)).astype(np.uint8)
    candidate[int(h * 0.65):] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
    touching = [i for i in range(1, count)
                if stats[i, cv2.CC_STAT_TOP] == 0 and stats[i, cv2.CC_STAT_AREA] > 0.02 * h * w]
    sky = np.isin(labels, touching).astype(np.float32)
    return cv2.GaussianBlur(sky, (0, 0), 1.5)


@budget_cache(maxsize=8)
def _solid(color: Color, size: tuple[int, int]) -> np.ndarray:
    return np.full((size[1], size[0], 3), color, np.uint8)


@budget_cache(maxsize=8)
def _sky(top: Color, bottom: Color, variant: int, size: tuple[int, int]) -> np.ndarray:
    """A summer sky: a blue gradient and painted cumulus clouds (flat white tops, lilac-grey shade beneath)."""
    W, H = size  # noqa: N806 (the picture's size, as everywhere in this module)
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
