"""The port every hosted image model sits behind: one image edit, one access check."""

from __future__ import annotations

import io
import math
from typing import Protocol

from PIL import Image

ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9")
"""Aspect ratios the hosted models draw (Gemini takes these names; OpenAI's sizes are mapped from them)."""

UPLOAD_SIDE = 1536
"""Longest side of the picture we upload: what the models work at; more only costs bandwidth."""


class ImageModel(Protocol):
    """A provider's image-editing model, reached through its official SDK."""

    service: str
    """Who runs it, for people: "OpenAI", "Google Gemini"."""
    model: str

    async def check_access(self) -> None:
        """Ask the provider whether the key and model work (no image is sent). Raises HostedMisconfigured."""
        ...

    async def edit(self, image: Image.Image, instruction: str, *, aspect: str, seed: int) -> Image.Image:
        """The model's picture: ``image`` edited by ``instruction``, drawn at ``aspect``.

        Raises HostedRefused on a safety refusal, HostedMisconfigured on a rejected key, HostedUnavailable when the
        service stayed busy or silent after the retries.
        """
        ...

    async def close(self) -> None:
        """Close the HTTP connections."""
        ...


def closest_aspect(width: int, height: int) -> str:
    """The supported aspect ratio nearest to ``width``×``height``."""
    ratio = math.log(width / height)
    return min(ASPECTS, key=lambda a: abs(math.log(_ratio(a)) - ratio))


def _ratio(aspect: str) -> float:
    w, h = aspect.split(":")
    return int(w) / int(h)


def upload_jpeg(image: Image.Image) -> bytes:
    """The picture to send: RGB, at most UPLOAD_SIDE on its longest side, a high-quality JPEG without metadata."""
    image = image.convert("RGB")
    scale = UPLOAD_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=93)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    """The model's picture as an RGB image, through the same checked intake as a selfie (format allow-list,
    pixel cap, truncation)."""
    from minime.core import intake

    return intake.open_image(data, max_bytes=64 * 1024 * 1024, max_pixels=40_000_000).convert("RGB")
