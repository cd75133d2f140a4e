"""Cancel, with the real python-telegram-bot against the fake Bot API and a hosted model (the real ``openai`` SDK
against the fake OpenAI API) that takes its time: a job waiting behind a slow one shows a Cancel button; pressing it
stops the job, says so, delivers nothing and leaves the day's images unspent; only the job's owner can cancel it;
/cancel abandons a running hosted call. Then the store and runner underneath: a classic render in its thread stops
at its next progress report."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import Cancelled, JobState, UserKey
from minime.core.errors import NothingToCancel, NotYourJob
from minime.core.jobs import JobCancelled, JobRunner
from minime.core.quotas import chat_subject, user_subject
from minime.core.settings import Settings
from tests.conftest import Recorder, RunningBot, midday_clock
from tests.fake_hosted import FakeOpenAI
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
KEY = "minime-test-key-cancel-0b1c2d3e"
GROUP = -1001234567890
ADA, BO = 301, 302


@pytest.fixture()
async def fakes():
    telegram, model = FakeTelegram(TOKEN), FakeOpenAI(KEY)
    await telegram.start()
    root = await model.start()
    telegram.add_group(GROUP, "Cancel club")
    yield telegram, model, root
    await model.stop()
    await telegram.stop()


def _settings(tmp_path: Path, telegram: FakeTelegram, root: str) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN),
                    telegram_api_root=telegram.root, engine="hosted", hosted_provider="openai", hosted_api_key=KEY,
                    hosted_base_url=root + "/v1", max_concurrent_jobs=1, job_lease_s=30.0, daily_quota=1,
                    chat_daily_quota=10)


def _cancel_button(message: dict) -> str | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for key in row:
            if "Cancel" in key["text"]:
                return key["callback_data"]
    return None


async def _status_with_cancel(telegram: FakeTelegram, mark: int) -> dict:
    """The bot's status line in the group, edited since ``mark`` to carry a Cancel button."""
    def find() -> dict | None:
        for call in telegram.calls[mark:]:
            if call.method == "editMessageText" and call.params.get("chat_id") == GROUP \
                    and isinstance(call.result, dict) and _cancel_button(call.params):
                return telegram.messages[(GROUP, call.result["message_id"])]
        return None
    return await telegram.wait_for(find, 30)


async def _answer_to(telegram: FakeTelegram, query_id: str) -> str:
    call = await telegram.wait_for(lambda: next((c for c in telegram.calls if c.method == "answerCallbackQuery"
                                                 and c.params["callback_query_id"] == query_id), None), 30)
    return call.params.get("text", "")


