"""Daily quotas and /admin: counted in the store at enqueue (SQLite and PostgreSQL), durable across restarts,
exact with two front ends, and used through the Studio as a chat adapter would."""

from __future__ import annotations

import asyncio

import pytest

from minime.core.app import build_studio
from minime.core.domain import Done, Job, JobKind, JobState, RenderParams, UserKey, new_id
from minime.core.errors import AdminOnly, Busy, NotAllowed, QuotaExceeded
from minime.core.quotas import Quota, chat_subject, seconds_until_reset, user_subject, utc_day
from minime.core.settings import Settings
from minime.core.store import Store
from tests.conftest import Recorder, midday_clock

LIMITS = {"rate_limit": 100, "rate_window_s": 60.0}
GROUP = "telegram:-1001234567890"


def _job(user: UserKey, *, rerender: bool = True, chat: str | None = None) -> Job:
    return Job(new_id(), user, JobKind.THEME, "figurine", RenderParams(name="A"), JobState.QUEUED,
               rerender=rerender, chat=chat)


def _quotas(user: UserKey, own: int, chat: str | None = None, per_chat: int = 0) -> tuple[Quota, ...]:
    return (Quota("user", user_subject(user), own),) + ((Quota("chat", chat_subject(chat), per_chat),) if chat else ())


@pytest.fixture()
async def store(store_url: str):
    opened = Store(store_url, clock=midday_clock)
    await opened.migrate()
    yield opened
    await opened.close()


async def _finish(store: Store, job: Job, state: JobState = JobState.DONE) -> None:
    claimed = await store.claim_next("me")
    assert claimed is not None and claimed.id == job.id
    await store.finish_job(job.id, state, owner="me")


# ---- the store ---------------------------------------------------------------------------------------------------


async def test_a_user_quota_refuses_the_third_render_and_says_when_it_resets(store: Store) -> None:
    bo = UserKey("telegram", "7")
    for _ in range(2):
        job = _job(bo)
        await store.enqueue(job, **LIMITS, quotas=_quotas(bo, 2))
        await _finish(store, job)
    with pytest.raises(QuotaExceeded) as refused:
        await store.enqueue(_job(bo), **LIMITS, quotas=_quotas(bo, 2))
    assert refused.value.scope == "user" and refused.value.limit == 2
    assert "2" in refused.value.user_message and "midnight UTC" in refused.value.user_message
    assert 0 < refused.value.retry_after_s <= 86400
    assert await store.active_job(bo) is None, "a refused request makes no job"
    assert await store.usage_of(user_subject(bo)) == (2, 0)

    finish_only = _job(bo, rerender=False)
    await store.enqueue(finish_only, **LIMITS, quotas=_quotas(bo, 2))  # colours and grain do not count
    await _finish(store, finish_only)
    assert await store.usage_of(user_subject(bo)) == (2, 0)

    assert await store.grant(user_subject(bo), 1) == 1
    granted = _job(bo)
    await store.enqueue(granted, **LIMITS, quotas=_quotas(bo, 2))
    await _finish(store, granted)
    with pytest.raises(QuotaExceeded) as again:
        await store.enqueue(_job(bo), **LIMITS, quotas=_quotas(bo, 2))
    assert "all 3 of your images" in again.value.user_message and "1 granted" in again.value.user_message


async def test_a_failed_render_gives_its_image_back_and_busy_takes_none(store: Store) -> None:
    ada = UserKey("telegram", "1")
    job = _job(ada, chat=GROUP)
    await store.enqueue(job, **LIMITS, quotas=_quotas(ada, 2, GROUP, 5))
    with pytest.raises(Busy):
        await store.enqueue(_job(ada, chat=GROUP), **LIMITS, quotas=_quotas(ada, 2, GROUP, 5))
    assert await store.usage_of(user_subject(ada)) == (1, 0), "a request refused as busy counts nothing"
    await _finish(store, job, JobState.FAILED)
    assert await store.usage_of(user_subject(ada)) == (0, 0)
    assert await store.usage_of(chat_subject(GROUP)) == (0, 0)
    assert (await store.get_job(job.id)).chat == GROUP


