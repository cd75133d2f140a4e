"""500 simulated users send 1,000 jobs through the Studio: on a local Ray cluster vs the in-process classic engine.

Each user sends a selfie and /retro 70s, and a second job when the first is back (one active job per user is the
Studio's rule), then /forget. Both runs use the same PostgreSQL store (a fresh database each) and the same machine;
each runs in its own process so that its peak RSS is its own. Prints: all served?, jobs/s, queue-wait p50/p95, FIFO
inversions (a job started before one queued earlier), and the front end's peak RSS (goal ≤ 400 MB).

    python bench/ray_scale.py [--users 500] [--jobs-per-user 2]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES = os.environ.get("MINIME_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def fresh_database(name: str) -> str:
    import asyncpg

    admin = POSTGRES.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


async def run(mode: str, users: int, per_user: int) -> dict:
    from PIL import Image
    from skimage import data
    from sqlalchemy import select

    from minime.core.app import build_studio
    from minime.core.domain import Done, Failed, UserKey
    from minime.core.settings import Settings
    from minime.core.store.schema import jobs

    selfie = io.BytesIO()
    Image.fromarray(data.astronaut()).save(selfie, "JPEG", quality=90)
    url = await fresh_database(f"minime_bench_{mode}")
    extra = ({"engine": "ray", "max_concurrent_jobs": 8, "ray_replica_cpus": 0.9, "ray_min_replicas": 2,
              "ray_max_replicas": 2, "ray_max_ongoing_requests": 4} if mode == "ray"
             else {"engine": "classic", "max_concurrent_jobs": 2})
    settings = Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()), database_url=url, work_size=768,
                        rate_limit_jobs=100, log_level="WARNING", **extra)
    studio = build_studio(settings)
    await studio.start()
    if mode == "ray":
        await studio.engine.connect()
    finished: dict[str, asyncio.Future] = {}
    queued_at: dict[str, float] = {}
    started_at: dict[str, float] = {}

    async def sink(event) -> None:
        if isinstance(event, Done | Failed):  # keep the outcome, not the image: the bench must not hold 1,000 JPEGs
            finished.setdefault(event.job.id, asyncio.get_running_loop().create_future()).set_result(type(event))

    studio.subscribe("bench", sink)
    outcomes: list[str] = []

    async def user(i: int) -> None:
        key = UserKey("bench", f"user{i}")
        await studio.receive_selfie(key, selfie.getvalue())
        for _ in range(per_user):
            job = await studio.apply_theme(key, "retro", "70s")
            outcome = await asyncio.wait_for(
                finished.setdefault(job.id, asyncio.get_running_loop().create_future()), 1800)
            del finished[job.id]
            outcomes.append("done" if outcome is Done else "failed")
            async with studio.store.engine.connect() as conn:  # the job's own times, before /forget drops them
                row = (await conn.execute(select(jobs.c.created_at, jobs.c.started_at).where(
                    jobs.c.id == job.id))).one()
            queued_at[job.id], started_at[job.id] = row.created_at, row.started_at
        await studio.forget(key)  # keeps the disk from filling with 1,000 results

    peak = {"RssAnon": 0, "RssFile": 0, "RssShmem": 0}

    async def sample_memory() -> None:  # Ray maps its shared-memory object store into the process: count apart
        while True:
            status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            for key in peak:
                peak[key] = max(peak[key], int(status[key].split()[0]) // 1024)
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample_memory())
    started = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(users)))
    elapsed = time.perf_counter() - started
    sampler.cancel()
    await studio.stop()
    waits = sorted(started_at[j] - queued_at[j] for j in queued_at)
    inversions, latest_start = 0, 0.0
    for job_id in sorted(queued_at, key=queued_at.get):  # started before a job that was queued earlier than it
        start = started_at.get(job_id, 0.0)
        if start < latest_start - 0.001:
            inversions += 1
        latest_start = max(latest_start, start)
    return {"mode": mode, "jobs": len(outcomes), "done": outcomes.count("done"), "seconds": elapsed,
            "wait_p50": statistics.median(waits), "wait_p95": waits[int(len(waits) * 0.95)],
            "inversions": inversions, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_private_mb": peak["RssAnon"] + peak["RssFile"], "peak_shared_mb": peak["RssShmem"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--jobs-per-user", type=int, default=2)
    parser.add_argument("--mode", choices=["ray", "classic"], help="run one mode here and print JSON")
    args = parser.parse_args()
    if args.mode:
        if args.mode == "ray":
            import ray

            ray.init(num_cpus=2, include_dashboard=False, logging_level="error", log_to_driver=False)
        result = asyncio.run(run(args.mode, args.users, args.jobs_per_user))
        print(json.dumps(result))
        return
    print(f"{args.users} users × {args.jobs_per_user} jobs, retro-70s at 768 px, PostgreSQL store, "
          f"{os.cpu_count()} cores")
    results = {}
    for mode in ("classic", "ray"):
        done = subprocess.run([sys.executable, __file__, "--mode", mode, "--users", str(args.users),
                               "--jobs-per-user", str(args.jobs_per_user)], capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-3000:])
            raise SystemExit(f"{mode} run failed")
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'engine':<8} {'served':>11} {'jobs/s':>7} {'wait p50 s':>10} {'wait p95 s':>10} {'FIFO inv.':>9} "
          f"{'peak RSS MB':>11} {'private':>8} {'obj. store':>10}")
    for mode, r in results.items():
        print(f"{mode:<8} {r['done']:>5}/{r['jobs']:<5} {r['jobs'] / r['seconds']:>7.2f} {r['wait_p50']:>10.1f} "
              f"{r['wait_p95']:>10.1f} {r['inversions']:>9} {r['peak_rss_mb']:>11.0f} {r['peak_private_mb']:>8} "
              f"{r['peak_shared_mb']:>10}")
    ratio = (results["ray"]["jobs"] / results["ray"]["seconds"]) / (results["classic"]["jobs"]
                                                                  / results["classic"]["seconds"])
    print(f"ray / in-process throughput: {ratio:.2f}×; goal: front-end peak RSS ≤ 400 MB with ray")


if __name__ == "__main__":
    main()
