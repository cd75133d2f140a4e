"""The ray engine on a local Ray cluster (2 CPUs) with the Serve application wrapping the classic engine."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from PIL import Image
from prometheus_client import REGISTRY
from ray import serve

from minime.core.app import build_studio
from minime.core.domain import Done, Failed, JobState, RenderParams, UserKey
from minime.core.engines import RenderRequest, create_engine
from minime.core.settings import Settings
from minime.core.studio import Studio
from minime.core.themes import ThemeCatalog
from tests import tiny_diffusion
from tests.conftest import Recorder

CATALOG = ThemeCatalog.from_dir(Path(__file__).resolve().parent.parent / "themes")


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """One local cluster for the module; each test deploys the application it needs."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="error", log_to_driver=False, namespace="minime")
    yield
    serve.shutdown()
    ray.shutdown()


def ray_settings(tmp_path: Path, **extra: Any) -> Settings:
    values = {"data_dir": tmp_path / "data", "engine": "ray", "ray_replica_cpus": 0.5, "job_lease_s": 2.0,
              "max_concurrent_jobs": 4, **extra}
    return Settings(_env_file=None, **values)


async def started(settings: Settings) -> tuple[Studio, Recorder]:
    studio = build_studio(settings)
    await studio.start()
    recorder = Recorder()
    studio.subscribe("test", recorder)
    return studio, recorder


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_jobs_render_on_the_cluster_and_refine_locally(cluster: None, tmp_path: Path,
                                                             astronaut_jpeg: bytes) -> None:
    done_before = metric("minime_jobs_total", outcome="done")
    studio, recorder = await started(ray_settings(tmp_path))
    try:
        user = UserKey("test", "ann")
        await studio.receive_selfie(user, astronaut_jpeg)
        first = await recorder.wait_for((await studio.apply_theme(user, "figurine", "Ann")).id, timeout=120)
        assert isinstance(first, Done), first
        assert Image.open(io.BytesIO(first.image)).size == (1024, 1280)
        warmer = await recorder.wait_for((await studio.refine(user, text="warmer colors")).id, timeout=60)
        assert isinstance(warmer, Done) and warmer.result.base_key == first.result.base_key
        other = await recorder.wait_for((await studio.refine(user, text="make it 80s")).id, timeout=120)
        assert isinstance(other, Done) and other.result.theme_id == "retro-80s"
        with pytest.raises(Exception) as err:
            await studio.refine(user, text="add a dragon")
        assert "didn't get" in str(err.value), "the classic engine behind Ray takes no instructions"
    finally:
        await studio.stop()
    assert metric("minime_jobs_total", outcome="done") - done_before >= 3
    assert metric("minime_engine_seconds_count", engine="ray") >= 2
    assert metric("minime_render_seconds_count", theme="figurine") >= 1


async def test_back_pressure_waits_instead_of_failing(cluster: None, tmp_path: Path, astronaut) -> None:
    engine = create_engine(ray_settings(tmp_path, ray_max_ongoing_requests=1, ray_max_queued_requests=1,
                                        ray_app_name="minime-narrow"))
    try:
        theme = CATALOG.get("retro-70s")
        outputs = await asyncio.gather(*(engine(RenderRequest(astronaut, theme, RenderParams(seed=s)))
                                         for s in range(6)))
        assert len(outputs) == 6 and {o.image.size for o in outputs} == {(1024, 1280)}, \
            "six requests through one replica slot and a queue of one: none refused"
    finally:
        await engine.close()
        serve.delete("minime-narrow")


async def warm(studio: Studio, astronaut_jpeg: bytes) -> None:
    """One render first, so the replica has its model loaded and the next request is mid-denoising when killed."""
    from minime.core import intake

    await studio.engine(RenderRequest(intake.decode_stored(astronaut_jpeg), CATALOG.get("pop-art"),
                                      RenderParams(seed=1)))


async def running(studio: Studio, job_id: str) -> None:
    """Until the job has been claimed and sent to a replica, and a moment more (the replica is denoising)."""
    while (await studio.store.get_job(job_id)).state != JobState.RUNNING.value:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)


