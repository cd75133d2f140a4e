"""Events to the adapters: each platform's sinks receive the events of its users' jobs, delivered as tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from minime.core import i18n
from minime.core.domain import Done, Event, Failed
from minime.core.i18n import N_
from minime.core.logs import get_logger

log = get_logger("minime.events")

Sink = Callable[[Event], Awaitable[None]]

DELIVERY_BACKOFF_S = (2.0, 4.0, 8.0, 16.0)  # ~30 s of retries: a platform refusing uploads for 20 s still gets them
UNDELIVERED = N_("I made your image but couldn't send it to you, even after several tries. "
                 "Please send the command again in a moment.")


class EventHub:
    """Adapters subscribe per platform; the Studio and the job runner emit; a failing sink harms no other.

    Args:
        backoff_s: the pauses between tries of delivering a result or a failure (progress is tried once).
    """

    def __init__(self, backoff_s: tuple[float, ...] = DELIVERY_BACKOFF_S) -> None:
        self.backoff_s = backoff_s
        self._sinks: dict[str, list[Sink]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._latest: dict[tuple[str, int], asyncio.Task[None]] = {}  # each job's last delivery, per sink
        self._handed_over: dict[str, asyncio.Future[None]] = {}  # job id → set once its Done event was handed over

    def subscribe(self, platform: str, sink: Sink) -> None:
        """Receive every event of jobs whose user is on ``platform`` (results of resumed jobs included)."""
        self._sinks.setdefault(platform, []).append(sink)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to its platform's sinks without waiting for them."""
        deliveries = []
        for sink in self._sinks.get(event.job.user.platform, []):
            key = (event.job.id, id(sink))
            task = asyncio.get_running_loop().create_task(self._deliver_after(self._latest.get(key), sink, event))
            self._latest[key] = task
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            task.add_done_callback(lambda done, key=key: self._latest.pop(key, None) if self._latest.get(key) is done
                                   else None)
            deliveries.append(task)
        waiting = self._handed_over.pop(event.job.id, None) if isinstance(event, Done) else None
        if waiting is not None:
            def settle(_: Any = None) -> None:
                if not waiting.done():
                    waiting.set_result(None)
            if deliveries:
                asyncio.ensure_future(asyncio.wait(deliveries)).add_done_callback(settle)
            else:
                settle()

    def handed_over(self, job_id: str) -> asyncio.Future[None]:
        """A future set once the Done event of ``job_id`` has been handed to its platform (or the hub is released)."""
        return self._handed_over.setdefault(job_id, asyncio.get_running_loop().create_future())

    def release(self) -> None:
        """Stop waiting for Done events that will not come (shutting down): settle every ``handed_over`` future."""
        for waiting in self._handed_over.values():
            if not waiting.done():
                waiting.set_result(None)
        self._handed_over.clear()

    async def settle(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for the deliveries in flight; how many are still under way."""
        pending = set(self._pending)
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        return sum(not task.done() for task in self._pending)

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

    async def _deliver_after(self, before: asyncio.Task[None] | None, sink: Sink, event: Event) -> None:
        """One job's events reach a sink in the order they happened (a late progress line never lands on top of
        the delivered result)."""
        if before is not None:
            await asyncio.wait([before])
        await self._deliver(sink, event)

    async def _deliver(self, sink: Sink, event: Event) -> None:
        """Hand an event to an adapter; a result or a failure is retried with backoff (a platform that refuses
        uploads for a while still gets it), and a result that never gets through is reported to its user."""
        i18n.use(event.job.reply_to.get("lang"))  # this task speaks the language the job was asked in
        final = isinstance(event, (Done, Failed))
        delays = self.backoff_s if final else ()
        for attempt in range(len(delays) + 1):
            try:
                await sink(event)
                return
            except Exception as exc:  # the platform's own errors: the adapter knows them, the hub does not
                fields = {"job": event.job.id, "event_type": type(event).__name__, "error_type": type(exc).__name__,
                          "error": str(exc)[:200]}
                if attempt < len(delays):
                    log.warning("delivery failed; retrying", **fields, attempt=attempt + 1)
                    await asyncio.sleep(delays[attempt])
                else:
                    log.error("delivery failed; giving up", **fields, attempts=attempt + 1)
        if isinstance(event, Done):
            try:
                await sink(Failed(event.job, UNDELIVERED))
            except Exception as exc:
                log.error("could not tell the user their image was not delivered", job=event.job.id,
                          error_type=type(exc).__name__)
