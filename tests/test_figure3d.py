"""The 3D figure on real photos: a close-up becomes a whole toy (head, hair, body, legs, base) that is still the
person (dlib's face distance), a group gives one figure per face, the still is a cut-out RGBA, the turntable decodes
as a loop, and the mesh is one watertight solid of the asked height with its colours."""

from __future__ import annotations

import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import matplotlib
import numpy as np
import pytest
import trimesh
from PIL import Image
from skimage import data as skdata

from minime.core.checks import FaceIdentity
from minime.core.domain import RenderParams
from minime.core.engines.classic import LOW_RES_FACE_PX
from minime.core.engines.classic.figure3d import (
    FIGURE_RECIPES,
    FigureOptions,
    NoFigureError,
    build,
    mesh_file,
    options_for,
    still,
    turntable,
)
from minime.core.engines.classic.look import Look
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog
from tests.conftest import side_by_side

DATA = Path(__file__).resolve().parent / "data"
CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
IDENTITY = FaceIdentity()


def _hopper() -> Image.Image:
    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")


def _astronaut() -> Image.Image:
    return Image.fromarray(skdata.astronaut())


def _obama() -> Image.Image:
    return Image.open(DATA / "obama.jpg").convert("RGB")


def _look(photo: Image.Image, theme: str = "figurine", seed: int = 0) -> Look:
    """What the engine hands a look: the photo at 1024 px, with the engine's small-face limit for it."""
    scale = 1024 / max(photo.size)
    source = photo.convert("RGB").resize((round(photo.width * scale), round(photo.height * scale)),
                                         Image.Resampling.LANCZOS)
    return Look(source, CATALOG.get(theme), RenderParams(seed=seed), lambda _f: None,
                min_face_px=LOW_RES_FACE_PX * scale)


@pytest.fixture(scope="module")
def astronaut_figure():
    look = _look(_astronaut())
    return build(look, options_for(look.theme, look.params))


def test_every_figure_look_is_a_recipe() -> None:
    assert {t.recipe for t in CATALOG} >= FIGURE_RECIPES


def test_a_close_up_becomes_a_whole_figure_on_a_base(astronaut_figure) -> None:
    names = set(astronaut_figure.part_names())
    assert {"head", "hair", "neck", "torso", "hips", "thigh0", "shin1", "hand0", "shoe1", "base"} <= names
    assert astronaut_figure.people == 1
    # Toy proportions: the head is a large share of the figure, the base under the feet.
    head = next(p for p in astronaut_figure.parts if p.name == "head").vertices[:, 1]
    assert 0.18 < (head.max() - head.min()) / astronaut_figure.height < 0.4
    base = next(p for p in astronaut_figure.parts if p.name == "base").vertices[:, 1]
    assert base.min() == pytest.approx(0.0, abs=1e-3)


def test_the_hands_are_sculpted_with_fingers_not_mittens(astronaut_figure) -> None:
    hand = next(p for p in astronaut_figure.parts if p.name == "hand0")
    shells = trimesh.Trimesh(hand.vertices, hand.faces, process=False).split(only_watertight=False)
    assert len(shells) >= 5, "a palm and four fingers (each of its segments a closed shell)"
    palm = max(shells, key=lambda m: len(m.vertices))
    tips = np.linalg.norm(hand.vertices - palm.vertices.mean(axis=0), axis=1).max()
    assert tips > 1.3 * np.linalg.norm(palm.vertices - palm.vertices.mean(axis=0), axis=1).max(), \
        "the fingers reach beyond the palm"


def test_a_selfie_that_stops_at_the_chin_still_gets_a_dressed_body() -> None:
    face_only = _astronaut().crop((150, 30, 310, 200))  # hair, face and chin: no clothes in the photo
    figure = build(_look(face_only))
    torso = next(p for p in figure.parts if p.name == "torso")
    skin = next(p for p in figure.parts if p.name == "neck").color[0]
    assert np.abs(torso.color[0] - skin).sum() > 0.2  # an outfit, not a skin-coloured body
    assert {"thigh0", "shoe0", "hand1", "base"} <= set(figure.part_names())


def test_a_suit_keeps_its_jacket_shirt_and_tie() -> None:
    figure = build(_look(_obama()))  # a navy suit, a light blue shirt, a blue tie
    torso = next(p for p in figure.parts if p.name == "torso")
    *_, shirt, tie = torso.extras["vee"]
    jacket = torso.color[0]
    assert sum(jacket) < 0.8 and sum(shirt) > 2.0  # dark jacket, light shirt
    assert tie is not None and tie[2] > tie[0] + 0.15  # the blue tie
    trousers = next(p for p in figure.parts if p.name == "thigh0").color[0]
    assert np.abs(trousers - jacket).max() < 0.05  # a suit's trousers match its jacket


def test_the_still_is_the_figure_cut_out_with_its_shadow(astronaut_figure) -> None:
    image = still(astronaut_figure, (400, 560))
    assert image.mode == "RGBA" and image.size == (400, 560)
    alpha = np.asarray(image)[..., 3]
    assert (alpha[240:290, 185:215] == 255).all()  # the body in the middle is opaque
    assert alpha[:20].max() == 0 and alpha[:, :15].max() == 0  # nothing above or beside it
    assert 0 < alpha[-40:].max()  # the floor shadow under the base


