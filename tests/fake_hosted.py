"""Local fakes of the two hosted image APIs minime talks to, spoken to by the real ``openai`` and ``google-genai`` SDKs.

- OpenAI: ``GET /v1/models/{model}`` and ``POST /v1/images/edits`` (multipart: model, prompt, image, size,
  input_fidelity, n), answering ``{"data": [{"b64_json": …}]}``; a wrong key gets 401 ``invalid_api_key``; a refusal
  is 400 with code ``moderation_blocked``.
- Gemini: ``GET /v1beta/models/{model}`` and ``POST /v1beta/models/{model}:generateContent`` (JSON contents with a text
  part and an ``inlineData`` image part, ``generationConfig.imageConfig.aspectRatio``), answering a candidate whose
  parts carry ``inlineData``; a wrong key gets 400 ``API_KEY_INVALID`` (what Gemini sends); a refusal is 200 with
  ``finishReason`` ``IMAGE_SAFETY`` and no image.

The "model" draws a stand-in figure from the photo it received: the photo cropped to the asked shape, mirrored, red
and blue swapped, posterised and made vivid, so a test can tell the model's picture from the selfie. Both fakes can be
told to answer the next requests with errors (429 with Retry-After, 503), to refuse, or to take their time.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image, ImageEnhance, ImageOps

from tests.fake_server import FakeServer

GEMINI_SIZES = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
                "4:3": (1184, 864), "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344),
                "16:9": (1344, 768)}


def model_picture(photo: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The stand-in model's drawing of ``photo`` at ``size``: mirrored, red and blue swapped (an orange suit turns
    blue), posterised, vivid: unmistakably not the photo, still a person."""
    picture = ImageOps.fit(photo.convert("RGB"), size, Image.Resampling.LANCZOS)
    r, g, b = ImageOps.mirror(picture).split()
    picture = ImageOps.posterize(Image.merge("RGB", (b, g, r)), 3)
    return ImageEnhance.Color(picture).enhance(1.6)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class Received:
    """One image request that reached the model (after its key was accepted)."""

    prompt: str
    image: Image.Image
    shape: str  # OpenAI's size or Gemini's aspect ratio
    options: dict[str, Any]
    picture: Image.Image | None = None  # what the model answered


@dataclass
class Failure:
    """An error to answer one image request with."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeImageAPI(FakeServer, abc.ABC):
    """What both fakes share: the key, scripted failures, refusals, slowness, and a record of everything."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.failures: list[Failure] = []  # answered in order to the next image requests
        self.refuse = False
        self.delay_s = 0.0
        self.draws: Image.Image | None = None  # draw this photo instead of the one received (another person)
        self.received: list[Received] = []
        self.attempts: list[float] = []  # time of every image request (failed ones included)
        self.model_checks = 0
        self.keys_seen: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _image_request(self, answer) -> web.Response:
        """Count, fail as scripted, wait, then answer (``answer`` builds the response)."""
        self.attempts.append(time.monotonic())
        await self._notify()
        if self.failures:
            failure = self.failures.pop(0)
            return web.json_response(self.error_body(failure.status), status=failure.status, headers=failure.headers)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return await answer()
        finally:
            self.in_flight -= 1
            await self._notify()

    @abc.abstractmethod
    def error_body(self, status: int) -> dict[str, Any]:
        """The provider's JSON error body for an HTTP ``status`` (each fake speaks its own API's shape)."""


