"""minime in a Telegram supergroup, delivered as Telegram delivers it to a bot with privacy mode off (every message):
the real python-telegram-bot Application against the fake Bot API. Two members, captions with commands,
``/cmd@bot``, a stranger's tap, a member without a selfie, a reply that refines, and chatter that must be ignored;
then the daily quota with a restart and an admin's grant."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner, build_application
from minime.core.app import build_studio
from minime.core.domain import UserKey
from minime.core.settings import Settings
from tests.conftest import RunningBot, midday_clock
from tests.fake_telegram import BOT, FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
GROUP = -1001234567890
ADA, BO, CY, ADMIN = 201, 202, 203, 999
AT = "@" + BOT["username"]


@pytest.fixture()
async def fake():
    server = FakeTelegram(TOKEN)
    await server.start()
    server.add_group(GROUP, "Book club")
    yield server
    await server.stop()


def _settings(tmp_path: Path, fake: FakeTelegram, **changes) -> Settings:
    values = {"data_dir": tmp_path / "data", "telegram_token": SecretStr(TOKEN), "telegram_api_root": fake.root,
              "job_lease_s": 2.0, "admins": [f"telegram:{ADMIN}"], **changes}
    return Settings(_env_file=None, **values)


def buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


def result_id(message: dict) -> str:
    return message["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]


async def picture_for(fake: FakeTelegram, mark: int, asked: dict) -> dict:
    """The picture the bot posts in the group in answer to ``asked`` (it quotes that message)."""
    call = await fake.wait_for_call("sendPhoto", GROUP, mark, timeout=90)
    assert call.params["reply_parameters"]["message_id"] == asked["message_id"], "a group reply quotes its request"
    return call.result


async def said_since(fake: FakeTelegram, mark: int, words: str, chat: int = GROUP) -> str:
    """The first text the bot sent or edited into ``chat`` since ``mark`` that contains ``words``."""
    def find() -> str | None:
        return next((c.params["text"] for c in fake.calls[mark:] if c.method in ("sendMessage", "editMessageText")
                     and c.params.get("chat_id") == chat and words in c.params.get("text", "")), None)
    return await fake.wait_for(find, 60)


async def silent_since(fake: FakeTelegram, mark: int, seconds: float = 2.5) -> bool:
    """Nothing was posted in the group since ``mark`` (waiting a little first). A late progress edit of an earlier
    job's status line is not a new answer."""
    await asyncio.sleep(seconds)
    return not [c for c in fake.calls[mark:] if c.params.get("chat_id") == GROUP
                and c.method in ("sendMessage", "sendPhoto", "sendDocument")]


async def test_two_members_in_a_supergroup(tmp_path: Path, fake: FakeTelegram, astronaut_jpeg: bytes,
                                           no_person_png: bytes) -> None:
    bot = await RunningBot(_settings(tmp_path, fake), TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        await fake.add_bot_to(GROUP, by_user=ADA)
        assert "Hi everyone" in await said_since(fake, mark, "minime")

        mark = len(fake.calls)
        asked = await fake.send_photo(ADA, astronaut_jpeg, caption=f"/figurine{AT} Ada", chat=GROUP)
        figurine = await picture_for(fake, mark, asked)
        assert "Ada" in figurine["caption"]
        ada_first = await bot.studio.store.get_result(result_id(figurine))
        assert ada_first.user == UserKey("telegram", str(ADA))

        mark = len(fake.calls)
        chatter = await fake.send_text(ADA, "lol nice, make it darker", chat=GROUP)
        await fake.edit(chatter, f"/popart{AT}")  # an edit is not a new request
        await fake.send_photo(CY, no_person_png, chat=GROUP)  # a holiday photo, not for the bot
        await fake.send_text(BO, "/weather@some_other_bot Paris", chat=GROUP)
        assert await silent_since(fake, mark), "chatter, other people's photos and other bots' commands are ignored"
        assert (await bot.studio.current_result(UserKey("telegram", str(ADA)))).id == ada_first.id

        mark = len(fake.calls)
        await fake.send_text(BO, f"/retro{AT} 80s", chat=GROUP)
        asked_for = await said_since(fake, mark, "selfie first")
        assert "Reply to this message with your photo" in asked_for, "Bo is asked for his own selfie"
        assert await silent_since(fake, len(fake.calls), 1.0)
        mark = len(fake.calls)
        bo_selfie = await fake.send_photo(BO, astronaut_jpeg, chat=GROUP)  # the selfie he was asked for
        retro = await picture_for(fake, mark, bo_selfie)
        bo_result = await bot.studio.store.get_result(result_id(retro))
        assert bo_result.user == UserKey("telegram", str(BO)) and bo_result.theme_id == "retro-80s"
        assert bo_result.selfie_id != ada_first.selfie_id, "Bo's picture is made from Bo's selfie"

        mark = len(fake.calls)
        query = await fake.press(BO, figurine, buttons(figurine)["🔥 Warmer"])
        answer = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.method == "answerCallbackQuery"
                                                   and c.params["callback_query_id"] == query), None))
        assert "someone else" in answer.params["text"] and not answer.params.get("show_alert")
        assert await silent_since(fake, mark), "a stranger's tap changes nothing"

        mark = len(fake.calls)
        reply = await fake.send_text(ADA, "warmer colors", reply_to=figurine, chat=GROUP)
        warmer = await picture_for(fake, mark, reply)
        refined = await bot.studio.store.get_result(result_id(warmer))
        assert refined.parent_id == ada_first.id and refined.params.adjustments.warmth > 0

        mark = len(fake.calls)
        mention = await fake.send_text(ADA, f"{AT} more grain please", chat=GROUP)
        grain = await picture_for(fake, mark, mention)
        grained = await bot.studio.store.get_result(result_id(grain))
        assert grained.parent_id == refined.id and grained.params.adjustments.grain > 0

        mark = len(fake.calls)
        await fake.send_text(BO, "make it warmer", reply_to=figurine, chat=GROUP)  # Bo on Ada's picture
        assert "someone else" in await said_since(fake, mark, "someone else")
        assert (await bot.studio.current_result(UserKey("telegram", str(ADA)))).id == grained.id
    finally:
        await bot.stop()


