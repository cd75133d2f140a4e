"""The toy looks (figurine, action figure, desk figure, caricature, miniature) on real photos, with the 3D figure: a
head-and-shoulders selfie becomes a whole standing figure that is recognisably the person (dlib's face distance), a
group becomes a set with one figure per person, the caricature is a bobblehead, the desk's monitor shows the model and
names its file in any script, and a photo that cannot give a figure gets a kind note and a look without one."""

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
from minime.core.engines.classic import LOW_RES, LOW_RES_FACE_PX, NO_NAME, NO_PERSON, ClassicEngine, desk, figure
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.subject import find_faces
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog
from tests.conftest import side_by_side

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ENGINE = ClassicEngine()
TOY_LOOKS = ["figurine", "action-figure", "desk-figure", "caricature", "miniature"]


def _hopper() -> Image.Image:
    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")


def _obama() -> Image.Image:
    return Image.open(DATA / "obama.jpg").convert("RGB")


def _look(photo: Image.Image, theme: str = "figurine", **params) -> Look:
    """What the engine hands a look: the photo at 1024 px, with the engine's small-face limit for it."""
    scale = 1024 / max(photo.size)
    source = photo.convert("RGB").resize((round(photo.width * scale), round(photo.height * scale)),
                                         Image.Resampling.LANCZOS)
    return Look(source, CATALOG.get(theme), RenderParams(seed=5, **params), lambda _f: None,
                min_face_px=LOW_RES_FACE_PX * scale)


def _on_grey(image: Image.Image) -> np.ndarray:
    shown = Image.new("RGB", image.size, (200, 200, 210))
    shown.paste(image, (0, 0), image)
    return np.asarray(shown)


def _render(photo: Image.Image, theme: str, **params) -> Image.Image:
    spec = CATALOG.get(theme)
    out = ENGINE.render(RenderRequest(photo, spec, RenderParams(**{"variant": spec.default_variant, "seed": 5,
                                                                   **params})))
    return finish(out.image, spec.finish, 5)


@pytest.fixture(scope="module")
def trio() -> Image.Image:
    """Three real portraits side by side: a group photo of three people."""
    return side_by_side([Image.fromarray(skdata.astronaut()), _hopper(),
                         Image.fromarray(skdata.astronaut()).transpose(Image.Transpose.FLIP_LEFT_RIGHT)])


def test_a_head_and_shoulders_selfie_becomes_a_whole_standing_figure_of_the_person() -> None:
    selfie = _obama()
    shot = figure.shot(figure.model(_look(selfie)), 500, 700)
    ys, xs = np.nonzero(np.asarray(shot.getchannel("A")) > 240)  # the figure and its base, not their shadow
    height, width = ys.max() - ys.min(), xs.max() - xs.min()
    assert shot.width == 500 and height >= 0.85 * 700, "as large as its room allows"
    assert height > 1.4 * width, "a whole standing figure, not a bust"
    shown = _on_grey(shot)
    assert len(find_faces(shown)) == 1, "the figure has the person's face"
    assert FaceIdentity().distance(selfie, Image.fromarray(shown)) <= 0.6, "recognisably the same person (dlib)"


