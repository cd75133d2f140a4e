"""OpenAI's image models (gpt-image-2 by default; gpt-image-1.5, gpt-image-2.5-…) through the official ``openai``
SDK's async client, or any server that speaks the same Images API (``MINIME_HOSTED_BASE_URL``: a gateway).

Parameters as the pinned SDK (openai 3.51) documents them: ``input_fidelity`` ("high" keeps faces) is taken by
gpt-image-1.5 and must be omitted for gpt-image-2 and later; gpt-image-2 and later draw any ``WIDTHxHEIGHT`` whose
sides are multiples of 16 (aspect 1:3 to 3:1), older models only 1024×1024, 1536×1024 and 1024×1536.

Retries are the SDK's own: ``max_retries`` tries again on 408, 409, 429 and 5xx with exponential backoff, honouring
``Retry-After``/``retry-after-ms`` up to two minutes, and gives up at once when the service asks for longer.
"""

from __future__ import annotations

import base64

import openai
from PIL import Image

from minime.core.engines.hosted.base import decode, upload_jpeg
from minime.core.engines.hosted.costs import DEFAULT_MODELS
from minime.core.engines.hosted.errors import (
    HostedKeyRejected,
    HostedMisconfigured,
    HostedRefused,
    HostedUnavailable,
)
from minime.core.logs import get_logger

log = get_logger("minime.hosted.openai")

DEFAULT_MODEL = DEFAULT_MODELS["openai"]
SIZES = {"portrait": "1024x1536", "landscape": "1536x1024", "square": "1024x1024"}
REFUSALS = {"moderation_blocked", "content_policy_violation"}
INPUT_FIDELITY_MODELS = ("gpt-image-1.5", "gpt-image-1")
"""Models that take ``input_fidelity`` (the SDK: omit it for gpt-image-2 and later)."""
FIXED_SIZE_MODELS = ("gpt-image-1.5", "gpt-image-1-mini", "gpt-image-1", "chatgpt-image-latest")
"""Models that draw only the three standard sizes; later ones draw any multiple of 16."""
PIXELS = 1024 * 1536  # what a standard portrait has: the area an exact-aspect size keeps


def _family(model: str, names: tuple[str, ...]) -> bool:
    return any(model == name or model.startswith(name + "-") for name in names)


def size_for(aspect: str, model: str = DEFAULT_MODEL) -> str:
    """The size to ask for: the exact aspect ratio at about 1.5 MP (sides multiples of 16) where the model draws any
    size, else the nearest of OpenAI's three standard sizes."""
    w, h = (int(x) for x in aspect.split(":"))
    if _family(model, FIXED_SIZE_MODELS) or not model.startswith("gpt-image"):
        if w / h < 0.83:
            return SIZES["portrait"]
        return SIZES["landscape"] if w / h > 1.2 else SIZES["square"]
    ratio = min(3.0, max(1 / 3, w / h))
    height = (PIXELS / ratio) ** 0.5
    return f"{round(height * ratio / 16) * 16}x{round(height / 16) * 16}"


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
        fidelity = {"input_fidelity": "high"} if _family(self.model, INPUT_FIDELITY_MODELS) else {}
        try:
            answer = await self._client.images.edit(
                model=self.model, image=("selfie.jpg", upload_jpeg(image), "image/jpeg"), prompt=instruction,
                size=size_for(aspect, self.model), n=1, **fidelity)
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