async def test_cancel_a_waiting_and_a_running_job_nothing_delivered_nothing_counted(
        tmp_path: Path, fakes, astronaut_jpeg: bytes) -> None:
    telegram, model, root = fakes
    model.delay_s = 6.0  # the hosted model takes its time: Ada's job holds the only render slot
    bot = await RunningBot(_settings(tmp_path, telegram, root), TelegramRunner, clock=midday_clock).start()
    store, ada, bo = bot.studio.store, UserKey("telegram", str(ADA)), UserKey("telegram", str(BO))
    try:
        mark = len(telegram.calls)
        await telegram.send_photo(ADA, astronaut_jpeg, caption="/popart", chat=GROUP)
        await model.wait_for(lambda: model.in_flight == 1 or None, 30)
        ada_status = await _status_with_cancel(telegram, mark)  # a running job can be cancelled too

        mark = len(telegram.calls)
        await telegram.send_photo(BO, astronaut_jpeg, caption="/popart", chat=GROUP)
        bo_status = await _status_with_cancel(telegram, mark)
        assert "next" in bo_status["text"] or "queue" in bo_status["text"], bo_status["text"]
        bo_job = await store.active_job(bo)
        assert bo_job is not None and bo_job.state is JobState.QUEUED
        assert (await store.usage_of(user_subject(bo)))[0] == 1, "a queued render has taken its image"

        # Ada taps Bo's Cancel: a polite no, and Bo's job waits on
        query = await telegram.press(ADA, bo_status, _cancel_button(bo_status))
        assert "Only the person who asked" in await _answer_to(telegram, query)
        assert (await store.get_job(bo_job.id)).state is JobState.QUEUED

        # Bo taps his own: the job is off, the line says so (its button gone), his image is back
        query = await telegram.press(BO, bo_status, _cancel_button(bo_status))
        await _answer_to(telegram, query)
        await telegram.wait_for(lambda: "Cancelled" in telegram.messages[(GROUP, bo_status["message_id"])]["text"]
                                or None, 30)
        assert _cancel_button(telegram.messages[(GROUP, bo_status["message_id"])]) is None
        assert (await store.get_job(bo_job.id)).state is JobState.CANCELLED
        assert (await store.usage_of(user_subject(bo)))[0] == 0, "a cancelled job counts no image"

        # Ada sends /cancel while the model is still drawing: the call is abandoned at once
        ada_job = await store.active_job(ada)
        started = time.monotonic()
        await telegram.send_text(ADA, "/cancel", chat=GROUP)
        await telegram.wait_for(lambda: "Cancelled" in telegram.messages[(GROUP, ada_status["message_id"])]["text"]
                                or None, 30)
        await telegram.wait_for(lambda: bot.studio.runner.running_count == 0 or None, 10)
        assert time.monotonic() - started < model.delay_s, "the hosted call was abandoned, not waited for"
        assert (await store.get_job(ada_job.id)).state is JobState.CANCELLED
        assert (await store.usage_of(user_subject(ada)))[0] == 0
        assert (await store.usage_of(chat_subject(f"telegram:{GROUP}")))[0] == 0, "nor against the group's"

        await asyncio.sleep(model.delay_s + 1)  # the model's answer would have come by now
        assert not telegram.sent("sendPhoto", GROUP), "a cancelled job delivers nothing"
        assert (await store.get_job(bo_job.id)).state is JobState.CANCELLED, "a cancelled job never runs"

        # Bo's one image of the day was given back: he still gets a picture
        model.delay_s = 0.0
        mark = len(telegram.calls)
        await telegram.send_text(BO, "/retro 70s", chat=GROUP)
        await telegram.wait_for_call("sendPhoto", GROUP, mark, timeout=60)

        # nothing left to cancel
        mark = len(telegram.calls)
        await telegram.send_text(BO, "/cancel", chat=GROUP)
        answer = await telegram.wait_for(lambda: next((m for m in telegram.ephemeral if "nothing" in m["text"]
                                                       and m["receiver_user"]["id"] == BO), None), 30)
        assert answer["chat"]["id"] == GROUP
    finally:
        await bot.stop()


async def test_only_the_owner_cancels_and_a_classic_render_stops_at_its_next_progress_report(
        studio, recorder: Recorder, alice: UserKey, astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    job = await studio.apply_theme(alice, "figurine", "Ada")
    with pytest.raises(NotYourJob):
        await studio.cancel(UserKey("test", "mallory"), job.id)
    await studio.cancel(alice, job.id)
    ended = await recorder.wait_for(job.id)
    assert isinstance(ended, Cancelled) and "Cancelled" in ended.reason
    with pytest.raises(NothingToCancel):
        await studio.cancel(alice, job.id)
    await asyncio.sleep(1.0)
    assert not [e for e in recorder.of(job.id) if type(e).__name__ == "Done"], "nothing is delivered"
    assert (await studio.store.get_job(job.id)).state is JobState.CANCELLED


async def test_a_cancelled_jobs_progress_callback_stops_its_thread(settings: Settings) -> None:
    """The runner's progress callback raises in the render's thread once its job is cancelled."""
    from minime.core.store import Store

    store = Store(settings.resolved_database_url)
    await store.migrate()
    execute, reports, stopped = _slow_render(200)

    runner = JobRunner(store, execute, lambda event: None, settings, owner="test")
    await runner.start()
    try:
        from minime.core.domain import Job, JobKind, RenderParams, new_id

        job = Job(new_id(), UserKey("test", "t"), JobKind.THEME, "popart", RenderParams(), JobState.QUEUED)
        await store.enqueue(job, rate_limit=100, rate_window_s=60)
        runner.wake()
        await asyncio.wait_for(_until(lambda: len(reports) > 5), 10)
        assert await store.cancel_job(job.id, job.user) is not None
        assert runner.cancel(job.id)
        await asyncio.wait_for(stopped.wait(), 5)
        assert len(reports) < 200, "the thread stopped early"
    finally:
        await runner.stop()
        await store.close()


async def test_a_job_cancelled_through_another_front_end_stops_here_at_the_next_heart_beat(
        settings: Settings) -> None:
    """Two processes share the database: the one rendering sees the job's row say cancelled at its next heart-beat
    and stops the render (its progress callback raises in the thread)."""
    from minime.core.domain import Job, JobKind, RenderParams, new_id
    from minime.core.store import Store

    here, there = Store(settings.resolved_database_url), Store(settings.resolved_database_url)
    await here.migrate()
    execute, reports, stopped = _slow_render(1000)

    runner = JobRunner(here, execute, lambda event: None, settings, owner="front-end-1")
    await runner.start()
    try:
        job = Job(new_id(), UserKey("test", "t"), JobKind.THEME, "popart", RenderParams(), JobState.QUEUED)
        await here.enqueue(job, rate_limit=100, rate_window_s=60)
        runner.wake()
        await asyncio.wait_for(_until(lambda: len(reports) > 5), 10)
        assert await there.cancel_job(job.id, job.user) is not None  # the other front end's Cancel
        await asyncio.wait_for(stopped.wait(), 5 * settings.job_lease_s)
        assert len(reports) < 1000 and runner.running_count == 0
    finally:
        await runner.stop()
        await here.close()
        await there.close()


def _slow_render(steps: int):
    """A job executor whose render reports progress ``steps`` times in a worker thread (10 ms apart) and sets the
    returned event when its progress callback stops it (JobCancelled). Returns (execute, reports, stopped)."""
    reports: list[int] = []
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def render(progress) -> None:
        try:
            for step in range(steps):
                progress(step / steps)
                reports.append(step)
                time.sleep(0.01)
        except JobCancelled:
            loop.call_soon_threadsafe(stopped.set)

    async def execute(job, progress):
        await asyncio.to_thread(render, progress)

    return execute, reports, stopped


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)


