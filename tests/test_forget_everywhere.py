"""/forget through Telegram (the real python-telegram-bot against the fake Bot API) leaves no row of the user in any
table of the database: sessions, selfies, results, bands, jobs and the usage counts (their own and their share of
a group's), looked for in every column of every table."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import MetaData, create_engine, select

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import UserKey
from minime.core.quotas import member_subject
from minime.core.settings import Settings
from tests.conftest import RunningBot, midday_clock
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
USER = 987654321
OTHER = 555


def rows_mentioning(database: Path, needle: str) -> list[tuple[str, tuple]]:
    """Every row of every table with ``needle`` in any of its columns."""
    engine = create_engine(f"sqlite:///{database}")
    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            found += [(table.name, tuple(row)) for row in conn.execute(select(table))
                      if any(needle in str(value) for value in row)]
    engine.dispose()
    return found


def buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


async def test_after_forget_no_table_holds_a_row_of_the_user(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        daily_quota=20, job_lease_s=2.0, _env_file=None)
    bot = await RunningBot(settings, TelegramRunner, clock=midday_clock).start()
    try:
        for user in (USER, OTHER):
            mark = len(fake.calls)
            await fake.send_photo(user, astronaut_jpeg, caption="/retro 70s")
            await fake.wait_for_call("sendPhoto", user, mark)
        me = UserKey("telegram", str(USER))
        await bot.studio.store.grant(member_subject("telegram:-1001234567890", me), 1)  # a share of a group's images
        await bot.studio.pipeline.fingerprints_booked()
        database = settings.data_dir / "minime.db"
        assert {table for table, _ in rows_mentioning(database, str(USER))} >= {
            "sessions", "selfies", "results", "result_bands", "jobs", "usage"}, "the user was everywhere"

        mark = len(fake.calls)
        await fake.send_text(USER, "/forget")
        confirm = await fake.wait_for_call("sendMessage", USER, mark)
        mark = len(fake.calls)
        await fake.press(USER, confirm.result, buttons(confirm.result)["🗑 Yes, delete everything"])
        done = await fake.wait_for_call("editMessageText", USER, mark)
        assert "deleted" in done.params["text"]
        assert rows_mentioning(database, str(USER)) == []
        assert rows_mentioning(database, str(OTHER)), "another user's rows stay"
    finally:
        await bot.stop()
        await fake.stop()
