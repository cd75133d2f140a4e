"""The durable job queue: jobs are rows first, then run a bounded number at a time, leased with heart-beats.

A process that dies mid-render stops heart-beating; any process (the same one after a restart, or another front end)
then requeues the job, up to ``job_max_attempts`` runs, after which its user is told it failed. Claiming is one
atomic UPDATE, so two processes never run the same job at once.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from minime.core import i18n, metrics
from minime.core.domain import Event, Failed, Job, JobState, Queued, Rendering, new_id
from minime.core.errors import EngineFailed, MinimeError, StorageFull, WorkerLost
from minime.core.i18n import N_
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.store import Store

log = get_logger("minime.jobs")

Execute = Callable[[Job, Callable[..., None]], Awaitable[Event | None]]
"""Runs a job to the end and records its result as done; None when another process took the job over."""
Emit = Callable[[Event], None]

CANCELLED_REMEMBERED = 1000
"""How many cancelled jobs' ids the runner keeps (to drop their late progress reports)."""

WAITING_REPEAT_S = 2.0
"""While an engine waits on a hosted model, its status is re-sent this often."""

INTERRUPTED = N_("Your image was interrupted (the server restarted) and couldn't be finished. "
                 "Please send the command again.")


class JobCancelled(Exception):
    """Raised by a cancelled job's progress callback: a render in a thread (the classic engine) stops at its next
    progress report instead of finishing for nobody."""


