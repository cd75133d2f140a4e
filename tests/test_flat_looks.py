"""The flat looks on real photos (issue 26): the face stays the same person, dark skin stays darker than light skin in
pop-art's inks, "variation" changes what a person notices, and names in any script are drawn, not boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from minime.core.checks import FaceIdentity
from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import ClassicEngine
from minime.core.engines.classic.subject import find_faces
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()
SAME_PERSON = 0.6  # dlib's documented threshold for one identity
IDENTITY_LOOKS = ("pop-art", "comic-panel", "anime", "yearbook", "magazine-cover", "film-poster", "sticker-sheet",
                  "retro-80s")
FLAT_LOOKS = IDENTITY_LOOKS + ("retro-70s", "retro-90s", "polaroid")
NAMED_LOOKS = ("comic-panel", "film-poster", "magazine-cover", "sticker-sheet", "yearbook", "retro-80s", "polaroid")


def _photos() -> dict[str, Image.Image]:
    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return {"astronaut": Image.fromarray(skdata.astronaut()), "hopper": Image.open(hopper).convert("RGB"),
            "obama": Image.open(DATA / "obama.jpg").convert("RGB")}


PHOTOS = _photos()
IDENTITY = FaceIdentity()


def _render(theme_id: str, photo: Image.Image, *, seed: int = 5, name: str = "Ada", variant: str | None = None
            ) -> Image.Image:
    theme = CATALOG.get(theme_id)
    params = RenderParams(name=name, variant=variant or theme.default_variant, seed=seed)
    return ENGINE.render(RenderRequest(photo, theme, params)).image.convert("RGB")


@pytest.mark.parametrize("photo", sorted(PHOTOS))
@pytest.mark.parametrize("theme_id", IDENTITY_LOOKS)
def test_the_face_in_a_flat_look_is_still_the_same_person(theme_id: str, photo: str) -> None:
    image = _render(theme_id, PHOTOS[photo])
    if theme_id == "pop-art":  # one panel of the Warhol sheet
        image = image.crop((0, 0, image.width // 2, image.height // 2))
    distance = IDENTITY.distance(PHOTOS[photo], image)
    assert distance is not None, f"no face found in {theme_id} on {photo}"
    assert distance <= SAME_PERSON, f"{theme_id} on {photo}: face distance {distance:.2f}"


def _skin_ink(image: Image.Image) -> list[float]:
    """The lightness (Lab L) of the skin ink on each face's cheeks, per face found in the picture."""
    arr = np.asarray(image)
    lab = cv2.cvtColor(arr, cv2.COLOR_RGB2LAB)
    out = []
    for x, y, w, h in find_faces(arr):
        cheeks = lab[y + int(h * 0.55):y + int(h * 0.7), x + int(w * 0.2):x + int(w * 0.35), 0]
        out.append(float(np.median(cheeks)))
    return out


@pytest.mark.parametrize("light", ["astronaut", "hopper"])
def test_pop_art_inks_dark_skin_darker_than_light_skin_in_every_colourway(light: str) -> None:
    panels = [(0, 0, 512, 512), (512, 0, 1024, 512), (0, 512, 512, 1024), (512, 512, 1024, 1024)]
    dark_sheet, light_sheet = _render("pop-art", PHOTOS["obama"]), _render("pop-art", PHOTOS[light])
    for box in panels:
        dark, pale = _skin_ink(dark_sheet.crop(box)), _skin_ink(light_sheet.crop(box))
        assert dark and pale, "a face in every panel"
        assert max(dark) < min(pale), f"panel {box}: dark skin ink {dark} is not darker than light skin's {pale}"


def _changed(a: Image.Image, b: Image.Image) -> float:
    """The share of the picture that visibly differs (a 256 px wide view; a pixel counts when its colour moved by
    more than 30 levels on average)."""
    size = (256, round(256 * a.height / a.width))
    x, y = (np.asarray(i.resize(size, Image.Resampling.BOX), np.float32) for i in (a, b))
    return float((np.abs(x - y).mean(axis=2) > 30).mean())


