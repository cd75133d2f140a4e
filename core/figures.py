"""A result's figure as files: the loop of it turning and the mesh to print, for the 🔄 Turn and 🧊 3D file buttons.

The figure is rebuilt from what made the picture (the selfie, the theme and the parameters, seed included), so the
files show the same figure as the still. The classic engine's figure3d builds it whichever engine drew the still:
a generated 2D picture of the diffusion or hosted engine has no geometry, so there the buttons give the classic 3D
figure of the same selfie. Files are made one or two at a time (seconds of CPU work each) and kept beside the
result's base picture in the blob store, named by what shapes them (a turntable's side, frames and seconds, a mesh's
height), so a second press is instant and a changed setting never serves a stale file; they go with it when it
expires (``cache_keys``, used by the sweeper) and with the user's folder on /forget.

Fair to everyone: one user has at most one figure file in the making at a time (a second press is told it is on its
way: ``FigureBusy``), and each file made counts like a render, against the user's rate limit and daily quota (and a
group's), given back when it fails; a file already made is free. A loop larger than the platform takes is made
again smaller (fewer pixels, then fewer frames) instead of failing.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace

from PIL import Image

from minime.core import intake, texts
from minime.core.access import Access
from minime.core.buttons import MESH, TURNTABLE
from minime.core.domain import Result, UserKey, new_id
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import MESH_FORMATS, TURNTABLE_FORMATS, ClassicEngine, FigureFileSpec
from minime.core.errors import FigureBusy, FigureTooLarge, NoFigure, NoSelfie
from minime.core.logs import get_logger
from minime.core.pipeline import SELFIE_EXPIRED
from minime.core.queries import UserQueries
from minime.core.settings import Settings
from minime.core.store import BlobStore, Store
from minime.core.themes import Theme, ThemeCatalog

log = get_logger("minime.figures")

DEFAULT_FORMAT = {TURNTABLE: "mp4", MESH: "glb"}
FORMATS = {TURNTABLE: TURNTABLE_FORMATS, MESH: MESH_FORMATS}
MESH_HEIGHT_MM = 100.0  # the printed figure's height, base included
MIME_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "glb": "model/gltf-binary", "3mf": "model/3mf",
              "stl": "model/stl"}
MAX_FILE_BYTES = 50 * 1024 * 1024  # the most any front end takes (Telegram's sendAnimation / sendDocument)
MIN_SIDE, MIN_FRAMES = 128, 8  # a loop made smaller to fit a platform never gets smaller than this
SHRINK_MARGIN = 0.85  # a smaller loop aims this far under the limit (its size is not exactly proportional)
SHRINK_TRIES = 4  # loops made at most per press (the first and three smaller ones)


@dataclass(frozen=True)
class FigureFile:
    """A file of a result's figure, ready to send.

    Attributes:
        filename: a name for the download (``minime-figurine-turn.mp4``).
        data: the file's bytes.
        mime: its media type (``video/mp4``, ``model/gltf-binary``…).
        kind: ``"turntable"`` or ``"mesh"``.
        caption: what to say with it.
    """

    filename: str
    data: bytes
    mime: str
    kind: str
    caption: str = ""

    @property
    def fmt(self) -> str:
        """The file's format (its extension)."""
        return self.filename.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class TurntableShape:
    """How the turning loop is made: its side in pixels, frames per turn and seconds per turn."""

    size: int = 512
    frames: int = 48
    seconds: float = 4.0

    @classmethod
    def of(cls, settings: Settings) -> TurntableShape:
        """The shape the operator configured (``MINIME_TURNTABLE_SIZE``, ``_FRAMES``, ``_SECONDS``)."""
        return cls(settings.turntable_size, settings.turntable_frames, settings.turntable_seconds)

    def smaller(self, made_bytes: int, max_bytes: int) -> TurntableShape | None:
        """A loop that should fit ``max_bytes`` where this one came out at ``made_bytes``: fewer pixels per side
        first, then fewer frames (same seconds: the figure turns as fast), at least a fifth less work each step;
        None when nothing smaller is allowed (``MIN_SIDE``, ``MIN_FRAMES``)."""
        factor = min(0.8, SHRINK_MARGIN * max_bytes / max(1, made_bytes))  # of pixels × frames
        side = max(MIN_SIDE, int(self.size * math.sqrt(factor)) // 2 * 2)
        frames = max(MIN_FRAMES, math.floor(self.frames * factor * (self.size / side) ** 2))
        frames = min(frames, self.frames)
        if side * side * frames >= self.size * self.size * self.frames:
            return None
        return replace(self, size=side, frames=frames)


class FigureFiles:
    """Makes (once) and hands out the turntable and mesh of a user's result."""

    def __init__(self, store: Store, blobs: BlobStore, catalog: ThemeCatalog, engine: ClassicEngine, access: Access,
                 queries: UserQueries, settings: Settings, *, turntable: TurntableShape | None = None,
                 height_mm: float = MESH_HEIGHT_MM) -> None:
        self.store, self.blobs, self.catalog, self.engine, self.access = store, blobs, catalog, engine, access
        self.queries, self.settings = queries, settings
        self.turntable = turntable or TurntableShape.of(settings)
        self.height_mm = height_mm
        self._slots = asyncio.Semaphore(settings.figure_concurrency)  # CPU work: the render jobs need the cores too
        self._in_flight: set[UserKey] = set()  # users with a figure file in the making (one each)

    def busy(self, user: UserKey) -> bool:
        """Whether a figure file of ``user`` is being made now (a second one would be refused with FigureBusy)."""
        return user in self._in_flight

    async def file(self, user: UserKey, result_id: str | None, kind: str, fmt: str | None = None, *,
                   chat: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> FigureFile:
        """The ``kind`` file (``"turntable"`` or ``"mesh"``) of a result of ``user`` (the current one by default).

        Args:
            chat: the group chat or server channel pressed in (``platform:id``; None in a private chat): a file made
                counts against its daily quota too.
            max_bytes: the largest file the platform takes; a loop that comes out larger is made again smaller.

        Raises:
            NotYours: the result is someone else's (a group member's picture).
            ResultNotFound: the result is gone (expired, forgotten) or unknown.
            NoFigure: the result's look has no 3D figure, or its photo cannot give one.
            NoSelfie: the selfie it was made from has expired.
            FigureBusy: another figure file of the user is being made.
            QuotaExceeded: the user's rate limit or a daily quota is reached (a file already made is still given).
            FigureTooLarge: even the smallest loop, or the mesh, is larger than ``max_bytes``.
            ValueError: an unknown kind or format.
        """
        fmt = (fmt or DEFAULT_FORMAT.get(kind, "")).lower()
        if fmt not in FORMATS.get(kind, ()):
            raise ValueError(f"no {kind} figure file in format {fmt!r}")
        await self.access.admit(user)
        result = await self.queries.result(user, result_id)
        theme = self.catalog.get(result.theme_id)
        if not self.engine.has_figure(theme):
            raise NoFigure()
        name = f"minime-{theme.id}-turn.{fmt}" if kind == TURNTABLE else f"minime-{theme.id}-figure.{fmt}"
        caption = texts.figure_caption(kind, theme.title, self.height_mm)
        data = await self._kept(result, fmt, max_bytes)
        if data is None:
            if user in self._in_flight:
                raise FigureBusy()
            self._in_flight.add(user)
            try:
                data = await self._counted(user, chat, result, theme, fmt, max_bytes)
            finally:
                self._in_flight.discard(user)
        return FigureFile(name, data, MIME_TYPES[fmt], kind, caption)

    def spec(self, fmt: str, shape: TurntableShape | None = None) -> FigureFileSpec:
        """What a file is made from: the turntable's shape (the configured one by default) or the mesh's height."""
        shape = shape or self.turntable
        return FigureFileSpec(fmt, size=shape.size, frames=shape.frames, seconds=shape.seconds,
                              height_mm=self.height_mm)

    def cache_keys(self, base_key: str) -> list[str]:
        """Every figure file kept beside a base picture (to delete with it), whatever settings made it."""
        return self.blobs.beside(base_key, ".figure")

    @staticmethod
    def cache_key(base_key: str, spec: FigureFileSpec) -> str:
        """Where a figure file of a base picture is kept: beside it, in its user's folder, named by everything that
        shapes it (``….figure-512px-48f-4s.mp4``, ``….figure-100mm.glb``), so a file made under other settings is
        never served. Refinements that only change colours share their parent's base picture, and so its figure."""
        shape = f"{spec.size}px-{spec.frames}f-{spec.seconds:g}s" if spec.is_turntable else f"{spec.height_mm:g}mm"
        return f"{base_key.rsplit('.', 1)[0]}.figure-{shape}.{spec.fmt}"

    async def _kept(self, result: Result, fmt: str, max_bytes: int) -> bytes | None:
        """A file made before that fits ``max_bytes``: the configured shape's, or a smaller one made for a platform
        with a lower limit (followed the way it was made); None when there is none."""
        spec, shape = self.spec(fmt), self.turntable
        for _ in range(SHRINK_TRIES):
            try:
                data = await self.blobs.get(self.cache_key(result.base_key, spec))
            except FileNotFoundError:
                return None
            if len(data) <= max_bytes:
                return data
            smaller = shape.smaller(len(data), max_bytes) if spec.is_turntable else None
            if smaller is None:
                return None
            shape, spec = smaller, self.spec(fmt, smaller)
        return None

    async def _counted(self, user: UserKey, chat: str | None, result: Result, theme: Theme, fmt: str,
                       max_bytes: int) -> bytes:
        """Make the file, counted like a render (rate limit and daily quotas); a failure gives the count back."""
        source = await self._selfie(result)  # an expired selfie is told before anything is counted
        work_id = new_id()
        await self.store.count_figure_work(work_id, user, theme.id, rate_limit=self.settings.rate_limit_jobs,
                                           rate_window_s=self.settings.rate_limit_window_s,
                                           quotas=self.access.quotas(user, chat), chat=chat)
        try:
            return await self._made(source, result, theme, fmt, max_bytes)
        except BaseException as exc:
            await asyncio.shield(self.store.figure_work_failed(work_id, type(exc).__name__))
            raise

    async def _made(self, source: Image.Image, result: Result, theme: Theme, fmt: str, max_bytes: int) -> bytes:
        """Make the file (smaller and again while a loop comes out over ``max_bytes``) and keep it."""
        spec, shape = self.spec(fmt), self.turntable
        for attempt in range(SHRINK_TRIES):
            key = self.cache_key(result.base_key, spec)
            try:
                data = await self.blobs.get(key)  # made before, for a platform that takes larger files
            except FileNotFoundError:
                async with self._slots:
                    (data,) = await self.engine.make_figure_files(RenderRequest(source, theme, result.params), [spec])
                await self.blobs.put_at(key, data)
                if await self.store.get_result(result.id) is None:  # forgotten or expired while it was being made
                    await self.blobs.delete(key)
                log.info("figure file made", result=result.id, fmt=fmt, bytes=len(data), attempt=attempt + 1,
                         size=spec.size if spec.is_turntable else None)
            if len(data) <= max_bytes:
                return data
            smaller = shape.smaller(len(data), max_bytes) if spec.is_turntable else None
            if smaller is None:
                break
            log.info("figure file over the platform's limit; making it smaller", fmt=fmt, bytes=len(data),
                     max_bytes=max_bytes, size=smaller.size, frames=smaller.frames)
            shape, spec = smaller, self.spec(fmt, smaller)
        raise FigureTooLarge()

    async def _selfie(self, result: Result) -> Image.Image:
        selfie_key = await self.store.selfie_blob(result.selfie_id) if result.selfie_id else None
        if not selfie_key:  # expired (or a picture made by `minime render`, which keeps no selfie)
            raise NoSelfie(SELFIE_EXPIRED)
        try:
            return await asyncio.to_thread(intake.decode_stored, await self.blobs.get(selfie_key))
        except (FileNotFoundError, ValueError):  # swept a moment ago
            raise NoSelfie(SELFIE_EXPIRED) from None