def _kill_render_replica(app: str) -> str:
    (replica,) = [a for a in ray.util.list_named_actors(all_namespaces=True)
                  if a["name"].startswith(f"SERVE_REPLICA::{app}#render#")]
    ray.kill(ray.get_actor(replica["name"], namespace=replica["namespace"]), no_restart=True)
    return replica["name"]


async def killed_mid_render(tmp_path: Path, astronaut_jpeg: bytes, app: str, attempts: int
                            ) -> tuple[Done | Failed, int, list[str]]:
    """A popart job on a slow tiny diffusion model (1000 steps take seconds) whose replica is killed mid-render:
    its final event, the runs it took, and the killed replica's name if it is still listed when the job ends."""
    model = tiny_diffusion.save_sd(tmp_path / "tiny-sd")
    settings = ray_settings(tmp_path, ray_inner_engine="diffusion", diffusion_model=str(model),
                            diffusion_resolution=64, diffusion_steps=1000, ray_app_name=app,
                            job_max_attempts=attempts, render_timeout_s=240)
    studio, recorder = await started(settings)
    try:
        user = UserKey("test", "kim")
        await warm(studio, astronaut_jpeg)
        await studio.receive_selfie(user, astronaut_jpeg)
        job = await studio.apply_theme(user, "popart")
        await running(studio, job.id)
        killed = _kill_render_replica(app)
        final = await recorder.wait_for(job.id, timeout=240)
        survivors = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
        return final, (await studio.store.get_job(job.id)).attempts, [killed] if killed in survivors else []
    finally:
        await studio.stop()
        serve.delete(app)


async def test_a_replica_killed_mid_render_does_not_lose_the_job(cluster: None, tmp_path: Path,
                                                                 astronaut_jpeg: bytes) -> None:
    final, attempts, still_listed = await killed_mid_render(tmp_path, astronaut_jpeg, "minime-fragile", attempts=2)
    assert isinstance(final, Done), final
    assert attempts == 2, "run again once, on a new replica"
    assert not still_listed, "the killed replica is gone"


async def test_a_job_whose_replicas_keep_dying_is_reported(cluster: None, tmp_path: Path,
                                                           astronaut_jpeg: bytes) -> None:
    final, _attempts, _listed = await killed_mid_render(tmp_path, astronaut_jpeg, "minime-doomed", attempts=1)
    assert isinstance(final, Failed) and "stopped before it was done" in final.reason


async def test_two_front_ends_share_postgres_and_never_run_a_job_twice(cluster: None, tmp_path: Path,
                                                                      postgres_url: str,
                                                                      astronaut_jpeg: bytes) -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    # Front ends share the database and the image volume (deploy/: one PostgreSQL, one MINIME_DATA_DIR volume).
    shared = {"database_url": postgres_url, "max_concurrent_jobs": 3}
    a, rec_a = await started(ray_settings(tmp_path, **shared))
    b, rec_b = await started(ray_settings(tmp_path, ray_deploy=False, **shared))
    try:
        users = [UserKey("test", f"u{i}") for i in range(12)]
        jobs = []
        for i, user in enumerate(users):
            front, other = (a, b) if i % 2 else (b, a)
            await front.receive_selfie(user, astronaut_jpeg)
            jobs.append(await other.apply_theme(user, "retro", "70s"))  # the update arrives at the other process

        async def final(job_id: str) -> Done | Failed:
            waits = [asyncio.ensure_future(r.wait_for(job_id, timeout=180)) for r in (rec_a, rec_b)]
            finished, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            return finished.pop().result()

        finals = [await final(job.id) for job in jobs]
        assert all(isinstance(f, Done) for f in finals), finals
        await asyncio.sleep(1.0)  # any second run would have announced itself by now
        done_ids = [e.job.id for e in rec_a.events + rec_b.events if isinstance(e, Done)]
        assert sorted(done_ids) == sorted(j.id for j in jobs), "each job announced once"
        assert {e.job.id for e in rec_a.events if isinstance(e, Done)} and \
            {e.job.id for e in rec_b.events if isinstance(e, Done)}, "both front ends did work"
        for user in users:
            assert await a.store.count_results(user) == 1, "one result per job"
    finally:
        await b.stop()
        await a.stop()
