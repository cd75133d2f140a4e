"""A hostile user and a bad day on Telegram: the real python-telegram-bot against the fake Bot API server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.core.settings import Settings
from tests.conftest import RunningBot
from tests.fake_telegram import FakeTelegram
from tests.test_telegram import ALICE, TOKEN, Bot, selfie

BOB = 222


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


@pytest.mark.timeout(120)
async def test_a_crafted_refinement_does_not_hold_up_other_users(bot: RunningBot, fake: FakeTelegram) -> None:
    """Text built to make a regular expression backtrack ("its its its … x") must not freeze the bot."""
    mark = len(fake.calls)
    await fake.send_text(ALICE, "its " * 40 + "x")
    sent = time.monotonic()
    await fake.send_text(BOB, "/help")
    welcome = await fake.wait_for_call("sendMessage", BOB, mark, timeout=60)
    assert time.monotonic() - sent < 10, "Bob was answered while Alice's text was parsed"
    assert "selfie" in welcome.params["text"]
    answer = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.method == "editMessageText"
                                               and c.params["chat_id"] == ALICE
                                               and "On it" not in c.params["text"]), None))
    assert "didn't get" in answer.params["text"] or "nothing to refine" in answer.params["text"].lower()


async def test_a_name_with_line_breaks_is_set_on_one_line(bot: RunningBot, fake: FakeTelegram,
                                                          astronaut_jpeg: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/figurine")
    await fake.wait_for_call("editMessageText", ALICE, mark)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "Ada\nLove\u2029lace\u0085Byron\r")
    result = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.params.get("chat_id") == ALICE and (
        c.method == "sendPhoto" or "failed" in c.params.get("text", ""))), None))
    assert result.method == "sendPhoto", result.params
    assert "Ada Love lace Byron" in result.params["caption"]
