"""The Discord bot end to end: the real discord.py client against a fake Discord REST + gateway."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from minime.bots.discord_bot.bot import DiscordRunner
from minime.core.domain import UserKey
from minime.core.settings import Settings
from tests.conftest import RunningBot
from tests.fake_discord import COMPONENTS_V2, FakeDiscord, buttons, gallery_of, patch_discord, text_of

ALICE, BOB = 4242, 7777


def Bot(settings: Settings) -> RunningBot:  # noqa: N802 - reads like the class it makes
    """minime with the Discord adapter (guild_ready_timeout short: the fake has no guilds to wait for)."""
    return RunningBot(settings, lambda studio, s: DiscordRunner(studio, s, guild_ready_timeout=0.1))


@pytest.fixture()
async def fake():
    server = FakeDiscord()
    await server.start()
    patch_discord(server)
    yield server
    await server.stop()


@pytest.fixture()
def dc_settings(tmp_path: Path, fake: FakeDiscord) -> Settings:
    return Settings(data_dir=tmp_path / "data", discord_token=SecretStr("fake.discord.token"), job_lease_s=2.0,
                    _env_file=None)


@pytest.fixture()
async def bot(dc_settings: Settings):
    running = await Bot(dc_settings).start()
    yield running
    await running.stop()


def pixels(call) -> np.ndarray:
    data = next(iter(call.files.values()))
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)


def message_of(fake: FakeDiscord, call) -> dict:
    """The message a call created or edited (with its buttons)."""
    if call.path.endswith("/messages") or call.path.count("/") == 2:
        return max((m for m in fake.messages.values() if m["author"]["bot"]), key=lambda m: int(m["id"]))
    target = call.path.rsplit("/", 1)[-1]
    if target.isdigit():
        return fake.messages[int(target)]
    token = call.path.split("/")[3]
    return fake.messages[fake._originals[token]]


def labels(message: dict) -> set[str]:
    return {c.get("label") for c in buttons(message)}


def assert_card(message: dict, call) -> None:
    """A result is one Components v2 card: the uploaded picture in its media gallery, no content of its own."""
    assert message["flags"] & COMPONENTS_V2 and not message["content"]
    assert gallery_of(message) == [message["attachments"][0]["url"]]
    assert message["attachments"][0]["filename"] == call.payload["attachments"][0]["filename"]


async def test_slash_command_with_attachment_buttons_and_reply(bot: RunningBot, fake: FakeDiscord,
                                                               astronaut_jpeg: bytes) -> None:
    names = {c["name"] for c in fake.commands}
    assert {"figurine", "actionfigure", "miniature", "retro", "polaroid", "popart", "themes", "undo", "forget",
            "privacy", "help"} <= names
    figurine = next(c for c in fake.commands if c["name"] == "figurine")
    assert {o["name"] for o in figurine["options"]} == {"name", "photo"}

    mark = len(fake.calls)
    await fake.slash(ALICE, "figurine", {"name": "MyName"}, attachment=fake.attachment(astronaut_jpeg))
    first = await fake.wait_for_image(mark)
    callback = next(c for c in fake.calls[mark:] if c.path.endswith("/callback"))
    assert callback.payload["type"] == 5, "acknowledged at once with a deferred response"
    result_message = message_of(fake, first)
    assert_card(result_message, first)
    assert "MyName" in text_of(result_message)
    assert {"🔥 Warmer", "❄️ Cooler", "🎲 Variation", "↩️ Undo", "🖼 Another theme"} <= labels(result_message)
    assert all(len(c["custom_id"]) <= 100 for c in buttons(result_message))

    mark = len(fake.calls)
    await fake.press(ALICE, result_message, "🔥 Warmer")
    second = await fake.wait_for_image(mark)
    a, b = pixels(first), pixels(second)
    assert b[..., 0].mean() / b[..., 2].mean() > a[..., 0].mean() / a[..., 2].mean()

    mark = len(fake.calls)
    await fake.dm(ALICE, "more grain please", reply_to=result_message)
    third = await fake.wait_for_image(mark)
    third_message = message_of(fake, third)
    assert_card(third_message, third)
    result_id = buttons(third_message)[0]["custom_id"].split(":")[2]
    first_id = buttons(result_message)[0]["custom_id"].split(":")[2]
    assert (await bot.studio.store.get_result(result_id)).parent_id == first_id

    mark = len(fake.calls)
    await fake.press(ALICE, third_message, "↩️ Undo")
    undone = message_of(fake, await fake.wait_for_image(mark))
    assert_card(undone, fake.images_since(mark)[0])
    assert "Back one step" in text_of(undone) and buttons(undone)[0]["custom_id"].split(":")[2] == first_id


async def test_slash_without_attachment_uses_the_dm_selfie(bot: RunningBot, fake: FakeDiscord, astronaut: Image.Image
                                                           ) -> None:
    png = io.BytesIO()
    astronaut.save(png, "PNG")
    mark = len(fake.calls)
    await fake.dm(ALICE, attachments=[fake.attachment(png.getvalue(), "me.png", "image/png")])
    await fake.wait_for(lambda: any("Got your selfie" in (c.payload.get("content") or "") for c in fake.calls[mark:]))
    mark = len(fake.calls)
    await fake.slash(ALICE, "retro", {"era": "90s"})
    assert await fake.wait_for_image(mark)


async def test_other_users_cannot_press_and_buttons_survive_restart(dc_settings: Settings, fake: FakeDiscord,
                                                                     astronaut_jpeg: bytes) -> None:
    first_bot = await Bot(dc_settings).start()
    try:
        mark = len(fake.calls)
        await fake.slash(ALICE, "polaroid", {"caption": "Summer"}, attachment=fake.attachment(astronaut_jpeg))
        message = message_of(fake, await fake.wait_for_image(mark))
    finally:
        await first_bot.stop()
    second_bot = await Bot(dc_settings).start()
    try:
        mark = len(fake.calls)
        await fake.press(BOB, message, "❄️ Cooler")
        note = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.path.endswith("/callback")), None))
        assert note.payload["data"]["flags"] & 64 and "someone else" in note.payload["data"]["content"]
        mark = len(fake.calls)
        await fake.press(ALICE, message, "❄️ Cooler")
        assert await fake.wait_for_image(mark), "a button from before the restart still works"
    finally:
        await second_bot.stop()


async def test_forget_and_hostile_attachments(bot: RunningBot, fake: FakeDiscord, astronaut_jpeg: bytes) -> None:
    for data, filename, kind, words in [(b"%PDF-1.4", "cv.pdf", "application/pdf", "can't read"),
                                        (astronaut_jpeg[:2000], "cut.jpg", "image/jpeg", "damaged")]:
        mark = len(fake.calls)
        await fake.slash(ALICE, "miniature", attachment=fake.attachment(data, filename, kind))
        note = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if words in
                                                 (c.payload.get("content") or "")), None))
        assert note.payload.get("flags", 0) & 64, "errors are ephemeral"
    mark = len(fake.calls)
    await fake.slash(ALICE, "miniature", attachment=fake.attachment(astronaut_jpeg))
    await fake.wait_for_image(mark)
    mark = len(fake.calls)
    await fake.slash(ALICE, "forget")
    confirm = await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.path.endswith("/callback")), None))
    confirm_message = fake.messages[fake._originals[confirm.path.split("/")[3]]]
    mark = len(fake.calls)
    await fake.press(ALICE, confirm_message, "Yes, delete everything")
    await fake.wait_for(lambda: any("deleted" in ((c.payload.get("data") or {}).get("content") or "")
                                    for c in fake.calls[mark:]))
    assert not await bot.studio.has_selfie(UserKey("discord", str(ALICE)))


async def test_cooldown_is_a_friendly_ephemeral_note(bot: RunningBot, fake: FakeDiscord, astronaut_jpeg: bytes) -> None:
    notes = []
    for _ in range(4):
        mark = len(fake.calls)
        await fake.slash(BOB, "popart", {"layout": "single"}, attachment=fake.attachment(astronaut_jpeg))
        notes.append(await fake.wait_for(lambda: next((c for c in fake.calls[mark:] if c.path.endswith("/callback")),
                                                      None)))
    last = notes[-1].payload
    assert last["type"] == 4 and last["data"]["flags"] & 64 and "try again" in last["data"]["content"]


async def test_jobs_outliving_the_interaction_token_post_to_the_channel(bot: RunningBot, fake: FakeDiscord,
                                                                        astronaut_jpeg: bytes, monkeypatch) -> None:
    import minime.bots.discord_bot.address as address

    monkeypatch.setattr(address, "INTERACTION_TOKEN_TTL_S", 0)
    mark = len(fake.calls)
    await fake.slash(ALICE, "actionfigure", {"name": "Late"}, attachment=fake.attachment(astronaut_jpeg))
    posted = await fake.wait_for_image(mark)
    assert posted.method == "POST" and posted.path == f"/channels/{ALICE + 1}/messages"
    message = message_of(fake, posted)
    assert_card(message, posted)
    assert f"<@{ALICE}>" in text_of(message) and "Late" in text_of(message)


async def test_verify_and_stats(bot: RunningBot, fake: FakeDiscord, astronaut_jpeg: bytes, no_person_png: bytes
                                ) -> None:
    mark = len(fake.calls)
    await fake.slash(ALICE, "retro", {"era": "90s"}, attachment=fake.attachment(astronaut_jpeg))
    delivered = Image.open(io.BytesIO(next(iter((await fake.wait_for_image(mark)).files.values()))))
    shrunk = io.BytesIO()
    delivered.resize((delivered.width // 2, delivered.height // 2)).save(shrunk, "JPEG", quality=75)
    for data, words in ((shrunk.getvalue(), "Yes, I made this"), (no_person_png, "I didn't make")):
        mark = len(fake.calls)
        await fake.slash(ALICE, "verify", attachment=fake.attachment(data, "check.jpg", "image/jpeg"))
        answer = await fake.wait_for(lambda: next((c for c in fake.calls[mark:]
                                                   if (c.payload.get("content") or "").startswith(words)), None))
        assert answer.payload.get("flags", 0) & 64, "only the asker sees the answer"
    mark = len(fake.calls)
    await fake.slash(ALICE, "stats")
    await fake.wait_for(lambda: any("Images you have with me: 1" in ((c.payload.get("data") or {}).get("content")
                                                                     or "") for c in fake.calls[mark:]))
