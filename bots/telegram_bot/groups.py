"""Who a message in a group is for. In a group minime acts on commands, on replies to its own messages and on
messages that mention it, never on other chatter (with privacy mode off a bot sees every message of a group)."""

from __future__ import annotations

from telegram import Chat, Message, MessageEntity
from telegram.ext import filters


def is_group(message: Message) -> bool:
    """A group or supergroup (not a private chat or a channel)."""
    return message.chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def replies_to_bot(message: Message) -> bool:
    """The message answers one of the bot's own messages."""
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id)


def mentions_bot(message: Message) -> bool:
    """The text or caption names the bot (``@minime_bot``, or a text mention of its account)."""
    bot = message.get_bot()
    kinds = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    found = {**message.parse_entities(kinds), **message.parse_caption_entities(kinds)}
    for entity, text in found.items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
        if entity.type == MessageEntity.MENTION and bot.username and text[1:].lower() == bot.username.lower():
            return True
    return False


def without_mention(message: Message, text: str) -> str:
    """``text`` without the bot's @name in it (``@minime_bot warmer please`` → ``warmer please``)."""
    username = message.get_bot().username
    return " ".join(word for word in text.split() if word.lower() != f"@{username}".lower()) if username else text


def split_command(message: Message, text: str) -> tuple[str, str | None] | None:
    """``/figurine@minime_bot Ada`` → ``("figurine", "Ada")``; None when it is no command, or one for another bot."""
    first, _, rest = text.strip().partition(" ")
    if not first.startswith("/") or len(first) < 2:
        return None
    command, _, addressee = first[1:].partition("@")
    username = message.get_bot().username or ""
    if addressee and addressee.lower() != username.lower():
        return None
    return command.lower(), rest.strip() or None


class _Addressed(filters.MessageFilter):
    """A message minime should act on: any in a private chat; in a group, a reply to the bot or a mention of it."""

    def filter(self, message: Message) -> bool:
        return not is_group(message) or replies_to_bot(message) or mentions_bot(message)


ADDRESSED = _Addressed(name="ADDRESSED")
