"""The Studio: the one facade every adapter uses. Adapters pass plain values in and render events that come out."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from minime.core import intake, metrics, provenance, texts, watermark
from minime.core.adjust import finish
from minime.core.admin import parse_admin
from minime.core.buttons import BUTTONS
from minime.core.checks import FaceIdentity, SafetyCheck
from minime.core.content_credentials import ContentCredentials
from minime.core.domain import (
    Done,
    Event,
    Failed,
    Job,
    JobKind,
    JobState,
    Queued,
    RenderParams,
    Result,
    ThemeCommand,
    ThemeInfo,
    UserKey,
    new_id,
)
from minime.core.energy import EnergyMeter, Measurement
from minime.core.engines import Engine, RenderRequest
from minime.core.engines.classic import ClassicEngine
from minime.core.errors import (
    AdminOnly,
    ArgumentRequired,
    NoSelfie,
    NotAllowed,
    NothingToRefine,
    NothingToUndo,
    NotYours,
    ResultNotFound,
    UnknownRefinement,
    UnsafeOutput,
)
from minime.core.gallery import PreviewCache
from minime.core.jobs import JobRunner
from minime.core.logs import get_logger
from minime.core.quotas import Allowance, Quota, chat_subject, left, seconds_until_reset, user_subject
from minime.core.refine import Refinement, parse_refinement
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.themes import Theme, ThemeCatalog, split_things

log = get_logger("minime.studio")

Sink = Callable[[Event], Awaitable[None]]

BOOKKEEPING_WAIT_S = 30.0  # a result's fingerprint and energy are stored once it is sent, or after this long
DELIVERY_BACKOFF_S = (2.0, 4.0, 8.0, 16.0)  # ~30 s of retries: a platform refusing uploads for 20 s still gets them
UNDELIVERED = ("I made your image but couldn't send it to you, even after several tries. "
               "Please send the command again in a moment.")


@dataclass(frozen=True)
class SelfieReceived:
    """A selfie was stored; ``job`` is the theme request that was waiting for it, if any."""

    selfie_id: str
    job: Job | None
    width: int
    height: int


@dataclass(frozen=True)
class Undone:
    """The previous result is current again; ``image`` is its stored bytes, unchanged."""

    result: Result
    image: bytes
    buttons: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    """What /verify found: whether minime made the image, how it knows, and the result if it is the user's."""

    made_by_minime: bool
    how: str | None = None  # "watermark" or "fingerprint"
    result: Result | None = None  # only when the result belongs to the asking user
    theme_title: str | None = None
    source_type: str | None = None

    def message(self) -> str:
        """The answer in words."""
        if not self.made_by_minime:
            return ("I didn't make this image: it carries no minime watermark and matches nothing I made in the "
                    "last week.")
        how = "its hidden watermark" if self.how == "watermark" else "its visual fingerprint"
        kind = provenance.description(self.source_type or "compositeSynthetic")
        if self.result is not None:
            return f"Yes, I made this: it's your {self.theme_title or 'image'} (recognised by {how}). {kind}"
        return f"Yes, this image was made with minime (recognised by {how}). {kind}"


@dataclass(frozen=True)
class Stats:
    """A user's images and what they cost."""

    images: int
    energy_wh: float
    gpu_wh: float  # the same number of images on a GPU diffusion model (estimate)
    price_per_kwh: float
    currency: str

    def message(self) -> str:
        """The /stats answer in words."""
        if not self.images:
            return "You haven't made any images yet (or they have expired). Send a selfie to start!"
        def money(wh: float) -> str:
            cost = wh / 1000 * self.price_per_kwh
            return f"{self.currency}{cost:.2f}" if cost >= 0.01 else f"under {self.currency}0.01"

        times = self.gpu_wh / self.energy_wh if self.energy_wh > 0 else 0
        lines = [f"Images you have with me: {self.images}",
                 f"Energy they took: {self.energy_wh:.3f} Wh ({money(self.energy_wh)} of electricity)",
                 f"The same on a GPU image model: about {self.gpu_wh:.1f} Wh ({money(self.gpu_wh)})"
                 + (f", {times:,.0f}× more" if times >= 1.5 else "")]
        return "\n".join(lines)


@dataclass(frozen=True)
class QueueStatus:
    """Where a user's work stands."""

    job: Job | None
    position: int
    eta_s: float
    queued_total: int
    running_total: int
    allowance: Allowance | None = None  # images left today (of the user, and of the chat asked in)