async def test_a_chat_quota_is_exact_with_two_front_ends_at_once(store_url: str) -> None:
    a, b = Store(store_url, clock=midday_clock), Store(store_url, clock=midday_clock)
    await a.migrate()
    try:
        members = [UserKey("telegram", str(100 + i)) for i in range(12)]

        async def ask(store: Store, user: UserKey) -> bool:
            try:
                await store.enqueue(_job(user, chat=GROUP), **LIMITS, quotas=_quotas(user, 0, GROUP, 5))
                return True
            except QuotaExceeded as exc:
                assert exc.scope == "chat" and "This chat" in exc.user_message
                return False

        accepted = await asyncio.gather(*[ask(a if i % 2 else b, user) for i, user in enumerate(members)])
        assert sum(accepted) == 5, "exactly the chat's quota got through"
        assert await a.usage_of(chat_subject(GROUP)) == (5, 0)
        refused = [m for m, ok in zip(members, accepted, strict=True) if not ok]
        assert [await a.usage_of(user_subject(m)) for m in refused] == [(0, 0)] * 7, "a refusal counts for no one"
        day = await b.day_usage()
        assert (day.images, day.users, day.chats) == (5, 5, 1)
    finally:
        await a.close()
        await b.close()


async def test_blocks_are_durable_and_old_usage_is_pruned(store_url: str) -> None:
    admin, eve = UserKey("telegram", "9"), UserKey("discord", "66")
    first = Store(store_url, clock=midday_clock)
    await first.migrate()
    assert await first.block(eve, by=admin) and not await first.block(eve, by=admin)
    yesterday_but_one = midday_clock() - 2 * 86400
    await first.grant(user_subject(eve), 4, now=yesterday_but_one)
    await first.close()
    second = Store(store_url, clock=midday_clock)
    await second.migrate()
    try:
        assert await second.is_blocked(eve)
        assert await second.unblock(eve) and not await second.is_blocked(eve)
        assert await second.prune_usage() == 1
        assert await second.usage_of(user_subject(eve), now=yesterday_but_one) == (0, 0)
    finally:
        await second.close()


def test_the_quota_day_is_the_utc_day() -> None:
    midnight = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert utc_day(midnight - 1) == "2025-12-31" and utc_day(midnight) == "2026-01-01"
    assert seconds_until_reset(midnight - 90) == 90


# ---- the Studio, as a chat adapter uses it ---------------------------------------------------------------------------


ADMIN = UserKey("telegram", "1")
BO = UserKey("telegram", "2")


def _settings(tmp_path, **changes) -> Settings:
    values = {"data_dir": tmp_path / "data", "job_lease_s": 1.0, "daily_quota": 2, "admins": [str(ADMIN)], **changes}
    return Settings(_env_file=None, **values)


async def _picture(studio, recorder: Recorder, user: UserKey, chat: str | None = None) -> Done:
    done = await recorder.wait_for((await studio.apply_theme(user, "retro", "80s", chat=chat)).id)
    assert isinstance(done, Done)
    return done