@pytest.mark.parametrize("seeds", [(5, 6), (5, 1_234_567)])
@pytest.mark.parametrize("theme_id", FLAT_LOOKS)
def test_variation_changes_at_least_a_tenth_of_every_flat_look(theme_id: str, seeds: tuple[int, int]) -> None:
    first, second = (_render(theme_id, PHOTOS["astronaut"], seed=s) for s in seeds)
    if first.size != second.size:
        return  # another format is a change a person notices
    share = _changed(first, second)
    assert share >= 0.10, f"{theme_id}: variation {seeds} changed only {share:.1%} of the picture"


@pytest.mark.parametrize("names", [("花子", "太郎"), ("🎉", "🚀"), ("سارا", "ليلى")], ids=["CJK", "emoji", "Arabic"])
@pytest.mark.parametrize("theme_id", NAMED_LOOKS)
def test_a_name_in_any_script_is_drawn_not_boxes(theme_id: str, names: tuple[str, str]) -> None:
    """Two different names in one script give two different pictures: a missing glyph would be the same box."""
    first, second = (_render(theme_id, PHOTOS["hopper"], name=n) for n in names)
    drawn = np.abs(np.asarray(first, np.float32) - np.asarray(second, np.float32)).max(axis=2) > 60
    assert drawn.sum() > 150, f"{theme_id}: {names} look the same (boxes?)"


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_the_magazine_cover_star_fills_the_cover_under_the_masthead(photo: str) -> None:
    """A cover's framing: the head large, its hair just under (or behind the foot of) the masthead, not a small
    face at the bottom with an empty page above it."""
    image = _render("magazine-cover", PHOTOS[photo], seed=0)
    faces = find_faces(np.asarray(image))
    assert faces, f"no face on the cover of {photo}"
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    assert w >= 0.25 * image.width, f"{photo}: the face is {w / image.width:.0%} of the cover's width"
    assert 100 <= y - 0.5 * h <= 360, f"{photo}: the head starts at {y - 0.5 * h:.0f} px"


def _cheeks(arr: np.ndarray) -> list[float]:
    """Each face's cheek lightness (Lab L), faces left to right."""
    lab = cv2.cvtColor(arr, cv2.COLOR_RGB2LAB)
    return [float(np.median(lab[y + int(h * 0.55):y + int(h * 0.7), x + int(w * 0.2):x + int(w * 0.35), 0]))
            for x, y, w, h in sorted(find_faces(arr))]


def test_pop_art_inks_each_face_of_a_group_in_its_own_skin_tone() -> None:
    """A dark-skinned and a light-skinned person side by side: in every panel each face's skin ink keeps its own
    tone (the two inks at least 85% as far apart as the two skins in the photo), not the group's one median."""
    dark, pale = (PHOTOS[p].resize((400, 400), Image.Resampling.LANCZOS) for p in ("obama", "astronaut"))
    pair = Image.new("RGB", (800, 400))
    pair.paste(dark, (0, 0))
    pair.paste(pale, (400, 0))
    own = _cheeks(np.asarray(pair))
    assert len(own) == 2 and own[0] < own[1]
    sheet = _render("pop-art", pair)
    half = sheet.height // 2
    for y in (0, half):  # the two wide panels
        inks = _cheeks(np.asarray(sheet.crop((0, y, sheet.width, y + half))))
        assert len(inks) == 2, f"both faces found in the panel at {y}"
        assert inks[1] - inks[0] >= 0.85 * (own[1] - own[0]), f"skin inks {inks} for skins {own}"


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_the_eighties_name_is_written_above_the_person_not_over_them(photo: str) -> None:
    first, second = (np.asarray(_render("retro-80s", PHOTOS[photo], name=n)).astype(np.int16) for n in ("ADA", "BOB"))
    ys, _ = np.nonzero(np.abs(first - second).max(axis=2) > 60)  # where the two names differ: the name's rows
    assert len(ys), "a name is drawn"
    faces = find_faces(first.astype(np.uint8))
    assert faces, f"the person's face on {photo}"
    head_top = min(y - 0.35 * h for _, y, _, h in faces)
    reach = float(np.percentile(ys, 99))
    assert reach < head_top, f"the name reaches row {reach:.0f}, the head {head_top:.0f}"


