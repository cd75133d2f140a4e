"""Discord handlers: slash commands, buttons and messages translated into Studio calls."""

from __future__ import annotations

import io

import discord
from discord import app_commands

from minime.bots.discord_bot.address import DiscordReply
from minime.bots.discord_bot.interactions import chat_of as _chat
from minime.bots.discord_bot.interactions import deferred as _deferred
from minime.bots.discord_bot.interactions import fail as _fail
from minime.bots.discord_bot.interactions import read_attachment as _read
from minime.bots.discord_bot.interactions import studio_of as _studio
from minime.bots.discord_bot.interactions import user_of as _user
from minime.bots.discord_bot.language import use_message_locale
from minime.bots.discord_bot.limits import COOLDOWN_RATE, COOLDOWN_S, DEFAULT_UPLOAD_LIMIT
from minime.bots.discord_bot.views import forget_view, result_id_of, show_undone, undone_card
from minime.core import texts
from minime.core.errors import MinimeError
from minime.core.i18n import N_
from minime.core.i18n import gettext as _
from minime.core.logs import get_logger
from minime.core.studio import Studio, Undone

log = get_logger("minime.discord")


async def run_theme(interaction: discord.Interaction, command: str, argument: str | None,
                    photo: discord.Attachment | None) -> None:
    """A theme's slash command (built from the catalogue in theme_commands): its selfie, if attached, then the look."""
    studio, user = _studio(interaction), _user(interaction.user)
    reply_to = await _deferred(interaction)
    try:
        if photo is not None:
            await studio.receive_selfie(user, await _read(photo), run_pending=False)
        await studio.apply_theme(user, command, argument, reply_to=reply_to, chat=_chat(interaction))
    except MinimeError as exc:
        await _fail(interaction, exc.user_message)


def cooldown():
    """discord.py's per-user cooldown, one bucket per command."""
    return app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_S, key=lambda i: i.user.id)


PHOTO_OPTION = N_("A selfie (optional: your last one is used)")


@app_commands.command(name="themes", description=N_("Every look, on one picture"))
async def themes(interaction: discord.Interaction) -> None:
    """/themes: the gallery sheet."""
    await interaction.response.defer(thinking=True)
    sheet = await _studio(interaction).gallery()
    await interaction.edit_original_response(content=_("Every look I make — pick one with its slash command."),
                                             attachments=[discord.File(io.BytesIO(sheet), "minime-themes.png")])


@app_commands.command(name="undo", description=N_("Back to your previous image"))
async def undo(interaction: discord.Interaction) -> None:
    """/undo"""
    try:
        outcome = await _studio(interaction).undo(_user(interaction.user))
    except MinimeError as exc:
        await _fail(interaction, exc.user_message)
        return
    await interaction.response.defer(thinking=True)
    await show_undone(interaction, outcome)


@app_commands.command(name="forget", description=N_("Delete your selfie and every image made for you"))
async def forget(interaction: discord.Interaction) -> None:
    """/forget: asks first."""
    await interaction.response.send_message(_(texts.FORGET_CONFIRM), view=forget_view(interaction.user.id),
                                            ephemeral=True)


@app_commands.command(name="privacy", description=N_("What minime keeps, and for how long"))
async def privacy(interaction: discord.Interaction) -> None:
    """/privacy"""
    await interaction.response.send_message(texts.privacy_text(_studio(interaction).settings), ephemeral=True)


@app_commands.command(name="help", description=N_("How to use minime"))
async def help_(interaction: discord.Interaction) -> None:
    """/help"""
    studio = _studio(interaction)
    await interaction.response.send_message(texts.help_text(studio.themes(), studio.settings), ephemeral=True)


@app_commands.command(name="verify", description=N_("Did minime make this image?"))
@app_commands.describe(image=N_("The image to check (a screenshot or a re-shared copy works too)"))
async def verify(interaction: discord.Interaction, image: discord.Attachment) -> None:
    """/verify image:<attachment>: the answer only the asker sees."""
    await interaction.response.defer(thinking=True, ephemeral=True)
    try:
        answer = await _studio(interaction).verify(_user(interaction.user), await _read(image))
    except MinimeError as exc:
        await interaction.followup.send(exc.user_message, ephemeral=True)
        return
    await interaction.followup.send(answer.message(), ephemeral=True)


@app_commands.command(name="stats", description=N_("Your images and the energy they took"))
async def stats(interaction: discord.Interaction) -> None:
    """/stats"""
    try:
        answer = await _studio(interaction).stats(_user(interaction.user))
    except MinimeError as exc:
        await _fail(interaction, exc.user_message)
        return
    await interaction.response.send_message(answer.message(), ephemeral=True)


@app_commands.command(name="status", description=N_("Your image in the queue, and the images you have left today"))
async def status(interaction: discord.Interaction) -> None:
    """/status"""
    user = _user(interaction.user)
    state = await _studio(interaction).status(user, _chat(interaction))
    await interaction.response.send_message(texts.status_reply(state, user, _chat(interaction)), ephemeral=True)


