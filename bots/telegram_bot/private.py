"""Answers in a group that only their asker sees: quota refusals, errors, /status, /admin.

Bot API 10.2 sends an ephemeral message (shown to one member of a group) through ``sendMessage`` with
``ephemeral_message_parameters`` (``receiver_user_id``, optionally the ``callback_query_id`` that triggered it).
python-telegram-bot 22.8 speaks Bot API 10.0: the parameter goes in ``api_kwargs`` of ``Bot.send_message`` (PTB
refuses ``do_api_request`` for a method it has), and the new ``ephemeral_message_id`` comes back in the Message's
``api_kwargs``. Where the server
refuses it (an older Bot API server, a bot that is not an admin of the group) the answer is a quiet reply instead: it
quotes the asker's message and does not notify the group. A server that silently ignores the parameter returns no
``ephemeral_message_id``; then the quiet form (which is what it sent) is used from then on.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden

from minime.core.logs import get_logger

log = get_logger("minime.telegram")

EPHEMERAL = "ephemeral_message_parameters"


class PrivateReplies:
    """Sends a group member an answer only they see, where the Bot API server can."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.ephemeral = True  # until the server shows it cannot

    async def tell(self, chat_id: int, user_id: int, text: str, *, reply_to: int | None = None,
                   callback_query_id: str | None = None) -> None:
        """``text`` for ``user_id`` alone in the group ``chat_id`` (a private chat is private already)."""
        if chat_id > 0:
            await self.bot.send_message(chat_id, text, reply_parameters=_quoting(reply_to))
            return
        if self.ephemeral and await self._ephemeral(chat_id, user_id, text, callback_query_id):
            return
        await self.bot.send_message(chat_id, text, disable_notification=True, reply_parameters=_quoting(reply_to))

    async def direct(self, chat_id: int, user_id: int, text: str, *, reply_to: int | None = None,
                     sent_note: str, blocked_note: str) -> None:
        """``text`` as a direct message (an admin's report); in the group only ``sent_note`` for them, or
        ``blocked_note`` when the user never opened a private chat with the bot (then the text stays unsent unless
        the group's ephemeral message can carry it)."""
        try:
            await self.bot.send_message(user_id, text)
        except Forbidden:
            if self.ephemeral and await self._ephemeral(chat_id, user_id, text, None):
                return
            await self.bot.send_message(chat_id, blocked_note, disable_notification=True,
                                        reply_parameters=_quoting(reply_to))
            return
        await self.tell(chat_id, user_id, sent_note, reply_to=reply_to)

    async def _ephemeral(self, chat_id: int, user_id: int, text: str, callback_query_id: str | None) -> bool:
        parameters: dict[str, Any] = {"receiver_user_id": user_id}
        if callback_query_id:
            parameters["callback_query_id"] = callback_query_id
        try:
            sent = await self.bot.send_message(chat_id, text, disable_notification=True,
                                               api_kwargs={EPHEMERAL: parameters})
        except BadRequest as exc:  # not allowed in this group (or this server): this answer goes as a quiet reply
            # Only this answer: a refusal may be one chat's (its settings), and turning ephemeral messages off for
            # every group would post other groups' private answers for all to read.
            log.info("ephemeral message refused; replying quietly instead", reason=str(exc)[:120])
            return False
        if not sent.api_kwargs.get("ephemeral_message_id"):
            log.warning("the Bot API server ignored ephemeral_message_parameters (older than 10.2): answers in "
                        "groups are quiet replies from now on")
            self.ephemeral = False  # it was posted as a plain message already: don't send it twice
        return True


def _quoting(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None