@pytest.mark.parametrize("photo", [_astronaut, _hopper, _obama], ids=["astronaut", "hopper", "obama"])
def test_the_figure_is_still_the_person(photo) -> None:
    look = _look(photo())
    figure = build(look, FigureOptions())
    front = still(figure, (768, 1024))
    shown = Image.new("RGB", front.size, (215, 218, 225))
    shown.paste(front, (0, 0), front)
    distance = IDENTITY.distance(photo(), shown)
    assert distance is not None and distance <= 0.6


def test_a_group_gives_one_figure_per_face() -> None:
    group = side_by_side([_astronaut(), _hopper(), _obama()])
    look = _look(group)
    figure = build(look)
    assert figure.people == 3
    heads = [p for p in figure.parts if p.name.endswith(".head")]
    assert len(heads) == 3
    centres = sorted(float(h.vertices[:, 0].mean()) for h in heads)
    assert np.diff(centres).min() > 1.0  # side by side, not in each other
    assert sum(p.name == "base" for p in figure.parts) == 1


def test_a_caricature_has_a_big_head_on_a_small_body() -> None:
    look = _look(_astronaut(), "caricature")
    options = options_for(look.theme, look.params)
    assert options.head_scale > 1.4 and options.body_scale < 1.0
    figure = build(look, options)
    plain = build(_look(_astronaut()))
    share = {}
    for name, fig in (("caricature", figure), ("plain", plain)):
        head = next(p for p in fig.parts if p.name == "head").vertices[:, 1]
        share[name] = (head.max() - head.min()) / fig.height
    assert share["caricature"] > share["plain"] * 1.3


def test_a_caricatures_job_dresses_the_figure() -> None:
    look = _look(_hopper(), "caricature")
    chef = build(look, FigureOptions(head_scale=1.7, body_scale=0.78, costume=("Chefs", "running")))
    assert "hat" in chef.part_names()
    torso = next(p for p in chef.parts if p.name == "torso")
    assert torso.color[0].min() > 0.85  # the chef's whites, not the photo's navy uniform
    plain = build(look, FigureOptions(head_scale=1.7, body_scale=0.78, costume=("juggling",)))
    assert "hat" not in plain.part_names()


def test_no_person_no_figure() -> None:
    with pytest.raises(NoFigureError) as caught:
        build(_look(Image.fromarray(skdata.coffee())))
    assert isinstance(caught.value, ValueError) and "face" in caught.value.user_message


def test_a_face_too_small_to_sculpt_is_said_so() -> None:
    tiny = _astronaut().resize((200, 200), Image.Resampling.LANCZOS)  # the face about 36 px across
    with pytest.raises(NoFigureError) as caught:
        build(_look(tiny))
    assert "face" in caught.value.user_message


def test_one_figure_renders_from_several_threads_at_once() -> None:
    figure = build(_look(_obama()))
    with ThreadPoolExecutor(4) as pool:
        stills = list(pool.map(lambda _i: np.asarray(still(figure, (160, 200))), range(3)))
        meshes = list(pool.map(lambda _i: mesh_file(figure, "stl"), range(2)))
    assert all((s == stills[0]).all() for s in stills) and meshes[0] == meshes[1]


def _decode(data: bytes) -> tuple[list[np.ndarray], float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        seconds = float(stream.duration * stream.time_base) if stream.duration else float(container.duration) / 1e6
    return pictures, seconds


def test_the_turntable_is_a_looping_h264_video(astronaut_figure) -> None:
    data = turntable(astronaut_figure, "mp4")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert not container.streams.audio
    assert data[4:8] == b"ftyp" and data.find(b"moov") < data.find(b"mdat")  # faststart: the index first
    pictures, seconds = _decode(data)
    assert len(pictures) >= 24 and min(pictures[0].shape[:2]) >= 480 and 2 <= seconds <= 6
    first, second, last, quarter = (pictures[i].astype(np.float32) for i in (0, 1, -1, len(pictures) // 4))
    step = np.abs(first - second).mean()
    assert np.abs(last - first).mean() < 1.5 * step < np.abs(first - quarter).mean()  # the end meets the start


def test_the_turntable_gif_loops(astronaut_figure) -> None:
    data = turntable(astronaut_figure, "gif", size=480, frames=24, seconds=2.4)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.n_frames == 24 and gif.size == (480, 480)
    assert gif.info.get("loop") == 0 and gif.info.get("duration") == 100


@pytest.mark.parametrize("fmt", ["glb", "3mf", "stl"])
def test_the_mesh_is_one_watertight_solid_of_the_asked_height(astronaut_figure, fmt) -> None:
    data = mesh_file(astronaut_figure, fmt, height_mm=120)
    mesh = trimesh.load(io.BytesIO(data), file_type=fmt, force="mesh")
    assert mesh.is_watertight and mesh.is_volume
    # One solid: every finger joined to its hand, the figure to its base (nothing prints as a loose piece).
    assert len(mesh.split(only_watertight=False)) == 1
    up = 1 if fmt == "glb" else 2  # glTF is Y-up; 3MF and STL are Z-up
    assert mesh.bounds[0, up] == pytest.approx(0.0, abs=0.01)
    assert mesh.bounds[1, up] == pytest.approx(120.0, rel=0.01)
    if fmt == "glb":
        colors = np.asarray(mesh.visual.vertex_colors)[:, :3]
        assert len(np.unique(colors // 16, axis=0)) > 20  # the face's colours, not one paint
    if fmt == "3mf":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            model = z.read("3D/3dmodel.model").decode()
        assert len(re.findall(r"<m:color ", model)) > 20 and 'pid="1"' in model
