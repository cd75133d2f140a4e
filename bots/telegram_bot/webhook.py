"""Telegram's webhook, served by aiohttp and fed to python-telegram-bot's update queue.

python-telegram-bot's own webhook server (tornado, ``Updater.start_webhook``) answers a body that is not JSON, or
JSON nested too deep, with a 500 even when it carries the right secret, logs a whole update it could not read (names
and texts) at CRITICAL, and keeps a half-sent request open as long as the client likes. PTB documents feeding
``Application.update_queue`` from a server of one's own ("custom webhook"), which this is: the secret is checked in
constant time, what is not an update is a 400 (and only its kind is logged), headers must arrive within
``HEADER_TIMEOUT_S``.
"""

from __future__ import annotations

import hmac
import json

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from minime.core.logs import get_logger

log = get_logger("minime.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEADER_TIMEOUT_S = 10.0  # a request's headers must arrive this soon (aiohttp's keepalive timer: see bots/web/guard)
MAX_UPDATE_BYTES = 1024 * 1024  # updates are small JSON documents (files come by file_id, not inline)


class WebhookServer:
    """Listens on ``listen``:``port`` at ``path`` and puts each update Telegram posts on ``app.update_queue``."""

    def __init__(self, app: Application, *, secret: str, path: str, listen: str, port: int) -> None:
        self.app, self.secret, self.path, self.listen, self.port = app, secret, "/" + path.lstrip("/"), listen, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Start serving."""
        server = web.Application(client_max_size=MAX_UPDATE_BYTES)
        server.router.add_post(self.path, self.receive)
        self._runner = web.AppRunner(server, shutdown_timeout=2.0, keepalive_timeout=HEADER_TIMEOUT_S,
                                     access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()

    async def stop(self) -> None:
        """Stop serving (updates already queued are still handled)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: 200 once queued; 403 without the secret; 400 for anything not an update."""
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()):
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested thousands deep
            log.warning("webhook body is not JSON", error_type=type(exc).__name__)
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # a JSON object that is not an update: its kind is logged, never its content
            log.warning("webhook body is not an update", error_type=type(exc).__name__)
            return web.Response(status=400)
        await self.app.update_queue.put(update)
        return web.Response()
