"""The ray engine: render requests go to a Ray Serve deployment that wraps the classic or diffusion engine.

The Studio keeps the durable job; this engine only carries one render to the cluster and back. A replica that dies
mid-render raises WorkerLost, and the Studio runs the job again (a bounded number of times). A cluster whose queue
is full answers with back-pressure, which this engine waits out: users see their place in the Studio's queue.
"""

from __future__ import annotations

import asyncio
import random
import time

from minime.core.engines.base import ProgressCallback, RenderOutput, RenderRequest
from minime.core.errors import EngineFailed, WorkerLost
from minime.core.i18n import N_
from minime.core.logs import get_logger
from minime.core.settings import Settings

log = get_logger("minime.ray")


class RayEngine:
    """A client of the minime Serve application (deployed by it, or found on the cluster)."""

    name = "ray"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.understands_instructions = settings.ray_inner_engine == "diffusion"
        self._handle = None
        self._connect_lock = asyncio.Lock()
        self._started_ray = False

    async def connect(self):
        """Join the cluster (or start a local one) and get the application's handle, deploying it if asked to."""
        async with self._connect_lock:
            if self._handle is None:
                self._handle = await asyncio.to_thread(self._connect_sync)
            return self._handle

    def _connect_sync(self):
        import ray
        from ray import serve
        from ray.serve.exceptions import RayServeException

        if not ray.is_initialized():
            ray.init(address=self.settings.ray_address, namespace=self.settings.ray_namespace,
                     include_dashboard=False, logging_level="warning", log_to_driver=False)
            self._started_ray = True
        if self.settings.ray_deploy:
            from minime.core.engines.ray.deployment import application

            serve.start(proxy_location="Disabled")  # the front ends use handles; no HTTP port is opened
            serve.run(application(self.settings), name=self.settings.ray_app_name, route_prefix=None)
            log.info("serve application deployed", app=self.settings.ray_app_name,
                     inner_engine=self.settings.ray_inner_engine)
            return serve.get_app_handle(self.settings.ray_app_name)
        # The cluster deploys the application (another front end, a RayService): wait for it to come up.
        deadline = time.monotonic() + self.settings.ray_connect_timeout_s
        while True:
            try:
                return serve.get_app_handle(self.settings.ray_app_name)
            except (RayServeException, ValueError) as exc:
                if time.monotonic() > deadline:
                    log.error("serve application not found", app=self.settings.ray_app_name,
                              error_type=type(exc).__name__)
                    raise EngineFailed(N_("The image service isn't reachable right now. Please try again soon.")
                                       ) from None
                time.sleep(1.0)

    async def __call__(self, request: RenderRequest, *, progress: ProgressCallback | None = None) -> RenderOutput:
        """Send the request to a replica; wait out back-pressure; turn a lost replica into WorkerLost."""
        import ray.exceptions
        from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError, ReplicaUnavailableError

        report = progress or (lambda _fraction: None)
        handle = await self.connect()
        report(0.05)
        delay = 0.2
        while True:
            try:
                outcome = await handle.render.remote(request)
                break
            except BackPressureError:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5.0)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ReplicaUnavailableError,
                    DeploymentUnavailableError) as exc:
                log.warning("render replica lost", error_type=type(exc).__name__)
                raise WorkerLost() from None
        if outcome.output is None:
            raise EngineFailed(outcome.user_message) if outcome.user_message else EngineFailed()
        report(0.85)
        return outcome.output

    async def close(self) -> None:
        """Let go of the cluster (a local cluster this process started is shut down with it)."""
        self._handle = None
        if self._started_ray:
            import ray

            await asyncio.to_thread(ray.shutdown)
            self._started_ray = False
