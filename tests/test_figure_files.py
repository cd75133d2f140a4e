"""The figure turns and prints: `minime render --turntable/--mesh`, and the 🔄 Turn and 🧊 3D file buttons on
Telegram, Discord and the playground, each with its real client library against the local fakes.

The chat tests make small loops (settings: 160 px, 8 frames) to stay quick; the CLI test checks what users get by
default (≥ 24 frames, ≥ 480 px, 2–6 s).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import trimesh
from pydantic import SecretStr

from minime.bots.discord_bot.bot import DiscordRunner
from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.domain import Done, UserKey
from minime.core.errors import NoFigure, NotYours
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import Recorder, RunningBot, browser_client
from tests.fake_discord import FakeDiscord, buttons, gallery_of
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ALICE, BOB = 111, 222
SMALL_LOOP = {"turntable_size": 160, "turntable_frames": 8, "turntable_seconds": 2.0}


def video_facts(data: bytes) -> tuple[int, tuple[int, int], float, str]:
    """Frames, (width, height), seconds and codec of an MP4, as a decoder reads them."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        seconds = float(stream.duration * stream.time_base) if stream.duration else len(frames) / float(
            stream.average_rate)
        assert not container.streams.audio, "an animation has no sound"
        return len(frames), (stream.width, stream.height), seconds, stream.codec_context.name


def mesh_of(data: bytes, fmt: str) -> trimesh.Trimesh:
    """The one solid in a mesh file."""
    loaded = trimesh.load(io.BytesIO(data), file_type=fmt, force="mesh")
    assert isinstance(loaded, trimesh.Trimesh) and len(loaded.faces) > 100
    return loaded


def assert_printable(mesh: trimesh.Trimesh, height_mm: float) -> None:
    assert mesh.is_watertight, "one closed solid a slicer can print"
    low, high = mesh.bounds
    up = int(np.argmax(high - low)) if abs(low[1]) < 1e-3 or abs(low[2]) < 1e-3 else 2
    assert abs(low[up]) < 0.5 and abs((high - low)[up] - height_mm) < 0.5, (mesh.bounds, height_mm)


# ---- the command line -----------------------------------------------------------------------------------------------


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "minime.core.cli", "render", *args], capture_output=True, text=True,
                          env=env, timeout=240, cwd=tmp_path)


def test_render_writes_a_looping_turntable_and_a_printable_mesh(tmp_path: Path) -> None:
    obama = str(ROOT / "tests" / "data" / "obama.jpg")
    done = _cli(tmp_path, obama, "-t", "figurine", "--name", "Ada", "--seed", "7", "-o", "still.jpg",
                "--turntable", "turn.mp4", "--mesh", "figure.glb", "--height-mm", "80")
    assert done.returncode == 0, done.stderr
    frames, (width, height), seconds, codec = video_facts((tmp_path / "turn.mp4").read_bytes())
    assert codec == "h264" and frames >= 24 and min(width, height) >= 480 and 2.0 <= seconds <= 6.0
    assert_printable(mesh_of((tmp_path / "figure.glb").read_bytes(), "glb"), 80.0)

    done = _cli(tmp_path, obama, "-t", "actionfigure", "--name", "Ada", "-o", "still2.jpg", "--mesh", "figure.stl")
    assert done.returncode == 0, done.stderr
    assert_printable(mesh_of((tmp_path / "figure.stl").read_bytes(), "stl"), 100.0)


def test_a_look_without_a_figure_refuses_turntable_and_mesh_clearly(tmp_path: Path) -> None:
    obama = str(ROOT / "tests" / "data" / "obama.jpg")
    done = _cli(tmp_path, obama, "-t", "retro-80s", "-o", "still.jpg", "--turntable", "turn.mp4")
    assert done.returncode != 0 and "no 3D figure" in done.stderr and not (tmp_path / "turn.mp4").exists()
    done = _cli(tmp_path, obama, "-t", "figurine", "--name", "A", "-o", "still.jpg", "--mesh", "figure.obj")
    assert done.returncode != 0 and ".glb" in done.stderr


# ---- the service: owner only, cached, gone with the result and the user -------------------------------------------


@pytest.fixture()
def small_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", job_lease_s=1.0, _env_file=None, **SMALL_LOOP)


