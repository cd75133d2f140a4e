"""Logging through structlog, with a redaction step: no image bytes, file URLs or tokens ever reach a log line."""

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


def redact_text(text: str) -> str:
    """Mask tokens and file URLs inside free text."""
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


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
    """structlog processor: scrub every field."""
    return {k: _redact_value(v) for k, v in event_dict.items()}


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
