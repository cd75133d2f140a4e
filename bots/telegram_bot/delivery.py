"""Studio events to Telegram: a status message edited in place (paced), a chat action kept alive, the result."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from telegram import Bot, InputFile, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from minime.bots.telegram_bot.address import TelegramReply
from minime.bots.telegram_bot.keyboards import cancel_keyboard, result_keyboard
from minime.bots.telegram_bot.limits import (
    CAPTION_MAX,
    CHAT_ACTION_REFRESH_S,
    FILE_MAX_BYTES,
    GROUP_STATUS_EDIT_INTERVAL_S,
    PHOTO_MAX_BYTES,
    PHOTO_MAX_SIDE_SUM,
    SEND_ATTEMPTS,
    STATUS_EDIT_INTERVAL_S,
)
from minime.bots.telegram_bot.private import PrivateReplies
from minime.core.buttons import TURNTABLE
from minime.core.domain import Cancelled, Done, Event, Failed, Queued, Rendering
from minime.core.figures import FigureFile
from minime.core.i18n import gettext as _
from minime.core.intake import encode_for_platform
from minime.core.logs import get_logger
from minime.core.pacing import StatusPacer
from minime.core.texts import CANCELLED, FIGURE_FILE_TOO_LARGE, failed_text, queued_text, rendering_text, result_caption
from minime.core.themes import ThemeCatalog

log = get_logger("minime.telegram")


UPLOAD_READ_TIMEOUT_S = 120.0
"""How long an upload (a photo, a file) waits for Telegram's answer once sent: Telegram may take long to process a
large photo, and an answer that comes late must not make us send the picture again."""
_NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)
"""Errors of a request that Telegram cannot have read whole (an error Telegram answered is not an httpx error)."""


def _may_have_arrived(exc: Exception) -> bool:
    """Whether a failed request may have been read and carried out by Telegram: its answer was lost (a read
    timeout, a dropped connection) rather than refused or never sent."""
    cause = exc.__cause__
    return isinstance(cause, httpx.HTTPError) and not isinstance(cause, _NEVER_LEFT)


async def with_retries(call: Any, *args: Any, sends: bool = False, **kwargs: Any) -> Any:
    """Call the Bot API, retrying our own network trouble (timeouts, 5xx); 429s are the rate limiter's.

    ``sends``: the call posts something new (a photo, a message). After a read timeout or a dropped connection
    Telegram may have it already, and a retry would give the user a second copy: such a call is retried only when
    Telegram answered with an error or never got the whole request; otherwise ``MaybeSent`` is raised.
    """
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await call(*args, **kwargs)
        except (BadRequest, Forbidden):
            raise
        except (NetworkError, TimedOut) as exc:
            if sends and _may_have_arrived(exc):
                raise MaybeSent(str(exc)) from exc
            if attempt == SEND_ATTEMPTS - 1:
                raise
            log.warning("telegram call failed; retrying", error=type(exc).__name__, attempt=attempt + 1)
            await asyncio.sleep(1.0 * 2**attempt)


class MaybeSent(NetworkError):
    """A post that may have reached Telegram before the connection failed: not sent again."""


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int, action: str) -> AsyncIterator[None]:
    """Show ``action`` ("uploading video…") in the chat while the block runs, refreshed before it fades."""

    async def keep() -> None:
        while True:
            with contextlib.suppress(NetworkError, TimedOut):
                await bot.send_chat_action(chat_id, action)
            await asyncio.sleep(CHAT_ACTION_REFRESH_S)

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def send_figure_file(bot: Bot, chat_id: int, figure: FigureFile, reply_to: int | None) -> None:
    """A figure's turntable as an animation (an H.264 MP4 without sound loops like a GIF), or its mesh as a
    document; a file over Telegram's 50 MB gets a note instead."""
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    if len(figure.data) > FILE_MAX_BYTES:
        await with_retries(bot.send_message, chat_id, _(FIGURE_FILE_TOO_LARGE), reply_parameters=reply)
        return
    upload = InputFile(figure.data, filename=figure.filename)
    if figure.kind == TURNTABLE:
        send, extra = bot.send_animation, {}
    else:
        send, extra = bot.send_document, {"disable_content_type_detection": True}
    try:  # a post: after a lost answer it is most likely there already, and a second copy would be worse than none
        await with_retries(send, chat_id, upload, caption=figure.caption[:CAPTION_MAX], reply_parameters=reply,
                           read_timeout=UPLOAD_READ_TIMEOUT_S, sends=True, **extra)
    except MaybeSent:
        log.warning("figure file upload answer lost; not sent again", kind=figure.kind)