async def _result_of(studio: Studio, user: UserKey, selfie: bytes, command: str, argument: str | None = None) -> str:
    recorder = Recorder()
    studio.subscribe(user.platform, recorder)
    await studio.receive_selfie(user, selfie)
    job = await studio.apply_theme(user, command, argument)
    done = await recorder.wait_for(job.id, 120)
    assert isinstance(done, Done), done
    return done.result.id


async def test_figure_files_are_the_owners_made_once_and_deleted_with_the_result(
        small_settings: Settings, astronaut_jpeg: bytes, no_person_png: bytes) -> None:
    from minime.core.app import build_studio

    studio = build_studio(small_settings)
    await studio.start()
    try:
        alice, bob = UserKey("test", "alice"), UserKey("test", "bob")
        result_id = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        started = time.perf_counter()
        loop = await studio.figure_file(alice, result_id, "turntable")
        first_s = time.perf_counter() - started
        assert loop.mime == "video/mp4" and loop.filename.endswith(".mp4") and "turning" in loop.caption
        assert video_facts(loop.data)[:2] == (8, (160, 160))
        started = time.perf_counter()
        again = await studio.figure_file(alice, result_id, "turntable")
        assert again.data == loop.data and time.perf_counter() - started < min(0.5, first_s / 3), "cached"
        mesh = await studio.figure_file(alice, result_id, "mesh")
        assert mesh.mime == "model/gltf-binary" and mesh.filename.endswith(".glb")
        assert_printable(mesh_of(mesh.data, "glb"), 100.0)
        with pytest.raises(NotYours):
            await studio.figure_file(bob, result_id, "mesh")

        result = await studio.store.get_result(result_id)
        kept = [k for k in studio.figures.cache_keys(result.base_key) if studio.blobs.exists(k)]
        assert len(kept) == 2
        await studio.sweep(now=studio.store.clock() + small_settings.result_ttl_hours * 3600 + 60)
        assert not any(studio.blobs.exists(k) for k in kept), "the figure files expire with the result"

        retro = await _result_of(studio, alice, astronaut_jpeg, "retro", "80s")
        with pytest.raises(NoFigure, match="no 3D figure"):
            await studio.figure_file(alice, retro, "turntable")
        cup = await _result_of(studio, alice, no_person_png, "figurine", "Ada")
        with pytest.raises(NoFigure, match="face"):  # a toy look of a photo with nobody in it
            await studio.figure_file(alice, cup, "turntable")
        figurine = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        await studio.figure_file(alice, figurine, "mesh")
        await studio.forget(alice)
        assert not list(small_settings.blob_dir.glob("*/*.figure.*")), "/forget deletes the figure files too"
    finally:
        await studio.stop()


async def test_on_the_hosted_engine_the_buttons_build_the_classic_figure_of_the_same_selfie(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    """A generated 2D picture has no geometry: the figure comes from figure3d, here, with no call to the model."""
    from minime.core.app import build_studio
    from tests.fake_hosted import FakeGemini

    fake = FakeGemini("minime-test-key-3f9a7c1e5b2d4a68")
    root = await fake.start()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", job_lease_s=30.0, engine="hosted",
                        hosted_provider="gemini", hosted_api_key=fake.key, hosted_base_url=root,
                        identity_check=False, **SMALL_LOOP)
    studio = build_studio(settings)
    await studio.start()
    try:
        alice = UserKey("test", "alice")
        result_id = await _result_of(studio, alice, astronaut_jpeg, "figurine", "Ada")
        asked = len(fake.attempts)
        loop = await studio.figure_file(alice, result_id, "turntable")
        mesh = await studio.figure_file(alice, result_id, "mesh")
        assert video_facts(loop.data)[:2] == (8, (160, 160))
        assert_printable(mesh_of(mesh.data, "glb"), 100.0)
        assert len(fake.attempts) == asked, "the figure is built here, not asked of the hosted model"
    finally:
        await studio.stop()
        await fake.stop()


# ---- Telegram -------------------------------------------------------------------------------------------------------


@pytest.fixture()
async def telegram():
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


def _keys(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row}


