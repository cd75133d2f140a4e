"""The classic engine on real photos: every theme, names that read back, no-person photos, refinements."""

from __future__ import annotations

import io
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from minime.core.adjust import finish
from minime.core.domain import Adjustments, RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import NO_PERSON, ClassicEngine
from minime.core.engines.classic.paint import FALLBACK_FONT, display_caps, font_for, hex_color
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()


def render(source: Image.Image, theme_id: str, **params) -> Image.Image:
    theme = CATALOG.get(theme_id)
    out = ENGINE.render(RenderRequest(source, theme, RenderParams(**{"seed": 11, **params})))
    return finish(out.image, theme.finish, 11)


@pytest.mark.parametrize("theme", [t.id for t in CATALOG])
def test_every_theme_makes_a_finished_picture(astronaut: Image.Image, theme: str) -> None:
    image = render(astronaut, theme, name="Eileen", variant=CATALOG.get(theme).default_variant)
    arr = np.asarray(image, np.float32)
    assert image.mode == "RGB" and min(image.size) >= 1000
    assert arr.std() > 30, "not a flat placeholder"
    face = np.asarray(astronaut.resize((64, 64)), np.float32)
    assert not np.allclose(np.asarray(image.resize((64, 64)), np.float32), face, atol=20), "not the photo as is"


def test_person_is_found_in_a_selfie_and_not_in_a_coffee_cup(astronaut: Image.Image) -> None:
    from skimage import data

    out = ENGINE.render(RenderRequest(astronaut, CATALOG.get("figurine"), RenderParams(name="A")))
    assert out.notes == ()
    cup = Image.fromarray(data.coffee())
    out = ENGINE.render(RenderRequest(cup, CATALOG.get("figurine"), RenderParams(name="A")))
    assert out.notes == (NO_PERSON,), "degrades to a crop and says so"
    assert np.asarray(out.image).std() > 30


def test_variation_is_visibly_different(astronaut: Image.Image) -> None:
    a = np.asarray(render(astronaut, "polaroid", seed=1), np.float32)
    b = np.asarray(render(astronaut, "polaroid", seed=2), np.float32)
    assert np.abs(a - b).mean() > 10


def test_palette_refinement_changes_the_box_colour(astronaut: Image.Image) -> None:
    a = render(astronaut, "figurine", name="A", palette=0)
    b = render(astronaut, "figurine", name="A", palette=1)
    px = (200, 1100)  # the box's bottom band
    assert a.getpixel(px) != b.getpixel(px)


def test_refinements_do_what_they_say(astronaut: Image.Image) -> None:
    base = render(astronaut, "retro-70s")
    x = np.asarray(base, np.float32)
    warm = np.asarray(finish(base, Adjustments(warmth=0.5)), np.float32)
    assert warm[..., 0].mean() / warm[..., 2].mean() > x[..., 0].mean() / x[..., 2].mean()

    def noise(img: np.ndarray) -> float:
        gray = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 1.5)).mean())

    grainy = np.asarray(finish(base, Adjustments(grain=1.0), 3), np.float32)
    clean = np.asarray(finish(Image.fromarray(grainy.astype(np.uint8)), Adjustments(grain=-0.5)), np.float32)
    assert noise(grainy) > noise(x) and noise(clean) < noise(grainy)
    bright = np.asarray(finish(base, Adjustments(brightness=0.5)), np.float32)
    assert bright.mean() > x.mean() + 5


def test_unicode_names_use_a_font_that_covers_them() -> None:
    assert font_for("ALICE", "luckiest-guy") == "luckiest-guy"
    assert font_for("ZOË ÅNGSTRÖM", "luckiest-guy") == "luckiest-guy"
    assert font_for("Дмитрий", "luckiest-guy") == FALLBACK_FONT
    assert display_caps("Straße") == "STRAßE", "capitals never change the spelling"


def _ocr_variants(image: Image.Image, fill: tuple[int, int, int]) -> list[str]:
    import pytesseract

    arr = np.asarray(image).astype(np.int32)
    ink = np.where(np.abs(arr - np.array(fill)).sum(axis=2) < 90, 0, 255).astype(np.uint8)  # letters dark on white
    ink = cv2.copyMakeBorder(ink, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    texts = []
    for scale in (0.5, 0.3, 0.2):
        small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        texts += [pytesseract.image_to_string(small, config=f"--psm {psm}").strip() for psm in (7, 8, 13)]
    return texts


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed (make test installs it)")
@pytest.mark.parametrize("name", ["Alice", "Kim", "Jean-Luc O'Neil", "Maximilian Alexander von Hohenberg"])
@pytest.mark.parametrize("theme, box, fill", [
    ("figurine", (160, 160, 820, 330), (255, 255, 255)),
    ("action-figure", (120, 136, 904, 292), hex_color(CATALOG.get("action-figure").palette(0)["accent"])),
])
def test_names_on_the_boxes_read_back_with_ocr(astronaut: Image.Image, name: str, theme: str, box, fill) -> None:
    out = ENGINE.render(RenderRequest(astronaut, CATALOG.get(theme), RenderParams(name=name, seed=3))).image
    readings = _ocr_variants(out.crop(box), fill)
    assert display_caps(name) in readings, readings


def test_hostile_sizes_still_render() -> None:
    rng = np.random.default_rng(0)
    for size in ((64, 900), (1500, 70), (3000, 2000)):
        img = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        out = ENGINE.render(RenderRequest(img, CATALOG.get("action-figure"), RenderParams(name="X")))
        assert out.image.size == (1024, 1280)


def test_stored_bases_are_lossless_and_results_are_jpeg(astronaut: Image.Image) -> None:
    from minime.core.intake import decode_stored, lossless_bytes, result_bytes

    image = render(astronaut, "pop-art", variant="single")
    assert np.array_equal(np.asarray(decode_stored(lossless_bytes(image))), np.asarray(image))
    delivered = result_bytes(image)
    assert Image.open(io.BytesIO(delivered)).format == "JPEG"
    assert np.abs(np.asarray(decode_stored(delivered), np.float32) - np.asarray(image, np.float32)).mean() < 3
