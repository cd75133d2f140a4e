"""A minime process for the restart test: queues work for several users, then runs until it is killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from minime.core.app import build_studio
from minime.core.domain import UserKey
from minime.core.logs import configure_logging
from minime.core.settings import Settings


async def main(selfie: Path, users: int) -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    studio = build_studio(settings)
    await studio.start()
    data = selfie.read_bytes()
    for i in range(users):
        user = UserKey("test", f"user{i}")
        await studio.receive_selfie(user, data)
        job = await studio.apply_theme(user, "figurine", f"User {i}", reply_to={"chat": i})
        print(f"queued {job.id}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