class FakeOpenAI(FakeImageAPI):
    """The OpenAI Images API (edits) and the models endpoint; ``prefix`` serves them under another path, as a
    compatible gateway does (``/gateway/openai/v1/images/edits``)."""

    def __init__(self, key: str, *, prefix: str = "") -> None:
        super().__init__(key)
        self.prefix = prefix

    def routes(self, app: web.Application) -> None:
        app.router.add_get(self.prefix + "/v1/models/{model}", self.model)
        app.router.add_post(self.prefix + "/v1/images/edits", self.edits)

    def _authorised(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.keys_seen.append(key)
        if key == self.key:
            return None
        # Like OpenAI, the message quotes the key it got (in full here: the worst case for leaks).
        return web.json_response({"error": {"message": f"Incorrect API key provided: {key}.",
                                            "type": "invalid_request_error", "param": None,
                                            "code": "invalid_api_key"}}, status=401)

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {429: ("Rate limit reached for images per minute.", "rate_limit_exceeded"),
                 503: ("The server is overloaded or not ready yet.", None)}
        message, code = kinds.get(status, ("The server had an error.", None))
        return {"error": {"message": message, "type": "server_error" if status >= 500 else "requests",
                          "param": None, "code": code}}

    async def model(self, request: web.Request) -> web.Response:
        self.model_checks += 1
        if (denied := self._authorised(request)) is not None:
            return denied
        return web.json_response({"id": request.match_info["model"], "object": "model", "created": 1745000000,
                                  "owned_by": "system"})

    async def edits(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        form = await request.post()
        upload = form.get("image") or form.get("image[]")
        photo = Image.open(io.BytesIO(upload.file.read()))
        photo.load()
        options = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("prompt",)}

        async def answer() -> web.Response:
            if self.refuse:
                return web.json_response({"error": {
                    "message": "Your request was rejected by the safety system. safety_violations=[sexual].",
                    "type": "image_generation_user_error", "param": None, "code": "moderation_blocked"}},
                    status=400)
            w, h = (int(x) for x in str(form.get("size", "1024x1024")).split("x"))
            picture = model_picture(self.draws or photo, (w, h))
            self.received.append(Received(str(form["prompt"]), photo, str(form.get("size")), options, picture))
            return web.json_response({"created": int(time.time()), "data": [{"b64_json": base64.b64encode(
                png(picture)).decode()}], "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}})

        return await self._image_request(answer)


class FakeGemini(FakeImageAPI):
    """The Gemini API's generateContent with image output, and the models endpoint. ``empty_answers``: how many of
    the next image requests get an answer without a picture and without a refusal (Gemini's text-only answers,
    finish reason ``empty_reason``: "STOP" with a text part, or "NO_IMAGE")."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.empty_answers = 0
        self.empty_reason = "STOP"
        self.models_asked: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1beta/models/{model}", self.model)
        app.router.add_post("/v1beta/models/{call}", self.generate)

    def _authorised(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("x-goog-api-key", "") or request.query.get("key", "")
        self.keys_seen.append(key)
        if key == self.key:
            return None
        return web.json_response({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                            "status": "INVALID_ARGUMENT", "details": [{
                                                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}},
                                 status=400)

    def error_body(self, status: int) -> dict[str, Any]:
        names = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 500: "INTERNAL"}
        return {"error": {"code": status, "message": "The model is overloaded. Please try again later.",
                          "status": names.get(status, "INTERNAL")}}

    async def model(self, request: web.Request) -> web.Response:
        self.model_checks += 1
        if (denied := self._authorised(request)) is not None:
            return denied
        name = request.match_info["model"]
        return web.json_response({"name": f"models/{name}", "displayName": "Nano Banana", "version": "2.5",
                                  "supportedGenerationMethods": ["generateContent"]})

    async def generate(self, request: web.Request) -> web.Response:
        if not request.match_info["call"].endswith(":generateContent"):
            raise web.HTTPNotFound()
        if (denied := self._authorised(request)) is not None:
            return denied
        self.models_asked.append(request.match_info["call"].removesuffix(":generateContent"))
        body = await request.json()
        parts = body["contents"][0]["parts"]
        prompt = " ".join(p["text"] for p in parts if "text" in p)
        inline = next(p.get("inlineData") or p.get("inline_data") for p in parts if "inlineData" in p
                      or "inline_data" in p)
        # The SDK sends URL-safe base64; Gemini takes either alphabet.
        data = inline["data"].replace("+", "-").replace("/", "_")
        photo = Image.open(io.BytesIO(base64.urlsafe_b64decode(data)))
        photo.load()
        config = body.get("generationConfig", {})
        aspect = config.get("imageConfig", {}).get("aspectRatio", "1:1")

        async def answer() -> web.Response:
            if self.refuse:
                return web.json_response({"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                                          "modelVersion": "gemini-3.1-flash-image"})
            if self.empty_answers:
                self.empty_answers -= 1
                parts = [{"text": "Here is your pop-art portrait!"}] if self.empty_reason == "STOP" else []
                return web.json_response({"candidates": [{"content": {"role": "model", "parts": parts},
                                                          "finishReason": self.empty_reason, "index": 0}],
                                          "modelVersion": "gemini-3.1-flash-image"})
            picture = model_picture(self.draws or photo, GEMINI_SIZES[aspect])
            self.received.append(Received(prompt, photo, aspect, config, picture))
            return web.json_response({"candidates": [{"content": {"role": "model", "parts": [{"inlineData": {
                "mimeType": "image/png", "data": base64.b64encode(png(picture)).decode()}}]},
                "finishReason": "STOP", "index": 0}], "modelVersion": "gemini-3.1-flash-image",
                "usageMetadata": {"promptTokenCount": 1290, "candidatesTokenCount": 1290}})

        return await self._image_request(answer)


@contextmanager
def served(fake: FakeImageAPI) -> Iterator[str]:
    """Run a fake in a thread of its own (for a subprocess to call): yields its root URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    root: list[str] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        root.append(loop.run_until_complete(fake.start()))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield root[0]
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def dump(received: Received) -> str:
    """A request as text (for assertion messages)."""
    return json.dumps({"prompt": received.prompt, "shape": received.shape, "options": received.options})
