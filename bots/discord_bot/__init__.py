"""The Discord adapter (discord.py v2): slash commands, persistent buttons, and Studio events as messages."""
