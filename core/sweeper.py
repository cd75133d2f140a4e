"""The expiry sweeper: selfies, results and old usage counts go when their time is up (rows and files)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from minime.core.logs import get_logger
from minime.core.store import BlobStore, Store

log = get_logger("minime.sweeper")


class Sweeper:
    """Deletes what has expired now, and again every ``interval_s`` seconds while started.

    ``derived`` names the files kept beside a file (a result's figure files beside its base picture,
    ``FigureFiles.cache_keys``): they go with it.
    """

    def __init__(self, store: Store, blobs: BlobStore, interval_s: float = 600,
                 derived: Callable[[str], list[str]] | None = None) -> None:
        self.store, self.blobs, self.interval_s = store, blobs, interval_s
        self.derived = derived or (lambda _key: [])
        self._task: asyncio.Task[None] | None = None

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

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry sweep failed")
            await asyncio.sleep(self.interval_s)
