"""Caches of pictures and arrays (gradients, masks, textures, packaging) under one memory budget for the process.

The classic engine caches what it draws again and again (a blister card, a vignette, film grain) keyed by size,
palette or seed. Each cache alone was bounded by a count, but their entries are images of up to ~10 MB, so together
they could hold over a gigabyte, and a bot's memory kept growing for hundreds of renders as more sizes and palettes
came by. ``budget_cache`` is ``functools.lru_cache`` with, on top of its count, a byte budget shared by every cache
that uses it: the least recently used entry of any of them goes first. ``functools.lru_cache`` has no size-aware
eviction and no shared budget, and cachetools' ``LRUCache(getsizeof=…)`` bounds one cache, not several together.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from PIL import Image

BUDGET_BYTES = 256 * 2**20
_SMALL = 256  # bytes counted for a value that holds no array or picture

F = TypeVar("F", bound=Callable[..., Any])


def size_of(value: Any) -> int:
    """Bytes held by a cached value: its arrays and pictures (inside tuples, lists and dicts too)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands())
    if isinstance(value, (tuple, list)):
        return sum(size_of(v) for v in value) + _SMALL
    if isinstance(value, dict):
        return sum(size_of(v) for v in value.values()) + _SMALL
    return _SMALL


class _Budget:
    """The entries of every budget cache, least recently used first, and the bytes they hold."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[int, Any], tuple[Any, int]] = OrderedDict()
        self.counts: dict[int, int] = {}
        self.total = 0

    def get(self, key: tuple[int, Any]) -> tuple[bool, Any]:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return False, None
            self.entries.move_to_end(key)
            return True, found[0]

    def put(self, key: tuple[int, Any], value: Any, maxsize: int) -> None:
        size = size_of(value)
        with self.lock:
            if key in self.entries or size > self.limit:
                return
            self.entries[key] = (value, size)
            self.total += size
            self.counts[key[0]] = self.counts.get(key[0], 0) + 1
            if self.counts[key[0]] > maxsize:  # this cache's own count: its least recently used entry goes
                self._drop(next(k for k in self.entries if k[0] == key[0]))
            while self.total > self.limit:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: tuple[int, Any]) -> None:
        _, size = self.entries.pop(key)
        self.total -= size
        self.counts[key[0]] -= 1

    def clear(self, owner: int | None = None) -> None:
        with self.lock:
            for key in [k for k in self.entries if owner is None or k[0] == owner]:
                self._drop(key)


BUDGET = _Budget(BUDGET_BYTES)


def budget_cache(maxsize: int = 128) -> Callable[[F], F]:
    """Like ``functools.lru_cache(maxsize)`` (hashable arguments; callers must not change what it returns), with
    every such cache together holding at most ``BUDGET_BYTES`` of arrays and pictures. Thread-safe: two threads
    that miss the same key at once both compute it, and one result is kept."""

    def decorate(fn: F) -> F:
        owner = id(fn)

        @functools.wraps(fn)
        def cached(*args: Any, **kwargs: Any) -> Any:
            key = (owner, args, tuple(sorted(kwargs.items())))
            found, value = BUDGET.get(key)
            if found:
                return value
            value = fn(*args, **kwargs)
            BUDGET.put(key, value, maxsize)
            return value

        cached.cache_clear = lambda: BUDGET.clear(owner)  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return decorate
