"""The SQL store (SQLAlchemy 2 async): SQLite by default, PostgreSQL by URL; migrated with Alembic at start."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from minime.core import watermark
from minime.core.domain import Job, JobKind, JobState, RenderParams, Result, UserKey, new_id
from minime.core.errors import Busy, QuotaExceeded
from minime.core.quotas import Quota, day_start, seconds_until_reset, utc_day
from minime.core.store.schema import ACTIVE_STATES, blocks, jobs, result_bands, results, selfies, sessions, usage

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 74_561_029  # PostgreSQL advisory lock id: one process migrates at a time


@dataclass(frozen=True, slots=True)
class DayUsage:
    """One UTC day's totals, for /admin."""

    images: int
    users: int
    chats: int
    energy_wh: float


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A user's session: current selfie, current result, a pending request and preferences."""

    user: UserKey
    selfie_id: str | None = None
    current_result_id: str | None = None
    pending: dict[str, Any] | None = None
    prefs: dict[str, Any] | None = None
    selfie_key: str | None = None  # blob of the current selfie while it has not expired


def _job(row: Any) -> Job:
    return Job(
        id=row.id, user=UserKey.parse(row.user), kind=JobKind(row.kind), theme_id=row.theme_id,
        params=RenderParams.from_dict(row.params), state=JobState(row.state), parent_result_id=row.parent_result_id,
        selfie_id=row.selfie_id, reply_to=row.reply_to or {}, attempts=row.attempts, error=row.error,
        result_id=row.result_id, rerender=row.rerender, selfie_key=row.selfie_key, chat=row.chat,
    )


def _result(row: Any) -> Result:
    return Result(
        id=row.id, user=UserKey.parse(row.user), theme_id=row.theme_id, params=RenderParams.from_dict(row.params),
        parent_id=row.parent_id, selfie_id=row.selfie_id, image_key=row.image_key, base_key=row.base_key,
        notes=tuple(row.notes or ()), source_type=row.source_type, mark=row.mark, fingerprint=row.fingerprint,
        energy_wh=row.energy_wh or 0.0,
    )


