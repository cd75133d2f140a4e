"""A result's figure as files: the loop of it turning and the mesh to print, for the 🔄 Turn and 🧊 3D file buttons.

The figure is rebuilt from what made the picture (the selfie, the theme and the parameters, seed included), so the
files show the same figure as the still. The classic engine's figure3d builds it whichever engine drew the still:
a generated 2D picture of the diffusion or hosted engine has no geometry, so there the buttons give the classic 3D
figure of the same selfie. Files are made one or two at a time (seconds of CPU work each) and kept beside the
result's base picture in the blob store, so a second press is instant; they go with it when it expires
(``cache_keys``, used by the sweeper) and with the user's folder on /forget.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from minime.core import intake, texts
from minime.core.access import Access
from minime.core.buttons import MESH, TURNTABLE
from minime.core.domain import Result, UserKey
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import MESH_FORMATS, TURNTABLE_FORMATS, ClassicEngine, FigureFileSpec
from minime.core.errors import NoFigure, NoSelfie
from minime.core.logs import get_logger
from minime.core.pipeline import SELFIE_EXPIRED
from minime.core.queries import UserQueries
from minime.core.store import BlobStore, Store
from minime.core.themes import Theme, ThemeCatalog

log = get_logger("minime.figures")

DEFAULT_FORMAT = {TURNTABLE: "mp4", MESH: "glb"}
FORMATS = {TURNTABLE: TURNTABLE_FORMATS, MESH: MESH_FORMATS}
MESH_HEIGHT_MM = 100.0  # the printed figure's height, base included
MIME_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "glb": "model/gltf-binary", "3mf": "model/3mf",
              "stl": "model/stl"}


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


class FigureFiles:
    """Makes (once) and hands out the turntable and mesh of a user's result."""

    def __init__(self, store: Store, blobs: BlobStore, catalog: ThemeCatalog, engine: ClassicEngine, access: Access,
                 queries: UserQueries, *, turntable: TurntableShape = TurntableShape(), concurrency: int = 1) -> None:
        self.store, self.blobs, self.catalog, self.engine, self.access = store, blobs, catalog, engine, access
        self.queries = queries
        self.turntable = turntable
        self._slots = asyncio.Semaphore(concurrency)  # CPU work: the render jobs need the cores too
        self._making: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def file(self, user: UserKey, result_id: str | None, kind: str, fmt: str | None = None) -> FigureFile:
        """The ``kind`` file (``"turntable"`` or ``"mesh"``) of a result of ``user`` (the current one by default).

        Raises:
            NotYours: the result is someone else's (a group member's picture).
            ResultNotFound: the result is gone (expired, forgotten) or unknown.
            NoFigure: the result's look has no 3D figure, or its photo cannot give one.
            NoSelfie: the selfie it was made from has expired.
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
        caption = texts.figure_caption(kind, theme.title, MESH_HEIGHT_MM)
        key = self.cache_key(result.base_key, fmt)
        lock = self._making.get(key)
        if lock is None:
            lock = self._making[key] = asyncio.Lock()
        async with lock:  # a second press while the first is being made waits for it, then reads the file
            try:
                return FigureFile(name, await self.blobs.get(key), MIME_TYPES[fmt], kind, caption)
            except FileNotFoundError:
                pass
            data = await self._make(result, theme, fmt)
            await self.blobs.put_at(key, data)
            if await self.store.get_result(result.id) is None:  # forgotten or expired while it was being made
                await self.blobs.delete(key)
        log.info("figure file made", result=result.id, kind=kind, fmt=fmt, bytes=len(data))
        return FigureFile(name, data, MIME_TYPES[fmt], kind, caption)

    def cache_keys(self, base_key: str) -> list[str]:
        """Every figure file that may be kept beside a base picture (to delete with it)."""
        return [self.cache_key(base_key, fmt) for fmt in MIME_TYPES]

    @staticmethod
    def cache_key(base_key: str, fmt: str) -> str:
        """Where a figure file of a base picture is kept: beside it, in its user's folder. Refinements that only
        change colours share their parent's base picture, and so its figure."""
        return f"{base_key.rsplit('.', 1)[0]}.figure.{fmt}"

    async def _make(self, result: Result, theme: Theme, fmt: str) -> bytes:
        selfie_key = await self.store.selfie_blob(result.selfie_id) if result.selfie_id else None
        if not selfie_key:  # expired (or a picture made by `minime render`, which keeps no selfie)
            raise NoSelfie(SELFIE_EXPIRED)
        try:
            source = await asyncio.to_thread(intake.decode_stored, await self.blobs.get(selfie_key))
        except (FileNotFoundError, ValueError):  # swept a moment ago
            raise NoSelfie(SELFIE_EXPIRED) from None
        shape = self.turntable
        spec = FigureFileSpec(fmt, size=shape.size, frames=shape.frames, seconds=shape.seconds,
                              height_mm=MESH_HEIGHT_MM)
        async with self._slots:
            (data,) = await self.engine.make_figure_files(RenderRequest(source, theme, result.params), [spec])
        return data
