"""The Telegram adapter (python-telegram-bot v22): translates updates into Studio calls and events into messages."""
