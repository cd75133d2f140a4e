"""The composition root: the one place where settings become a running Studio and adapters."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable
from contextlib import suppress
from typing import Any

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
    stop = _stop_on_signal()
    studio = build_studio(settings)
    await studio.start()
    if settings.metrics_port:
        from minime.core.metrics import serve_metrics

        serve_metrics(settings.metrics_port, settings.metrics_host)
        log.info("metrics served", url=f"http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    adapters: list[Any] = []
    try:
        if web:
            from minime.bots.web.server import start_web

            adapters.append(_WebAdapter(await start_web(studio, settings)))
        if telegram:
            from minime.bots.telegram_bot.app import TelegramRunner

            runner = TelegramRunner(studio, settings)
            adapters.append(runner)
            await _until(runner.start(), stop)
        if discord:
            from minime.bots.discord_bot.bot import DiscordRunner

            discord_runner = DiscordRunner(studio, settings)
            adapters.append(discord_runner)
            await _until(discord_runner.start(), stop)
        if not stop.is_set():
            log.info("minime is running", engine=studio.engine.name, themes=len(studio.catalog), telegram=telegram,
                     discord=discord, web=f"http://{settings.web_host}:{settings.web_port}" if web else None)
        await stop.wait()
    finally:
        await shutdown(studio, adapters, settings.shutdown_grace_s)


async def shutdown(studio: Studio, adapters: list[Any], grace_s: float) -> None:
    """Stop in the order that loses nothing: take no more updates; let running jobs finish and their results be
    delivered (up to ``grace_s``); then close the adapters; then the Studio. Every step is bounded in time, so a
    platform that cannot be reached never keeps the process alive."""
    log.info("stopping", grace_s=grace_s)
    for adapter in adapters:
        if hasattr(adapter, "stop_receiving"):
            await _bounded(adapter.stop_receiving(), 10, "stop receiving")
    await _bounded(studio.drain(grace_s), grace_s + 5, "drain jobs and deliveries")
    for adapter in reversed(adapters):
        await _bounded(adapter.stop(), 10, "close an adapter")
    await _bounded(studio.stop(), 15, "stop the studio")
    log.info("stopped")


async def _bounded(step: Awaitable[Any], timeout: float, what: str) -> None:
    try:
        await asyncio.wait_for(step, timeout)
    except TimeoutError:
        log.warning("shutdown step took too long; moving on", step=what, timeout_s=timeout)
    except Exception as exc:
        log.warning("shutdown step failed; moving on", step=what, error_type=type(exc).__name__, error=str(exc))


async def _until(step: Awaitable[Any], stop: asyncio.Event) -> None:
    """Run a start-up step, unless a stop signal comes first (a platform that is unreachable at start-up)."""
    task = asyncio.ensure_future(step)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return
    task.result()


class _WebAdapter:
    """The playground's aiohttp runner in the adapter shape the shutdown expects."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    async def stop(self) -> None:
        await self.runner.cleanup()


def _stop_on_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
