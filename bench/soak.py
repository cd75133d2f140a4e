"""Soak: N users for M minutes through Telegram (the real python-telegram-bot against the fake Bot API), with faults.

Each user sends a selfie, then asks for one look after another (retro, polaroid, figurine, pop-art, miniature), one
at a time with a second between, as people do. Faults while they do: Telegram answers some uploads with 429 (retry
after 1 s), one user's chat is slow (every call to it waits 3 s), and the database goes away for 5 s in the middle
(a TCP proxy in front of PostgreSQL drops every connection and refuses new ones; without a PostgreSQL server on
127.0.0.1:5432 the run uses SQLite and has no outage). Printed: requests served (a picture arrived), failed (the user
was told), busy (told to wait for the previous look), lost (none of these within 120 s), the wait's p50/p95, and the
process's RSS over time.

Run: .venv/bin/python bench/soak.py [users] [minutes]   (default 10 users, 1 minute)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from PIL import Image  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from skimage import data  # noqa: E402

from minime.bots.telegram_bot.app import TelegramRunner  # noqa: E402
from minime.core.app import build_studio  # noqa: E402
from minime.core.logs import configure_logging  # noqa: E402
from minime.core.settings import Settings  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
LOOKS = ["/retro 70s", "/polaroid Soak", "/figurine Soak", "/popart", "/miniature", "/retro 90s"]
SLOW_CHAT, SLOW_S = 1, 3.0
LOST_AFTER_S = 120.0
POSTGRES = ("127.0.0.1", 5432)


class FaultyTelegram(FakeTelegram):
    """The fake Bot API with one slow chat."""

    async def _api(self, request: web.Request) -> web.Response:
        before = len(self.calls)
        response = await super()._api(request)
        if any(str(call.params.get("chat_id")) == str(SLOW_CHAT) for call in self.calls[before:]):
            await asyncio.sleep(SLOW_S)  # the call went through; its answer comes late
        return response


class Outage:
    """A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones for a while."""

    def __init__(self) -> None:
        self.down = False
        self._links: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.down:
            client_w.close()
            return
        server_r, server_w = await asyncio.open_connection(*POSTGRES)
        self._links.update({client_w, server_w})

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))
        self._links.difference_update({client_w, server_w})

    async def for_seconds(self, seconds: float) -> None:
        """The database is gone for ``seconds``: open connections drop, new ones are refused."""
        self.down = True
        for writer in list(self._links):
            writer.close()
        await asyncio.sleep(seconds)
        self.down = False


async def postgres_database() -> str | None:
    """A fresh database on the local PostgreSQL server, or None when there is none."""
    try:
        import asyncpg

        admin = await asyncpg.connect(f"postgresql://postgres@{POSTGRES[0]}:{POSTGRES[1]}/postgres", timeout=3)
    except Exception:
        return None
    name = f"minime_soak_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return name


async def drop_database(name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(f"postgresql://postgres@{POSTGRES[0]}:{POSTGRES[1]}/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def user(fake: FakeTelegram, uid: int, selfie: bytes, until: float, outcomes: dict[str, list]) -> None:
    """One person: a selfie, then one look after another until ``until``."""
    await fake.send_photo(uid, selfie)
    await asyncio.sleep(1.0)
    i = uid
    while time.monotonic() < until:
        mark, asked = len(fake.calls), time.perf_counter()
        await fake.send_text(uid, LOOKS[i % len(LOOKS)])
        i += 1

        def outcome(mark: int = mark) -> str | None:
            for call in fake.calls[mark:]:
                if call.params.get("chat_id") != uid or not isinstance(call.result, dict):
                    continue
                if call.method == "sendPhoto":
                    return "served"
                text = call.params.get("text", "")
                if call.method in ("sendMessage", "editMessageText") and (text.startswith("😕") or "Sorry" in text):
                    return "failed"
                if call.method in ("sendMessage", "editMessageText") and "One at a time" in text:
                    return "busy"  # the previous look (told failed in the outage) was still being made
            return None

        try:
            kind = await fake.wait_for(outcome, timeout=LOST_AFTER_S)
        except TimeoutError:
            kind = "lost"
            seen = [(c.method, str(c.params.get("text", ""))[:50]) for c in fake.calls[mark:]
                    if c.params.get("chat_id") == uid]
            print(f"lost: user {uid} asked {LOOKS[(i - 1) % len(LOOKS)]!r}; the bot then sent {seen[-4:]}", flush=True)
        outcomes[kind].append(time.perf_counter() - asked)
        await asyncio.sleep(1.0)


async def main(users: int, minutes: float) -> None:
    configure_logging("ERROR")
    selfie = io.BytesIO()
    Image.fromarray(data.astronaut()).save(selfie, "JPEG", quality=90)
    fake = FaultyTelegram(TOKEN)
    await fake.start()
    database, outage = await postgres_database(), Outage()
    with tempfile.TemporaryDirectory() as tmp:
        url = None
        if database:
            await outage.start()
            url = f"postgresql+asyncpg://postgres@127.0.0.1:{outage.port}/{database}"
        settings = Settings(data_dir=Path(tmp), telegram_token=SecretStr(TOKEN), telegram_api_root=fake.root,
                            rate_limit_jobs=100_000, _env_file=None, **({"database_url": url} if url else {}))
        studio = build_studio(settings)
        await studio.start()
        runner = TelegramRunner(studio, settings)
        await runner.start()
        outcomes: dict[str, list[float]] = {"served": [], "failed": [], "busy": [], "lost": []}
        rss: list[tuple[float, float]] = [(0.0, rss_mb())]
        started = time.monotonic()
        until = started + minutes * 60

        async def faults() -> None:
            while time.monotonic() < until:
                await asyncio.sleep(7.0)
                fake.fail_next("sendPhoto", 429)  # Telegram's flood limit, now and then
                if database and abs(time.monotonic() - (started + minutes * 30)) < 3.5 and not outage.down:
                    await outage.for_seconds(5.0)

        async def sample() -> None:
            while time.monotonic() < until + LOST_AFTER_S:
                await asyncio.sleep(10.0)
                rss.append((time.monotonic() - started, rss_mb()))

        sampler = asyncio.create_task(sample())
        try:
            await asyncio.gather(faults(), *(user(fake, uid, selfie.getvalue(), until, outcomes)
                                             for uid in range(1, users + 1)))
        finally:
            sampler.cancel()
            rss.append((time.monotonic() - started, rss_mb()))
            await runner.stop()
            await studio.stop()
            await fake.stop()
            if database:
                await drop_database(database)
    waits = sorted(outcomes["served"])
    total = sum(len(v) for v in outcomes.values())
    print(f"soak: {users} users, {minutes:g} min, store {'PostgreSQL (5 s outage)' if database else 'SQLite'}, "
          f"faults: 429 on an upload every 7 s, chat {SLOW_CHAT} slow ({SLOW_S:g} s per call)")
    print(f"requests {total}: served {len(outcomes['served'])}, failed {len(outcomes['failed'])}, "
          f"busy {len(outcomes['busy'])}, lost {len(outcomes['lost'])}")
    if len(waits) >= 2:
        print(f"wait for a picture: p50 {statistics.median(waits):.2f} s, "
              f"p95 {statistics.quantiles(waits, n=20, method='inclusive')[-1]:.2f} s, max {waits[-1]:.2f} s")
    print("RSS over time: " + ", ".join(f"{t:.0f} s {mb:.0f} MB" for t, mb in rss))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, float(sys.argv[2]) if len(sys.argv) > 2 else 1.0))
