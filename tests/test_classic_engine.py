"""The classic engine on real photos: every theme, names that read back, no-person photos, refinements."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from minime.core.adjust import finish
from minime.core.domain import Adjustments, RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import NO_NAME, NO_PERSON, ClassicEngine
from minime.core.engines.classic.accessories import icon_for
from minime.core.engines.classic.boxes import WINDOW
from minime.core.engines.classic.paint import display_caps, draw_fitted_text, hex_color
from minime.core.engines.classic.subject import find_faces
from minime.core.engines.classic.text import has_all_glyphs
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog, split_things
from tests.conftest import side_by_side

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


NAMES_IN_SCRIPTS = ["李小龍", "山田 太郎", "김민준", "سارة أحمد", "שרה כהן", "नमस्ते", "สมชาย", "Zoë 🎸☕", "Дмитрий"]


@pytest.mark.parametrize("name", NAMES_IN_SCRIPTS)
def test_names_in_any_script_are_drawn_with_real_glyphs(name: str) -> None:
    assert has_all_glyphs(name, "luckiest-guy"), "every character has a font that draws it"

    def drawn(text: str) -> np.ndarray:
        img = Image.new("RGB", (900, 160), (0, 0, 0))
        draw_fitted_text(img, (10, 10, 890, 150), text, "luckiest-guy", (255, 255, 255))
        return np.asarray(img, np.float32)

    glyphs = drawn(name)
    tofu = drawn("\ue000" * len(name.replace(" ", "")))  # a private-use character: every font's .notdef box
    assert glyphs.mean() > 3, "ink on the card"
    assert np.abs(glyphs - tofu).mean() > 3, "not the .notdef boxes"


def test_emoji_are_drawn_in_colour() -> None:
    img = Image.new("RGB", (400, 160), (255, 255, 255))
    draw_fitted_text(img, (10, 10, 390, 150), "🎸🍕", "luckiest-guy", (0, 0, 0))
    hsv = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2HSV)
    assert (hsv[..., 1] > 120).mean() > 0.05, "coloured emoji, not outlines or boxes"


def test_long_names_wrap_inside_their_box() -> None:
    img = Image.new("RGB", (600, 200), (0, 0, 0))
    size = draw_fitted_text(img, (50, 50, 550, 150), "Maximilian Alexander von Hohenberg", "luckiest-guy",
                            (255, 255, 255), max_lines=2)
    ys, xs = np.nonzero(np.asarray(img.convert("L")) > 40)
    assert xs.min() >= 48 and xs.max() <= 552 and ys.min() >= 48 and ys.max() <= 152, "never out of its place"
    one_line = draw_fitted_text(Image.new("RGB", (600, 200)), (50, 50, 550, 150),
                                "Maximilian Alexander von Hohenberg", "luckiest-guy", (255, 255, 255))
    assert size > one_line * 1.2, "two lines let a long name be larger"
    assert display_caps("Straße") == "STRAßE", "capitals never change the spelling"


def _ocr_variants(image: Image.Image, fill: tuple[int, int, int]) -> list[str]:
    import pytesseract

    arr = np.asarray(image).astype(np.int32)
    ink = np.where(np.abs(arr - np.array(fill)).sum(axis=2) < 90, 0, 255).astype(np.uint8)  # letters dark on white
    ink = cv2.copyMakeBorder(ink, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    texts = []
    for scale in (0.7, 0.5, 0.3, 0.2, 0.15):
        small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        texts += [" ".join(pytesseract.image_to_string(small, config=f"--psm {psm}").split()) for psm in (6, 7, 8, 13)]
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


# ---- the toy looks on real photos ---------------------------------------------------------------------------------

def _photo(name: str) -> Image.Image:
    import matplotlib

    if name == "hopper":
        return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


# The looks issue 15 holds to these properties (newer looks carry their own tests).
TOY_ERA_LOOKS = ["figurine", "action-figure", "miniature", "pop-art", "retro-70s", "retro-80s", "retro-90s", "polaroid"]


@pytest.fixture(scope="module")
def group() -> Image.Image:
    """Three portraits side by side: a group photo."""
    return side_by_side([_photo("astronaut"), _photo("hopper"),
                         _photo("astronaut").transpose(Image.Transpose.FLIP_LEFT_RIGHT)])


def test_figurine_stands_the_figure_centred_in_its_window(astronaut: Image.Image) -> None:
    image = render(astronaut, "figurine", name="Eileen")
    wx0, wy0, wx1, wy1 = WINDOW
    faces = find_faces(np.asarray(image))
    assert len(faces) == 1
    x, y, w, h = faces[0]
    assert wx0 < x and x + w < wx1 and wy0 + 0.08 * (wy1 - wy0) < y, "inside the window, with headroom"
    assert abs((x + w / 2) - (wx0 + wx1) / 2) < 0.12 * (wx1 - wx0), "centred"


def test_action_figure_gets_the_accessories_asked_for(astronaut: Image.Image) -> None:
    assert split_things("Ada | coffee, laptop,  guitar") == ("Ada", ("coffee", "laptop", "guitar"))
    assert split_things("Ada") == ("Ada", ())
    assert icon_for("laptop") == ("laptop", True) and icon_for("Coffee")[1] and not icon_for("qwzx")[1]
    asked = np.asarray(render(astronaut, "action-figure", name="Ada", things=("coffee", "laptop", "guitar")))
    default = np.asarray(render(astronaut, "action-figure", name="Ada"))
    slots = (slice(40 + 350, 40 + 1116), slice(92 + 40 + 486, 92 + 800))  # the accessory column of the blister
    assert np.abs(asked[slots].astype(np.float32) - default[slots]).mean() > 5


@pytest.mark.parametrize("theme", TOY_ERA_LOOKS)
def test_every_face_of_a_group_is_kept(group: Image.Image, theme: str) -> None:
    faces_in = find_faces(np.asarray(group.resize((1024, round(1024 * group.height / group.width)))))
    assert len(faces_in) == 3
    out = render(group, theme, name="Team", variant=CATALOG.get(theme).default_variant)
    if theme == "pop-art":  # the Warhol sheet repeats a wide group in two wide panels: look at one
        out = out.crop((0, 0, 1024, 512))
    found = find_faces(np.asarray(out))
    assert len(found) >= 3, f"{len(found)} faces of 3 in {theme}"


@pytest.mark.parametrize("theme", [t for t in TOY_ERA_LOOKS if CATALOG.get(t).argument in ("name", "caption")])
def test_bigger_name_makes_the_name_bigger(astronaut: Image.Image, theme: str) -> None:
    normal = np.asarray(render(astronaut, theme, name="Ada"), np.float32)
    bigger = np.asarray(render(astronaut, theme, name="Ada", name_scale=1.44), np.float32)
    assert np.abs(normal - bigger).mean() > 0.5


def test_bigger_name_on_a_look_without_one_says_so(astronaut: Image.Image) -> None:
    out = ENGINE.render(RenderRequest(astronaut, CATALOG.get("miniature"), RenderParams(name_scale=1.2)))
    assert NO_NAME in out.notes


@pytest.mark.parametrize("theme", TOY_ERA_LOOKS)
def test_variation_changes_what_a_person_notices(astronaut: Image.Image, theme: str) -> None:
    variant = CATALOG.get(theme).default_variant
    a = np.asarray(render(astronaut, theme, name="Ada", seed=1, variant=variant), np.float32)
    b = np.asarray(render(astronaut, theme, name="Ada", seed=2, variant=variant), np.float32)
    assert np.abs(a - b).mean() > 6, "a visible change, not a detail (averaged over the whole picture, printing too)"
    again = np.asarray(render(astronaut, theme, name="Ada", seed=1, variant=variant), np.float32)
    assert np.array_equal(a, again), "the seed reproduces the picture"


def test_pop_art_keeps_dark_skin_dark(astronaut: Image.Image) -> None:
    darker = Image.fromarray((np.asarray(astronaut, np.float32) * 0.45).astype(np.uint8))

    def skin_lightness(img: Image.Image) -> float:
        out = np.asarray(render(img, "pop-art", variant="single"))
        x, y, w, h = find_faces(out)[0]  # the face, found again in the print
        cheeks = out[y + int(h * 0.5):y + int(h * 0.7), x + int(w * 0.15):x + int(w * 0.85)].reshape(-1, 3)
        colours, counts = np.unique(cheeks, axis=0, return_counts=True)
        ink = colours[np.argmax(counts)]  # the skin's flat ink
        return float(cv2.cvtColor(ink.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB)[0, 0, 0])

    assert skin_lightness(darker) < skin_lightness(astronaut) - 25


def test_pop_art_prints_dark_skin_as_a_deep_tone_not_a_pastel(astronaut: Image.Image) -> None:
    """Obama's portrait (tests/data): his skin's ink is darker and more colourful than the astronaut's."""
    def skin_ink(img: Image.Image) -> np.ndarray:
        out = cv2.cvtColor(np.asarray(render(img, "pop-art", variant="single")), cv2.COLOR_RGB2LAB)
        x, y, w, h = find_faces(cv2.cvtColor(out, cv2.COLOR_LAB2RGB))[0]
        rows = slice(y + int(h * 0.45), y + int(h * 0.62))  # the cheeks, beside the nose and above a smile
        cheeks = np.concatenate([out[rows, x + int(w * a):x + int(w * b)].reshape(-1, 3)
                                 for a, b in ((0.15, 0.32), (0.68, 0.85))])
        return np.median(cheeks, axis=0)

    dark = skin_ink(Image.open(Path(__file__).parent / "data" / "obama.jpg"))
    light = skin_ink(astronaut)
    assert dark[0] < light[0] - 15, (dark, light)
    assert np.hypot(dark[1] - 128, dark[2] - 128) >= 24, "as colourful as the skin, not a pastel"
    assert dark[2] >= 130, "the skin's own warmth (Lab b above grey), not the palette's cool pink"


