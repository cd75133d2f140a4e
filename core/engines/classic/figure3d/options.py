"""How a figure is made: proportions, pose, costume, and the variation a request's seed picks."""

from __future__ import annotations

from dataclasses import dataclass

FIGURE_RECIPES: frozenset[str] = frozenset({"figurine", "action-figure", "desk-figure", "caricature", "miniature"})


@dataclass(frozen=True)
class FigureOptions:
    """The figure's options; the defaults make the plain collectible figure."""

    head_scale: float = 1.0  # caricature / bobblehead: ~1.6-1.8 with a smaller body
    body_scale: float = 1.0
    pose: str = "stand"  # "stand", "action" (arms posed)
    costume: tuple[str, ...] = ()  # caricature: the job ("nurse", "chef") as costume colours, best effort
    variation: int = 0  # from the request's seed: another pose, colourway, light and camera
    base: int = 0  # the plinth's colourway (see build.BASES)
    base_color: tuple[float, float, float] | None = None  # sRGB 0..1, overrides ``base``


def options_for(theme, params) -> FigureOptions:
    """The options for a theme's recipe and a request's parameters (the seed picks the variation)."""
    recipe = getattr(theme, "recipe", None) or ""
    seed = int(getattr(params, "seed", 0) or 0)
    things = tuple(getattr(params, "things", ()) or ())
    variation = seed % 997
    if recipe == "caricature":
        return FigureOptions(head_scale=1.7, body_scale=0.78, costume=things, variation=variation, base=variation)
    if recipe == "action-figure":
        return FigureOptions(pose="action", variation=variation, base=variation)
    return FigureOptions(variation=variation, base=variation)
