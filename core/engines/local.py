"""The engines that render in this process: classic, diffusion, hosted (the ray engine sends work to replicas that
each run one of these)."""

from __future__ import annotations

from minime.core.engines.base import Engine
from minime.core.settings import Settings


def create_local_engine(settings: Settings, name: str | None = None) -> Engine:
    """The engine named by ``MINIME_ENGINE`` (or ``name``) that renders in this process (a Ray replica's too).
    Heavy engines are imported only when chosen."""
    name = name or settings.engine
    if name == "classic":
        from minime.core.engines.classic import ClassicEngine

        return ClassicEngine(work_size=settings.work_size)
    if name == "diffusion":
        from minime.core.engines.diffusion import DiffusionEngine

        return DiffusionEngine(settings)
    if name == "hosted":
        from minime.core.engines.hosted import HostedEngine, image_model

        return HostedEngine(image_model(settings), work_size=settings.work_size,
                            concurrency=settings.hosted_concurrency)
    raise ValueError(f"MINIME_ENGINE={name!r} is not available in this version of minime yet; "
                     "use MINIME_ENGINE=classic, diffusion, ray or hosted")
