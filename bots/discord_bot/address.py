"""Where a job's progress and result go in Discord: a typed reply address, stored as the job's ``reply_to``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import discord

from minime.bots.discord_bot.limits import DEFAULT_UPLOAD_LIMIT, INTERACTION_TOKEN_TTL_S, TOKEN_MARGIN_S


@dataclass(frozen=True)
class DiscordReply:
    """A deferred interaction response (edited through its token) or a status message in a channel.

    Attributes:
        kind: ``"interaction"`` or ``"channel"``.
        channel_id: the channel to post in once the interaction token has expired (or always, for "channel").
        owner: the Discord user the result's buttons answer.
        message_id: the message edited with progress and the result.
        reference_id: the user's message the result replies to (channel kind).
        application_id: the application the interaction token belongs to.
        token: the interaction token (15 minutes of life; never logged).
        created: when the interaction was acknowledged (epoch seconds).
        upload_limit: the largest upload this interaction allows.
    """

    kind: str
    channel_id: int
    owner: int
    message_id: int | None = None
    reference_id: int | None = None
    application_id: int | None = None
    token: str | None = field(default=None, repr=False)
    created: float = 0.0
    upload_limit: int = DEFAULT_UPLOAD_LIMIT

    @classmethod
    def interaction(cls, interaction: discord.Interaction, message_id: int | None) -> DiscordReply:
        """The deferred response of ``interaction`` (whose callback created message ``message_id``)."""
        return cls("interaction", interaction.channel_id or 0, interaction.user.id, message_id,
                   application_id=interaction.application_id, token=interaction.token, created=time.time(),
                   upload_limit=interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT)

    @classmethod
    def channel(cls, request: discord.Message, status: discord.Message) -> DiscordReply:
        """Our ``status`` message answering the user's ``request`` in a channel or DM."""
        return cls("channel", request.channel.id, request.author.id, status.id, reference_id=request.id)

    def token_alive(self, now: float | None = None) -> bool:
        """Whether the interaction token still works (15 minutes, minus a margin)."""
        return self.kind == "interaction" and ((now or time.time()) - self.created
                                               < INTERACTION_TOKEN_TTL_S - TOKEN_MARGIN_S)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the job stores."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiscordReply | None:
        """The address a job stored (None when the job did not come from Discord's chat)."""
        if not data.get("channel_id"):
            return None
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        for name in ("channel_id", "owner", "message_id", "reference_id", "application_id", "upload_limit"):
            if name in values:
                values[name] = int(values[name])
        values.setdefault("kind", "channel")
        values.setdefault("owner", 0)
        return cls(**values)
