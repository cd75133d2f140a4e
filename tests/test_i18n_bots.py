"""Languages end to end: the real python-telegram-bot, discord.py and a browser-like client against the local fakes
answer each user in their own language (Telegram's language_code, Discord's locale, Accept-Language), register the
command menus per language, and a job's progress and result read in the language it was asked in."""

from __future__ import annotations

import html
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from minime.bots.discord_bot.bot import DiscordRunner
from minime.bots.telegram_bot.app import TelegramRunner
from minime.bots.web.server import start_web
from minime.core import i18n
from minime.core.buttons import BUTTONS
from minime.core.settings import Settings
from tests.conftest import RunningBot, browser_client, free_port
from tests.fake_discord import FakeDiscord, buttons, patch_discord, text_of
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
HELLO = "Hi! I'm minime. Send me a selfie and pick a look:"
# Telegram's language_code as the apps send it → the catalogue it must pick.
TELEGRAM_CODES = {"es": "es", "pt-br": "pt_BR", "hi": "hi", "id": "id", "th": "th", "vi": "vi", "zh-hans": "zh_Hans",
                  "ar": "ar", "ru": "ru"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SPOKEN = {code: name for code, name in TELEGRAM_CODES.items() if name in i18n.LANGUAGES}


@pytest.fixture()
async def telegram(tmp_path: Path):
    fake = FakeTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        job_lease_s=2.0, _env_file=None)
    running = await RunningBot(settings, TelegramRunner).start()
    yield fake
    await running.stop()
    await fake.stop()


async def _start_from(fake: FakeTelegram, user: int, code: str | None) -> str:
    fake.languages[user] = code
    mark = len(fake.calls)
    await fake.send_text(user, "/start")
    return (await fake.wait_for_call("sendMessage", user, mark)).params["text"]


async def test_telegram_start_is_answered_in_each_users_language(telegram: FakeTelegram) -> None:
    assert len(SPOKEN) >= 1
    for user, (code, name) in enumerate(SPOKEN.items(), start=500):
        answer = await _start_from(telegram, user, code)
        hello = i18n.translate(name, HELLO)
        assert hello != HELLO and answer.startswith(hello), (code, answer[:80])
        assert i18n.translate(name, "You as a glossy collectible figure in a toy box, with your name on it.") in answer
        assert "/figurine" in answer, "commands stay as they are"
    for user, code in ((600, "fr"), (601, None), (602, "en"), (603, "xx-YY")):
        assert (await _start_from(telegram, user, code)).startswith(HELLO), code


async def test_telegram_command_menus_are_set_for_every_language(telegram: FakeTelegram) -> None:
    menus = {call.params.get("language_code"): call.params["commands"] for call in telegram.sent("setMyCommands")}
    assert None in menus, "the default (English) menu"
    for name in i18n.LANGUAGES[1:]:
        code = i18n.telegram_code(name)
        assert code in menus, name
        described = {c["command"]: c["description"] for c in menus[code]}
        assert described["start"] == i18n.translate(name, "What I do") != "What I do"
        assert "figurine" in described and described["figurine"] != {c["command"]: c["description"]
                                                                      for c in menus[None]}["figurine"]


async def test_a_job_speaks_the_language_it_was_asked_in(telegram: FakeTelegram, astronaut_jpeg: bytes) -> None:
    user = 700
    telegram.languages[user] = "es"
    mark = len(telegram.calls)
    await telegram.send_photo(user, astronaut_jpeg, caption="/figurine Ada Lovelace")
    result = await telegram.wait_for_call("sendPhoto", user, mark)
    caption = result.params["caption"]
    assert caption.startswith("✨ Figura de colección — Ada Lovelace"), caption
    assert "Responde a esta imagen para retocarla" in caption
    labels = {b["text"] for row in result.params["reply_markup"]["inline_keyboard"] for b in row}
    assert i18n.translate("es", BUTTONS["warmer"].label) in labels and BUTTONS["warmer"].label not in labels
    progress = [c.params.get("text", "") for c in telegram.calls[mark:] if c.method == "editMessageText"]
    assert any("Haciendo tu imagen" in text or "Recibí tu selfie" in text for text in progress), progress


async def test_a_reply_in_the_users_language_refines_the_picture(telegram: FakeTelegram, astronaut_jpeg: bytes
                                                                 ) -> None:
    """A Brazilian replies "mais quente" to a picture: it comes back warmer; words minime doesn't know get the
    hint in Portuguese, with Portuguese examples."""
    user = 701
    telegram.languages[user] = "pt-br"
    mark = len(telegram.calls)
    await telegram.send_photo(user, astronaut_jpeg, caption="/figurine Ada")
    first = await telegram.wait_for_call("sendPhoto", user, mark)
    mark = len(telegram.calls)
    await telegram.send_text(user, "mais quente", reply_to=first.result)
    second = await telegram.wait_for_call("sendPhoto", user, mark)
    a, b = (np.asarray(Image.open(io.BytesIO(c.files["photo"])).convert("RGB"), np.float32) for c in (first, second))
    assert b[..., 0].mean() / b[..., 2].mean() > a[..., 0].mean() / a[..., 2].mean(), "warmer: more red than blue"
    mark = len(telegram.calls)
    await telegram.send_text(user, "coloca um chapéu de pirata", reply_to=second.result)
    answer = await telegram.wait_for_call("editMessageText", user, mark)
    assert "Não entendi" in answer.params["text"] and "um pouco mais quente" in answer.params["text"]


