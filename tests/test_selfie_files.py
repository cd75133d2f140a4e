"""A selfie's file lives no longer than the selfie: gone as soon as a new selfie replaces it, and when it expires
(not at the next ten-minute sweep). Through Telegram: the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import UserKey
from minime.core.settings import Settings
from minime.core.store import BlobStore
from tests.conftest import RunningBot
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
USER = 4242
TTL_S = 3.0


async def sent_selfie(fake: FakeTelegram, data: bytes) -> None:
    mark = len(fake.calls)
    await fake.send_photo(USER, data)
    await fake.wait_for(lambda: any(c.method == "editMessageText" and "Got your selfie" in c.params.get("text", "")
                                    for c in fake.calls[mark:]))


async def test_a_replaced_or_expired_selfie_leaves_no_file(tmp_path: Path, astronaut_jpeg: bytes,
                                                            no_person_png: bytes) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        selfie_ttl_hours=TTL_S / 3600, job_lease_s=2.0, _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    folder = settings.blob_dir / BlobStore.user_folder(UserKey("telegram", str(USER)))
    try:
        await sent_selfie(fake, astronaut_jpeg)
        assert len(list(folder.glob("*.jpg"))) == 1
        await sent_selfie(fake, no_person_png)
        sent = time.monotonic()
        assert len(list(folder.glob("*.jpg"))) == 1, "the replaced selfie's file went at once"
        while list(folder.glob("*.jpg")) and time.monotonic() - sent < TTL_S + 5:
            await asyncio.sleep(0.2)
        assert not list(folder.glob("*.jpg")), "the expired selfie's file went when it expired"
        assert time.monotonic() - sent < TTL_S + 3
        assert not await bot.studio.has_selfie(UserKey("telegram", str(USER)))
    finally:
        await bot.stop()
        await fake.stop()
