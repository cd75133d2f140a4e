"""Daily quotas: how many images a user, and a group chat or server channel, may get per UTC day.

Counts live in the store's ``usage`` table, one row per day and subject, and are taken atomically in the same
transaction that queues a job (see ``Store.enqueue``), so several front ends on one PostgreSQL never let one more
through. Only jobs that render count; refinements that only re-finish an image (colours, grain) are free. A job that
fails or is cancelled gives its images back (``Store.finish_job``, ``Store.cancel_job``): people pay only for
pictures that arrive.

In a group with a daily quota, each member also has a share of it (``MINIME_CHAT_MEMBER_SHARE``, half by default),
counted under ``member:<chat>:<user>``, so one member cannot take the whole group's day. An admin's grant to the
chat (or to the member) raises that share by as much.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from minime.core.domain import UserKey
from minime.core.i18n import gettext as _

Scope = Literal["user", "chat", "member"]


@dataclass(frozen=True, slots=True)
class Quota:
    """One count a new render takes: ``subject`` is ``user:platform:id``, ``chat:platform:id`` or
    ``member:<chat>:<user>``.

    ``limit`` 0 counts without limiting (usage is still recorded, for /admin). ``lifted_by``: other subjects whose
    grants today raise this limit too (a member's share grows with what an admin grants the chat or the member).
    """

    scope: Scope
    subject: str
    limit: int = 0
    lifted_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is left today: None means unlimited."""

    images_left: int | None
    chat_images_left: int | None
    resets_in_s: float
    share_left: int | None = None  # the member's own share of the group's images still left today


def user_subject(user: UserKey) -> str:
    """The usage row key of a user."""
    return f"user:{user}"


def chat_subject(chat: str) -> str:
    """The usage row key of a group chat or server channel (``platform:id``)."""
    return f"chat:{chat}"


def member_subject(chat: str, user: UserKey | str) -> str:
    """The usage row key of one member's share of a group chat's images (``member:<chat>:<user>``)."""
    return f"member:{chat}:{user}"


def member_share(chat_limit: int, share: float) -> int:
    """A member's images of a group's daily ``chat_limit`` (0: no share limit), at least one."""
    if not chat_limit or share >= 1:
        return 0
    return max(1, int(chat_limit * share))


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
