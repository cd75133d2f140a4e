"""The composition root: the one place where settings become a running Studio and adapters."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from minime.core import malloc
from minime.core.access import Access
from minime.core.checks import FaceIdentity, SafetyCheck
from minime.core.content_credentials import ContentCredentials
from minime.core.energy import EnergyMeter
from minime.core.engines import Engine, create_engine, theme_catalog
from minime.core.engines.classic import ClassicEngine
from minime.core.events import EventHub
from minime.core.figures import FigureFiles
from minime.core.gallery import PreviewCache
from minime.core.job_writer import JobWriter
from minime.core.jobs import JobRunner, worker_id
from minime.core.logs import configure_logging, get_logger
from minime.core.pipeline import RenderPipeline
from minime.core.queries import UserQueries
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.studio import Studio
from minime.core.sweeper import Sweeper
from minime.core.user_locks import UserLocks
from minime.core.verify import Verifier

log = get_logger("minime.app")


def build_studio(settings: Settings, *, engine: Engine | None = None,
                 clock: Callable[[], float] = time.time) -> Studio:
    """Build every collaborator from the settings and wire them into a Studio (not started yet).

    Args:
        settings: the configuration.
        engine: the engine to render with (default: the one ``MINIME_ENGINE`` names); a benchmark's timed wrapper or a
            test's failing engine goes here.
        clock: "now" as a UNIX timestamp, for everything dated (expiry, leases, rate limits, the quota's UTC day);
            tests pin it away from midnight.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    malloc.limit_arenas()  # before the render threads exist: freed memory gathers in fewer places
    store, blobs = Store(settings.resolved_database_url, clock=clock), BlobStore(settings.blob_dir)
    engine = engine or create_engine(settings)
    catalog = theme_catalog(settings)
    events, owner = EventHub(), worker_id()
    pipeline = RenderPipeline(
        store, blobs, engine, catalog, settings, owner=owner, events=events,
        energy=EnergyMeter(settings.energy_country, settings.energy_tracking),
        credentials=(ContentCredentials(settings.c2pa_cert_chain, settings.c2pa_private_key, settings.c2pa_algorithm,
                                        settings.c2pa_timestamp_url)
                     if settings.c2pa_cert_chain and settings.c2pa_private_key else None),
        identity=FaceIdentity() if settings.identity_check else None,
        safety=(SafetyCheck(settings.nsfw_model, settings.nsfw_labels, settings.nsfw_threshold)
                if settings.nsfw_model else None),
    )
    runner, access = JobRunner(store, pipeline, events.emit, settings, owner=owner), Access(store, settings)
    queries = UserQueries(store, blobs)
    figures = FigureFiles(store, blobs, catalog, ClassicEngine(settings.work_size), access, queries, settings)
    return Studio(
        store, blobs, engine, catalog, settings,
        events=events,
        runner=runner,
        pipeline=pipeline,
        verifier=Verifier(store, blobs, catalog, pipeline.fingerprints_booked),
        previews=PreviewCache(settings.data_dir / "cache", list(catalog), ClassicEngine(512),
                              settings.themes_dir / "assets"),
        access=access,
        sweeper=Sweeper(store, blobs, derived=figures.cache_keys),
        queries=queries,
        jobs=JobWriter(store, runner, events, catalog, access, settings),
        user_locks=UserLocks(),
        figures=figures,
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
    try:
        await _check_engine_access(studio)  # before any job (a resumed one too) could send a selfie
    except BaseException:
        await studio.engine.close()
        raise
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
