"""Memory over many renders: the process's RSS after 30 and after 150 renders (and every 30 in between).

The whole core runs (Studio → durable job on SQLite → classic engine → marks, fingerprint, post-processing, result
files → Done event), with 12 users on real photos, every look of the classic engine in turn and names of every kind
(Latin, accents, emoji, CJK, Arabic, long ones), so every cache keyed by look, palette, name or size is exercised.
A flat process after warm-up keeps RSS after 150 within 1.35× of RSS after 30.

Run: .venv/bin/python bench/memory.py [renders]   (MALLOC_ARENA_MAX is left as the environment sets it)
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matplotlib import cbook  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from minime.core.app import build_studio  # noqa: E402
from minime.core.domain import Done, Failed, UserKey  # noqa: E402
from minime.core.logs import configure_logging  # noqa: E402
from minime.core.pipeline import IDLE_S  # noqa: E402
from minime.core.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# 17 names (a prime, so each look meets every name)
NAMES = ["Ada", "Zoë Müller", "Kim 🚀", "李小龙", "محمد", "Bartholomew Fitzgerald", "Raj 👩‍🚀", "Ола", "Ñandú 🇯🇵",
         "Jo", "Sakura さくら", "Émile-Auguste", "Nguyễn Văn An", "Grace ⭐", "O'Brien", "Ψυχή", "Aroha"]


def rss_mb() -> float:
    """The process's resident set size in MB (/proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def photos() -> list[bytes]:
    """Real portraits as JPEG: scikit-image's astronaut, matplotlib's Grace Hopper, the repo's Obama, and the
    JPEGs of the folder MINIME_BENCH_PHOTOS names, where set (read only, never committed)."""
    images = [Image.fromarray(data.astronaut()), Image.open(cbook.get_sample_data("grace_hopper.jpg")),
              Image.open(ROOT / "tests" / "data" / "obama.jpg")]
    extra = Path(os.environ.get("MINIME_BENCH_PHOTOS", ""))
    if os.environ.get("MINIME_BENCH_PHOTOS") and extra.is_dir():
        images += [Image.open(p) for p in sorted(extra.glob("*.jpg"))[:9]]
    out = []
    for image in images:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


async def main(renders: int) -> None:
    configure_logging("WARNING")
    selfies = photos()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), rate_limit_jobs=100_000, _env_file=None)
        studio = build_studio(settings)
        finals: dict[str, asyncio.Future] = {}

        async def sink(event) -> None:
            if isinstance(event, (Done, Failed)) and event.job.id in finals:
                finals[event.job.id].set_result(event)

        studio.subscribe("bench", sink)
        await studio.start()
        looks = [t.id for t in studio.themes()]
        figures: dict[int, float] = {0: rss_mb()}
        failed, started, cpu = 0, time.perf_counter(), time.process_time()
        try:
            users = [UserKey("bench", f"u{i}") for i in range(len(selfies))]
            for user, selfie in zip(users, selfies, strict=True):
                await studio.receive_selfie(user, selfie)
            for i in range(renders):
                user = users[i % len(users)]
                job = await studio.apply_theme(user, looks[i % len(looks)], NAMES[i % len(NAMES)])
                final = finals[job.id] = asyncio.get_running_loop().create_future()
                failed += isinstance(await final, Failed)
                del finals[job.id]
                if (i + 1) % 30 == 0:
                    await studio.pipeline.fingerprints_booked()  # the last job's bookkeeping done too
                    await asyncio.sleep(IDLE_S + 0.5)  # and the bot idle, as between users
                    await studio.pipeline.fingerprints_booked()
                    figures[i + 1] = rss_mb()
                    print(f"after {i + 1:4d} renders: RSS {figures[i + 1]:7.1f} MB "
                          f"({time.perf_counter() - started:5.0f} s, CPU {time.process_time() - cpu:5.1f} s)",
                          flush=True)
        finally:
            await studio.stop()
    print(f"renders: {renders} ({failed} failed), {len(looks)} looks, {len(users)} users; RSS at start "
          f"{figures[0]:.1f} MB")
    if 30 in figures and 150 in figures:
        ratio = figures[150] / figures[30]
        print(f"RSS after 150 / after 30: {figures[150]:.1f} / {figures[30]:.1f} MB = {ratio:.2f}x (goal <= 1.35x)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 150))
