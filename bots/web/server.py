"""The web playground: a local chat page over the same Studio as the chat bots (aiohttp, no external resources)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from minime.core import buttons, texts
from minime.core.domain import Done, Event, Failed, Job, Queued, Rendering, UserKey
from minime.core.errors import MinimeError
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.studio import Studio, Undone
from minime.core.texts import queued_text, rendering_text

log = get_logger("minime.web")

PLATFORM = "web"
COOKIE = "minime_session"
AUTH_COOKIE = "minime_auth"
STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_S = 15.0
USER = web.RequestKey("user", UserKey)


def _buttons(ids: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"id": b.id, "label": b.label} for b in buttons.known(ids)]


def _image_url(result_id: str) -> str:
    return f"/api/image/{result_id}"


def event_payload(event: Event) -> dict[str, Any]:
    """A Studio event as the page's JSON."""
    base = {"job": event.job.id}
    if isinstance(event, Queued):
        return {**base, "type": "queued", "position": event.position, "text": queued_text(event.position,
                                                                                        event.eta_s)}
    if isinstance(event, Rendering):
        return {**base, "type": "rendering", "percent": event.percent,
                "text": rendering_text(event.percent, event.waiting_for)}
    if isinstance(event, Done):
        return {**base, "type": "done", "result": event.result.id, "image": _image_url(event.result.id),
                "theme": event.result.theme_id, "buttons": _buttons(event.buttons), "notes": list(event.notes)}
    assert isinstance(event, Failed)
    return {**base, "type": "failed", "text": event.reason}


