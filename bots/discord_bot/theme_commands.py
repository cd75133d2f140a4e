"""One slash command per theme command of the catalogue: names, options, choices and descriptions come from the theme
files (core's ``ThemeCommand``), so a theme file dropped into the themes folder is a slash command at the next start.

discord.py reads a command's options from its callback's signature; the signature is built here from the data
(``__signature__``), with the library's own decorators for descriptions, choices and the cooldown.
"""

from __future__ import annotations

import inspect
from typing import Any, Optional

import discord
from discord import app_commands

from minime.bots.discord_bot.handlers import PHOTO_OPTION, cooldown, run_theme
from minime.bots.discord_bot.limits import DESCRIPTION_MAX, THINGS_OPTION
from minime.core.domain import ThemeCommand


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1].rstrip() + "…"


def theme_command(spec: ThemeCommand) -> app_commands.Command[Any, ..., None]:
    """The slash command for one catalogue command: ``/figurine name:Ada photo:<selfie>``, ``/retro era:90s``…"""
    option = spec.option if spec.argument else None
    things = THINGS_OPTION if spec.things else None

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        argument = values.get(option) if option else None
        if things and values.get(things):
            argument = f"{argument or ''} | {values[things]}".strip()
        await run_theme(interaction, spec.command, argument, values.get("photo"))

    Param = inspect.Parameter  # noqa: N806 - the class, named as inspect names it
    params = [Param("interaction", Param.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction)]
    described: dict[str, str] = {"photo": PHOTO_OPTION}
    if option:
        default: Any = Param.empty if spec.required else (spec.default if spec.choices else None)
        params.append(Param(option, Param.KEYWORD_ONLY, default=default,
                            annotation=str if spec.required or spec.choices else Optional[str]))  # noqa: UP045
        described[option] = _short(spec.option_description)
    if things:
        params.append(Param(things, Param.KEYWORD_ONLY, default=None, annotation=Optional[str]))  # noqa: UP045
        described[things] = _short(spec.things or "")
    params.append(Param("photo", Param.KEYWORD_ONLY, default=None,
                        annotation=Optional[discord.Attachment]))  # noqa: UP045
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = f"theme_{spec.command}"
    callback.__doc__ = f"/{spec.command}"
    if option and spec.choices:
        callback = app_commands.choices(**{option: [app_commands.Choice(name=c, value=c) for c in spec.choices]})(
            callback)
    callback = cooldown()(app_commands.describe(**described)(callback))
    return app_commands.Command(name=spec.command, description=_short(spec.description), callback=callback)


def theme_commands(specs: list[ThemeCommand]) -> list[app_commands.Command[Any, ..., None]]:
    """Every theme command of the catalogue, as slash commands."""
    return [theme_command(spec) for spec in specs]
