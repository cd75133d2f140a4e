"""The store on SQLite and PostgreSQL: state survives restarts, and several processes can share it safely."""

from __future__ import annotations

import asyncio
import time

import pytest

from minime.core.domain import Job, JobKind, JobState, RenderParams, Result, UserKey, new_id
from minime.core.errors import Busy
from minime.core.store import Store

LIMITS = {"rate_limit": 100, "rate_window_s": 60.0}


def _job(user: UserKey) -> Job:
    return Job(new_id(), user, JobKind.THEME, "figurine", RenderParams(name="A"), JobState.QUEUED,
               reply_to={"chat": user.user_id})


@pytest.fixture()
async def store(store_url: str):
    """One migrated store, closed after the test."""
    opened = Store(store_url)
    await opened.migrate()
    yield opened
    await opened.close()


async def test_rows_survive_a_restart(store_url: str) -> None:
    alice = UserKey("telegram", "42")
    store = Store(store_url)
    await store.migrate()
    selfie_id = await store.add_selfie(alice, "k/selfie.jpg", 3600)
    result = Result(new_id(), alice, "figurine", RenderParams(name="Alice", seed=3), None, selfie_id, "k/i.png",
                    "k/b.png", ("note",))
    await store.add_result(result, None, 3600)
    job = _job(alice)
    await store.enqueue(job, **LIMITS)
    await store.update_session(alice, prefs={"lang": "en"})
    await store.close()

    reopened = Store(store_url)
    await reopened.migrate()  # idempotent
    try:
        session = await reopened.get_session(alice)
        assert session.selfie_id == selfie_id and session.current_result_id == result.id
        assert session.prefs == {"lang": "en"}
        assert await reopened.get_result(result.id) == result
        stored_job = await reopened.get_job(job.id)
        assert stored_job.reply_to == {"chat": "42"} and stored_job.state is JobState.QUEUED
        assert await reopened.selfie_blob(selfie_id) == "k/selfie.jpg"
    finally:
        await reopened.close()


async def test_one_active_job_per_user_is_enforced_by_the_database(store: Store) -> None:
    alice = UserKey("t", "a")
    first = _job(alice)
    await store.enqueue(first, **LIMITS)
    with pytest.raises(Busy):
        await store.enqueue(_job(alice), **LIMITS)
    await store.claim_next("me")
    await store.finish_job(first.id, JobState.DONE)
    await store.enqueue(_job(alice), **LIMITS)  # allowed again once the first is done


async def test_two_front_ends_never_claim_the_same_job(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)
    await a.migrate()
    try:
        jobs = [_job(UserKey("t", str(i))) for i in range(24)]
        for job in jobs:
            await a.enqueue(job, **LIMITS)

        async def drain(store: Store, owner: str) -> list[str]:
            taken = []
            while (job := await store.claim_next(owner)) is not None:
                taken.append(job.id)
                await asyncio.sleep(0)
            return taken

        got = await asyncio.gather(drain(a, "a"), drain(b, "b"), drain(a, "a2"), drain(b, "b2"))
        flat = [j for part in got for j in part]
        assert sorted(flat) == sorted(j.id for j in jobs), "every job claimed exactly once"
    finally:
        await a.close()
        await b.close()


async def test_concurrent_session_updates_are_not_lost(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)
    await a.migrate()
    try:
        alice = UserKey("t", "alice")
        await asyncio.gather(*[a.update_session(alice, selfie_id=f"s{i}") for i in range(5)],
                             *[b.update_session(alice, current_result_id=f"r{i}") for i in range(5)],
                             b.update_session(alice, prefs={"x": 1}))
        session = await a.get_session(alice)
        assert session.selfie_id and session.current_result_id and session.prefs == {"x": 1}
        await a.update_session(alice, pending={"awaiting": "selfie"})
        taken = await asyncio.gather(a.take_pending(alice), b.take_pending(alice))
        assert sorted(map(bool, taken)) == [False, True], "a pending request is handed to one process only"
    finally:
        await a.close()
        await b.close()


async def test_stale_running_jobs_are_requeued_then_failed(store: Store) -> None:
    job = _job(UserKey("t", "z"))
    await store.enqueue(job, **LIMITS)
    await store.claim_next("dead-process")
    assert (await store.recover_stale(lease_s=60, max_attempts=2)) == ([], [])
    await asyncio.sleep(0.05)
    requeued, failed = await store.recover_stale(lease_s=0.01, max_attempts=2)
    assert [j.id for j in requeued] == [job.id] and not failed
    again = await store.claim_next("second-process")
    assert again.id == job.id and again.attempts == 2
    await asyncio.sleep(0.05)
    requeued, failed = await store.recover_stale(lease_s=0.01, max_attempts=2)
    assert not requeued and [j.id for j in failed] == [job.id]
    assert (await store.get_job(job.id)).state is JobState.FAILED
    assert not await store.finish_job(job.id, JobState.DONE, owner="second-process")


async def test_expiry_and_forget(store: Store) -> None:
    alice = UserKey("t", "alice")
    await store.add_selfie(alice, "a/s.jpg", ttl_s=1)
    r = Result(new_id(), alice, "polaroid", RenderParams(), None, None, "a/i.png", "a/b.png")
    await store.add_result(r, None, ttl_s=1)
    assert await store.take_expired_selfies(time.time()) == []
    assert await store.take_expired_selfies(time.time() + 5) == ["a/s.jpg"]
    assert sorted(await store.take_expired_results(time.time() + 5)) == ["a/b.png", "a/i.png"]
    await store.enqueue(_job(alice), **LIMITS)
    assert await store.delete_user(alice) >= 2
    assert await store.active_job(alice) is None
