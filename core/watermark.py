"""Marks that let minime recognise its own images later (`/verify`), even after a platform re-compressed them.

Two complementary marks:

- an invisible watermark carrying a 32-bit id of the result: invisible-watermark's ``dwtDctSvd`` algorithm, written
  here over all blocks at once (~6 ms per 1024×1280 image instead of the library's ~0.3–0.5 s Python loop over
  20,000 blocks; the library also declared torch and opencv-python, which forced a ``--no-deps`` install). It reads
  marks embedded by the library the same. It survives JPEG re-compression at full size, not halving (see DESIGN.md),
  and identifies the exact result;
- a perceptual fingerprint (ImageHash's 256-bit pHash), stored per result, which survives resizing and
  re-compression. It is split into 16-bit bands so that a lookup is an indexed query, not a scan: two hashes within
  15 bits of each other share at least one band exactly (pigeonhole).
"""

from __future__ import annotations

import random

import cv2
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
RESIZED_MARK_ERRORS = 6
"""Bits (of 32) that may differ when a resized copy is scaled back to the candidate's size and decoded. Measured with
this module's embedding (rounded once, 2026-11-23): halved + JPEG 75 copies of 24 looks 0–4 errors; unmarked photos
10–22 (random bits: P(≤ 6) = 0.03 %, against 2.5 % for the 10 allowed while invisible-watermark embedded the marks
(its halved copies: 0–9 errors), which let 5 of 96 unrelated photos through in bench/verify_marks.py)."""


BLOCK = 4
"""Side of the square blocks of wavelet coefficients that each carry one bit (invisible-watermark's default)."""
_U_TO_G, _U_TO_B = -0.395, 2.032
"""How a change of the U channel moves green and blue in OpenCV's YUV → RGB conversion (red does not move)."""


def new_mark() -> int:
    """A random non-zero 32-bit id for a result."""
    return random.SystemRandom().randrange(1, 2**MARK_BITS)


def _bits(mark: int) -> np.ndarray:
    return np.array([(mark >> (MARK_BITS - 1 - i)) & 1 for i in range(MARK_BITS)], np.float64)


