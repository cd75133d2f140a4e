"""Writing render jobs: a refinement's job from the result it refines, and the durable enqueue that starts it."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from minime.core import i18n
from minime.core.access import Access
from minime.core.domain import Job, JobKind, JobState, Queued, Result, UserKey, new_id
from minime.core.errors import NoSelfie
from minime.core.events import EventHub
from minime.core.jobs import JobRunner
from minime.core.logs import get_logger
from minime.core.pipeline import SELFIE_EXPIRED
from minime.core.refine import Refinement
from minime.core.settings import Settings
from minime.core.store import Store
from minime.core.themes import ThemeCatalog

log = get_logger("minime.studio")


class JobWriter:
    """Builds jobs and writes them before they run (a job written survives a crash), within the rate limit and the
    daily quotas; a free render slot with nobody waiting starts the job at once."""

    def __init__(self, store: Store, runner: JobRunner, events: EventHub, catalog: ThemeCatalog, access: Access,
                 settings: Settings) -> None:
        self.store, self.runner, self.events, self.catalog = store, runner, events, catalog
        self.access, self.settings = access, settings

    async def refinement(self, user: UserKey, base: Result, refinement: Refinement, reply_to: dict[str, Any]) -> Job:
        """The job that applies ``refinement`` to ``base``: a render again from the base's selfie (else the current
        one) when it needs one, else post-processing of the base image."""
        theme = refinement.theme or self.catalog.get(base.theme_id)
        params = refinement.apply_to(base.params, base.theme_id, random.randrange(1, 2**31))
        selfie_id = base.selfie_id
        selfie_key = await self.store.selfie_blob(selfie_id) if selfie_id and refinement.needs_render else None
        if refinement.needs_render and not selfie_key:
            session = await self.store.get_session(user)
            selfie_id, selfie_key = session.selfie_id, session.selfie_key
            if not selfie_key:
                raise NoSelfie(SELFIE_EXPIRED)
        return Job(new_id(), user, JobKind.REFINE, theme.id, params, JobState.QUEUED, parent_result_id=base.id,
                   selfie_id=selfie_id, reply_to=reply_to, rerender=refinement.needs_render, selfie_key=selfie_key)

    async def enqueue(self, job: Job) -> Job:
        """Write the job; with a free render slot and nobody waiting it is written already claimed and starts now."""
        job = replace(job, reply_to=i18n.stamp(job.reply_to))  # its events read in the language it was asked in
        owner = self.runner.reserve()
        try:
            position = await self.store.enqueue(job, rate_limit=self.settings.rate_limit_jobs,
                                                rate_window_s=self.settings.rate_limit_window_s,
                                                quotas=self.access.quotas(job.user, job.chat), claim_for=owner)
        except BaseException:
            if owner:
                self.runner.release()
            raise
        log.info("job queued", job=job.id, user=str(job.user), theme=job.theme_id, kind=job.kind.value)
        self.events.emit(Queued(job, max(1, position), self.runner.eta_s(max(1, position))))
        if position == 0:
            self.runner.adopt(job)
        elif owner:
            self.runner.release()
        else:
            self.runner.wake()
        return job
