"""The core's own overhead per request on the SQLite store: everything except the engine's render.

A request goes adapter → Studio.apply_theme (rate limit, job row) → dispatcher → claim → engine → post-processing and
PNG encoding → blob + result rows → job done → Done event. The engine's time is measured around its call (a timing
wrapper around the real classic engine) and subtracted; post-processing + encoding is reported on its own line.

Run: .venv/bin/python bench/core_overhead.py [requests]
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from minime.core import adjust, intake, watermark  # noqa: E402
from minime.core.app import build_studio  # noqa: E402
from minime.core.domain import Done, UserKey  # noqa: E402
from minime.core.engines import create_engine  # noqa: E402
from minime.core.settings import THEMES_DIR, Settings  # noqa: E402


class TimedEngine:
    """Wraps the real engine and records how long each call took."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.understands_instructions = inner, inner.name, inner.understands_instructions
        self.seconds: dict[str, float] = {}

    async def __call__(self, request, *, progress=None):
        started = time.perf_counter()
        out = await self.inner(request, progress=progress)
        self.seconds[request.params.name or ""] = time.perf_counter() - started
        return out

    async def close(self) -> None:
        await self.inner.close()


def _timed(fn, sink: list[float]):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - started)
    return wrapper


async def main(requests: int) -> None:
    selfie = io.BytesIO()
    Image.open(THEMES_DIR / "assets" / "sample-portrait.jpg").save(selfie, "JPEG")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), max_concurrent_jobs=1, rate_limit_jobs=10_000, _env_file=None)
        engine = TimedEngine(create_engine(settings))
        studio = build_studio(settings, engine=engine)
        image_work: list[float] = []
        import minime.core.pipeline as pipeline_module

        pipeline_module.finish_array = _timed(adjust.finish_array, image_work)
        pipeline_module.intake.lossless_bytes = _timed(intake.lossless_bytes, image_work)
        pipeline_module.intake.result_bytes = _timed(intake.result_bytes, image_work)
        pipeline_module.watermark.embed_array = _timed(watermark.embed_array, image_work)  # image work, not core
        done: dict[str, asyncio.Future] = {}

        async def sink(event) -> None:
            if isinstance(event, Done) and event.job.id in done:
                done[event.job.id].set_result(time.perf_counter())

        studio.subscribe("bench", sink)
        await studio.start()
        try:
            totals, overheads, image_parts = [], [], []
            for i in range(requests + 3):
                user = UserKey("bench", f"u{i}")
                await studio.receive_selfie(user, selfie.getvalue())
                image_work.clear()
                started = time.perf_counter()
                job = await studio.apply_theme(user, "miniature", None)
                done[job.id] = asyncio.get_running_loop().create_future()
                finished = await done[job.id]
                engine_s = next(iter(engine.seconds.values()))
                engine.seconds.clear()
                if i < 3:
                    continue  # warm-up: model loading, first connections
                total = finished - started
                totals.append(total)
                image_parts.append(sum(image_work))
                overheads.append(total - engine_s - sum(image_work))
        finally:
            await studio.stop()
    p = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1] * 1000  # noqa: E731
    print(f"requests: {requests} (SQLite store, classic engine, theme miniature)")
    print(f"end-to-end          p50 {statistics.median(totals) * 1000:7.1f} ms   p95 {p(totals, 95):7.1f} ms")
    print(f"post-process+encode p50 {statistics.median(image_parts) * 1000:7.1f} ms")
    print(f"core overhead       p50 {statistics.median(overheads) * 1000:7.1f} ms   p95 {p(overheads, 95):7.1f} ms"
          f"   (goal: p50 <= 15 ms)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
