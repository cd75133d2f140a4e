"""The invisible mark: same algorithm as invisible-watermark's dwtDctSvd, all blocks at once."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
import pywt
from PIL import Image

from minime.core import watermark

DATA = Path(__file__).parent / "data"


def jpeg(img: Image.Image, quality: int = 75, scale: float = 1.0) -> Image.Image:
    if scale != 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def test_a_result_marked_by_invisible_watermark_still_reads_the_same() -> None:
    # A polaroid of the astronaut marked with invisible-watermark 0.2.0's EmbedDwtDctSvd (U channel, scale 60,
    # 32 bits: 0x5EED1234), saved as JPEG: what results stored before minime marked images itself look like.
    old = Image.open(DATA / "marked-by-invisible-watermark-0.2.0.jpg")
    assert watermark.read_mark(old) == 0x5EED1234
    assert watermark.read_mark(jpeg(old, 75)) == 0x5EED1234


@pytest.mark.parametrize("size", [(1024, 1280), (517, 389)])
def test_a_mark_survives_jpeg_75_and_an_unmarked_photo_carries_none(astronaut: Image.Image,
                                                                   size: tuple[int, int]) -> None:
    photo = astronaut.convert("RGB").resize(size)
    mark = watermark.new_mark()
    marked = watermark.embed(photo, mark)
    assert marked.size == photo.size
    assert watermark.read_mark(jpeg(marked)) == mark
    assert watermark.mark_errors(watermark.read_mark(jpeg(photo)), mark) > 4


def test_a_halved_copy_reads_back_close_when_scaled_to_the_original_size(astronaut: Image.Image) -> None:
    photo = astronaut.convert("RGB").resize((1024, 1280))
    mark = watermark.new_mark()
    copy = jpeg(watermark.embed(photo, mark), 75, 0.5)
    assert watermark.mark_errors(watermark.read_mark(copy, photo.size), mark) <= watermark.RESIZED_MARK_ERRORS


def test_the_blocks_are_pywavelets_haar_approximation_and_their_singular_values_lapacks(
        astronaut: Image.Image) -> None:
    # Hard blocks too: saturated halftone dots give 4×4 blocks with two nearly equal singular values.
    dots = np.zeros((256, 256, 3), np.uint8)
    dots[::4, ::4] = (255, 255, 0)
    dots[2::4, 2::4] = (0, 0, 255)
    for rgb in (np.asarray(astronaut.convert("RGB")), dots):
        blocks, (rows, cols) = watermark._blocks(rgb)
        u = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)[..., 1].astype(np.float64)
        approx = pywt.dwt2(u, "haar")[0]
        expected = approx.reshape(rows, 4, cols, 4).transpose(1, 3, 0, 2).reshape(4, 4, -1)
        np.testing.assert_allclose(blocks, expected, atol=1e-3)
        s, left, right = watermark._top_singular(blocks)
        lapack = np.linalg.svd(blocks.transpose(2, 0, 1), compute_uv=False)[:, 0]
        np.testing.assert_allclose(s, lapack, rtol=1e-9, atol=1e-9)
        rank_one = s * left[:, None, :] * right[None, :, :]
        rest = np.linalg.svd((blocks - rank_one).transpose(2, 0, 1), compute_uv=False)
        np.testing.assert_allclose(rest[:, 0], np.linalg.svd(blocks.transpose(2, 0, 1), compute_uv=False)[:, 1],
                                   atol=1e-6)
