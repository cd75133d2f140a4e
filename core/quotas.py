"""Daily quotas: how many images a user, and a group chat or server channel, may get per UTC day.

Counts live in the store's ``usage`` table, one row per day and subject, and are taken atomically in the same
transaction that queues a job (see ``Store.enqueue``), so several front ends on one PostgreSQL never let one more
through. Only jobs that render count; refinements that only re-finish an image (colours, grain) are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from minime.core.domain import UserKey
from minime.core.i18n import gettext as _

Scope = Literal["user", "chat"]


@dataclass(frozen=True, slots=True)
class Quota:
    """One count a new render takes: ``subject`` is ``user:platform:id`` or ``chat:platform:id``.

    ``limit`` 0 counts without limiting (usage is still recorded, for /admin).
    """

    scope: Scope
    subject: str
    limit: int = 0


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is left today: None means unlimited."""

    images_left: int | None
    chat_images_left: int | None
    resets_in_s: float


def user_subject(user: UserKey) -> str:
    """The usage row key of a user."""
    return f"user:{user}"


def chat_subject(chat: str) -> str:
    """The usage row key of a group chat or server channel (``platform:id``)."""
    return f"chat:{chat}"


def utc_day(now: float) -> str:
    """The UTC calendar day of a timestamp, ``YYYY-MM-DD``: the quota period."""
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def day_start(now: float) -> float:
    """The timestamp of the UTC midnight that began the day of ``now``."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def seconds_until_reset(now: float) -> float:
    """Seconds until the next UTC midnight, when every quota starts again."""
    return day_start(now) + timedelta(days=1).total_seconds() - now


def left(limit: int, images: int, granted: int) -> int | None:
    """Images still allowed today (None when ``limit`` is 0: unlimited)."""
    return max(0, limit + granted - images) if limit else None


def duration_words(seconds: float) -> str:
    """``5 h 12 min`` or ``12 min``: how long until a quota resets, for people."""
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=minutes)