@pytest.mark.parametrize("theme", ["figurine", "action-figure"])
def test_the_figure_fills_its_box_window(theme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shots: list[tuple[Image.Image, int]] = []
    real_shot = figure.shot

    def shot(toy, max_w: int, max_h: int, **kw):
        image = real_shot(toy, max_w, max_h, **kw)
        shots.append((image, max_h))
        return image

    monkeypatch.setattr(figure, "shot", shot)
    spec = CATALOG.get(theme)
    ClassicEngine().render(RenderRequest(_obama(), spec, RenderParams(name="Ada", variant=spec.default_variant,
                                                                      seed=5)))
    from minime.core.engines.classic import boxes

    (image, _), = shots
    ys = np.nonzero((np.asarray(image.getchannel("A")) > 240).any(axis=1))[0]
    window_h = (boxes.WINDOW[3] - boxes.WINDOW[1]) if theme == "figurine" else (boxes.BLISTER[3] - boxes.BLISTER[1])
    assert ys.max() - ys.min() >= 0.88 * window_h, "a collectible's box is filled by its figure"


def test_a_group_photo_becomes_a_set_with_one_figure_per_person(trio: Image.Image) -> None:
    shot = figure.shot(figure.model(_look(trio)), 900, 600)
    assert len(find_faces(_on_grey(shot))) == 3, "every person a figure, every face whole"


def test_the_caricature_is_a_bobblehead_of_the_same_figure() -> None:
    def head_share(theme: str) -> float:
        shot = figure.shot(figure.model(_look(_hopper(), theme, things=("nurse", "running"))), 500, 700)
        _, _, _, face_h = find_faces(_on_grey(shot))[0]
        return face_h / shot.height

    assert head_share("caricature") > 1.3 * head_share("figurine"), "a big head on a small body"


@pytest.mark.parametrize("theme", ["figurine", "action-figure", "desk-figure", "miniature"])
@pytest.mark.parametrize("photo", ["obama", "hopper"])
def test_the_toy_is_recognisably_the_person(photo: str, theme: str) -> None:
    selfie = _obama() if photo == "obama" else _hopper()
    distance = FaceIdentity().distance(selfie, _render(selfie, theme, name="Ada"))
    assert distance is not None and distance <= 0.6, f"{theme} of {photo}: dlib distance {distance}"


def _title_bar(image: Image.Image) -> np.ndarray:
    x0, y0, x1, _ = desk.SCREEN
    return np.asarray(image.crop((x0 + 10, y0 + 2, x0 + (x1 - x0) // 2, y0 + 22)).convert("L"), np.float32)


@pytest.mark.parametrize("name", ["李小龍", "سارة أحمد", "Zoë 🎸☕"])
def test_the_desk_monitor_names_the_model_file_in_any_script(name: str) -> None:
    photo = _hopper()
    drawn = _title_bar(_render(photo, "desk-figure", name=name))
    tofu = _title_bar(_render(photo, "desk-figure", name="\ue000" * len(name.replace(" ", ""))))
    assert np.abs(drawn - tofu).mean() > 2, "real glyphs, not the .notdef boxes"


def test_the_desk_monitor_shows_the_figure_model_in_clay() -> None:
    image = np.asarray(_render(_hopper(), "desk-figure", name="Ada"))
    x0, y0, x1, y1 = desk.SCREEN
    view = image[y0 + 30:y1 - 22, x0 + 60:x1 - 120].astype(np.float32)
    saturation = view.max(axis=2) - view.min(axis=2)
    clay = (view.mean(axis=2) > 110) & (saturation < 70)  # lighter than the app's grey, hardly coloured
    assert clay.mean() > 0.03, "an unpainted model stands in the viewport"


@pytest.mark.parametrize("theme", TOY_LOOKS)
def test_a_photo_without_a_person_gets_a_note_and_a_look_without_a_figure(theme: str) -> None:
    cup = Image.fromarray(skdata.coffee())
    out = ENGINE.render(RenderRequest(cup, CATALOG.get(theme), RenderParams(name="Ada", seed=5)))
    assert NO_PERSON in out.notes
    assert np.asarray(out.image).std() > 30, "a finished picture, the photo shown instead of a figure"


@pytest.mark.parametrize("theme", ["desk-figure", "caricature"])
def test_bigger_name_makes_the_name_bigger_on_the_desk_and_the_caricature(theme: str) -> None:
    photo, spec = _hopper(), CATALOG.get(theme)
    normal = ENGINE.render(RenderRequest(photo, spec, RenderParams(name="Ada", seed=5)))
    bigger = ENGINE.render(RenderRequest(photo, spec, RenderParams(name="Ada", seed=5, name_scale=1.44)))
    assert NO_NAME not in bigger.notes, "the look has a name: no note saying it has none"
    difference = np.abs(np.asarray(normal.image, np.float32) - np.asarray(bigger.image, np.float32)).mean()
    assert difference > 0.3, "the name grew"


def test_the_monitors_mesh_lines_lie_on_the_rendered_figure() -> None:
    toy = figure.without_base(figure.model(_look(_hopper(), "desk-figure")))
    size, angle = (360, 300), {"yaw": -35.0, "elevation": 12.0}
    lines = figure.mesh_lines(toy, *size, **angle) > 0.5
    solid = np.asarray(figure.render(toy, *size, **angle).getchannel("A")) > 128
    solid = cv2.dilate(solid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # an antialiased line's edge pixel
    assert lines.sum() > 500, "a visible topology"
    assert (lines & ~solid).sum() < 0.03 * lines.sum(), "drawn with the renderer's own camera, on the figure"


def test_a_figure_of_the_person_carries_no_note_about_a_missing_person() -> None:
    out = ENGINE.render(RenderRequest(_obama(), CATALOG.get("figurine"), RenderParams(seed=5, name="Ada")))
    assert NO_PERSON not in out.notes and LOW_RES not in out.notes and figure.LEFT_OUT not in out.notes


def test_someone_too_small_to_sculpt_is_named_in_a_note(trio: Image.Image) -> None:
    look = _look(trio)
    assert figure.model(look) is not None and look.figure_people == 3 and figure.LEFT_OUT not in look.notes
    far_away = _look(trio)
    far_away._faces = (*far_away.faces, (4, 4, 9, 9))  # a face the detector found far at the back: 9 px across
    assert figure.model(far_away).people == 3
    assert figure.LEFT_OUT in far_away.notes, "the user hears that someone could not become a figure"
