"""Image files on disk, one folder per user (an opaque hash), so forgetting a user is one folder removal."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import shutil
from pathlib import Path

from minime.core.domain import UserKey, new_id
from minime.core.errors import StorageFull

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class BlobStore:
    """Write-once files addressed by ``<user-hash>/<id>.<ext>`` keys."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def user_folder(user: UserKey) -> str:
        """The folder name of a user: a hash, so file names reveal no platform ids."""
        return hashlib.sha256(str(user).encode()).hexdigest()[:20]

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("blob key escapes the blob folder")
        return path

    async def put(self, user: UserKey, data: bytes, ext: str) -> str:
        """Store bytes atomically; return the key."""
        key = f"{self.user_folder(user)}/{new_id()}.{ext}"
        await asyncio.to_thread(self._write, self._path(key), data)
        return key

    async def put_at(self, key: str, data: bytes) -> None:
        """Store bytes atomically under a key of the caller's choosing (a file derived from another, like a
        result's figure files beside its picture), replacing what was there."""
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Written to a temporary name and renamed: a killed process never leaves half a file under a key. Like
        # SQLite's synchronous=NORMAL, no fsync: safe against process crashes, not against power loss.
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
            if exc.errno in _DISK_FULL:
                raise StorageFull() from exc
            raise

    async def get(self, key: str) -> bytes:
        """The bytes of a key; FileNotFoundError when gone."""
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        """Remove one file if present (and its user's folder when that leaves it empty)."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only succeeds when empty

    async def delete_user(self, user: UserKey) -> None:
        """Remove every file of a user."""
        await asyncio.to_thread(shutil.rmtree, self.root / self.user_folder(user), True)

    def beside(self, key: str, infix: str) -> list[str]:
        """The keys of the files kept beside ``key`` whose names continue its stem with ``infix``
        (``beside("u/abc.png", ".figure")``: ``u/abc.figure-512px-48f-4s.mp4``, ``u/abc.figure-100mm.glb``…)."""
        path = self._path(key)
        stem = path.name.rsplit(".", 1)[0] + infix
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        try:
            return sorted(folder + entry.name for entry in os.scandir(path.parent) if entry.name.startswith(stem))
        except FileNotFoundError:
            return []

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).exists()
