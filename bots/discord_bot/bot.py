"""The Discord client: a CommandTree with minime's commands, persistent buttons registered at start-up."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from minime.bots.discord_bot import handlers
from minime.bots.discord_bot.delivery import DiscordDelivery
from minime.bots.discord_bot.language import CatalogueTranslator, MinimeTree
from minime.bots.discord_bot.limits import PLATFORM
from minime.bots.discord_bot.theme_commands import theme_commands
from minime.bots.discord_bot.views import CancelButton, ForgetButton, ResultButton, ThemeButton
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.studio import Studio

log = get_logger("minime.discord")


class MinimeDiscord(discord.Client):
    """discord.py client wired to the Studio."""

    def __init__(self, studio: Studio, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # text replies to our images, and selfies posted in DMs
        # Names and texts people typed are echoed back: never let them ping @everyone, roles or users.
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(intents=intents, **options)
        self.studio, self.settings = studio, settings
        self.tree = MinimeTree(self)
        for command in [*theme_commands(studio.theme_commands()), *handlers.COMMANDS]:
            self.tree.add_command(command)
        self.tree.on_error = handlers.on_command_error
        self.delivery = DiscordDelivery(self, studio.catalog)
        studio.subscribe(PLATFORM, self.delivery)

    async def setup_hook(self) -> None:
        """Register the persistent buttons and sync the slash commands."""
        self.add_dynamic_items(ResultButton, ThemeButton, ForgetButton, CancelButton)
        await self.tree.set_translator(CatalogueTranslator())  # descriptions in every language minime speaks
        await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("discord connected", guilds=len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        await handlers.on_message(self, message)


class DiscordRunner:
    """Starts and stops the client inside the shared event loop (``minime discord`` and ``minime serve``)."""

    def __init__(self, studio: Studio, settings: Settings, **options: Any) -> None:
        self.client = MinimeDiscord(studio, settings, **options)
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in, then keep the gateway connection in the background (discord.py reconnects by itself)."""
        await self.client.login(self.settings.discord_token.get_secret_value())
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")

    async def wait_until_ready(self, timeout: float = 30.0) -> None:
        """For tests and start-up logs: wait for the gateway's READY."""
        await asyncio.wait_for(self.client.wait_until_ready(), timeout)

    async def stop(self) -> None:
        """Close the connection."""
        await self.client.close()
        if self._task:
            await asyncio.gather(self._task, return_exceptions=True)
