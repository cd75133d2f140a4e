"""The composition root: the one place where settings become a running Studio and adapters."""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress

from minime.core.engines import create_engine, theme_catalog
from minime.core.logs import configure_logging, get_logger
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.studio import Studio

log = get_logger("minime.app")


def build_studio(settings: Settings) -> Studio:
    """Wire the store, blob folder, engine and theme catalogue into a Studio (not started yet)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Studio(
        store=Store(settings.resolved_database_url),
        blobs=BlobStore(settings.blob_dir),
        engine=create_engine(settings),
        catalog=theme_catalog(settings),
        settings=settings,
    )


async def serve(settings: Settings, *, web: bool = True, telegram: bool | None = None,
                discord: bool | None = None) -> None:
    """Run the Studio with the chosen adapters until SIGINT/SIGTERM (``None``: run it when its token is set)."""
    configure_logging(settings.log_level, settings.log_json)
    telegram = bool(settings.telegram_token) if telegram is None else telegram
    discord = bool(settings.discord_token) if discord is None else discord
    if telegram and not settings.telegram_token:
        raise ValueError("MINIME_TELEGRAM_TOKEN is not set")
    if discord and not settings.discord_token:
        raise ValueError("MINIME_DISCORD_TOKEN is not set")
    studio = build_studio(settings)
    await studio.start()
    try:
        await _check_engine_access(studio)
    except BaseException:
        await studio.stop()
        raise
    if settings.metrics_port:
        from minime.core.metrics import serve_metrics

        serve_metrics(settings.metrics_port, settings.metrics_host)
        log.info("metrics served", url=f"http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    stops = []
    try:
        if web:
            from minime.bots.web.server import start_web

            stops.append((await start_web(studio, settings)).cleanup)
        if telegram:
            from minime.bots.telegram_bot.app import TelegramRunner

            runner = TelegramRunner(studio, settings)
            await runner.start()
            stops.append(runner.stop)
        if discord:
            from minime.bots.discord_bot.bot import DiscordRunner

            discord_runner = DiscordRunner(studio, settings)
            await discord_runner.start()
            stops.append(discord_runner.stop)
        log.info("minime is running", engine=studio.engine.name, themes=len(studio.catalog), telegram=telegram,
                 discord=discord, web=f"http://{settings.web_host}:{settings.web_port}" if web else None)
        await _wait_for_signal()
    finally:
        for stop in reversed(stops):
            with suppress(Exception):
                await stop()
        await studio.stop()


async def _check_engine_access(studio: Studio) -> None:
    """A hosted model's key and model are checked before any user is served (no image is sent): a rejected key
    stops start-up with the operator's message; a service that is only unreachable now is left to recover."""
    check = getattr(studio.engine, "check_access", None)
    if check is None:
        return
    from minime.core.engines.hosted import HostedUnavailable

    try:
        await check()
    except HostedUnavailable as exc:
        log.warning("the hosted image model can't be reached yet; starting anyway", reason=exc.user_message)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
