"""Shared fixtures: a real portrait, settings in a temp folder, a started Studio, and event recording."""

from __future__ import annotations

import asyncio
import io
import os
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from minime.bots.web.server import start_web
from minime.core.app import build_studio
from minime.core.domain import Done, Event, Failed, UserKey
from minime.core.settings import Settings
from minime.core.studio import Studio

MIDDAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC).timestamp()
_BEGAN = time.monotonic()


def midday_clock() -> float:
    """A pinned "now" for tests that count daily quotas (``build_studio(clock=midday_clock)``,
    ``Store(url, clock=midday_clock)``): noon UTC of a fixed day when the test process started, running at real
    speed, so leases and expiry work as usual (a restarted Studio in the same test reads the same time) and no UTC
    midnight, when every quota starts again, falls inside a test."""
    return MIDDAY + (time.monotonic() - _BEGAN)


POSTGRES_URL = os.environ.get("MINIME_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def side_by_side(people: list[Image.Image], height: int = 400) -> Image.Image:
    """Portraits side by side at one height: a group photo of real people."""
    tiles = [p.resize((round(p.width * height / p.height), height)) for p in people]
    sheet = Image.new("RGB", (sum(t.width for t in tiles), height))
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width
    return sheet


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    """scikit-image's public-domain portrait (Eileen Collins)."""
    return Image.fromarray(skdata.astronaut())


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut: Image.Image) -> bytes:
    out = io.BytesIO()
    astronaut.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="session")
def no_person_png() -> bytes:
    """A photo with no person in it (scikit-image's coffee cup)."""
    out = io.BytesIO()
    Image.fromarray(skdata.coffee()).save(out, "PNG")
    return out.getvalue()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", job_lease_s=1.0, _env_file=None)


class Recorder:
    """A sink that keeps every event a platform would receive."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, job_id: str, timeout: float = 30.0) -> Done | Failed:
        """The final event (Done or Failed) of a job."""
        async def _wait() -> Done | Failed:
            while True:
                for event in self.events:
                    if isinstance(event, (Done, Failed)) and event.job.id == job_id:
                        return event
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(_wait(), timeout)

    def of(self, job_id: str) -> list[Event]:
        return [e for e in self.events if e.job.id == job_id]


class RunningBot:
    """A running minime (a Studio and one chat adapter) that a test can stop and start again."""

    def __init__(self, settings: Settings, make_runner, clock: Callable[[], float] | None = None) -> None:
        self.settings, self.make_runner = settings, make_runner
        self.clock = clock or time.time  # "now" of the Studio; tests that count quotas pin it (midday_clock)
        self.studio: Studio | None = None
        self.runner = None

    async def start(self) -> RunningBot:
        self.studio = build_studio(self.settings, clock=self.clock)
        await self.studio.start()
        self.runner = self.make_runner(self.studio, self.settings)
        await self.runner.start()
        if hasattr(self.runner, "wait_until_ready"):
            await self.runner.wait_until_ready()
        return self

    async def stop(self) -> None:
        await self.runner.stop()
        await self.studio.stop()


@pytest.fixture()
async def studio(settings: Settings) -> AsyncIterator[Studio]:
    s = build_studio(settings, clock=midday_clock)  # /status and /admin count quotas by the UTC day
    await s.start()
    yield s
    await s.stop()


@pytest.fixture()
def recorder(studio: Studio) -> Recorder:
    r = Recorder()
    studio.subscribe("test", r)
    return r


@pytest.fixture()
def alice() -> UserKey:
    return UserKey("test", "alice")


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh database on the local PostgreSQL server, dropped after the run."""
    import asyncpg

    name = f"minime_test_{os.getpid()}"
    admin = POSTGRES_URL.replace("postgresql+asyncpg", "postgresql")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {admin} is not reachable: {exc}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'minime.db'}"
    url = request.getfixturevalue("postgres_url")
    import asyncpg

    async def reset() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(reset())
    return url


_PORTS_GIVEN: set[int] = set()


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now, that no other test process can be handed, and that this
    process has not handed out before.

    Below the kernel's ephemeral range (32768-60999 on Linux): a port from ``bind(0)`` lies in that range, which is
    also where every outgoing connection of the other test processes takes its local port, so one of them could take
    it between this call and the server's bind. Each pytest-xdist worker draws from its own block of that space:
    with one shared range, two workers could draw the same port in the moment between the check and a server's
    bind (seen in CI as "address already in use"). A port once given is not given again by this process (a fixture
    may draw a second port before its first server is up).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 20000 + (index % 6) * 2000
    rng = random.SystemRandom()
    for _ in range(400):
        port = rng.randrange(low, low + 2000)
        if port in _PORTS_GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {low + 2000}")


def browser_client() -> aiohttp.ClientSession:
    """A browser-like client: keeps the session cookie of a 127.0.0.1 server."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.fixture()
async def web(studio: Studio, settings: Settings) -> AsyncIterator[str]:
    """The playground on a free port over the started Studio; its root URL."""
    settings.web_port = free_port()
    runner = await start_web(studio, settings)
    yield f"http://127.0.0.1:{settings.web_port}"
    await runner.cleanup()


@pytest.fixture()
async def discord_fake():
    """A local fake Discord server that discord.py's client is pointed at (for the figure-file tests)."""
    from tests.fake_discord import FakeDiscord, patch_discord

    server = FakeDiscord()
    await server.start()
    patch_discord(server)
    yield server
    await server.stop()