# ---- Discord: the same with discord.py against the fake Discord ------------------------------------------------------

GUILD, CHANNEL = 880000000000000011, 880000000000000012
DADA, DBO = 5301, 5302


async def test_discord_a_waiting_job_shows_a_persistent_cancel_button_only_its_owner_can_use(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    from minime.bots.discord_bot.bot import DiscordRunner
    from tests.fake_discord import FakeDiscord, patch_discord

    discord_fake, model = FakeDiscord(), FakeOpenAI(KEY)
    await discord_fake.start()
    patch_discord(discord_fake)
    root = await model.start()
    model.delay_s = 6.0
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", discord_token=SecretStr("fake.discord.token"),
                        engine="hosted", hosted_provider="openai", hosted_api_key=KEY, hosted_base_url=root + "/v1",
                        max_concurrent_jobs=1, job_lease_s=30.0, daily_quota=1)
    bot = await RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1),
                           clock=midday_clock).start()
    await discord_fake.add_guild(GUILD, CHANNEL)
    store, ada, bo = bot.studio.store, UserKey("discord", str(DADA)), UserKey("discord", str(DBO))

    def status_of(interaction: dict) -> dict:
        return discord_fake.messages[discord_fake._originals[interaction["token"]]]

    def has_cancel(message: dict) -> bool:
        return any(c.get("label", "").endswith("Cancel") for row in message.get("components") or []
                   for c in row.get("components", []))

    try:
        photo = discord_fake.attachment(astronaut_jpeg)
        first = await discord_fake.slash(DADA, "popart", attachment=photo, channel=CHANNEL)
        await model.wait_for(lambda: model.in_flight == 1 or None, 30)
        second = await discord_fake.slash(DBO, "popart", attachment=discord_fake.attachment(astronaut_jpeg),
                                          channel=CHANNEL)
        await discord_fake.wait_for(lambda: second["token"] in discord_fake._originals
                                    and has_cancel(status_of(second)) or None, 30)
        bo_job = await store.active_job(bo)
        assert bo_job.state is JobState.QUEUED
        custom_id = next(c["custom_id"] for row in status_of(second)["components"] for c in row["components"])
        assert len(custom_id) <= 100 and custom_id.startswith("mm:x:")

        mark = len(discord_fake.calls)
        await discord_fake.press(DADA, status_of(second), "✖️ Cancel", channel=CHANNEL)
        refusal = await discord_fake.wait_for(lambda: next((c.payload["data"] for c in discord_fake.calls[mark:]
                                                            if c.path.endswith("/callback")), None), 30)
        assert "Only the person who asked" in refusal["content"] and refusal["flags"] & 64, "ephemeral"
        assert (await store.get_job(bo_job.id)).state is JobState.QUEUED

        await discord_fake.press(DBO, status_of(second), "✖️ Cancel", channel=CHANNEL)
        await discord_fake.wait_for(lambda: "Cancelled" in status_of(second)["content"] or None, 30)
        assert not has_cancel(status_of(second))
        assert (await store.get_job(bo_job.id)).state is JobState.CANCELLED
        assert (await store.usage_of(user_subject(bo)))[0] == 0

        await discord_fake.slash(DADA, "cancel", channel=CHANNEL)
        await discord_fake.wait_for(lambda: "Cancelled" in status_of(first)["content"] or None, 30)
        assert (await store.usage_of(user_subject(ada)))[0] == 0
        await asyncio.sleep(model.delay_s + 1)
        assert not [c for c in discord_fake.calls if c.files], "a cancelled job delivers nothing"
    finally:
        await bot.stop()
        await model.stop()
        await discord_fake.stop()


