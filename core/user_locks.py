"""One user's session calls, one at a time: the per-user lock the Studio's read-then-write use cases run under."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from minime.core.domain import UserKey

_HELD: contextvars.ContextVar[frozenset[UserKey]] = contextvars.ContextVar("minime_held_users", default=frozenset())


class UserLocks:
    """An asyncio lock per user, kept only while a call holds or waits for it (a weak dictionary: no growth)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[UserKey, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, user: UserKey) -> AsyncIterator[None]:
        """Hold ``user``'s lock; re-entrant within one call chain (a selfie runs the request that waited for it)."""
        held = _HELD.get()
        if user in held:
            yield
            return
        lock = self._locks.get(user)
        if lock is None:
            lock = self._locks[user] = asyncio.Lock()
        async with lock:
            token = _HELD.set(held | {user})
            try:
                yield
            finally:
                _HELD.reset(token)


def one_at_a_time_per_user(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Run a method ``(self, user, ...)`` that reads and then writes a user's session only after that user's previous
    such call ended (``self.user_locks`` is a :class:`UserLocks`): a photo and a command sent back to back arrive as
    concurrent updates, and interleaved they lose the command ("send me a selfie first" right after one). One
    process: several processes over one database would need a row lock instead."""

    @functools.wraps(method)
    async def serialised(self: Any, user: UserKey, *args: Any, **kwargs: Any) -> Any:
        async with self.user_locks.hold(user):
            return await method(self, user, *args, **kwargs)

    return serialised
