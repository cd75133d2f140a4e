"""minime in a Discord server channel: the real discord.py client against the fake gateway, which delivers guild
messages and mentions as Discord does. Mentions, replies to the bot and slash commands are for minime; other chatter
is not; state is per user; buttons answer only their owner; the channel's daily quota holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.bots.discord_bot.bot import DiscordRunner
from minime.core.domain import UserKey
from minime.core.settings import Settings
from tests.conftest import RunningBot, midday_clock
from tests.fake_discord import APP_ID, COMPONENTS_V2, FakeDiscord, buttons, gallery_of, patch_discord

GUILD, CHANNEL = 880000000000000001, 880000000000000002
ADA, BO, CY = 4301, 4302, 4303
BOT = f"<@{APP_ID}>"


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
                        chat_daily_quota=2, _env_file=None)
    running = await RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1),
                               clock=midday_clock).start()
    await fake.add_guild(GUILD, CHANNEL)
    yield running
    await running.stop()


def in_channel(fake: FakeDiscord, mark: int) -> list:
    return [c for c in fake.calls[mark:] if f"/channels/{CHANNEL}/" in c.path]


async def picture(fake: FakeDiscord, mark: int, asked: dict) -> tuple[dict, str]:
    """The bot's answer in the channel carrying an image (it replies to ``asked``), and its result id."""
    call = await fake.wait_for(lambda: next((c for c in in_channel(fake, mark) if c.files), None), 90)
    message = fake.messages[int(call.path.rsplit("/", 1)[-1])]
    assert str(message["message_reference"]["message_id"]) == asked["id"], "the answer quotes the request"
    assert message["flags"] & COMPONENTS_V2 and gallery_of(message) == [message["attachments"][0]["url"]], "one card"
    custom_id = buttons(message)[0]["custom_id"]
    return message, custom_id.split(":")[2]


async def said(fake: FakeDiscord, mark: int, words: str) -> str:
    def text(call) -> str:  # a message's content, or an interaction response's
        return call.payload.get("content") or (call.payload.get("data") or {}).get("content") or ""

    def find() -> str | None:
        return next((text(c) for c in fake.calls[mark:] if words in text(c)), None)
    return await fake.wait_for(find, 60)


async def test_two_members_in_a_server_channel(bot: RunningBot, fake: FakeDiscord, astronaut_jpeg: bytes,
                                               no_person_png: bytes) -> None:
    store = bot.studio.store
    mark = len(fake.calls)
    asked = await fake.post(ADA, CHANNEL, f"{BOT} /figurine Ada", [fake.attachment(astronaut_jpeg)])
    figurine, ada_id = await picture(fake, mark, asked)
    ada_first = await store.get_result(ada_id)
    assert ada_first.user == UserKey("discord", str(ADA)) and ada_first.params.name == "Ada"

    mark = len(fake.calls)
    await fake.post(ADA, CHANNEL, "lol nice, make it darker")
    await fake.post(CY, CHANNEL, "my holiday", [fake.attachment(no_person_png, "beach.png", "image/png")])
    await asyncio.sleep(2.5)
    assert not in_channel(fake, mark), "chatter and other people's photos are ignored"

    mark = len(fake.calls)
    await fake.post(BO, CHANNEL, f"{BOT} /retro 80s")
    assert "selfie first" in await said(fake, mark, "selfie first"), "Bo is asked for his own selfie"
    mark = len(fake.calls)
    bo_selfie = await fake.post(BO, CHANNEL, "", [fake.attachment(astronaut_jpeg)])  # the one he was asked for
    _, bo_id = await picture(fake, mark, bo_selfie)
    bo_result = await store.get_result(bo_id)
    assert bo_result.user == UserKey("discord", str(BO)) and bo_result.selfie_id != ada_first.selfie_id

    mark = len(fake.calls)
    await fake.press(BO, figurine, "🔥 Warmer", channel=CHANNEL)
    assert "someone else" in await said(fake, mark, "someone else")
    await asyncio.sleep(1.0)
    assert not fake.images_since(mark), "a stranger's tap changes nothing"

    mark = len(fake.calls)
    reply = await fake.post(ADA, CHANNEL, "warmer colors", reply_to=figurine)
    _, warmer_id = await picture(fake, mark, reply)
    warmer = await store.get_result(warmer_id)
    assert warmer.parent_id == ada_first.id and warmer.params.adjustments.warmth > 0, "colours are free of quota"

    mark = len(fake.calls)
    await fake.post(ADA, CHANNEL, f"{BOT} /popart")
    refusal = await said(fake, mark, "daily limit")
    assert "This chat has had all 2" in refusal and "per group" in refusal

    mark = len(fake.calls)
    await fake.slash(ADA, "status", channel=CHANNEL)
    status = await said(fake, mark, "Your id")
    assert "Images left for this group today: 0" in status and f"discord:{ADA}" in status

    mark = len(fake.calls)
    await fake.slash(BO, "admin", {"command": "grant discord:4302 50"}, channel=CHANNEL)
    nosy = await said(fake, mark, "Sorry")
    assert "grant" not in nosy and "Images" not in nosy
    assert (await store.usage_of(f"user:discord:{BO}"))[1] == 0, "nothing was granted"
