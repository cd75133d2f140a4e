"""Events to the adapters: each platform's sinks receive the events of its users' jobs, delivered as tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from minime.core.domain import Event
from minime.core.logs import get_logger

log = get_logger("minime.events")

Sink = Callable[[Event], Awaitable[None]]


class EventHub:
    """Adapters subscribe per platform; the Studio and the job runner emit; a failing sink harms no other."""

    def __init__(self) -> None:
        self._sinks: dict[str, list[Sink]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def subscribe(self, platform: str, sink: Sink) -> None:
        """Receive every event of jobs whose user is on ``platform`` (results of resumed jobs included)."""
        self._sinks.setdefault(platform, []).append(sink)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to its platform's sinks without waiting for them."""
        for sink in self._sinks.get(event.job.user.platform, []):
            task = asyncio.get_running_loop().create_task(self._deliver(sink, event))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Let deliveries in flight finish (up to ``timeout_s``), then cancel the rest."""
        if self._pending:
            await asyncio.wait(self._pending, timeout=timeout_s)
        # Nothing may still hold a database connection when the store closes (a connection left to the
        # garbage collector would be closed on a dead event loop).
        leftovers = list(self._pending)
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    @staticmethod
    async def _deliver(sink: Sink, event: Event) -> None:
        try:
            await sink(event)
        except Exception:
            log.exception("an adapter failed to deliver an event", job=event.job.id, event=type(event).__name__)
