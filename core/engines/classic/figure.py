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

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import figure3d
from minime.core.engines.classic.paint import Color
from minime.core.i18n import N_

if TYPE_CHECKING:
    from minime.core.engines.classic.look import Look

LEFT_OUT = N_("Some people in that photo were too small or too far away to become figures. A closer photo of the "
              "group brings everyone in!")
YAWS = (0.0, 16.0, -16.0)  # the edition's camera: straight on, or a little from one side
TRIM_ALPHA = 6  # alpha below this (the floor shadow's far edge) does not count when trimming a shot
SHADOW_ALPHA = 225  # figure3d's floor shadow is at most 85 % opaque; the figure is opaque
EDGE_FADE = 0.05  # the share of a shot's width over which its floor shadow fades out at each side


def model(look: Look, **options: object) -> figure3d.FigureModel | None:
    """The look's figure (everyone in a group photo), its options changed by ``options`` (e.g. ``pose="action"``),
    or None when the photo cannot give one: then the look shows something that needs no face, and the user is told
    why (the engine's notes already say it when there is no person, or the face is small in the photo)."""
    chosen = replace(figure3d.options_for(look.theme, look.params), **options) if options else \
        figure3d.options_for(look.theme, look.params)
    try:
        toy = figure3d.build(look, chosen)
    except figure3d.NoFigureError as err:
        if look.person_found and not look.low_resolution and err.user_message not in look.notes:
            look.notes.append(err.user_message)
        return None
    look.figure_people = toy.people
    if toy.people < len(look.faces) and LEFT_OUT not in look.notes:
        look.notes.append(LEFT_OUT)
    return toy


def without_base(toy: figure3d.FigureModel) -> figure3d.FigureModel:
    """The same figure with its plinth taken away, standing on the floor: for a scene that gives it a base of its
    own (the desk's clear acrylic disc)."""
    base = [p for p in toy.parts if p.name == "base"]
    if not base:
        return toy
    top = float(base[0].vertices[:, 1].max())
    return replace(toy, parts=tuple(p.moved((0.0, -top, 0.0)) for p in toy.parts if p.name != "base"), cache={})


