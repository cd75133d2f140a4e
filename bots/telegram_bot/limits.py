"""Telegram's limits, in one place (https://core.telegram.org/bots/api, https://core.telegram.org/bots/faq)."""

PLATFORM = "telegram"
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024  # bots can download files up to 20 MB
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto takes up to 10 MB …
PHOTO_MAX_SIDE_SUM = 10_000  # … with width + height at most 10000 (else send as a document)
CAPTION_MAX = 1024
FILE_MAX_BYTES = 50 * 1024 * 1024  # sendAnimation and sendDocument take files up to 50 MB
CALLBACK_DATA_MAX = 64
STATUS_EDIT_INTERVAL_S = 1.5  # ~1 message per second per chat, edits included: keep progress edits slower
CHAT_ACTION_REFRESH_S = 4.5  # a chat action shows for 5 seconds
SEND_ATTEMPTS = 3  # network errors on our side are retried this often (429s are the rate limiter's job)
MAX_COMMAND_DESCRIPTION = 256  # setMyCommands: a command description is 1–256 characters
OVERALL_MAX_PER_S = 30  # messages a bot may send per second overall …
GROUP_MAX_PER_MINUTE = 20  # … and per group per minute (PTB's AIORateLimiter holds both)
GROUP_STATUS_EDIT_INTERVAL_S = 12.0  # in a group progress edits share those 20 a minute: far fewer of them
