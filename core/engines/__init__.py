"""Engines turn a RenderRequest into an image. ``create_engine`` picks one from the settings."""

from __future__ import annotations

from minime.core.engines.base import Engine, ProgressCallback, RenderOutput, RenderRequest
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
    if name == "classic":
        from minime.core.engines.classic import ClassicEngine

        return ClassicEngine(work_size=settings.work_size)
    if name == "diffusion":
        from minime.core.engines.diffusion import DiffusionEngine

        return DiffusionEngine(settings)
    if name == "ray":
        from minime.core.engines.ray import RayEngine

        return RayEngine(settings)
    if name == "hosted":
        from minime.core.engines.hosted import HostedEngine, image_model

        return HostedEngine(image_model(settings), work_size=settings.work_size,
                            concurrency=settings.hosted_concurrency)
    raise ValueError(f"MINIME_ENGINE={name!r} is not available in this version of minime yet; "
                     "use MINIME_ENGINE=classic, diffusion, ray or hosted")


def theme_catalog(settings: Settings, engine: str | None = None) -> ThemeCatalog:
    """The theme files of ``MINIME_THEMES_DIR``, checked against the classic engine's recipes, showing the looks that
    ``engine`` (default: ``MINIME_ENGINE``) can make. Raises ThemeFileInvalid naming a malformed file."""
    from minime.core.engines.classic import RECIPES

    return ThemeCatalog.from_dir(settings.themes_dir, engine_kind(settings, engine), recipes=RECIPES)
