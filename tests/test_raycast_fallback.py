"""Where embreex has no wheel (Linux aarch64), figure3d casts its rays in NumPy (figure3d/raycast.py): the product
still imports without embreex, and the fallback answers every query render.py asks as Embree does (the hit triangle,
its distance, barycentrics and normal; occlusion within a distance or without one), so the figure renders the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minime.core.domain import RenderParams
from minime.core.engines.classic.figure3d import build, options_for, raycast
from minime.core.engines.classic.figure3d import render as renderer
from minime.core.engines.classic.look import Look
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent


@pytest.fixture(scope="module")
def figure_scene():
    """The Embree scene of a real figurine (obama.jpg), and the same triangles in the NumPy fallback."""
    theme = ThemeCatalog.from_dir(THEMES_DIR, engine="classic").get("figurine")
    photo = Image.open(DATA / "obama.jpg").convert("RGB")
    photo = photo.resize((1024, round(photo.height * 1024 / photo.width)))
    look = Look(photo, theme, RenderParams(name="Ada", seed=3), lambda _f: None)
    scene = renderer.scene_of(build(look, options_for(theme, look.params)))
    assert raycast.backend() == "embree", "this machine has embreex: the comparison needs both"
    return scene, raycast.NumpyScene(scene.vertices, scene.faces)


def _camera_rays(scene, count: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    cam = renderer.camera_for(scene, (256, 256), [35.0], 8.0)[0]
    rng = np.random.default_rng(5)
    px, py = rng.uniform(60, 196, count).astype(np.float32), rng.uniform(10, 250, count).astype(np.float32)
    dirs = cam.rays(px, py).astype(np.float32)
    return np.broadcast_to(cam.eye, dirs.shape).astype(np.float32), dirs


def test_the_fallback_sees_what_embree_sees(figure_scene) -> None:
    embree, fallback = figure_scene
    origins, dirs = _camera_rays(embree)
    want, got = embree.embree.run(origins, dirs.copy(), output=1), fallback.run(origins, dirs.copy(), output=1)
    hit = want["primID"] >= 0
    assert 0.2 < hit.mean() < 0.95, "rays on the figure and beside it"
    same = got["primID"] == want["primID"]
    assert same.mean() > 0.995, same.mean()  # a ray grazing an edge may pick the neighbour
    both = same & hit
    assert np.allclose(got["tfar"][both], want["tfar"][both], rtol=1e-4, atol=1e-4)
    assert np.allclose(got["u"][both], want["u"][both], atol=1e-3)
    assert np.allclose(got["v"][both], want["v"][both], atol=1e-3)
    cos = np.einsum("ij,ij->i", got["Ng"][both], want["Ng"][both]) / (
        np.linalg.norm(got["Ng"][both], axis=1) * np.linalg.norm(want["Ng"][both], axis=1))
    assert (cos > 0.999).all(), "the same geometric normal, the same way round"
    assert (got["tfar"][~hit] == want["tfar"][~hit]).all() and (got["geomID"] == want["geomID"]).all()
    assert np.array_equal(fallback.run(origins, dirs.copy()), got["primID"])


def test_the_fallback_answers_occlusion_within_a_reach_as_embree(figure_scene) -> None:
    embree, fallback = figure_scene
    rng = np.random.default_rng(9)
    pick = rng.choice(len(embree.vertices), 2000, replace=False)
    normals = embree.normals[pick]
    origins = (embree.vertices[pick] + normals * 0.004).astype(np.float32)
    dirs = (normals + rng.normal(0, 0.6, normals.shape)).astype(np.float32)  # the occlusion rays' hemisphere
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    reach = np.full(len(dirs), 0.7, np.float32)
    want = embree.embree.run(origins, dirs.copy(), dists=reach.copy(), query="OCCLUDED")
    got = fallback.run(origins, dirs.copy(), dists=reach.copy(), query="OCCLUDED")
    assert 0.05 < (want != -1).mean() < 0.95
    assert ((got != -1) == (want != -1)).mean() > 0.995
    unbounded = embree.embree.run(origins, dirs.copy(), query="OCCLUDED")
    assert ((fallback.run(origins, dirs.copy(), query="OCCLUDED") != -1) == (unbounded != -1)).mean() > 0.995
    assert (unbounded != -1).sum() >= (want != -1).sum(), "farther reach, more occluded"


def test_without_embreex_minime_imports_and_figure3d_casts_with_numpy(tmp_path: Path) -> None:
    """As on a machine where pip left embreex out: importing it fails, everything else works."""
    script = (
        "import sys; sys.modules['embreex'] = None\n"  # `import embreex` now raises ImportError
        "import numpy as np\n"
        "from minime.core.app import build_studio\n"
        "from minime.core.engines.classic.figure3d import raycast, render\n"
        "assert raycast.backend() == 'numpy', raycast.backend()\n"
        "v = np.float32([[0, 0, 0], [1, 0, 0], [0, 1, 0]]); f = np.int32([[0, 1, 2]])\n"
        "scene = raycast.ray_scene(v, f)\n"
        "hit = scene.run(np.float32([[0.2, 0.3, 1], [5, 5, 1]]), np.float32([[0, 0, -1], [0, 0, -1]]), output=1)\n"
        "assert list(hit['primID']) == [0, -1] and abs(hit['tfar'][0] - 1) < 1e-6, hit\n"
        "assert abs(hit['u'][0] - 0.2) < 1e-6 and abs(hit['v'][0] - 0.3) < 1e-6, hit\n"
        "print(type(scene).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "MINIME_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "NumpyScene"


def test_minime_raycaster_numpy_forces_the_fallback(monkeypatch) -> None:
    monkeypatch.setenv(raycast.BACKEND_ENV, "numpy")
    assert raycast.backend() == "numpy"
    scene = raycast.ray_scene(np.float32([[0, 0, 0], [1, 0, 0], [0, 1, 0]]), np.int32([[0, 1, 2]]))
    assert isinstance(scene, raycast.NumpyScene)
    monkeypatch.delenv(raycast.BACKEND_ENV)
    assert raycast.backend() == "embree" and ROOT.exists()
