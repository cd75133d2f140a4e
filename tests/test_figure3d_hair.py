"""The figure's hair is painted in the hair's colour, read where the hair touches the face: Obama's short black hair
is a glossy near-black (not the grey of the wall behind it), the astronaut's brown hair a warm mid brown."""

from __future__ import annotations

import numpy as np

from minime.core.engines.classic.figure3d import build, options_for
from tests.test_figure3d import _astronaut, _look, _obama


def _hair_paint(photo) -> np.ndarray:
    look = _look(photo)
    model = build(look, options_for(look.theme, look.params))
    hair = next(p for p in model.parts if p.name == "hair")
    return hair.color.max(axis=0)  # the grooves only shade the paint darker


def test_black_hair_is_painted_near_black_and_brown_hair_brown() -> None:
    dark = _hair_paint(_obama())
    assert 0.1 < dark.max() < 0.22, dark  # near-black, lifted just enough to read as glossy hair
    assert np.ptp(dark) < 0.06, dark  # black, not brown
    brown = _hair_paint(_astronaut())
    assert 0.35 < brown[0] < 0.65 and brown[0] - brown[2] > 0.12, brown  # a warm mid brown
    assert brown.sum() > 2 * dark.sum()