async def test_discord_answers_in_the_interactions_locale_and_localises_descriptions(tmp_path: Path,
                                                                                   astronaut_jpeg: bytes) -> None:
    fake = FakeDiscord()
    await fake.start()
    patch_discord(fake)
    settings = Settings(data_dir=tmp_path / "data", discord_token=SecretStr("fake.discord.token"), job_lease_s=2.0,
                        _env_file=None)
    running = await RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1)).start()
    try:
        themes = next(c for c in fake.commands if c["name"] == "themes")
        assert themes["description_localizations"]["es-ES"] == i18n.translate("es", "Every look, on one picture")
        assert themes["description_localizations"]["es-419"] == themes["description_localizations"]["es-ES"]
        assert "name_localizations" not in themes or not themes["name_localizations"], "names stay as typed"
        for user, locale in ((4242, "es-ES"), (4243, "en-US")):
            mark = len(fake.calls)
            await fake.slash(user, "help", locale=locale)
            answer = await fake.wait_for(lambda mark=mark: next(
                (c.payload["data"]["content"] for c in fake.calls[mark:]
                 if (c.payload.get("data") or {}).get("content")), None))
            expected = i18n.translate(locale, HELLO)
            assert answer.startswith(expected), (locale, answer[:80])
        mark = len(fake.calls)  # a render asked in Brazilian Portuguese: its result and buttons read in it
        await fake.slash(4244, "figurine", {"name": "Ada"}, attachment=fake.attachment(astronaut_jpeg),
                         locale="pt-BR")
        await fake.wait_for_image(mark)
        result = max((m for m in fake.messages.values() if m["author"]["bot"] and m.get("attachments")),
                     key=lambda m: int(m["id"]))
        assert i18n.translate("pt_BR", "Collectible figurine") in text_of(result) and "Ada" in text_of(result)
        assert i18n.translate("pt_BR", BUTTONS["warmer"].label) in {c.get("label") for c in buttons(result)}
    finally:
        await running.stop()
        await fake.stop()


async def test_the_web_page_and_its_answers_follow_accept_language(web: str) -> None:
    spanish = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
    async with browser_client() as client:
        async with client.get(f"{web}/api/texts", headers=spanish) as response:
            found = await response.json()
        assert found["lang"] == "es" and found["dir"] == "ltr"
        assert found["texts"]["Help"] == i18n.translate("es", "Help") != "Help"
        async with client.post(f"{web}/api/message", json={"text": "/help"}, headers=spanish) as response:
            answer = (await response.json())["messages"][0]["text"]
        assert answer.startswith(i18n.translate("es", HELLO))
        async with client.get(f"{web}/api/themes", headers=spanish) as response:
            titles = {t["id"]: t["title"] for t in await response.json()}
        assert titles["figurine"] == i18n.translate("es", "Collectible figurine")
        async with client.post(f"{web}/api/message", json={"text": "/help"},
                               headers={"Accept-Language": "de-DE"}) as response:
            assert (await response.json())["messages"][0]["text"].startswith(HELLO)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.parametrize(("locale", "name"), [("ar-EG", "ar"), ("th-TH", "th")])
async def test_the_playground_reads_in_the_browsers_language(web: str, tmp_path: Path, astronaut_jpeg: bytes,
                                                             locale: str, name: str) -> None:
    """A real browser set to Arabic (right to left) or Thai: the page's own words, the bot's answers and the
    theme gallery are in that language."""
    from playwright.async_api import async_playwright

    selfie = tmp_path / "me.jpg"
    selfie.write_bytes(astronaut_jpeg)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await browser.new_page(locale=locale, viewport={"width": 900, "height": 1100})
            await page.goto(web)
            await page.wait_for_selector(".theme img")
            await page.locator(".msg.bot").first.wait_for()
            assert await page.get_attribute("html", "dir") == i18n.direction(name)
            assert await page.get_attribute("html", "lang") == name
            assert await page.inner_text("#help-btn") == i18n.translate(name, "Help")
            assert await page.get_attribute("#text", "placeholder") == i18n.translate(
                name, "Send a selfie, then type /figurine YourName or “warmer colors”")
            titles = await page.eval_on_selector_all(".theme span", "els => els.map(e => e.textContent)")
            assert i18n.translate(name, "Collectible figurine") in titles
            await page.set_input_files("#file", str(selfie))
            await page.wait_for_selector(f"text={i18n.translate(name, 'Got your selfie!')}")
            await page.screenshot(path=str(tmp_path / f"playground-{name}.png"))
        finally:
            await browser.close()


async def test_the_login_page_follows_accept_language(studio, settings: Settings) -> None:
    settings.web_port, settings.web_password = free_port(), SecretStr("s3cret")
    runner = await start_web(studio, settings)
    try:
        async with browser_client() as client:
            async with client.get(f"http://127.0.0.1:{settings.web_port}/",
                                  headers={"Accept-Language": "ar"}) as response:
                page = await response.text()
        assert '<html lang="ar" dir="rtl">' in page
        assert html.escape(i18n.translate("ar", "This playground is protected. Enter the operator's password.")) in page
        assert "Enter the operator" not in page
    finally:
        await runner.cleanup()