async def test_telegram_turn_sends_an_animation_and_3d_file_a_glb(tmp_path: Path, telegram: FakeTelegram,
                                                                   astronaut_jpeg: bytes) -> None:
    settings = Settings(data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN), telegram_api_root=telegram.root,
                        job_lease_s=2.0, _env_file=None, **SMALL_LOOP)
    bot = await RunningBot(settings, TelegramRunner).start()
    try:
        group = telegram.add_group()
        mark = len(telegram.calls)
        await telegram.send_photo(ALICE, astronaut_jpeg, caption="/figurine Ada", chat=group["id"])
        result = (await telegram.wait_for_call("sendPhoto", group["id"], mark)).result
        keys = _keys(result)
        turn = next(data for label, data in keys.items() if "Turn" in label)
        file = next(data for label, data in keys.items() if "3D file" in label)

        mark = len(telegram.calls)
        query = await telegram.press(BOB, result, turn)
        await telegram.wait_for(lambda: any(c.method == "answerCallbackQuery" and c.params["callback_query_id"]
                                            == query for c in telegram.calls[mark:]))
        note = next(c for c in telegram.calls[mark:] if c.method == "answerCallbackQuery")
        assert "someone else" in note.params["text"], "only the picture's owner may press its buttons in a group"

        mark = len(telegram.calls)
        query = await telegram.press(ALICE, result, turn)
        animation = await telegram.wait_for_call("sendAnimation", group["id"], mark)
        assert any(c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query
                   for c in telegram.calls[mark:])
        assert any(c.method == "sendChatAction" and c.params["action"] == "upload_video"
                   for c in telegram.calls[mark:])
        assert animation.filenames["animation"].endswith(".mp4") and "turning" in animation.params["caption"]
        frames, size, _, codec = video_facts(animation.files["animation"])
        assert (frames, size, codec) == (8, (160, 160), "h264")

        mark = len(telegram.calls)
        await telegram.press(ALICE, result, file)
        document = await telegram.wait_for_call("sendDocument", group["id"], mark)
        assert document.filenames["document"].endswith(".glb") and "3D file" in document.params["caption"]
        assert_printable(mesh_of(document.files["document"], "glb"), 100.0)

        # A day later the selfie is gone: a file made already still comes (kept with the result), one never made
        # can't be, and the presser alone is told why.
        await bot.studio.sweep(now=bot.studio.store.clock() + settings.selfie_ttl_hours * 3600 + 60)
        mark = len(telegram.calls)
        await telegram.press(ALICE, result, turn)
        again = await telegram.wait_for_call("sendAnimation", group["id"], mark)
        assert again.files["animation"] == animation.files["animation"]
        for key in bot.studio.figures.cache_keys((await bot.studio.store.get_result(
                turn.split(":")[1])).base_key):
            await bot.studio.blobs.delete(key)
        mark = len(telegram.calls)
        await telegram.press(ALICE, result, file)
        told = await telegram.wait_for(lambda: next((c for c in telegram.calls[mark:] if "expired" in str(
            c.params.get("text", ""))), None))
        assert told.method != "sendDocument" and not telegram.sent("sendDocument")[1:]
    finally:
        await bot.stop()


# ---- Discord --------------------------------------------------------------------------------------------------------


async def discord_card(fake: FakeDiscord, command: str, photo: bytes) -> dict:
    """Alice's /``command`` Ada with ``photo`` through the fake Discord: the bot's card (picture and buttons)."""
    mark = len(fake.calls)
    await fake.slash(ALICE, command, {"name": "Ada"}, attachment=fake.attachment(photo))
    await fake.wait_for_image(mark)
    return max((m for m in fake.messages.values() if m["author"]["bot"] and m.get("components")),
               key=lambda m: int(m["id"]))


async def test_discord_turn_and_3d_file_arrive_as_attachments(tmp_path: Path, discord_fake: FakeDiscord,
                                                              astronaut_jpeg: bytes) -> None:
    fake = discord_fake
    settings = Settings(data_dir=tmp_path / "data", discord_token=SecretStr("fake.discord.token"), job_lease_s=2.0,
                        _env_file=None, **SMALL_LOOP)
    bot = await RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1)).start()
    try:
        message = await discord_card(fake, "actionfigure", astronaut_jpeg)
        assert gallery_of(message) == [message["attachments"][0]["url"]], "the picture sits in its card"
        labels = [c["label"] for c in buttons(message)]
        turn = next(label for label in labels if "Turn" in label)
        file = next(label for label in labels if "3D file" in label)

        for label, suffix in ((turn, ".mp4"), (file, ".glb")):
            mark = len(fake.calls)
            await fake.press(ALICE, message, label)
            upload = await fake.wait_for_image(mark)
            callback = next(c for c in fake.calls[mark:] if c.path.endswith("/callback"))
            assert callback.payload["type"] == 5, "deferred first: a figure takes seconds"
            assert upload.payload["attachments"][0]["filename"].endswith(suffix)
            data = next(iter(upload.files.values()))
            if suffix == ".mp4":
                assert video_facts(data)[:2] == (8, (160, 160))
            else:
                assert_printable(mesh_of(data, "glb"), 100.0)
    finally:
        await bot.stop()