class Studio:
    """Receives selfies, applies themes, refines, undoes, forgets; runs renders as durable jobs."""

    def __init__(self, store: Store, blobs: BlobStore, engine: Engine, catalog: ThemeCatalog,
                 settings: Settings) -> None:
        self.store, self.blobs, self.engine, self.catalog, self.settings = store, blobs, engine, catalog, settings
        self.runner = JobRunner(store, self._execute, self._emit, settings)
        self._sinks: dict[str, list[Sink]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._warm_up: asyncio.Future[None] | None = None
        self._pending_emits: set[asyncio.Task[None]] = set()
        self._latest: dict[tuple[str, int], asyncio.Task[None]] = {}  # each job's last delivery, per sink
        self._fingerprinting: set[asyncio.Task[None]] = set()
        self._charging: set[asyncio.Task[None]] = set()
        self._delivered: dict[str, asyncio.Future[None]] = {}  # job id → set once its Done event was handed over
        self.delivery_backoff_s = DELIVERY_BACKOFF_S
        self.previews = PreviewCache(settings.data_dir / "cache", list(catalog), ClassicEngine(512),
                                     settings.themes_dir / "assets")
        self.energy = EnergyMeter(settings.energy_country, settings.energy_tracking)
        self.credentials = (ContentCredentials(settings.c2pa_cert_chain, settings.c2pa_private_key,
                                               settings.c2pa_algorithm, settings.c2pa_timestamp_url)
                            if settings.c2pa_cert_chain and settings.c2pa_private_key else None)
        self.identity = FaceIdentity() if settings.identity_check else None
        self.safety = (SafetyCheck(settings.nsfw_model, settings.nsfw_labels, settings.nsfw_threshold)
                       if settings.nsfw_model else None)

    # ---- life cycle ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Migrate the store, resume unfinished jobs, start the expiry sweeper."""
        await self.store.migrate()
        # codecarbon probes the hardware (~1.4 s) and starts the process's tracker: not on the start-up path.
        self._warm_up = asyncio.create_task(asyncio.to_thread(self.energy.warm_up), name="minime-energy-probe")
        await self.runner.start()
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="minime-sweeper")

    async def drain(self, timeout: float) -> None:
        """Start no more jobs; let the running ones finish and their results be delivered, for up to ``timeout``
        seconds. Queued jobs stay queued for the next start; what is still running after that is left for it too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.runner.drain(timeout)
        pending = set(self._pending_emits)
        if pending:
            await asyncio.wait(pending, timeout=max(0.1, deadline - loop.time()))
        undelivered = [task for task in self._pending_emits if not task.done()]
        if undelivered:
            log.warning("events still undelivered at shutdown", count=len(undelivered))

    async def stop(self) -> None:
        """Stop taking work; running jobs are left to be resumed after a restart."""
        if self._sweeper:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.runner.stop()
        if self._warm_up:
            await asyncio.gather(self._warm_up, return_exceptions=True)  # a thread: it can only be waited for
        for delivered in self._delivered.values():  # never emitted: keep the bookkeeping anyway
            if not delivered.done():
                delivered.set_result(None)
        await asyncio.gather(*self._fingerprinting, *self._charging, return_exceptions=True)
        await asyncio.to_thread(self.energy.close)
        if self._pending_emits:
            await asyncio.wait(self._pending_emits, timeout=5)
        # Nothing may still hold a database connection when the store closes (a connection left to the
        # garbage collector would be closed on a dead event loop).
        leftovers = list(self._pending_emits)
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await self.engine.close()
        await self.store.close()

    def subscribe(self, platform: str, sink: Sink) -> None:
        """Receive every event of jobs whose user is on ``platform`` (results of resumed jobs included)."""
        self._sinks.setdefault(platform, []).append(sink)

    def _emit(self, event: Event) -> None:
        deliveries = []
        for sink in self._sinks.get(event.job.user.platform, []):
            key = (event.job.id, id(sink))
            task = asyncio.get_running_loop().create_task(self._deliver_after(self._latest.get(key), sink, event))
            self._latest[key] = task
            self._pending_emits.add(task)
            task.add_done_callback(self._pending_emits.discard)
            task.add_done_callback(lambda done, key=key: self._latest.pop(key, None) if self._latest.get(key) is done
                                   else None)
            deliveries.append(task)
        delivered = self._delivered.pop(event.job.id, None) if isinstance(event, Done) else None
        if delivered is not None:  # the result's bookkeeping waits until the image is out
            def settle(_: Any = None) -> None:
                if not delivered.done():
                    delivered.set_result(None)
            if deliveries:
                asyncio.ensure_future(asyncio.wait(deliveries)).add_done_callback(settle)
            else:
                settle()

    async def _deliver_after(self, before: asyncio.Task[None] | None, sink: Sink, event: Event) -> None:
        """One job's events reach an adapter in the order they happened (a late progress line never lands on top
        of the result)."""
        if before is not None:
            await asyncio.wait([before])
        await self._deliver(sink, event)

    async def _deliver(self, sink: Sink, event: Event) -> None:
        """Hand an event to an adapter; a result or a failure is retried with backoff (a platform that refuses
        uploads for a while still gets it), and a result that never gets through is reported to its user."""
        final = isinstance(event, (Done, Failed))
        delays = self.delivery_backoff_s if final else ()
        for attempt in range(len(delays) + 1):
            try:
                await sink(event)
                return
            except Exception as exc:  # the platform's own errors: the adapter knows them, the Studio does not
                fields = {"job": event.job.id, "event_type": type(event).__name__, "error_type": type(exc).__name__,
                          "error": str(exc)[:200]}
                if attempt < len(delays):
                    log.warning("delivery failed; retrying", **fields, attempt=attempt + 1)
                    await asyncio.sleep(delays[attempt])
                else:
                    log.error("delivery failed; giving up", **fields, attempts=attempt + 1)
        if isinstance(event, Done):
            try:
                await sink(Failed(event.job, UNDELIVERED))
            except Exception as exc:
                log.error("could not tell the user their image was not delivered", job=event.job.id,
                          error_type=type(exc).__name__)

    # ---- queries -------------------------------------------------------------------------------------------------

    def themes(self) -> list[ThemeInfo]:
        """Every theme this engine can make, for menus and help."""
        return [t.info() for t in self.catalog]

    def theme_commands(self) -> list[ThemeCommand]:
        """One chat command per command name, with its option and choices (menus and slash commands)."""
        return self.catalog.command_specs()

    def theme_command_names(self) -> list[str]:
        """Every theme command of the theme files, also of looks this engine cannot make (asking for one of those
        gets the reason instead of "unknown command")."""
        return sorted({t.command for t in self.catalog.everything()})

    def buttons(self, result: Result) -> tuple[str, ...]:
        """The refinement buttons of a result's theme."""
        return self.catalog.get(result.theme_id).buttons

    async def gallery(self) -> bytes:
        """The labelled sheet of every theme (PNG), rendered once and cached."""
        return await asyncio.to_thread(self.previews.sheet)

    async def theme_preview(self, theme_id: str) -> bytes:
        """A small preview of one theme (JPEG), rendered once and cached."""
        self.catalog.get(theme_id)
        return await asyncio.to_thread(self.previews.preview, theme_id)

    async def status(self, user: UserKey, chat: str | None = None) -> QueueStatus:
        """The user's active job, the queue around it, and the images left today (theirs and ``chat``'s)."""
        job = await self.store.active_job(user)
        position = await self.store.queue_position(job.id) if job else 0
        return QueueStatus(job, position, self.runner.eta_s(position) if position else 0.0,
                           await self.store.count_jobs(JobState.QUEUED), await self.store.count_jobs(JobState.RUNNING),
                           await self.allowance(user, chat))

    async def allowance(self, user: UserKey, chat: str | None = None, now: float | None = None) -> Allowance:
        """Images the user (and the group chat ``chat``) may still get today; None where unlimited."""
        now = now or time.time()
        own = 0 if self.is_admin(user) else self.settings.daily_quota
        images_left = left(own, *await self.store.usage_of(user_subject(user), now))
        chat_left = left(self.settings.chat_daily_quota, *await self.store.usage_of(chat_subject(chat), now)) \
            if chat else None
        return Allowance(images_left, chat_left, seconds_until_reset(now))

    def is_admin(self, user: UserKey) -> bool:
        """Whether the user is one of MINIME_ADMINS."""
        return str(user) in self.settings.admins

    async def admin(self, user: UserKey, text: str | None = None) -> str:
        """/admin for MINIME_ADMINS: today's usage, ``grant platform:id N``, ``block platform:id``, ``unblock …``.

        Raises AdminOnly for anyone else (its message tells nothing about the command).
        """
        if not self.is_admin(user):
            log.info("admin command refused", user=str(user))
            raise AdminOnly()
        command = parse_admin(text)
        log.info("admin command", user=str(user), action=command.action,
                 target=str(command.target) if command.target else None)
        if command.action == "usage":
            return texts.admin_usage_text(await self.store.day_usage(), await self.store.count_jobs(JobState.QUEUED),
                                          await self.store.count_jobs(JobState.RUNNING), self.settings)
        target = command.target
        assert target is not None
        if command.action == "grant":
            await self.store.grant(user_subject(target), command.images)
            return texts.granted_text(target, command.images, await self.allowance(target))
        if command.action == "block":
            return texts.blocked_text(target, await self.store.block(target, by=user))
        return texts.unblocked_text(target, await self.store.unblock(target), str(target) in self.settings.deny_users)

    async def waiting_for(self, user: UserKey) -> str | None:
        """What a remembered request of the user waits for: "selfie", "argument", or None (nothing waits)."""
        pending = (await self.store.get_session(user)).pending
        return pending.get("awaiting") if pending else None

    async def owned_result(self, user: UserKey, result_id: str) -> Result:
        """A result of this user; NotYours when it is someone else's, ResultNotFound when it is gone."""
        return await self._own_result(user, result_id)

    async def current_result(self, user: UserKey) -> Result:
        """The user's current result (no image bytes read); ResultNotFound when there is none."""
        return await self._own_result(user, None)

    async def result_image(self, user: UserKey, result_id: str | None = None) -> tuple[Result, bytes]:
        """A result of this user (the current one by default) and its stored image bytes; anyone else's is
        ResultNotFound, as if it did not exist (the file is private)."""
        try:
            result = await self._own_result(user, result_id)
        except NotYours:
            raise ResultNotFound() from None
        try:
            return result, await self.blobs.get(result.image_key)
        except FileNotFoundError:
            raise ResultNotFound() from None

    async def has_selfie(self, user: UserKey) -> bool:
        """Whether a current, unexpired selfie is stored."""
        return bool((await self.store.get_session(user)).selfie_key)

    async def selfie_image(self, user: UserKey) -> bytes:
        """The user's current selfie (normalised JPEG)."""
        key = (await self.store.get_session(user)).selfie_key
        if not key:
            raise NoSelfie("Send me a selfie first.")
        return await self.blobs.get(key)

    # ---- commands ------------------------------------------------------------------------------------------------

    async def receive_selfie(self, user: UserKey, data: bytes, reply_to: dict[str, Any] | None = None, *,
                             run_pending: bool = True, chat: str | None = None) -> SelfieReceived:
        """Check, clean and store a selfie; run the theme request that was waiting for one, if any (unless
        ``run_pending`` is False: the selfie came with a request of its own). ``chat`` is the group chat or server
        channel (``platform:id``) it was sent in, None in a private chat."""
        await self._admit(user)
        selfie = await asyncio.to_thread(intake.normalise_selfie, data, max_bytes=self.settings.max_upload_bytes,
                                         max_pixels=self.settings.max_image_pixels)
        key = await self.blobs.put(user, selfie.data, "jpg")
        selfie_id = await self.store.add_selfie(user, key, self.settings.selfie_ttl_hours * 3600)
        log.info("selfie stored", user=str(user), width=selfie.width, height=selfie.height,
                 source_format=selfie.source_format)
        job = None
        session = await self.store.get_session(user)
        if not run_pending and session.pending:
            await self.store.take_pending(user)
        elif session.pending and session.pending.get("awaiting") == "selfie":
            pending = await self.store.take_pending(user)
            if pending:
                job = await self.apply_theme(user, pending["theme_id"], pending.get("argument"),
                                             reply_to=reply_to or pending.get("reply_to"), by_id=True,
                                             chat=chat if reply_to else pending.get("chat"))
        return SelfieReceived(selfie_id, job, selfie.width, selfie.height)

    async def apply_theme(self, user: UserKey, command: str, argument: str | None = None, *,
                          reply_to: dict[str, Any] | None = None, by_id: bool = False, chat: str | None = None
                          ) -> Job:
        """Start rendering a theme from the current selfie (``/figurine Alice``, ``/retro 80s``).

        ``chat`` is the group chat or server channel asked in (``platform:id``; None in a private chat): its daily
        quota applies besides the user's.

        Raises ArgumentRequired (and remembers the request) when the theme needs a name that was not given, and
        NoSelfie (remembering it too) when no selfie is stored yet: the request runs when the missing part arrives.
        """
        await self._admit(user)
        argument = intake.clean_text(argument)  # a line break in a name would fail every look with text
        given, things = split_things(argument)  # "Ada | coffee, laptop": the name, then things for the look
        theme, variant, text = self.catalog.resolve(command, given)
        if by_id and given and theme.variants and given.lower() in theme.variants:
            variant, text = given.lower(), None
        pending = {"theme_id": theme.id, "argument": argument, "reply_to": reply_to or {}, "chat": chat}
        if theme.argument_required and not text:
            await self.store.update_session(user, pending={**pending, "awaiting": "argument"})
            raise ArgumentRequired(theme.argument_prompt or ArgumentRequired.user_message)
        session = await self.store.get_session(user)
        if not session.selfie_key:
            await self.store.update_session(user, pending={**pending, "awaiting": "selfie"})
            raise NoSelfie(f"Send me a selfie first, and I'll make your {theme.title.lower()} as soon as it arrives.")
        params = RenderParams(name=text, variant=variant, seed=random.randrange(1, 2**31), things=things)
        job = Job(new_id(), user, JobKind.THEME, theme.id, params, JobState.QUEUED,
                  parent_result_id=session.current_result_id, selfie_id=session.selfie_id, reply_to=reply_to or {},
                  selfie_key=session.selfie_key, chat=chat)
        return await self._enqueue(job)

    async def text(self, user: UserKey, text: str, *, result_id: str | None = None,
                   reply_to: dict[str, Any] | None = None, chat: str | None = None) -> Job | Undone:
        """Plain text from the user: the name a theme asked for, or else a refinement of a result."""
        session = await self.store.get_session(user)
        if session.pending and session.pending.get("awaiting") == "argument" and not result_id:
            pending = await self.store.take_pending(user)
            if pending:
                return await self.apply_theme(user, pending["theme_id"], text.strip()[:64],
                                              reply_to=reply_to or pending.get("reply_to"), by_id=True,
                                              chat=chat if reply_to else pending.get("chat"))
        return await self.refine(user, text=text, result_id=result_id, reply_to=reply_to, chat=chat)

    async def refine(self, user: UserKey, *, text: str | None = None, action: str | None = None,
                     result_id: str | None = None, reply_to: dict[str, Any] | None = None, chat: str | None = None
                     ) -> Job | Undone:
        """Refine a result (the current one, or ``result_id``) by free text or a button action; a refinement
        that renders again counts towards the daily quotas of the user and of ``chat``."""
        await self._admit(user)
        if action == "undo":
            return await self.undo(user, result_id)
        if action and action.startswith("theme:"):  # "another theme" picked from a menu: same name, new look
            refinement = Refinement(theme=self.catalog.usable(action.removeprefix("theme:")))
        else:
            if action is not None:
                if action not in BUTTONS or not BUTTONS[action].text:
                    raise UnknownRefinement("That button isn't something I can do.")
                text = BUTTONS[action].text
            refinement = parse_refinement(text or "", self.catalog,
                                          accept_instructions=self.engine.understands_instructions)
        if refinement.theme:
            self.catalog.usable(refinement.theme.id)  # a look this engine can't make: say so, whatever else
        if refinement.undo and not refinement.needs_render and not refinement.adjustments.to_dict():
            return await self.undo(user, result_id)
        try:
            base = await self._own_result(user, result_id)
        except ResultNotFound:
            if result_id:
                raise
            raise NothingToRefine() from None
        job = await self._refinement_job(user, base, refinement, reply_to or {})
        return await self._enqueue(replace(job, chat=chat))

    async def undo(self, user: UserKey, result_id: str | None = None) -> Undone:
        """Go back to the result before the current one (or before ``result_id``); later ones stay in the tree."""
        current = await self._own_result(user, result_id)
        if not current.parent_id:
            raise NothingToUndo()
        previous = await self.store.get_result(current.parent_id)
        if previous is None or previous.user != user:
            raise NothingToUndo("The earlier image has expired, so I can't go back further.")
        await self.store.update_session(user, current_result_id=previous.id)
        return Undone(previous, await self.blobs.get(previous.image_key), self.buttons(previous))

    async def verify(self, user: UserKey, data: bytes) -> Verification:
        """Did minime make this image? By its watermark (exact result), else by its fingerprint (resized copies)."""
        await self._admit(user)
        found, how = await self.recognise(data)
        log.info("image verified", user=str(user), answer=how or "not-ours")
        if found is None:
            return Verification(False)
        own = found if found.user == user else None
        title = self.catalog.get(found.theme_id).title.lower() if own else None
        return Verification(True, how, own, title, found.source_type)

    async def recognise(self, data: bytes) -> tuple[Result | None, str | None]:
        """The result an image is a copy of, and how it was recognised ("watermark" or "fingerprint"), whoever
        made it: for /verify (which tells only the image's owner which result it is) and the operator's CLI."""
        image = await asyncio.to_thread(intake.open_image, data, max_bytes=self.settings.max_upload_bytes,
                                        max_pixels=self.settings.max_image_pixels)
        mark, fp = await asyncio.gather(asyncio.to_thread(watermark.read_mark, image),
                                        asyncio.to_thread(watermark.fingerprint, image))
        await asyncio.gather(*self._fingerprinting, return_exceptions=True)  # results just sent: their fingerprints
        found, how = None, None
        for candidate in await self.store.results_with_mark(mark):
            if not candidate.fingerprint:  # its fingerprint was lost (a restart right after sending): from its file
                candidate = await self._fingerprint_stored(candidate)
            agrees = bool(candidate.fingerprint) and (
                watermark.distance(fp, candidate.fingerprint) <= watermark.MARK_CONFIRM_DISTANCE)
            if agrees:
                found, how = candidate, "watermark"
        if found is None:  # a resized copy: find look-alikes by fingerprint, then read the mark at their size
            candidates = sorted((watermark.distance(fp, c.fingerprint), c.id, c) for c in
                                await self.store.results_sharing_a_band(fp) if c.fingerprint)
            for distance, _, candidate in candidates[:5]:
                if distance > watermark.MATCH_DISTANCE or candidate.mark is None:
                    break
                if await self._mark_matches_at_size(image, candidate):
                    found, how = candidate, "fingerprint"
                    break
        metrics.VERIFICATIONS.labels(how or "not-ours").inc()
        return found, how

    async def keep(self, user: UserKey, theme: Theme, params: RenderParams, image: Any, source_type: str
                   ) -> tuple[Result, Any, bytes]:
        """Mark, encode and store an image made outside the job queue (``minime render``) as a result of ``user``,
        so that ``minime verify`` and /verify recognise it. Returns the result, the marked image and its JPEG."""
        result_id = new_id()
        mark = watermark.new_mark() if self.settings.watermark else None
        if mark is not None:
            image = await asyncio.to_thread(watermark.embed, image, mark)
        data = await asyncio.to_thread(intake.result_bytes, image, source_type, result_id)
        key = await self.blobs.put(user, data, "jpg")
        fingerprint = await asyncio.to_thread(watermark.fingerprint, image) if mark is not None else None
        result = Result(result_id, user, theme.id, params, None, None, key, key, (), source_type, mark, fingerprint)
        await self.store.add_result(result, None, self.settings.result_ttl_hours * 3600)
        return result, image, data

    async def _fingerprint_stored(self, result: Result) -> Result:
        try:
            image = intake.decode_stored(await self.blobs.get(result.image_key))
        except FileNotFoundError:
            return result
        fingerprint = await asyncio.to_thread(watermark.fingerprint, image)
        await self.store.set_fingerprint(result, fingerprint)
        return replace(result, fingerprint=fingerprint)

    async def _mark_matches_at_size(self, image: Any, candidate: Result) -> bool:
        try:
            size = intake.stored_size(await self.blobs.get(candidate.image_key))
        except FileNotFoundError:
            return False
        mark = await asyncio.to_thread(watermark.read_mark, image, size)
        return watermark.mark_errors(mark, candidate.mark or 0) <= watermark.RESIZED_MARK_ERRORS

    async def stats(self, user: UserKey) -> Stats:
        """The user's images, their measured energy, and the same work's estimate on a GPU engine."""
        await self._admit(user)
        await asyncio.gather(*self._charging, return_exceptions=True)  # renders just sent: their energy
        images, energy_wh = await self.store.user_totals(user)
        return Stats(images, energy_wh, images * self.settings.gpu_wh_per_image, self.settings.energy_price_per_kwh,
                     self.settings.energy_currency)

    async def forget(self, user: UserKey) -> int:
        """Delete every row and file of a user. Returns how many rows went."""
        rows = await self.store.delete_user(user)
        await self.blobs.delete_user(user)
        log.info("user forgotten", user=str(user), rows=rows)
        return rows

    # ---- internals -----------------------------------------------------------------------------------------------

    async def _admit(self, user: UserKey) -> None:
        """The operator's allow and deny lists (``platform:id``) and the blocks admins made with /admin."""
        key = str(user)
        if key in self.settings.deny_users or (self.settings.allow_users and key not in self.settings.allow_users) \
                or await self.store.is_blocked(user):
            log.info("user not admitted", user=key)
            raise NotAllowed()

    async def _own_result(self, user: UserKey, result_id: str | None) -> Result:
        if result_id is None:
            session = await self.store.get_session(user)
            result_id = session.current_result_id
        result = await self.store.get_result(result_id) if result_id else None
        if result is None:
            raise ResultNotFound()
        if result.user != user:  # a group member's picture: what it is stays theirs
            raise NotYours()
        return result

    async def _refinement_job(self, user: UserKey, base: Result, refinement: Refinement,
                              reply_to: dict[str, Any]) -> Job:
        theme = refinement.theme or self.catalog.get(base.theme_id)
        params = refinement.apply_to(base.params, base.theme_id, random.randrange(1, 2**31))
        selfie_id = base.selfie_id
        selfie_key = await self.store.selfie_blob(selfie_id) if selfie_id and refinement.needs_render else None
        if refinement.needs_render and not selfie_key:
            session = await self.store.get_session(user)
            selfie_id, selfie_key = session.selfie_id, session.selfie_key
            if not selfie_key:
                raise NoSelfie("Your selfie has expired (I only keep it for a day). Send it again to keep going.")
        return Job(new_id(), user, JobKind.REFINE, theme.id, params, JobState.QUEUED, parent_result_id=base.id,
                   selfie_id=selfie_id, reply_to=reply_to, rerender=refinement.needs_render, selfie_key=selfie_key)

    def _quotas(self, user: UserKey, chat: str | None) -> tuple[Quota, ...]:
        """The daily counts a new render takes (admins are not limited by their own quota, only counted)."""
        own = 0 if self.is_admin(user) else self.settings.daily_quota
        quotas = [Quota("user", user_subject(user), own)]
        if chat:
            quotas.append(Quota("chat", chat_subject(chat), self.settings.chat_daily_quota))
        return tuple(quotas)

    async def _enqueue(self, job: Job) -> Job:
        position = await self.store.enqueue(job, rate_limit=self.settings.rate_limit_jobs,
                                            rate_window_s=self.settings.rate_limit_window_s,
                                            quotas=self._quotas(job.user, job.chat))
        log.info("job queued", job=job.id, user=str(job.user), theme=job.theme_id, kind=job.kind.value)
        self.runner.wake()
        self._emit(Queued(job, position, self.runner.eta_s(position)))
        return job

    async def _execute(self, job: Job, progress: Callable[[float], None]) -> Done | None:
        measurement = self.energy.start()
        try:
            return await self._produce(job, progress, measurement)
        finally:
            measurement.stop()

    async def _produce(self, job: Job, progress: Callable[[float], None], measurement: Measurement
                       ) -> Done | None:
        theme = self.catalog.get(job.theme_id)
        notes: tuple[str, ...] = ()
        base_write = None
        if job.rerender:
            base_image, notes, source_type = await self._render(job, theme, progress)
            base_bytes = await asyncio.to_thread(intake.lossless_bytes, base_image)
            base_write = asyncio.ensure_future(self.blobs.put(job.user, base_bytes, "tif"))  # beside the finish
        else:
            parent = await self.store.get_result(job.parent_result_id or "")
            if parent is None:
                raise ResultNotFound("The image you're refining has been deleted.")
            base_key, source_type = parent.base_key, parent.source_type
            base_image = intake.decode_stored(await self.blobs.get(base_key))
        progress(0.9)
        final = await asyncio.to_thread(finish, base_image, theme.finish.plus(job.params.adjustments),
                                        job.params.seed)
        result_id = new_id()
        mark = None
        if self.settings.watermark:
            mark = watermark.new_mark()
            final = await asyncio.to_thread(watermark.embed, final, mark)
        image = await asyncio.to_thread(intake.result_bytes, final, source_type, result_id)
        if self.credentials:
            try:
                image = await asyncio.to_thread(self.credentials.sign_jpeg, image, source_type, theme.title)
            except Exception as exc:  # a broken certificate must not stop the bot; the other marks remain
                log.error("C2PA signing failed; image sent without a manifest", job=job.id,
                          error_type=type(exc).__name__, error=str(exc)[:200])
        image_key = await self.blobs.put(job.user, image, "jpg")
        if base_write is not None:
            base_key = await base_write
        measurement.stop()
        # The fingerprint and the energy are stored on the result after the image is sent (_book_later).
        result = Result(result_id, job.user, theme.id, job.params, job.parent_result_id, job.selfie_id, image_key,
                        base_key, notes, source_type, mark, None, 0.0)
        if not await self.store.complete_job(job.id, self.runner.owner, result,
                                             self.settings.result_ttl_hours * 3600):
            await self.blobs.delete(image_key)
            return None  # another process took this job over; its result stands
        self._book_later(job.id, result, final if mark is not None else None, measurement)
        return Done(job, result, image, theme.buttons, notes)

    def _book_later(self, job_id: str, result: Result, marked: Any, measurement: Measurement) -> None:
        """Off the request path: the marked image's fingerprint (for /verify) and the render's energy (for /stats)
        are worked out once the image has been handed to the user's platform (or after ``BOOKKEEPING_WAIT_S``), and
        stored on the result. /verify and /stats wait for them."""
        delivered = self._delivered[job_id] = asyncio.get_running_loop().create_future()

        async def fingerprint() -> None:
            await asyncio.wait([delivered], timeout=BOOKKEEPING_WAIT_S)
            try:
                await self.store.set_fingerprint(result, await asyncio.to_thread(watermark.fingerprint, marked))
            except Exception:
                log.exception("fingerprint not stored; /verify will take it from the file", result=result.id)

        async def charge() -> None:
            await asyncio.wait([delivered], timeout=BOOKKEEPING_WAIT_S)
            try:
                energy_wh = await measurement.watt_hours()
                metrics.ENERGY_WH.labels(self.engine.name).inc(energy_wh)
                await self.store.set_energy(result.id, energy_wh)
            except Exception:
                log.exception("energy not stored", result=result.id)

        for work, tasks in ((fingerprint, self._fingerprinting), (charge, self._charging)):
            if work is fingerprint and marked is None:
                continue
            task = asyncio.ensure_future(work())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def _render(self, job: Job, theme: Theme, progress: Callable[[float], None]
                      ) -> tuple[Any, tuple[str, ...], str]:
        try:
            source = intake.decode_stored(await self.blobs.get(job.selfie_key or ""))
        except (FileNotFoundError, IsADirectoryError, ValueError):  # expired and swept since the job was queued
            raise NoSelfie("Your selfie has expired (I only keep it for a day). Send it again to keep going.") from None
        # A new instruction edits the image it was given for; earlier ones are already in that image, and a
        # re-render (a variation) folds them all into the prompt instead.
        instruction, previous = None, None
        parent = await self.store.get_result(job.parent_result_id) if job.parent_result_id else None
        if parent and len(job.params.instructions) > len(parent.params.instructions):
            instruction = job.params.instructions[-1]
            previous = intake.decode_stored(await self.blobs.get(parent.base_key))
        request = RenderRequest(source, theme, job.params, instruction, previous)
        output = await self._timed_render(request, progress)
        if output.source_type == "compositeSynthetic":
            return output.image, output.notes, output.source_type  # the user's own photo, recomposed
        notes = list(output.notes)
        reference = (await asyncio.to_thread(self.identity.embedding, source)
                     if self.identity is not None and instruction is None else None)
        if reference is not None:  # the selfie has a face to compare with
            distance = await asyncio.to_thread(self.identity.distance_from, reference, output.image)
            if distance is not None and distance > self.settings.identity_threshold:
                log.info("face differs from the selfie; retrying closer to it", job=job.id,
                         distance=round(distance, 3))
                output = await self._timed_render(replace(request, identity_boost=1.0), progress)
                distance = await asyncio.to_thread(self.identity.distance_from, reference, output.image)
                if distance is not None and distance > self.settings.identity_threshold:
                    notes.append("Heads-up: the face may not look quite like you this time. Try “variation” or a "
                                 "clearer, front-facing selfie.")
        if self.safety is not None:
            verdict = await asyncio.to_thread(self.safety.check, output.image)
            if verdict.flagged:
                metrics.BLOCKED_OUTPUTS.labels("nsfw").inc()
                log.warning("generated image blocked by the safety check", job=job.id, user=str(job.user),
                            theme=theme.id, label=verdict.label, score=round(verdict.score, 3))
                raise UnsafeOutput()
        return output.image, tuple(notes), output.source_type

    async def _timed_render(self, request: RenderRequest, progress: Callable[[float], None]) -> Any:
        started = time.perf_counter()
        output = await self.engine(request, progress=progress)
        metrics.ENGINE_SECONDS.labels(self.engine.name).observe(time.perf_counter() - started)
        return output

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry sweep failed")
            await asyncio.sleep(600)

    async def sweep(self, now: float | None = None) -> int:
        """Delete expired selfies and results (rows and files). Returns how many files went."""
        await self.store.prune_usage(now)
        keys = await self.store.take_expired_selfies(now) + await self.store.take_expired_results(now)
        for key in keys:
            await self.blobs.delete(key)
        if keys:
            log.info("expired files removed", count=len(keys))
        return len(keys)


__all__ = ["Done", "Failed", "Queued", "QueueStatus", "SelfieReceived", "Studio", "Undone"]
