"""Hostile and unusual files, sent as people send them: each is rendered, or refused with one clear line.

Through the web playground (HTTP uploads, as the page does) and the command line (a subprocess, as a person runs it).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image

from minime.bots.web.server import start_web
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import free_port
from tests.hostile_corpus import Case, build

ROOT = Path(__file__).resolve().parent.parent




@pytest.fixture(scope="module")
def corpus(astronaut: Image.Image) -> dict[str, Case]:
    return {case.name: case for case in build(astronaut.resize((512, 512)))}


@pytest.fixture()
async def web(studio: Studio, settings: Settings):
    settings.web_port = free_port()
    settings.web_uploads_per_hour = 100  # the whole corpus from one session
    runner = await start_web(studio, settings)
    yield f"http://127.0.0.1:{settings.web_port}"
    await runner.cleanup()


async def _upload(client: aiohttp.ClientSession, web: str, case: Case) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("photo", case.data, filename=case.name, content_type="image/jpeg")
    async with client.post(f"{web}/api/selfie", data=form) as r:
        return r.status, await r.json()


async def test_every_hostile_file_gets_a_clear_answer_in_the_playground(web: str, studio: Studio,
                                                                         corpus: dict[str, Case]) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        for case in corpus.values():
            status, reply = await _upload(client, web, case)
            text = reply["messages"][0]["text"]
            assert status < 500, f"{case.name}: HTTP {status}"
            if case.expect == "render":
                assert "Got your selfie" in text, f"{case.name}: {text}"
            else:
                assert reply["messages"][0].get("error") and case.expect in text, f"{case.name}: {text}"


async def test_noisy_and_16_bit_photos_are_made_into_pictures(web: str, studio: Studio, corpus: dict[str, Case],
                                                               astronaut: Image.Image) -> None:
    from minime.core.domain import UserKey

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        status, reply = await _upload(client, web, corpus["grey16.png"])
        assert status == 200 and "Got your selfie" in reply["messages"][0]["text"]
        cookie = next(c.value for c in client.cookie_jar if c.key == "minime_session")
        import hashlib

        user = UserKey("web", hashlib.sha256(cookie.encode()).hexdigest()[:24])
        stored = np.asarray(Image.open(io.BytesIO(await studio.selfie_image(user))).convert("L"), np.float32)
        original = np.asarray(astronaut.resize((512, 512)).convert("L"), np.float32)
        assert abs(stored.mean() - original.mean()) < 8, "16-bit grey keeps its tones (not clipped to white)"

        status, reply = await _upload(client, web, corpus["noisy.jpg"])
        assert status == 200 and "Got your selfie" in reply["messages"][0]["text"]
        async with client.post(f"{web}/api/message", json={"text": "/popart"}) as r:
            job = (await r.json())["job"]
        async with client.get(f"{web}/api/events") as events:
            async for line in events.content:
                if line.startswith(b"data:") and job.encode() in line and (b'"done"' in line or b'"failed"' in line):
                    assert b'"done"' in line, line
                    break


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "minime.core.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("name", ["animated.webp", "animated.png", "bomb.png", "truncated.jpg", "svg.svg"])
def test_the_cli_refuses_with_one_line(name: str, corpus: dict[str, Case], tmp_path: Path) -> None:
    source = tmp_path / name
    source.write_bytes(corpus[name].data)
    done = _cli("render", str(source), "-t", "popart", "-o", str(tmp_path / "out.png"), tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and corpus[name].expect in done.stderr, done.stderr
    assert not (tmp_path / "out.png").exists()


def test_the_cli_renders_a_16_bit_grey_photo_quietly(corpus: dict[str, Case], tmp_path: Path) -> None:
    source = tmp_path / "grey16.png"
    source.write_bytes(corpus["grey16.png"].data)
    done = _cli("render", str(source), "-t", "figurine", "--name", "Ada", "-o", str(tmp_path / "out.png"),
                tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", "no TensorFlow Lite / absl chatter on stderr"


@pytest.mark.parametrize("url, words", [
    ("nonsense://x", "not a database URL"),
    ("postgresql+asyncpg://minime:s3cretpw@127.0.0.1:1/minime", "can't be reached"),
])
def test_start_up_failures_are_one_clear_line(url: str, words: str, tmp_path: Path) -> None:
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_DATABASE_URL": url,
           "MINIME_WEB_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "minime.core.cli", "web"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "s3cretpw" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("minime: ")] == [
        next(line for line in done.stderr.splitlines() if words in line)]
