"""The web playground: a local chat page over the same Studio as the chat bots (aiohttp, no external resources)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import ipaddress
import json
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from minime.bots.web import guard
from minime.core import buttons, i18n, texts
from minime.core.domain import Cancelled, Done, Event, Failed, Job, Queued, Rendering, UserKey
from minime.core.errors import (
    FigureBusy,
    FigureTooLarge,
    ImageTooLarge,
    MinimeError,
    NoFigure,
    NoSelfie,
    NothingToCancel,
    NotYourJob,
    QuotaExceeded,
    ResultNotFound,
    StorageFull,
)
from minime.core.i18n import N_, gettext, ngettext
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
JSON_ENDPOINTS = ("/api/message", "/api/action", "/api/cancel")
LOGIN_ATTEMPTS, LOGIN_WINDOW_S = 5, 300.0  # wrong passwords per session (more per address), then a wait
BUSY = N_("Sorry, I'm having trouble on my side right now. Please try again in a few minutes.")


def _buttons(ids: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"id": b.id, "label": gettext(b.label), **({"sends": b.sends} if b.sends else {})}
            for b in buttons.known(ids)]


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
                "theme": event.result.theme_id, "buttons": _buttons(event.buttons),
                "notes": [gettext(note) for note in event.notes]}
    if isinstance(event, Cancelled):  # its user called it off: the status line says so, not as an error
        return {**base, "type": "cancelled", "text": gettext(event.reason)}
    assert isinstance(event, Failed)
    return {**base, "type": "failed", "text": gettext(event.reason)}


class WebPlayground:
    """Translates HTTP requests into Studio calls and Studio events into Server-Sent Events."""

    def __init__(self, studio: Studio, settings: Settings) -> None:
        self.studio, self.settings = studio, settings
        self._streams: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._auth_tokens: set[str] = set()
        self._signer = guard.SessionSigner(settings.data_dir)
        self._failed_logins = guard.LoginThrottle(LOGIN_ATTEMPTS, LOGIN_WINDOW_S)  # per session (and address)
        self._uploads = guard.SlidingWindow(settings.web_uploads_per_hour, 3600)  # per session …
        self._uploads_by_address = guard.SlidingWindow(settings.web_uploads_per_hour * 3, 3600)  # … and address
        # Jobs per client address too: a new cookie is a new user to the Studio, but not a new person.
        self._jobs_by_address = guard.SlidingWindow(settings.rate_limit_jobs, settings.rate_limit_window_s)
        studio.subscribe(PLATFORM, self.on_event)

    # ---- plumbing ------------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=self.settings.max_upload_bytes + 1024 * 1024,
                              middlewares=[self._language, self._errors, self._guard, self._session])
        app.on_response_prepare.append(guard.add_security_headers)
        app.add_routes([
            web.get("/", self.index),
            web.post("/login", self.login),
            web.get("/api/events", self.events),
            web.get("/api/themes", self.themes),
            web.get("/api/texts", self.texts),
            web.get("/api/themes/{theme_id}.jpg", self.theme_preview),
            web.get("/api/gallery.png", self.gallery),
            web.post("/api/selfie", self.selfie),
            web.post("/api/verify", self.verify),
            web.post("/api/message", self.message),
            web.post("/api/action", self.action),
            web.post("/api/cancel", self.cancel),
            web.get("/api/image/{result_id}", self.image),
            web.get("/api/figure/{result_id}/{kind:turntable|mesh}", self.figure),
            web.static("/static", STATIC),
        ])
        return app

    @web.middleware
    async def _language(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Every request is answered in the browser's language (Accept-Language)."""
        i18n.use(i18n.from_accept_language(request.headers.get("Accept-Language")))
        return await handler(request)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except MinimeError as exc:
            status = 507 if isinstance(exc, StorageFull) else 429 if isinstance(exc, QuotaExceeded) else 200
            return _say(exc.user_message, status)
        except web.HTTPRequestEntityTooLarge:
            return _say(ImageTooLarge.user_message, 413)
        except web.HTTPException:
            raise
        except Exception as exc:  # never a traceback page: one friendly line, the details in the log
            if _database_trouble(exc):
                log.error("web request failed: the database is unavailable", path=request.path,
                          error_type=type(exc).__name__, error=str(exc)[:200])
                return _say(gettext(BUSY), 503)
            log.exception("web request failed", path=request.path, error_type=type(exc).__name__)
            return _say(gettext(texts.SORRY), 500)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Writes only from the playground's own page: no cross-site forms or fetches (CSRF), JSON where JSON is
        expected (a text/plain body is what a cross-site form can send without asking)."""
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if guard.cross_site(request):
                log.warning("cross-site write refused", path=request.path)
                return _say(gettext("That request came from another site, so I ignored it."), 403)
            if request.path in JSON_ENDPOINTS and request.content_type != "application/json":
                return _say(gettext("Please send JSON."), 415)
        return await handler(request)

    @web.middleware
    async def _session(self, request: web.Request, handler: Any) -> web.StreamResponse:
        password = self.settings.web_password
        public = request.path in ("/", "/login") or request.path.startswith("/static/")
        if password and not public and request.cookies.get(AUTH_COOKIE) not in self._auth_tokens:
            raise web.HTTPUnauthorized(text=gettext("Log in first."))
        sid = request.cookies.get(COOKIE)
        fresh = not self._signer.verify(sid)  # a made-up (or foreign) cookie gets a new session, never its own
        if fresh:
            sid = self._signer.issue()
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
            return web.Response(text=_login_page(), content_type="text/html")
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check the operator's password and set the auth cookie."""
        address = request.remote or "?"
        sid = request.cookies.get(COOKIE)
        session = sid if self._signer.verify(sid) else None  # the page's own session: its typos are its own
        wait = self._failed_logins.retry_after(session, address)
        if wait:
            log.warning("login throttled", retry_after_s=round(wait))
            minutes = max(1, round(wait / 60))
            raise web.HTTPTooManyRequests(text=ngettext("Too many wrong passwords. Try again in {n} minute.",
                                                        "Too many wrong passwords. Try again in {n} minutes.",
                                                        minutes).format(n=minutes),
                                          headers={"Retry-After": str(round(wait))})
        form = await request.post()
        expected = self.settings.web_password.get_secret_value() if self.settings.web_password else ""
        if not hmac.compare_digest(str(form.get("password", "")).encode(), expected.encode()):
            self._failed_logins.failed(session, address)
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

    async def texts(self, _: web.Request) -> web.Response:
        """The page's own words in the browser's language: every translated message, its direction (Arabic: rtl)."""
        name = i18n.language()
        return web.json_response({"lang": name.replace("_", "-"), "dir": i18n.direction(name),
                                  "texts": i18n.catalogue(name)}, headers={"Vary": "Accept-Language"})

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

    async def figure(self, request: web.Request) -> web.Response:
        """A result's figure as a file: the turning loop (``turntable``: MP4, or ``?format=gif``) or the printable
        mesh (``mesh``: GLB, or ``?format=3mf|stl``); ``?download=1`` makes it a download. Errors are JSON with a
        4xx status, so a <video> or viewer pointed here fails instead of showing a message as a file."""
        kind = request.match_info["kind"]
        try:
            figure = await self.studio.figure_file(request[USER], request.match_info["result_id"], kind,
                                                   request.query.get("format"))
        except ResultNotFound:  # someone else's is as if it did not exist (the file is private)
            return _say(ResultNotFound.user_message, 404)
        except (NoFigure, NoSelfie) as exc:
            return _say(exc.user_message, 422)
        except (FigureBusy, QuotaExceeded) as exc:  # one at a time per user; counted like a render
            return _say(exc.user_message, 429)
        except FigureTooLarge as exc:
            return _say(exc.user_message, 413)
        except ValueError:
            return _say(gettext("I can't make that kind of file."), 400)
        headers = {"Cache-Control": "private, max-age=3600"}
        if request.query.get("download"):
            headers["Content-Disposition"] = f'attachment; filename="{figure.filename}"'
        return web.Response(body=figure.data, content_type=figure.mime, headers=headers)

    # ---- chat ----------------------------------------------------------------------------------------------------

    async def selfie(self, request: web.Request) -> web.Response:
        """An uploaded (or camera) selfie."""
        user: UserKey = request[USER]
        self._count_upload(request)
        data = await _form_file(request, "photo")
        if data is None:
            return _say(gettext("Please choose a photo to upload."))
        received = await self.studio.receive_selfie(user, data)
        text = texts.selfie_received(bool(received.job), gettext("Now pick a look below, or type a command like "
                                                                 "/figurine YourName."))
        return web.json_response({"messages": [{"text": received.with_notice(text)}],
                                  "job": received.job.id if received.job else None})

    async def verify(self, request: web.Request) -> web.Response:
        """An image to check: did minime make it?"""
        self._count_upload(request)
        data = await _form_file(request, "image")
        if data is None:
            return _say(gettext("Please choose an image to check."))
        answer = await self.studio.verify(request[USER], data)
        reply: dict[str, Any] = {"text": answer.message(), "verified": answer.made_by_minime}
        if answer.result is not None:
            reply.update(image=_image_url(answer.result.id), result=answer.result.id)
        return web.json_response({"messages": [reply]})

    async def message(self, request: web.Request) -> web.Response:
        """A typed message: a command or a refinement."""
        body = await _json_body(request)
        text = str(body.get("text", "")).strip()[:500]
        user: UserKey = request[USER]
        result_id = _optional_str(body.get("result"))
        if not text:
            return web.json_response({"messages": []})
        if not text.startswith("/"):
            self._check_job_rate(request)
            outcome = await self.studio.text(user, text, result_id=result_id)
            return web.json_response(self._outcome(outcome, request))
        command, _, argument = text[1:].partition(" ")
        command = command.lower()
        if command in ("start", "help"):
            return web.json_response({"messages": [{"text": texts.help_text(self.studio.themes(), self.settings)}]})
        if command == "privacy":
            return web.json_response({"messages": [{"text": texts.privacy_text(self.settings)}]})
        if command == "themes":
            return web.json_response({"messages": [{"text": gettext("Here's every look. Tap one below to try it."),
                                                    "image": "/api/gallery.png"}]})
        if command == "undo":
            return web.json_response(self._outcome(await self.studio.undo(user)))
        if command == "forget":
            if argument.strip().lower() != "yes":
                return web.json_response({"messages": [{"text": gettext(texts.FORGET_CONFIRM) + " " + gettext(
                    "Type “/forget yes” to confirm.")}]})
            await self.studio.forget(user)
            return web.json_response({"messages": [{"text": gettext(texts.FORGOTTEN)}],
                                      "forgotten": True})
        if command == "stats":
            return web.json_response({"messages": [{"text": (await self.studio.stats(user)).message()}]})
        if command == "verify":
            return web.json_response({"messages": [{"text": gettext("Tap 🔎 and choose the image: I'll tell you "
                                                                    "whether I made it.")}]})
        if command == "status":
            return web.json_response({"messages": [{"text": texts.status_reply(await self.studio.status(user), user)}]})
        if command == "admin":
            return web.json_response({"messages": [{"text": await self.studio.admin(user, argument)}]})
        if command == "cancel":
            return await self._cancel(user, None)
        self._check_job_rate(request)
        job = await self.studio.apply_theme(user, command, argument or None)
        return web.json_response(self._outcome(job, request))

    async def action(self, request: web.Request) -> web.Response:
        """A refinement button under an image."""
        body = await _json_body(request)
        self._check_job_rate(request)
        outcome = await self.studio.refine(request[USER], action=str(body.get("action", "")),
                                           result_id=_optional_str(body.get("result")))
        return web.json_response(self._outcome(outcome, request))

    async def cancel(self, request: web.Request) -> web.Response:
        """The Cancel button on a job's status line: ``{"job": id}`` (only this session's own job)."""
        body = await _json_body(request)
        return await self._cancel(request[USER], _optional_str(body.get("job")))

    async def _cancel(self, user: UserKey, job_id: str | None) -> web.Response:
        """Call off ``job_id`` (else the session's active job, as /cancel does). The page marks its status line
        (the Cancelled event says the same on the event stream); NothingToCancel answers as text, also for another
        session's job id (as if it did not exist: a page only ever sees its own jobs)."""
        try:
            job = await self.studio.cancel(user, job_id)
        except NotYourJob:
            raise NothingToCancel() from None
        return web.json_response({"messages": [], "cancelled": {"job": job.id, "text": gettext(texts.CANCELLED)}})

    def _check_job_rate(self, request: web.Request) -> None:
        wait = self._jobs_by_address.retry_after(request.remote or "?")
        if wait:
            raise QuotaExceeded(wait)

    def _count_upload(self, request: web.Request) -> None:
        """Uploads are kept a day: a cap per session and per client address (a new cookie resets neither)."""
        address, session = request.remote or "?", request[USER].user_id
        wait = max(self._uploads.retry_after(session), self._uploads_by_address.retry_after(address))
        if wait:
            raise QuotaExceeded(wait)
        self._uploads.hit(session)
        self._uploads_by_address.hit(address)

    def _outcome(self, outcome: Job | Undone, request: web.Request) -> dict[str, Any]:
        if isinstance(outcome, Job):
            self._jobs_by_address.hit(request.remote or "?")
        if isinstance(outcome, Undone):
            return {"messages": [{"text": gettext(texts.BACK_ONE_STEP), "image": _image_url(outcome.result.id),
                                  "result": outcome.result.id, "buttons": _buttons(outcome.buttons)}]}
        return {"messages": [], "job": outcome.id}


