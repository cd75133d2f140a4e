"""The user's language on Discord: each interaction's locale (``interaction.locale``) for its answers, and command
descriptions localised for every language minime speaks (discord.py's Translator, reading core's catalogues)."""

from __future__ import annotations

import discord
from discord import app_commands

from minime.bots.discord_bot.limits import DESCRIPTION_MAX
from minime.core import i18n

_NAMES = (app_commands.TranslationContextLocation.command_name, app_commands.TranslationContextLocation.group_name,
          app_commands.TranslationContextLocation.parameter_name)


def use_locale(interaction: discord.Interaction) -> None:
    """Answer the rest of this interaction in its user's language (Discord's client locale)."""
    i18n.use(interaction.locale.value if interaction.locale else None)


def use_message_locale(message: discord.Message) -> None:
    """Messages carry no user locale: a server's preferred language, English in DMs."""
    guild = message.guild
    i18n.use(guild.preferred_locale.value if guild is not None and guild.preferred_locale else None)


class MinimeTree(app_commands.CommandTree):
    """The command tree; every slash command first takes its user's language."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        use_locale(interaction)
        return True


class CatalogueTranslator(app_commands.Translator):
    """Descriptions (of commands, options and choices) from core's catalogues; names stay as they are, since people
    type them (``/figurine``)."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        if context.location in _NAMES:
            return None
        name = i18n.negotiate(locale.value)
        if name == i18n.ENGLISH:
            return None
        translated = i18n.translate(name, string.message)
        if translated == string.message:
            return None
        return translated if len(translated) <= DESCRIPTION_MAX else translated[:DESCRIPTION_MAX - 1].rstrip() + "…"
