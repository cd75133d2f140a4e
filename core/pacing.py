"""Paces status-line edits so that progress never trips a platform's flood limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class StatusPacer:
    """Lets each status line change at most once per interval, and never to the text it already shows."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self._clock = interval_s, clock
        self._last: dict[Hashable, tuple[float, str]] = {}

    def allow(self, key: Hashable, text: str, *, final: bool = False) -> bool:
        """Whether to edit status line ``key`` to ``text`` now (a final text always goes); remembers it if so."""
        now = self._clock()
        last_at, last_text = self._last.get(key, (float("-inf"), None))
        if not final and (now - last_at < self.interval_s or last_text == text):
            return False
        self._last[key] = (now, text)
        return True

    def forget(self, key: Hashable) -> None:
        """The status line is gone (its job ended): drop what was kept for it."""
        self._last.pop(key, None)
