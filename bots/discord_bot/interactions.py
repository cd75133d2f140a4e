"""What every Discord handler and button needs: the Studio, the user's key, acknowledging and failing politely."""

from __future__ import annotations

from typing import Any

import discord

from minime.bots.discord_bot.address import DiscordReply
from minime.bots.discord_bot.limits import DOWNLOAD_MAX_BYTES, PLATFORM
from minime.core.domain import UserKey
from minime.core.errors import ImageTooLarge, UnsupportedImage
from minime.core.i18n import gettext as _
from minime.core.intake import looks_like_image
from minime.core.studio import Studio


def studio_of(interaction: discord.Interaction | discord.Client) -> Studio:
    """The Studio the client was started with."""
    client = interaction.client if isinstance(interaction, discord.Interaction) else interaction
    return client.studio  # type: ignore[attr-defined]


def user_of(who: discord.abc.User) -> UserKey:
    """The Studio's key for a Discord user."""
    return UserKey(PLATFORM, str(who.id))


def chat_of(where: discord.Interaction | discord.Message) -> str | None:
    """The server channel a request came from (``discord:<channel id>``, for its quota); None in a DM."""
    if isinstance(where, discord.Interaction):
        return f"{PLATFORM}:{where.channel_id}" if where.guild_id and where.channel_id else None
    return f"{PLATFORM}:{where.channel.id}" if where.guild is not None else None


async def read_attachment(attachment: discord.Attachment) -> bytes:
    """An attached picture's bytes; UnsupportedImage or ImageTooLarge for anything else."""
    if not looks_like_image(attachment.content_type, attachment.filename):
        raise UnsupportedImage()
    if attachment.size > DOWNLOAD_MAX_BYTES:
        raise ImageTooLarge(_("That file is {mb} MB. Please send a photo under 20 MB.").format(
            mb=f"{attachment.size / 1e6:.0f}"))
    return await attachment.read()


async def deferred(interaction: discord.Interaction) -> dict[str, Any]:
    """Acknowledge at once (Discord allows 3 s) and describe where progress and the result go."""
    callback = await interaction.response.defer(thinking=True)
    return DiscordReply.interaction(interaction, callback.message_id if callback else None).as_dict()


async def fail(interaction: discord.Interaction, message: str) -> None:
    """Errors are ephemeral: the public "thinking…" message goes, a note only the user sees comes."""
    if interaction.response.is_done():
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            pass
        await interaction.followup.send(message, ephemeral=True)
    else:
        await interaction.response.send_message(message, ephemeral=True)
