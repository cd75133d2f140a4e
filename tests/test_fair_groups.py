"""Fair groups, with the real python-telegram-bot against the fake Bot API: in a group with a chat quota of 4 one
member gets at most 2 pictures (half, MINIME_CHAT_MEMBER_SHARE) and another still gets pictures; an admin's grant to
the chat lets one more through; /admin, quota refusals and /status reach only the member who asked (Bot API 10.2
ephemeral messages), or, where the server refuses those, a quiet reply that does not notify the group."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from minime.bots.telegram_bot.app import TelegramRunner
from minime.core.quotas import chat_subject, member_subject
from minime.core.settings import Settings
from tests.conftest import RunningBot, midday_clock
from tests.fake_telegram import FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
GROUP = -1001234567890
CHAT = f"telegram:{GROUP}"
ADA, BO, CY, ADMIN = 401, 402, 403, 999


@pytest.fixture()
async def fake():
    server = FakeTelegram(TOKEN)
    await server.start()
    server.add_group(GROUP, "Fair club")
    yield server
    await server.stop()


def _public(fake: FakeTelegram, mark: int, words: str) -> list:
    """What the bot posted for the whole group since ``mark`` containing ``words`` (not ephemeral messages)."""
    return [c for c in fake.calls[mark:] if c.method == "sendMessage" and c.params.get("chat_id") == GROUP
            and "ephemeral_message_parameters" not in c.params and words in c.params.get("text", "")]


def _settings(tmp_path: Path, fake: FakeTelegram) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", telegram_token=SecretStr(TOKEN),
                    telegram_api_root=fake.root, job_lease_s=5.0, admins=[f"telegram:{ADMIN}"], chat_daily_quota=4)


async def _ask(fake: FakeTelegram, user: int, command: str, selfie: bytes | None = None) -> str:
    """A member asks in the group; returns "picture", or the text of the answer only they see."""
    mark = len(fake.calls)
    seen = len(fake.ephemeral)
    if selfie is not None:
        await fake.send_photo(user, selfie, caption=command, chat=GROUP)
    else:
        await fake.send_text(user, command, chat=GROUP)

    def outcome() -> str | None:
        if fake.sent("sendPhoto", GROUP)[len([c for c in fake.calls[:mark] if c.method == "sendPhoto"
                                              and c.params.get("chat_id") == GROUP]):]:
            return "picture"
        mine = [m for m in fake.ephemeral[seen:] if m["receiver_user"]["id"] == user]
        return mine[0]["text"] if mine else None
    return await fake.wait_for(outcome, 90)


async def test_a_member_gets_half_of_the_groups_day_the_others_keep_theirs_and_a_grant_adds_one(
        tmp_path: Path, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    bot = await RunningBot(_settings(tmp_path, fake), TelegramRunner, clock=midday_clock).start()
    store = bot.studio.store
    try:
        assert await _ask(fake, ADA, "/popart", astronaut_jpeg) == "picture"
        assert await _ask(fake, ADA, "/retro 70s") == "picture"
        mark = len(fake.calls)
        refusal = await _ask(fake, ADA, "/retro 80s")
        assert "your share of this group's images" in refusal, refusal
        assert not _public(fake, mark, "share"), "the refusal is Ada's alone"
        assert (await store.usage_of(member_subject(CHAT, f"telegram:{ADA}")))[0] == 2

        # Bo still gets pictures: Ada's share is not the group's whole day
        assert await _ask(fake, BO, "/popart", astronaut_jpeg) == "picture"
        assert await _ask(fake, BO, "/retro 70s") == "picture"
        assert (await store.usage_of(chat_subject(CHAT)))[0] == 4
        refusal = await _ask(fake, CY, "/popart", astronaut_jpeg)
        assert "This chat has had all 4 of its images" in refusal, refusal

        # /status in the group: Cy's own answer, with the group's id for an admin
        status = await _ask(fake, CY, "/status")
        assert "Images left for this group today: 0" in status and f"This group's id: {CHAT}" in status

        # The admin asks in the group: the report comes by direct message, never in the group
        mark = len(fake.calls)
        await fake.send_text(ADMIN, f"/admin grant {CHAT} 1", chat=GROUP)
        granted = await fake.wait_for_call("sendMessage", ADMIN, mark)
        assert "Granted 1 more image to the group" in granted.params["text"]
        assert not _public(fake, mark, "Granted")
        assert await _ask(fake, CY, "/popart") == "picture", "the grant lets one more through"
        assert "This chat has had all 5" in await _ask(fake, BO, "/retro 90s")
    finally:
        await bot.stop()


async def test_where_the_server_refuses_ephemeral_messages_the_answer_is_a_quiet_reply(
        tmp_path: Path, fake: FakeTelegram) -> None:
    fake.ephemeral_refused = True
    bot = await RunningBot(_settings(tmp_path, fake), TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        asked = await fake.send_text(ADA, "/status", chat=GROUP)

        def quiet_reply():
            return next((c for c in fake.calls[mark:] if c.method == "sendMessage" and isinstance(c.result, dict)
                         and c.params.get("chat_id") == GROUP and "Your id" in c.params.get("text", "")), None)
        call = await fake.wait_for(quiet_reply, 30)
        assert call.params["disable_notification"] in (True, "true", "True")
        assert call.params["reply_parameters"]["message_id"] == asked["message_id"]
    finally:
        await bot.stop()


async def test_a_render_that_fails_in_a_group_is_told_to_its_asker_alone(
        tmp_path: Path, fake: FakeTelegram, astronaut_jpeg: bytes) -> None:
    """A hosted model's safety refusal (the real openai SDK against the fake OpenAI API) in a group: the asker gets
    it as an ephemeral message, the group sees no failure, the status line goes, and the image is not counted."""
    from tests.fake_hosted import FakeOpenAI

    model = FakeOpenAI("minime-test-key-groups-5e6f")
    root = await model.start()
    model.refuse = True
    settings = _settings(tmp_path, fake).model_copy(update={
        "engine": "hosted", "hosted_provider": "openai", "hosted_api_key": SecretStr(model.key),
        "hosted_base_url": root + "/v1"})
    bot = await RunningBot(settings, TelegramRunner, clock=midday_clock).start()
    try:
        mark = len(fake.calls)
        told = await _ask(fake, ADA, "/popart", astronaut_jpeg)
        assert "declined to make this picture" in told, told
        assert not _public(fake, mark, "declined"), "the group doesn't see it"
        assert not [c for c in fake.calls[mark:] if c.method == "editMessageText" and "declined" in
                    c.params.get("text", "")], "nor is it written on the public status line"
        await fake.wait_for(lambda: any(c.method == "deleteMessage" for c in fake.calls[mark:]) or None, 30)
        assert (await bot.studio.store.usage_of(chat_subject(CHAT)))[0] == 0, "a failed render costs nothing"
    finally:
        await bot.stop()
        await model.stop()


async def test_an_admin_grants_a_discord_channel_known_by_its_id(studio, alice) -> None:
    """Discord's channel and user ids look alike: a channel minime was asked in is a chat to /admin grant."""
    from minime.core.domain import UserKey

    admin = UserKey("discord", "1")
    studio.settings.admins = ["discord:1"]
    studio.settings.chat_daily_quota = 4
    assert "to discord:777 for today" in await studio.admin(admin, "grant discord:777 2"), "unknown: a user"
    await studio.store.grant(chat_subject("discord:888"), 0)  # the channel's usage row: minime was used there
    answer = await studio.admin(admin, "grant discord:888 2")
    assert "to the group discord:888" in answer and "6 left today" in answer, answer
