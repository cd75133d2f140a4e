"""The SQL store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL; migrated with Alembic at start."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    make_url,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from minime.core import watermark
from minime.core.domain import Job, JobKind, JobState, RenderParams, Result, UserKey, new_id
from minime.core.errors import Busy, QuotaExceeded, ShareExceeded
from minime.core.logs import get_logger
from minime.core.quotas import (
    Quota,
    chat_subject,
    day_start,
    member_subject,
    seconds_until_reset,
    user_subject,
    utc_day,
)
from minime.core.store.schema import ACTIVE_STATES, blocks, jobs, result_bands, results, selfies, sessions, usage

log = get_logger("minime.store")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 74_561_029  # PostgreSQL advisory lock id: one process migrates at a time
SQLITE_READERS = 3  # SQLite reads at once (WAL: readers run side by side, and beside the writer)
T = TypeVar("T")


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
    blocked: bool = False  # by an admin (/admin block)


# The statements of a request's path, built once with bind parameters: SQLAlchemy then reuses their compiled form,
# where a statement built with its values each time costs more than SQLite's own work (~0.3 ms per statement here).
_SESSION = select(sessions, selfies.c.blob_key).select_from(sessions.outerjoin(selfies, and_(
    selfies.c.id == sessions.c.selfie_id, selfies.c.expires_at > bindparam("now")))).where(
    sessions.c.user == bindparam("user"))
_BLOCKED = select(blocks.c.user).where(blocks.c.user == bindparam("user"))
_RECENT_JOBS = select(func.count(), func.min(jobs.c.created_at)).where(and_(
    jobs.c.user == bindparam("user"), jobs.c.created_at >= bindparam("since")))
_QUEUED_JOBS = select(func.count()).select_from(jobs).where(jobs.c.state == JobState.QUEUED.value)
_FINISH_RUNNING = update(jobs).where(and_(
    jobs.c.id == bindparam("job_id"), jobs.c.state == JobState.RUNNING.value, jobs.c.owner == bindparam("owner_"))
).values(state=JobState.DONE.value, result_id=bindparam("result_id"), finished_at=bindparam("now"))


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
    """Every row minime keeps. Methods are small, atomic statements so several processes can share it.

    Each method is one unit of work, written once as plain SQLAlchemy Core on a sync connection and run whole:
    on PostgreSQL through ``AsyncConnection.run_sync`` (asyncpg awaits each statement, no thread), on SQLite in one
    hop to a small thread pool on the standard sqlite3 driver. Why not aiosqlite there: through SQLAlchemy it costs
    four or five thread hand-offs per statement (cursor, execute, fetch, close, commit), ~0.8 ms per query on a quiet
    loop and 2–5 ms while renders hold the GIL; one hop per unit of work is ~0.1 ms of hand-off (bench/README).
    """

    def __init__(self, url: str, *, echo: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # "now" for expiry, leases, rate limits and the quota day (tests pin it)
        sqlite = url.startswith("sqlite")
        if sqlite:
            Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
        # The async engine: migrations, PostgreSQL's units of work, and tests that look at rows. On SQLite its
        # transactions are explicit and reads open none, so the pool's reset-on-return ROLLBACK is skipped.
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, pool_pre_ping=not sqlite,
                                                       pool_reset_on_return=None if sqlite else "rollback")
        self.dialect = self.engine.dialect.name
        self._sync: Engine | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._writer: ThreadPoolExecutor | None = None
        if sqlite:
            self._sync = create_engine(make_url(url).set(drivername="sqlite"), echo=echo,
                                       pool_size=SQLITE_READERS + 1, connect_args={"check_same_thread": False})
            self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="minime-sqlite-read")
            # One writer thread: this process's writes take turns in it instead of meeting on SQLite's lock, where
            # the loser sleeps in busy_timeout's steps (a millisecond or more each).
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="minime-sqlite-write")
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self._sync, "connect", _sqlite_unit_connection)

    @functools.cached_property
    def _current_result(self) -> Any:
        """Upsert: the user's session points at a new result."""
        stmt = self._insert(sessions).values(user=bindparam("user"), current_result_id=bindparam("result_id"),
                                             updated_at=bindparam("now"))
        return stmt.on_conflict_do_update(index_elements=["user"], set_={
            "current_result_id": stmt.excluded.current_result_id, "updated_at": stmt.excluded.updated_at})

    @functools.cache  # noqa: B019 (two statements per Store, which lives as long as the process)
    def _count_image(self, limited: bool) -> Any:
        """Upsert: one more image today for a subject, under its limit (``limited``) or not; returns the count."""
        stmt = self._insert(usage).values(day=bindparam("day"), subject=bindparam("subject"), images=1, granted=0,
                                          updated_at=bindparam("now"))
        return stmt.on_conflict_do_update(
            index_elements=["day", "subject"],
            set_={"images": usage.c.images + 1, "updated_at": stmt.excluded.updated_at},
            where=(usage.c.images < usage.c.granted + bindparam("limit")) if limited else None,
        ).returning(usage.c.images)

    async def _read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on a connection without a transaction of its own (reads)."""
        return await self._with_schema(self._read_once, work)

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        return await self._with_schema(self._write_once, work)

    async def _with_schema(self, run: Callable[[Callable[[Connection], T]], Awaitable[T]],
                           work: Callable[[Connection], T]) -> T:
        """Run a unit of work; when the database has lost its tables (dropped and created again under a running
        bot), create them again and run it once more, instead of failing every request until a restart. A broken
        connection is replaced by the pool's pre-ping (PostgreSQL) or a new connection (SQLite)."""
        try:
            return await run(work)
        except DBAPIError as exc:
            if not _schema_missing(exc):
                raise
        log.warning("the database has no tables (dropped and created again?): creating them")
        await self.migrate()
        return await run(work)

    async def _read_once(self, work: Callable[[Connection], T]) -> T:
        if self._sync is not None:
            return await asyncio.get_running_loop().run_in_executor(self._readers, self._sqlite_unit, work, False)
        async with self.engine.connect() as conn:
            return await conn.run_sync(work)

    async def _write_once(self, work: Callable[[Connection], T]) -> T:
        if self._sync is not None:
            return await asyncio.get_running_loop().run_in_executor(self._writer, self._sqlite_unit, work, True)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    def _sqlite_unit(self, work: Callable[[Connection], T], write: bool) -> T:
        assert self._sync is not None
        with self._sync.connect() as conn:
            if not write:
                return work(conn)
            # BEGIN IMMEDIATE takes the write lock up front, so a read-then-write unit (a rate-limit count, then the
            # insert) is atomic across processes, and a second writer waits (busy_timeout) instead of failing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                out = work(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return out

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
        if self._sync is not None:
            self._sync.dispose()
        for threads in (self._readers, self._writer):
            if threads is not None:
                threads.shutdown(wait=True)

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
        """Record a stored selfie and make it the session's current one (one transaction)."""
        selfie_id, now = new_id(), self.clock()

        def work(conn: Connection) -> None:
            conn.execute(insert(selfies).values(id=selfie_id, user=str(user), blob_key=blob_key, created_at=now,
                                                expires_at=now + ttl_s))
            conn.execute(self._upsert(sessions, {"user": str(user), "selfie_id": selfie_id, "updated_at": now},
                                      "user", ["selfie_id", "updated_at"]))
        await self._write(work)
        return selfie_id

    async def retire_selfies(self, user: UserKey, keep_id: str) -> list[str]:
        """Delete the user's selfie rows other than ``keep_id`` (a new selfie replaced them), except one a queued or
        running job still renders from; return their blob keys so the files can be removed now. Older results that
        are varied later render from the current selfie."""
        def work(conn: Connection) -> list[str]:
            in_use = select(jobs.c.selfie_key).where(and_(jobs.c.user == str(user), jobs.c.state.in_(ACTIVE_STATES),
                                                          jobs.c.selfie_key.is_not(None)))
            rows = conn.execute(select(selfies.c.id, selfies.c.blob_key).where(and_(
                selfies.c.user == str(user), selfies.c.id != keep_id, selfies.c.blob_key.not_in(in_use)))).all()
            if rows:
                conn.execute(delete(selfies).where(selfies.c.id.in_([r.id for r in rows])))
            return [r.blob_key for r in rows]
        return await self._write(work)

    async def next_expiry(self) -> float | None:
        """When the next selfie or result expires (None: nothing stored)."""
        query = select(func.min(selfies.c.expires_at)).union_all(select(func.min(results.c.expires_at)))
        return await self._read(lambda conn: min((t for t in conn.execute(query).scalars() if t is not None),
                                                 default=None))

    async def selfie_blob(self, selfie_id: str) -> str | None:
        """The blob key of a selfie that has not expired, else None."""
        query = select(selfies.c.blob_key).where(and_(selfies.c.id == selfie_id, selfies.c.expires_at > self.clock()))
        return await self._read(lambda conn: conn.execute(query).scalar())

    async def take_expired_selfies(self, now: float | None = None) -> list[str]:
        """Delete expired selfie rows; return their blob keys so the files can be removed."""
        now = now or self.clock()

        def work(conn: Connection) -> list[str]:
            rows = conn.execute(select(selfies.c.id, selfies.c.blob_key).where(selfies.c.expires_at <= now)).all()
            if rows:
                conn.execute(delete(selfies).where(selfies.c.id.in_([r.id for r in rows])))
            return [r.blob_key for r in rows]
        return await self._write(work)

    async def take_expired_results(self, now: float | None = None) -> list[str]:
        """Delete expired result rows; return the blob keys no remaining result uses."""
        now = now or self.clock()

        def work(conn: Connection) -> list[str]:
            rows = conn.execute(select(results.c.id, results.c.image_key, results.c.base_key).where(
                results.c.expires_at <= now)).all()
            if not rows:
                return []
            conn.execute(delete(results).where(results.c.id.in_([r.id for r in rows])))
            conn.execute(delete(result_bands).where(result_bands.c.result_id.in_([r.id for r in rows])))
            keys = {k for r in rows for k in (r.image_key, r.base_key)}
            still_used = set(conn.execute(select(results.c.base_key).where(results.c.base_key.in_(keys))).scalars())
            return sorted(keys - still_used)
        return await self._write(work)

    # ---- sessions ------------------------------------------------------------------------------------------------

    async def get_session(self, user: UserKey) -> SessionRow:
        """The user's session (an empty one if none was stored), and whether an admin blocked the user."""
        params = {"user": str(user), "now": self.clock()}
        row, blocked = await self._read(lambda conn: (conn.execute(_SESSION, params).first(),
                                                      conn.execute(_BLOCKED, params).first() is not None))
        if not row:
            return SessionRow(user, blocked=blocked)
        return SessionRow(user, row.selfie_id, row.current_result_id, row.pending, row.prefs, row.blob_key, blocked)

    async def update_session(self, user: UserKey, **fields: Any) -> None:
        """Set only the given fields (an upsert), so concurrent updates of other fields are never lost."""
        values = {"user": str(user), "updated_at": self.clock(), **fields}
        await self._write(lambda conn: conn.execute(self._upsert(sessions, values, "user", [*fields, "updated_at"])))

    async def take_pending(self, user: UserKey) -> dict[str, Any] | None:
        """Atomically read and clear the pending request (only one process gets it)."""
        def work(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(select(sessions.c.pending).where(sessions.c.user == str(user))).first()
            if not row or not row.pending:
                return None
            done = conn.execute(update(sessions).where(and_(
                sessions.c.user == str(user), sessions.c.pending.is_not(None))).values(pending=None))
            return row.pending if done.rowcount else None
        return await self._write(work)

    # ---- results -------------------------------------------------------------------------------------------------

    async def add_result(self, result: Result, job_id: str | None, ttl_s: float) -> None:
        """Store a result and make it the user's current one (one transaction)."""
        now = self.clock()
        await self._write(lambda conn: self._insert_result(conn, result, job_id, now, ttl_s))

    def _insert_result(self, conn: Connection, result: Result, job_id: str | None, now: float, ttl_s: float) -> None:
        conn.execute(insert(results), {
            "id": result.id, "user": str(result.user), "parent_id": result.parent_id, "job_id": job_id,
            "theme_id": result.theme_id, "params": result.params.to_dict(), "selfie_id": result.selfie_id,
            "image_key": result.image_key, "base_key": result.base_key, "notes": list(result.notes),
            "source_type": result.source_type, "mark": result.mark, "fingerprint": result.fingerprint,
            "energy_wh": result.energy_wh, "created_at": now, "expires_at": now + ttl_s})
        if result.fingerprint:
            conn.execute(insert(result_bands), [
                {"result_id": result.id, "user": str(result.user), "band": i, "value": value}
                for i, value in enumerate(watermark.bands(result.fingerprint))])
        conn.execute(self._current_result, {"user": str(result.user), "result_id": result.id, "now": now})

    async def set_fingerprint(self, result: Result, fingerprint: str) -> None:
        """Store a result's perceptual fingerprint and its bands (when /verify had to work it out from the file)."""
        await self.book(result, fingerprint=fingerprint)

    async def book(self, result: Result, *, fingerprint: str | None = None, energy_wh: float | None = None) -> None:
        """Store what is worked out after a result was sent, in one write: its perceptual fingerprint and bands
        (unless it has one, or went with /forget), and the energy its render took."""
        def work(conn: Connection) -> None:
            if energy_wh is not None:
                conn.execute(update(results).where(results.c.id == result.id).values(energy_wh=energy_wh))
            if fingerprint is None:
                return
            done = conn.execute(update(results).where(
                results.c.id == result.id, results.c.fingerprint.is_(None)).values(fingerprint=fingerprint))
            if done.rowcount:  # not deleted (/forget) nor fingerprinted meanwhile
                conn.execute(insert(result_bands), [
                    {"result_id": result.id, "user": str(result.user), "band": i, "value": value}
                    for i, value in enumerate(watermark.bands(fingerprint))])
        await self._write(work)

    async def results_with_mark(self, mark: int) -> list[Result]:
        """Results whose watermark id is ``mark`` (normally one)."""
        rows = await self._read(lambda conn: conn.execute(select(results).where(results.c.mark == mark)).all())
        return [_result(r) for r in rows]

    async def results_sharing_a_band(self, fingerprint: str, limit: int = 200) -> list[Result]:
        """Results whose fingerprint shares at least one 16-bit band with ``fingerprint`` (the candidates)."""
        pairs = [and_(result_bands.c.band == i, result_bands.c.value == v)
                 for i, v in enumerate(watermark.bands(fingerprint))]
        ids = select(result_bands.c.result_id).where(or_(*pairs)).distinct().limit(limit)
        rows = await self._read(lambda conn: conn.execute(select(results).where(results.c.id.in_(ids))).all())
        return [_result(r) for r in rows]

    async def user_totals(self, user: UserKey) -> tuple[int, float]:
        """How many results a user has, and the energy they took (Wh)."""
        query = select(func.count(), func.coalesce(func.sum(results.c.energy_wh), 0.0)).where(
            results.c.user == str(user))
        row = await self._read(lambda conn: conn.execute(query).one())
        return int(row[0]), float(row[1])

    async def get_result(self, result_id: str) -> Result | None:
        """A result by id, or None."""
        row = await self._read(lambda conn: conn.execute(select(results).where(results.c.id == result_id)).first())
        return _result(row) if row else None

    async def count_results(self, user: UserKey) -> int:
        """How many results a user has."""
        query = select(func.count()).select_from(results).where(results.c.user == str(user))
        return await self._read(lambda conn: conn.execute(query).scalar_one())

    # ---- jobs ----------------------------------------------------------------------------------------------------

    async def enqueue(self, job: Job, *, rate_limit: int, rate_window_s: float, quotas: tuple[Quota, ...] = (),
                      claim_for: str | None = None) -> int:
        """Write a job durably before it runs, in one transaction with its checks; return its queue position.

        A job that renders takes one image from each of ``quotas`` (today's counts, atomically: a conditional
        upsert, so concurrent front ends never let one more through). Raises QuotaExceeded past the user's rate
        limit or a daily quota, and Busy when the user already has an active job; then nothing is counted.

        ``claim_for``: a job runner with a free slot; when no job is queued ahead, the job is written already
        claimed by it (running, leased, attempt 1) and the position is 0: the runner starts it without a claim.
        """
        now = self.clock()

        def work(conn: Connection) -> int:
            recent, oldest = conn.execute(_RECENT_JOBS, {"user": str(job.user), "since": now - rate_window_s}).one()
            ahead = conn.execute(_QUEUED_JOBS).scalar_one()
            if recent >= rate_limit:
                raise QuotaExceeded(retry_after_s=oldest + rate_window_s - now)
            if job.rerender:
                for quota in quotas:
                    self._take(conn, quota, now)
            claimed = claim_for is not None and ahead == 0
            lease = dict(state=JobState.RUNNING.value, owner=claim_for, started_at=now, heartbeat_at=now,
                         attempts=job.attempts + 1) if claimed else dict(state=job.state.value, attempts=job.attempts)
            conn.execute(insert(jobs), {
                "id": job.id, "user": str(job.user), "platform": job.user.platform, "kind": job.kind.value,
                "theme_id": job.theme_id, "params": job.params.to_dict(), "parent_result_id": job.parent_result_id,
                "selfie_id": job.selfie_id, "selfie_key": job.selfie_key, "reply_to": job.reply_to,
                "chat": job.chat, "rerender": job.rerender, "created_at": now, "started_at": None,
                "owner": None, "heartbeat_at": None, **lease})
            return 0 if claimed else ahead + 1
        try:
            return await self._write(work)
        except IntegrityError as exc:
            raise Busy() from exc

    def _take(self, conn: Connection, quota: Quota, now: float) -> None:
        """Count one image for ``quota`` today, unless that would pass its limit (then QuotaExceeded)."""
        lifted = conn.execute(select(func.coalesce(func.sum(usage.c.granted), 0)).where(and_(
            usage.c.day == utc_day(now), usage.c.subject.in_(quota.lifted_by)))).scalar_one() \
            if quota.limit and quota.lifted_by else 0
        params = {"day": utc_day(now), "subject": quota.subject, "now": now, "limit": quota.limit + int(lifted)}
        if conn.execute(self._count_image(bool(quota.limit)), params).first() is None:
            granted = conn.execute(select(usage.c.granted).where(and_(
                usage.c.day == utc_day(now), usage.c.subject == quota.subject))).scalar_one()
            if quota.scope == "member":
                raise ShareExceeded(seconds_until_reset(now), limit=quota.limit, granted=granted + int(lifted))
            raise QuotaExceeded(seconds_until_reset(now), scope=quota.scope, limit=quota.limit,
                                granted=granted + int(lifted))

    def _give_back(self, conn: Connection, row: Any) -> None:
        """A failed or cancelled render's images go back to its user's (and chat's, and the member's share of it)
        quota of the day it was asked."""
        if not row.rerender:
            return
        subjects = [f"user:{row.user}"] + ([chat_subject(row.chat), member_subject(row.chat, row.user)]
                                           if row.chat else [])
        conn.execute(update(usage).where(and_(
            usage.c.day == utc_day(row.created_at), usage.c.subject.in_(subjects), usage.c.images > 0)).values(
            images=usage.c.images - 1, updated_at=self.clock()))

    # ---- quotas and admin ----------------------------------------------------------------------------------------

    async def usage_of(self, subject: str, now: float | None = None) -> tuple[int, int]:
        """Today's (images, granted) of a subject."""
        now = now or self.clock()
        query = select(usage.c.images, usage.c.granted).where(and_(usage.c.day == utc_day(now),
                                                                   usage.c.subject == subject))
        row = await self._read(lambda conn: conn.execute(query).first())
        return (int(row.images), int(row.granted)) if row else (0, 0)

    async def grant(self, subject: str, images: int, now: float | None = None) -> int:
        """Add ``images`` to a subject's quota for today; return its granted total today."""
        now = now or self.clock()
        stmt = self._insert(usage).values(day=utc_day(now), subject=subject, images=0, granted=images,
                                          updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["day", "subject"], set_={
            "granted": usage.c.granted + images, "updated_at": now}).returning(usage.c.granted)
        return int(await self._write(lambda conn: conn.execute(stmt).scalar_one()))

    async def day_usage(self, now: float | None = None) -> DayUsage:
        """Today's images, users who got one, chats that got one, and the energy of today's results."""
        now = now or self.clock()
        today = usage.c.day == utc_day(now)
        users = and_(today, usage.c.subject.like("user:%"), usage.c.images > 0)
        chats = and_(today, usage.c.subject.like("chat:%"), usage.c.images > 0)
        query = select(func.coalesce(func.sum(usage.c.images).filter(users), 0), func.count().filter(users),
                       func.count().filter(chats))
        energy = select(func.coalesce(func.sum(results.c.energy_wh), 0.0)).where(results.c.created_at >= day_start(now))

        def work(conn: Connection) -> DayUsage:
            images, user_count, chat_count = conn.execute(query).one()
            return DayUsage(int(images), int(user_count), int(chat_count), float(conn.execute(energy).scalar_one()))
        return await self._read(work)

    async def prune_usage(self, now: float | None = None) -> int:
        """Delete usage rows older than yesterday (they only ever count today); return how many went."""
        yesterday = utc_day((now or self.clock()) - 86400)
        return await self._write(lambda conn: conn.execute(delete(usage).where(usage.c.day < yesterday)).rowcount)

    async def block(self, user: UserKey, by: UserKey) -> bool:
        """Block a user (durable); False when they were blocked already."""
        stmt = self._insert(blocks).values(user=str(user), by=str(by), created_at=self.clock())
        stmt = stmt.on_conflict_do_nothing(index_elements=["user"])
        return bool(await self._write(lambda conn: conn.execute(stmt).rowcount))

    async def unblock(self, user: UserKey) -> bool:
        """Lift a block; False when there was none."""
        stmt = delete(blocks).where(blocks.c.user == str(user))
        return bool(await self._write(lambda conn: conn.execute(stmt).rowcount))

    async def is_blocked(self, user: UserKey) -> bool:
        """Whether an admin blocked this user."""
        query = select(blocks.c.user).where(blocks.c.user == str(user))
        return await self._read(lambda conn: conn.execute(query).first()) is not None

    async def complete_job(self, job_id: str, owner: str, result: Result, ttl_s: float) -> bool:
        """Store a job's result, make it current and mark the job done, all at once; False (and nothing stored)
        if another process took the job over meanwhile."""
        now = self.clock()

        def work(conn: Connection) -> bool:
            done = conn.execute(_FINISH_RUNNING, {"job_id": job_id, "owner_": owner, "result_id": result.id,
                                                  "now": now})
            if done.rowcount != 1:
                return False
            self._insert_result(conn, result, job_id, now, ttl_s)
            return True
        return await self._write(work)

    async def get_job(self, job_id: str) -> Job | None:
        """A job by id."""
        row = await self._read(lambda conn: conn.execute(select(jobs).where(jobs.c.id == job_id)).first())
        return _job(row) if row else None

    async def active_job(self, user: UserKey) -> Job | None:
        """The user's queued or running job, if any."""
        query = select(jobs).where(and_(jobs.c.user == str(user), jobs.c.state.in_(ACTIVE_STATES)))
        row = await self._read(lambda conn: conn.execute(query).first())
        return _job(row) if row else None

    async def claim_next(self, owner: str) -> Job | None:
        """Atomically take the oldest queued job (FIFO across users; one active job per user keeps it fair).

        One UPDATE … RETURNING statement; on PostgreSQL the candidate row is locked with SKIP LOCKED, so front ends
        claiming at once take different jobs instead of waiting on each other.
        """
        oldest = select(jobs.c.id).where(jobs.c.state == JobState.QUEUED.value).order_by(jobs.c.created_at).limit(1)
        if self.dialect == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        now = self.clock()
        stmt = update(jobs).where(and_(jobs.c.id == oldest.scalar_subquery(),
                                       jobs.c.state == JobState.QUEUED.value)).values(
            state=JobState.RUNNING.value, owner=owner, started_at=now, heartbeat_at=now,
            attempts=jobs.c.attempts + 1).returning(*jobs.c)
        row = await self._write(lambda conn: conn.execute(stmt).first())
        return _job(row) if row is not None else None

    async def heartbeat(self, job_ids: list[str], owner: str) -> set[str]:
        """Extend the lease of running jobs this process owns; return the ids still running under this owner (a job
        missing from it was cancelled, or taken over)."""
        if not job_ids:
            return set()
        stmt = update(jobs).where(and_(jobs.c.id.in_(job_ids), jobs.c.owner == owner,
                                       jobs.c.state == JobState.RUNNING.value)).values(heartbeat_at=self.clock()
                                                                                       ).returning(jobs.c.id)
        return set(await self._write(lambda conn: conn.execute(stmt).scalars().all()))

    async def cancel_job(self, job_id: str, user: UserKey) -> Job | None:
        """Call off a queued or running job of ``user``: it ends cancelled (a queued one is never claimed, a running
        one can no longer be completed) and its images go back to the quotas, in one transaction. Returns the job
        as it was before, or None when it is not theirs or no longer active."""
        now = self.clock()

        def work(conn: Connection) -> Job | None:
            row = conn.execute(select(jobs).where(and_(jobs.c.id == job_id, jobs.c.user == str(user),
                                                       jobs.c.state.in_(ACTIVE_STATES)))).first()
            if row is None:
                return None
            changed = conn.execute(update(jobs).where(and_(jobs.c.id == job_id, jobs.c.state == row.state)).values(
                state=JobState.CANCELLED.value, error="cancelled", finished_at=now))
            if changed.rowcount != 1:
                return None
            self._give_back(conn, row)
            return _job(row)
        return await self._write(work)

    async def knows_chat(self, chat: str) -> bool:
        """Whether ``chat`` (``platform:id``) is a group chat or channel minime was asked in (an admin's grant to
        it then goes to the chat, not to a user of that id)."""
        asked = select(jobs.c.id).where(jobs.c.chat == chat).limit(1)
        counted = select(usage.c.subject).where(usage.c.subject == chat_subject(chat)).limit(1)
        return await self._read(lambda conn: conn.execute(asked).first() is not None
                                or conn.execute(counted).first() is not None)

    async def finish_job(self, job_id: str, state: JobState, *, result_id: str | None = None,
                         error: str | None = None, owner: str | None = None) -> bool:
        """End a running job; False if another process took it over meanwhile."""
        condition = [jobs.c.id == job_id, jobs.c.state == JobState.RUNNING.value]
        if owner:
            condition.append(jobs.c.owner == owner)
        stmt = update(jobs).where(and_(*condition)).values(
            state=state.value, result_id=result_id, error=error, finished_at=self.clock()).returning(
            jobs.c.user, jobs.c.chat, jobs.c.rerender, jobs.c.created_at)

        def work(conn: Connection) -> bool:
            done = conn.execute(stmt).first()
            if done is not None and state is JobState.FAILED:
                self._give_back(conn, done)
            return done is not None
        return await self._write(work)

    async def count_figure_work(self, work_id: str, user: UserKey, theme_id: str, *, rate_limit: int,
                                rate_window_s: float, quotas: tuple[Quota, ...] = (), chat: str | None = None
                                ) -> None:
        """Count a figure file about to be made (a turntable or a mesh: seconds of CPU work) as a render is
        counted, in one transaction: against the user's rate limit (it is a job of the window) and one image from
        each of ``quotas``. Its row is written finished: it never enters the render queue, nor stops the user's
        next render; ``figure_work_failed`` gives its images back. Raises QuotaExceeded as ``enqueue`` does."""
        now = self.clock()

        def work(conn: Connection) -> None:
            recent, oldest = conn.execute(_RECENT_JOBS, {"user": str(user), "since": now - rate_window_s}).one()
            if recent >= rate_limit:
                raise QuotaExceeded(retry_after_s=oldest + rate_window_s - now)
            for quota in quotas:
                self._take(conn, quota, now)
            conn.execute(insert(jobs), {
                "id": work_id, "user": str(user), "platform": user.platform, "kind": JobKind.FIGURE.value,
                "theme_id": theme_id, "params": {}, "state": JobState.DONE.value, "chat": chat, "rerender": True,
                "attempts": 1, "created_at": now, "started_at": now, "finished_at": None})
        await self._write(work)

    async def figure_work_failed(self, work_id: str, error: str) -> None:
        """A counted figure file could not be made: its row says so and its images go back (as a failed render's)."""
        stmt = update(jobs).where(and_(jobs.c.id == work_id, jobs.c.kind == JobKind.FIGURE.value,
                                       jobs.c.state == JobState.DONE.value)).values(
            state=JobState.FAILED.value, error=error, finished_at=self.clock()).returning(
            jobs.c.user, jobs.c.chat, jobs.c.rerender, jobs.c.created_at)

        def work(conn: Connection) -> None:
            failed = conn.execute(stmt).first()
            if failed is not None:
                self._give_back(conn, failed)
        await self._write(work)

    async def requeue(self, job_id: str, owner: str) -> bool:
        """Put a running job this process owns back in the queue (its render was lost); False if not ours."""
        stmt = update(jobs).where(and_(jobs.c.id == job_id, jobs.c.owner == owner,
                                       jobs.c.state == JobState.RUNNING.value)).values(
            state=JobState.QUEUED.value, owner=None)
        return await self._write(lambda conn: conn.execute(stmt).rowcount == 1)

    async def recover_stale(self, lease_s: float, max_attempts: int) -> tuple[list[Job], list[Job]]:
        """Running jobs whose owner stopped heart-beating: requeue them, or fail them after too many attempts."""
        cutoff = self.clock() - lease_s

        def work(conn: Connection) -> tuple[list[Job], list[Job]]:
            requeued, failed = [], []
            rows = conn.execute(select(jobs).where(and_(
                jobs.c.state == JobState.RUNNING.value, jobs.c.heartbeat_at < cutoff))).all()
            for row in rows:
                retry = row.attempts < max_attempts
                new_state = JobState.QUEUED if retry else JobState.FAILED
                changed = conn.execute(update(jobs).where(and_(
                    jobs.c.id == row.id, jobs.c.state == JobState.RUNNING.value, jobs.c.heartbeat_at < cutoff)
                ).values(state=new_state.value, owner=None,
                         error=None if retry else "interrupted", finished_at=None if retry else self.clock()))
                if changed.rowcount:
                    (requeued if retry else failed).append(_job(row))
                    if not retry:
                        self._give_back(conn, row)
            return requeued, failed
        return await self._write(work)

    async def queue_position(self, job_id: str) -> int:
        """1-based place among queued jobs (0 when it is not queued)."""
        me = select(jobs.c.created_at).where(and_(jobs.c.id == job_id, jobs.c.state == JobState.QUEUED.value)
                                             ).scalar_subquery()
        query = select(func.count()).select_from(jobs).where(and_(jobs.c.state == JobState.QUEUED.value,
                                                                  jobs.c.created_at <= me))
        return await self._read(lambda conn: conn.execute(query).scalar_one())

    async def count_jobs(self, state: JobState) -> int:
        """How many jobs are in a state (all users)."""
        query = select(func.count()).select_from(jobs).where(jobs.c.state == state.value)
        return await self._read(lambda conn: conn.execute(query).scalar_one())

    # ---- privacy -------------------------------------------------------------------------------------------------

    async def delete_user(self, user: UserKey) -> int:
        """Remove every row of a user (their usage counts too: ``user:<id>`` and each group share
        ``member:<chat>:<id>``); return how many rows went. An admin's block of the user stays (it is the admin's
        record, and /forget must not lift it)."""
        key = str(user)
        counts = delete(usage).where(or_(usage.c.subject == user_subject(user),
                                         usage.c.subject.like(member_subject("%", _like_literal(key)), escape="\\")))

        def work(conn: Connection) -> int:
            rows = sum(conn.execute(delete(table).where(table.c.user == key)).rowcount
                       for table in (jobs, results, result_bands, selfies, sessions))
            return rows + conn.execute(counts).rowcount
        return await self._write(work)


def _sqlite_unit_connection(dbapi_conn: Any, record: Any) -> None:
    # The driver's own transaction handling is off (isolation_level None): units of work say BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    _sqlite_pragmas(dbapi_conn, record)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _like_literal(text: str) -> str:
    """``text`` for a LIKE pattern, its own wildcards escaped (with a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _schema_missing(exc: DBAPIError) -> bool:
    """Whether a database error says a table is missing (SQLite's "no such table", PostgreSQL's undefined table)."""
    reason = str(exc.orig).lower()
    return "no such table" in reason or (getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
                                         ) == "42P01" or ("relation" in reason and "does not exist" in reason)