def test_a_landscape_close_up_fills_a_portrait_look_without_the_photos_edges_showing() -> None:
    """A wide close-up (the face filling the photo's height) in a portrait look is cropped into the margin beside
    the ears, not shown whole with bands above and below it (hard lines where the photo ends)."""
    from minime.core.engines.classic.look import Look

    photo = PHOTOS["obama"]
    x, y, w, h = max(find_faces(np.asarray(photo)), key=lambda f: f[2] * f[3])
    close = photo.crop((0, max(0, y - h // 3), photo.width, min(photo.height, y + h + h // 4)))
    assert close.width > 1.2 * close.height
    close = close.resize((1024, round(1024 * close.height / close.width)), Image.Resampling.LANCZOS)
    for theme_id in ("anime", "comic-panel"):
        look = Look(close, CATALOG.get(theme_id), RenderParams(seed=5), lambda _: None)
        assert len(look.faces) == 1
        covered = look.coverage((1024, 1280))
        assert covered.min() == 1.0, f"{theme_id}: {1 - covered.mean():.0%} of the picture is outside the photo"


def test_the_comic_bubble_speaks_for_a_face_reached_from_free_space() -> None:
    """In a group the bubble's tail reaches the mouth of the face nearest the bubble without crossing another head
    (it ran to the largest face, in the middle of the crowd, between the people)."""
    from minime.core.engines.classic.poster import _speaker

    bubble = (520, 60, 984, 260)
    near = (700.0, 380.0, 120.0, 150.0)  # right below the bubble
    large = (380.0, 700.0, 200.0, 250.0)  # the largest face, further down, beside and below the first
    beside = (120.0, 330.0, 130.0, 160.0)
    faces = [beside, large, near]
    base_x, (tx, ty) = _speaker(bubble, faces)
    assert bubble[0] <= base_x <= bubble[2]
    x, y, w, h = near
    assert abs(tx - (x + w / 2)) < 0.75 * w and y + 0.4 * h < ty < y + h, "the tip beside the near face's mouth"
    for ox, oy, ow, oh in (beside, large):  # the tail crosses no other head
        for t in np.linspace(0, 1, 50):
            px, py = base_x + t * (tx - base_x), 240 + t * (ty - 240)
            assert not (ox < px < ox + ow and oy - 0.3 * oh < py < oy + oh)


def test_pop_art_parts_a_group_between_its_people_along_their_clothes() -> None:
    """Each person of a group is told apart (a line is drawn between one's clothes and the next one's): the border
    follows the edge between a red and a blue shirt, not the midpoint between the two faces; and the shade of the
    clothes comes in large masses, not specks."""
    from minime.core.engines.classic.photo import _masses, _people

    h, w = 300, 400
    rgb = np.full((h, w, 3), 200, np.uint8)
    rgb[150:, :250] = (200, 40, 40)  # the left one's red shirt reaches past the middle
    rgb[150:, 250:] = (40, 60, 200)
    person = np.zeros((h, w), bool)
    person[150:] = True
    faces = [(70.0, 60.0, 60.0, 70.0), (270.0, 60.0, 60.0, 70.0)]
    owner = _people(rgb, person, np.zeros((h, w), bool), faces)
    row = owner[250]
    assert set(np.unique(row)) == {1, 2}
    border = int(np.argmax(row == 2))
    assert abs(border - 250) <= 6, border
    speckled = np.zeros((h, w), bool)
    speckled[200:, :100] = True  # a large patch of shade
    speckled[160:166:2, 200:260:3] = True  # specks
    kept = _masses(speckled, person, 60.0)
    assert kept[220:, 10:90].all() and not kept[155:170, 195:265].any()


def test_a_stickers_cartoon_face_is_smooth_not_banded() -> None:
    """The sticker sheet's cartoon heads keep the drawn skin's painted shading: cut into five tone bands, a close-up
    face's bands had jagged edges that read as blotches."""
    from minime.core.engines.classic.faceart import face_art, toon
    from minime.core.engines.classic.subject import find_faces

    rgb = np.asarray(Image.open(DATA / "obama.jpg").convert("RGB"))
    faces = [tuple(float(v) for v in f) for f in find_faces(rgb)]
    skin = cv2.erode((face_art(rgb, faces).skin > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    banded = {}
    for smooth in (False, True):  # the share of the skin in its three most common tones (HSV value)
        flat, _ = toon(rgb, faces, levels=5, smooth_skin=smooth)
        value = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV)[..., 2][skin]
        banded[smooth] = float(np.sort(np.bincount(value, minlength=256))[-3:].sum() / value.size)
    assert banded[False] > 0.6 and banded[True] < 0.35, banded
