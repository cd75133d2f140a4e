"""The engine port: one async call with the same argument names for every engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

from minime.core.domain import RenderParams
from minime.core.themes import Theme


class ProgressCallback(Protocol):
    """Called with a fraction in [0, 1]; may be called from a worker thread."""

    def __call__(self, fraction: float, /, *, waiting_for: str | None = None) -> None:
        """Report progress; ``waiting_for`` names an outside service the engine now waits on (a hosted model),
        so the user's status line can say so."""


@dataclass(frozen=True)
class RenderRequest:
    """What to render: the selfie, the theme, its parameters, and for edits the previous image and instruction."""

    source: Image.Image
    theme: Theme
    params: RenderParams
    instruction: str | None = None
    previous: Image.Image | None = None
    identity_boost: float = 0.0
    """0 normally; 1 on the retry after the identity check found a different face (keep closer to the selfie)."""


@dataclass(frozen=True)
class RenderOutput:
    """The engine's image before the shared post-processing, and notes for the user."""

    image: Image.Image
    notes: tuple[str, ...] = ()
    source_type: str = "compositeSynthetic"
    """How the image was made, as an IPTC digital source type term (written into the delivered file's metadata)."""


@runtime_checkable
class Engine(Protocol):
    """Anything that can render a RenderRequest."""

    name: str
    understands_instructions: bool

    async def __call__(self, request: RenderRequest, *, progress: ProgressCallback | None = None) -> RenderOutput:
        """Render one request."""
        ...

    async def close(self) -> None:
        """Release what the engine holds (models, threads)."""
        ...
