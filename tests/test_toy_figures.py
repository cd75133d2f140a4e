"""The toy figures of the packaged looks, on real photos: a group becomes a set with one figure per person, a person
seen full length (even with a small face) stands, an action figure of a head-and-shoulders photo stands on sculpted
legs, and the figure is recognisably the person (dlib's face distance)."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from minime.core.adjust import finish
from minime.core.checks import FaceIdentity
from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import LOW_RES_FACE_PX, ClassicEngine, figure_set
from minime.core.engines.classic.figure import BUST, STANDING, FigureStyle, figure_kind
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.subject import find_faces, find_subject
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog
from tests.conftest import side_by_side

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()


def _hopper() -> Image.Image:
    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")


def _look(photo: Image.Image, theme: str = "figurine") -> Look:
    """What the engine hands a look: the photo at 1024 px, with the engine's small-face limit for it."""
    scale = 1024 / max(photo.size)
    source = photo.convert("RGB").resize((round(photo.width * scale), round(photo.height * scale)),
                                         Image.Resampling.LANCZOS)
    return Look(source, CATALOG.get(theme), RenderParams(seed=5), lambda _f: None,
                min_face_px=LOW_RES_FACE_PX * scale)


def _on_grey(figure: Image.Image) -> np.ndarray:
    shown = Image.new("RGB", figure.size, (200, 200, 210))
    shown.paste(figure, (0, 0), figure)
    return np.asarray(shown)


def _runs(row: np.ndarray) -> int:
    """How many separate solid stretches a row of a figure's alpha crosses (two at the legs)."""
    solid = (row > 128).astype(np.int8)
    return int((np.diff(np.concatenate([[0], solid, [0]])) == 1).sum())


@pytest.fixture(scope="module")
def trio() -> Image.Image:
    """Three real portraits side by side: a group photo of three people."""
    return side_by_side([Image.fromarray(skdata.astronaut()), _hopper(),
                         Image.fromarray(skdata.astronaut()).transpose(Image.Transpose.FLIP_LEFT_RIGHT)])


def test_a_group_photo_becomes_a_set_with_one_figure_per_person(trio: Image.Image) -> None:
    look = _look(trio)
    assert len(look.subject.faces) == 3
    figure = figure_set.toy(look, 800, 600)
    alpha = np.asarray(figure.getchannel("A"))
    count, _, stats, _ = cv2.connectedComponentsWithStats((alpha > 128).astype(np.uint8), connectivity=8)
    pieces = [stats[i] for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] > 0.05 * (alpha > 128).sum()]
    assert len(pieces) == 3, "three figures, each on its own stand, not one merged cut-out"
    heights = [p[cv2.CC_STAT_HEIGHT] for p in pieces]
    assert max(heights) < 1.15 * min(heights), "a set: every figure at one scale"
    tops = [p[cv2.CC_STAT_TOP] for p in pieces]
    assert max(tops) - min(tops) < 0.1 * figure.height, "standing upright side by side, not tilted"
    assert len(find_faces(_on_grey(figure))) == 3, "every face whole on its figure"


def test_every_group_member_is_a_bust_when_the_photo_cuts_them(trio: Image.Image) -> None:
    look = _look(trio)
    assert figure_set.set_kind(look.subject.mask, list(look.subject.faces)) == BUST


def test_a_person_seen_down_to_the_thighs_with_a_small_face_stands_on_sculpted_legs() -> None:
    camera = Image.fromarray(skdata.camera()).convert("RGB")  # the cameraman: a small face, cut above the knees
    look = _look(camera)
    assert look.low_resolution, "a face the engine calls small"
    assert figure_kind(look.subject.mask, look.face) == STANDING
    figure = figure_set.toy(look, 540, 540)
    alpha = np.asarray(figure.getchannel("A"))
    ys, xs = np.nonzero(alpha > 128)
    height, width = ys.max() - ys.min(), xs.max() - xs.min()
    assert height > 1.4 * width, "a standing figure, not a framed print"
    assert (alpha[ys.min():ys.max(), xs.min():xs.max()] > 128).mean() < 0.7, "a silhouette, not a rectangle"
    knees = ys.min() + int(height * 0.78)
    assert _runs(alpha[knees]) >= 2, "two legs"


def test_the_action_figure_of_a_head_and_shoulders_photo_stands() -> None:
    look = _look(Image.open(DATA / "obama.jpg"), "action-figure")
    assert figure_kind(look.subject.mask, look.face) == BUST
    figure = figure_set.toy(look, 450, 620, FigureStyle(base="none", full_body=True, head_scale=1.15))
    alpha = np.asarray(figure.getchannel("A"))
    ys, xs = np.nonzero(alpha > 128)
    height = ys.max() - ys.min()
    assert height > 1.5 * (xs.max() - xs.min()), "a whole standing toy, taller than wide"
    assert _runs(alpha[ys.min() + int(height * 0.85)]) == 2, "on two legs"
    assert len(find_faces(_on_grey(figure))) == 1


@pytest.mark.parametrize("theme", ["figurine", "action-figure", "desk-figure", "miniature"])
@pytest.mark.parametrize("photo", ["obama", "hopper"])
def test_the_toy_is_recognisably_the_person(photo: str, theme: str) -> None:
    selfie = Image.open(DATA / "obama.jpg").convert("RGB") if photo == "obama" else _hopper()
    spec = CATALOG.get(theme)
    out = ENGINE.render(RenderRequest(selfie, spec, RenderParams(name="Ada", variant=spec.default_variant, seed=5)))
    distance = FaceIdentity().distance(selfie, finish(out.image, spec.finish, 5))
    assert distance is not None and distance <= 0.6, f"{theme} of {photo}: dlib distance {distance}"


def test_a_set_keeps_to_its_window_however_many_people(trio: Image.Image) -> None:
    src = np.asarray(_look(trio).source)
    subject = find_subject(src)
    for width, height in ((450, 620), (800, 400), (540, 540)):
        figure = figure_set.render_group(src, subject.mask, list(subject.faces), 5, height=height, max_width=width,
                                         riser=True)
        assert figure.width <= width and figure.height <= height
        assert figure.width >= 0.9 * width or figure.height >= 0.75 * height, "and fills it"


def test_a_duo_in_the_blister_stands_about_as_tall_as_one_figure() -> None:
    """Two head-and-shoulders people as an action figure set: the blister's window widens for a set and the busts
    stand shoulder to shoulder, so the pair fills most of the window's height (not half of it), both faces whole."""
    from minime.core.engines.classic import boxes

    duo = side_by_side([Image.fromarray(skdata.astronaut()), _hopper()], height=500)
    look = _look(duo, "action-figure")
    assert len(look.subject.faces) == 2
    window_w, window_h = boxes._figure_width(2) - 36, int((boxes.BLISTER[3] - boxes.BLISTER[1]) * 0.9)
    assert window_w > boxes.FIG_W - 36, "a set gets a wider window than one figure"
    figure = figure_set.toy(look, window_w, window_h, riser=True)
    assert figure.width <= window_w and figure.height <= window_h
    assert figure.height >= 0.7 * window_h, f"the pair is {figure.height / window_h:.0%} of the window's height"
    assert len(find_faces(_on_grey(figure))) == 2, "both faces whole"
