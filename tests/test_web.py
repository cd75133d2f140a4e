"""The web playground in a real browser (Debian's Chromium driven by Playwright), plus its HTTP edges."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from minime.bots.web.server import start_web
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import browser_client, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")








@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
async def test_a_newcomer_uses_the_playground_in_a_browser(web: str, tmp_path: Path, astronaut: Image.Image
                                                           ) -> None:
    from playwright.async_api import async_playwright

    selfie = tmp_path / "astronaut.png"
    astronaut.save(selfie)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1300})
            external = []
            local = (web, "blob:", "data:")
            page.on("request", lambda r: external.append(r.url) if not r.url.startswith(local) else None)
            await page.goto(web)
            await page.wait_for_selector(".theme img")
            await page.set_input_files("#file", str(selfie))
            await page.wait_for_selector("text=Got your selfie")
            await page.fill("#text", "/figurine MyName")
            await page.press("#text", "Enter")
            await page.wait_for_selector("img.result", timeout=60_000)
            await page.click("button[data-action=warmer]")
            # Locator waits: the page's Content-Security-Policy forbids eval, which wait_for_function relies on.
            await page.locator("img.result").nth(1).wait_for(timeout=60_000)
            await page.fill("#text", "more grain")
            await page.press("#text", "Enter")
            await page.locator("img.result").nth(2).wait_for(timeout=60_000)
            for i in range(3):
                image = page.locator("img.result").nth(i)
                while not await image.evaluate("i => i.complete && i.naturalWidth > 0"):
                    await page.wait_for_timeout(100)
            sources = await page.eval_on_selector_all("img.result", "els => els.map(e => e.src)")
            images = []
            for src in sources:
                response = await page.request.get(src)
                assert response.ok
                images.append(await response.body())
            assert len(set(images)) == 3, "each refinement arrived as a different image"
            await page.fill("#text", "make it wobbly please")
            await page.press("#text", "Enter")
            await page.wait_for_selector(".msg.error >> text=I didn't get")
            assert not external, f"the page must not load anything from outside: {external}"
            await page.screenshot(path=str(tmp_path / "playground.png"))
        finally:
            await browser.close()


async def test_sessions_are_isolated_and_images_private(web: str, astronaut_jpeg: bytes) -> None:
    async with browser_client() as alice, browser_client() as mallory:
        form = aiohttp.FormData()
        form.add_field("photo", astronaut_jpeg, filename="me.jpg", content_type="image/jpeg")
        async with alice.post(f"{web}/api/selfie", data=form) as r:
            assert "Got your selfie" in (await r.json())["messages"][0]["text"]
        async with alice.post(f"{web}/api/message", json={"text": "/retro 90s"}) as r:
            job = (await r.json())["job"]
        async with alice.get(f"{web}/api/events") as events:
            result = None
            async for line in events.content:
                if line.startswith(b"data:") and b'"done"' in line and job.encode() in line:
                    import json

                    result = json.loads(line[5:])["result"]
                    break
        async with alice.get(f"{web}/api/image/{result}") as r:
            assert r.status == 200 and Image.open(io.BytesIO(await r.read())).size == (1024, 1280)
        async with mallory.get(f"{web}/api/image/{result}") as r:
            assert "can't find" in (await r.json())["messages"][0]["text"]
        async with mallory.post(f"{web}/api/message", json={"text": "warmer"}) as r:
            assert "nothing to refine" in (await r.json())["messages"][0]["text"].lower()


@pytest.mark.parametrize("payload, words", [
    (b"not an image", "can't read"),
    (b"", "empty"),
])
async def test_bad_uploads_get_friendly_messages(web: str, payload: bytes, words: str) -> None:
    async with browser_client() as client:
        form = aiohttp.FormData()
        form.add_field("photo", payload, filename="x.jpg", content_type="image/jpeg")
        async with client.post(f"{web}/api/selfie", data=form) as r:
            reply = await r.json()
        assert reply["messages"][0]["error"] and words in reply["messages"][0]["text"]
        async with client.post(f"{web}/api/message", json={"text": "/unicorn"}) as r:
            assert "don't know" in (await r.json())["messages"][0]["text"]


async def test_forget_needs_confirmation_and_deletes(web: str, studio: Studio, astronaut_jpeg: bytes) -> None:
    async with browser_client() as client:
        form = aiohttp.FormData()
        form.add_field("photo", astronaut_jpeg, filename="me.jpg", content_type="image/jpeg")
        await client.post(f"{web}/api/selfie", data=form)
        async with client.post(f"{web}/api/message", json={"text": "/forget"}) as r:
            assert "confirm" in (await r.json())["messages"][0]["text"]
        async with client.post(f"{web}/api/message", json={"text": "/forget yes"}) as r:
            assert (await r.json())["forgotten"]
        async with client.post(f"{web}/api/message", json={"text": "/popart"}) as r:
            assert "selfie first" in (await r.json())["messages"][0]["text"]


async def test_exposing_needs_a_password(studio: Studio, settings: Settings) -> None:
    settings.web_host, settings.web_port = "0.0.0.0", free_port()
    with pytest.raises(ValueError, match="MINIME_WEB_PASSWORD"):
        await start_web(studio, settings)
    from pydantic import SecretStr

    settings.web_host, settings.web_password = "127.0.0.1", SecretStr("hunter2")
    runner = await start_web(studio, settings)
    try:
        url = f"http://127.0.0.1:{settings.web_port}"
        async with browser_client() as client:
            async with client.get(f"{url}/api/themes") as r:
                assert r.status == 401
            async with client.post(f"{url}/login", data={"password": "hunter2"}) as r:
                assert r.status == 200
            async with client.get(f"{url}/api/themes") as r:
                assert r.status == 200 and len(await r.json()) == 16
    finally:
        await runner.cleanup()


async def test_verify_and_stats_in_the_playground(web: str, astronaut_jpeg: bytes, no_person_png: bytes) -> None:
    async with browser_client() as alice:
        form = aiohttp.FormData()
        form.add_field("photo", astronaut_jpeg, filename="me.jpg", content_type="image/jpeg")
        async with alice.post(f"{web}/api/selfie", data=form) as r:
            assert r.status == 200
        async with alice.post(f"{web}/api/message", json={"text": "/popart"}) as r:
            job = (await r.json())["job"]
        async with alice.get(f"{web}/api/events") as events:
            async for line in events.content:
                if line.startswith(b"data:") and b'"done"' in line and job.encode() in line:
                    import json

                    result = json.loads(line[5:])["result"]
                    break
        async with alice.get(f"{web}/api/image/{result}") as r:
            image = Image.open(io.BytesIO(await r.read()))
        shrunk = io.BytesIO()
        image.resize((image.width // 2, image.height // 2)).save(shrunk, "JPEG", quality=75)
        for data, expected in ((shrunk.getvalue(), "Yes, I made this"), (no_person_png, "I didn't make")):
            form = aiohttp.FormData()
            form.add_field("image", data, filename="check.jpg", content_type="image/jpeg")
            async with alice.post(f"{web}/api/verify", data=form) as r:
                reply = (await r.json())["messages"][0]
            assert reply["text"].startswith(expected), reply
        assert reply["verified"] is False
        async with alice.post(f"{web}/api/message", json={"text": "/stats"}) as r:
            assert "Images you have with me: 1" in (await r.json())["messages"][0]["text"]


async def test_status_shows_images_left_and_admin_answers_only_admins(web: str, settings: Settings) -> None:
    settings.daily_quota = 3
    async with browser_client() as browser:
        async def say(text: str) -> dict:
            async with browser.post(f"{web}/api/message", json={"text": text}) as r:
                return (await r.json())["messages"][0]

        status = await say("/status")
        assert "Images left for you today: 3" in status["text"] and "midnight UTC" in status["text"]
        me = status["text"].rsplit("Your id: ", 1)[1].strip()
        assert me.startswith("web:")
        refused = await say("/admin")
        assert refused.get("error") and "Images" not in refused["text"] and "grant" not in refused["text"]
        settings.admins = [me]
        usage = await say("/admin")
        assert "Images: 0 for 0 users" in usage["text"] and "3 per user" in usage["text"]
        granted = await say("/admin grant web:a-friend 2")
        assert "5 left today" in granted["text"]
