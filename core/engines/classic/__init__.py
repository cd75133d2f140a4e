"""The classic engine: real image processing on the CPU, no model weights to download."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from minime.core.engines.base import ProgressCallback, RenderOutput, RenderRequest
from minime.core.engines.classic import (
    anime,
    boxes,
    caricature,
    desk,
    figure3d,
    magazine,
    photo,
    poster,
    retro,
    stickers,
    yearbook,
)
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import resize
from minime.core.errors import NoFigure
from minime.core.i18n import N_
from minime.core.themes import Theme, split_things

RECIPES: dict[str, Callable[[Look], Image.Image]] = {
    "figurine": boxes.figurine,
    "action-figure": boxes.action_figure,
    "miniature": photo.miniature,
    "pop-art": photo.pop_art,
    "retro-70s": retro.seventies,
    "retro-80s": retro.eighties,
    "retro-90s": retro.nineties,
    "polaroid": retro.polaroid,
    "desk-figure": desk.desk_figurine,
    "anime": anime.anime,
    "caricature": caricature.caricature,
    "yearbook": yearbook.yearbook,
    "sticker-sheet": stickers.sticker_sheet,
    "film-poster": poster.film_poster,
    "comic-panel": poster.comic_panel,
    "magazine-cover": magazine.magazine_cover,
}

# Notes are stored in English with the result and read in the user's language where they are shown (texts).
NO_PERSON = N_("I couldn't find a person in that photo, so I used the whole picture. A clear selfie works best!")
LOW_RES = N_("The face in that photo is small (under 80 pixels across), so some details stay soft. A closer or "
             "sharper selfie works best!")
NO_NAME = N_("This look has no name on it, so “bigger name” and “smaller name” have nothing to change here. "
             "Looks with a name: /figurine, /actionfigure, /polaroid, /retro.")
LOW_RES_FACE_PX = 80  # LOW_RES says this number in words
TURNTABLE_FORMATS, MESH_FORMATS = ("mp4", "gif"), ("glb", "3mf", "stl")


@dataclass(frozen=True)
class FigureFileSpec:
    """One file of a figure to make.

    Attributes:
        fmt: the file format: a turntable's ``mp4`` or ``gif``, a mesh's ``glb``, ``3mf`` or ``stl``.
        size: a turntable's side in pixels.
        frames: a turntable's frames per turn.
        seconds: how long one turn takes.
        height_mm: a mesh's height, base included.
    """

    fmt: str
    size: int = 512
    frames: int = 48
    seconds: float = 4.0
    height_mm: float = 100.0

    def __post_init__(self) -> None:
        if self.fmt not in TURNTABLE_FORMATS + MESH_FORMATS:
            raise ValueError(f"a figure file is one of {', '.join(TURNTABLE_FORMATS + MESH_FORMATS)}, not {self.fmt!r}")

    @property
    def is_turntable(self) -> bool:
        """A turning loop (else a mesh)."""
        return self.fmt in TURNTABLE_FORMATS

    def make(self, model: figure3d.FigureModel) -> bytes:
        """The file's bytes for a built figure."""
        if self.is_turntable:
            return figure3d.turntable(model, fmt=self.fmt, size=self.size, frames=self.frames, seconds=self.seconds)
        return figure3d.mesh_file(model, fmt=self.fmt, height_mm=self.height_mm)


class ClassicEngine:
    """Renders themes with OpenCV, NumPy and Pillow (and mediapipe's segmentation and face models, run by LiteRT)."""

    name = "classic"
    understands_instructions = False

    def __init__(self, work_size: int = 1024) -> None:
        self.work_size = work_size

    async def __call__(self, request: RenderRequest, *, progress: ProgressCallback | None = None) -> RenderOutput:
        """Render in a worker thread so the event loop keeps serving everyone else."""
        return await asyncio.to_thread(self.render, request, progress)

    def render(self, request: RenderRequest, progress: ProgressCallback | None = None) -> RenderOutput:
        """Render synchronously (the CLI and benchmarks call this directly)."""
        report = progress or (lambda _fraction: None)
        recipe = RECIPES.get(request.theme.recipe)
        if recipe is None:
            raise ValueError(f"theme {request.theme.id} names an unknown classic recipe {request.theme.recipe!r}")
        look = self._look(request, report)
        params = look.params
        image = recipe(look)
        report(0.85)
        notes = list(look.notes)  # what the look itself has to say (e.g. why it shows no figure)
        if look.figure_people:
            pass  # the look shows the person as a figure: the figure's own notes (figure.py) say what is missing
        elif not look.person_found:
            notes.append(NO_PERSON)
        elif look.low_resolution and figure3d.NoFigureError.SMALL not in notes:  # (the look said it already)
            notes.append(LOW_RES)
        if params.name_scale != 1.0 and not look.name_drawn:
            notes.append(NO_NAME)
        return RenderOutput(image.convert("RGB"), tuple(notes))

    def _look(self, request: RenderRequest, report: ProgressCallback) -> Look:
        """The request's photo at the work size, with its theme and parameters: what every recipe starts from."""
        source = request.source.convert("RGB")
        original_side = max(source.size)
        if max(source.size) != self.work_size:
            scale = self.work_size / max(source.size)
            source = resize(source, (max(1, round(source.width * scale)), max(1, round(source.height * scale))))
        report(0.05)
        params = request.params
        if params.name and "|" in params.name and not params.things:  # "Ada | coffee, laptop" that reached us whole
            name, things = split_things(params.name)
            params = params.with_(name=name, things=things)
        return Look(source, request.theme, params, report,
                    min_face_px=LOW_RES_FACE_PX * self.work_size / original_side)

    # ---- the figure's own files: the turning loop and the printable mesh -----------------------------------------

    @staticmethod
    def has_figure(theme: Theme) -> bool:
        """Whether the theme's look is a 3D figure (the toy looks), so it can turn and be printed."""
        return theme.recipe in figure3d.FIGURE_RECIPES

    def figure_files(self, request: RenderRequest, wanted: Sequence[FigureFileSpec]) -> list[bytes]:
        """The figure of a request's still, as files: built from the same Look as ``render`` builds (same work
        size, parameters and seed: the same figure as the still), once for every file asked for.

        Raises:
            NoFigure: the look has no figure (a retro look), or the photo cannot give one (no face).
        """
        if not self.has_figure(request.theme):
            raise NoFigure()
        look = self._look(request, lambda _fraction: None)
        try:
            model = figure3d.build(look, figure3d.options_for(request.theme, look.params))
        except figure3d.NoFigureError as exc:
            raise NoFigure(getattr(exc, "user_message", None) or NoFigure.user_message) from exc
        return [spec.make(model) for spec in wanted]

    async def make_figure_files(self, request: RenderRequest, wanted: Sequence[FigureFileSpec]) -> list[bytes]:
        """``figure_files`` in a worker thread (seconds of CPU work)."""
        return await asyncio.to_thread(self.figure_files, request, wanted)

    async def close(self) -> None:
        """Nothing to release."""
