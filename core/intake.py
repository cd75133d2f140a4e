"""Safe intake of what people send (images and the text typeset on them) and output encoding.

Selfies are opened with an explicit format allow-list and pixel/byte caps, turned upright (EXIF orientation),
converted to sRGB and re-encoded without any metadata (GPS included) before they are stored. Names and captions lose
line breaks and control characters, which no one means on a toy box and which text layout cannot set.
"""

from __future__ import annotations

import io
import threading
import unicodedata
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from minime.core import provenance
from minime.core.errors import CorruptImage, ImageTooLarge, ImageTooSmall, UnsupportedImage
from minime.core.i18n import N_
from minime.core.i18n import gettext as _

pillow_heif.register_heif_opener()

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")  # JPEG also opens MPO (phone cameras with depth frames)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")
MIN_SIDE = 64
STORE_MAX_SIDE = 2048
ImageFile.LOAD_TRUNCATED_IMAGES = False

_SRGB = ImageCms.createProfile("sRGB")
_JOINERS = ("\u200c", "\u200d")  # zero-width (non-)joiners: part of Persian words and emoji sequences
ANIMATION_REFUSED = N_("GIFs and animations aren't supported. Please send a still photo (JPEG, PNG, WebP or HEIC).")
# Full-size decodes at once, across every front end: a 40-megapixel photo takes ~0.5 GB while it is converted, so
# many uploaded together would otherwise add up without bound. Others wait their turn (in worker threads).
_DECODES = threading.BoundedSemaphore(2)
MAX_ARGUMENT = 200  # characters of a theme's argument (a name, a caption, a list of accessories) that are kept


def clean_text(text: str | None, max_chars: int = MAX_ARGUMENT) -> str | None:
    """Text a person typed for an image, made safe to typeset and to echo back.

    Line and paragraph breaks (``\\n``, ``\\r``, U+0085, U+2028, U+2029), tabs and other control or invisible
    formatting characters (bidirectional overrides, lone surrogates) become one space; runs of spaces collapse; the
    result is cut to ``max_chars``. None (or nothing left) gives None.
    """
    if text is None:
        return None
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp", "Cs") or (category == "Cf" and char not in _JOINERS):
            kept.append(" ")
        else:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())[:max_chars].strip()
    return cleaned or None


@dataclass(frozen=True, slots=True)
class Selfie:
    """A normalised selfie: upright sRGB JPEG bytes with no metadata."""

    data: bytes
    width: int
    height: int
    source_format: str


def looks_like_image(content_type: str | None, filename: str | None) -> bool:
    """Whether an upload claims to be a picture (by MIME type or file name); its bytes are checked on opening."""
    return (content_type or "").startswith("image/") or (filename or "").lower().endswith(IMAGE_EXTENSIONS)


