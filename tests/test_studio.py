"""The Studio as adapters use it: selfie, theme, refine, undo, forget, and the failure paths."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from minime.core.app import build_studio
from minime.core.domain import Done, Failed, Queued, Rendering, UserKey
from minime.core.engines.classic import ClassicEngine
from minime.core.errors import (
    ArgumentRequired,
    Busy,
    NoSelfie,
    NothingToRefine,
    NothingToUndo,
    QuotaExceeded,
    ResultNotFound,
    UnknownRefinement,
    UnknownTheme,
)
from minime.core.studio import Studio, Undone
from tests.conftest import Recorder, pixels


async def test_selfie_theme_refine_undo_round_trip(studio: Studio, recorder: Recorder, alice: UserKey,
                                                   astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    job = await studio.apply_theme(alice, "figurine", "Alice", reply_to={"chat": 1})
    first = await recorder.wait_for(job.id)
    assert isinstance(first, Done), first
    kinds = [type(e) for e in recorder.of(job.id)]
    assert Queued in kinds and Rendering in kinds and kinds[-1] is Done
    assert first.job.reply_to == {"chat": 1}
    assert "warmer" in first.buttons and first.result.params.name == "Alice"

    warmer = await studio.refine(alice, text="warmer colors")
    second = await recorder.wait_for(warmer.id)
    assert isinstance(second, Done)
    a, b = pixels(first.image), pixels(second.image)
    assert a.shape == b.shape
    ratio = lambda x: x[..., 0].mean() / x[..., 2].mean()  # noqa: E731
    assert ratio(b) > ratio(a) * 1.03, "warmer colours raise the red/blue balance"
    assert second.result.parent_id == first.result.id
    assert second.result.base_key == first.result.base_key, "colour refinements reuse the lossless base"

    undone = await studio.undo(alice)
    assert isinstance(undone, Undone)
    assert undone.result.id == first.result.id
    assert undone.image == first.image, "undo returns the previous image bit for bit"
    with pytest.raises(NothingToUndo):
        await studio.undo(alice)


async def test_theme_without_selfie_waits_for_it(studio: Studio, recorder: Recorder, alice: UserKey,
                                                 astronaut_jpeg: bytes) -> None:
    with pytest.raises(NoSelfie) as err:
        await studio.apply_theme(alice, "retro", "80s", reply_to={"chat": 7})
    assert "selfie" in err.value.user_message
    received = await studio.receive_selfie(alice, astronaut_jpeg)
    assert received.job is not None and received.job.theme_id == "retro-80s"
    assert isinstance(await recorder.wait_for(received.job.id), Done)


async def test_theme_without_name_asks_for_it_then_uses_the_next_text(studio: Studio, recorder: Recorder,
                                                                      alice: UserKey, astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    with pytest.raises(ArgumentRequired) as err:
        await studio.apply_theme(alice, "figurine")
    assert "name" in err.value.user_message.lower()
    job = await studio.text(alice, "Zoë")
    done = await recorder.wait_for(job.id)
    assert isinstance(done, Done) and done.result.params.name == "Zoë"


async def test_refine_named_earlier_result_branches_the_tree(studio: Studio, recorder: Recorder, alice: UserKey,
                                                             astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    first = await recorder.wait_for((await studio.apply_theme(alice, "polaroid", "Hi")).id)
    second = await recorder.wait_for((await studio.refine(alice, action="cooler")).id)
    branch = await recorder.wait_for((await studio.refine(alice, text="more grain",
                                                          result_id=first.result.id)).id)
    assert isinstance(second, Done) and isinstance(branch, Done)
    assert branch.result.parent_id == first.result.id
    assert branch.result.params.adjustments.grain > 0 and branch.result.params.adjustments.warmth == 0


async def test_variation_and_theme_switch_rerender(studio: Studio, recorder: Recorder, alice: UserKey,
                                                   astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    first = await recorder.wait_for((await studio.apply_theme(alice, "actionfigure", "Sam")).id)
    varied = await recorder.wait_for((await studio.refine(alice, action="variation")).id)
    assert isinstance(varied, Done)
    assert varied.result.params.seed != first.result.params.seed
    assert varied.result.base_key != first.result.base_key
    switched = await recorder.wait_for((await studio.refine(alice, text="make it 80s")).id)
    assert isinstance(switched, Done) and switched.result.theme_id == "retro-80s"


async def test_friendly_errors(studio: Studio, recorder: Recorder, alice: UserKey, astronaut_jpeg: bytes) -> None:
    with pytest.raises(NothingToRefine):
        await studio.refine(alice, text="warmer")
    with pytest.raises(UnknownTheme):
        await studio.apply_theme(alice, "unicorn")
    await studio.receive_selfie(alice, astronaut_jpeg)
    done = await recorder.wait_for((await studio.apply_theme(alice, "miniature")).id)
    with pytest.raises(UnknownRefinement) as err:
        await studio.refine(alice, text="add a hat with feathers")
    assert "warmer" in err.value.user_message and "grain" in err.value.user_message
    bob = UserKey("test", "bob")
    with pytest.raises(ResultNotFound):
        await studio.refine(bob, text="warmer", result_id=done.result.id)


async def test_one_active_job_per_user_and_rate_limit(settings, alice: UserKey, astronaut_jpeg: bytes) -> None:
    from minime.core.app import build_studio

    settings.rate_limit_jobs = 2
    studio = build_studio(settings)
    await studio.store.migrate()  # not started: jobs stay queued
    try:
        await studio.receive_selfie(alice, astronaut_jpeg)
        await studio.apply_theme(alice, "miniature")
        with pytest.raises(Busy):
            await studio.apply_theme(alice, "miniature")
        status = await studio.status(alice)
        assert status.position == 1 and status.job is not None
        from minime.core.domain import JobState

        await studio.store.claim_next("t")
        await studio.store.finish_job(status.job.id, JobState.DONE)
        await studio.apply_theme(alice, "miniature")
        job = (await studio.status(alice)).job
        await studio.store.claim_next("t")
        await studio.store.finish_job(job.id, JobState.DONE)
        with pytest.raises(QuotaExceeded) as err:
            await studio.apply_theme(alice, "miniature")
        assert "minute" in err.value.user_message
    finally:
        await studio.store.close()


class _Exploding:
    """An engine that crashes while ``broken``, then renders like the classic engine it wraps."""

    name, understands_instructions = "exploding", False

    def __init__(self) -> None:
        self.broken, self.working = True, ClassicEngine()

    async def __call__(self, request, *, progress=None):
        if not self.broken:
            return await self.working(request, progress=progress)
        raise RuntimeError("CUDA error: device-side assert triggered")

    async def close(self) -> None:
        pass


class _Sleepy(_Exploding):
    """An engine that hangs while ``broken``."""

    async def __call__(self, request, *, progress=None):
        if not self.broken:
            return await self.working(request, progress=progress)
        await asyncio.sleep(30)


@pytest.mark.parametrize("engine, words", [(_Exploding(), "failed"), (_Sleepy(), "too long")])
async def test_engine_crash_or_timeout_is_reported_and_queue_keeps_going(settings, alice, astronaut_jpeg, engine,
                                                                         words) -> None:
    if isinstance(engine, _Sleepy):  # a crash needs no short timeout
        settings.render_timeout_s = 1.0
    studio = build_studio(settings, engine=engine)
    recorder = Recorder()
    studio.subscribe("test", recorder)
    await studio.start()
    try:
        await studio.receive_selfie(alice, astronaut_jpeg)
        failed = await recorder.wait_for((await studio.apply_theme(alice, "miniature")).id)
        assert isinstance(failed, Failed) and words in failed.reason
        assert "CUDA" not in failed.reason
        engine.broken = False
        settings.render_timeout_s = 300.0  # the real render may take more than a second on a busy machine
        ok = await recorder.wait_for((await studio.apply_theme(alice, "miniature")).id)
        assert isinstance(ok, Done)
    finally:
        await studio.stop()


async def test_forget_removes_every_row_and_file(studio: Studio, recorder: Recorder, alice: UserKey,
                                                 astronaut_jpeg: bytes) -> None:
    bob = UserKey("test", "bob")
    for user in (alice, bob):
        await studio.receive_selfie(user, astronaut_jpeg)
        await recorder.wait_for((await studio.apply_theme(user, "retro", "90s")).id)
    folder = studio.blobs.root / studio.blobs.user_folder(alice)
    assert any(folder.iterdir())
    removed = await studio.forget(alice)
    assert removed >= 4
    assert not folder.exists()
    assert await studio.store.count_results(alice) == 0
    assert not await studio.has_selfie(alice)
    assert await studio.store.count_results(bob) == 1, "other users keep their images"


async def test_selfies_expire(studio: Studio, alice: UserKey, astronaut_jpeg: bytes) -> None:
    await studio.receive_selfie(alice, astronaut_jpeg)
    assert await studio.has_selfie(alice)
    removed = await studio.sweep(now=studio.store.clock() + studio.settings.selfie_ttl_hours * 3600 + 1)
    assert removed == 1
    assert not await studio.has_selfie(alice)
    folder = studio.blobs.root / studio.blobs.user_folder(alice)
    assert not folder.exists() or not any(folder.iterdir()), "nothing of the selfie is left"


async def test_ten_refinements_keep_the_image_sharp(studio: Studio, recorder: Recorder, alice: UserKey,
                                                    astronaut_jpeg: bytes) -> None:
    import cv2

    await studio.receive_selfie(alice, astronaut_jpeg)
    first = await recorder.wait_for((await studio.apply_theme(alice, "retro", "70s")).id)
    last = first
    for text in ["warmer", "cooler", "brighter", "darker"] * 2 + ["warmer", "cooler"]:
        last = await recorder.wait_for((await studio.refine(alice, text=text)).id)
        assert isinstance(last, Done)

    def sharpness(img: bytes) -> float:
        gray = cv2.cvtColor(pixels(img).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        return float(cv2.Laplacian(cv2.GaussianBlur(gray, (3, 3), 0), cv2.CV_64F).var())

    assert sharpness(last.image) > 0.9 * sharpness(first.image)
