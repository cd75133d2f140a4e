"""Themes are data: an operator's theme file reaches the CLI, renders, and becomes a Telegram menu entry and a Discord
slash command with no code; a malformed file stops the start with its name and the reason; a look only a generative
engine can make is hidden from the classic engine's menus, and asking for it says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr

from minime.bots.discord_bot.bot import DiscordRunner
from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.app import build_studio
from minime.core.domain import UserKey
from minime.core.errors import ThemeFileInvalid, ThemeUnavailable
from minime.core.settings import THEMES_DIR, Settings
from minime.core.themes import ThemeCatalog, load_theme
from tests.conftest import RunningBot
from tests.fake_discord import FakeDiscord, patch_discord
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"

# A look an operator writes without code: the classic engine's pop-art recipe with the operator's own inks and
# layouts, a command of its own, and prompts for the generative engines.
NEON_NIGHTS = """
id = "neon-nights"
command = "neonnights"
title = "Neon nights"
description = "Club-flyer pop art in neon inks."
argument = "variant"
variants = ["grid", "single"]
default_variant = "single"
option = "layout"
option_description = "Four panels or one"
aliases = ["club flyer"]

[classic]
recipe = "pop-art"

[[palettes]]
bg = "#0b0b1e"
shadow = "#ff00aa"
mid = "#00e5ff"
light = "#f9ff8a"
ink = "#05050f"

[diffusion]
prompt = "a neon club flyer portrait of the person"
instruction = "Turn this into a neon club flyer portrait."
"""

# A look only a generative engine can make convincingly.
PLUSH = """
id = "plush-toy"
command = "plush"
title = "Plush toy"
description = "You as a soft plush toy."
engines = ["diffusion", "hosted"]

[diffusion]
prompt = "a soft plush toy of the person, felt fabric, stitched seams, product photo"
instruction = "Turn the person into a soft plush toy with felt fabric and visible stitched seams."
"""


@pytest.fixture()
def themes_dir(tmp_path: Path) -> Path:
    """A copy of the bundled themes with the operator's two new files dropped in."""
    folder = tmp_path / "themes"
    shutil.copytree(THEMES_DIR, folder)
    (folder / "neon-nights.toml").write_text(NEON_NIGHTS, encoding="utf-8")
    (folder / "plush-toy.toml").write_text(PLUSH, encoding="utf-8")
    return folder


