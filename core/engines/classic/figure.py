"""The person as a toy figure, for the looks that package one (figurine, action figure, desk figure, caricature,
miniature): the looks' one door to figure3d.

figure3d builds the figure from the photo (real geometry: one figure per person of a group) and renders it on the
CPU; this module asks it for the look's figure, shoots it for the look's scene (trimmed to the figure and fitted into
the room the packaging leaves it), picks the edition's camera and light, and, where a photo cannot give a figure
(no person, or a face too small), leaves the kind note and offers the photo as a print instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import figure3d
from minime.core.engines.classic.paint import Color

if TYPE_CHECKING:
    from minime.core.engines.classic.look import Look

YAWS = (0.0, 16.0, -16.0)  # the edition's camera: straight on, or a little from one side
TRIM_ALPHA = 6  # alpha below this (the contact shadow's far edge) does not count as the figure when trimming


def model(look: Look, **options: object) -> figure3d.FigureModel | None:
    """The look's figure (everyone in a group photo), its options changed by ``options`` (e.g. ``pose="action"``),
    or None when the photo cannot give one: then the look shows something that needs no face, and the user is told
    why (the engine's notes already say it when there is no person, or the face is small in the photo)."""
    chosen = replace(figure3d.options_for(look.theme, look.params), **options) if options else \
        figure3d.options_for(look.theme, look.params)
    try:
        return figure3d.build(look, chosen)
    except figure3d.NoFigureError as err:
        if look.person_found and not look.low_resolution and err.user_message not in look.notes:
            look.notes.append(err.user_message)
        return None


def camera(seed: int) -> tuple[float, int]:
    """The edition's camera yaw (degrees) and light (figure3d's light index): a variation turns the figure a little
    and lights it from another side."""
    return YAWS[seed % len(YAWS)], (seed // len(YAWS)) % 3


def shot(figure: figure3d.FigureModel, max_w: int, max_h: int, *, yaw: float = 0.0, elevation: float = 8.0,
         light: int = 0) -> Image.Image:
    """The figure on its base, rendered, trimmed to itself (its contact shadow included) and as large as fits
    max_w × max_h (RGBA)."""
    image = _trimmed(figure3d.still(figure, (max_w, max_h), yaw_deg=yaw, elevation_deg=elevation, light=light))
    fill = max(image.width / max_w, image.height / max_h)
    if fill < 0.8:  # the renderer left a wide margin: shoot again, closer, rather than enlarge the pixels
        size = (max(16, int(max_w / fill * 0.98)), max(16, int(max_h / fill * 0.98)))
        image = _trimmed(figure3d.still(figure, size, yaw_deg=yaw, elevation_deg=elevation, light=light))
    return fit(image, max_w, max_h)


def fit(image: Image.Image, max_w: int, max_h: int) -> Image.Image:
    """``image`` scaled down (never up) to fit max_w × max_h."""
    scale = min(1.0, max_w / image.width, max_h / image.height)
    if scale >= 1.0:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                        Image.Resampling.LANCZOS)


def _trimmed(image: Image.Image) -> Image.Image:
    alpha = np.asarray(image.getchannel("A"))
    ys, xs = np.nonzero(alpha >= TRIM_ALPHA)
    if len(xs) == 0:
        return image
    return image.crop((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))


def framed_photo(look: Look, max_w: int, max_h: int) -> Image.Image:
    """The photo as a rounded print with a white border, as large as fits max_w × max_h (RGBA)."""
    ratio = look.source.width / look.source.height
    border_share = 0.08
    pw = min(max_w / (1 + border_share), max_h / (1 + border_share) * ratio)
    photo = look.source.resize((max(8, int(pw)), max(8, int(pw / ratio))), Image.Resampling.LANCZOS).convert("RGBA")
    border = max(6, int(pw * border_share / 2))
    framed = Image.new("RGBA", (photo.width + 2 * border, photo.height + 2 * border), (250, 250, 246, 255))
    framed.alpha_composite(photo, (border, border))
    mask = Image.new("L", framed.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, framed.width - 1, framed.height - 1), border * 2, fill=255)
    framed.putalpha(mask)
    return framed


def photo_print(look: Look, max_w: int, max_h: int, foot: Color) -> Image.Image:
    """The photo as a rounded print standing on a little foot (RGBA), fitted into max_w × max_h: what a toy look
    shows where the photo cannot give a figure."""
    framed = framed_photo(look, max_w, int(max_h * 0.86))
    base_h = max(10, max_h - framed.height)
    canvas = Image.new("RGBA", (framed.width, framed.height + base_h), (0, 0, 0, 0))
    stand = Image.new("RGBA", (int(framed.width * 0.6), max(10, int(base_h * 0.6))), (0, 0, 0, 0))
    ImageDraw.Draw(stand).rounded_rectangle((0, 0, stand.width - 1, stand.height - 1), stand.height // 3,
                                            fill=(*foot, 255))
    canvas.alpha_composite(stand, ((canvas.width - stand.width) // 2, framed.height - stand.height // 3))
    canvas.alpha_composite(framed, (0, 0))
    return canvas
