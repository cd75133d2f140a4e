"""The figure's files are fair and fit: one in the making per user (a second press hears it is on its way, in the
user's language), each counted like a render against the daily quota (a failure gives it back, a file made already
is free), named by the turntable settings that made it (a changed setting never serves a stale loop), and a loop
over a platform's upload limit made again smaller instead of failing; the settings refuse a loop no platform takes.
Real python-telegram-bot and discord.py against the local fakes, as in test_figure_files.py."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select

from minime.bots.discord_bot.bot import DiscordRunner
from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.app import build_studio
from minime.core.domain import JobKind, UserKey
from minime.core.errors import FigureBusy, FigureTooLarge, NoFigure, QuotaExceeded
from minime.core.quotas import user_subject
from minime.core.settings import Settings
from minime.core.store.schema import jobs
from tests.conftest import RunningBot, browser_client, midday_clock
from tests.fake_discord import FakeDiscord, buttons
from tests.fake_telegram import FakeTelegram
from tests.test_figure_files import SMALL_LOOP, TOKEN, _keys, _result_of, _web_result, discord_card, video_facts

ALICE, BOB = 111, 222


def _settings(tmp_path: Path, **changes) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", job_lease_s=2.0, **{**SMALL_LOOP, **changes})


async def _figure_rows(studio, user: UserKey) -> int:
    async with studio.store.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(jobs).where(
            (jobs.c.user == str(user)) & (jobs.c.kind == JobKind.FIGURE.value)))).scalar_one()


# ---- the service -------------------------------------------------------------------------------------------------


async def test_one_figure_file_at_a_time_counted_like_a_render(tmp_path: Path, astronaut_jpeg: bytes,
                                                               no_person_png: bytes) -> None:
    studio = build_studio(_settings(tmp_path, daily_quota=3), clock=midday_clock)
    await studio.start()
    try:
        alice = UserKey("test", "alice")
        cup = await _result_of(studio, alice, no_person_png, "figurine", "Ada")  # 1 of 3 today
        with pytest.raises(NoFigure):
            await studio.figure_file(alice, cup, "turntable")
        assert (await studio.store.usage_of(user_subject(alice)))[0] == 1, "a figure that failed costs nothing"
        figurine = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")  # 2 of 3

        # Pressed twice at once: one is made, the other is told it is on its way
        made = await asyncio.gather(studio.figure_file(alice, figurine, "turntable"),
                                    studio.figure_file(alice, figurine, "mesh"), return_exceptions=True)
        assert sum(isinstance(m, FigureBusy) for m in made) == 1, made
        assert "already on its way" in next(m for m in made if isinstance(m, FigureBusy)).user_message
        assert not studio.figure_busy(alice), "nothing in the making once it is sent"
        assert (await studio.store.usage_of(user_subject(alice)))[0] == 3, "the file made took an image"
        assert await _figure_rows(studio, alice) == 2, "both files made or tried count in the rate window"

        sent = next(m for m in made if not isinstance(m, BaseException))
        other = "mesh" if sent.kind == "turntable" else "turntable"
        with pytest.raises(QuotaExceeded, match="daily limit"):
            await studio.figure_file(alice, figurine, other)
        again = await studio.figure_file(alice, figurine, sent.kind)  # made already: free, and still given
        assert again.data == sent.data
    finally:
        await studio.stop()


async def test_one_users_presses_do_not_hold_up_anothers_file(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    studio = build_studio(_settings(tmp_path), clock=midday_clock)  # one figure file made at a time, for everyone
    await studio.start()
    try:
        alice, bob = UserKey("test", "alice"), UserKey("test", "bob")
        mine = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        theirs = await _result_of(studio, bob, astronaut_jpeg, "actionfigure", "Bo")
        presses = [studio.figure_file(alice, mine, kind) for kind in ("turntable", "mesh", "turntable", "mesh")]
        outcome = await asyncio.gather(*presses, studio.figure_file(bob, theirs, "turntable"), return_exceptions=True)
        assert [type(o).__name__ for o in outcome[:4]].count("FigureBusy") == 3, "Alice's presses: one made"
        assert video_facts(outcome[4].data)[:2] == (8, (160, 160)), "Bob's loop came, after one file of Alice's"
    finally:
        await studio.stop()


async def test_a_changed_turntable_setting_makes_a_new_loop_and_both_go_with_the_user(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    alice = UserKey("test", "alice")
    studio = build_studio(_settings(tmp_path))
    await studio.start()
    try:
        figurine = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        assert video_facts((await studio.figure_file(alice, figurine, "turntable")).data)[:2] == (8, (160, 160))
    finally:
        await studio.stop()
    studio = build_studio(_settings(tmp_path, turntable_frames=12, turntable_size=192))  # the operator changed it
    await studio.start()
    try:
        assert video_facts((await studio.figure_file(alice, figurine, "turntable")).data)[:2] == (12, (192, 192))
        base = (await studio.store.get_result(figurine)).base_key
        assert len(studio.figures.cache_keys(base)) == 2, "each loop kept under its own settings"
        await studio.forget(alice)
        assert not studio.figures.cache_keys(base)
    finally:
        await studio.stop()


async def test_a_loop_over_the_platforms_limit_is_made_smaller(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    studio = build_studio(_settings(tmp_path, turntable_size=320, turntable_frames=16), clock=midday_clock)
    await studio.start()
    try:
        alice = UserKey("test", "alice")
        figurine = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        full = await studio.figure_file(alice, figurine, "turntable", "gif")
        limit = len(full.data) // 3
        fitted = await studio.figure_file(alice, figurine, "turntable", "gif", max_bytes=limit)
        assert len(fitted.data) <= limit < len(full.data)
        with Image.open(io.BytesIO(fitted.data)) as gif:
            assert gif.is_animated and 128 <= gif.width < 320 and gif.n_frames >= 8, (gif.size, gif.n_frames)
        assert (await studio.figure_file(alice, figurine, "turntable", "gif", max_bytes=limit)).data == fitted.data
        assert (await studio.store.usage_of(user_subject(alice)))[0] == 3, "one image per file made, smaller or not"
        with pytest.raises(FigureTooLarge):  # nothing this small: told, not sent broken
            await studio.figure_file(alice, figurine, "turntable", max_bytes=1000)
        with pytest.raises(FigureTooLarge):
            await studio.figure_file(alice, figurine, "mesh", max_bytes=1000)
        assert (await studio.store.usage_of(user_subject(alice)))[0] == 3, "what could not be sent costs nothing"
    finally:
        await studio.stop()


def test_the_settings_refuse_a_loop_no_platform_takes(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="less than or equal to 1024"):
        Settings(_env_file=None, turntable_size=2048)
    with pytest.raises(ValidationError, match="under the 50 MB Telegram takes"):
        Settings(_env_file=None, turntable_size=1024, turntable_frames=120, turntable_seconds=12)
    with pytest.raises(ValidationError, match="frames a second"):
        Settings(_env_file=None, turntable_frames=120, turntable_seconds=1)
    assert Settings(_env_file=None, turntable_size=1024, turntable_frames=48).turntable_size == 1024


# ---- the chat adapters -------------------------------------------------------------------------------------------


@pytest.fixture()
async def telegram():
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


async def test_telegram_a_second_press_hears_its_on_its_way_in_the_users_language(
        tmp_path: Path, telegram: FakeTelegram, astronaut_jpeg: bytes) -> None:
    settings = _settings(tmp_path, telegram_token=SecretStr(TOKEN), telegram_api_root=telegram.root,
                         turntable_size=320, turntable_frames=24)  # seconds in the making: time for a second press
    bot = await RunningBot(settings, TelegramRunner, clock=midday_clock).start()
    try:
        telegram.languages[ALICE] = "es"
        mark = len(telegram.calls)
        await telegram.send_photo(ALICE, astronaut_jpeg, caption="/figurine Ada")
        result = (await telegram.wait_for_call("sendPhoto", ALICE, mark)).result
        turn = next(data for label, data in _keys(result).items() if "🔄" in label)
        file = next(data for label, data in _keys(result).items() if "🧊" in label)

        mark = len(telegram.calls)
        await telegram.press(ALICE, result, turn)
        for _ in range(1500):  # until its loop is in the making (the fake is told nothing of that)
            if bot.studio.figure_busy(UserKey("telegram", str(ALICE))):
                break
            await asyncio.sleep(0.02)
        assert bot.studio.figure_busy(UserKey("telegram", str(ALICE)))
        second = await telegram.press(ALICE, result, file)
        answer = await telegram.wait_for(lambda: next((c for c in telegram.calls[mark:] if c.method ==
                                                       "answerCallbackQuery" and c.params["callback_query_id"]
                                                       == second), None))
        assert "ya está en camino" in answer.params["text"], answer.params
        await telegram.wait_for_call("sendAnimation", ALICE, mark)
        assert not telegram.sent("sendDocument"), "the second press made nothing"
        assert (await bot.studio.store.usage_of(f"user:telegram:{ALICE}"))[0] == 2, "the still and one loop"
    finally:
        await bot.stop()


async def test_discord_a_loop_over_the_servers_upload_limit_arrives_smaller(
        tmp_path: Path, discord_fake: FakeDiscord, astronaut_jpeg: bytes) -> None:
    fake = discord_fake
    settings = _settings(tmp_path, discord_token=SecretStr("fake.discord.token"), turntable_size=320)
    bot = await RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1)).start()
    try:
        message = await discord_card(fake, "figurine", astronaut_jpeg)
        turn = next(c["label"] for c in buttons(message) if "Turn" in c["label"])
        user = UserKey("discord", str(ALICE))
        full = await bot.studio.figure_file(user, (await bot.studio.current_result(user)).id, "turntable")
        fake.attachment_size_limit = len(full.data) * 2 // 3  # a server that takes less than that loop

        mark = len(fake.calls)
        await fake.press(ALICE, message, turn)
        upload = await fake.wait_for_image(mark)
        data = next(iter(upload.files.values()))
        frames, (width, _), _, _ = video_facts(data)
        assert len(data) <= fake.attachment_size_limit and width < 320 and frames >= 8, (len(data), width, frames)
    finally:
        await bot.stop()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """The conftest's studio and playground fixtures: a daily quota of 2, loops that take seconds to make."""
    return _settings(tmp_path, daily_quota=2, turntable_size=320, turntable_frames=24)


async def test_playground_one_file_at_a_time_and_the_quota_say_429(web: str, studio, astronaut_jpeg: bytes) -> None:
    async with browser_client() as alice:
        result = await _web_result(alice, web, astronaut_jpeg, "/figurine Ada")  # 1 of 2 today
        loop = asyncio.ensure_future(alice.get(f"{web}/api/figure/{result}/turntable"))
        for _ in range(1500):
            if studio.figures._in_flight:
                break
            await asyncio.sleep(0.02)
        async with alice.get(f"{web}/api/figure/{result}/mesh") as r:
            assert r.status == 429 and "already on its way" in (await r.json())["messages"][0]["text"]
        async with await loop as r:
            assert r.status == 200 and r.content_type == "video/mp4"  # 2 of 2
        async with alice.get(f"{web}/api/figure/{result}/mesh") as r:
            assert r.status == 429 and "daily limit" in (await r.json())["messages"][0]["text"]
        async with alice.get(f"{web}/api/figure/{result}/turntable") as r:
            assert r.status == 200, "a file made already is free"
