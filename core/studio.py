"""The Studio: the one facade every adapter uses. Adapters pass plain values in and render events that come out."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

from minime.core import intake, texts
from minime.core.access import Access
from minime.core.buttons import BUTTONS
from minime.core.cancel import Canceller
from minime.core.domain import (
    Done,
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
from minime.core.engines import Engine
from minime.core.errors import (
    ArgumentRequired,
    NoSelfie,
    NothingToRefine,
    NothingToUndo,
    ResultNotFound,
    UnknownRefinement,
)
from minime.core.events import EventHub, Sink
from minime.core.figures import MAX_FILE_BYTES, FigureFile, FigureFiles
from minime.core.gallery import PreviewCache
from minime.core.i18n import gettext as _
from minime.core.job_writer import JobWriter
from minime.core.jobs import JobRunner
from minime.core.logs import get_logger
from minime.core.outcomes import QueueStatus, SelfieReceived, Stats, Undone
from minime.core.pipeline import RenderPipeline
from minime.core.queries import UserQueries
from minime.core.quotas import Allowance
from minime.core.refine import Refinement, parse_refinement
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.sweeper import Sweeper
from minime.core.themes import Theme, ThemeCatalog, split_things
from minime.core.user_locks import UserLocks, one_at_a_time_per_user
from minime.core.verify import Verification, Verifier

log = get_logger("minime.studio")


class Studio:
    """Receives selfies, applies themes, refines, undoes, forgets; runs renders as durable jobs."""

    def __init__(self, store: Store, blobs: BlobStore, engine: Engine, catalog: ThemeCatalog, settings: Settings,
                 *, events: EventHub, runner: JobRunner, pipeline: RenderPipeline, verifier: Verifier,
                 previews: PreviewCache, access: Access, sweeper: Sweeper, queries: UserQueries, jobs: JobWriter,
                 user_locks: UserLocks, figures: FigureFiles) -> None:
        self.store, self.blobs, self.engine, self.catalog, self.settings = store, blobs, engine, catalog, settings
        self.events, self.runner, self.pipeline, self.verifier, self.previews = (events, runner, pipeline, verifier,
                                                                                 previews)
        self.access, self.sweeper, self.queries, self.jobs, self.user_locks = access, sweeper, queries, jobs, user_locks
        self.figures = figures
        self._warm_up: asyncio.Future[None] | None = None

    # ---- life cycle ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Migrate the store, resume unfinished jobs, start the expiry sweeper."""
        await self.store.migrate()
        # The pipeline's one-time probes, in the background: not on the start-up path.
        self._warm_up = asyncio.create_task(asyncio.to_thread(self.pipeline.warm_up), name="minime-warm-up")
        await self.runner.start()
        self.sweeper.start()

    async def drain(self, timeout: float) -> None:
        """Start no more jobs; let the running ones finish and their results be delivered, for up to ``timeout``
        seconds. Queued jobs stay queued for the next start; what is still running after that is left for it too."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.runner.drain(timeout)
        undelivered = await self.events.settle(max(0.1, deadline - loop.time()))
        if undelivered:
            log.warning("events still undelivered at shutdown", count=undelivered)

    async def stop(self) -> None:
        """Stop taking work; running jobs are left to be resumed after a restart."""
        await self.sweeper.stop()
        await self.runner.stop()
        if self._warm_up:
            await asyncio.gather(self._warm_up, return_exceptions=True)  # a thread: it can only be waited for
        self.events.release()  # Done events that will never be emitted: keep the bookkeeping anyway
        await self.pipeline.close()
        await self.events.drain()
        await self.engine.close()
        await self.store.close()

    def subscribe(self, platform: str, sink: Sink) -> None:
        """Receive every event of jobs whose user is on ``platform`` (results of resumed jobs included)."""
        self.events.subscribe(platform, sink)

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
                           await self.allowance(user, chat))

    async def allowance(self, user: UserKey, chat: str | None = None, now: float | None = None) -> Allowance:
        """Images the user (and the group chat ``chat``) may still get today; None where unlimited."""
        return await self.access.allowance(user, chat, now)

    async def admin(self, user: UserKey, text: str | None = None) -> str:
        """/admin: usage, grants and blocks for MINIME_ADMINS; AdminOnly, revealing nothing, for anyone else."""
        return await self.access.admin(user, text)

    async def waiting_for(self, user: UserKey) -> str | None:
        """What a remembered request of the user waits for: "selfie", "argument", or None (nothing waits)."""
        return await self.queries.waiting_for(user)

    async def owned_result(self, user: UserKey, result_id: str) -> Result:
        """A result of this user; NotYours when it is someone else's, ResultNotFound when it is gone."""
        return await self.queries.result(user, result_id)

    async def current_result(self, user: UserKey) -> Result:
        """The user's current result (no image bytes read); ResultNotFound when there is none."""
        return await self.queries.result(user)

    async def result_image(self, user: UserKey, result_id: str | None = None) -> tuple[Result, bytes]:
        """A result of this user (the current one by default) and its image bytes; anyone else's is ResultNotFound."""
        return await self.queries.result_image(user, result_id)

    async def figure_file(self, user: UserKey, result_id: str | None, kind: str, fmt: str | None = None, *,
                          chat: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> FigureFile:
        """The turning loop (``"turntable"``) or printable mesh (``"mesh"``) of a result's figure (core/figures.py):
        one in the making per user (FigureBusy), counted like a render against the user's and ``chat``'s quotas,
        and no larger than ``max_bytes`` (the platform's upload limit)."""
        return await self.figures.file(user, result_id, kind, fmt, chat=chat, max_bytes=max_bytes)

    def figure_busy(self, user: UserKey) -> bool:
        """Whether a figure file of the user is being made now (a press now would be told it is on its way)."""
        return self.figures.busy(user)

    async def has_selfie(self, user: UserKey) -> bool:
        """Whether a current, unexpired selfie is stored."""
        return await self.queries.has_selfie(user)

    async def selfie_image(self, user: UserKey) -> bytes:
        """The user's current selfie (normalised JPEG)."""
        return await self.queries.selfie_image(user)

    # ---- commands ------------------------------------------------------------------------------------------------

    @one_at_a_time_per_user
    async def receive_selfie(self, user: UserKey, data: bytes, reply_to: dict[str, Any] | None = None, *,
                             run_pending: bool = True, chat: str | None = None) -> SelfieReceived:
        """Check, clean and store a selfie; run the theme request that was waiting for one, if any (unless
        ``run_pending`` is False: the selfie came with a request of its own). ``chat`` is the group chat or server
        channel (``platform:id``) it was sent in, None in a private chat."""
        await self.access.admit(user)
        selfie = await asyncio.to_thread(intake.normalise_selfie, data, max_bytes=self.settings.max_upload_bytes,
                                         max_pixels=self.settings.max_image_pixels)
        first = not (await self.store.get_session(user)).selfie_id
        key = await self.blobs.put(user, selfie.data, "jpg")
        selfie_id = await self.store.add_selfie(user, key, self.settings.selfie_ttl_hours * 3600)
        await self.sweeper.replaced(user, selfie_id, self.settings.selfie_ttl_hours * 3600)
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
        return SelfieReceived(selfie_id, job, selfie.width, selfie.height,
                              texts.hosted_notice(self.settings) if first else None)

    @one_at_a_time_per_user
    async def apply_theme(self, user: UserKey, command: str, argument: str | None = None, *,
                          reply_to: dict[str, Any] | None = None, by_id: bool = False, chat: str | None = None
                          ) -> Job:
        """Start rendering a theme from the current selfie (``/figurine Alice``, ``/retro 80s``).

        ``chat`` is the group chat or server channel asked in (``platform:id``; None in a private chat): its daily
        quota applies besides the user's.

        Raises ArgumentRequired (and remembers the request) when the theme needs a name that was not given, and
        NoSelfie (remembering it too) when no selfie is stored yet: the request runs when the missing part arrives.
        """
        session = await self.store.get_session(user)
        await self.access.admit(user, blocked=session.blocked)
        argument = intake.clean_text(argument)  # a line break in a name would fail every look with text
        given, things = split_things(argument)  # "Ada | coffee, laptop": the name, then things for the look
        theme, variant, text = self.catalog.resolve(command, given)
        if by_id and given and theme.variants and given.lower() in theme.variants:
            variant, text = given.lower(), None
        pending = {"theme_id": theme.id, "argument": argument, "reply_to": reply_to or {}, "chat": chat}
        if theme.argument_required and not text:
            await self.store.update_session(user, pending={**pending, "awaiting": "argument"})
            raise ArgumentRequired(theme.argument_prompt or ArgumentRequired.user_message)
        if not session.selfie_key:
            await self.store.update_session(user, pending={**pending, "awaiting": "selfie"})
            raise NoSelfie(_("Send me a selfie first, and I'll make your {look} as soon as it arrives.").format(
                look=_(theme.title).lower()))
        params = RenderParams(name=text, variant=variant, seed=random.randrange(1, 2**31), things=things)
        job = Job(new_id(), user, JobKind.THEME, theme.id, params, JobState.QUEUED,
                  parent_result_id=session.current_result_id, selfie_id=session.selfie_id, reply_to=reply_to or {},
                  selfie_key=session.selfie_key, chat=chat)
        return await self.jobs.enqueue(job)

    @one_at_a_time_per_user
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

    @one_at_a_time_per_user
    async def refine(self, user: UserKey, *, text: str | None = None, action: str | None = None,
                     result_id: str | None = None, reply_to: dict[str, Any] | None = None, chat: str | None = None
                     ) -> Job | Undone:
        """Refine a result (the current one, or ``result_id``) by free text or a button action; a refinement
        that renders again counts towards the daily quotas of the user and of ``chat``."""
        await self.access.admit(user)
        if action == "undo":
            return await self.undo(user, result_id)
        if action and action.startswith("theme:"):  # "another theme" picked from a menu: same name, new look
            refinement = Refinement(theme=self.catalog.usable(action.removeprefix("theme:")))
        else:
            if action is not None:
                if action not in BUTTONS or not BUTTONS[action].text:
                    raise UnknownRefinement(_("That button isn't something I can do."))
                text = BUTTONS[action].text
            refinement = parse_refinement(text or "", self.catalog,
                                          accept_instructions=self.engine.understands_instructions)
        if refinement.theme:
            self.catalog.usable(refinement.theme.id)  # a look this engine can't make: say so, whatever else
        if refinement.undo and not refinement.needs_render and not refinement.adjustments.to_dict():
            return await self.undo(user, result_id)
        try:
            base = await self.queries.result(user, result_id)
        except ResultNotFound:
            if result_id:
                raise
            raise NothingToRefine() from None
        job = await self.jobs.refinement(user, base, refinement, reply_to or {})
        return await self.jobs.enqueue(replace(job, chat=chat))

    async def undo(self, user: UserKey, result_id: str | None = None) -> Undone:
        """Go back to the result before the current one (or before ``result_id``); later ones stay in the tree."""
        current = await self.queries.result(user, result_id)
        if not current.parent_id:
            raise NothingToUndo()
        previous = await self.store.get_result(current.parent_id)
        if previous is None or previous.user != user:
            raise NothingToUndo(_("The earlier image has expired, so I can't go back further."))
        await self.store.update_session(user, current_result_id=previous.id)
        return Undone(previous, await self.blobs.get(previous.image_key), self.buttons(previous))

    async def cancel(self, user: UserKey, job_id: str | None = None) -> Job:
        """Call off the user's queued or running job (``job_id``, else their active one): nothing is delivered and
        no image counted. NotYourJob for someone else's job, NothingToCancel when it already ended."""
        return await Canceller(self.store, self.runner, self.events).cancel(user, job_id)

    async def verify(self, user: UserKey, data: bytes) -> Verification:
        """Did minime make this image? By its watermark (exact result), else by its fingerprint (resized copies)."""
        await self.access.admit(user)
        image = await asyncio.to_thread(intake.open_image, data, max_bytes=self.settings.max_upload_bytes,
                                        max_pixels=self.settings.max_image_pixels)
        return await self.verifier(user, image)

    async def recognise(self, data: bytes) -> tuple[Result | None, str | None]:
        """The result an image is a copy of, and how it was recognised ("watermark" or "fingerprint"), whoever
        made it: for /verify (which tells only the image's owner which result it is) and the operator's CLI."""
        image = await asyncio.to_thread(intake.open_image, data, max_bytes=self.settings.max_upload_bytes,
                                        max_pixels=self.settings.max_image_pixels)
        return await self.verifier.recognise(image)

    async def keep(self, user: UserKey, theme: Theme, params: RenderParams, image: Any, source_type: str
                   ) -> tuple[Result, Any, bytes]:
        """Mark, encode and store an image made outside the job queue (``minime render``) as a result of ``user``,
        so that ``minime verify`` and /verify recognise it. Returns the result, the marked image and its JPEG."""
        return await self.pipeline.keep(user, theme, params, image, source_type)

    async def stats(self, user: UserKey) -> Stats:
        """The user's images, their measured energy, and the same work's estimate on a GPU engine."""
        await self.access.admit(user)
        await self.pipeline.energy_booked()  # renders just sent: their energy
        images, energy_wh = await self.store.user_totals(user)
        s = self.settings
        return Stats(images, energy_wh, images * s.gpu_wh_per_image, s.energy_price_per_kwh, s.energy_currency,
                     texts.photos_go_to(s), s.hosted_price_per_image, s.hosted_wh_per_image, s.hosted_currency)

    async def forget(self, user: UserKey) -> int:
        """Delete every row and file of a user. Returns how many rows went."""
        rows = await self.store.delete_user(user)
        await self.blobs.delete_user(user)
        log.info("user forgotten", user=str(user), rows=rows)
        return rows

    async def sweep(self, now: float | None = None) -> int:
        """Delete expired selfies and results (rows and files). Returns how many files went."""
        return await self.sweeper.sweep(now)


__all__ = ["Done", "Failed", "Queued", "QueueStatus", "SelfieReceived", "Studio", "Undone"]