async def test_a_cancelled_diffusion_render_stops_at_its_next_step(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    """A tiny Stable Diffusion pipeline saved here, 100 steps: cancelled after its first steps, the pipeline call ends
    at its next step (the step callback raises); the UNet's calls are counted to see it."""
    pytest.importorskip("diffusers")
    from minime.core.app import build_studio
    from minime.core.domain import Rendering
    from tests import tiny_diffusion

    model = tiny_diffusion.save_sd(tmp_path / "tiny-sd")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", engine="diffusion", diffusion_model=str(model),
                        diffusion_resolution=64, diffusion_steps=100, render_timeout_s=600, job_lease_s=60.0)
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    recorder = Recorder()
    studio.subscribe("test", recorder)
    steps: list[float] = []
    (await studio.engine.load()).pipe.unet.register_forward_hook(lambda *_: steps.append(time.monotonic()))
    try:
        user = UserKey("test", "kim")
        await studio.receive_selfie(user, astronaut_jpeg)
        job = await studio.apply_theme(user, "popart")
        await asyncio.wait_for(_until(lambda: any(isinstance(e, Rendering) and e.percent >= 10
                                                  for e in recorder.of(job.id))), 300)
        await studio.cancel(user, job.id)
        at_cancel = len(steps)
        await asyncio.wait_for(_until(lambda: not studio.engine._pipe_lock.locked()), 120)
        assert isinstance(await recorder.wait_for(job.id), Cancelled)
        assert len(steps) <= at_cancel + 2, f"{len(steps) - at_cancel} more steps ran after the cancel"
        assert len(steps) < 20, f"{len(steps)} of the schedule's steps ran"
        await asyncio.sleep(0.5)
        assert not [e for e in recorder.of(job.id) if type(e).__name__ in ("Done", "Failed")
                    and not isinstance(e, Cancelled)]
        assert (await studio.store.get_job(job.id)).state is JobState.CANCELLED
    finally:
        await studio.stop()


# ---- the playground: the same through its HTTP API, with the real aiohttp client -------------------------------------


