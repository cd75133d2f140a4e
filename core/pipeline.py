"""The render pipeline: one durable job in, one stored, marked and signed result out.

Like a diffusers pipeline it has one entry point, ``await pipeline(job, progress)``. The steps, in order: the engine
(with the identity and safety checks on generated pictures), the theme's finish and the user's adjustments, the
invisible watermark, encoding with provenance metadata, C2PA content credentials, and the blob and result writes;
then, off the request path while the image goes out, the marked image's fingerprint and the energy the job took.
Every collaborator is built by the composition root (core/app.py) and passed in.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from PIL import Image

from minime.core import intake, malloc, metrics, watermark
from minime.core.adjust import finish_array
from minime.core.checks import FaceIdentity, SafetyCheck
from minime.core.content_credentials import ContentCredentials
from minime.core.domain import Adjustments, Done, Job, RenderParams, Result, UserKey, new_id
from minime.core.energy import EnergyMeter, Measurement
from minime.core.engines import Engine, ProgressCallback, RenderOutput, RenderRequest
from minime.core.errors import NoSelfie, ResultNotFound, UnsafeOutput
from minime.core.events import EventHub
from minime.core.i18n import N_
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.themes import Theme, ThemeCatalog

log = get_logger("minime.pipeline")

SELFIE_EXPIRED = N_("Your selfie has expired (I only keep it for a day). Send it again to keep going.")
IDLE_S = 1.0  # no job for this long: the memory renders freed goes back to the system
BOOKKEEPING_WAIT_S = 30.0  # a result's fingerprint and energy are stored once it is sent, or after this long
FACE_DIFFERS = N_("Heads-up: the face may not look quite like you this time. Try “variation” or a clearer, "
                "front-facing selfie.")


class RenderPipeline:
    """Runs one job to its recorded result (the JobRunner's ``execute``).

    Args:
        store: jobs and results.
        blobs: image files.
        engine: makes the picture.
        catalog: the themes jobs name.
        settings: the watermark switch, identity threshold and result lifetime.
        owner: the job runner's lease owner; a job another process took over is not recorded twice.
        events: tells when a result was handed to its platform (its bookkeeping waits for that).
        energy: measures each job's energy.
        credentials: signs results with C2PA content credentials (None: not configured).
        identity: compares a generated face with the selfie's (None: off).
        safety: refuses unsafe generated pictures (None: off).
    """

    def __init__(self, store: Store, blobs: BlobStore, engine: Engine, catalog: ThemeCatalog, settings: Settings, *,
                 owner: str, events: EventHub, energy: EnergyMeter, credentials: ContentCredentials | None = None,
                 identity: FaceIdentity | None = None, safety: SafetyCheck | None = None) -> None:
        self.store, self.blobs, self.engine, self.catalog, self.settings = store, blobs, engine, catalog, settings
        self.owner, self.energy, self.credentials, self.identity, self.safety = (owner, energy, credentials,
                                                                                 identity, safety)
        self.events = events
        self._booking: set[asyncio.Task[None]] = set()  # each sent result's fingerprint and energy, being stored
        self._running = 0  # jobs between engine and stored result
        self._idle_timer: asyncio.TimerHandle | None = None

    def warm_up(self) -> None:
        """Start the process's energy tracker (codecarbon probes the hardware, ~1.4 s: run this in a thread)."""
        self.energy.warm_up()

    async def fingerprints_booked(self) -> None:
        """Wait until the fingerprints of results already sent are stored (/verify looks them up)."""
        await asyncio.gather(*self._booking, return_exceptions=True)

    async def energy_booked(self) -> None:
        """Wait until the energy of renders already sent is stored (/stats adds it up)."""
        await asyncio.gather(*self._booking, return_exceptions=True)

    async def close(self) -> None:
        """Finish the bookkeeping in flight and stop the energy tracker."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        await asyncio.gather(*self._booking, return_exceptions=True)
        await asyncio.to_thread(self.energy.close)

    async def __call__(self, job: Job, progress: ProgressCallback) -> Done | None:
        """Render, finish, mark, sign and store ``job``'s result; None when another process took the job over."""
        measurement = self.energy.start()
        self._running += 1
        try:
            return await self._produce(job, progress, measurement)
        finally:
            self._running -= 1
            measurement.stop()

    async def keep(self, user: UserKey, theme: Theme, params: RenderParams, image: Any, source_type: str
                   ) -> tuple[Result, Any, bytes]:
        """Mark, encode and store an image made outside the job queue (``minime render``) as a result of ``user``.
        Returns the result, the marked image and its JPEG."""
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

    async def _produce(self, job: Job, progress: ProgressCallback, measurement: Measurement) -> Done | None:
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
                raise ResultNotFound(N_("The image you're refining has been deleted."))
            base_key, source_type = parent.base_key, parent.source_type
            base_image = await asyncio.to_thread(intake.decode_stored, await self.blobs.get(base_key))
        progress(0.9)
        result_id = new_id()
        mark = watermark.new_mark() if self.settings.watermark else None
        final, image = await asyncio.to_thread(_finished_jpeg, base_image, theme.finish.plus(job.params.adjustments),
                                               job.params.seed, mark, source_type, result_id)
        image = await self._sign(job, image, source_type, theme)
        written: list[str] = []
        try:
            written.append(await self.blobs.put(job.user, image, "jpg"))
            if base_write is not None:
                written.append(base_key := await base_write)
        except BaseException:
            await self._discard(written, base_write)  # a full disk, or a stop: no file without a row
            raise
        image_key = written[0]
        measurement.stop()
        # The fingerprint and the energy are stored on the result after the image is sent (_book_later).
        result = Result(result_id, job.user, theme.id, job.params, job.parent_result_id, job.selfie_id, image_key,
                        base_key, notes, source_type, mark, None, 0.0)
        if not await self.store.complete_job(job.id, self.owner, result, self.settings.result_ttl_hours * 3600):
            # The user was forgotten meanwhile (their job row went with them), or another process took the job
            # over and its result stands: either way these files belong to nothing.
            await self._discard(written, None)
            return None
        self._book_later(job.id, result, final if mark is not None else None, measurement)
        return Done(job, result, image, theme.buttons, notes)

    async def _discard(self, keys: list[str], pending_write: asyncio.Future[str] | None) -> None:
        """Delete files a job wrote (and the one it may still be writing) when no result will point at them."""
        if pending_write is not None:
            outcome = (await asyncio.gather(pending_write, return_exceptions=True))[0]
            if isinstance(outcome, str) and outcome not in keys:
                keys = [*keys, outcome]
        for key in keys:
            await self.blobs.delete(key)

    def _book_later(self, job_id: str, result: Result, marked: Any, measurement: Measurement) -> None:
        """Off the request path: the marked image's fingerprint (for /verify) and the render's energy (for /stats)
        are worked out once the image has been handed to the user's platform (or after ``BOOKKEEPING_WAIT_S``), and
        stored on the result in one write. /verify and /stats wait for them."""
        delivered = self.events.handed_over(job_id)

        async def book(marked: Any = marked) -> None:  # a parameter, not a closure: dropped once fingerprinted
            await asyncio.wait([delivered], timeout=BOOKKEEPING_WAIT_S)
            fingerprint, energy_wh = None, None
            if marked is not None:
                try:
                    fingerprint = await asyncio.to_thread(watermark.fingerprint, marked)
                except Exception:
                    log.exception("fingerprint not worked out; /verify will take it from the file", result=result.id)
                marked = None
            self._give_back_when_idle()
            try:
                energy_wh = await measurement.watt_hours()
                metrics.ENERGY_WH.labels(self.engine.name).inc(energy_wh)
            except Exception:
                log.exception("energy not measured", result=result.id)
            if fingerprint is None and energy_wh is None:
                return
            try:
                await self.store.book(result, fingerprint=fingerprint, energy_wh=energy_wh)
            except Exception:
                log.exception("fingerprint and energy not stored", result=result.id)

        task = asyncio.ensure_future(book())
        self._booking.add(task)
        task.add_done_callback(self._booking.discard)

    def _give_back_when_idle(self) -> None:
        """Once no job has run for ``IDLE_S``, return the memory the renders freed to the system (not between
        renders: the next one would fault the same pages in again)."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()

        def check() -> None:
            self._idle_timer = None
            if not self._running:
                task = asyncio.ensure_future(asyncio.to_thread(malloc.give_back))
                self._booking.add(task)
                task.add_done_callback(self._booking.discard)

        self._idle_timer = asyncio.get_running_loop().call_later(IDLE_S, check)

    async def _sign(self, job: Job, image: bytes, source_type: str, theme: Theme) -> bytes:
        if not self.credentials:
            return image
        try:
            return await asyncio.to_thread(self.credentials.sign_jpeg, image, source_type, theme.title)
        except Exception as exc:  # a broken certificate must not stop the bot; the other marks remain
            log.error("C2PA signing failed; image sent without a manifest", job=job.id,
                      error_type=type(exc).__name__, error=str(exc)[:200])
            return image

    async def _render(self, job: Job, theme: Theme, progress: ProgressCallback) -> tuple[Any, tuple[str, ...], str]:
        try:
            source = await asyncio.to_thread(intake.decode_stored, await self.blobs.get(job.selfie_key or ""))
        except (FileNotFoundError, IsADirectoryError, ValueError):  # expired and swept since the job was queued
            raise NoSelfie(SELFIE_EXPIRED) from None
        # A new instruction edits the image it was given for; earlier ones are already in that image, and a
        # re-render (a variation) folds them all into the prompt instead.
        instruction, previous = None, None
        parent = await self.store.get_result(job.parent_result_id) if job.parent_result_id else None
        if parent and len(job.params.instructions) > len(parent.params.instructions):
            instruction = job.params.instructions[-1]
            previous = await asyncio.to_thread(intake.decode_stored, await self.blobs.get(parent.base_key))
        request = RenderRequest(source, theme, job.params, instruction, previous)
        output = await self._timed_render(request, progress)
        if output.source_type == "compositeSynthetic":
            return output.image, output.notes, output.source_type  # the user's own photo, recomposed
        notes = list(output.notes)
        output, face_differs = await self._closer_to_the_selfie(job, request, output, source, progress)
        if face_differs:
            notes.append(FACE_DIFFERS)
        await self._check_safety(job, theme, output)
        return output.image, tuple(notes), output.source_type

    async def _closer_to_the_selfie(self, job: Job, request: RenderRequest, output: RenderOutput, source: Any,
                                    progress: ProgressCallback) -> tuple[RenderOutput, bool]:
        """A generated face unlike the selfie's is rendered once more, closer to it; True if it still differs."""
        if self.identity is None or request.instruction is not None:
            return output, False
        reference = await asyncio.to_thread(self.identity.embedding, source)
        if reference is None:  # the selfie has no face to compare with
            return output, False
        distance = await asyncio.to_thread(self.identity.distance_from, reference, output.image)
        if distance is None or distance <= self.settings.identity_threshold:
            return output, False
        log.info("face differs from the selfie; retrying closer to it", job=job.id, distance=round(distance, 3))
        output = await self._timed_render(replace(request, identity_boost=1.0), progress)
        distance = await asyncio.to_thread(self.identity.distance_from, reference, output.image)
        return output, distance is not None and distance > self.settings.identity_threshold

    async def _check_safety(self, job: Job, theme: Theme, output: RenderOutput) -> None:
        if self.safety is None:
            return
        verdict = await asyncio.to_thread(self.safety.check, output.image)
        if verdict.flagged:
            metrics.BLOCKED_OUTPUTS.labels("nsfw").inc()
            log.warning("generated image blocked by the safety check", job=job.id, user=str(job.user),
                        theme=theme.id, label=verdict.label, score=round(verdict.score, 3))
            raise UnsafeOutput()

    async def _timed_render(self, request: RenderRequest, progress: ProgressCallback) -> RenderOutput:
        started = time.perf_counter()
        output = await self.engine(request, progress=progress)
        metrics.ENGINE_SECONDS.labels(self.engine.name).observe(time.perf_counter() - started)
        return output


def _finished_jpeg(base: Any, adjustments: Adjustments, seed: int, mark: int | None, source_type: str,
                   result_id: str) -> tuple[Any, bytes]:
    """The finish, the mark (when ``mark`` is given) and the JPEG of a result, in one worker-thread hop: on a busy
    machine each hop waits to be scheduled, and these three steps are the whole image work of the request path."""
    pixels = finish_array(base, adjustments, seed)
    if mark is not None:
        pixels = watermark.embed_array(pixels, mark)
    final = Image.fromarray(pixels, "RGB")
    return final, intake.result_bytes(final, source_type, result_id)
