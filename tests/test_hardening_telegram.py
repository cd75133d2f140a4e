"""Telegram under faults, with the real python-telegram-bot against the fake Bot API: a slow sendPhoto whose answer
comes after the client gave up is not sent a second time; and the webhook answers broken or 5,000-deep JSON that
carries the right secret with a 400, and goes on serving."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from minime.bots.telegram_bot import delivery
from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.settings import Settings
from tests.conftest import RunningBot, free_port
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
USER = 31337


class SlowPhotos(FakeTelegram):
    """A Bot API whose first sendPhoto answers only after ``delay_s`` (Telegram busy with a large photo)."""

    def __init__(self, token: str, delay_s: float) -> None:
        super().__init__(token)
        self.delay_s, self.slowed = delay_s, False

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "sendPhoto" and not self.slowed:
            self.slowed = True
            response = await super()._api(request)  # received and handled: the picture is in the chat …
            await asyncio.sleep(self.delay_s)  # … but the answer comes late
            return response
        return await super()._api(request)


async def test_a_slow_photo_upload_is_not_sent_twice(tmp_path: Path, astronaut_jpeg: bytes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "UPLOAD_READ_TIMEOUT_S", 1.0)  # the client gives up before the answer
    fake = SlowPhotos(TOKEN, delay_s=3.0)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        job_lease_s=2.0, _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    try:
        mark = len(fake.calls)
        await fake.send_photo(USER, astronaut_jpeg, caption="/retro 70s")
        await fake.wait_for_call("sendPhoto", USER, mark)
        await asyncio.sleep(6.0)  # long enough for the retries with_retries would make (1 s, then 2 s)
        assert len(fake.sent("sendPhoto", USER)) == 1, "the user got the picture once"
    finally:
        await bot.stop()
        await fake.stop()


async def test_webhook_answers_broken_and_deep_json_with_400(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        telegram_webhook_url=f"http://127.0.0.1:{port}/tg-hook", telegram_webhook_port=port,
                        telegram_webhook_secret=SecretStr("s3cret-token"), _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    start = {"update_id": 9, "message": {"message_id": 5, "date": 0, "chat": {"id": USER, "type": "private"},
                                         "from": {"id": USER, "is_bot": False, "first_name": "A"}, "text": "/start",
                                         "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    try:
        async with aiohttp.ClientSession() as client:
            for body in ('{"update_id": 1, "message": ', "[" * 5000 + "]" * 5000, '{"a": ' * 5000 + "1" + "}" * 5000,
                         "[1, 2]", '{"update_id": "not a number", "message": 7}', "\xff\xfe"):
                async with client.post(settings.telegram_webhook_url, data=body.encode("utf-8", "surrogateescape")
                                       if isinstance(body, str) else body, headers=headers) as r:
                    assert r.status == 400, body[:40]
            mark = len(fake.calls)
            async with client.post(settings.telegram_webhook_url, data=json.dumps(start), headers=headers) as r:
                assert r.status == 200
        await fake.wait_for_call("sendMessage", USER, mark)
    finally:
        await bot.stop()
        await fake.stop()
