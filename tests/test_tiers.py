"""A wide group rearranged to fill a portrait picture (magazine cover, comic panel, anime): bigger than a band
across the bottom, every face inside the picture, between ``top`` and ``floor``, and no face over another."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from PIL import Image
from skimage import data as skdata

from minime.core.domain import RenderParams
from minime.core.engines.classic import tiers
from minime.core.engines.classic.look import Look
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

DATA = Path(__file__).resolve().parent / "data"
SIZE, TOP, FLOOR = (1024, 1280), 200, 1150


def _side_by_side() -> Image.Image:
    """The astronaut, Grace Hopper and Obama side by side, as docs/make_gallery.py shows a group (about 3:1)."""
    hopper = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    people = [Image.fromarray(skdata.astronaut()), hopper, Image.open(DATA / "obama.jpg").convert("RGB")]
    people = [p.resize((round(p.width * 400 / p.height), 400)) for p in people]
    group = Image.new("RGB", (sum(p.width for p in people), 400))
    for i, person in enumerate(people):
        group.paste(person, (sum(p.width for p in people[:i]), 0))
    return group


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_a_wide_group_fills_a_portrait_picture() -> None:
    theme = ThemeCatalog.from_dir(THEMES_DIR, engine="classic").get("magazine-cover")
    look = Look(_side_by_side(), theme, RenderParams(name="Team", seed=5), lambda _: None)
    assert len(look.faces) == 3
    group = tiers.arrange(look, SIZE, TOP, FLOOR)
    assert group.rgb.shape == (SIZE[1], SIZE[0], 3) and group.alpha.shape == SIZE[::-1]
    assert len(group.faces) == 3
    band_scale = SIZE[0] / look.source.width  # the photo shown whole, as wide as the picture
    for x, y, w, h in group.faces:
        assert 0 <= x and x + w <= SIZE[0] and TOP <= y and y + h <= FLOOR
        assert w >= 1.3 * band_scale * min(f[2] for f in look.faces), "the people are clearly bigger than a band"
        assert group.alpha[int(y + h / 2), int(x + w / 2)] > 0.5, "the face is cut out with its person"
    faces = group.faces
    assert not any(_overlap(a, b) for i, a in enumerate(faces) for b in faces[i + 1:])
    assert group.alpha[SIZE[1] // 2:].mean() > 0.2, "the lower half of the picture is not left empty"
