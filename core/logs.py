"""Logging through structlog, with a redaction step: no image bytes, file URLs, tokens or personal data ever reach
a log line, at any level (MINIME_LOG_LEVEL=DEBUG included)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_TOKEN_PATTERNS = [
    re.compile(r"https?://\S*(?:/file/|attachments|cdn\.discordapp|media\.discordapp)\S*"),  # file URLs
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot token
    re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b"),  # Discord bot token
    re.compile(r"(?i)\b(bot|file/bot)[^/\s]*:[^/\s]+"),  # anything after /bot in Bot API URLs
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),  # OpenAI API keys (a provider's error text may quote one)
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"),  # Google API keys
]
_MAX_FIELD = 500
_MAX_TRACEBACK = 50_000  # a whole traceback, chained causes included; only a runaway one is cut
OURS = "minime"
_FRAME = re.compile(r'^[\s|]*File "')
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\(|$))", re.S)  # SQLAlchemy quotes the row it wrote
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")  # a quoted value in a message


def redact_text(text: str) -> str:
    """Mask tokens and file URLs inside free text."""
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


def redact_traceback(text: str) -> str:
    """A whole traceback, kept whole (its cause is usually at the end), with secrets masked and the values an
    exception's message quotes (a typed name, a caption, a file id, a row's parameters) replaced by ``'…'``. The
    frames and their source lines are our code and stay as they are."""
    text = _SQL_PARAMETERS.sub("[parameters: …]", redact_text(text))
    out, previous = [], "message"
    for line in text.splitlines():
        if _FRAME.match(line):
            kind = "frame"
        elif previous == "frame" and line.startswith((" ", "|")) and line.strip(" |"):
            kind = "source"
        elif previous == "source" and line.strip(" |") and set(line.strip(" |")) <= set("^~"):
            kind = "carets"
        else:
            kind = "message"
        out.append(_QUOTED.sub("'…'", line) if kind == "message" else line)
        previous = kind
    text = "\n".join(out)
    return text if len(text) <= _MAX_TRACEBACK else text[:_MAX_TRACEBACK] + "…"


def _redact_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        value = redact_text(value)
        return value if len(value) <= _MAX_FIELD else value[:_MAX_FIELD] + "…"
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v) for v in value)
    return value


def redact(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: scrub every field (a traceback whole, the others cut at 500 characters)."""
    return {k: redact_traceback(v) if k == "exception" and isinstance(v, str) else _redact_value(v)
            for k, v in event_dict.items()}


class OnlyOursBelowInfo(logging.Filter):
    """Lets a library's records through from INFO up only. At DEBUG, client libraries log whole payloads:
    python-telegram-bot every update and API answer (first and user names, texts, file ids), aiosqlite and
    SQLAlchemy the rows they write; no redaction can know every field of those, so they are not written at all.
    minime's own DEBUG records pass (they carry ids, never content)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO or record.name == OURS or record.name.startswith(OURS + ".")


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    """Route structlog and the standard library's logging through the same redacting pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(OnlyOursBelowInfo())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Client libraries log request URLs (which hold the bot token) at INFO: keep them to warnings.
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "google_genai.models", "telegram.ext.Updater",
                  "discord.http", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A named structlog logger."""
    return structlog.get_logger(name)
