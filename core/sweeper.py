"""The expiry sweeper: selfies, results and old usage counts go when their time is up (rows and files), and a
selfie's file as soon as a new selfie replaces it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from minime.core.domain import UserKey
from minime.core.logs import get_logger
from minime.core.store import BlobStore, Store

log = get_logger("minime.sweeper")


class Sweeper:
    """Deletes what has expired now, and again when the next selfie or result expires (at least every
    ``interval_s`` seconds) while started.

    ``derived`` names the files kept beside a file (a result's figure files beside its base picture,
    ``FigureFiles.cache_keys``): they go with it.
    """

    def __init__(self, store: Store, blobs: BlobStore, interval_s: float = 600,
                 derived: Callable[[str], list[str]] | None = None) -> None:
        self.store, self.blobs, self.interval_s = store, blobs, interval_s
        self.derived = derived or (lambda _key: [])
        self._task: asyncio.Task[None] | None = None
        self._sooner = asyncio.Event()  # something new expires before the sweep the loop sleeps until
        self._next_sweep = float("inf")

    def start(self) -> None:
        """Sweep in the background until stopped."""
        self._task = asyncio.create_task(self._loop(), name="minime-sweeper")

    async def stop(self) -> None:
        """Stop sweeping (a sweep under way is cancelled; what it left is taken next time)."""
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def sweep(self, now: float | None = None) -> int:
        """Delete expired selfies and results (rows and files) and old usage counts. Returns how many files went."""
        await self.store.prune_usage(now)
        keys = await self.store.take_expired_selfies(now) + await self.store.take_expired_results(now)
        for key in keys:
            for beside in self.derived(key):
                await self.blobs.delete(beside)
            await self.blobs.delete(key)
        if keys:
            log.info("expired files removed", count=len(keys))
        return len(keys)

    async def replaced(self, user: UserKey, selfie_id: str, ttl_s: float) -> None:
        """A new selfie ``selfie_id`` of ``user``, kept ``ttl_s`` seconds: the ones it replaced go now (rows and
        files), and it goes on time."""
        for key in await self.store.retire_selfies(user, selfie_id):
            await self.blobs.delete(key)
        self.expires_at(self.store.clock() + ttl_s)

    def expires_at(self, when: float) -> None:
        """Something stored expires at ``when``: sweep then, if that is before the next sweep planned."""
        if when < self._next_sweep:
            self._sooner.set()

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
                upcoming = await self.store.next_expiry()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry sweep failed")
                upcoming = None
            now = self.store.clock()  # the store's time: expiry dates are written in it
            self._next_sweep = min(now + self.interval_s, upcoming + 0.05 if upcoming is not None else float("inf"))
            self._sooner.clear()
            try:
                await asyncio.wait_for(self._sooner.wait(), max(0.5, self._next_sweep - now))
            except TimeoutError:
                pass