def camera(seed: int) -> tuple[float, int]:
    """The edition's camera yaw (degrees) and light (figure3d's light index): a variation turns the figure a little
    and lights it from another side."""
    return YAWS[seed % len(YAWS)], (seed // len(YAWS)) % 3


def sun_on_the_left(toy: figure3d.FigureModel) -> int:
    """The light that keys the figure from the upper left, whatever its variation (figure3d turns its light set by
    the variation: light ``(light + variation) % 3``; its set 0 has the key high on the left), for a scene whose sun
    already stands there."""
    return -toy.options.variation % 3


def shot(figure: figure3d.FigureModel, max_w: int, max_h: int, *, yaw: float = 0.0, elevation: float = 8.0,
         light: int = 0, floor_shadow: float = 1.0) -> Image.Image:
    """The figure on its base, rendered as large as fits max_w × max_h, with the shadow it casts on the floor (RGBA,
    max_w wide, as tall as the figure and its shadow: the rows above and below are cut off). The floor shadow
    fades out at the picture's sides rather than ending at its edge; ``floor_shadow`` scales its strength (a clear
    or a bright floor takes a lighter one)."""
    return trim(render(figure, max_w, max_h, yaw=yaw, elevation=elevation, light=light, floor_shadow=floor_shadow))


def render(figure: figure3d.FigureModel, w: int, h: int, *, yaw: float = 0.0, elevation: float = 8.0,
           light: int = 0, floor_shadow: float = 1.0) -> Image.Image:
    """Like :func:`shot`, the whole w × h picture (nothing cut off: what :func:`mesh_lines` draws on)."""
    image = figure3d.still(figure, (w, h), yaw_deg=yaw, elevation_deg=elevation, light=light)
    arr = np.asarray(image).copy()
    ramp = np.clip(np.minimum(np.arange(w), w - 1 - np.arange(w)) / max(1.0, w * EDGE_FADE), 0, 1)
    alpha = arr[..., 3].astype(np.float32)
    if floor_shadow != 1.0:  # the shadow is the see-through black around the figure (the figure itself is opaque)
        shadow = (alpha < SHADOW_ALPHA) & (arr[..., :3].max(axis=2) < 10)
        alpha = np.where(shadow, alpha * floor_shadow, alpha)
    arr[..., 3] = np.clip(alpha * ramp[None, :], 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def trim(image: Image.Image) -> Image.Image:
    """A rendered picture without the empty rows above and below the figure and its shadow."""
    rows = np.nonzero((np.asarray(image.getchannel("A")) >= TRIM_ALPHA).any(axis=1))[0]
    return image.crop((0, int(rows[0]), image.width, int(rows[-1]) + 1)) if len(rows) else image


def mesh_lines(figure: figure3d.FigureModel, w: int, h: int, *, yaw: float = 0.0, elevation: float = 8.0,
               lines: int = 48) -> np.ndarray:
    """The model's surface drawn as a sculpting app's topology: contour lines of height and of side-to-side
    position over the figure (``lines`` of each over its height), where the camera of :func:`render` at the same
    size and angle sees them (float32 coverage, h × w). Figure3d's own camera and ray caster project and hide them,
    so they lie exactly on the rendered figure."""
    from minime.core.engines.classic.figure3d import render as renderer

    scene = renderer.scene_of(figure)
    cam = renderer.camera_for(scene, (w, h), [yaw], elevation)[0]
    verts, faces = scene.vertices, scene.faces
    rel = verts - cam.eye
    dist = np.linalg.norm(rel, axis=1)
    hits = scene.embree.run(np.broadcast_to(cam.eye, verts.shape).astype(np.float32),
                            (rel / dist[:, None]).astype(np.float32), output=1)
    seen = hits["tfar"] >= dist - 0.01 * scene.height  # nothing nearer on the way: the camera sees the vertex
    depth = rel @ cam.forward
    px = np.stack([cam.center[0] + cam.focal * (rel @ cam.right) / depth,
                   cam.center[1] - cam.focal * (rel @ cam.up) / depth], 1)
    tris = faces[seen[faces].all(axis=1)]
    step = scene.height / lines
    out = np.zeros((h, w), np.uint8)
    for field in (verts[:, 1], verts[:, 0]):  # seen from an angle, both follow the surface's curves
        level = np.floor(field / step)
        lv = level[tris]
        crossing = lv.max(axis=1) != lv.min(axis=1)
        t = tris[crossing]
        cut = (lv[crossing].max(axis=1) * step)[:, None]  # the level between the triangle's corners
        f = field[t] - cut
        ends = []
        for a, b in ((0, 1), (1, 2), (2, 0)):  # the two edges whose ends lie on either side of the level
            fa, fb = f[:, a], f[:, b]
            across = (fa < 0) != (fb < 0)
            k = np.where(across, fa / np.where(across, fa - fb, 1), 0)[:, None]
            ends.append((across, px[t[:, a]] + (px[t[:, b]] - px[t[:, a]]) * k))
        first = np.where(ends[0][0][:, None], ends[0][1], ends[1][1])
        second = np.where(ends[2][0][:, None], ends[2][1], ends[1][1])
        segments = np.stack([first, second], 1)
        cv2.polylines(out, list(np.round(segments * 4).astype(np.int32)), False, 255, 1, cv2.LINE_AA, shift=2)
    return out.astype(np.float32) / 255


def width_of(image: Image.Image) -> tuple[int, int]:
    """Where the figure itself (not its faint shadow) lies across a shot: its left and right columns."""
    cols = np.nonzero((np.asarray(image.getchannel("A")) > 240).any(axis=0))[0]
    return (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (0, image.width)


def feet(image: Image.Image) -> int:
    """The row of a shot where the figure (or its base) meets the floor: its lowest opaque row."""
    rows = np.nonzero((np.asarray(image.getchannel("A")) > 240).any(axis=1))[0]
    return int(rows[-1]) if len(rows) else image.height - 1


def cropped(image: Image.Image, margin: float = 0.04) -> Image.Image:
    """A shot cut down to the figure's own width (its shadow's far reach left out), with a little margin."""
    left, right = width_of(image)
    pad = int((right - left) * margin)
    return image.crop((max(0, left - pad), 0, min(image.width, right + pad), image.height))


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
