"""The Telegram application: handlers registered in one place, polling or webhook, started beside the Studio."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from pydantic import SecretStr
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from minime.bots.telegram_bot import handlers
from minime.bots.telegram_bot.delivery import TelegramDelivery
from minime.bots.telegram_bot.groups import ADDRESSED
from minime.bots.telegram_bot.limits import GROUP_MAX_PER_MINUTE, MAX_COMMAND_DESCRIPTION, OVERALL_MAX_PER_S, PLATFORM
from minime.bots.telegram_bot.private import PrivateReplies
from minime.bots.telegram_bot.webhook import WebhookServer
from minime.core import i18n
from minime.core.i18n import gettext as _
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.studio import Studio

log = get_logger("minime.telegram")


def build_application(studio: Studio, settings: Settings) -> Application:
    """A python-telegram-bot Application wired to the Studio."""
    root = settings.telegram_api_root.rstrip("/")
    app = (ApplicationBuilder()
           .token(settings.telegram_token.get_secret_value())
           .base_url(f"{root}/bot")
           .base_file_url(f"{root}/file/bot")
           .rate_limiter(AIORateLimiter(overall_max_rate=OVERALL_MAX_PER_S, overall_time_period=1,
                                        group_max_rate=GROUP_MAX_PER_MINUTE, group_time_period=60, max_retries=3))
           .concurrent_updates(True)
           .connect_timeout(10).read_timeout(30).write_timeout(60).media_write_timeout(60)
           .get_updates_read_timeout(40)
           .post_init(_post_init)
           .build())
    app.bot_data.update(studio=studio, settings=settings, private=PrivateReplies(app.bot))
    new = filters.UpdateType.MESSAGE  # an edited message is not a new request (edits are frequent in groups)
    app.add_handler(TypeHandler(Update, handlers.language), group=-1)  # every update: its sender's language first
    app.add_handlers([
        CommandHandler(["start", "help"], handlers.start, new),
        CommandHandler("privacy", handlers.privacy, new),
        CommandHandler("themes", handlers.themes, new),
        CommandHandler("undo", handlers.undo, new),
        CommandHandler("forget", handlers.forget, new),
        CommandHandler("status", handlers.status, new),
        CommandHandler("cancel", handlers.cancel, new),
        CommandHandler("admin", handlers.admin, new),
        CommandHandler("verify", handlers.verify, new),
        CommandHandler("stats", handlers.stats, new),
        MessageHandler(new & (filters.PHOTO | filters.Document.ALL) & filters.CaptionRegex(r"^/verify\b"),
                       handlers.verify),
        CommandHandler(studio.theme_command_names(), handlers.theme_command, new),
        MessageHandler(new & filters.PHOTO, handlers.photo),
        MessageHandler(new & filters.Document.ALL, handlers.document),
        MessageHandler(new & filters.TEXT & ~filters.COMMAND & ADDRESSED, handlers.text),
        MessageHandler(new & filters.COMMAND, handlers.unknown_command),
        CallbackQueryHandler(handlers.button),
        ChatMemberHandler(handlers.added_to_group, ChatMemberHandler.MY_CHAT_MEMBER),
    ])
    app.add_error_handler(handlers.error)
    return app


def command_menu(studio: Studio) -> list[BotCommand]:
    """The command menu, in the current language (core.i18n)."""
    commands = [BotCommand("start", _("What I do")), BotCommand("themes", _("Every look, with a preview"))]
    commands += [BotCommand(spec.command, spec.description[:MAX_COMMAND_DESCRIPTION])
                 for spec in studio.theme_commands()]
    commands += [BotCommand("undo", _("Back to the previous image")),
                 BotCommand("verify", _("Did minime make this image? (reply it to the image)")),
                 BotCommand("stats", _("Your images and the energy they took")),
                 BotCommand("status", _("Your image in the queue, and images left today")),
                 BotCommand("cancel", _("Call off the image you're waiting for")),
                 BotCommand("privacy", _("What I keep")),
                 BotCommand("forget", _("Delete everything of yours")), BotCommand("help", _("How to use me"))]
    return commands


async def _post_init(app: Application) -> None:
    studio: Studio = app.bot_data["studio"]
    await app.bot.set_my_commands(command_menu(studio))  # English: everyone whose language has no menu of its own
    for name in i18n.LANGUAGES:
        if name != i18n.ENGLISH:
            with i18n.using(name):
                await app.bot.set_my_commands(command_menu(studio), language_code=i18n.telegram_code(name))


class TelegramRunner:
    """Starts and stops the bot inside the shared event loop (``minime telegram`` and ``minime serve``)."""

    def __init__(self, studio: Studio, settings: Settings) -> None:
        self.studio, self.settings = studio, settings
        self.app = build_application(studio, settings)
        self.delivery = TelegramDelivery(self.app.bot, studio.catalog)
        self.webhook: WebhookServer | None = None
        studio.subscribe(PLATFORM, self.delivery)

    async def start(self) -> None:
        """Initialise, then poll (default) or listen for webhooks."""
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        url = self.settings.telegram_webhook_url
        if url:
            secret = self.settings.telegram_webhook_secret
            if secret is None:  # without one, anyone who finds the URL can post updates as any user
                secret = SecretStr(secrets.token_urlsafe(32))
                log.warning("MINIME_TELEGRAM_WEBHOOK_SECRET is not set: using a random secret for this run "
                            "(Telegram is given it with the webhook); set one to keep it across restarts")
            self.webhook = WebhookServer(self.app, secret=secret.get_secret_value(),
                                         path=urlparse(url).path.lstrip("/") or "telegram",
                                         listen=self.settings.telegram_webhook_listen,
                                         port=self.settings.telegram_webhook_port)
            await self.webhook.start()
            await self.app.bot.set_webhook(url, secret_token=secret.get_secret_value(),
                                           allowed_updates=Update.ALL_TYPES)
            log.info("telegram webhook listening", port=self.settings.telegram_webhook_port)
        else:
            await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("telegram polling started")

    async def stop_receiving(self) -> None:
        """Take no more updates (polling or webhook); the bot can still send, so running jobs get delivered."""
        if self.webhook is not None:
            await self.webhook.stop()
        if self.app.updater and self.app.updater.running:
            await self.app.updater.stop()

    async def stop(self) -> None:
        """Stop receiving, finish what is in flight, and close."""
        await self.stop_receiving()
        if self.app.running:
            await self.app.stop()
        await self.delivery.close()
        await self.app.shutdown()