async def test_playground_cancel_button_and_command_call_off_only_the_sessions_own_job(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    import json

    import aiohttp

    from minime.bots.web.server import start_web
    from minime.core.app import build_studio
    from tests.conftest import browser_client, free_port

    model = FakeOpenAI(KEY)
    root = await model.start()
    model.delay_s = 6.0
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", engine="hosted", hosted_provider="openai",
                        hosted_api_key=KEY, hosted_base_url=root + "/v1", max_concurrent_jobs=1, job_lease_s=30.0,
                        daily_quota=1, web_port=free_port())
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    runner = await start_web(studio, settings)
    web = f"http://127.0.0.1:{settings.web_port}"

    async def ask(client: aiohttp.ClientSession, text: str) -> dict:
        async with client.post(f"{web}/api/message", json={"text": text}) as r:
            return await r.json()

    async def cancel(client: aiohttp.ClientSession, job: str) -> dict:
        async with client.post(f"{web}/api/cancel", json={"job": job}) as r:
            assert r.status == 200
            return await r.json()

    async def first_event(client: aiohttp.ClientSession, kind: bytes, job: str) -> dict:
        async with client.get(f"{web}/api/events") as events:
            async for line in events.content:
                if line.startswith(b"data:") and kind in line and job.encode() in line:
                    return json.loads(line[5:])
        raise AssertionError("the event stream ended")

    try:
        async with browser_client() as ada, browser_client() as bo:
            for client in (ada, bo):
                form = aiohttp.FormData()
                form.add_field("photo", astronaut_jpeg, filename="me.jpg", content_type="image/jpeg")
                async with client.post(f"{web}/api/selfie", data=form) as r:
                    assert r.status == 200
            running = (await ask(ada, "/popart"))["job"]
            await model.wait_for(lambda: model.in_flight == 1 or None, 30)
            waiting = (await ask(bo, "/popart"))["job"]
            assert (await studio.store.get_job(waiting)).state is JobState.QUEUED

            refused = await cancel(ada, waiting)
            assert "nothing of yours to cancel" in refused["messages"][0]["text"] and "cancelled" not in refused
            assert (await studio.store.get_job(waiting)).state is JobState.QUEUED, "another session's job stays"

            told = asyncio.create_task(first_event(bo, b'"cancelled"', waiting))
            await asyncio.sleep(0.5)  # the page's event stream is open
            answer = await cancel(bo, waiting)
            assert answer["cancelled"]["job"] == waiting and "Cancelled" in answer["cancelled"]["text"]
            assert "Cancelled" in (await asyncio.wait_for(told, 10))["text"], "the status line hears it too"
            bo_key = (await studio.store.get_job(waiting)).user
            assert (await studio.store.get_job(waiting)).state is JobState.CANCELLED
            assert (await studio.store.usage_of(user_subject(bo_key)))[0] == 0

            answer = await ask(ada, "/cancel")  # typed in the chat: the session's running job
            assert answer["cancelled"]["job"] == running
            job = await studio.store.get_job(running)
            assert job.state is JobState.CANCELLED and (await studio.store.usage_of(user_subject(job.user)))[0] == 0
            assert "nothing of yours to cancel" in (await ask(ada, "/cancel"))["messages"][0]["text"]
            await asyncio.sleep(1.0)
            assert await studio.store.count_results(job.user) == await studio.store.count_results(bo_key) == 0
    finally:
        await runner.cleanup()
        await studio.stop()
        await model.stop()


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="Debian's chromium is not installed (make test installs it)")
async def test_playground_page_shows_cancel_on_the_status_line_and_it_works(tmp_path: Path, astronaut) -> None:
    from playwright.async_api import async_playwright

    from minime.bots.web.server import start_web
    from minime.core.app import build_studio
    from tests.conftest import free_port

    model = FakeOpenAI(KEY)
    root = await model.start()
    model.delay_s = 8.0
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", engine="hosted", hosted_provider="openai",
                        hosted_api_key=KEY, hosted_base_url=root + "/v1", job_lease_s=30.0, daily_quota=1,
                        web_port=free_port())
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    runner = await start_web(studio, settings)
    selfie = tmp_path / "astronaut.png"
    astronaut.save(selfie)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            try:
                page = await browser.new_page(viewport={"width": 900, "height": 900})
                await page.goto(f"http://127.0.0.1:{settings.web_port}")
                await page.wait_for_selector(".theme img")
                await page.set_input_files("#file", str(selfie))
                await page.wait_for_selector("text=Got your selfie")
                await page.fill("#text", "/popart")
                await page.press("#text", "Enter")
                await model.wait_for(lambda: model.in_flight == 1 or None, 30)
                job_id = await page.get_attribute(".msg[data-job]", "data-job", timeout=10_000)
                await page.screenshot(path=str(tmp_path / "waiting.png"))
                await page.click(".msg[data-job] button.cancel", timeout=10_000)
                await page.wait_for_selector(".msg >> text=Cancelled", timeout=10_000)
                await page.screenshot(path=str(tmp_path / "cancelled.png"))
                assert await page.locator(".msg[data-job] button.cancel").count() == 0, "its button goes"
                assert await page.locator(".msg.error").count() == 0, "a cancel is no error"
                await page.wait_for_timeout(1000)
                assert await page.locator("img.result").count() == 0, "nothing is delivered"
                await page.fill("#text", "/cancel")
                await page.press("#text", "Enter")
                await page.wait_for_selector(".msg >> text=nothing of yours to cancel", timeout=10_000)
            finally:
                await browser.close()
        job = await studio.store.get_job(job_id)
        assert job.state is JobState.CANCELLED and (await studio.store.usage_of(user_subject(job.user)))[0] == 0
    finally:
        await runner.cleanup()
        await studio.stop()
        await model.stop()
