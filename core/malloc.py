"""Giving memory back to the system after a render (glibc's allocator; a no-op elsewhere).

A render allocates a few hundred MB of short-lived arrays in worker threads. glibc keeps what they free in per-thread
arenas and raises its mmap threshold after the first big frees, so later big arrays come from those arenas too: a bot
that had made 60 renders held ~1 GB, of which ~480 MB was free memory glibc had not returned (``malloc_trim`` gave it
back at once). So the arenas are limited to two (``MALLOC_ARENA_MAX=2`` from inside the process), and after each job
the free memory at the top and inside the arenas is returned with ``malloc_trim``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

_M_ARENA_MAX = -8  # mallopt parameter numbers, from glibc's malloc.h
ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()
_trimming = threading.Lock()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Let all threads share at most ``arenas`` malloc arenas (call at start, before the render threads exist).
    Returns whether glibc took the setting."""
    return bool(_LIBC and _LIBC.mallopt(_M_ARENA_MAX, arenas))


def give_back() -> bool:
    """Return free heap memory to the system (``malloc_trim(0)``); one call at a time. Returns whether any was."""
    if _LIBC is None or not _trimming.acquire(blocking=False):
        return False
    try:
        return bool(_LIBC.malloc_trim(0))
    finally:
        _trimming.release()