async def test_a_captioned_photo_in_a_private_chat_is_one_step(tmp_path: Path, fake: FakeTelegram,
                                                               astronaut_jpeg: bytes) -> None:
    bot = await RunningBot(_settings(tmp_path, fake), TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        await fake.send_photo(ADA, astronaut_jpeg, as_document=True, caption="/popart")
        call = await fake.wait_for_call("sendPhoto", ADA, mark, timeout=90)
        assert "Pop" in call.params["caption"]
    finally:
        await bot.stop()


async def test_the_daily_quota_in_a_group_with_a_restart_and_a_grant(tmp_path: Path, fake: FakeTelegram,
                                                                     astronaut_jpeg: bytes) -> None:
    settings = _settings(tmp_path, fake, daily_quota=2)
    bot = await RunningBot(settings, TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        asked = await fake.send_photo(ADA, astronaut_jpeg, caption="/miniature", chat=GROUP)
        await picture_for(fake, mark, asked)
        mark = len(fake.calls)
        asked = await fake.send_text(ADA, f"/popart{AT}", chat=GROUP)
        await picture_for(fake, mark, asked)
        mark = len(fake.calls)
        await fake.send_text(ADA, "/retro 70s", chat=GROUP)
        refusal = await said_since(fake, mark, "daily limit")
        assert "daily limit is 2" in refusal and "midnight UTC" in refusal
        assert not fake.sent("sendPhoto", GROUP)[2:], "a refused request makes no picture"
    finally:
        await bot.stop()

    # a restart: the counts are in the database
    bot = await RunningBot(settings, TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        await fake.send_text(ADA, "/retro 70s", chat=GROUP)
        assert "daily limit is 2" in await said_since(fake, mark, "daily limit")

        mark = len(fake.calls)
        await fake.send_text(BO, "/admin", chat=GROUP)
        nosy = await said_since(fake, mark, "Sorry", chat=BO)  # /admin in a group answers privately
        assert "Images" not in nosy and "grant" not in nosy and "admin" not in nosy.lower()
        mark = len(fake.calls)
        await fake.send_text(ADMIN, "/admin")
        assert "Images: 2 for 1 user" in await said_since(fake, mark, "Images", chat=ADMIN)
        mark = len(fake.calls)
        await fake.send_text(ADMIN, f"/admin grant telegram:{ADA} 1")
        assert "1 left today" in await said_since(fake, mark, "Granted", chat=ADMIN)

        mark = len(fake.calls)
        await fake.send_text(ADA, "/status", chat=GROUP)
        assert "Images left for you today: 1" in await said_since(fake, mark, "Images left")
        mark = len(fake.calls)
        asked = await fake.send_text(ADA, "/retro 70s", chat=GROUP)
        await picture_for(fake, mark, asked)
    finally:
        await bot.stop()


async def test_outgoing_pacing_holds_telegrams_group_limit(tmp_path: Path, fake: FakeTelegram) -> None:
    studio = build_studio(_settings(tmp_path, fake), clock=midday_clock)
    limiter = build_application(studio, studio.settings).bot.rate_limiter
    assert limiter._group_max_rate == 20 and limiter._group_time_period == 60  # ~20 messages a minute per group
    assert limiter._base_limiter.max_rate == 30 and limiter._base_limiter.time_period == 1
