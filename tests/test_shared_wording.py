"""What the adapters share: the status pacer, image-file detection, and typed reply addresses stored with jobs."""

from __future__ import annotations

from minime.bots.discord_bot.address import DiscordReply
from minime.bots.telegram_bot.address import TelegramReply
from minime.core.intake import looks_like_image
from minime.core.pacing import StatusPacer


def test_status_lines_change_at_most_once_per_interval_and_never_to_the_same_text() -> None:
    now = [100.0]
    pacer = StatusPacer(1.5, clock=lambda: now[0])
    assert pacer.allow("status", "Making your image… 10%")
    now[0] += 0.5
    assert not pacer.allow("status", "Making your image… 20%")  # too soon
    assert pacer.allow("other", "You're next")  # another line has its own pace
    now[0] += 1.5
    assert not pacer.allow("status", "Making your image… 10%")  # nothing new to show
    assert pacer.allow("status", "Making your image… 30%")
    assert pacer.allow("status", "😕 failed", final=True)  # a last word always goes
    pacer.forget("status")
    assert pacer.allow("status", "😕 failed")


def test_image_files_are_recognised_by_type_or_name() -> None:
    assert looks_like_image("image/heic", None)
    assert looks_like_image(None, "IMG_0001.HEIC")
    assert looks_like_image("application/octet-stream", "selfie.jpeg")
    assert not looks_like_image("application/pdf", "cv.pdf")
    assert not looks_like_image(None, None)


def test_telegram_reply_addresses_round_trip_through_the_job_and_read_older_ones() -> None:
    address = TelegramReply(chat_id=42, message_id=7, status_id=8)
    assert TelegramReply.from_dict(address.as_dict()) == address
    assert TelegramReply.from_dict({"chat_id": 42, "message_id": 7}) == TelegramReply(42, 7, None)
    assert TelegramReply.from_dict({"chat": 1}) is None  # a job that did not come from Telegram


def test_discord_reply_addresses_round_trip_and_keep_the_token_out_of_reprs() -> None:
    address = DiscordReply("interaction", channel_id=5, owner=9, message_id=11, application_id=3,
                           token="secret-token", created=1000.0, upload_limit=25 * 2**20)
    assert DiscordReply.from_dict(address.as_dict()) == address
    assert "secret-token" not in repr(address)
    assert address.token_alive(now=1000.0 + 60) and not address.token_alive(now=1000.0 + 15 * 60)
    older = {"kind": "channel", "channel_id": "5", "message_id": 12, "reference_id": 10, "owner": 9}
    assert DiscordReply.from_dict(older) == DiscordReply("channel", 5, 9, message_id=12, reference_id=10)
    assert DiscordReply.from_dict({"chat": 1}) is None
