"""A hostile user and a bad day on Telegram: the real python-telegram-bot against the fake Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.core.settings import Settings
from tests.conftest import RunningBot
from tests.fake_telegram import FakeTelegram
from tests.test_telegram import ALICE, TOKEN, Bot, buttons, selfie

BOB = 222
ROOT = Path(__file__).resolve().parent.parent


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


def _delivered(fake: FakeTelegram, chat_id: int, after: int = 0) -> list:
    return [c for c in fake.calls[after:] if c.method == "sendPhoto" and c.params.get("chat_id") == chat_id
            and isinstance(c.result, dict)]


@pytest.mark.timeout(180)
async def test_a_picture_gets_through_when_telegram_refuses_uploads_for_20_seconds(bot: RunningBot,
                                                                                    fake: FakeTelegram,
                                                                                    astronaut_jpeg: bytes) -> None:
    await selfie(fake, astronaut_jpeg)
    fake.refuse_for("sendPhoto", 20, 500)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/popart")
    photo = await fake.wait_for(lambda: next(iter(_delivered(fake, ALICE, mark)), None), timeout=120)
    refused = [c for c in fake.calls[mark:] if c.method == "sendPhoto" and c.result == "HTTP 500"]
    assert refused and photo.files["photo"]


@pytest.mark.timeout(180)
async def test_a_picture_that_never_gets_through_is_reported(bot: RunningBot, fake: FakeTelegram,
                                                              astronaut_jpeg: bytes) -> None:
    bot.studio.events.backoff_s = (0.5, 0.5)
    await selfie(fake, astronaut_jpeg)
    fake.refuse_for("sendPhoto", 3600, 500)
    fake.refuse_for("sendDocument", 3600, 500)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/popart")
    told = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.params.get("chat_id") == ALICE
                                             and "couldn't send it" in c.params.get("text", "")), None), timeout=120)
    assert told.method in ("editMessageText", "sendMessage")


def _minime_telegram(fake: FakeTelegram, data_dir: Path, **env: str) -> asyncio.subprocess.Process:
    environment = {**os.environ, "MINIME_TELEGRAM_TOKEN": TOKEN, "MINIME_TELEGRAM_API_ROOT": fake.root,
                   "MINIME_DATA_DIR": str(data_dir), "MINIME_JOB_LEASE_S": "2", **env}
    return asyncio.create_subprocess_exec(sys.executable, "-m", "minime.core.cli", "telegram", env=environment,
                                          cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def _stop(process: asyncio.subprocess.Process, timeout: float = 60) -> tuple[int, str, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
        return -9, stderr.decode(), time.monotonic() - started
    return process.returncode, stderr.decode(), time.monotonic() - started


@pytest.mark.timeout(420)
async def test_sigterm_finishes_the_running_picture_and_keeps_the_queued_one_for_the_restart(
        fake: FakeTelegram, tmp_path: Path, astronaut_jpeg: bytes) -> None:
    # The grace is generous: a fresh process's first 3D figurine on a busy two-core CI machine (other test files
    # render beside it) can take longer than the default 20 s; what is checked is that it is finished, not how fast.
    process = await _minime_telegram(fake, tmp_path / "data", MINIME_MAX_CONCURRENT_JOBS="1",
                                     MINIME_SHUTDOWN_GRACE_S="90")
    try:
        await fake.wait_for(lambda: fake.sent("setMyCommands"), timeout=90)
        await selfie(fake, astronaut_jpeg)
        await selfie(fake, astronaut_jpeg, user=BOB)
        mark = len(fake.calls)
        await fake.send_text(ALICE, "/figurine Ada")
        # Updates are handled concurrently: Bob asks once Alice's job is in, so hers is the one running.
        await fake.wait_for(lambda: any(c.params.get("chat_id") == ALICE
                                        and c.method in ("sendMessage", "sendChatAction")
                                        for c in fake.calls[mark:]), timeout=60)
        await fake.send_text(BOB, "/popart")
        await fake.wait_for(lambda: any(c.method == "editMessageText" and c.params.get("chat_id") == BOB
                                        and ("queue" in c.params["text"] or "next" in c.params["text"])
                                        for c in fake.calls[mark:]), timeout=60)
    finally:
        code, log, _ = await _stop(process, timeout=150)
    assert code == 0, log[-3000:]
    assert _delivered(fake, ALICE, mark), f"the picture being rendered at SIGTERM was finished and sent: {log[-3000:]}"
    assert not _delivered(fake, BOB, mark), "the queued one waits for the next start"
    assert TOKEN not in log

    restarted = await _minime_telegram(fake, tmp_path / "data")
    try:
        photo = await fake.wait_for(lambda: next(iter(_delivered(fake, BOB, mark)), None), timeout=120)
        assert photo.files["photo"]
    finally:
        code, log, _ = await _stop(restarted)
    assert code == 0, log[-3000:]


@pytest.mark.timeout(300)
async def test_sigterm_stops_the_bot_while_telegram_is_unreachable(fake: FakeTelegram, tmp_path: Path,
                                                                   astronaut_jpeg: bytes) -> None:
    process = await _minime_telegram(fake, tmp_path / "data", MINIME_SHUTDOWN_GRACE_S="10")
    try:
        await fake.wait_for(lambda: fake.sent("setMyCommands"), timeout=90)
        await selfie(fake, astronaut_jpeg)
        mark = len(fake.calls)
        await fake.send_text(ALICE, "/popart")
        await fake.wait_for(lambda: any(c.params.get("chat_id") == ALICE and c.method == "sendChatAction"
                                        for c in fake.calls[mark:]), timeout=60)
        fake.cut_off()
        await asyncio.sleep(1)
    finally:
        code, log, seconds = await _stop(process, timeout=90)
        fake.reconnect()
    assert code == 0, log[-3000:]
    assert seconds < 60, f"stopped after {seconds:.0f} s"
    assert "Traceback" not in log, log[-3000:]


async def test_forget_during_a_render_leaves_no_file(bot: RunningBot, fake: FakeTelegram, tg_settings: Settings,
                                                     astronaut_jpeg: bytes) -> None:
    from minime.core.domain import UserKey
    from minime.core.store import BlobStore

    await selfie(fake, astronaut_jpeg)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/figurine Ada")
    while not bot.studio.runner.running_count:  # the render has started (progress edits are paced, so not seen)
        await asyncio.sleep(0.05)
    mark = len(fake.calls)
    await fake.send_text(ALICE, "/forget")
    confirm = await fake.wait_for_call("sendMessage", ALICE, mark)
    await fake.press(ALICE, confirm.result, buttons(confirm.result)["🗑 Yes, delete everything"])
    await fake.wait_for(lambda: any(c.method == "editMessageText" and "deleted" in c.params.get("text", "")
                                    for c in fake.calls[mark:]))
    assert bot.studio.runner.running_count == 1, "the render was still going when the user was forgotten"
    while bot.studio.runner.running_count:
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    folder = tg_settings.blob_dir / BlobStore.user_folder(UserKey("telegram", str(ALICE)))
    assert not folder.exists() or not list(folder.iterdir()), list(folder.iterdir())
    assert not _delivered(fake, ALICE, mark), "nothing is sent to a user who asked to be forgotten"


@pytest.mark.timeout(900)
async def test_many_users_sending_a_photo_and_a_command_back_to_back_all_get_their_picture(
        fake: FakeTelegram, tg_settings: Settings, astronaut_jpeg: bytes) -> None:
    tg_settings.work_size = 256
    tg_settings.max_concurrent_jobs = 4
    running = await Bot(tg_settings).start()
    users = list(range(1001, 1011))
    try:
        mark = len(fake.calls)
        for user in users:
            await fake.send_photo(user, astronaut_jpeg)
            await fake.send_text(user, "/popart")
        for user in users:
            try:
                await fake.wait_for(lambda user=user: _delivered(fake, user, mark), timeout=600)
            except TimeoutError:
                said = [(c.method, c.params.get("text")) for c in fake.calls[mark:] if c.params.get("chat_id") == user]
                raise AssertionError(f"user {user} got no picture: {said}") from None
    finally:
        await running.stop()
    lost = [c for c in fake.calls[mark:] if "selfie first" in str(c.params.get("text", ""))
            and not _delivered(fake, c.params.get("chat_id"), mark)]
    assert not lost


async def test_a_webhook_without_a_configured_secret_still_refuses_forged_updates(tg_settings: Settings,
                                                                                 fake: FakeTelegram) -> None:
    import json
    import socket

    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tg_settings.telegram_webhook_url, tg_settings.telegram_webhook_port = f"http://127.0.0.1:{port}/hook", port
    running = await Bot(tg_settings).start()
    try:
        secret = fake.sent("setWebhook")[0].params.get("secret_token")
        assert secret and len(secret) >= 32, "a random secret is generated and given to Telegram"
        forged = {"update_id": 1, "message": {"message_id": 5, "date": 0, "chat": {"id": ALICE, "type": "private"},
                                              "from": {"id": ALICE, "is_bot": False, "first_name": "A"},
                                              "text": "/start"}}
        async with aiohttp.ClientSession() as client:
            async with client.post(tg_settings.telegram_webhook_url, data=json.dumps(forged),
                                   headers={"Content-Type": "application/json"}) as r:
                assert r.status == 403
    finally:
        await running.stop()