@app_commands.command(name="cancel", description=N_("Call off the image you're waiting for"))
async def cancel(interaction: discord.Interaction) -> None:
    """/cancel: the job's status message then says it was cancelled; this answer only the asker sees."""
    try:
        await _studio(interaction).cancel(_user(interaction.user))
    except MinimeError as exc:
        await _fail(interaction, exc.user_message)
        return
    await interaction.response.send_message(_(texts.CANCELLED), ephemeral=True)


@app_commands.command(name="admin", description=N_("For the bot's admins"))
@app_commands.describe(command=N_("grant platform:id N, block platform:id or unblock platform:id (empty: usage today)"))
async def admin(interaction: discord.Interaction, command: str | None = None) -> None:
    """/admin [command]: the answer only the asker sees."""
    try:
        answer = await _studio(interaction).admin(_user(interaction.user), command)
    except MinimeError as exc:
        answer = exc.user_message
    await interaction.response.send_message(answer, ephemeral=True)


COMMANDS = [themes, undo, verify, stats, status, cancel, forget, privacy, help_, admin]
"""The fixed commands; each theme command is built from the catalogue (theme_commands.py)."""


async def on_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """Cooldowns and anything unexpected: an ephemeral, friendly note."""
    if isinstance(error, app_commands.CommandOnCooldown):
        await _fail(interaction, _("One moment — try again in {seconds} s.").format(
            seconds=f"{error.retry_after:.0f}"))
        return
    log.error("discord command failed", error_type=type(error).__name__, error=str(error))
    await _fail(interaction, _(texts.SORRY))


async def on_message(client: discord.Client, message: discord.Message) -> None:
    """A message for minime: in a DM every one; in a server channel one that mentions minime or replies to it (and a
    picture from someone minime asked for a selfie), never other chatter. A picture is a selfie (with a ``/command``
    in its text: the selfie and that request at once); text is a ``/command``, the name a theme asked for, or a
    refinement of the replied-to (or latest) image."""
    if message.author.bot:
        return
    use_message_locale(message)
    studio, user, me = _studio(client), _user(message.author), client.user
    replied = message.reference.resolved if message.reference else None
    to_me = me is not None and isinstance(replied, discord.Message) and replied.author.id == me.id
    addressed = message.guild is None or to_me or (me is not None and me in message.mentions)
    text = " ".join(w for w in message.content.split() if me is None or w not in (f"<@{me.id}>", f"<@!{me.id}>"))
    request = _command(studio, text)
    if message.attachments and (addressed or await studio.waiting_for(user) == "selfie"):
        await _selfie(message, studio, request)
    elif addressed and text:
        await _text(message, studio, text, request, result_id_of(replied) if to_me else None)


def _command(studio: Studio, text: str) -> tuple[str, str | None] | None:
    """``/figurine Ada`` typed as a message (a theme command): ``("figurine", "Ada")``."""
    first, rest = text.partition(" ")[::2]
    name = first[1:].lower() if first.startswith("/") else ""
    return (name, rest.strip() or None) if name in studio.theme_command_names() else None


async def _selfie(message: discord.Message, studio: Studio, request: tuple[str, str | None] | None) -> None:
    user = _user(message.author)
    status = await message.reply(_(texts.CHECKING_SELFIE), mention_author=False)
    reply_to = DiscordReply.channel(message, status).as_dict()
    try:
        received = await studio.receive_selfie(user, await _read(message.attachments[0]), reply_to=reply_to,
                                               chat=_chat(message), run_pending=request is None)
        if request:
            await studio.apply_theme(user, *request, reply_to=reply_to, chat=_chat(message))
    except MinimeError as exc:
        await status.edit(content=exc.user_message)
        return
    await status.edit(content=received.with_notice(texts.selfie_received(
        bool(received.job or request), _("Now try `/figurine name:YourName`, `/retro` or `/popart`."))))


async def _text(message: discord.Message, studio: Studio, text: str, request: tuple[str, str | None] | None,
                result_id: str | None) -> None:
    user = _user(message.author)
    status = await message.reply(_(texts.ON_IT), mention_author=False)
    reply_to = DiscordReply.channel(message, status).as_dict()
    try:
        if request:
            await studio.apply_theme(user, *request, reply_to=reply_to, chat=_chat(message))
            return
        outcome = await studio.text(user, text, result_id=result_id, reply_to=reply_to, chat=_chat(message))
    except MinimeError as exc:
        await status.edit(content=exc.user_message + (texts.group_hint(exc) if message.guild else ""))
        return
    if isinstance(outcome, Undone):
        await status.edit(content=None, **undone_card(outcome, message.author.id, DEFAULT_UPLOAD_LIMIT))
