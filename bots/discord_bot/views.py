"""Persistent buttons. Their custom ids carry the result, the action and the owner, so they outlive restarts and
only the owner can use them; the state they point at is in the store."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

import discord

from minime.bots.discord_bot.interactions import chat_of, deferred, fail, studio_of, user_of
from minime.bots.discord_bot.language import use_locale
from minime.bots.discord_bot.limits import CUSTOM_ID_MAX, DEFAULT_UPLOAD_LIMIT, ROW_WIDTH
from minime.core import buttons as registry
from minime.core import texts
from minime.core.domain import ThemeInfo
from minime.core.errors import FigureBusy, MinimeError, NotYourJob
from minime.core.i18n import N_
from minime.core.i18n import gettext as _
from minime.core.intake import encode_for_platform
from minime.core.logs import get_logger
from minime.core.outcomes import Undone
from minime.core.texts import FORGET_NO, FORGET_YES

log = get_logger("minime.discord")

NOT_YOURS = N_("These buttons belong to someone else's image — make your own with /figurine!")


def _check(custom_id: str) -> str:
    assert len(custom_id) <= CUSTOM_ID_MAX, custom_id
    return custom_id


_Button = discord.ui.DynamicItem[discord.ui.Button]


class _Owned:
    """Buttons that answer only the person their picture was made for: discord.py runs ``interaction_check``
    before every callback, so ownership is decided here, once."""

    owner: int

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        use_locale(interaction)  # the presser's language, for the rest of this interaction
        if interaction.user.id == self.owner:
            return True
        await interaction.response.send_message(_(NOT_YOURS), ephemeral=True)
        return False


class ResultButton(_Owned, _Button, template=r"mm:r:(?P<result>[\w-]+):(?P<code>[a-z]+)"
                   r":(?P<owner>\d+)"):
    """A refinement button under a result."""

    def __init__(self, result_id: str, action: str, owner: int) -> None:
        spec = registry.BUTTONS[action]
        super().__init__(discord.ui.Button(label=_(spec.label), style=discord.ButtonStyle.secondary,
                                           custom_id=_check(f"mm:r:{result_id}:{spec.code}:{owner}")))
        self.result_id, self.action, self.owner = result_id, action, owner

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
                             ) -> ResultButton:
        pressed = registry.by_code(match["code"])
        return cls(match["result"], pressed.id if pressed else "variation", int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> Any:
        """A refinement of the result (or the theme menu, or undo)."""
        studio = studio_of(interaction)
        if registry.BUTTONS[self.action].sends:
            await send_figure(interaction, self.result_id, registry.BUTTONS[self.action].sends)
            return
        if self.action == registry.ANOTHER_THEME:
            await interaction.response.send_message(_(texts.WHICH_LOOK), ephemeral=True,
                                                    view=themes_view(self.result_id, studio.themes(), self.owner))
            return
        reply_to = await deferred(interaction)
        try:
            outcome = await studio.refine(user_of(interaction.user), action=self.action, result_id=self.result_id,
                                          reply_to=reply_to, chat=chat_of(interaction))
        except MinimeError as exc:
            await fail(interaction, exc.user_message)
            return
        if isinstance(outcome, Undone):
            await show_undone(interaction, outcome)


class ThemeButton(_Owned, _Button, template=r"mm:s:(?P<result>[\w-]+):(?P<theme>[\w-]+)"
                  r":(?P<owner>\d+)"):
    """Another look for a result."""

    def __init__(self, result_id: str, theme: ThemeInfo | str, owner: int, label: str | None = None) -> None:
        theme_id = theme if isinstance(theme, str) else theme.id
        super().__init__(discord.ui.Button(label=label or (theme.title if not isinstance(theme, str) else theme_id),
                                           style=discord.ButtonStyle.primary,
                                           custom_id=_check(f"mm:s:{result_id}:{theme_id}:{owner}")))
        self.result_id, self.theme_id, self.owner = result_id, theme_id, owner

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
                             ) -> ThemeButton:
        return cls(match["result"], match["theme"], int(match["owner"]), label=item.label)

    async def callback(self, interaction: discord.Interaction) -> Any:
        """The same picture in another look."""
        reply_to = await deferred(interaction)
        try:
            await studio_of(interaction).refine(user_of(interaction.user), action=f"theme:{self.theme_id}",
                                                result_id=self.result_id, reply_to=reply_to,
                                                chat=chat_of(interaction))
        except MinimeError as exc:
            await fail(interaction, exc.user_message)


class ForgetButton(_Owned, _Button, template=r"mm:f:(?P<answer>yes|no):(?P<owner>\d+)"):
    """The confirmation of /forget."""

    def __init__(self, answer: str, owner: int) -> None:
        label, style = ((_(FORGET_YES), discord.ButtonStyle.danger) if answer == "yes" else
                        (_(FORGET_NO), discord.ButtonStyle.secondary))
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"mm:f:{answer}:{owner}"))
        self.answer, self.owner = answer, owner

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
                             ) -> ForgetButton:
        return cls(match["answer"], int(match["owner"]))

    async def callback(self, interaction: discord.Interaction) -> Any:
        """The answer to /forget."""
        yes = self.answer == "yes"
        if yes:
            await studio_of(interaction).forget(user_of(interaction.user))
        await interaction.response.edit_message(content=_(texts.FORGOTTEN if yes else texts.NOT_FORGOTTEN), view=None)


class CancelButton(_Owned, _Button, template=r"mm:x:(?P<job>[\w-]+):(?P<owner>\d+)"):
    """The Cancel button on the status message of a queued or running job."""

    def __init__(self, job_id: str, owner: int) -> None:
        spec = registry.BUTTONS[registry.CANCEL]
        super().__init__(discord.ui.Button(label=_(spec.label), style=discord.ButtonStyle.danger,
                                           custom_id=_check(f"mm:x:{job_id}:{owner}")))
        self.job_id, self.owner = job_id, owner

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
                             ) -> CancelButton:
        return cls(match["job"], int(match["owner"]))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        use_locale(interaction)
        if interaction.user.id == self.owner:
            return True
        await interaction.response.send_message(NotYourJob().user_message, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> Any:
        """Call the job off; its status message then says so (the Cancelled event edits it)."""
        try:
            await studio_of(interaction).cancel(user_of(interaction.user), self.job_id)
        except MinimeError as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        await interaction.response.send_message(_(texts.CANCELLING), ephemeral=True)


def cancel_view(job_id: str, owner: int) -> discord.ui.View:
    """The Cancel button under a status message (no timeout: it works until the job ends, across restarts)."""
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, owner))
    return view


def result_card(result_id: str, buttons: tuple[str, ...], owner: int, caption: str, picture: discord.File
                ) -> discord.ui.LayoutView:
    """A result as one Components v2 card: the picture in a media gallery, its caption, and its buttons (refinements
    in rows of five, the figure's Turn / 3D file on a row of their own). No timeout: the buttons are DynamicItems and
    work for as long as the result exists. The message carrying it sends ``picture`` and no ``content``."""
    card = discord.ui.Container(discord.ui.MediaGallery(discord.MediaGalleryItem(picture)),
                                discord.ui.TextDisplay(caption))
    specs = registry.known(buttons)
    for group in ([s for s in specs if not s.sends], [s for s in specs if s.sends]):
        for start in range(0, len(group), ROW_WIDTH):
            card.add_item(discord.ui.ActionRow(*(ResultButton(result_id, s.id, owner)
                                                 for s in group[start:start + ROW_WIDTH])))
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(card)
    return view


def themes_view(result_id: str, themes: list[ThemeInfo], owner: int) -> discord.ui.View:
    """One button per theme, for "another theme"."""
    view = discord.ui.View(timeout=None)
    for theme in themes[:25]:
        view.add_item(ThemeButton(result_id, theme, owner))
    return view


def forget_view(owner: int) -> discord.ui.View:
    """Yes / no for /forget."""
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton("yes", owner))
    view.add_item(ForgetButton("no", owner))
    return view


def result_id_of(message: discord.Message | None) -> str | None:
    """The result a message of ours shows (how a text reply to an image finds that image)."""
    for child in _walk(message.components if message else ()):
        match = ResultButton.__discord_ui_compiled_template__.fullmatch(getattr(child, "custom_id", "") or "")
        if match:
            return match["result"]
    return None


def _walk(components: Iterable[Any]) -> Iterator[Any]:
    """Every component of a message, nested ones too (a card's action rows sit inside its container)."""
    for component in components:
        yield component
        yield from _walk(getattr(component, "children", ()))


async def show_undone(interaction: discord.Interaction, outcome: Undone) -> None:
    """The previous picture again, with its buttons, in the deferred response."""
    await interaction.edit_original_response(content=None, **undone_card(
        outcome, interaction.user.id, interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT))


def undone_card(outcome: Undone, owner: int, upload_limit: int) -> dict[str, Any]:
    """The fields of a message edit that shows the previous picture as a card (``attachments`` and ``view``)."""
    picture = encode_for_platform(outcome.image, max_bytes=upload_limit)
    file = discord.File(io.BytesIO(picture.data), picture.filename)
    return {"attachments": [file], "view": result_card(outcome.result.id, outcome.buttons, owner,
                                                        _(texts.BACK_ONE_STEP), file)}


async def send_figure(interaction: discord.Interaction, result_id: str, kind: str) -> None:
    """🔄 Turn and 🧊 3D file: the figure's loop or mesh as an attachment of the deferred response (it takes
    seconds), within the interaction's upload limit; a press while the last one's file is being made is told so,
    to the presser alone."""
    studio, user = studio_of(interaction), user_of(interaction.user)
    if studio.figure_busy(user):
        await fail(interaction, FigureBusy().user_message)
        return
    await interaction.response.defer(thinking=True)
    limit = interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT
    try:
        figure = await studio.figure_file(user, result_id, kind, chat=chat_of(interaction), max_bytes=limit)
    except MinimeError as exc:
        await fail(interaction, exc.user_message)
        return
    except Exception as exc:  # a mesh or video library failing: never leave "thinking…" up for good
        log.error("figure file failed", kind=kind, error_type=type(exc).__name__)
        await fail(interaction, _(texts.SORRY))
        return
    if len(figure.data) > limit:
        await fail(interaction, _(texts.FIGURE_FILE_TOO_LARGE))
        return
    await interaction.edit_original_response(content=figure.caption,
                                             attachments=[discord.File(io.BytesIO(figure.data), figure.filename)])