def open_image(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    """Decode untrusted bytes into an upright RGB image, or raise a typed error a person understands."""
    with _DECODES:
        return _open(data, max_bytes=max_bytes, max_pixels=max_pixels)


def _open(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    if not data:
        raise UnsupportedImage(_("That file is empty. Please send a photo."))
    if len(data) > max_bytes:
        # MB as people (and Telegram) count them: 20 × 1024² bytes is "20 MB", not "21 MB".
        raise ImageTooLarge(_("That file is too large ({mb} MB). Please send one under {limit} MB.").format(
            mb=f"{len(data) / 2**20:.0f}", limit=f"{max_bytes / 2**20:.0f}"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS) + ["GIF"])
            # One policy for every animation (GIF, animated WebP, APNG): refused, rather than silently taking a
            # first frame the person may not have meant. MPO (a JPEG with depth frames) and HEIF stay stills.
            if img.format == "GIF" or (img.format in ("PNG", "WEBP") and getattr(img, "is_animated", False)):
                raise UnsupportedImage(_(ANIMATION_REFUSED))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(_("That photo is {width}×{height} pixels, more than I can take. Please send "
                                      "one under {limit} megapixels.").format(width=width, height=height,
                                                                             limit=f"{max_pixels / 1e6:.0f}"))
            if min(width, height) < MIN_SIDE:
                raise ImageTooSmall()
            img.load()
    except (ImageTooLarge, ImageTooSmall, UnsupportedImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(_("That file unpacks into far too many pixels. Please send a normal photo.")) from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedImage() from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImage() from exc
    source_format = img.format or "unknown"
    img = ImageOps.exif_transpose(img)
    img = _to_srgb(img)
    img.format = source_format  # type: ignore[attr-defined]
    return img


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        img = _to_8bit_grey(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if icc:
        try:
            img = ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            pass  # an unreadable profile: keep the pixels as they are
    return img


def _to_8bit_grey(img: Image.Image) -> Image.Image:
    """16-bit (or 32-bit) greyscale scaled into 8 bits: Pillow's own conversion clips everything above 255 to white."""
    values = np.asarray(img, dtype=np.float64)
    top = 65535.0 if img.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
    if img.mode == "F" and values.max(initial=0) <= 1.0:
        top = 1.0
    grey = Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    grey.info.update(img.info)
    return grey


def normalise_selfie(data: bytes, *, max_bytes: int, max_pixels: int) -> Selfie:
    """Open, check and re-encode a selfie for storage: upright, sRGB, at most 2048 px, metadata stripped."""
    with _DECODES:
        return _normalise(data, max_bytes=max_bytes, max_pixels=max_pixels)


def _normalise(data: bytes, *, max_bytes: int, max_pixels: int) -> Selfie:
    img = _open(data, max_bytes=max_bytes, max_pixels=max_pixels)
    source_format = getattr(img, "format", None) or "unknown"
    if max(img.size) > STORE_MAX_SIDE:
        img.thumbnail((STORE_MAX_SIDE, STORE_MAX_SIDE), Image.Resampling.LANCZOS)
    clean = Image.frombytes("RGB", img.size, img.tobytes())  # fresh image: no EXIF, GPS, ICC or comments
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=94, subsampling=0)  # no optimize=True: it fails on very noisy photos
    return Selfie(out.getvalue(), clean.width, clean.height, source_format)


def lossless_bytes(img: Image.Image) -> bytes:
    """A render's base, kept losslessly so refinements never stack compression (uncompressed TIFF: ~3 ms)."""
    out = io.BytesIO()
    img.save(out, "TIFF")
    return out.getvalue()


def result_bytes(img: Image.Image, source_type: str = "compositeSynthetic", result_id: str | None = None) -> bytes:
    """A finished image as delivered: high-quality JPEG without chroma subsampling (~8 ms per megapixel), with
    its provenance (digital source type, "AI-generated by minime") in XMP and EXIF."""
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=95, subsampling=0,
                            xmp=provenance.xmp_packet(source_type, result_id), exif=provenance.exif(source_type))
    return out.getvalue()


def png_bytes(img: Image.Image, source_type: str | None = None) -> bytes:
    """PNG, for files people save (contact sheets, the CLI); with provenance when ``source_type`` is given."""
    out = io.BytesIO()
    info = None
    if source_type:
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", provenance.xmp_packet(source_type).decode("utf-8"))
        info.add_text("Description", provenance.description(source_type))
        info.add_text("Software", provenance.SOFTWARE)
    img.save(out, "PNG", compress_level=1, pnginfo=info)
    return out.getvalue()


def stored_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image minime stored (reads the header only)."""
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def decode_stored(data: bytes) -> Image.Image:
    """Open an image that minime itself stored."""
    img = Image.open(io.BytesIO(data))
    img.load()
    return img.convert("RGB") if img.mode != "RGB" else img


@dataclass(frozen=True, slots=True)
class Encoded:
    """An image encoded for a platform."""

    data: bytes
    mime: str
    filename: str
    width: int
    height: int


def encode_for_platform(data: bytes, *, max_bytes: int, max_side_sum: int | None = None,
                        stem: str = "minime") -> Encoded:
    """Fit a stored image to a platform's upload limits: as it is when it fits, else smaller JPEGs."""
    header = Image.open(io.BytesIO(data))  # reads the size only; pixels are decoded when they must change
    width, height, kind = header.width, header.height, header.format
    resized = bool(max_side_sum and width + height > max_side_sum)
    if len(data) <= max_bytes and not resized and kind in ("JPEG", "PNG"):
        mime, ext = ("image/jpeg", "jpg") if kind == "JPEG" else ("image/png", "png")
        return Encoded(data, mime, f"{stem}.{ext}", width, height)
    img = decode_stored(data)
    if resized:
        scale = max_side_sum / (width + height)
        img = img.resize((int(width * scale), int(height * scale)), Image.Resampling.LANCZOS)
    while True:
        for quality in (95, 90, 85, 75):
            out = io.BytesIO()
            img.save(out, "JPEG", quality=quality)  # no optimize=True: it fails on very noisy images
            if out.tell() <= max_bytes:
                return Encoded(out.getvalue(), "image/jpeg", f"{stem}.jpg", img.width, img.height)
        img = img.resize((int(img.width * 0.8), int(img.height * 0.8)), Image.Resampling.LANCZOS)
