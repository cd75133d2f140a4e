"""A corpus of hostile and unusual image files, built from a real portrait: what people (and attackers) send.

Each case says what a person must get: ``"render"`` (accepted and made into a picture) or the words of the one clear
line that refuses it.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class Case:
    """One file and what must happen to it."""

    name: str
    data: bytes
    expect: str  # "render", or words of the refusal


def _save(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header promises an enormous image (the pixels compress to almost nothing)."""
    rows = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    body = b"".join(rows.compress(row) for _ in range(min(height, 64))) + rows.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _animated(portrait: Image.Image, fmt: str) -> bytes:
    frames = [portrait, portrait.rotate(10), portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=200, loop=0)


def build(portrait: Image.Image) -> list[Case]:
    """The corpus; ``portrait`` is an RGB photo of a person (about 512 px)."""
    rng = np.random.default_rng(7)
    jpeg = _save(portrait, "JPEG", quality=90)
    grey16 = (np.asarray(portrait.convert("L"), np.uint16) * 257).astype(np.uint16)
    noisy = Image.fromarray(rng.integers(0, 256, (1600, 1200, 3), dtype=np.uint8))
    noisy_face = Image.fromarray(np.clip(np.asarray(portrait.resize((1200, 1200)), np.int16)
                                         + rng.integers(-120, 120, (1200, 1200, 3)), 0, 255).astype(np.uint8))
    cmyk = _save(portrait.convert("CMYK"), "JPEG", quality=90)
    return [
        Case("portrait.jpg", jpeg, "render"),
        Case("progressive.jpg", _save(portrait, "JPEG", quality=85, progressive=True), "render"),
        Case("noisy.jpg", _save(noisy_face, "JPEG", quality=97), "render"),
        Case("pure-noise.png", _save(noisy, "PNG"), "render"),
        Case("grey16.png", _save(Image.fromarray(grey16), "PNG"), "render"),
        Case("rgba.png", _save(portrait.convert("RGBA"), "PNG"), "render"),
        Case("palette.png", _save(portrait.convert("P"), "PNG"), "render"),
        Case("grey.jpg", _save(portrait.convert("L"), "JPEG"), "render"),
        Case("cmyk.jpg", cmyk, "render"),
        Case("still.webp", _save(portrait, "WEBP"), "render"),
        Case("photo.heic", _save(portrait, "HEIF", quality=80), "render"),
        Case("png-named-jpg", _save(portrait, "PNG"), "render"),
        Case("jpeg-with-zip-appended", jpeg + b"PK\x03\x04" + b"\x00" * 200, "render"),
        Case("animated.gif", _animated(portrait, "GIF"), "animations"),
        Case("animated.webp", _animated(portrait, "WEBP"), "animations"),
        Case("animated.png", _animated(portrait, "PNG"), "animations"),
        Case("truncated.jpg", jpeg[: len(jpeg) // 3], "damaged"),
        Case("truncated.png", _save(portrait, "PNG")[:5000], "damaged"),
        Case("bomb.png", _png_bomb(30000, 30000), "too"),
        Case("tiny.png", _save(portrait.resize((20, 20)), "PNG"), "very small"),
        Case("empty.jpg", b"", "empty"),
        Case("text.jpg", b"hello, this is not a picture", "can't read"),
        Case("html-polyglot.gif", b"GIF89a/*<script>alert(1)</script>*/=1;", "can't read"),
        Case("bmp.bmp", _save(portrait, "BMP"), "can't read"),
        Case("tiff.tif", _save(portrait, "TIFF"), "can't read"),
        Case("svg.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600"/>', "can't read"),
        Case("pdf.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "can't read"),
    ]
