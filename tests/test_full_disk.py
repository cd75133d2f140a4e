"""A full disk, for real: the data folder on a 16 MB tmpfs filled up. The user is told kindly, nothing half-written is
left behind, and once there is room again the same user gets their picture."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from minime.core.app import build_studio
from minime.core.domain import Done, Failed, UserKey
from minime.core.errors import StorageFull
from minime.core.settings import Settings
from tests.conftest import Recorder


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs mounted for this test (skipped where mounting is not allowed)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()[:200]}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """Write a ballast file that leaves ``leave`` bytes free on ``disk``."""
    stats = os.statvfs(disk)
    ballast = disk / "ballast"
    ballast.write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))
    return ballast


async def test_a_full_disk_is_told_kindly_and_leaves_nothing_half_written(small_disk: Path,
                                                                         astronaut_jpeg: bytes) -> None:
    settings = Settings(data_dir=small_disk / "data", job_lease_s=1.0, energy_tracking=False, _env_file=None)
    studio = build_studio(settings)
    recorder = Recorder()
    studio.subscribe("test", recorder)
    await studio.start()
    try:
        alice = UserKey("test", "alice")
        await studio.receive_selfie(alice, astronaut_jpeg)
        ballast = _fill(small_disk, leave=256 * 1024)  # room for the database, not for a picture and its base
        failed = await recorder.wait_for((await studio.apply_theme(alice, "retro", "90s")).id)
        assert isinstance(failed, Failed) and failed.reason == StorageFull.user_message
        assert not list(small_disk.rglob("*.tmp")), "no half-written file"
        assert await studio.store.count_results(alice) == 0

        ballast.unlink()  # the operator makes room: the bot serves again, without a restart
        done = await recorder.wait_for((await studio.apply_theme(alice, "retro", "90s")).id)
        assert isinstance(done, Done)
        assert await studio.store.count_results(alice) == 1
    finally:
        await studio.stop()
