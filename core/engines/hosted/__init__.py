"""The hosted engine: a provider's image model (Google Gemini, OpenAI) does the generative part.

Each theme's editing ``instruction`` goes with the selfie as the input image; free-text refinements edit the previous
result; packaged looks put the model's figure into minime's own packaging so the name is typeset, never drawn.
Selfies leave the machine only inside a render request; the key never reaches a log or a user.
"""

from __future__ import annotations

import asyncio
import math
from urllib.parse import urlsplit

from PIL import Image

from minime.core.engines.base import ProgressCallback, RenderOutput, RenderRequest
from minime.core.engines.hosted.base import ImageModel, closest_aspect
from minime.core.engines.hosted.errors import HostedMisconfigured, HostedRefused, HostedUnavailable
from minime.core.engines.packaging import Packager, is_packaged
from minime.core.logs import get_logger
from minime.core.settings import Settings

log = get_logger("minime.hosted")

WAITING_TICK_S = 2.0
TYPICAL_WAIT_S = 30.0
KEEP_FACE = "Keep the person's face, features and skin tone exactly as in the photo."


class HostedEngine:
    """Renders themes with a hosted image model, at most ``concurrency`` requests in flight at once."""

    name = "hosted"
    understands_instructions = True

    def __init__(self, model: ImageModel, *, work_size: int = 1024, concurrency: int = 4) -> None:
        self.model = model
        self.service = model.service
        self._slots = asyncio.Semaphore(concurrency)
        self._packager = Packager(work_size)
        self._checked: asyncio.Future[None] | None = None

    async def check_access(self) -> None:
        """Make sure the key and model work, once per process, before any selfie is sent (no image goes)."""
        if self._checked is None or (self._checked.done() and self._checked.exception() is not None
                                     and not isinstance(self._checked.exception(), HostedMisconfigured)):
            self._checked = asyncio.ensure_future(self.model.check_access())
        await asyncio.shield(self._checked)

    async def __call__(self, request: RenderRequest, *, progress: ProgressCallback | None = None) -> RenderOutput:
        """Ask the model for the theme's picture (or the edit), then package it if the theme says so."""
        report = progress or _no_progress
        await self.check_access()
        image, instruction = self._ask(request)
        aspect = request.theme.diffusion.get("aspect") or closest_aspect(*request.source.size)
        report(0.05)
        async with self._slots:
            waiting = asyncio.create_task(self._tell_waiting(report), name="minime-hosted-waiting")
            try:
                picture = await self.model.edit(image, instruction, aspect=aspect, seed=request.params.seed)
            finally:
                waiting.cancel()
        report(0.8)
        return await asyncio.to_thread(self._packager.output, request, picture)

    async def _tell_waiting(self, report: ProgressCallback) -> None:
        """Say we wait on the service, again every couple of seconds (a status line may have skipped one); the
        fraction creeps towards 75 % as a typical answer's time passes."""
        started = asyncio.get_running_loop().time()
        while True:
            elapsed = asyncio.get_running_loop().time() - started
            try:
                report(0.1 + 0.65 * (1 - math.exp(-elapsed / TYPICAL_WAIT_S)), waiting_for=self.service)
            except Exception:  # the job was cancelled: its render task is being stopped too
                return
            await asyncio.sleep(WAITING_TICK_S)

    def _ask(self, request: RenderRequest) -> tuple[Image.Image, str]:
        """What to send: an edit of the previous result, or the selfie with the theme's instruction.

        A packaged look is always drawn again from the selfie (its previous result carries typeset packaging the
        model must not redraw), with every instruction so far folded in, like the diffusion engine does.
        """
        theme, params = request.theme, request.params
        if request.instruction and request.previous is not None and not is_packaged(theme):
            return request.previous, request.instruction
        instruction = theme.diffusion.get("instruction") or theme.diffusion.get("prompt") or theme.title
        instruction = instruction.replace("{name}", params.name or "").strip()
        if params.instructions:
            instruction = f"{instruction} Also: {'; '.join(params.instructions)}."
        if request.identity_boost:
            instruction = f"{instruction} {KEEP_FACE}"
        return request.source, instruction

    async def close(self) -> None:
        """Close the provider's connections."""
        if self._checked is not None and not self._checked.done():
            self._checked.cancel()
        await self.model.close()


def _no_progress(_fraction: float, *, waiting_for: str | None = None) -> None:
    pass


def service_name(settings: Settings) -> str:
    """Who the photos go to, for people: "OpenAI", "Google Gemini", "OpenAI (through gateway.example)"."""
    name = {"openai": "OpenAI", "gemini": "Google Gemini"}.get(settings.hosted_provider or "", "a hosted model")
    host = urlsplit(settings.hosted_base_url).hostname if settings.hosted_base_url else None
    return f"{name} (through {host})" if host else name


def image_model(settings: Settings) -> ImageModel:
    """The provider's SDK client named by the settings. Raises HostedMisconfigured when they are incomplete;
    nothing is sent anywhere before the settings are whole."""
    if settings.hosted_provider is None:
        raise HostedMisconfigured("MINIME_ENGINE=hosted needs MINIME_HOSTED_PROVIDER=gemini or openai")
    key = settings.hosted_api_key.get_secret_value().strip() if settings.hosted_api_key else ""
    if not key:
        raise HostedMisconfigured(f"MINIME_ENGINE=hosted needs MINIME_HOSTED_API_KEY: the API key of your "
                                  f"{service_name(settings)} account")
    try:
        import google.genai  # noqa: F401
        import openai  # noqa: F401
    except ImportError:
        raise HostedMisconfigured("MINIME_ENGINE=hosted needs the SDKs: pip install 'minime[hosted]'") from None
    common = {"base_url": settings.hosted_base_url, "timeout_s": settings.hosted_timeout_s,
              "max_retries": settings.hosted_max_retries}
    if settings.hosted_provider == "openai":
        from minime.core.engines.hosted.openai_images import OpenAIImages

        model: ImageModel = OpenAIImages(key, settings.hosted_model, **common)
    else:
        from minime.core.engines.hosted.gemini_images import GeminiImages

        model = GeminiImages(key, settings.hosted_model, **common)
    model.service = service_name(settings)
    return model


__all__ = ["HostedEngine", "HostedMisconfigured", "HostedRefused", "HostedUnavailable", "image_model",
           "service_name"]