# ---- the playground -------------------------------------------------------------------------------------------------


@pytest.fixture()
def settings(small_settings: Settings) -> Settings:
    """The conftest's studio and playground fixtures, with small loops."""
    return small_settings


async def _web_result(client, web: str, selfie: bytes, command: str) -> str:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("photo", selfie, filename="me.jpg", content_type="image/jpeg")
    async with client.post(f"{web}/api/selfie", data=form) as r:
        assert r.status == 200
    async with client.post(f"{web}/api/message", json={"text": command}) as r:
        job = (await r.json())["job"]
    async with client.get(f"{web}/api/events") as events:
        async for line in events.content:
            if line.startswith(b"data:") and b'"done"' in line and job.encode() in line:
                payload = json.loads(line[5:])
                assert {"turn", "3d file"} <= {b["id"] for b in payload["buttons"] if b.get("sends")} or \
                    command.startswith("/retro")
                return payload["result"]
    raise AssertionError("no result")


async def test_playground_serves_the_loop_and_the_glb_to_their_owner_only(web: str, astronaut_jpeg: bytes) -> None:
    async with browser_client() as alice, browser_client() as mallory:
        result = await _web_result(alice, web, astronaut_jpeg, "/figurine Ada")
        async with alice.get(f"{web}/api/figure/{result}/turntable") as r:
            assert r.status == 200 and r.content_type == "video/mp4"
            assert video_facts(await r.read())[:2] == (8, (160, 160))
        async with alice.get(f"{web}/api/figure/{result}/mesh?download=1") as r:
            assert r.status == 200 and r.content_type == "model/gltf-binary"
            assert ".glb" in r.headers["Content-Disposition"]
            assert_printable(mesh_of(await r.read(), "glb"), 100.0)
        async with mallory.get(f"{web}/api/figure/{result}/mesh") as r:
            assert r.status == 404 and "can't find" in (await r.json())["messages"][0]["text"]
        retro = await _web_result(alice, web, astronaut_jpeg, "/retro 80s")
        async with alice.get(f"{web}/api/figure/{retro}/turntable") as r:
            assert r.status == 422 and "no 3D figure" in (await r.json())["messages"][0]["text"]
        async with alice.get(f"{web}/static/vendor/model-viewer.min.js") as r:
            assert r.status == 200 and "model-viewer" in await r.text()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
async def test_in_the_browser_the_figure_turns_and_opens_in_the_3d_viewer(web: str, tmp_path: Path,
                                                                          astronaut_jpeg: bytes) -> None:
    from playwright.async_api import async_playwright

    selfie = tmp_path / "astronaut.jpg"
    selfie.write_bytes(astronaut_jpeg)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1300})
            external, problems = [], []
            page.on("request", lambda r: external.append(r.url) if not r.url.startswith((web, "blob:", "data:"))
                    else None)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            await page.goto(web)
            await page.set_input_files("#file", str(selfie))
            await page.wait_for_selector("text=Got your selfie")
            await page.fill("#text", "/figurine Ada")
            await page.press("#text", "Enter")
            await page.wait_for_selector("img.result", timeout=60_000)

            await page.click("button[data-action=turn]")
            video = page.locator("video.turntable")
            await video.wait_for(timeout=60_000)
            while not await video.evaluate("v => v.readyState >= 2 && v.videoWidth > 0"):
                await page.wait_for_timeout(100)
            assert await video.evaluate("v => v.loop && v.muted && v.autoplay && v.playsInline")
            assert await video.evaluate("v => v.videoWidth") == 160

            await page.click("button[data-action='3d file']")
            viewer = page.locator("model-viewer")
            await viewer.wait_for(timeout=60_000)
            for _ in range(300):
                if await viewer.evaluate("v => v.loaded"):
                    break
                await page.wait_for_timeout(100)
            assert await viewer.evaluate("v => customElements.get('model-viewer') !== undefined && v.loaded")
            assert await page.locator("a[href*='/mesh?download=1']").count() == 1
            await page.wait_for_timeout(500)
            await page.screenshot(path=str(tmp_path / "figure.png"))
            assert not external, f"the page must not load anything from outside: {external}"
            assert not [p for p in problems if "Content Security Policy" in p], problems
        finally:
            await browser.close()
