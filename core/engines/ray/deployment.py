"""The Ray Serve side: a deployment whose replicas each hold one classic or diffusion engine.

Deploy it from the front end (``MINIME_RAY_DEPLOY=true``, the default) or on the cluster itself: the Serve config
import path ``minime.core.engines.ray.deployment:build`` builds the same application from the replicas' MINIME_*
variables (deploy/kuberay-rayservice.yaml does that).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ray import serve

from minime.core.engines.base import RenderOutput, RenderRequest
from minime.core.errors import MinimeError
from minime.core.logs import get_logger
from minime.core.settings import Settings

log = get_logger("minime.ray")

# Only what an engine needs crosses to the replicas: never chat tokens, database URLs or passwords.
ENGINE_SETTINGS = ("work_size", "themes_dir", "render_timeout_s", "log_level", "log_json")


@dataclass(frozen=True)
class Outcome:
    """What a replica sends back: the output, or the failure in words for the user (and its type for the logs)."""

    output: RenderOutput | None
    error_type: str | None = None
    user_message: str | None = None


def engine_settings(settings: Settings) -> dict[str, Any]:
    """The settings a replica builds its engine from."""
    wanted = {name: getattr(settings, name) for name in ENGINE_SETTINGS}
    wanted.update({name: value for name, value in settings.model_dump().items() if name.startswith("diffusion_")})
    return wanted


@serve.deployment(name="render", max_ongoing_requests=4)
class RenderDeployment:
    """One engine per replica; concurrent requests are gathered into batches the engine can run together."""

    def __init__(self, settings: dict[str, Any], inner_engine: str, batch_size: int, batch_wait_s: float) -> None:
        from minime.core.engines.local import create_local_engine
        from minime.core.logs import configure_logging

        self.settings = Settings(_env_file=None, **settings)
        configure_logging(self.settings.log_level, self.settings.log_json)
        self.engine = create_local_engine(self.settings, inner_engine)
        self.render_batch.set_max_batch_size(batch_size)
        self.render_batch.set_batch_wait_timeout_s(batch_wait_s)
        log.info("render replica ready", engine=inner_engine, batch_size=batch_size)

    async def render(self, request: RenderRequest) -> Outcome:
        """Render one request (Serve batches it with the requests that arrive beside it)."""
        return await self.render_batch(request)

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.01)
    async def render_batch(self, requests: list[RenderRequest]) -> list[Outcome]:
        outputs = await asyncio.gather(*(self.engine(r) for r in requests), return_exceptions=True)
        return [_outcome(o) for o in outputs]


def _outcome(output: RenderOutput | BaseException) -> Outcome:
    if isinstance(output, MinimeError):
        return Outcome(None, type(output).__name__, output.user_message)
    if isinstance(output, BaseException):
        log.error("render failed in replica", error_type=type(output).__name__)
        return Outcome(None, type(output).__name__, None)
    return Outcome(output)


def application(settings: Settings) -> serve.Application:
    """The Serve application for these settings: replica resources, autoscaling, back-pressure, batching."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": settings.ray_replica_cpus, "num_gpus": settings.ray_replica_gpus},
        "max_ongoing_requests": settings.ray_max_ongoing_requests,
        "max_queued_requests": settings.ray_max_queued_requests,
    }
    if settings.ray_max_replicas > settings.ray_min_replicas:
        options["autoscaling_config"] = {"min_replicas": settings.ray_min_replicas,
                                         "max_replicas": settings.ray_max_replicas,
                                         "target_ongoing_requests": settings.ray_target_ongoing_requests}
    else:
        options["num_replicas"] = settings.ray_min_replicas
    return RenderDeployment.options(**options).bind(engine_settings(settings), settings.ray_inner_engine,
                                                    settings.diffusion_batch_size, settings.ray_batch_wait_s)


def build(args: dict[str, Any] | None = None) -> serve.Application:
    """Application builder for ``serve run`` / a RayService: settings from the environment, overridden by args."""
    return application(Settings(**(args or {})))
