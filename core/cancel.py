"""Calling off a job: its user presses Cancel on the status line (or sends /cancel) while it waits or renders.

The store marks the job cancelled and gives its images back to every quota in one transaction, so a queued job is
never claimed and a running one can no longer be completed (nothing is delivered, even by another front end). The
job runner then stops the render if it runs in this process: a hosted call is abandoned (its task cancelled), a
diffusion render stops at its next step, a classic render at its next progress report; a render in another process
is stopped by that process's runner at its next heart-beat.
"""

from __future__ import annotations

from minime.core import texts
from minime.core.domain import Cancelled, Job, JobState, UserKey
from minime.core.errors import NothingToCancel, NotYourJob
from minime.core.events import EventHub
from minime.core.jobs import JobRunner
from minime.core.logs import get_logger
from minime.core.store import Store

log = get_logger("minime.cancel")

ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class Canceller:
    """Cancels a user's queued or running job, and tells them (a Cancelled event on the job's status line)."""

    def __init__(self, store: Store, runner: JobRunner, events: EventHub) -> None:
        self.store, self.runner, self.events = store, runner, events

    async def cancel(self, user: UserKey, job_id: str | None = None) -> Job:
        """Cancel ``job_id`` (a Cancel button), or the user's active job (/cancel).

        Raises NotYourJob when the job is someone else's (a group member's button), NothingToCancel when it already
        ended or there is none.
        """
        job = await self.store.get_job(job_id) if job_id else await self.store.active_job(user)
        if job is not None and job.user != user:
            log.info("cancel refused: not the job's owner", job=job.id, user=str(user))
            raise NotYourJob()
        if job is None or job.state not in ACTIVE:
            raise NothingToCancel()
        cancelled = await self.store.cancel_job(job.id, user)
        if cancelled is None:  # it ended meanwhile
            raise NothingToCancel()
        stopped = self.runner.cancel(job.id)
        log.info("job cancelled", job=job.id, user=str(user), was=cancelled.state.value, stopped_here=stopped)
        self.events.emit(Cancelled(cancelled, texts.CANCELLED))
        return cancelled
