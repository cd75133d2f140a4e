"""Regenerate docs/playground.jpg: the web playground in a real browser, after a selfie and `/actionfigure`.

Runs the playground (the classic engine, a temporary data folder) on a free local port, drives Debian's chromium with
playwright as a newcomer would (upload Obama's official portrait from docs/photos, type the command, tap "Warmer")
and saves the window.

Run: ``.venv/bin/python docs/make_playground.py`` (needs the [test] extra and chromium: `make test` installs both;
the buttons' emoji need a colour emoji font in the system, e.g. Debian's fonts-noto-color-emoji).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import socket
import tempfile
from pathlib import Path

from PIL import Image
from playwright.async_api import async_playwright

from minime.bots.web.server import start_web
from minime.core.app import build_studio
from minime.core.settings import Settings

HERE = Path(__file__).resolve().parent
COMMAND = "/actionfigure Barack | basketball, book, guitar"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (make test installs it)")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), web_port=_free_port(), _env_file=None)
        studio = build_studio(settings)
        await studio.start()
        web = await start_web(studio, settings)
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                page = await browser.new_page(viewport={"width": 900, "height": 1300})
                await page.goto(f"http://127.0.0.1:{settings.web_port}")
                await page.wait_for_selector(".theme img")
                await page.set_input_files("#file", str(HERE / "photos" / "obama.jpg"))
                await page.wait_for_selector("text=Got your selfie")
                await page.fill("#text", COMMAND)
                await page.press("#text", "Enter")
                await page.wait_for_selector("img.result", timeout=60_000)
                await page.click("button[data-action=warmer]")
                await page.locator("img.result").nth(1).wait_for(timeout=60_000)
                image = page.locator("img.result").nth(1)
                while not await image.evaluate("i => i.complete && i.naturalWidth > 0"):
                    await page.wait_for_timeout(100)
                await image.scroll_into_view_if_needed()
                shot = await page.screenshot()
                await browser.close()
        finally:
            await web.cleanup()
            await studio.stop()
    out = io.BytesIO()
    Image.open(io.BytesIO(shot)).convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    (HERE / "playground.jpg").write_bytes(out.getvalue())
    print(f"docs/playground.jpg: {len(out.getvalue()) // 1024} KiB")


if __name__ == "__main__":
    asyncio.run(main())
