"""Studio events to Discord: the deferred response (or a status message) edited with progress, then the result."""

from __future__ import annotations

import io
from typing import Any

import discord

from minime.bots.discord_bot.address import DiscordReply
from minime.bots.discord_bot.limits import STATUS_EDIT_INTERVAL_S
from minime.bots.discord_bot.views import cancel_view, result_card
from minime.core.domain import Cancelled, Done, Event, Failed, Queued, Rendering
from minime.core.i18n import gettext as _
from minime.core.intake import encode_for_platform
from minime.core.logs import get_logger
from minime.core.pacing import StatusPacer
from minime.core.texts import CANCELLED, failed_text, queued_text, rendering_text, result_caption
from minime.core.themes import ThemeCatalog

log = get_logger("minime.discord")


class DiscordDelivery:
    """The Studio sink for the "discord" platform."""

    def __init__(self, client: discord.Client, catalog: ThemeCatalog) -> None:
        self.client, self.catalog = client, catalog
        self._pacer = StatusPacer(STATUS_EDIT_INTERVAL_S)

    async def __call__(self, event: Event) -> None:
        where = DiscordReply.from_dict(event.job.reply_to)
        if where is None:
            return
        key = (where.channel_id, where.message_id)
        if isinstance(event, (Queued, Rendering)):
            text = queued_text(event.position, event.eta_s) if isinstance(event, Queued) else rendering_text(
                event.percent, event.waiting_for)
            if self._pacer.allow(key, text):
                await self._edit(where, content=text,
                                 view=cancel_view(event.job.id, where.owner or int(event.job.user.user_id)))
            return
        self._pacer.forget(key)
        if isinstance(event, Done):
            await self._deliver(where, event)
        elif isinstance(event, Cancelled):  # the status says so, its Cancel button gone
            await self._edit(where, content=_(CANCELLED), view=None)
        elif isinstance(event, Failed) and event.job.chat and await self._tell_privately(where, event.reason):
            pass  # in a server channel a failure is its asker's alone
        elif isinstance(event, Failed):
            if not await self._edit(where, content=failed_text(event.reason)):
                await self._channel(where).send(failed_text(event.reason))

    async def _tell_privately(self, where: DiscordReply, reason: str) -> bool:
        """An ephemeral follow-up of the interaction (only its user sees it) in place of the public status message;
        False where the interaction token is gone (then the status message says it, as before)."""
        if not (where.token_alive() and where.application_id and where.token):
            return False
        webhook = discord.Webhook.partial(where.application_id, where.token, client=self.client)
        try:
            await webhook.send(failed_text(reason), ephemeral=True)
        except discord.HTTPException as exc:
            log.info("could not send the failure privately", status=exc.status)
            return False
        if where.message_id:
            try:
                await webhook.delete_message(where.message_id)
            except discord.HTTPException:
                pass  # a leftover "thinking…" line is harmless
        return True

    def _channel(self, where: DiscordReply) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(where.channel_id)

    async def _edit(self, where: DiscordReply, **fields: Any) -> bool:
        try:
            if where.token_alive() and where.message_id and where.application_id and where.token:
                webhook = discord.Webhook.partial(where.application_id, where.token, client=self.client)
                await webhook.edit_message(where.message_id, **fields)
                return True
            if where.kind == "channel" and where.message_id:
                await self._channel(where).get_partial_message(where.message_id).edit(**fields)
                return True
        except discord.HTTPException as exc:
            log.info("could not edit the status message", status=exc.status)
        return False

    async def _deliver(self, where: DiscordReply, event: Done) -> None:
        theme = self.catalog.get(event.result.theme_id)
        caption = result_caption(theme.title, event.result.params.name, event.notes, bold="**")
        picture = encode_for_platform(event.image, max_bytes=where.upload_limit, stem=f"minime-{theme.id}")
        owner = where.owner or int(event.job.user.user_id)

        def card(text: str) -> dict[str, Any]:  # a fresh file each time: a failed upload consumes its buffer
            file = discord.File(io.BytesIO(picture.data), picture.filename)
            return {"attachments": [file], "view": result_card(event.result.id, event.buttons, owner, text, file)}

        # One Components v2 card (picture, caption, buttons): a v2 message has no content, so the status text goes.
        if await self._edit(where, content=None, **card(caption)):
            return
        # The interaction token expired (a long job): post to the channel instead, replying to the request.
        channel = self._channel(where)
        reference = discord.MessageReference(message_id=where.reference_id, channel_id=channel.id,
                                             fail_if_not_exists=False) if where.reference_id else None
        fields = card(f"<@{owner}> " + caption)
        await channel.send(files=fields["attachments"], view=fields["view"], reference=reference)
