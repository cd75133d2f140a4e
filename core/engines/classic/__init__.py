"""The classic engine: real image processing on the CPU, no model weights to download."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PIL import Image

from minime.core.engines.base import ProgressCallback, RenderOutput, RenderRequest
from minime.core.engines.classic import (
    anime,
    boxes,
    caricature,
    desk,
    magazine,
    photo,
    poster,
    retro,
    stickers,
    yearbook,
)
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import resize
from minime.core.themes import split_things

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

NO_PERSON = "I couldn't find a person in that photo, so I used the whole picture. A clear selfie works best!"
LOW_RES = ("The face in that photo is small (under {px} pixels across), so some details stay soft (a person seen "
           "from head to toe still becomes a figure; otherwise the look keeps the whole picture). A closer or sharper "
           "selfie works best!")
NO_NAME = ("This look has no name on it, so “bigger name” and “smaller name” have nothing to change here. "
           "Looks with a name: /figurine, /actionfigure, /polaroid, /retro.")
LOW_RES_FACE_PX = 80


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
        look = Look(source, request.theme, params, report,
                    min_face_px=LOW_RES_FACE_PX * self.work_size / original_side)
        image = recipe(look)
        report(0.85)
        notes = list(look.notes)  # what the look itself has to say (e.g. why it shows no figure)
        if not look.person_found:
            notes.append(NO_PERSON)
        elif look.low_resolution:
            notes.append(LOW_RES.format(px=LOW_RES_FACE_PX))
        if params.name_scale != 1.0 and not look.name_drawn:
            notes.append(NO_NAME)
        return RenderOutput(image.convert("RGB"), tuple(notes))

    async def close(self) -> None:
        """Nothing to release."""
