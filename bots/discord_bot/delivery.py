"""Studio events to Discord: the deferred response (or a status message) edited with progress, then the result."""

from __future__ import annotations

import io
import time
from typing import Any

import discord

from minime.bots.discord_bot.limits import (
    DEFAULT_UPLOAD_LIMIT,
    INTERACTION_TOKEN_TTL_S,
    STATUS_EDIT_INTERVAL_S,
    TOKEN_MARGIN_S,
)
from minime.bots.discord_bot.views import result_view
from minime.core.domain import Done, Event, Failed, Queued, Rendering
from minime.core.intake import encode_for_platform
from minime.core.logs import get_logger
from minime.core.texts import queued_text, rendering_text
from minime.core.themes import ThemeCatalog

log = get_logger("minime.discord")

REFINE_HINT = "Reply to this image to refine it — e.g. “warmer colors”, “more grain”, “bigger name”."


class DiscordDelivery:
    """The Studio sink for the "discord" platform."""

    def __init__(self, client: discord.Client, catalog: ThemeCatalog) -> None:
        self.client, self.catalog = client, catalog
        self._last_edit: dict[str, float] = {}

    async def __call__(self, event: Event) -> None:
        where = event.job.reply_to
        if not where.get("channel_id"):
            return
        if isinstance(event, (Queued, Rendering)):
            text = queued_text(event.position, event.eta_s) if isinstance(event, Queued) else rendering_text(
                event.percent, event.waiting_for)
            key = f"{where.get('channel_id')}:{where.get('message_id')}"
            if time.monotonic() - self._last_edit.get(key, 0.0) >= STATUS_EDIT_INTERVAL_S:
                self._last_edit[key] = time.monotonic()
                await self._edit(where, content=text)
        elif isinstance(event, Done):
            await self._deliver(where, event)
        elif isinstance(event, Failed):
            if not await self._edit(where, content=f"😕 {event.reason}"):
                await self._channel(where).send(f"😕 {event.reason}")

    def _fresh(self, where: dict[str, Any]) -> bool:
        """Whether the interaction token still works (15 minutes, minus a margin)."""
        return where.get("kind") == "interaction" and time.time() - where.get("created", 0) < (
            INTERACTION_TOKEN_TTL_S - TOKEN_MARGIN_S)

    def _channel(self, where: dict[str, Any]) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(where["channel_id"]))

    async def _edit(self, where: dict[str, Any], **fields: Any) -> bool:
        try:
            if self._fresh(where) and where.get("message_id"):
                webhook = discord.Webhook.partial(where["application_id"], where["token"], client=self.client)
                await webhook.edit_message(int(where["message_id"]), **fields)
                return True
            if where.get("kind") == "channel" and where.get("message_id"):
                await self._channel(where).get_partial_message(int(where["message_id"])).edit(**fields)
                return True
        except discord.HTTPException as exc:
            log.info("could not edit the status message", status=exc.status)
        return False

    async def _deliver(self, where: dict[str, Any], event: Done) -> None:
        theme = self.catalog.get(event.result.theme_id)
        name = event.result.params.name
        caption = "\n".join([f"✨ **{theme.title}**" + (f" — {name}" if name else ""), *event.notes, REFINE_HINT])
        picture = encode_for_platform(event.image, max_bytes=int(where.get("upload_limit") or DEFAULT_UPLOAD_LIMIT),
                                      stem=f"minime-{theme.id}")
        owner = int(where.get("owner") or event.job.user.user_id)
        view = result_view(event.result.id, event.buttons, owner)

        def file() -> discord.File:
            return discord.File(io.BytesIO(picture.data), picture.filename)

        if await self._edit(where, content=caption, attachments=[file()], view=view):
            return
        # The interaction token expired (a long job): post to the channel instead, replying to the request.
        channel = self._channel(where)
        reference = discord.MessageReference(message_id=int(where["reference_id"]), channel_id=channel.id,
                                             fail_if_not_exists=False) if where.get("reference_id") else None
        await channel.send(content=f"<@{owner}> " + caption, file=file(), view=view, reference=reference)
