"""Engines turn a RenderRequest into an image. ``create_engine`` picks one from the settings."""

from __future__ import annotations

from minime.core.engines.base import Engine, ProgressCallback, RenderOutput, RenderRequest
from minime.core.engines.local import create_local_engine
from minime.core.settings import Settings
from minime.core.themes import ThemeCatalog

__all__ = ["Engine", "ProgressCallback", "RenderOutput", "RenderRequest", "create_engine", "engine_kind",
           "theme_catalog"]


def engine_kind(settings: Settings, name: str | None = None) -> str:
    """The kind of engine that makes the pictures (what theme files name in ``engines``): ray runs another one."""
    name = name or settings.engine
    return settings.ray_inner_engine if name == "ray" else name


def create_engine(settings: Settings, name: str | None = None) -> Engine:
    """The engine named by ``MINIME_ENGINE`` (or ``name``). Heavy engines are imported only when chosen."""
    name = name or settings.engine
    if name == "ray":  # a client of replicas that each run one of the engines in this process's place
        from minime.core.engines.ray import RayEngine

        return RayEngine(settings)
    return create_local_engine(settings, name)


def theme_catalog(settings: Settings, engine: str | None = None) -> ThemeCatalog:
    """The theme files of ``MINIME_THEMES_DIR``, checked against the classic engine's recipes, showing the looks that
    ``engine`` (default: ``MINIME_ENGINE``) can make. Raises ThemeFileInvalid naming a malformed file."""
    from minime.core.engines.classic import RECIPES

    return ThemeCatalog.from_dir(settings.themes_dir, engine_kind(settings, engine), recipes=RECIPES)
