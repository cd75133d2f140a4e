"""The playground as a hostile client meets it: JSON nested thousands deep, headers sent a byte at a time
(slowloris), and wrong passwords from one person among many behind the same address."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr

from minime.bots.web import guard
from minime.bots.web.server import start_web
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import browser_client, free_port

DEEP = "[" * 5000 + "]" * 5000


async def test_json_nested_5000_deep_is_a_bad_request(web: str) -> None:
    async with browser_client() as client:
        for body in (DEEP, '{"text": ' + DEEP + "}"):
            async with client.post(f"{web}/api/message", data=body, headers={"Content-Type": "application/json"}) as r:
                assert r.status == 400
                assert "JSON" in (await r.json())["messages"][0]["text"]
        async with client.get(f"{web}/api/themes") as r:
            assert r.status == 200, "and the server goes on"


async def test_headers_sent_slowly_are_cut_off(studio: Studio, settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "HEADER_TIMEOUT_S", 2.0)
    settings.web_port = free_port()
    runner = await start_web(studio, settings)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.web_port)
        started = time.monotonic()
        writer.write(b"POST /api/message HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for i in range(40):  # one header byte every 0.25 s: never a whole request
            try:
                writer.write(b"X-Slow-%d: 1\r\n" % i)
                await writer.drain()
                if await asyncio.wait_for(reader.read(1024), 0.25) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                closed = True
                break
        assert closed, "the server kept a half-sent request open"
        assert time.monotonic() - started < 2.0 + 3
        writer.close()
    finally:
        await runner.cleanup()


async def test_one_persons_wrong_passwords_lock_only_that_person(studio: Studio, settings: Settings) -> None:
    settings.web_port, settings.web_password = free_port(), SecretStr("correct horse")
    runner = await start_web(studio, settings)
    login = f"http://127.0.0.1:{settings.web_port}/login"
    try:
        async with browser_client() as typist, browser_client() as colleague:
            for client in (typist, colleague):
                async with client.get(f"http://127.0.0.1:{settings.web_port}/") as r:
                    assert r.status == 200  # the page: a session of its own
            statuses = []
            for _ in range(6):
                async with typist.post(login, data={"password": "guess"}, allow_redirects=False) as r:
                    statuses.append(r.status)
            assert statuses[:5] == [302] * 5 and statuses[5] == 429, "the typist waits"
            async with colleague.post(login, data={"password": "correct horse"}, allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/", "the colleague behind the same address logs in"

        async def one_guess_from_a_new_session() -> int:
            async with browser_client() as guesser:
                async with guesser.get(f"http://127.0.0.1:{settings.web_port}/"):
                    pass
                async with guesser.post(login, data={"password": "guess"}, allow_redirects=False) as r:
                    return r.status

        statuses = await asyncio.gather(*(one_guess_from_a_new_session()
                                          for _ in range(guard.ADDRESS_LOGIN_FACTOR * 5)))
        assert 429 in statuses, "a new session per guess meets the address's budget"
    finally:
        await runner.cleanup()
