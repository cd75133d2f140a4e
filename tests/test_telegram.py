"""The Telegram bot end to end: the real python-telegram-bot Application against a fake Bot API server."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import UserKey
from minime.core.settings import Settings
from tests.conftest import RunningBot, free_port
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ALICE = 111


def Bot(settings: Settings) -> RunningBot:  # noqa: N802 - reads like the class it makes
    """minime with the Telegram adapter."""
    return RunningBot(settings, TelegramRunner)


@pytest.fixture()
async def fake():
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture()
def tg_settings(tmp_path: Path, fake: FakeTelegram) -> Settings:
    return Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                    job_lease_s=2.0, _env_file=None)


@pytest.fixture()
async def bot(tg_settings: Settings):
    running = await Bot(tg_settings).start()
    yield running
    await running.stop()


def image_of(call) -> np.ndarray:
    data = call.files.get("photo") or call.files.get("document")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)


def buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


async def selfie(fake: FakeTelegram, data: bytes, user: int = ALICE, **kwargs) -> None:
    mark = len(fake.calls)
    await fake.send_photo(user, data, **kwargs)
    await fake.wait_for(lambda: any(c.method == "editMessageText" and "Got your selfie" in c.params.get("text", "")
                                    for c in fake.calls[mark:]))


async def test_selfie_figurine_button_and_reply(bot: RunningBot, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    commands = [c["command"] for c in fake.sent("setMyCommands")[0].params["commands"]]
    for command in ("start", "themes", "figurine", "actionfigure", "miniature", "retro", "polaroid", "popart",
                    "undo", "forget", "privacy"):
        assert command in commands

    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/figurine MyName")
    first = await fake.wait_for_call("sendPhoto", ALICE, mark)
    assert "MyName" in first.params["caption"] and "Reply to this picture" in first.params["caption"]
    assert image_of(first).shape == (1280, 1024, 3)
    assert fake.sent("sendChatAction", ALICE), "an upload-photo chat action while rendering"
    keys = buttons(first.result)
    assert {"🔥 Warmer", "❄️ Cooler", "🎲 Variation", "↩️ Undo", "🖼 Another theme"} <= set(keys)
    assert all(len(data.encode()) <= 64 for data in keys.values())

    mark = len(fake.calls)
    query = await fake.press(ALICE, first.result, keys["🔥 Warmer"])
    second = await fake.wait_for_call("sendPhoto", ALICE, mark)
    answered = [c for c in fake.sent("answerCallbackQuery") if c.params["callback_query_id"] == query]
    assert answered, "every callback query is answered"
    a, b = image_of(first), image_of(second)
    assert b[..., 0].mean() / b[..., 2].mean() > a[..., 0].mean() / a[..., 2].mean()

    mark = len(fake.calls)
    await fake.send_text(ALICE, "more grain please", reply_to=first.result)
    third = await fake.wait_for_call("sendPhoto", ALICE, mark)
    studio = bot.studio
    first_id = first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]
    third_id = third.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]
    third_result = await studio.store.get_result(third_id)
    assert third_result.parent_id == first_id, "a reply refines the image it replies to"
    assert third_result.params.adjustments.grain > 0 and third_result.params.adjustments.warmth == 0

    edits = fake.sent("editMessageText", ALICE)
    status_ids = {c.params["message_id"] for c in edits}
    for message_id in status_ids:
        times = [c for c in edits if c.params["message_id"] == message_id]
        assert len(times) <= 6, "progress edits are paced"


async def test_theme_before_selfie_runs_when_it_arrives(bot: RunningBot, fake: FakeTelegram, astronaut: Image.Image
                                                        ) -> None:
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/retro 80s")
    asked = await fake.wait_for_call("editMessageText", ALICE, mark)
    assert "selfie first" in asked.params["text"]
    png = io.BytesIO()
    astronaut.save(png, "PNG")
    mark = len(fake.calls)
    await fake.send_photo(ALICE, png.getvalue(), as_document=True, mime="image/png", filename="me.png")
    result = await fake.wait_for_call("sendPhoto", ALICE, mark)
    assert "Retro 80s" in result.params["caption"]


async def test_name_is_asked_for(bot: RunningBot, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/figurine")
    asked = await fake.wait_for_call("editMessageText", ALICE, mark)
    assert "name" in asked.params["text"].lower()
    mark = len(fake.calls)
    await fake.send_text(ALICE, "Zoë")
    result = await fake.wait_for_call("sendPhoto", ALICE, mark)
    assert "Zoë" in result.params["caption"]


async def test_old_buttons_work_after_a_restart(tg_settings: Settings, fake: FakeTelegram,
                                                astronaut_jpeg: bytes) -> None:
    first_bot = await Bot(tg_settings).start()
    try:
        await selfie(fake, astronaut_jpeg)
        mark = len(fake.calls)
        await fake.send_text(ALICE, "/polaroid Summer")
        photo = await fake.wait_for_call("sendPhoto", ALICE, mark)
    finally:
        await first_bot.stop()
    second_bot = await Bot(tg_settings).start()
    try:
        mark = len(fake.calls)
        await fake.press(ALICE, photo.result, buttons(photo.result)["❄️ Cooler"])
        again = await fake.wait_for_call("sendPhoto", ALICE, mark)
        assert "Summer" in again.params["caption"]
        mark = len(fake.calls)
        await fake.press(ALICE, again.result, buttons(again.result)["↩️ Undo"])
        undone = await fake.wait_for_call("sendPhoto", ALICE, mark)
        assert undone.files["photo"] == photo.files["photo"], "undo sends the earlier image, unchanged"
    finally:
        await second_bot.stop()


async def test_hostile_files_get_clear_answers_and_the_bot_keeps_serving(bot: RunningBot, fake: FakeTelegram,
                                                                         astronaut_jpeg: bytes) -> None:
    cases = [
        (dict(data=astronaut_jpeg[: len(astronaut_jpeg) // 3]), "damaged"),
        (dict(data=b"%PDF-1.4 not a selfie", as_document=True, mime="application/pdf", filename="cv.pdf"),
         "can't read"),
        (dict(data=b"just some text", as_document=True, mime="image/jpeg", filename="fake.jpg"), "can't read"),
        (dict(data=b"", as_document=True, mime="image/png", filename="empty.png"), "empty"),
    ]
    for kwargs, words in cases:
        mark = len(fake.calls)
        await fake.send_photo(ALICE, **kwargs)
        reply = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.method in (
            "sendMessage", "editMessageText") and words in c.params.get("text", "")), None))
        assert reply
    bob = 222
    await selfie(fake, astronaut_jpeg, user=bob)
    mark = len(fake.calls)
    await fake.send_text(bob, "/miniature")
    assert await fake.wait_for_call("sendPhoto", bob, mark)


async def test_429_and_5xx_from_telegram_are_survived(bot: RunningBot, fake: FakeTelegram,
                                                      astronaut_jpeg: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    fake.fail_next("sendPhoto", 429, 502)
    fake.fail_next("editMessageText", 502)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/popart")
    result = await fake.wait_for_call("sendPhoto", ALICE, mark, timeout=90)
    assert result.files["photo"]
    failed = [c for c in fake.calls[mark:] if c.result in ("HTTP 429", "HTTP 502")]
    assert len(failed) >= 2


async def test_forget_unknown_text_and_commands(bot: RunningBot, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/retro 90s")
    photo = await fake.wait_for_call("sendPhoto", ALICE, mark)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "make her a pirate")
    reply = await fake.wait_for_call("editMessageText", ALICE, mark)
    assert "I didn't get" in reply.params["text"] and "warmer" in reply.params["text"]
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/dance")
    reply = await fake.wait_for_call("sendMessage", ALICE, mark)
    assert "don't know that command" in reply.params["text"]

    mark = len(fake.calls)
    await fake.send_text(ALICE, "/forget")
    confirm = await fake.wait_for_call("sendMessage", ALICE, mark)
    assert await bot.studio.has_selfie(UserKey("telegram", str(ALICE)))
    mark = len(fake.calls)
    await fake.press(ALICE, confirm.result, buttons(confirm.result)["🗑 Yes, delete everything"])
    done = await fake.wait_for_call("editMessageText", ALICE, mark)
    assert "deleted" in done.params["text"]
    assert not await bot.studio.has_selfie(UserKey("telegram", str(ALICE)))
    assert await bot.studio.store.count_results(UserKey("telegram", str(ALICE))) == 0
    mark = len(fake.calls)
    await fake.press(ALICE, photo.result, buttons(photo.result)["🔥 Warmer"])
    gone = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.method == "answerCallbackQuery"),
                                            None))
    assert "can't find" in gone.params.get("text", "")




async def test_webhook_mode_checks_the_secret(tg_settings: Settings, fake: FakeTelegram) -> None:
    port = free_port()
    tg_settings.telegram_webhook_url = f"http://127.0.0.1:{port}/tg-hook"
    tg_settings.telegram_webhook_port = port
    tg_settings.telegram_webhook_secret = SecretStr("s3cret-token")
    running = await Bot(tg_settings).start()
    try:
        hook = fake.sent("setWebhook")[0].params
        assert hook["url"] == tg_settings.telegram_webhook_url and hook["secret_token"] == "s3cret-token"
        update = {"update_id": 1, "message": {"message_id": 5, "date": 0, "chat": {"id": ALICE, "type": "private"},
                                              "from": {"id": ALICE, "is_bot": False, "first_name": "A"},
                                              "text": "/start",
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with aiohttp.ClientSession() as client:
            async with client.post(tg_settings.telegram_webhook_url, data=json.dumps(update),
                                   headers={"Content-Type": "application/json",
                                            "X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 403
            mark = len(fake.calls)
            async with client.post(tg_settings.telegram_webhook_url, data=json.dumps(update),
                                   headers={"Content-Type": "application/json",
                                            "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as r:
                assert r.status == 200
        welcome = await fake.wait_for_call("sendMessage", ALICE, mark)
        assert "selfie" in welcome.params["text"]
    finally:
        await running.stop()
    await asyncio.sleep(0)


async def test_minime_telegram_from_outside(tmp_path: Path, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    """Only MINIME_TELEGRAM_TOKEN and MINIME_TELEGRAM_API_ROOT set: `minime telegram` serves a full session."""
    import os
    import signal
    import sys

    env = {**os.environ, "MINIME_TELEGRAM_TOKEN": TOKEN, "MINIME_TELEGRAM_API_ROOT": fake.root,
           "MINIME_DATA_DIR": str(tmp_path / "outside")}
    env.pop("MINIME_WEB_PORT", None)
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "minime.core.cli", "telegram", env=env,
                                                   cwd=Path(__file__).resolve().parent.parent,
                                                   stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for(lambda: fake.sent("setMyCommands"), timeout=60)
        await selfie(fake, astronaut_jpeg)
        mark = len(fake.calls)
        await fake.send_text(ALICE, "/figurine MyName")
        first = await fake.wait_for_call("sendPhoto", ALICE, mark)
        mark = len(fake.calls)
        await fake.press(ALICE, first.result, buttons(first.result)["🎲 Variation"])
        second = await fake.wait_for_call("sendPhoto", ALICE, mark)
        mark = len(fake.calls)
        await fake.send_text(ALICE, "warmer colors", reply_to=second.result)
        third = await fake.wait_for_call("sendPhoto", ALICE, mark)
        images = [first, second, third]
        assert len({c.files["photo"] for c in images}) == 3 and all("MyName" in c.params["caption"] for c in images)
        mark = len(fake.calls)
        await fake.send_photo(ALICE, b"\xff\xd8\xff\xe0 broken")
        await fake.wait_for(lambda: any("damaged" in c.params.get("text", "") or "can't read" in
                                        c.params.get("text", "") for c in fake.calls[mark:]))
        mark = len(fake.calls)
        await fake.send_text(ALICE, "/retro 70s")
        assert await fake.wait_for_call("sendPhoto", ALICE, mark)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert TOKEN not in log and "AAHdq" not in log, "the token never reaches the logs"
    assert process.returncode == 0, log[-2000:]


async def test_verify_recognises_a_shrunk_recompressed_copy_and_not_a_stranger(bot: RunningBot, fake: FakeTelegram,
                                                                                  astronaut_jpeg: bytes,
                                                                                  no_person_png: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/figurine Eileen")
    delivered = (await fake.wait_for_call("sendPhoto", ALICE, mark)).files["photo"]
    image = Image.open(io.BytesIO(delivered))
    copy = io.BytesIO()
    image.resize((image.width // 2, image.height // 2)).save(copy, "JPEG", quality=75)  # as a platform re-shares it

    async def ask(data: bytes) -> str:
        mark = len(fake.calls)
        await fake.send_photo(ALICE, data, caption="/verify")
        await fake.wait_for(lambda: any(c.method == "editMessageText" and "Checking" not in c.params.get("text", "")
                                        for c in fake.calls[mark:]))
        return [c for c in fake.calls[mark:] if c.method == "editMessageText"][-1].params["text"]

    assert (await ask(copy.getvalue())).startswith("Yes, I made this: it's your collectible figurine")
    assert (await ask(no_person_png)).startswith("I didn't make this image")
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/stats")
    stats = await fake.wait_for_call("sendMessage", ALICE, mark)
    assert "Images you have with me: 1" in stats.params["text"] and "Wh" in stats.params["text"]
