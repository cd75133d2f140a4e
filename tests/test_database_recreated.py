"""The bot's PostgreSQL database is dropped and created again while it runs (an operator's restore, a test
environment reset): the next user is served without a restart, the tables created again on first use. Through
Telegram: the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import secrets
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import UserKey
from minime.core.settings import Settings
from tests.conftest import RunningBot
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(SERVER, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL server on 127.0.0.1:5432 ({exc})")


async def figurine(fake: FakeTelegram, user: int, photo: bytes) -> str:
    mark = len(fake.calls)
    await fake.send_photo(user, photo, caption="/retro 80s")
    return (await fake.wait_for_call("sendPhoto", user, mark)).params["caption"]


async def test_a_dropped_and_recreated_database_needs_no_restart(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    name = f"minime_recreated_{secrets.token_hex(4)}"
    admin = await _admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    fake = FakeTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", job_lease_s=2.0,
                        _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    try:
        await figurine(fake, 1, astronaut_jpeg)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # ends the bot's connections too
        await admin.execute(f'CREATE DATABASE "{name}"')
        await figurine(fake, 2, astronaut_jpeg)
        assert await bot.studio.store.count_results(UserKey("telegram", "2")) == 1
    finally:
        await bot.stop()
        await fake.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