LOGIN_TEXTS = (N_("minime · log in"), N_("This playground is protected. Enter the operator's password."),
               N_("Password"), N_("Enter"))
"""The words of login.html, replaced by their translation when the page is served."""


def _login_page() -> str:
    """login.html in the browser's language (its English words swapped for the catalogue's, its direction set)."""
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    for english in LOGIN_TEXTS:
        page = page.replace(html.escape(english, quote=False), html.escape(gettext(english)))
    name = i18n.language()
    return page.replace('<html lang="en">', f'<html lang="{name.replace("_", "-")}" dir="{i18n.direction(name)}">')


def _say(text: str, status: int = 200) -> web.Response:
    """One error message for the page."""
    return web.json_response({"messages": [{"text": text, "error": True}]}, status=status)


def _bad_request(text: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"messages": [{"text": text, "error": True}]}),
                              content_type="application/json")


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 400 for anything else."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested thousands deep
        raise _bad_request(gettext("That request was not valid JSON.")) from None
    if not isinstance(body, dict):
        raise _bad_request(gettext("That request was not a JSON object."))
    return body


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def _form_file(request: web.Request, field: str) -> bytes | None:
    """The bytes of one field of a multipart upload, or None when the form has no such field; 400 when the body
    is not a readable multipart form."""
    try:
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and getattr(part, "name", None) != field:
            part = await reader.next()
        return None if part is None else bytes(await part.read(decode=False))
    except (ValueError, AssertionError, KeyError, TypeError, UnicodeDecodeError, HttpProcessingError):
        raise _bad_request(gettext("Please upload the photo as a form (multipart/form-data).")) from None


def _database_trouble(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, (DBAPIError, ConnectionError)) or "disk is full" in str(exc).lower()


async def start_web(studio: Studio, settings: Settings) -> web.AppRunner:
    """Serve the playground; refuse to expose it beyond this machine without a password."""
    if not _is_loopback(settings.web_host) and not settings.web_password:
        raise ValueError(f"MINIME_WEB_HOST={settings.web_host} exposes the playground beyond this machine: "
                         "set MINIME_WEB_PASSWORD too")
    runner = web.AppRunner(WebPlayground(studio, settings).app(), shutdown_timeout=2.0,
                           keepalive_timeout=guard.HEADER_TIMEOUT_S)
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
