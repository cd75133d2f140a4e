"""Group photos in every classic look: every face found is found again in the picture (issue 15).

The group is six real portraits (Eileen Collins, Grace Hopper, Barack Obama, each also mirrored) in two rows of three:
wider than any portrait look, so each look has to change its composition to keep everyone whole.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from minime.core.adjust import finish
from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import ClassicEngine, subject
from minime.core.engines.classic.subject import find_faces
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()
TILE = 300


def _portrait(image: Image.Image) -> Image.Image:
    """A head-and-shoulders square around the photo's face."""
    x, y, w, h = find_faces(np.asarray(image))[0]
    side = w * 3.0
    cx, top = x + w / 2, y + h / 2 - side * 0.42
    return image.crop((int(cx - side / 2), int(top), int(cx + side / 2), int(top + side))).resize(
        (TILE, TILE), Image.Resampling.LANCZOS)


@pytest.fixture(scope="module")
def six() -> Image.Image:
    hopper = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    people = [_portrait(p) for p in (Image.fromarray(skdata.astronaut()), hopper,
                                     Image.open(DATA / "obama.jpg").convert("RGB"))]
    people += [p.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for p in people[::-1]]
    sheet = Image.new("RGB", (3 * TILE, 2 * TILE))
    for i, person in enumerate(people):
        sheet.paste(person, ((i % 3) * TILE, (i // 3) * TILE))
    return sheet


def test_six_faces_are_found_in_the_group(six: Image.Image) -> None:
    faces = find_faces(np.asarray(six))
    assert len(faces) == 6
    assert sorted(round((y + h / 2) / TILE - 0.5) for _, y, _, h in faces) == [0, 0, 0, 1, 1, 1], "three per row"


@pytest.mark.parametrize("theme", sorted(t.id for t in CATALOG))
def test_every_face_of_a_six_person_group_is_found_again(six: Image.Image, theme: str) -> None:
    spec = CATALOG.get(theme)
    out = ENGINE.render(RenderRequest(six, spec, RenderParams(name="Team", variant=spec.default_variant, seed=5)))
    image = finish(out.image, spec.finish, 5)
    if theme == "pop-art" and spec.default_variant == "grid":  # the Warhol sheet repeats a wide group: one panel
        image = image.crop((0, 0, image.width, image.height // 2))
    side = 1024 / max(image.size)
    found = find_faces(np.asarray(image.resize((round(image.width * side), round(image.height * side)))))
    assert len(found) >= 6, f"{len(found)} of 6 faces in {theme}"


def _at_work_size(image: Image.Image) -> np.ndarray:
    side = 1024 / max(image.size)
    return np.asarray(image.resize((round(image.width * side), round(image.height * side))))


@pytest.mark.parametrize("photo, people", [("astronaut", 1), ("hopper", 1), ("obama", 1), ("coffee", 0),
                                           ("chelsea", 0)])
def test_no_false_faces(photo: str, people: int) -> None:
    if photo == "hopper":
        image = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    elif photo == "obama":
        image = Image.open(DATA / "obama.jpg").convert("RGB")
    else:
        image = Image.fromarray(getattr(skdata, photo)())
    assert len(find_faces(_at_work_size(image))) == people


def test_the_second_opinion_sees_the_group_where_the_first_does(six: Image.Image) -> None:
    """dlib's HOG pass (run on group photos) puts its boxes on the same faces, in the same pixels."""
    rgb = _at_work_size(six)
    faces = find_faces(rgb)
    scale = min(1.0, subject.FACE_SIDE / max(rgb.shape[:2]))
    hog = [tuple(v / scale for v in box[:4]) for box in subject._hog_faces(rgb, [tuple(v * scale for v in f)
                                                                                for f in faces], scale,
                                                                        subject.models())]
    assert len(hog) == 6
    for face in faces:
        assert max(subject._overlap(face, box) for box in hog) > 0.5, "each face seen by both"


@pytest.fixture(scope="module")
def four(six: Image.Image) -> Image.Image:
    """Four of the six in two rows of two, close together: a group photo as high as it is wide, too crowded for a
    square crop around the heads."""
    return six.crop((TILE // 6, TILE // 10, 2 * TILE - TILE // 6, 2 * TILE - TILE // 6 + TILE // 10))


def test_a_squarish_group_fills_the_pop_art_panels(four: Image.Image) -> None:
    """A group in a square photo gets the 2×2 sheet of square panels, the people reaching the panels' sides (in a
    wide panel it was a square of people cut straight at the photo's sides, between bars of background), and
    every face is found again in a panel."""
    spec = CATALOG.get("pop-art")
    out = ENGINE.render(RenderRequest(four, spec, RenderParams(name="Team", variant="grid", seed=5)))
    image = np.asarray(out.image.convert("RGB")).astype(np.int16)
    panel = image[:512, :512]
    bg = panel[4, 4]  # (the sky above the first portrait's head)
    foot = panel[480:505]  # the panel's foot is the people's clothes from side to side, not bars of background
    near_bg = (np.abs(foot - bg).max(-1) < 40) | (np.abs(foot - (bg * 215 // 255)).max(-1) < 40)
    assert near_bg.mean() < 0.3
    found = find_faces(np.asarray(Image.fromarray(panel.astype(np.uint8)).resize((1024, 1024))))
    assert len(found) >= 4, f"{len(found)} of 4 faces in a panel"
