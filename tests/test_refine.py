"""The refinement vocabulary reads like people write."""

from __future__ import annotations

import pytest

from minime.core.errors import UnknownRefinement
from minime.core.refine import parse_refinement
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

CATALOG = ThemeCatalog.from_dir(THEMES_DIR)


def adj(text: str) -> dict[str, float]:
    return parse_refinement(text, CATALOG).adjustments.to_dict()


@pytest.mark.parametrize("text, expected", [
    ("warmer colors", {"warmth": 0.5}),
    ("a bit warmer", {"warmth": 0.25}),
    ("much warmer please", {"warmth": 1.0}),
    ("cooler", {"warmth": -0.5}),
    ("less grain", {"grain": -0.5}),
    ("more grain please", {"grain": 0.5}),
    ("not so dark", {"brightness": 0.5}),
    ("it's too dark", {"brightness": 0.5}),
    ("less faded", {"fade": -0.5}),
    ("more vivid and sharper", {"fade": -0.5, "sharpness": 0.5}),
    ("brighter, less contrast", {"brightness": 0.5, "contrast": -0.5}),
    ("black and white", {"saturation": -2.0}),
    ("slightly softer", {"sharpness": -0.25}),
])
def test_vocabulary(text: str, expected: dict[str, float]) -> None:
    assert adj(text) == expected


def test_render_changes() -> None:
    r = parse_refinement("another background colour and a bigger name", CATALOG)
    assert r.palette_step == 1 and r.name_scale > 1 and r.needs_render
    assert parse_refinement("smaller name", CATALOG).name_scale < 1
    assert parse_refinement("variation", CATALOG).variation
    assert not parse_refinement("warmer", CATALOG).needs_render


def test_theme_switch_in_free_text() -> None:
    assert parse_refinement("make it 80s", CATALOG).theme.id == "retro-80s"
    assert parse_refinement("as a polaroid please", CATALOG).theme.id == "polaroid"
    assert parse_refinement("warhol style", CATALOG).theme.id == "pop-art"


def test_unknown_text_lists_what_is_understood() -> None:
    with pytest.raises(UnknownRefinement) as err:
        parse_refinement("give her a pirate hat", CATALOG)
    message = err.value.user_message
    for word in ("warmer", "grain", "background", "variation", "80s"):
        assert word in message


def test_editing_engines_get_unknown_text_as_an_instruction() -> None:
    r = parse_refinement("add sunglasses, warmer", CATALOG, accept_instructions=True)
    assert r.instruction == "add sunglasses, warmer" and r.adjustments.warmth > 0 and r.needs_render


def test_accumulation_is_clamped() -> None:
    from minime.core.domain import RenderParams

    params = RenderParams()
    for _ in range(20):
        params = parse_refinement("much warmer", CATALOG).apply_to(params, "figurine", 1)
    assert params.adjustments.warmth == 2.0
