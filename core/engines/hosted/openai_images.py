"""OpenAI's image models (gpt-image-1 and later) through the official ``openai`` SDK's async client.

Retries are the SDK's own: ``max_retries`` tries again on 408, 409, 429 and 5xx with exponential backoff, honouring
``Retry-After``/``retry-after-ms`` up to two minutes, and gives up at once when the service asks for longer.
"""

from __future__ import annotations

import base64

import openai
from PIL import Image

from minime.core.engines.hosted.base import decode, upload_jpeg
from minime.core.engines.hosted.errors import (
    HostedKeyRejected,
    HostedMisconfigured,
    HostedRefused,
    HostedUnavailable,
)
from minime.core.logs import get_logger

log = get_logger("minime.hosted.openai")

DEFAULT_MODEL = "gpt-image-1"
SIZES = {"portrait": "1024x1536", "landscape": "1536x1024", "square": "1024x1024"}
REFUSALS = {"moderation_blocked", "content_policy_violation"}


def size_for(aspect: str) -> str:
    """OpenAI's three sizes: the one nearest the aspect ratio."""
    w, h = (int(x) for x in aspect.split(":"))
    if w / h < 0.83:
        return SIZES["portrait"]
    return SIZES["landscape"] if w / h > 1.2 else SIZES["square"]


class OpenAIImages:
    """``images.edit`` with the selfie as the input image and high input fidelity (faces stay the person's)."""

    service = "OpenAI"

    def __init__(self, api_key: str, model: str | None = None, *, base_url: str | None = None,
                 timeout_s: float = 300.0, max_retries: int = 4) -> None:
        self.model = model or DEFAULT_MODEL
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s,
                                          max_retries=max_retries)

    async def check_access(self) -> None:
        """GET the model: a rejected key is the operator's to fix. Anything else (a gateway without the models
        endpoint, an unknown model) is left for the first render to report."""
        try:
            await self._client.models.retrieve(self.model)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise self._translate(exc) from None
        except openai.APIStatusError as exc:
            log.info("the model could not be confirmed before the first render", service=self.service,
                     status=exc.status_code)
        except openai.APIError as exc:
            raise self._translate(exc) from None

    async def edit(self, image: Image.Image, instruction: str, *, aspect: str, seed: int) -> Image.Image:
        """One edit; OpenAI takes no seed, so a variation is simply asked again."""
        try:
            answer = await self._client.images.edit(
                model=self.model, image=("selfie.jpg", upload_jpeg(image), "image/jpeg"), prompt=instruction,
                size=size_for(aspect), input_fidelity="high", n=1)
        except openai.APIError as exc:
            raise self._translate(exc) from None
        picture = answer.data[0] if answer.data else None
        if picture is None or not picture.b64_json:
            log.error("the model answered without image data (a gpt-image model returns base64)", model=self.model)
            raise HostedUnavailable(self.service, "sent no picture")
        return decode(base64.b64decode(picture.b64_json))

    def _translate(self, exc: openai.APIError) -> Exception:
        """The SDK's error as ours; the provider's message is not passed on (it may quote the key)."""
        status = getattr(exc, "status_code", None)
        code = getattr(exc, "code", None)
        if isinstance(exc, openai.BadRequestError) and code in REFUSALS:
            log.info("request refused by the provider's safety system", service=self.service, code=code)
            return HostedRefused(self.service)
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return HostedKeyRejected(f"OpenAI rejected MINIME_HOSTED_API_KEY (HTTP {status}); "
                                       "set a valid key for this account")
        if isinstance(exc, openai.BadRequestError):
            return HostedMisconfigured(f"OpenAI rejected the image edit (HTTP 400, code {code}); check that "
                                       f"MINIME_HOSTED_MODEL={self.model} is an image model that edits images")
        if isinstance(exc, openai.NotFoundError):
            return HostedMisconfigured(f"OpenAI has no model {self.model!r} for this key (MINIME_HOSTED_MODEL)")
        if isinstance(exc, openai.APITimeoutError):
            log.warning("the provider did not answer in time", service=self.service)
            return HostedUnavailable(self.service, "took too long to answer")
        if isinstance(exc, openai.APIConnectionError):
            log.warning("the provider could not be reached", service=self.service, error_type=type(exc).__name__)
            return HostedUnavailable(self.service, "can't be reached")
        log.warning("the provider failed the request", service=self.service, status=status, code=code)
        return HostedUnavailable(self.service)

    async def close(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()
