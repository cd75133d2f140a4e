"""Round trip of a look (`/miniature` by default, or e.g. `/retro 70s`) through Telegram: minime (adapter + Studio +
store) vs a minimal python-telegram-bot bot.

Both bots run the real python-telegram-bot Application against the same local fake Bot API server (tests/), in one
run, and render with the same classic engine; minime runs twice, with its marks (watermark + fingerprint) off and on
(``MINIME_WATERMARK``), energy tracking on both times. The minimal bot renders in its handler and sends the photo;
minime does the whole path (status message, durable job, queue, store, result keyboard). The difference is the
overhead of the adapter and the core.

Run: .venv/bin/python bench/telegram_roundtrip.py [rounds] [command]   (e.g. ``15 "/retro 70s"``)
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from telegram import InputFile, Update  # noqa: E402
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters  # noqa: E402

from minime.bots.telegram_bot.app import TelegramRunner  # noqa: E402
from minime.core.adjust import finish  # noqa: E402
from minime.core.app import build_studio  # noqa: E402
from minime.core.domain import RenderParams  # noqa: E402
from minime.core.engines.base import RenderRequest  # noqa: E402
from minime.core.engines.classic import ClassicEngine  # noqa: E402
from minime.core.intake import decode_stored, normalise_selfie, result_bytes  # noqa: E402
from minime.core.settings import THEMES_DIR, Settings  # noqa: E402
from minime.core.themes import ThemeCatalog  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


async def minimal_bot(fake: FakeTelegram, command: str):
    """The simplest PTB bot that does the same job: keep the last photo, render on the command, send it."""
    name, _, argument = command.removeprefix("/").partition(" ")
    engine = ClassicEngine()
    theme, variant, text = ThemeCatalog.from_dir(THEMES_DIR).resolve(name, argument or None)
    photos: dict[int, bytes] = {}

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        file = await context.bot.get_file(update.message.photo[-1].file_id)
        photos[update.effective_user.id] = normalise_selfie(bytes(await file.download_as_bytearray()),
                                                           max_bytes=20_000_000, max_pixels=40_000_000).data

    async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        source = decode_stored(photos[update.effective_user.id])
        out = await engine(RenderRequest(source, theme, RenderParams(name=text, variant=variant, seed=1)))
        image = result_bytes(finish(out.image, theme.finish, 1))
        await update.message.reply_photo(InputFile(image, filename="x.jpg"))

    app = (ApplicationBuilder().token(TOKEN).base_url(f"{fake.root}/bot").base_file_url(f"{fake.root}/file/bot")
           .concurrent_updates(True).build())
    app.add_handlers([MessageHandler(filters.PHOTO, on_photo), CommandHandler(name, on_command)])
    await app.initialize()
    await app.start()
    await app.updater.start_polling()

    async def stop() -> None:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return stop


async def minime_bot(fake: FakeTelegram, data_dir: Path, marks: bool):
    settings = Settings(data_dir=data_dir, telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                        rate_limit_jobs=10_000, watermark=marks, _env_file=None)
    studio = build_studio(settings)
    await studio.start()
    runner = TelegramRunner(studio, settings)
    await runner.start()

    async def stop() -> None:
        await runner.stop()
        await studio.stop()
    return stop


async def one_round(fake: FakeTelegram, user: int, command: str) -> float:
    mark = len(fake.calls)
    started = time.perf_counter()
    await fake.send_text(user, command)
    await fake.wait_for_call("sendPhoto", user, mark)
    return time.perf_counter() - started


BOTS = ("minimal python-telegram-bot", "minime, marks off", "minime")


async def main(rounds: int, command: str) -> None:
    out = io.BytesIO()
    Image.open(THEMES_DIR / "assets" / "sample-portrait.jpg").save(out, "JPEG")
    results: dict[str, list[float]] = {name: [] for name in BOTS}
    fakes, stops = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name in BOTS:
                fakes[name] = fake = FakeTelegram(TOKEN)
                await fake.start()
                stops.append(fake.stop)
                stops.append(await (minimal_bot(fake, command) if name.startswith("minimal") else
                                    minime_bot(fake, Path(tmp) / str(len(stops)),
                                               marks=not name.endswith("marks off"))))
                await fake.send_photo(7, out.getvalue())
            await asyncio.sleep(2.0)
            # Round robin, one request at a time: the three bots see the same machine load (it drifts on a shared
            # machine); the first two rounds warm up.
            for i in range(rounds + 2):
                for name in BOTS:
                    elapsed = await one_round(fakes[name], 7, command)
                    if i >= 2:
                        results[name].append(elapsed)
                    await asyncio.sleep(0.3)
        finally:
            for stop in reversed(stops):
                await stop()
    print(f"{command} round trip against a local Bot API server, median of {rounds}")
    base = statistics.median(results[BOTS[0]])
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:<30} {median * 1000:8.1f} ms   ({median / base:4.2f}x)")
    print(f"adapter + core overhead        {(statistics.median(results['minime']) - base) * 1000:8.1f} ms")
    on, off = statistics.median(results["minime"]), statistics.median(results["minime, marks off"])
    print(f"minime / minimal bot: {statistics.median(results['minime']) / base:.2f}x (goal <= 1.5x); "
          f"marks on / marks off: {on / off:.2f}x (goal <= 1.15x)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15,
                     sys.argv[2] if len(sys.argv) > 2 else "/miniature"))
