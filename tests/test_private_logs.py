"""A whole Telegram flow logged at DEBUG (the real python-telegram-bot against the fake Bot API) holds none of the
user's personal data: first and last name, username, the name they typed, their texts and captions, file ids. And a
crash's traceback is logged whole, its quoted values redacted."""

from __future__ import annotations

import io
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.logs import configure_logging, get_logger
from minime.core.settings import Settings
from tests.conftest import RunningBot
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
USER = 5550001
FIRST, LAST, USERNAME = "Wilhelmina", "Ostrogorsky", "wilhelmina_zq"
TYPED_NAME, CAPTION, TEXT = "Quixotilda", "holiday in Kalamazoo", "more grain Zanzibarquette"


class NamedTelegram(FakeTelegram):
    """The fake Bot API whose user has a real-looking profile and whose file ids look like Telegram's."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self._ids = itertools.count(1)
        self.file_ids: list[str] = []

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": FIRST, "last_name": LAST, "username": USERNAME,
                "language_code": "en"}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": FIRST, "last_name": LAST, "username": USERNAME}

    def add_file(self, data: bytes) -> str:
        file_id = f"AgACAgQAAxkBAAIB{next(self._ids):04d}ZmJ5c2VsZmll"
        self.file_ids.append(file_id)
        self.files[file_id] = data
        return file_id


@pytest.fixture()
def debug_log():
    """MINIME_LOG_LEVEL=DEBUG for one test, written to a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG")
    written = io.StringIO()
    root.handlers[0].setStream(written)
    yield written.getvalue
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_a_whole_flow_at_debug_logs_no_personal_data(tmp_path: Path, astronaut_jpeg: bytes, debug_log) -> None:
    fake = NamedTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        job_lease_s=2.0, _env_file=None)
    bot = await RunningBot(settings, TelegramRunner).start()
    try:
        mark = len(fake.calls)
        await fake.send_photo(USER, astronaut_jpeg, caption=CAPTION)
        await fake.send_text(USER, f"/figurine {TYPED_NAME}")
        picture = await fake.wait_for_call("sendPhoto", USER, mark)
        assert TYPED_NAME in picture.params["caption"], "the name reached the picture"
        mark = len(fake.calls)
        await fake.send_text(USER, TEXT, reply_to=picture.result)
        await fake.wait_for_call("sendPhoto", USER, mark)
        buttons = [b["callback_data"] for row in picture.result["reply_markup"]["inline_keyboard"] for b in row]
        mark = len(fake.calls)
        await fake.press(USER, picture.result, buttons[0])
        await fake.wait_for_call("sendPhoto", USER, mark)
    finally:
        await bot.stop()
        await fake.stop()
    log = debug_log()
    assert "job queued" in log and "selfie stored" in log, "the flow was logged"
    for private in (FIRST, LAST, USERNAME, TYPED_NAME, CAPTION, "Kalamazoo", "Zanzibarquette", *fake.file_ids):
        assert private not in log, f"{private!r} is in the DEBUG log"


def test_a_crash_is_logged_with_its_whole_traceback_and_no_personal_data(debug_log) -> None:
    def read_name(name: str) -> None:
        raise ValueError(f"no glyph for {name!r}")

    def render(depth: int, name: str) -> None:
        if depth:
            render(depth - 1, name)
        else:
            read_name(name)

    try:
        try:
            render(30, TYPED_NAME)  # a deep stack: the traceback runs far past 500 characters
        except ValueError as exc:
            raise RuntimeError(f"rendering failed for {FIRST!r} ({TOKEN})") from exc
    except RuntimeError:
        get_logger("minime.jobs").exception("job crashed", job="j1")
    log = debug_log()
    assert len(log) > 1000, "more than the 500 characters it used to be cut at"
    assert "Traceback (most recent call last)" in log and "in read_name" in log, "the cause, at the very end, is there"
    assert 'raise ValueError(f"no glyph for {name!r}")' in log, "our source lines stay"
    assert "ValueError: no glyph for '…'" in log and "RuntimeError: rendering failed for '…'" in log
    for private in (TYPED_NAME, FIRST, TOKEN, "AAHdq"):
        assert private not in log