def minime(*args: str, tmp_path: Path, themes_dir: Path, engine: str = "classic"
           ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_THEMES_DIR": str(themes_dir),
           "MINIME_ENGINE": engine}
    return subprocess.run([sys.executable, "-m", "minime.core.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_dropped_theme_file_is_listed_and_renders(tmp_path: Path, themes_dir: Path, astronaut: Image.Image) -> None:
    listed = minime("themes", tmp_path=tmp_path, themes_dir=themes_dir)
    assert listed.returncode == 0, listed.stderr
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "neon-nights" in ids and "figurine" in ids
    assert "plush-toy" not in ids  # the classic engine can't make it, so it isn't offered
    assert "/neonnights [grid|single]" in listed.stdout

    src = tmp_path / "me.png"
    astronaut.save(src)
    out = tmp_path / "neon.png"
    done = minime("render", str(src), "-t", "neonnights", "-o", str(out), tmp_path=tmp_path, themes_dir=themes_dir)
    assert done.returncode == 0, done.stderr
    image = Image.open(out).convert("RGB")
    # the operator's inks are in the picture: the near-black background and the magenta shadow ink
    colours = {c for _, c in image.getcolors(image.width * image.height) if _ > 500}
    assert any(r < 30 and g < 30 and b < 50 for r, g, b in colours)
    assert any(r > 200 and g < 60 and b > 120 for r, g, b in colours)


def test_generative_engines_list_the_generative_only_look(tmp_path: Path, themes_dir: Path) -> None:
    listed = minime("themes", tmp_path=tmp_path, themes_dir=themes_dir, engine="diffusion")
    assert listed.returncode == 0, listed.stderr
    assert "plush-toy" in listed.stdout and "neon-nights" in listed.stdout


async def test_generative_only_look_is_refused_plainly_on_classic(tmp_path: Path, themes_dir: Path,
                                                                  astronaut_jpeg: bytes) -> None:
    studio = build_studio(Settings(data_dir=tmp_path / "data", themes_dir=themes_dir, _env_file=None))
    await studio.start()
    try:
        assert "plush-toy" not in {t.id for t in studio.themes()}
        assert "plush" not in {c.command for c in studio.theme_commands()}
        user = UserKey("test", "alice")
        await studio.receive_selfie(user, astronaut_jpeg)
        with pytest.raises(ThemeUnavailable) as refused:
            await studio.apply_theme(user, "plush")
        assert "plush toy" in refused.value.user_message and "classic" in refused.value.user_message
        assert "diffusion or hosted" in refused.value.user_message
        with pytest.raises(ThemeUnavailable):
            await studio.text(user, "make me a plush toy")
    finally:
        await studio.stop()


async def test_dropped_theme_file_is_in_telegrams_command_menu(tmp_path: Path, themes_dir: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", themes_dir=themes_dir, telegram_token=SecretStr(TOKEN),
                        telegram_api_root=fake.root, _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    try:
        await fake.wait_for(lambda: fake.sent("setMyCommands"), timeout=30)
        menu = {c["command"]: c["description"] for c in fake.sent("setMyCommands")[0].params["commands"]}
        assert menu["neonnights"] == "Club-flyer pop art in neon inks."
        assert menu["retro"] == "A 70s, 80s or 90s photo"
        assert "plush" not in menu
    finally:
        await bot.stop()
        await fake.stop()


async def test_dropped_theme_file_is_a_discord_slash_command(tmp_path: Path, themes_dir: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    patch_discord(fake)
    settings = Settings(data_dir=tmp_path / "data", themes_dir=themes_dir,
                        discord_token=SecretStr("fake.discord.token"), _env_file=None)
    bot = await RunningBot(settings, lambda s, st: DiscordRunner(s, st, guild_ready_timeout=0.1)).start()
    try:
        commands = {c["name"]: c for c in fake.commands}
        neon = commands["neonnights"]
        assert neon["description"] == "Club-flyer pop art in neon inks."
        layout = next(o for o in neon["options"] if o["name"] == "layout")
        assert layout["description"] == "Four panels or one"
        assert [c["value"] for c in layout["choices"]] == ["grid", "single"] and not layout.get("required")
        assert {o["name"] for o in neon["options"]} == {"layout", "photo"}
        era = next(o for o in commands["retro"]["options"] if o["name"] == "era")
        assert [c["value"] for c in era["choices"]] == ["70s", "80s", "90s"]
        name = next(o for o in commands["figurine"]["options"] if o["name"] == "name")
        assert name["required"] and name["description"] == "The name on the box"
        assert "things" in {o["name"] for o in commands["actionfigure"]["options"]}
        assert "plush" not in commands
        assert {"themes", "undo", "help"} <= set(commands)
    finally:
        await bot.stop()
        await fake.stop()


@pytest.mark.parametrize(("text", "reason"), [
    ('id = "x"\ntitle = "X"\n[classic]\nrecipe = "pop-art"\naliases = ["y"]\n', "'aliases' belongs at the top level"),
    ('id = "x"\n[classic]\nrecipe = "pop-art"\n', "'title' is missing"),
    ('id = "x"\ntitle = "X"\ncolour = "red"\n[classic]\nrecipe = "pop-art"\n', "'colour' is not a theme key"),
    ('id = "x"\ntitle = "X"\nengines = ["classic"]\n[diffusion]\nprompt = "p"\n', "[classic] has no recipe"),
    ('id = "x"\ntitle = "X"\nengines = ["lego"]\n[classic]\nrecipe = "pop-art"\n', "'engines.0'"),
    ('id = "x"\ntitle = "X"\ncommand = "help"\n[classic]\nrecipe = "pop-art"\n', "one of minime's own commands"),
    ('id = "x"\ntitle = "X"\n[classic\nrecipe = "pop-art"\n', "not valid TOML"),
    ('id = "x"\ntitle = "X"\n', "no engine can render it"),
])
def test_malformed_theme_file_names_the_file_and_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "broken-look.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ThemeFileInvalid) as failed:
        load_theme(path)
    assert "broken-look.toml" in failed.value.user_message and reason in failed.value.user_message


def test_unknown_recipe_fails_the_start_with_the_file_name(tmp_path: Path, themes_dir: Path) -> None:
    (themes_dir / "zzz-typo.toml").write_text('id = "typo"\ntitle = "Typo"\n[classic]\nrecipe = "popart"\n')
    started = minime("themes", tmp_path=tmp_path, themes_dir=themes_dir)
    assert started.returncode == 2
    assert "zzz-typo.toml" in started.stderr and "no recipe 'popart'" in started.stderr
    assert "Traceback" not in started.stderr


def test_bundled_catalogue_gives_every_look_a_prompt_and_an_instruction() -> None:
    for theme in ThemeCatalog.from_dir(THEMES_DIR).everything():
        assert theme.diffusion.get("prompt") and theme.diffusion.get("instruction"), theme.id
