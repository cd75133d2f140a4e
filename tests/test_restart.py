"""SIGKILL in the middle of work: after a restart every job finishes or its user is told; none runs twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from minime.core.app import build_studio
from minime.core.domain import Done, Failed, JobState
from minime.core.jobs import INTERRUPTED
from minime.core.settings import Settings
from minime.core.store.schema import jobs, results
from tests.conftest import Recorder

ROOT = Path(__file__).resolve().parent.parent


async def _job_states(settings: Settings) -> dict[str, tuple[str, int]]:
    from sqlalchemy import select

    from minime.core.store import Store

    store = Store(settings.resolved_database_url)
    try:
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(jobs.c.id, jobs.c.state, jobs.c.attempts))).all()
        return {r.id: (r.state, r.attempts) for r in rows}
    finally:
        await store.close()


async def test_sigkill_while_jobs_queue_and_run(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(astronaut_jpeg)
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_MAX_CONCURRENT_JOBS": "1",
           "MINIME_WORK_SIZE": "2048", "MINIME_JOB_LEASE_S": "1.5", "PYTHONPATH": str(ROOT)}
    users = 4
    worker = subprocess.Popen([sys.executable, str(ROOT / "tests" / "restart_worker.py"), str(selfie), str(users)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    settings = Settings(data_dir=tmp_path / "data", job_lease_s=1.5, max_concurrent_jobs=1, _env_file=None)
    try:
        queued = []
        while len(queued) < users:
            line = worker.stdout.readline()
            assert line, "the worker exited early"
            if line.startswith("queued "):
                queued.append(line.split()[1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill it while one job renders and others wait
            states = await _job_states(settings)
            if any(s == "running" for s, _ in states.values()):
                break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    before = await _job_states(settings)
    assert set(before) == set(queued)
    assert any(state in ("running", "queued") for state, _ in before.values()), before

    studio = build_studio(settings)
    recorder = Recorder()
    studio.subscribe("test", recorder)
    await studio.start()
    try:
        unfinished = [j for j, (state, _) in before.items() if state in ("queued", "running")]
        finals = [await recorder.wait_for(job_id, timeout=120) for job_id in unfinished]
    finally:
        await studio.stop()
    for event in finals:
        assert isinstance(event, Done) or (isinstance(event, Failed) and event.reason == INTERRUPTED)
        assert event.job.reply_to == {"chat": int(event.job.user.user_id.removeprefix("user"))}
    after = await _job_states(settings)
    assert all(state in (JobState.DONE.value, JobState.FAILED.value) for state, _ in after.values()), after
    assert all(attempts <= settings.job_max_attempts for _, attempts in after.values())

    from sqlalchemy import func, select

    from minime.core.store import Store

    store = Store(settings.resolved_database_url)
    try:
        async with store.engine.connect() as conn:
            per_job = (await conn.execute(select(results.c.job_id, func.count()).group_by(results.c.job_id))).all()
    finally:
        await store.close()
    assert all(count == 1 for _, count in per_job), "no job produced two results"