class Store:
    """Every row minime keeps. Methods are small, atomic statements so several processes can share it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        if url.startswith("sqlite"):
            Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
        sqlite = url.startswith("sqlite")
        # SQLite: transactions are explicit (engine.begin) and reads open none, so the pool's reset-on-return
        # ROLLBACK (one more thread hop per query with aiosqlite) is skipped.
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, pool_pre_ping=not sqlite,
                                                       pool_reset_on_return=None if sqlite else "rollback")
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe with several processes on PostgreSQL)."""
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            await conn.run_sync(self._upgrade)

    @staticmethod
    def _upgrade(sync_conn: Any) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "head")

    async def close(self) -> None:
        """Release connections."""
        await self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        return dialect_insert(table)

    def _upsert(self, table: Any, values: dict[str, Any], key: str, update_cols: list[str]) -> Any:
        stmt = self._insert(table).values(**values)
        return stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in update_cols})

    # ---- selfies -------------------------------------------------------------------------------------------------

    async def add_selfie(self, user: UserKey, blob_key: str, ttl_s: float) -> str:
        """Record a stored selfie and make it the session's current one."""
        selfie_id, now = new_id(), time.time()
        async with self.engine.begin() as conn:
            await conn.execute(insert(selfies).values(id=selfie_id, user=str(user), blob_key=blob_key,
                                                      created_at=now, expires_at=now + ttl_s))
        await self.update_session(user, selfie_id=selfie_id)
        return selfie_id

    async def selfie_blob(self, selfie_id: str) -> str | None:
        """The blob key of a selfie that has not expired, else None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(selfies.c.blob_key).where(
                and_(selfies.c.id == selfie_id, selfies.c.expires_at > time.time())))).first()
        return row.blob_key if row else None

    async def take_expired_selfies(self, now: float | None = None) -> list[str]:
        """Delete expired selfie rows; return their blob keys so the files can be removed."""
        now = now or time.time()
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(selfies.c.id, selfies.c.blob_key).where(selfies.c.expires_at <= now)
                                       )).all()
            if rows:
                await conn.execute(delete(selfies).where(selfies.c.id.in_([r.id for r in rows])))
        return [r.blob_key for r in rows]

    async def take_expired_results(self, now: float | None = None) -> list[str]:
        """Delete expired result rows; return the blob keys no remaining result uses."""
        now = now or time.time()
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(results.c.id, results.c.image_key, results.c.base_key).where(
                results.c.expires_at <= now))).all()
            if not rows:
                return []
            await conn.execute(delete(results).where(results.c.id.in_([r.id for r in rows])))
            await conn.execute(delete(result_bands).where(result_bands.c.result_id.in_([r.id for r in rows])))
            keys = {k for r in rows for k in (r.image_key, r.base_key)}
            still_used = set((await conn.execute(select(results.c.base_key).where(results.c.base_key.in_(keys))
                                                 )).scalars())
        return sorted(keys - still_used)

    # ---- sessions ------------------------------------------------------------------------------------------------

    async def get_session(self, user: UserKey) -> SessionRow:
        """The user's session (an empty one if none was stored)."""
        live_selfie = and_(selfies.c.id == sessions.c.selfie_id, selfies.c.expires_at > time.time())
        query = select(sessions, selfies.c.blob_key).select_from(sessions.outerjoin(selfies, live_selfie)).where(
            sessions.c.user == str(user))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if not row:
            return SessionRow(user)
        return SessionRow(user, row.selfie_id, row.current_result_id, row.pending, row.prefs, row.blob_key)

    async def update_session(self, user: UserKey, **fields: Any) -> None:
        """Set only the given fields (an upsert), so concurrent updates of other fields are never lost."""
        values = {"user": str(user), "updated_at": time.time(), **fields}
        async with self.engine.begin() as conn:
            await conn.execute(self._upsert(sessions, values, "user", [*fields, "updated_at"]))

    async def take_pending(self, user: UserKey) -> dict[str, Any] | None:
        """Atomically read and clear the pending request (only one process gets it)."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(sessions.c.pending).where(sessions.c.user == str(user)))).first()
            if not row or not row.pending:
                return None
            done = await conn.execute(update(sessions).where(and_(
                sessions.c.user == str(user), sessions.c.pending.is_not(None))).values(pending=None))
            return row.pending if done.rowcount else None

    # ---- results -------------------------------------------------------------------------------------------------

    async def add_result(self, result: Result, job_id: str | None, ttl_s: float) -> None:
        """Store a result and make it the user's current one (one transaction)."""
        async with self.engine.begin() as conn:
            await self._insert_result(conn, result, job_id, time.time(), ttl_s)

    async def _insert_result(self, conn: Any, result: Result, job_id: str | None, now: float, ttl_s: float) -> None:
        await conn.execute(insert(results).values(
            id=result.id, user=str(result.user), parent_id=result.parent_id, job_id=job_id,
            theme_id=result.theme_id, params=result.params.to_dict(), selfie_id=result.selfie_id,
            image_key=result.image_key, base_key=result.base_key, notes=list(result.notes),
            source_type=result.source_type, mark=result.mark, fingerprint=result.fingerprint,
            energy_wh=result.energy_wh, created_at=now, expires_at=now + ttl_s))
        if result.fingerprint:
            await conn.execute(insert(result_bands), [
                {"result_id": result.id, "user": str(result.user), "band": i, "value": value}
                for i, value in enumerate(watermark.bands(result.fingerprint))])
        await conn.execute(self._upsert(sessions, {"user": str(result.user), "current_result_id": result.id,
                                                   "updated_at": now}, "user", ["current_result_id", "updated_at"]))

    async def set_fingerprint(self, result: Result, fingerprint: str) -> None:
        """Store a result's perceptual fingerprint and its bands (computed after the image was sent)."""
        async with self.engine.begin() as conn:
            done = await conn.execute(update(results).where(
                results.c.id == result.id, results.c.fingerprint.is_(None)).values(fingerprint=fingerprint))
            if done.rowcount:  # not deleted (/forget) nor fingerprinted meanwhile
                await conn.execute(insert(result_bands), [
                    {"result_id": result.id, "user": str(result.user), "band": i, "value": value}
                    for i, value in enumerate(watermark.bands(fingerprint))])

    async def set_energy(self, result_id: str, energy_wh: float) -> None:
        """Store the energy a result took (charged after the image was sent)."""
        async with self.engine.begin() as conn:
            await conn.execute(update(results).where(results.c.id == result_id).values(energy_wh=energy_wh))

    async def results_with_mark(self, mark: int) -> list[Result]:
        """Results whose watermark id is ``mark`` (normally one)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(results).where(results.c.mark == mark))).all()
        return [_result(r) for r in rows]

    async def results_sharing_a_band(self, fingerprint: str, limit: int = 200) -> list[Result]:
        """Results whose fingerprint shares at least one 16-bit band with ``fingerprint`` (the candidates)."""
        pairs = [and_(result_bands.c.band == i, result_bands.c.value == v)
                 for i, v in enumerate(watermark.bands(fingerprint))]
        ids = select(result_bands.c.result_id).where(or_(*pairs)).distinct().limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(results).where(results.c.id.in_(ids)))).all()
        return [_result(r) for r in rows]

    async def user_totals(self, user: UserKey) -> tuple[int, float]:
        """How many results a user has, and the energy they took (Wh)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(func.count(), func.coalesce(func.sum(results.c.energy_wh), 0.0)).where(
                results.c.user == str(user)))).one()
        return int(row[0]), float(row[1])

    async def get_result(self, result_id: str) -> Result | None:
        """A result by id, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(results).where(results.c.id == result_id))).first()
        return _result(row) if row else None

    async def count_results(self, user: UserKey) -> int:
        """How many results a user has."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(results).where(
                results.c.user == str(user)))).scalar_one()

    # ---- jobs ----------------------------------------------------------------------------------------------------

    async def enqueue(self, job: Job, *, rate_limit: int, rate_window_s: float, quotas: tuple[Quota, ...] = ()
                      ) -> int:
        """Write a job durably before it runs, in one transaction with its checks; return its queue position.

        A job that renders takes one image from each of ``quotas`` (today's counts, atomically: a conditional
        upsert, so concurrent front ends never let one more through). Raises QuotaExceeded past the user's rate
        limit or a daily quota, and Busy when the user already has an active job; then nothing is counted.
        """
        now = time.time()
        try:
            mine = and_(jobs.c.user == str(job.user), jobs.c.created_at >= now - rate_window_s)
            queued = jobs.c.state == JobState.QUEUED.value
            counts = select(func.count().filter(mine), func.min(jobs.c.created_at).filter(mine),
                            func.count().filter(queued))
            async with self.engine.begin() as conn:
                recent, oldest, ahead = (await conn.execute(counts)).one()
                if recent >= rate_limit:
                    raise QuotaExceeded(retry_after_s=oldest + rate_window_s - now)
                if job.rerender:
                    for quota in quotas:
                        await self._take(conn, quota, now)
                await conn.execute(insert(jobs).values(
                    id=job.id, user=str(job.user), platform=job.user.platform, kind=job.kind.value,
                    theme_id=job.theme_id, params=job.params.to_dict(), state=job.state.value,
                    parent_result_id=job.parent_result_id, selfie_id=job.selfie_id, selfie_key=job.selfie_key,
                    reply_to=job.reply_to, chat=job.chat, rerender=job.rerender, attempts=job.attempts,
                    created_at=now))
            return ahead + 1
        except IntegrityError as exc:
            raise Busy() from exc

    async def _take(self, conn: Any, quota: Quota, now: float) -> None:
        """Count one image for ``quota`` today, unless that would pass its limit (then QuotaExceeded)."""
        stmt = self._insert(usage).values(day=utc_day(now), subject=quota.subject, images=1, granted=0,
                                          updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "subject"], set_={"images": usage.c.images + 1, "updated_at": now},
            where=(usage.c.images < usage.c.granted + quota.limit) if quota.limit else None,
        ).returning(usage.c.images)
        if (await conn.execute(stmt)).first() is None:
            granted = (await conn.execute(select(usage.c.granted).where(and_(
                usage.c.day == utc_day(now), usage.c.subject == quota.subject)))).scalar_one()
            raise QuotaExceeded(seconds_until_reset(now), scope=quota.scope, limit=quota.limit, granted=granted)

    async def _give_back(self, conn: Any, row: Any) -> None:
        """A failed render's images go back to its user's (and chat's) quota of the day it was asked."""
        if not row.rerender:
            return
        subjects = [f"user:{row.user}"] + ([f"chat:{row.chat}"] if row.chat else [])
        await conn.execute(update(usage).where(and_(
            usage.c.day == utc_day(row.created_at), usage.c.subject.in_(subjects), usage.c.images > 0)).values(
            images=usage.c.images - 1, updated_at=time.time()))

    # ---- quotas and admin ----------------------------------------------------------------------------------------

    async def usage_of(self, subject: str, now: float | None = None) -> tuple[int, int]:
        """Today's (images, granted) of a subject."""
        now = now or time.time()
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(usage.c.images, usage.c.granted).where(and_(
                usage.c.day == utc_day(now), usage.c.subject == subject)))).first()
        return (int(row.images), int(row.granted)) if row else (0, 0)

    async def grant(self, subject: str, images: int, now: float | None = None) -> int:
        """Add ``images`` to a subject's quota for today; return its granted total today."""
        now = now or time.time()
        stmt = self._insert(usage).values(day=utc_day(now), subject=subject, images=0, granted=images,
                                          updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["day", "subject"], set_={
            "granted": usage.c.granted + images, "updated_at": now}).returning(usage.c.granted)
        async with self.engine.begin() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def day_usage(self, now: float | None = None) -> DayUsage:
        """Today's images, users who got one, chats that got one, and the energy of today's results."""
        now = now or time.time()
        today = usage.c.day == utc_day(now)
        users = and_(today, usage.c.subject.like("user:%"), usage.c.images > 0)
        chats = and_(today, usage.c.subject.like("chat:%"), usage.c.images > 0)
        query = select(func.coalesce(func.sum(usage.c.images).filter(users), 0), func.count().filter(users),
                       func.count().filter(chats))
        energy = select(func.coalesce(func.sum(results.c.energy_wh), 0.0)).where(results.c.created_at >= day_start(now))
        async with self.engine.connect() as conn:
            images, user_count, chat_count = (await conn.execute(query)).one()
            energy_wh = (await conn.execute(energy)).scalar_one()
        return DayUsage(int(images), int(user_count), int(chat_count), float(energy_wh))

    async def prune_usage(self, now: float | None = None) -> int:
        """Delete usage rows older than yesterday (they only ever count today); return how many went."""
        yesterday = utc_day((now or time.time()) - 86400)
        async with self.engine.begin() as conn:
            return (await conn.execute(delete(usage).where(usage.c.day < yesterday))).rowcount

    async def block(self, user: UserKey, by: UserKey) -> bool:
        """Block a user (durable); False when they were blocked already."""
        stmt = self._insert(blocks).values(user=str(user), by=str(by), created_at=time.time())
        async with self.engine.begin() as conn:
            return bool((await conn.execute(stmt.on_conflict_do_nothing(index_elements=["user"]))).rowcount)

    async def unblock(self, user: UserKey) -> bool:
        """Lift a block; False when there was none."""
        async with self.engine.begin() as conn:
            return bool((await conn.execute(delete(blocks).where(blocks.c.user == str(user)))).rowcount)

    async def is_blocked(self, user: UserKey) -> bool:
        """Whether an admin blocked this user."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(blocks.c.user).where(blocks.c.user == str(user)))).first() is not None

    async def complete_job(self, job_id: str, owner: str, result: Result, ttl_s: float) -> bool:
        """Store a job's result, make it current and mark the job done, all at once; False (and nothing stored)
        if another process took the job over meanwhile."""
        now = time.time()
        async with self.engine.begin() as conn:
            done = await conn.execute(update(jobs).where(and_(
                jobs.c.id == job_id, jobs.c.state == JobState.RUNNING.value, jobs.c.owner == owner)).values(
                state=JobState.DONE.value, result_id=result.id, finished_at=now))
            if done.rowcount != 1:
                return False
            await self._insert_result(conn, result, job_id, now, ttl_s)
        return True

    async def get_job(self, job_id: str) -> Job | None:
        """A job by id."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
        return _job(row) if row else None

    async def active_job(self, user: UserKey) -> Job | None:
        """The user's queued or running job, if any."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(and_(
                jobs.c.user == str(user), jobs.c.state.in_(ACTIVE_STATES))))).first()
        return _job(row) if row else None

    async def claim_next(self, owner: str) -> Job | None:
        """Atomically take the oldest queued job (FIFO across users; one active job per user keeps it fair).

        One UPDATE … RETURNING statement; on PostgreSQL the candidate row is locked with SKIP LOCKED, so front ends
        claiming at once take different jobs instead of waiting on each other.
        """
        oldest = select(jobs.c.id).where(jobs.c.state == JobState.QUEUED.value).order_by(jobs.c.created_at).limit(1)
        if self.dialect == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        now = time.time()
        stmt = update(jobs).where(and_(jobs.c.id == oldest.scalar_subquery(),
                                       jobs.c.state == JobState.QUEUED.value)).values(
            state=JobState.RUNNING.value, owner=owner, started_at=now, heartbeat_at=now,
            attempts=jobs.c.attempts + 1).returning(*jobs.c)
        async with self.engine.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return _job(row) if row is not None else None

    async def heartbeat(self, job_ids: list[str], owner: str) -> None:
        """Extend the lease of running jobs this process owns."""
        if not job_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(update(jobs).where(and_(jobs.c.id.in_(job_ids), jobs.c.owner == owner,
                                                       jobs.c.state == JobState.RUNNING.value)).values(
                heartbeat_at=time.time()))

    async def finish_job(self, job_id: str, state: JobState, *, result_id: str | None = None,
                         error: str | None = None, owner: str | None = None) -> bool:
        """End a running job; False if another process took it over meanwhile."""
        condition = [jobs.c.id == job_id, jobs.c.state == JobState.RUNNING.value]
        if owner:
            condition.append(jobs.c.owner == owner)
        async with self.engine.begin() as conn:
            done = (await conn.execute(update(jobs).where(and_(*condition)).values(
                state=state.value, result_id=result_id, error=error, finished_at=time.time()).returning(
                jobs.c.user, jobs.c.chat, jobs.c.rerender, jobs.c.created_at))).first()
            if done is not None and state is JobState.FAILED:
                await self._give_back(conn, done)
        return done is not None

    async def requeue(self, job_id: str, owner: str) -> bool:
        """Put a running job this process owns back in the queue (its render was lost); False if not ours."""
        async with self.engine.begin() as conn:
            done = await conn.execute(update(jobs).where(and_(
                jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == JobState.RUNNING.value)).values(
                state=JobState.QUEUED.value, owner=None))
        return done.rowcount == 1

    async def recover_stale(self, lease_s: float, max_attempts: int) -> tuple[list[Job], list[Job]]:
        """Running jobs whose owner stopped heart-beating: requeue them, or fail them after too many attempts."""
        cutoff = time.time() - lease_s
        requeued, failed = [], []
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(jobs).where(and_(
                jobs.c.state == JobState.RUNNING.value, jobs.c.heartbeat_at < cutoff)))).all()
            for row in rows:
                retry = row.attempts < max_attempts
                new_state = JobState.QUEUED if retry else JobState.FAILED
                changed = await conn.execute(update(jobs).where(and_(
                    jobs.c.id == row.id, jobs.c.state == JobState.RUNNING.value, jobs.c.heartbeat_at < cutoff)
                ).values(state=new_state.value, owner=None,
                         error=None if retry else "interrupted", finished_at=None if retry else time.time()))
                if changed.rowcount:
                    (requeued if retry else failed).append(_job(row))
                    if not retry:
                        await self._give_back(conn, row)
        return requeued, failed

    async def queue_position(self, job_id: str) -> int:
        """1-based place among queued jobs (0 when it is not queued)."""
        me = select(jobs.c.created_at).where(and_(jobs.c.id == job_id, jobs.c.state == JobState.QUEUED.value)
                                             ).scalar_subquery()
        query = select(func.count()).select_from(jobs).where(and_(jobs.c.state == JobState.QUEUED.value,
                                                                  jobs.c.created_at <= me))
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar_one()

    async def count_jobs(self, state: JobState) -> int:
        """How many jobs are in a state (all users)."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(jobs).where(
                jobs.c.state == state.value))).scalar_one()

    # ---- privacy -------------------------------------------------------------------------------------------------

    async def delete_user(self, user: UserKey) -> int:
        """Remove every row of a user; return how many rows went."""
        removed = 0
        async with self.engine.begin() as conn:
            for table in (jobs, results, result_bands, selfies, sessions):
                removed += (await conn.execute(delete(table).where(table.c.user == str(user)))).rowcount
        return removed
