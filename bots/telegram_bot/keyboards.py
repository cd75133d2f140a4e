"""Inline keyboards and their callback data. The data names the result and the action, so buttons keep working after
a restart: everything else is in the store."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from minime.bots.telegram_bot.limits import CALLBACK_DATA_MAX
from minime.core import buttons as registry
from minime.core.domain import ThemeInfo
from minime.core.i18n import gettext as _
from minime.core.texts import FORGET_NO, FORGET_YES


@dataclass(frozen=True)
class Button:
    """What a pressed button asks for."""

    kind: str  # "result" (a refinement of a result), "swap" (another theme for a result), "pick", "forget", "cancel"
    result_id: str | None = None
    job_id: str | None = None
    action: str | None = None
    theme_id: str | None = None
    owner: str | None = None  # who may press it (the /forget confirmation), when it names someone


def _data(*parts: str) -> str:
    data = ":".join(parts)
    assert len(data.encode()) <= CALLBACK_DATA_MAX, data
    return data


def result_keyboard(result_id: str, buttons: tuple[str, ...]) -> InlineKeyboardMarkup:
    """Refinement buttons under a result, three to a row."""
    keys = [InlineKeyboardButton(_(b.label), callback_data=_data("r", result_id, b.code))
            for b in registry.known(buttons)]
    return InlineKeyboardMarkup([keys[i:i + 3] for i in range(0, len(keys), 3)])


def themes_keyboard(themes: list[ThemeInfo], result_id: str | None = None) -> InlineKeyboardMarkup:
    """One button per theme: a fresh start ("pick") or the same image in another look ("swap")."""
    keys = [InlineKeyboardButton(t.title, callback_data=_data("s", result_id, t.id) if result_id else _data(
        "k", t.id)) for t in themes]
    return InlineKeyboardMarkup([keys[i:i + 2] for i in range(0, len(keys), 2)])


def forget_keyboard(owner: str) -> InlineKeyboardMarkup:
    """Confirmation for /forget, for its asker only (in a group anyone sees it)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"🗑 {_(FORGET_YES)}", callback_data=_data("f", "yes", owner)),
                                  InlineKeyboardButton(_(FORGET_NO), callback_data=_data("f", "no", owner))]])


def cancel_keyboard(job_id: str) -> InlineKeyboardMarkup:
    """The Cancel button on the status line of a queued or running job."""
    spec = registry.BUTTONS[registry.CANCEL]
    return InlineKeyboardMarkup([[InlineKeyboardButton(_(spec.label), callback_data=_data("j", job_id, spec.code))]])


def parse(data: str | None) -> Button | None:
    """Callback data back into a Button (None for anything we did not make)."""
    parts = (data or "").split(":")
    if len(parts) == 3 and parts[0] == "r" and (pressed := registry.by_code(parts[2])):
        return Button("result", result_id=parts[1], action=pressed.id)
    if len(parts) == 3 and parts[0] == "j" and (pressed := registry.by_code(parts[2])) and pressed.id == "cancel":
        return Button("cancel", job_id=parts[1], action=pressed.id)
    if len(parts) == 3 and parts[0] == "s":
        return Button("swap", result_id=parts[1], theme_id=parts[2])
    if len(parts) == 2 and parts[0] == "k":
        return Button("pick", theme_id=parts[1])
    if len(parts) in (2, 3) and parts[0] == "f":
        return Button("forget", action=parts[1], owner=parts[2] if len(parts) == 3 else None)
    return None


def result_id_of(markup: InlineKeyboardMarkup | None) -> str | None:
    """The result a message with our keyboard shows (how a text reply to an image finds that image)."""
    for row in (markup.inline_keyboard if markup else ()):
        for key in row:
            button = parse(key.callback_data if isinstance(key.callback_data, str) else None)
            if button and button.result_id:
                return button.result_id
    return None