def worker_id() -> str:
    """A name for this process's job leases, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()}"


class JobRunner:
    """Runs queued jobs through ``execute`` and reports every step through ``emit``; leases jobs as ``owner``."""

    def __init__(self, store: Store, execute: Execute, emit: Emit, settings: Settings, *, owner: str,
                 poll_interval_s: float = 0.5) -> None:
        self.store, self._execute, self._emit, self.settings = store, execute, emit, settings
        self.owner = owner
        self._poll = poll_interval_s
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._draining = False
        self._unrecorded: dict[str, str] = {}  # job id -> reason: failures the database could not take yet
        self._backlog = True  # jobs may be queued (a claim found one, or one was queued since it last found none)
        self._reserved = 0  # slots promised to jobs being written already claimed (reserve, then adopt or release)
        # Jobs their users called off while they ran here: stopped, never failed or delivered, no progress after.
        self._cancelled: dict[str, None] = {}
        self.render_seconds_avg = 1.0

    @property
    def running_count(self) -> int:
        """Jobs this process is rendering now."""
        return len(self._running)

    async def start(self) -> None:
        """Recover jobs of dead processes, then start dispatching."""
        self._stopping = self._draining = False
        await self._recover()
        self._tasks = [asyncio.create_task(self._dispatch_loop(), name="minime-dispatch"),
                       asyncio.create_task(self._lease_loop(), name="minime-lease")]

    async def drain(self, timeout: float) -> None:
        """Claim no more jobs and wait up to ``timeout`` seconds for the running ones (heart-beats go on)."""
        self._draining = True  # the dispatch loop ends after its current claim; the lease loop goes on
        self.wake()
        if self._tasks:
            await asyncio.wait(self._tasks[:1], timeout=5)
        if self._running:
            log.info("waiting for running jobs before stopping", running=len(self._running))
            await asyncio.wait(list(self._running.values()), timeout=timeout)

    async def stop(self) -> None:
        """Stop taking jobs; wait briefly for the running ones, then cancel them (they will be retried later)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=5)
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._running.values(), return_exceptions=True)
        self._tasks.clear()

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._backlog = True
        self._wakeup.set()

    def reserve(self) -> str | None:
        """Promise a free render slot to a job about to be written (``Store.enqueue(claim_for=…)``): the lease owner
        to write it under, or None when every slot is taken (the job queues). ``adopt`` or ``release`` it after."""
        if (not self._tasks or self._stopping or self._draining
                or len(self._running) + self._reserved >= self.settings.max_concurrent_jobs):
            return None
        self._reserved += 1
        return self.owner

    def release(self) -> None:
        """The reserved slot was not used (the job queued behind others, or was refused): the dispatcher may fill it."""
        self._reserved -= 1
        self.wake()

    def adopt(self, job: Job) -> None:
        """Run a job that was written already claimed in a reserved slot (no claim round trip, no dispatch wait)."""
        self._reserved -= 1
        self._start(replace(job, state=JobState.RUNNING, attempts=job.attempts + 1))

    def cancel(self, job_id: str) -> bool:
        """Stop a job this process runs (already marked cancelled in the store): a hosted call is abandoned, a
        diffusion render stops at its next step, a classic render at its next progress report. False when it does
        not run here."""
        task = self._running.get(job_id)
        if task is None or task.done():
            return False
        self._cancelled[job_id] = None
        while len(self._cancelled) > CANCELLED_REMEMBERED:
            del self._cancelled[next(iter(self._cancelled))]
        task.cancel()
        return True

    def _emit_progress(self, event: Rendering) -> None:
        if event.job.id not in self._cancelled:  # a report already on its way when the job was cancelled
            self._emit(event)

    def _start(self, job: Job) -> None:
        self._running[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        metrics.RUNNING.set(len(self._running))

    def eta_s(self, position: int) -> float:
        """Rough seconds until a job at ``position`` is done."""
        return (position + 1) * self.render_seconds_avg / max(1, self.settings.max_concurrent_jobs)

    async def announce_position(self, job: Job) -> None:
        """Tell the job's user where it stands in the queue."""
        position = await self.store.queue_position(job.id)
        if position:
            self._emit(Queued(job, position, self.eta_s(position)))

    async def _dispatch_loop(self) -> None:
        while not (self._stopping or self._draining):
            self._wakeup.clear()  # before claiming: a wake-up that arrives meanwhile is not lost
            try:
                while (len(self._running) + self._reserved < self.settings.max_concurrent_jobs
                       and not self._draining):
                    job = await self.store.claim_next(self.owner)
                    if job is None:
                        self._backlog = False  # jobs other processes queue are found at the next poll
                        break
                    self._start(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch failed; retrying")
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
            except TimeoutError:
                pass

    async def _run(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        last: dict[str, Any] = {"percent": -1, "waiting_for": None, "at": 0.0}

        def progress(fraction: float, *, waiting_for: str | None = None) -> None:
            if job.id in self._cancelled:
                raise JobCancelled()
            percent, now = max(0, min(99, int(fraction * 100))), time.monotonic()
            # Every 10 %, on a change of what is waited for, and every few seconds while a hosted model is waited
            # on (adapters pace their edits and may drop one: the next one gets through).
            if (percent >= last["percent"] + 10 or waiting_for != last["waiting_for"]
                    or (waiting_for and now - last["at"] >= WAITING_REPEAT_S)):
                last.update(percent=percent, waiting_for=waiting_for, at=now)
                loop.call_soon_threadsafe(self._emit_progress, Rendering(job, percent, waiting_for))

        started = time.monotonic()
        i18n.use(job.reply_to.get("lang"))  # this job's task: its failures read in the language it was asked in
        self._emit(Rendering(job, 0))
        structured = {"job": job.id, "user": str(job.user), "theme": job.theme_id, "kind": job.kind.value}
        try:
            event = await asyncio.wait_for(self._execute(job, progress), self.settings.render_timeout_s)
        except (asyncio.CancelledError, JobCancelled):
            if job.id in self._cancelled:  # its user called it off: the store says so already; nothing to deliver
                log.info("job cancelled by its user", **structured)
                metrics.JOBS.labels("cancelled").inc()
                return
            if self._stopping:
                log.info("job left for retry at shutdown", **structured)
                raise
            await self._fail(job, EngineFailed().user_message)
            raise
        except TimeoutError:
            log.warning("job timed out", **structured, timeout_s=self.settings.render_timeout_s)
            metrics.JOBS.labels("timeout").inc()
            await self._fail(job, N_("Sorry, that took too long and I gave up. Please try again in a moment."))
        except WorkerLost as exc:
            if job.attempts < self.settings.job_max_attempts and await self.store.requeue(job.id, self.owner):
                log.warning("render worker lost; job requeued", **structured, attempts=job.attempts)
                metrics.JOBS.labels("retried").inc()
                await self.announce_position(job)
            else:
                log.warning("render worker lost; giving up", **structured, attempts=job.attempts)
                await self._fail(job, exc.user_message)
        except MinimeError as exc:
            if getattr(exc, "detail", None):  # the operator's part (a misconfigured engine), never a secret
                log.error("job failed", **structured, reason=exc.user_message, detail=exc.detail)
            else:
                log.info("job failed", **structured, reason=exc.user_message)
            await self._fail(job, exc.user_message)
        except Exception as exc:  # an engine crash must not take the queue down
            if _disk_full(exc):
                log.error("job failed: the disk is full", **structured, error_type=type(exc).__name__)
                await self._fail(job, StorageFull.user_message)
            else:
                log.exception("engine crashed", **structured, error_type=type(exc).__name__)
                await self._fail(job, EngineFailed().user_message)
        else:
            elapsed = time.monotonic() - started
            self.render_seconds_avg = 0.8 * self.render_seconds_avg + 0.2 * elapsed
            metrics.JOBS.labels("done").inc()
            metrics.RENDER_SECONDS.labels(job.theme_id).observe(elapsed)
            if event is None:
                log.warning("job was taken over by another process; result not announced", **structured)
            else:
                log.info("job done", **structured, seconds=round(elapsed, 3))
                self._emit(event)
        finally:
            # A requeued job may already run again under a new task: leave that one's entry (and heart-beat) be.
            if self._running.get(job.id) is asyncio.current_task():
                del self._running[job.id]
            metrics.RUNNING.set(len(self._running))
            if self._backlog:  # a slot is free for a job that waits
                self._wakeup.set()

    async def _fail(self, job: Job, reason: str) -> None:
        metrics.JOBS.labels("failed").inc()
        try:
            recorded = await self.store.finish_job(job.id, JobState.FAILED, error=reason, owner=self.owner)
        except Exception as exc:  # the database cannot be written either (a full disk): tell the user anyway
            log.error("could not record a failed job; will retry", job=job.id, error_type=type(exc).__name__,
                      error=str(exc)[:200])
            self._unrecorded[job.id] = reason
            self._emit(Failed(job, reason))
            return
        if recorded:
            self._emit(Failed(job, reason))

    async def _record_failures(self) -> None:
        """Mark as failed the jobs whose failure could not be written when it happened (never left 'running')."""
        for job_id, reason in list(self._unrecorded.items()):
            await self.store.finish_job(job_id, JobState.FAILED, error=reason, owner=self.owner)
            del self._unrecorded[job_id]

    async def _lease_loop(self) -> None:
        interval = max(0.2, self.settings.job_lease_s / 3)
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                leased = await self.store.heartbeat([*self._running, *self._unrecorded], self.owner)
                await self._stop_cancelled_elsewhere(leased)
                await self._record_failures()
                await self._recover()
                metrics.QUEUE_DEPTH.set(await self.store.count_jobs(JobState.QUEUED))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lease upkeep failed")

    async def _stop_cancelled_elsewhere(self, leased: set[str]) -> None:
        """Stop the local renders of jobs cancelled through another front end (their rows say cancelled)."""
        for job_id in [j for j in self._running if j not in leased]:
            job = await self.store.get_job(job_id)
            if job is not None and job.state is JobState.CANCELLED:
                self.cancel(job_id)

    async def _recover(self) -> None:
        requeued, failed = await self.store.recover_stale(self.settings.job_lease_s, self.settings.job_max_attempts)
        for job in requeued:
            log.warning("requeued interrupted job", job=job.id, attempts=job.attempts)
            await self.announce_position(job)
        for job in failed:
            log.warning("gave up on interrupted job", job=job.id, attempts=job.attempts)
            self._emit(Failed(job, INTERRUPTED))
        if requeued:
            self.wake()


def _disk_full(exc: BaseException) -> bool:
    """Whether an error (or its cause) says the disk is full: an OSError, or SQLite's "database or disk is full"."""
    seen: BaseException | None = exc
    for _ in range(10):  # a bounded walk down the chain of causes
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "disk is full" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
