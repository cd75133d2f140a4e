"""Marks that let minime recognise its own images later (`/verify`), even after a platform re-compressed them.

Two complementary marks, both from maintained libraries:

- an invisible watermark (invisible-watermark's ``dwtDctSvd``) carrying a 32-bit id of the result. It survives
  JPEG re-compression at full size, not halving (see DESIGN.md), and identifies the exact result;
- a perceptual fingerprint (ImageHash's 256-bit pHash), stored per result, which survives resizing and
  re-compression. It is split into 16-bit bands so that a lookup is an indexed query, not a scan: two hashes within
  15 bits of each other share at least one band exactly (pigeonhole).
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
from PIL import Image

MARK_BITS = 32
SCALES = [0, 60, 0]
"""Embedding strength per YUV channel: the U (blue-difference) channel only, at 60 (the library's default is 36).
At 36, halved copies of packaged looks lost up to 14 of 32 bits; at 60 at most 5, and the mark stays invisible."""
BANDS = 16
BAND_BITS = 16
MATCH_DISTANCE = 40
"""Largest pHash distance (of 256 bits) for a result to be a candidate. bench/verify_marks.py measured copies at
0–10 and different results at 48 and more; but a retro-filtered photo stays close to the photo it came from (6), so a
fingerprint alone never decides: the watermark must agree too."""
MARK_CONFIRM_DISTANCE = 72
"""A watermark id read exactly is believed when the fingerprint also roughly agrees (a random image decodes to
random bits, which could name a real result by chance)."""
RESIZED_MARK_ERRORS = 10
"""Bits (of 32) that may differ when a resized copy is scaled back to the candidate's size and decoded. Measured:
halved + JPEG 75 copies 0–9 errors; unmarked photos 14–19 (random bits: P(≤ 10) = 2.5 %, so a claim also needs the
fingerprint within MATCH_DISTANCE)."""


@cache
def _dwt_dct_svd() -> ModuleType:
    """invisible-watermark's dwtDctSvd module, loaded on its own.

    The package's ``__init__`` imports its RivaGAN method, which imports torch at once; the bots must start (and
    mark images) without torch, so the module that does this job is loaded by itself from the installed package.
    """
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("invisible-watermark is not installed")
    path = f"{spec.submodule_search_locations[0]}/dwtDctSvd.py"
    module_spec = importlib.util.spec_from_file_location("imwatermark_dwtDctSvd", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def new_mark() -> int:
    """A random non-zero 32-bit id for a result."""
    return random.SystemRandom().randrange(1, 2**MARK_BITS)


def _bits(mark: int) -> list[int]:
    return [(mark >> (MARK_BITS - 1 - i)) & 1 for i in range(MARK_BITS)]


def embed(img: Image.Image, mark: int) -> Image.Image:
    """The image with ``mark`` hidden in the wavelet domain of its luma (invisible: PSNR above 40 dB)."""
    bgr = np.ascontiguousarray(np.asarray(img.convert("RGB"))[..., ::-1])
    encoder = _dwt_dct_svd().EmbedDwtDctSvd(_bits(mark), wmLen=MARK_BITS, scales=SCALES)
    out = encoder.encode(bgr)
    return Image.fromarray(np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8)[..., ::-1]))


def read_mark(img: Image.Image, size: tuple[int, int] | None = None) -> int:
    """The 32-bit id an image carries (random bits when it carries none), read at ``size`` if given: a copy that
    was scaled down is scaled back to the original's size first."""
    if size and img.size != size:
        img = img.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    bgr = np.ascontiguousarray(np.asarray(img.convert("RGB"))[..., ::-1])
    bits = _dwt_dct_svd().EmbedDwtDctSvd(watermarks=[], wmLen=MARK_BITS, scales=SCALES).decode(bgr)
    value = 0
    for bit in bits:
        value = (value << 1) | int(bool(bit))
    return value


def fingerprint(img: Image.Image) -> str:
    """The 256-bit perceptual hash as 64 hex digits."""
    import imagehash

    return str(imagehash.phash(img.convert("RGB"), hash_size=16))


def bands(fp: str) -> list[int]:
    """The fingerprint's 16 bands of 16 bits, for the indexed lookup."""
    value = int(fp, 16)
    total = BANDS * BAND_BITS
    return [(value >> (total - BAND_BITS * (i + 1))) & 0xFFFF for i in range(BANDS)]


def mark_errors(a: int, b: int) -> int:
    """Bits that differ between two watermark ids."""
    return (a ^ b).bit_count()


def distance(a: str, b: str) -> int:
    """Bits that differ between two fingerprints."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class Marks:
    """What is stored for a result so it can be recognised: the watermark id and the fingerprint."""

    mark: int
    fingerprint: str


def mark_image(img: Image.Image) -> tuple[Image.Image, Marks]:
    """Watermark an image with a new id and fingerprint the marked image."""
    mark = new_mark()
    marked = embed(img, mark)
    return marked, Marks(mark, fingerprint(marked))