def test_small_faces_and_no_person_get_a_kind_note_and_a_look_without_a_cut_out() -> None:
    tiny = _photo("hopper").resize((96, 112))
    out = ENGINE.render(RenderRequest(tiny, CATALOG.get("figurine"), RenderParams(name="Grace")))
    assert any("small" in n for n in out.notes)
    assert np.asarray(out.image).std() > 30


@pytest.mark.parametrize("window", [(0.0, 0.0, 512.0), (-40.4, -10.6, 700.0), (100.2, 50.7, 300.0),
                                    (0.4, 0.4, 400.0), (-300.0, 0.0, 1200.0)])
def test_a_framed_window_is_the_photo_scaled_and_shifted(astronaut: Image.Image, window) -> None:
    """Look.frame's crop-and-resize is the same picture as the general affine warp (to a source pixel), inside the
    photo and out, whatever the window."""
    from minime.core.engines.classic.look import _scaled_window

    arr = np.asarray(astronaut)
    x0, y0, cw = window
    size = (320, 400)
    sx = size[0] / cw
    warped = cv2.warpAffine(arr, np.array([[sx, 0, -x0 * sx], [0, sx, -y0 * sx]], np.float32), size,
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    ours = _scaled_window(arr, x0, y0, cw, size, cv2.INTER_LINEAR)
    assert ours.shape == warped.shape
    assert np.abs(ours.astype(np.float32) - warped).mean() < 6