class TelegramDelivery:
    """The Studio sink for the "telegram" platform."""

    def __init__(self, bot: Bot, catalog: ThemeCatalog) -> None:
        self.bot, self.catalog = bot, catalog
        self._pacer = StatusPacer(STATUS_EDIT_INTERVAL_S)  # progress edits never trip the per-chat flood limit
        self._group_pacer = StatusPacer(GROUP_STATUS_EDIT_INTERVAL_S)  # nor a group's 20 messages a minute
        self._actions: dict[str, asyncio.Task[None]] = {}
        self._private = PrivateReplies(bot)

    async def __call__(self, event: Event) -> None:
        reply_to = TelegramReply.from_dict(event.job.reply_to)
        if reply_to is None:
            return
        chat_id, status_id = reply_to.chat_id, reply_to.status_id
        if isinstance(event, (Queued, Rendering)):
            self._keep_action(event.job.id, chat_id)
            text = queued_text(event.position, event.eta_s) if isinstance(event, Queued) else rendering_text(
                event.percent, event.waiting_for)
            await self._edit_status(chat_id, status_id, text, final=False, markup=cancel_keyboard(event.job.id))
        elif isinstance(event, Done):
            self._stop_action(event.job.id)
            await self._send_result(chat_id, reply_to, event)
            if status_id:
                await self._delete(chat_id, status_id)
        elif isinstance(event, Cancelled):  # the status line says so, without its Cancel button
            self._stop_action(event.job.id)
            if not await self._edit_status(chat_id, status_id, _(CANCELLED), final=True):
                await self._private.tell(chat_id, int(event.job.user.user_id), _(CANCELLED),
                                         reply_to=reply_to.message_id)
            if status_id:
                self._pacer_of(chat_id).forget(status_id)
        elif isinstance(event, Failed) and chat_id < 0:  # in a group the failure is its asker's alone
            self._stop_action(event.job.id)
            await self._private.tell(chat_id, int(event.job.user.user_id), failed_text(event.reason),
                                     reply_to=reply_to.message_id)
            if status_id:
                await self._delete(chat_id, status_id)
        elif isinstance(event, Failed):
            self._stop_action(event.job.id)
            if not await self._edit_status(chat_id, status_id, failed_text(event.reason), final=True):
                await with_retries(self.bot.send_message, chat_id, failed_text(event.reason))
            if status_id:
                self._pacer_of(chat_id).forget(status_id)

    async def _edit_status(self, chat_id: int, message_id: int | None, text: str, *, final: bool,
                           markup: Any = None) -> bool:
        """Edit the status line (``markup``: its Cancel button while the job waits or runs; none removes it)."""
        if not message_id:
            return False
        if not self._pacer_of(chat_id).allow(message_id, text, final=final):
            return True
        try:
            await with_retries(self.bot.edit_message_text, text, chat_id=chat_id, message_id=message_id,
                               reply_markup=markup)
            return True
        except BadRequest as exc:  # deleted by the user, or "message is not modified"
            return "not modified" in str(exc).lower()

    def _pacer_of(self, chat_id: int) -> StatusPacer:
        return self._group_pacer if chat_id < 0 else self._pacer  # groups and supergroups have negative ids

    async def _delete(self, chat_id: int, message_id: int) -> None:
        self._pacer_of(chat_id).forget(message_id)
        try:
            await self.bot.delete_message(chat_id, message_id)
        except (BadRequest, NetworkError):
            pass  # a leftover status line is harmless

    async def _send_result(self, chat_id: int, reply_to: TelegramReply, event: Done) -> None:
        theme = self.catalog.get(event.result.theme_id)
        caption = result_caption(theme.title, event.result.params.name, event.notes)
        keyboard = result_keyboard(event.result.id, event.buttons)
        reply = ReplyParameters(reply_to.message_id, allow_sending_without_reply=True) if reply_to.message_id \
            else None
        photo = encode_for_platform(event.image, max_bytes=PHOTO_MAX_BYTES, max_side_sum=PHOTO_MAX_SIDE_SUM,
                                    stem=f"minime-{theme.id}")
        try:
            await with_retries(self.bot.send_photo, chat_id, InputFile(photo.data, filename=photo.filename),
                               caption=caption[:CAPTION_MAX], reply_markup=keyboard, reply_parameters=reply,
                               read_timeout=UPLOAD_READ_TIMEOUT_S, sends=True)
        except BadRequest as exc:  # e.g. PHOTO_INVALID_DIMENSIONS: send the file as a document instead
            log.info("photo refused; sending as a document", reason=str(exc))
            await with_retries(self.bot.send_document, chat_id,
                               InputFile(event.image, filename=f"minime-{theme.id}.jpg"),
                               caption=caption[:CAPTION_MAX], reply_markup=keyboard, reply_parameters=reply,
                               read_timeout=UPLOAD_READ_TIMEOUT_S, sends=True)
        except MaybeSent:  # sent, most likely, with its answer lost: a second copy would be worse than none
            log.warning("the result's upload got no answer; not sending it again", job=event.job.id)

    def _keep_action(self, job_id: str, chat_id: int) -> None:
        if job_id not in self._actions:
            self._actions[job_id] = asyncio.create_task(self._action_loop(chat_id))

    def _stop_action(self, job_id: str) -> None:
        task = self._actions.pop(job_id, None)
        if task:
            task.cancel()

    async def _action_loop(self, chat_id: int) -> None:
        while True:
            try:
                await self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
            except (NetworkError, TimedOut):
                pass
            await asyncio.sleep(CHAT_ACTION_REFRESH_S if chat_id > 0 else GROUP_STATUS_EDIT_INTERVAL_S)

    async def close(self) -> None:
        """Stop the chat-action loops."""
        for task in self._actions.values():
            task.cancel()
        self._actions.clear()