class WebPlayground:
    """Translates HTTP requests into Studio calls and Studio events into Server-Sent Events."""

    def __init__(self, studio: Studio, settings: Settings) -> None:
        self.studio, self.settings = studio, settings
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._auth_tokens: set[str] = set()
        studio.subscribe(PLATFORM, self.on_event)

    # ---- plumbing ------------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=self.settings.max_upload_bytes + 1024 * 1024,
                              middlewares=[self._session, self._errors])
        app.add_routes([
            web.get("/", self.index),
            web.post("/login", self.login),
            web.get("/api/events", self.events),
            web.get("/api/themes", self.themes),
            web.get("/api/themes/{theme_id}.jpg", self.theme_preview),
            web.get("/api/gallery.png", self.gallery),
            web.post("/api/selfie", self.selfie),
            web.post("/api/verify", self.verify),
            web.post("/api/message", self.message),
            web.post("/api/action", self.action),
            web.get("/api/image/{result_id}", self.image),
            web.static("/static", STATIC),
        ])
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except MinimeError as exc:
            return web.json_response({"messages": [{"text": exc.user_message, "error": True}]})
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"messages": [{"text": "That file is too large. Please send a photo under "
                                                    f"{self.settings.max_upload_bytes // 1_000_000} MB.",
                                                    "error": True}]}, status=413)

    @web.middleware
    async def _session(self, request: web.Request, handler: Any) -> web.StreamResponse:
        password = self.settings.web_password
        public = request.path in ("/", "/login") or request.path.startswith("/static/")
        if password and not public and request.cookies.get(AUTH_COOKIE) not in self._auth_tokens:
            raise web.HTTPUnauthorized(text="Log in first.")
        sid = request.cookies.get(COOKIE)
        fresh = not sid or len(sid) < 20
        if fresh:
            sid = secrets.token_urlsafe(24)
        # The cookie is a credential: the user id is its hash, so ids in logs and the store can't be replayed.
        request[USER] = UserKey(PLATFORM, hashlib.sha256(sid.encode()).hexdigest()[:24])
        response = await handler(request)
        if fresh:
            response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", max_age=30 * 24 * 3600)
        return response

    async def on_event(self, event: Event) -> None:
        """Push a Studio event to every open page of that browser session."""
        for queue in self._streams.get(event.job.user.user_id, set()):
            queue.put_nowait(event_payload(event))

    # ---- pages ---------------------------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The chat page (or the login form when a password is set and not given yet)."""
        if self.settings.web_password and request.cookies.get(AUTH_COOKIE) not in self._auth_tokens:
            return web.FileResponse(STATIC / "login.html")
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check the operator's password and set the auth cookie."""
        form = await request.post()
        expected = self.settings.web_password.get_secret_value() if self.settings.web_password else ""
        if not hmac.compare_digest(str(form.get("password", "")).encode(), expected.encode()):
            await asyncio.sleep(1.0)
            raise web.HTTPFound("/?wrong=1")
        token = secrets.token_urlsafe(24)
        self._auth_tokens.add(token)
        response = web.HTTPFound("/")
        response.set_cookie(AUTH_COOKIE, token, httponly=True, samesite="Strict")
        raise response

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: progress and results of this browser's jobs."""
        user: UserKey = request[USER]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._streams.setdefault(user.user_id, set()).add(queue)
        try:
            await response.write(f"data: {json.dumps(await self._hello(user))}\n\n".encode())
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                await response.write(f"data: {json.dumps(payload)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.get(user.user_id, set()).discard(queue)
        return response

    async def _hello(self, user: UserKey) -> dict[str, Any]:
        hello: dict[str, Any] = {"type": "hello", "has_selfie": await self.studio.has_selfie(user)}
        try:
            result = await self.studio.current_result(user)
            hello.update(result=result.id, image=_image_url(result.id), buttons=_buttons(self.studio.buttons(result)))
        except MinimeError:
            pass
        status = await self.studio.status(user)
        if status.job:
            hello["job"] = status.job.id
        return hello

    async def themes(self, _: web.Request) -> web.Response:
        """The theme gallery data."""
        return web.json_response([{"id": t.id, "command": t.command, "title": t.title,
                                   "description": t.description, "argument": t.argument,
                                   "variant": t.variant,
                                   "preview": f"/api/themes/{t.id}.jpg"} for t in self.studio.themes()])

    async def theme_preview(self, request: web.Request) -> web.Response:
        """A theme's preview picture."""
        data = await self.studio.theme_preview(request.match_info["theme_id"])
        return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "max-age=86400"})

    async def gallery(self, _: web.Request) -> web.Response:
        """The contact sheet of every theme."""
        return web.Response(body=await self.studio.gallery(), content_type="image/png")

    async def image(self, request: web.Request) -> web.Response:
        """A result image of this browser's user (also the download link)."""
        result, data = await self.studio.result_image(request[USER], request.match_info["result_id"])
        headers = {"Cache-Control": "private, max-age=3600"}
        if request.query.get("download"):
            headers["Content-Disposition"] = f'attachment; filename="minime-{result.theme_id}-{result.id}.jpg"'
        return web.Response(body=data, content_type="image/jpeg", headers=headers)

    # ---- chat ----------------------------------------------------------------------------------------------------

    async def selfie(self, request: web.Request) -> web.Response:
        """An uploaded (or camera) selfie."""
        user: UserKey = request[USER]
        data = await _form_file(request, "photo")
        if data is None:
            return web.json_response({"messages": [{"text": "Please choose a photo to upload.", "error": True}]})
        received = await self.studio.receive_selfie(user, data)
        text = texts.selfie_received(bool(received.job), "Now pick a look below, or type a command like "
                                                         "/figurine YourName.")
        return web.json_response({"messages": [{"text": received.with_notice(text)}],
                                  "job": received.job.id if received.job else None})

    async def verify(self, request: web.Request) -> web.Response:
        """An image to check: did minime make it?"""
        data = await _form_file(request, "image")
        if data is None:
            return web.json_response({"messages": [{"text": "Please choose an image to check.", "error": True}]})
        answer = await self.studio.verify(request[USER], data)
        reply: dict[str, Any] = {"text": answer.message(), "verified": answer.made_by_minime}
        if answer.result is not None:
            reply.update(image=_image_url(answer.result.id), result=answer.result.id)
        return web.json_response({"messages": [reply]})

    async def message(self, request: web.Request) -> web.Response:
        """A typed message: a command or a refinement."""
        body = await request.json()
        text = str(body.get("text", "")).strip()[:500]
        user: UserKey = request[USER]
        result_id = body.get("result") or None
        if not text:
            return web.json_response({"messages": []})
        if not text.startswith("/"):
            outcome = await self.studio.text(user, text, result_id=result_id)
            return web.json_response(self._outcome(outcome))
        command, _, argument = text[1:].partition(" ")
        command = command.lower()
        if command in ("start", "help"):
            return web.json_response({"messages": [{"text": texts.help_text(self.studio.themes(), self.settings)}]})
        if command == "privacy":
            return web.json_response({"messages": [{"text": texts.privacy_text(self.settings)}]})
        if command == "themes":
            return web.json_response({"messages": [{"text": "Here's every look. Tap one below to try it.",
                                                    "image": "/api/gallery.png"}]})
        if command == "undo":
            return web.json_response(self._outcome(await self.studio.undo(user)))
        if command == "forget":
            if argument.strip().lower() != "yes":
                return web.json_response({"messages": [{"text": f"{texts.FORGET_CONFIRM} Type “/forget yes” to "
                                                                "confirm."}]})
            await self.studio.forget(user)
            return web.json_response({"messages": [{"text": texts.FORGOTTEN}],
                                      "forgotten": True})
        if command == "stats":
            return web.json_response({"messages": [{"text": (await self.studio.stats(user)).message()}]})
        if command == "verify":
            return web.json_response({"messages": [{"text": "Tap 🔎 and choose the image: I'll tell you whether I "
                                                            "made it."}]})
        if command == "status":
            return web.json_response({"messages": [{"text": texts.status_reply(await self.studio.status(user), user)}]})
        if command == "admin":
            return web.json_response({"messages": [{"text": await self.studio.admin(user, argument)}]})
        job = await self.studio.apply_theme(user, command, argument or None)
        return web.json_response(self._outcome(job))

    async def action(self, request: web.Request) -> web.Response:
        """A refinement button under an image."""
        body = await request.json()
        outcome = await self.studio.refine(request[USER], action=str(body.get("action", "")),
                                           result_id=body.get("result") or None)
        return web.json_response(self._outcome(outcome))

    @staticmethod
    def _outcome(outcome: Job | Undone) -> dict[str, Any]:
        if isinstance(outcome, Undone):
            return {"messages": [{"text": texts.BACK_ONE_STEP, "image": _image_url(outcome.result.id),
                                  "result": outcome.result.id, "buttons": _buttons(outcome.buttons)}]}
        return {"messages": [], "job": outcome.id}


async def _form_file(request: web.Request, field: str) -> bytes | None:
    """The bytes of one field of a multipart upload, or None when the form has no such field."""
    reader = await request.multipart()
    part = await reader.next()
    while part is not None and getattr(part, "name", None) != field:
        part = await reader.next()
    return None if part is None else bytes(await part.read(decode=False))


async def start_web(studio: Studio, settings: Settings) -> web.AppRunner:
    """Serve the playground; refuse to expose it beyond this machine without a password."""
    if not _is_loopback(settings.web_host) and not settings.web_password:
        raise ValueError(f"MINIME_WEB_HOST={settings.web_host} exposes the playground beyond this machine: "
                         "set MINIME_WEB_PASSWORD too")
    runner = web.AppRunner(WebPlayground(studio, settings).app(), shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    return runner


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