def _rgb(img: Image.Image) -> np.ndarray:
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _blocks(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The blocks that carry the mark, and the grid's (rows, columns) of blocks, exactly as a reader sees them.

    The U (blue-difference) plane as OpenCV computes it from 8-bit RGB, cropped to a multiple of 4 pixels; its Haar
    approximation (``pywt.dwt2(u, "haar")[0]``: each 2×2 pixel square's sum over 2, which OpenCV's area resize
    computes in one pass); cut into 4×4 blocks (``_tiles``).
    """
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    u = cv2.cvtColor(rgb[:rows, :cols], cv2.COLOR_RGB2YUV)[..., 1].astype(np.float32)
    approx = cv2.resize(u, (cols // 2, rows // 2), interpolation=cv2.INTER_AREA).astype(np.float64) * 2
    return _tiles(approx)


def _top_singular(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The largest singular value of every 4×4 block and its left and right singular vectors, all blocks at once.

    invisible-watermark takes ``np.linalg.svd(cv2.dct(block))`` of one block at a time in a Python loop (~0.2–0.5 s
    per image). The 2-D DCT is orthonormal, so a block and its DCT have the same singular values, and a change of
    the largest one comes out of the inverse DCT as the same rank-one change of the block: the DCT can be left out.
    A batched ``np.linalg.svd`` on the (N, 4, 4) stack still costs ~0.1 s (one LAPACK call per matrix), so the top
    singular pair is found by power iteration on BᵀB written as whole-array operations: wavelet approximations of
    an image are positive, so the top direction is close to the all-ones start and four steps reach the precision of
    the blocks' dtype for nearly every block. Blocks that have not converged by then (two nearly equal singular
    values) are finished by ``np.linalg.svd``.

    Args:
        blocks: (4, 4, N) blocks, float64 (reading) or float32 (embedding: half the memory traffic).

    Returns:
        s (N,), u (4, N) and v (4, N) with s·u·vᵀ the largest component of each block.
    """
    b = blocks
    tolerance = 1e-9 if b.dtype == np.float64 else 1e-5
    gram = np.empty((BLOCK, BLOCK, b.shape[2]), b.dtype)
    for i in range(BLOCK):
        for j in range(i, BLOCK):
            gram[i, j] = gram[j, i] = b[0, i] * b[0, j] + b[1, i] * b[1, j] + b[2, i] * b[2, j] + b[3, i] * b[3, j]
    v = np.full((BLOCK, b.shape[2]), 0.5, b.dtype)
    for step in range(_POWER_STEPS + 1):
        w = gram[:, 0] * v[0] + gram[:, 1] * v[1] + gram[:, 2] * v[2] + gram[:, 3] * v[3]
        if step < _POWER_STEPS:
            v = w / np.maximum(np.sqrt((w * w).sum(0)), 1e-30)
    lam = (v * w).sum(0)
    residual = ((w - lam * v) ** 2).sum(0)
    slow = np.flatnonzero(residual > (tolerance * lam) ** 2 + tolerance ** 2)
    if slow.size:
        _, _, vt = np.linalg.svd(b[:, :, slow].transpose(2, 0, 1))
        v[:, slow] = vt[:, 0, :].T
    bv = b[:, 0] * v[0] + b[:, 1] * v[1] + b[:, 2] * v[2] + b[:, 3] * v[3]
    s = np.sqrt((bv * bv).sum(0))
    return s, bv / np.maximum(s, 1e-30), v


_POWER_STEPS = 4
_U_ROW = np.array([[-0.492 * 0.299, -0.492 * 0.587, 0.492 * (1 - 0.114), 128.0]], np.float32)
"""OpenCV's RGB → YUV for the U plane: U = 0.492·(B − Y) + 128 with Y = 0.299 R + 0.587 G + 0.114 B."""


def _tiles(approx: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """A Haar approximation cut into 4×4 blocks laid out as (row in block, column in block, block), row by row."""
    nrows, ncols = approx.shape[0] // BLOCK, approx.shape[1] // BLOCK
    tiles = approx[:nrows * BLOCK, :ncols * BLOCK].reshape(nrows, BLOCK, ncols, BLOCK)
    return np.ascontiguousarray(tiles.transpose(1, 3, 0, 2).reshape(BLOCK, BLOCK, nrows * ncols)), (nrows, ncols)


def embed(img: Image.Image, mark: int) -> Image.Image:
    """The image with ``mark`` hidden in the wavelet domain of its U channel (invisible: brightness is untouched);
    see ``embed_array``."""
    return Image.fromarray(embed_array(np.array(img if img.mode == "RGB" else img.convert("RGB")), mark))


def embed_array(rgb: np.ndarray, mark: int) -> np.ndarray:
    """Hide ``mark`` in an (H, W, 3) uint8 RGB array, in place when it is writable (else in a copy); returns it.

    invisible-watermark's ``dwtDctSvd`` with minime's settings (U channel, strength 60, 4×4 blocks, 32 bits), on all
    blocks at once: the largest singular value of every block of the Haar approximation is moved to a quarter
    (bit 0) or three quarters (bit 1) of a step of 60; block n carries bit n mod 32. The inverse Haar transform
    spreads a change c of one approximation coefficient as c/2 over its 2×2 pixels; that change of U is added to
    green and blue directly (through OpenCV's YUV → RGB matrix; red does not move), so the picture is rounded once.

    It runs on the request path, so it does the least work that reads back the same (~5 ms of CPU for 1024×1280,
    ~10 before): the approximation is taken from the half-size picture (a 2×2 area average of the pixels, then U:
    both linear, so only the rounding of the average differs, well inside the quarter step a bit is read with), in
    float32; and the change is added at half size, in place, to the two pixel rows of each 2×2 square at once (a
    pixel pair seen as one 6-channel element), instead of blowing the change up to full size first.
    """
    out = rgb if rgb.flags.writeable and rgb.flags.c_contiguous else np.array(rgb)
    rows, cols = out.shape[0] // 4 * 4, out.shape[1] // 4 * 4
    region = out if (rows, cols) == out.shape[:2] else np.ascontiguousarray(out[:rows, :cols])
    half = cv2.resize(region, (cols // 2, rows // 2), interpolation=cv2.INTER_AREA)
    approx = cv2.transform(half.astype(np.float32), _U_ROW) * np.float32(2)
    blocks, (nrows, ncols) = _tiles(approx)
    s, u, v = _top_singular(blocks)
    scale = np.float32(SCALES[1])
    bits = _bits(mark).astype(np.float32)[np.arange(s.shape[0]) % MARK_BITS]
    amount = (np.floor(s / scale) + np.float32(0.25) + np.float32(0.5) * bits - s / scale) * (scale / 2)
    change = (amount * u)[:, None, :] * v[None, :, :]
    half_change = change.reshape(BLOCK, BLOCK, nrows, ncols).transpose(2, 0, 3, 1).reshape(nrows * 4, ncols * 4)
    green, blue = np.rint(half_change * _U_TO_G).astype(np.int16), np.rint(half_change * _U_TO_B).astype(np.int16)
    pair = np.zeros((*half_change.shape, 6), np.int16)  # two neighbouring pixels' (R, G, B) change
    pair[..., 1], pair[..., 2], pair[..., 4], pair[..., 5] = green, blue, green, blue
    squares = region[:nrows * 8, :ncols * 8].reshape(nrows * 4, 2, ncols * 4, 6)
    if squares.base is None:  # reshape copied: the additions would not land in the picture
        raise RuntimeError("the pixel pairs are not a view of the picture")
    for row in (0, 1):  # saturating: what leaves 0..255 is clipped
        cv2.add(squares[:, row], pair, dst=squares[:, row], dtype=cv2.CV_8U)
    if region is not out:
        out[:rows, :cols] = region
    return out


def read_mark(img: Image.Image, size: tuple[int, int] | None = None) -> int:
    """The 32-bit id an image carries (random bits when it carries none), read at ``size`` if given: a copy that
    was scaled down is scaled back to the original's size first.

    Each block votes for its bit (is its largest singular value in the upper half of its step?); a bit is 1 when
    at least half of its blocks say so. This is invisible-watermark's ``dwtDctSvd`` decoder, so results marked by
    that library before minime did it itself read the same.
    """
    if size and img.size != size:
        img = img.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    s, _, _ = _top_singular(_blocks(_rgb(img))[0])
    scale = SCALES[1]
    votes = (np.mod(s, scale) > scale * 0.5).astype(np.float64)
    which = np.arange(votes.shape[0]) % MARK_BITS
    share = np.bincount(which, votes, MARK_BITS) / np.maximum(np.bincount(which, minlength=MARK_BITS), 1)
    value = 0
    for bit in share * 255 > 127:
        value = (value << 1) | int(bit)
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
