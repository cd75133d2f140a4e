"""What the fake platform servers share: an aiohttp app on a free port of 127.0.0.1, and waiting for the bot."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

from aiohttp import web


class FakeServer(ABC):
    """Base of the fake Telegram and Discord servers."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()  # notified on every request the bot makes
        self._runner: web.AppRunner | None = None
        self.root = ""

    @abstractmethod
    def routes(self, app: web.Application) -> None:
        """Add the platform's routes."""

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; return the root URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.root = f"http://127.0.0.1:{port}"
        return self.root

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner:
            await self._runner.cleanup()

    async def wait_for(self, predicate, timeout: float = 60.0) -> Any:
        """Wait until ``predicate()`` returns something truthy (re-checked on every call the bot makes)."""
        async def _wait() -> Any:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value
        return await asyncio.wait_for(_wait(), timeout)
