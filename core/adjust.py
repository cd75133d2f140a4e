"""Post-processing shared by every engine: colour, tone, sharpness and grain, applied to a render's base image.

A result is always ``finish(base, theme finish + accumulated adjustments)``: refinements are re-applied from the
lossless base, never stacked on an already processed image, so ten refinements in a row stay as sharp as one.
Everything runs on uint8 with lookup tables and OpenCV's saturating arithmetic: a few milliseconds per megapixel.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from minime.core.domain import Adjustments
from minime.core.memo import budget_cache

_X = np.arange(256, dtype=np.float32) / 255.0


def finish(base: Image.Image, adjustments: Adjustments, seed: int = 0) -> Image.Image:
    """Apply the adjustments to ``base`` (RGB) and return a new RGB image."""
    return Image.fromarray(finish_array(base, adjustments, seed), "RGB")


def finish_array(base: Image.Image, adjustments: Adjustments, seed: int = 0) -> np.ndarray:
    """``finish`` as an (H, W, 3) uint8 array, for work that goes on in arrays (the watermark)."""
    a = adjustments
    arr = np.asarray(base.convert("RGB"))
    if a.sharpness > 0:
        blurred = cv2.GaussianBlur(arr, (0, 0), 2.0)
        k = 0.6 * a.sharpness
        arr = cv2.addWeighted(arr, 1 + k, blurred, -k, 0)
    elif a.sharpness < 0:
        arr = cv2.GaussianBlur(arr, (0, 0), 1.2 * -a.sharpness)
    if a.grain < 0:
        # Less grain: a median filter removes fine noise but keeps outlines and lettering.
        arr = cv2.medianBlur(np.ascontiguousarray(arr), 3 if a.grain > -1 else 5)
    if a.warmth or a.brightness or a.contrast:
        arr = cv2.LUT(arr, _tone_lut(round(a.warmth, 3), round(a.brightness, 3), round(a.contrast, 3)))
    saturation = 1.0 + 0.35 * a.saturation + (0.15 * -a.fade if a.fade < 0 else 0.0)
    if abs(saturation - 1.0) > 1e-3:
        gray = cv2.cvtColor(cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        arr = cv2.addWeighted(arr, max(0.0, saturation), gray, 1.0 - max(0.0, saturation), 0)
    if a.fade:
        arr = cv2.LUT(arr, _fade_lut(round(a.fade, 3)))
    if a.grain > 0:
        arr = add_grain(arr, 0.035 * a.grain, seed)
    return np.ascontiguousarray(arr)


@lru_cache(maxsize=64)
def _tone_lut(warmth: float, brightness: float, contrast: float) -> np.ndarray:
    channels = []
    w = 0.09 * warmth
    for gain in (1.0 + w, 1.0 + 0.25 * w, 1.0 - w):
        x = np.clip(_X * gain, 0.0, 1.0)
        if brightness:
            x = x ** (2.0 ** (-0.45 * brightness))
        if contrast:
            x = 0.5 + (x - 0.5) * max(0.2, 1.0 + 0.3 * contrast)
        channels.append(x)
    return _to_lut(channels)


@lru_cache(maxsize=64)
def _fade_lut(fade: float) -> np.ndarray:
    if fade > 0:
        f = min(1.0, 0.18 * fade)
        channels = [f * 0.75 * tint * 0.35 + _X * (1.0 - f * 0.55) for tint in (1.0, 0.96, 0.9)]
    else:
        channels = [(_X - 0.04 * -fade) * (1.0 + 0.06 * -fade)] * 3
    return _to_lut(channels)


def _to_lut(channels: list[np.ndarray]) -> np.ndarray:
    return (np.clip(np.stack(channels, axis=-1), 0, 1) * 255 + 0.5).astype(np.uint8).reshape(256, 1, 3)


@budget_cache(maxsize=4)
def _grain_texture(height: int, width: int) -> np.ndarray:
    """Film grain: noise a little coarser than a pixel (a fixed texture; each render takes a seeded window)."""
    rng = np.random.default_rng(7919)
    coarse = rng.standard_normal((height // 2 + 1, width // 2 + 1), dtype=np.float32)
    noise = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR) * 0.75
    noise += 0.5 * rng.standard_normal((height, width), dtype=np.float32)
    return noise


@budget_cache(maxsize=16)
def _grain_layers(height: int, width: int, strength: int) -> tuple[np.ndarray, np.ndarray]:
    noise = _grain_texture(height, width) * (strength / 1000.0 * 255.0)
    positive = np.clip(noise, 0, 255).astype(np.uint8)
    negative = np.clip(-noise, 0, 255).astype(np.uint8)
    return cv2.merge([positive] * 3), cv2.merge([negative] * 3)


def add_grain(arr: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """Add seeded monochrome film grain to a uint8 RGB array (``amount`` is the noise's std as a fraction)."""
    h, w = arr.shape[:2]
    pad = 64
    positive, negative = _grain_layers(h + pad, w + pad, int(round(amount * 1000)))
    dy, dx = (seed * 7) % pad, (seed * 13) % pad
    return cv2.subtract(cv2.add(arr, positive[dy:dy + h, dx:dx + w]), negative[dy:dy + h, dx:dx + w])
