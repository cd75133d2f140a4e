"""A hostile name on Discord: the real discord.py client against the fake Discord REST + gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.core.settings import Settings
from tests.fake_discord import FakeDiscord, patch_discord, text_of
from tests.test_discord import ALICE, Bot, message_of


@pytest.fixture()
async def fake():
    server = FakeDiscord()
    await server.start()
    patch_discord(server)
    yield server
    await server.stop()


@pytest.fixture()
async def bot(tmp_path: Path, fake: FakeDiscord):
    settings = Settings(data_dir=tmp_path / "data", discord_token=SecretStr("fake.discord.token"), job_lease_s=2.0,
                        _env_file=None)
    running = await Bot(settings).start()
    yield running
    await running.stop()


async def test_a_name_full_of_mentions_pings_nobody_and_fits_a_message(bot, fake: FakeDiscord,
                                                                       astronaut_jpeg: bytes) -> None:
    name = "@everyone @here <@&123456789012345678> <@987654321098765432> " + "Ada" * 1000
    mark = len(fake.calls)
    await fake.slash(ALICE, "figurine", {"name": name}, attachment=fake.attachment(astronaut_jpeg))
    image = await fake.wait_for_image(mark)
    assert image.payload.get("allowed_mentions", {}).get("parse") == [], image.payload
    assert 0 < len(text_of(message_of(fake, image))) <= 2000
