"""Where a job's progress and result go in Telegram: a typed reply address, stored as the job's ``reply_to``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from telegram import Message


@dataclass(frozen=True)
class TelegramReply:
    """A chat, the message the result answers, and the status line that shows progress.

    Attributes:
        chat_id: the chat to post in.
        message_id: the user's message the result replies to.
        status_id: our status message, edited with progress (None: no progress shown).
    """

    chat_id: int
    message_id: int | None = None
    status_id: int | None = None

    @classmethod
    def to(cls, message: Message, status: Message | None = None) -> TelegramReply:
        """Reply to ``message``, showing progress in ``status``."""
        return cls(message.chat_id, message.message_id, status.message_id if status else None)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the job stores."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TelegramReply | None:
        """The address a job stored (None when the job did not come from Telegram's chat, e.g. a test's)."""
        if data.get("chat_id") is None:
            return None
        return cls(int(data["chat_id"]), data.get("message_id"), data.get("status_id"))
