"""The miniature look (issue 24): the person's little figure(s) in a model diorama shot with a tilt-shift lens, and
the tilt-shift effect on the photo itself where a photo cannot give a figure. Measured, not assumed: the blur bands
(sharpness inside the band against above and below it), one figure per face, the figure off the centre and large
enough for its face to be found again, a variation that changes at least a tenth of the picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import NO_PERSON, ClassicEngine, diorama, figure3d
from minime.core.engines.classic.subject import find_faces
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog
from tests.conftest import side_by_side

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()


def _render(photo: Image.Image, seed: int = 5):
    return ENGINE.render(RenderRequest(photo, CATALOG.get("miniature"), RenderParams(seed=seed)))


def _figure_faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The little figures' faces: found below the top third and smaller than an eighth of the picture (a blurred
    house front far behind them, two windows over a door, can pass for a big face to the detector)."""
    return [f for f in find_faces(image) if f[1] + f[3] / 2 > image.shape[0] / 3 and f[2] < image.shape[1] / 8]


def _sharpness(image: np.ndarray, top: float, bottom: float) -> float:
    """Mean absolute Laplacian of the rows from ``top`` to ``bottom`` (fractions of the height)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h = grey.shape[0]
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[int(top * h):int(bottom * h)].mean())


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(skdata.astronaut()).convert("RGB")


@pytest.fixture(scope="module")
def diorama_shot(astronaut: Image.Image) -> np.ndarray:
    out = _render(astronaut)
    assert not out.notes, "a selfie gets its figure and no note"
    return np.asarray(out.image)


def test_the_figure_stands_off_centre_with_a_face_that_reads(diorama_shot: np.ndarray) -> None:
    faces = _figure_faces(diorama_shot)
    assert len(faces) == 1, "the little figure's face is found again in the picture"
    x, y, w, h = faces[0]
    size = diorama_shot.shape[1]
    assert w >= 0.05 * size, f"a face {w} px wide: small, but readable"
    assert abs(x + w / 2 - size / 2) > 0.08 * size, "placed off the centre, like a photographer would"


def test_the_lens_is_sharp_on_the_figure_and_blurs_the_table_far_and_near(diorama_shot: np.ndarray) -> None:
    x, y, w, h = _figure_faces(diorama_shot)[0]
    size = diorama_shot.shape[0]
    figure = np.ascontiguousarray(diorama_shot[:, max(0, x - w):x + 2 * w])  # the figure and the ground beside it
    band = _sharpness(figure, y / size, (y + 3 * h) / size)
    assert band > 3 * _sharpness(diorama_shot, 0.0, 0.15), "the far table is out of focus"
    assert band > 2 * _sharpness(diorama_shot, 0.93, 1.0), "the near table is out of focus"


def test_every_person_of_a_group_becomes_a_figure_in_the_scene(astronaut: Image.Image) -> None:
    group = side_by_side([astronaut, astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT), astronaut])
    out = _render(group)
    assert not out.notes, "nobody left out"
    assert len(_figure_faces(np.asarray(out.image))) == 3, "three people, three figures, every face whole"


def test_variation_changes_the_scene_the_light_or_the_camera(astronaut: Image.Image) -> None:
    shots = [np.asarray(_render(astronaut, seed).image, np.int16) for seed in range(1, 6)]
    # the next edition (another scene) and one four on (the same scene: another sun, spot, camera and layout)
    for a, b in [*zip(shots, shots[1:]), (shots[0], shots[4])]:
        changed = (np.abs(a - b).max(axis=2) > 24).mean()
        assert changed >= 0.1, f"only {changed:.0%} of the picture changed"
    assert np.array_equal(shots[0], np.asarray(_render(astronaut, 1).image, np.int16)), "an edition repeats"


def test_the_scenes_differ_and_each_keeps_the_figures_spot_free() -> None:
    scenes = {diorama.stage(seed, 1).scene for seed in range(8)}
    assert scenes == set(diorama.SCENES), "park, plaza, beach and snowy village all come up"
    for seed in range(4):
        stage = diorama.stage(seed, 2)
        x, y = stage.feet
        assert 0.2 * diorama.SIZE < x < 0.8 * diorama.SIZE and 0.6 * diorama.SIZE < y < 0.9 * diorama.SIZE
        assert stage.front[y - int(stage.unit):y, x - 20:x + 20, 3].max() == 0, "nothing stands in front of them"


def test_a_face_too_small_to_sculpt_gets_a_note_and_the_tilt_shift_photo() -> None:
    selfie = Image.open(DATA / "obama.jpg").convert("RGB")
    small = selfie.resize((180, 225), Image.Resampling.LANCZOS)  # his face ~56 px across: too small to sculpt
    out = _render(small)
    assert out.notes == (figure3d.NoFigureError.SMALL,), "the user is told why there is no figure, once"
    image = np.asarray(out.image)
    assert image.shape[:2] == (1024, 819), "the photo itself, at its own shape"
    x, y, w, h = find_faces(image)[0]
    band = _sharpness(image, y / 1024, (y + h) / 1024)
    assert band > 2 * _sharpness(image, 0.9, 1.0), "sharp across the face, soft below"


def test_a_photo_without_a_person_gets_the_classic_tilt_shift_effect() -> None:
    street = Image.fromarray(skdata.rocket())  # a launch pad: no person
    out = _render(street)
    assert NO_PERSON in out.notes
    image = np.asarray(out.image)
    source = np.asarray(street.resize((image.shape[1], image.shape[0])))
    middle = _sharpness(image, 0.48, 0.6)
    assert middle > 2 * _sharpness(image, 0.0, 0.15) and middle > 2 * _sharpness(image, 0.9, 1.0)
    hsv_out, hsv_in = (cv2.cvtColor(a, cv2.COLOR_RGB2HSV)[..., 1].mean() for a in (image, source))
    assert hsv_out > 1.15 * hsv_in, "toy-bright colour"


def test_the_lens_focuses_on_the_figures_spot_and_defocuses_the_far_table() -> None:
    stage = diorama.stage(3, 1)
    blur = diorama.defocus(stage, np.ones((1, 1), np.float32), (0, 0))
    x, y = stage.feet
    assert blur[y, x] < 1.0, "the ground the figures stand on is in focus"
    assert blur[:60].mean() > 6 and blur[-20:].mean() > 2, "far behind and near the camera, it is not"
