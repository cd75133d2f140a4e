"""Hostile and unusual uploads each get a typed error with a clear message; good ones come out clean."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from minime.core import intake
from minime.core.errors import CorruptImage, ImageTooLarge, ImageTooSmall, UnsupportedImage

CAPS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def _png_with_size(width: int, height: int) -> bytes:
    """A valid PNG whose header claims width × height (a decompression bomb shape: tiny file, huge image)."""
    raw = zlib.compress(b"\x00" * 64)
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_truncated_jpeg_is_reported_as_damaged(astronaut_jpeg: bytes) -> None:
    with pytest.raises(CorruptImage) as err:
        intake.normalise_selfie(astronaut_jpeg[: len(astronaut_jpeg) // 2], **CAPS)
    assert "damaged" in err.value.user_message


@pytest.mark.parametrize("size", [(30000, 30000), (100000, 100000), (8000, 8000)])
def test_huge_and_bomb_pngs_are_too_large(size: tuple[int, int]) -> None:
    with pytest.raises(ImageTooLarge) as err:
        intake.normalise_selfie(_png_with_size(*size), **CAPS)
    assert any(w in err.value.user_message for w in ("too large", "far too many", "more than I can take"))


def test_over_byte_cap() -> None:
    with pytest.raises(ImageTooLarge):
        intake.normalise_selfie(b"\xff\xd8" + b"0" * 2000, max_bytes=1000, max_pixels=10**6)


@pytest.mark.parametrize("data, error", [
    (b"Dear bot, this is not a photo at all.\n" * 10, UnsupportedImage),
    (b"", UnsupportedImage),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 400, UnsupportedImage),
])
def test_non_images(data: bytes, error: type) -> None:
    with pytest.raises(error) as err:
        intake.normalise_selfie(data, **CAPS)
    assert "photo" in err.value.user_message.lower()


def test_animated_gif_is_refused_clearly(astronaut: Image.Image) -> None:
    frames = [astronaut.resize((128, 128)), astronaut.resize((128, 128)).rotate(90)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(UnsupportedImage) as err:
        intake.normalise_selfie(out.getvalue(), **CAPS)
    assert "GIF" in err.value.user_message


def test_tiny_image(astronaut: Image.Image) -> None:
    out = io.BytesIO()
    astronaut.resize((20, 20)).save(out, "PNG")
    with pytest.raises(ImageTooSmall):
        intake.normalise_selfie(out.getvalue(), **CAPS)


def test_heic_is_accepted(astronaut: Image.Image) -> None:
    out = io.BytesIO()
    astronaut.save(out, "HEIF", quality=80)
    selfie = intake.normalise_selfie(out.getvalue(), **CAPS)
    assert selfie.source_format == "HEIF" and (selfie.width, selfie.height) == astronaut.size


def test_webp_and_rgba_png(astronaut: Image.Image) -> None:
    for fmt, img in (("WEBP", astronaut), ("PNG", astronaut.convert("RGBA"))):
        out = io.BytesIO()
        img.save(out, fmt)
        assert intake.normalise_selfie(out.getvalue(), **CAPS).width == 512


def test_exif_orientation_applied_and_gps_stripped(astronaut: Image.Image) -> None:
    wide = astronaut.resize((400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    wide.save(out, "JPEG", exif=exif)
    selfie = intake.normalise_selfie(out.getvalue(), **CAPS)
    assert (selfie.width, selfie.height) == (200, 400), "turned upright"
    stored = Image.open(io.BytesIO(selfie.data))
    assert not stored.getexif(), "no EXIF (so no GPS) is kept"
    assert b"PhoneMaker" not in selfie.data and "icc_profile" not in stored.info


def test_encode_for_platform_falls_back_to_jpeg_and_downscale(astronaut: Image.Image) -> None:
    big = intake.png_bytes(astronaut.resize((2000, 2000)))
    fitted = intake.encode_for_platform(big, max_bytes=300_000)
    assert fitted.mime == "image/jpeg" and len(fitted.data) <= 300_000
    small = intake.encode_for_platform(intake.png_bytes(astronaut), max_bytes=10_000_000, max_side_sum=10_000)
    assert small.mime == "image/png"
    jpeg = intake.result_bytes(astronaut)
    assert intake.encode_for_platform(jpeg, max_bytes=10_000_000).data == jpeg, "fits: sent as stored"
    capped = intake.encode_for_platform(intake.png_bytes(astronaut), max_bytes=10_000_000, max_side_sum=600)
    assert capped.width + capped.height <= 600
