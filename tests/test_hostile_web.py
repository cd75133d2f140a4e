"""The playground against a hostile page and client: cross-site writes, made-up cookies, malformed requests, floods."""

from __future__ import annotations

import aiohttp
import pytest
from pydantic import SecretStr

from minime.bots.web.server import start_web
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import browser_client, free_port


async def _upload(client: aiohttp.ClientSession, web: str, data: bytes) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("photo", data, filename="me.jpg", content_type="image/jpeg")
    async with client.post(f"{web}/api/selfie", data=form) as r:
        return r.status, await r.json()


async def test_a_page_on_another_port_cannot_make_the_victim_forget(web: str, astronaut_jpeg: bytes) -> None:
    async with browser_client() as victim:
        await _upload(victim, web, astronaut_jpeg)
        evil = f"http://127.0.0.1:{free_port()}"
        # A cross-origin form/fetch from the attacker's page: the browser adds the victim's cookie and an Origin.
        async with victim.post(f"{web}/api/message", data='{"text": "/forget yes"}',
                               headers={"Content-Type": "text/plain", "Origin": evil,
                                        "Sec-Fetch-Site": "same-site"}) as r:
            assert r.status == 403
        async with victim.post(f"{web}/api/message", json={"text": "/forget yes"}, headers={"Origin": evil}) as r:
            assert r.status == 403
        async with victim.post(f"{web}/api/message", data='{"text": "/forget yes"}',
                               headers={"Content-Type": "text/plain"}) as r:
            assert r.status == 415, "a body a cross-site form could send is not taken as JSON"
        form = aiohttp.FormData()
        form.add_field("photo", b"x", filename="x.jpg", content_type="image/jpeg")
        async with victim.post(f"{web}/api/selfie", data=form, headers={"Sec-Fetch-Site": "cross-site"}) as r:
            assert r.status == 403
        async with victim.post(f"{web}/api/message", json={"text": "/status"}, headers={"Origin": web,
                                                                                     "Sec-Fetch-Site": "same-origin"}
                               ) as r:
            assert r.status == 200, "the playground's own page still works"
        async with victim.post(f"{web}/api/message", json={"text": "/popart"}) as r:
            assert (await r.json())["job"], "the selfie is still there"


async def test_responses_carry_security_headers_and_no_version(web: str) -> None:
    async with browser_client() as client:
        for path in ("/", "/static/app.js", "/api/themes", "/api/image/nothing"):
            async with client.get(f"{web}{path}") as r:
                csp = r.headers.get("Content-Security-Policy", "")
                assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
                assert r.headers.get("X-Content-Type-Options") == "nosniff"
                assert "aiohttp" not in r.headers.get("Server", "").lower() and "Python" not in r.headers.get(
                    "Server", "")


@pytest.mark.parametrize("path, body, content_type", [
    ("/api/message", b"{not json", "application/json"),
    ("/api/message", b"[1, 2]", "application/json"),
    ("/api/message", b"\xff\xfe\xfa", "application/json"),
    ("/api/action", b"null", "application/json"),
    ("/api/selfie", b"not a form", "multipart/form-data; boundary=zzz"),
    ("/api/selfie", b"photo=1", "application/x-www-form-urlencoded"),
    ("/api/verify", b"--zzz\r\nbroken", "multipart/form-data; boundary=zzz"),
])
async def test_malformed_requests_answer_400(web: str, path: str, body: bytes, content_type: str) -> None:
    async with browser_client() as client:
        async with client.post(f"{web}{path}", data=body, headers={"Content-Type": content_type}) as r:
            assert r.status == 400, await r.text()
            assert (await r.json())["messages"][0]["error"]


async def test_a_made_up_session_cookie_is_replaced(web: str) -> None:
    chosen = "attacker-chosen-session-id-0123456789"
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{web}/api/themes", headers={"Cookie": f"minime_session={chosen}"}) as r:
            issued = r.cookies.get("minime_session")
            assert issued is not None and issued.value != chosen
        async with client.get(f"{web}/api/themes", headers={"Cookie": f"minime_session={issued.value}"}) as r:
            assert "minime_session" not in r.cookies, "a cookie the server issued is kept"


async def test_wrong_passwords_are_throttled(studio: Studio, settings: Settings) -> None:
    settings.web_port, settings.web_password = free_port(), SecretStr("correct horse")
    runner = await start_web(studio, settings)
    try:
        async with browser_client() as client:
            statuses = []
            for _ in range(7):
                async with client.post(f"http://127.0.0.1:{settings.web_port}/login", data={"password": "guess"},
                                       allow_redirects=False) as r:
                    statuses.append(r.status)
            assert statuses[:5] == [302] * 5 and statuses[-1] == 429
    finally:
        await runner.cleanup()


async def test_uploads_and_jobs_are_capped_and_a_new_cookie_does_not_reset_them(
        studio: Studio, settings: Settings, astronaut_jpeg: bytes) -> None:
    settings.web_uploads_per_hour, settings.rate_limit_jobs, settings.web_port = 2, 2, free_port()
    runner = await start_web(studio, settings)  # the playground reads its limits when it starts
    web = f"http://127.0.0.1:{settings.web_port}"
    try:
        async with browser_client() as first:
            assert (await _upload(first, web, astronaut_jpeg))[0] == 200
            assert (await _upload(first, web, astronaut_jpeg))[0] == 200
            status, reply = await _upload(first, web, astronaut_jpeg)
            assert status == 429 and "try again" in reply["messages"][0]["text"]
            async with first.post(f"{web}/api/message", json={"text": "/popart"}) as r:
                assert (await r.json()).get("job")
        for attempt in range(2):  # fresh cookies from the same place
            async with browser_client() as again:
                assert (await _upload(again, web, astronaut_jpeg))[0] == 200
                async with again.post(f"{web}/api/message", json={"text": "/popart"}) as r:
                    if attempt == 0:
                        assert (await r.json()).get("job")
                    else:
                        assert r.status == 429 and "lot of images" in (await r.json())["messages"][0]["text"]
    finally:
        await runner.cleanup()
