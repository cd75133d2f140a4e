"""Google's Gemini image models ("Nano Banana": gemini-3.1-flash-image by default; gemini-3-pro-image,
gemini-2.5-flash-image…) through the official ``google-genai`` SDK's async client.

An answer without a picture and without a safety reason (finish reason ``NO_IMAGE``, ``IMAGE_OTHER``, or a text-only
answer that stopped normally) is asked again, up to ``EMPTY_RETRIES`` times, with another seed, before the user is
told; a safety finish or a blocked prompt is final.

Retries are ours, not the SDK's: google-genai's ``HttpRetryOptions`` backs off exponentially but ignores the
``Retry-After`` header and the ``RetryInfo.retryDelay`` that Gemini sends with a 429, so it would hammer a quota that
said when it comes back. The SDK is told to try once; ``_with_retries`` waits what the service asks (else backs off).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image

from minime.core.engines.hosted.base import decode, upload_jpeg
from minime.core.engines.hosted.costs import DEFAULT_MODELS
from minime.core.engines.hosted.errors import (
    HostedKeyRejected,
    HostedMisconfigured,
    HostedNoImage,
    HostedRefused,
    HostedUnavailable,
)
from minime.core.logs import get_logger

log = get_logger("minime.hosted.gemini")

DEFAULT_MODEL = DEFAULT_MODELS["gemini"]
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
REFUSALS = frozenset({"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST",
                      "SPII", "JAILBREAK", "MODEL_ARMOR", "RECITATION", "IMAGE_RECITATION"})
"""Finish (or block) reasons that are the provider's safety system saying no: asking again would get no again."""
EMPTY_RETRIES = 2
"""How often an answer without a picture (and without a refusal) is asked again before the user is told."""
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
LONGEST_WAIT_S = 120.0  # a service asking for longer than this is not coming back within a chat reply

T = TypeVar("T")


class GeminiImages:
    """``generateContent`` with the theme's instruction and the selfie as an image part; the answer's image part."""

    service = "Google Gemini"

    def __init__(self, api_key: str, model: str | None = None, *, base_url: str | None = None,
                 timeout_s: float = 300.0, max_retries: int = 4) -> None:
        self.model = model or DEFAULT_MODEL
        self.max_retries = max_retries
        # v1beta: where Gemini's image output (responseModalities, imageConfig) lives; the SDK's default is v1.
        options = types.HttpOptions(base_url=base_url, api_version="v1beta", timeout=int(timeout_s * 1000),
                                    retry_options=types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=options).aio

    async def check_access(self) -> None:
        """GET the model: a rejected key is the operator's to fix. Anything else (a gateway without the models
        endpoint, an unknown model) is left for the first render to report."""
        try:
            await self._with_retries(lambda: self._client.models.get(model=self.model))
        except HostedKeyRejected:
            raise
        except HostedMisconfigured as exc:
            log.info("the model could not be confirmed before the first render", service=self.service,
                     detail=exc.detail)

    async def edit(self, image: Image.Image, instruction: str, *, aspect: str, seed: int) -> Image.Image:
        """One edit at the asked aspect ratio; the seed makes a variation a different picture. An answer without a
        picture is asked again (another seed) up to EMPTY_RETRIES times; then HostedNoImage."""
        contents = [instruction, types.Part.from_bytes(data=upload_jpeg(image), mime_type="image/jpeg")]
        for attempt in range(EMPTY_RETRIES + 1):
            config = types.GenerateContentConfig(response_modalities=["IMAGE"], seed=(seed + attempt) % 2**31,
                                                 image_config=types.ImageConfig(aspect_ratio=aspect))
            answer = await self._with_retries(lambda config=config: self._client.models.generate_content(
                model=self.model, contents=contents, config=config))
            data, reason = self._image_bytes(answer)
            if data is not None:
                return decode(data)
            log.info("the model answered without a picture", service=self.service, reason=reason,
                     attempt=attempt + 1, retrying=attempt < EMPTY_RETRIES)
        raise HostedNoImage(self.service)

    def _image_bytes(self, answer: types.GenerateContentResponse) -> tuple[bytes | None, str]:
        """The first image part, or None and why there is none (``NO_IMAGE``, ``STOP`` for a text-only answer…).
        A blocked prompt or a safety finish raises HostedRefused."""
        blocked = answer.prompt_feedback.block_reason if answer.prompt_feedback else None
        candidate = answer.candidates[0] if answer.candidates else None
        for part in (candidate.content.parts or []) if candidate and candidate.content else []:
            if part.inline_data and part.inline_data.data:
                return part.inline_data.data, "IMAGE"
        reason = _name(blocked) or _name(candidate.finish_reason if candidate else None) or "NO_IMAGE"
        if blocked or reason in REFUSALS:
            log.info("request refused by the provider's safety system", service=self.service, reason=reason)
            raise HostedRefused(self.service)
        return None, reason

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.max_retries + 1):
            try:
                return await call()
            except genai_errors.APIError as exc:
                if exc.code not in RETRYABLE:
                    raise self._translate(exc) from None
                wait = _asked_wait(exc)
                reason: Any = exc.code
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                wait, reason = None, type(exc).__name__
            if attempt == self.max_retries or (wait is not None and wait > LONGEST_WAIT_S):
                log.warning("the provider stayed unavailable", service=self.service, reason=reason,
                            attempts=attempt + 1)
                raise HostedUnavailable(self.service, "took too long to answer" if reason == "TimeoutError"
                                        else "is busy or not answering")
            if wait is None:
                wait = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt) * random.uniform(0.75, 1.0)
            log.info("retrying the provider", service=self.service, reason=reason, wait_s=round(wait, 2),
                     attempt=attempt + 1)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _translate(self, exc: genai_errors.APIError) -> Exception:
        """The SDK's error as ours; the provider's message is not passed on."""
        details = str(exc.details)
        if exc.code in (401, 403) or "API_KEY_INVALID" in details or "API key not valid" in details:
            return HostedKeyRejected(f"Google Gemini rejected MINIME_HOSTED_API_KEY (HTTP {exc.code}); "
                                       "set a valid Gemini API key")
        if exc.code == 404:
            return HostedMisconfigured(f"Google Gemini has no model {self.model!r} for this key "
                                       "(MINIME_HOSTED_MODEL)")
        if exc.code == 400:
            return HostedMisconfigured(f"Google Gemini rejected the request (HTTP 400 {exc.status}); check that "
                                       f"MINIME_HOSTED_MODEL={self.model} is an image model")
        log.warning("the provider failed the request", service=self.service, status=exc.code)
        return HostedUnavailable(self.service)

    async def close(self) -> None:
        """Close the SDK's sessions."""
        await self._client.aclose()


def _name(value: Any) -> str | None:
    return getattr(value, "value", value) or None


def _asked_wait(exc: genai_errors.APIError) -> float | None:
    """Seconds the service asked us to wait: ``Retry-After`` (seconds or a date), else Gemini's RetryInfo."""
    response = getattr(exc.response, "_response", exc.response)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time()) if when else None
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else {}
    for item in details.get("details", []) if isinstance(details, dict) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                pass
    return None