async def test_two_pictures_a_refusal_a_restart_and_a_grant(tmp_path, astronaut_jpeg: bytes) -> None:
    settings = _settings(tmp_path)
    studio, recorder = build_studio(settings, clock=midday_clock), Recorder()
    studio.subscribe("telegram", recorder)
    await studio.start()
    try:
        await studio.receive_selfie(BO, astronaut_jpeg)
        await _picture(studio, recorder, BO)
        warmer = await recorder.wait_for((await studio.refine(BO, text="warmer colors")).id)
        assert isinstance(warmer, Done) and not warmer.job.rerender, "a colour refinement is free"
        await _picture(studio, recorder, BO)
        assert (await studio.status(BO)).allowance.images_left == 0
        with pytest.raises(QuotaExceeded) as refused:
            await studio.apply_theme(BO, "popart")
        assert "daily limit is 2" in refused.value.user_message
        with pytest.raises(QuotaExceeded):
            await studio.refine(BO, text="variation")  # a new render counts
        grain = await recorder.wait_for((await studio.refine(BO, text="more grain")).id)
        assert isinstance(grain, Done), "grain still works"
    finally:
        await studio.stop()

    # a restart: a new Studio on the same database
    studio, recorder = build_studio(settings, clock=midday_clock), Recorder()
    studio.subscribe("telegram", recorder)
    await studio.start()
    try:
        with pytest.raises(QuotaExceeded) as still:
            await studio.apply_theme(BO, "popart")
        assert "daily limit is 2" in still.value.user_message
        with pytest.raises(AdminOnly) as nosy:
            await studio.admin(BO, "grant telegram:2 5")
        assert "grant" not in nosy.value.user_message and "admin" not in nosy.value.user_message.lower()
        usage = await studio.admin(ADMIN)
        assert "Images: 2 for 1 user" in usage and "Queue:" in usage and "Energy:" in usage
        assert "1 left today" in await studio.admin(ADMIN, "grant telegram:2 1")
        await _picture(studio, recorder, BO)
        with pytest.raises(QuotaExceeded):
            await studio.apply_theme(BO, "popart")
        status = await studio.status(BO)
        assert status.allowance.images_left == 0
        await studio.receive_selfie(ADMIN, astronaut_jpeg)
        await _picture(studio, recorder, ADMIN)
        await _picture(studio, recorder, ADMIN)
        await _picture(studio, recorder, ADMIN)  # admins are counted, not limited
    finally:
        await studio.stop()


async def test_a_group_quota_counts_every_member(tmp_path, astronaut_jpeg: bytes) -> None:
    settings = _settings(tmp_path, daily_quota=0, chat_daily_quota=2)
    studio, recorder = build_studio(settings, clock=midday_clock), Recorder()
    studio.subscribe("telegram", recorder)
    await studio.start()
    try:
        cy = UserKey("telegram", "3")
        for user in (BO, cy):
            await studio.receive_selfie(user, astronaut_jpeg)
            await _picture(studio, recorder, user, GROUP)
        with pytest.raises(QuotaExceeded) as refused:
            await studio.apply_theme(BO, "popart", chat=GROUP)
        assert refused.value.scope == "chat" and "per group" in refused.value.user_message
        await _picture(studio, recorder, BO)  # the same person in a private chat: only their own quota
        status = await studio.status(cy, GROUP)
        assert status.allowance.images_left is None and status.allowance.chat_images_left == 0
    finally:
        await studio.stop()


async def test_admins_block_and_unblock_for_good(tmp_path, astronaut_jpeg: bytes) -> None:
    settings = _settings(tmp_path, deny_users=["telegram:4"])
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    try:
        assert "blocked now" in await studio.admin(ADMIN, "block telegram:2")
        with pytest.raises(NotAllowed):
            await studio.receive_selfie(BO, astronaut_jpeg)
        with pytest.raises(AdminOnly):
            await studio.admin(BO)
    finally:
        await studio.stop()
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    try:
        with pytest.raises(NotAllowed):
            await studio.apply_theme(BO, "popart")
        assert "unblocked" in await studio.admin(ADMIN, "unblock telegram:2")
        await studio.receive_selfie(BO, astronaut_jpeg)
        assert "MINIME_DENY_USERS" in await studio.admin(ADMIN, "unblock telegram:4")
        assert "grant platform:id N" in (await _admin_error(studio, "grant bob"))
    finally:
        await studio.stop()


async def _admin_error(studio, text: str) -> str:
    from minime.core.errors import MinimeError

    with pytest.raises(MinimeError) as err:
        await studio.admin(ADMIN, text)
    return err.value.user_message
