"""Logs never carry image bytes, file URLs or tokens."""

from __future__ import annotations

import logging

from minime.core.logs import configure_logging, get_logger, redact_text


def test_redaction_in_structured_and_library_logs(capsys) -> None:
    configure_logging("INFO")
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
    get_logger("t").info("sending", token=token, photo=b"\xff\xd8\xff" * 1000,
                         url=f"https://api.telegram.org/file/bot{token}/photos/file_1.jpg",
                         attachment="https://cdn.discordapp.com/attachments/1/2/selfie.png?ex=1")
    logging.getLogger("telegram.ext").warning("POST https://api.telegram.org/bot%s/getUpdates failed", token)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/sendPhoto", token)
    err = capsys.readouterr().err
    assert "sending" in err and "failed" in err
    assert token not in err and "AAHdq" not in err
    assert "selfie.png" not in err and "file_1.jpg" not in err
    assert "<3000 bytes>" in err and "\\xff" not in err
    assert "sendPhoto" not in err, "httpx request lines are kept out of INFO"


def test_redact_text_keeps_ordinary_words() -> None:
    assert redact_text("job done for user telegram:42") == "job done for user telegram:42"
