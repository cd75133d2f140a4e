"""One button registry: every adapter shows the same buttons, and theme files can only name buttons that exist."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import discord
import pytest

from minime.bots.discord_bot.limits import CUSTOM_ID_MAX
from minime.bots.discord_bot.views import ResultButton, result_card
from minime.bots.telegram_bot.keyboards import parse, result_keyboard
from minime.bots.telegram_bot.limits import CALLBACK_DATA_MAX
from minime.core.buttons import BUTTONS, by_code
from minime.core.domain import new_id
from minime.core.refine import parse_refinement
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

EVERY_BUTTON = tuple(BUTTONS)


def test_each_button_means_text_the_vocabulary_understands() -> None:
    catalog = ThemeCatalog.from_dir(THEMES_DIR)
    for button in BUTTONS.values():
        if button.text:
            assert not parse_refinement(button.text, catalog).is_empty, button.id


def test_telegram_keyboards_carry_every_button_within_64_bytes_and_read_back() -> None:
    result_id = new_id()
    keys = [key for row in result_keyboard(result_id, EVERY_BUTTON).inline_keyboard for key in row]
    assert [k.text for k in keys] == [b.label for b in BUTTONS.values()]
    for key, button in zip(keys, BUTTONS.values()):
        assert len(key.callback_data.encode()) <= CALLBACK_DATA_MAX
        pressed = parse(key.callback_data)
        assert pressed.kind == "result" and pressed.result_id == result_id and pressed.action == button.id


def test_telegram_buttons_sent_by_the_previous_release_still_work() -> None:
    assert parse("r:abc:g+").action == "more grain"
    assert parse("r:abc:g-").action == "less grain"
    assert parse("r:abc:n+").action == "bigger name"
    assert parse("r:abc:zz") is None


async def test_discord_views_carry_every_button_within_100_chars_and_read_back() -> None:
    owner = 123456789012345678
    picture = discord.File(io.BytesIO(b"\xff\xd8 a picture"), "result.jpg")
    card = result_card(new_id(), EVERY_BUTTON, owner, "Your figurine", picture)
    pressable = [child for child in card.walk_children() if isinstance(child, ResultButton)]
    assert sorted(child.item.label for child in pressable) == sorted(b.label for b in BUTTONS.values())
    by_label = {b.label: b for b in BUTTONS.values()}
    for item, button in ((child.item, by_label[child.item.label]) for child in pressable):
        assert len(item.custom_id) <= CUSTOM_ID_MAX
        match = ResultButton.__discord_ui_compiled_template__.fullmatch(item.custom_id)
        assert match and by_code(match["code"]) == button and int(match["owner"]) == owner


def test_a_theme_file_naming_an_unknown_button_fails_at_start_with_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    shutil.copytree(THEMES_DIR, folder, ignore=shutil.ignore_patterns("assets"))
    path = folder / "polaroid.toml"
    path.write_text(path.read_text().replace('"less grain"', '"less grian"'))
    with pytest.raises(ValueError, match=r"polaroid\.toml.*less grian"):
        ThemeCatalog.from_dir(folder)


def test_every_bundled_theme_names_only_known_buttons() -> None:
    for theme in ThemeCatalog.from_dir(THEMES_DIR):
        assert set(theme.buttons) <= set(BUTTONS), theme.source.name
