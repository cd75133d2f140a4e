"""A group photo as a set of toy figures: each person their own figure, lined up like a boxed collector's set.

Everyone in the set is sculpted the same way: standing figures side by side on one base when every person is seen
full length, else busts (the chest completed where a table or another person hid it), each on its own stand, in one
row, or in two (the back row raised and staggered between the front row's heads, like a team photo) when that makes
every figure bigger. All figures of a set share one scale and one light.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.figure import (
    BUST,
    DEFAULT_STYLE,
    PEDESTAL,
    STANDING,
    Box,
    FigureStyle,
    body_below,
    contact_shadow,
    draw_base,
    figure_kind,
    render_figure,
)

if TYPE_CHECKING:
    from minime.core.engines.classic.look import Look

GAP = 0.05  # between two figures of a row, in figure heights
RISER_GAP = -0.06  # busts of a row on a display riser, shoulders just touching
DUO_GAP = -0.16  # a pair of busts stands shoulder to shoulder, one shoulder a little behind the other's
BACK_LIFT, BACK_SCALE = 0.4, 0.92  # the back row: raised (in figure heights) and a little smaller (further away)
MAX_LIFT = 0.72  # a tall window lifts the back row higher (as on a display riser), showing more of it
BUST_ASPECT, STANDING_ASPECT = 0.6, 0.42  # a figure's usual width / height, to plan the rows before sculpting
TRIMMED = 0.9  # a figure's visible height, as a share of the height it is rendered at (its canvas has a margin)
TOO_SMALL = 0.35  # faces narrower than this share of the engine's "small face" size are never sculpted


def toy(look: Look, max_w: int, max_h: int, style: FigureStyle = DEFAULT_STYLE, *, riser: bool = False
        ) -> Image.Image:
    """The person, or everyone in a group photo, as toy figures fitted into max_w × max_h (RGBA). A small face is
    sculpted when the person stands full length (the figure's face is small too); a photo with nobody to sculpt
    becomes a framed print on a stand. ``riser``: a packaging insert may hold a set's back row high above the front
    one (in a box or a blister, not on a table)."""
    subject = look.subject
    faces = list(subject.faces) or ([subject.face] if subject.face else [])
    if not subject.found or not faces or max(f[2] for f in faces) < TOO_SMALL * look.min_face_px:
        return photo_print(look, max_w, max_h, style)
    src = np.asarray(look.source)
    if len(faces) > 1:
        if look.low_resolution and set_kind(subject.mask, faces) == BUST:
            return photo_print(look, max_w, max_h, style)
        return render_group(src, subject.mask, faces, look.params.seed, height=max_h, max_width=max_w, style=style,
                            riser=riser)
    if look.low_resolution and figure_kind(subject.mask, faces[0]) != STANDING:
        return photo_print(look, max_w, max_h, style)
    return render_figure(src, subject.mask, faces[0], look.params.seed, height=max_h, max_width=max_w, style=style)


def set_kind(mask: np.ndarray, faces: list[Box], parts: list[np.ndarray] | None = None) -> str:
    """``standing`` when every person of the group is seen full length (the photo cuts nobody), else ``bust``
    (``parts``: the matte already split between the faces, sorted left to right)."""
    faces = sorted(faces, key=lambda f: f[0])
    for face, part in zip(faces, parts if parts is not None else split_people(mask, faces)):
        if figure_kind(part, face) != STANDING or body_below(part, face)[1] is not None:
            return BUST
    return STANDING


def render_group(source: np.ndarray, mask: np.ndarray, faces: list[Box], seed: int, *, height: int,
                 max_width: int, style: FigureStyle = DEFAULT_STYLE, riser: bool = False) -> Image.Image:
    """Several people as a set of figures, every face kept and whole (RGBA, at most max_width × height); ``riser``
    lets the back row stand high above the front one, as a packaging insert holds it."""
    faces = sorted(faces, key=lambda f: f[0])
    if len(faces) <= 1:
        return render_figure(source, mask, faces[0] if faces else None, seed, height=height, style=style,
                             max_width=max_width)
    parts = split_people(mask, faces)
    kind = set_kind(mask, faces, parts)
    plan = _plan(faces, kind, height, max_width, riser)
    if kind == BUST:  # a bust always stands on something: its own stand
        member = replace(style, base=PEDESTAL if style.base == "none" else style.base, shoulders=1.15)
    else:
        member = replace(style, base="none")
    figures = {}
    for i, (face, part) in enumerate(zip(faces, parts)):
        back = len(plan.rows) == 2 and i in plan.rows[0]
        others = tuple(f for j, f in enumerate(faces) if j != i)
        tall = int(plan.unit / TRIMMED * (BACK_SCALE if back else 1))
        figures[i] = _trimmed(render_figure(source, part, face, seed, height=tall,
                                            style=member, kind=kind, others=others if kind == BUST else ()))
    return _arrange(figures, plan, kind, style, height, max_width)


@dataclass(frozen=True)
class _Plan:
    rows: list[list[int]]  # people's indices per row, back row first, left to right
    unit: int  # a front-row figure's height
    lift: float  # how far the back row is raised, in figure heights
    stagger: bool  # the back row sits between the front row's heads
    gap: float = GAP  # between two figures of a row, in figure heights


def _plan(faces: list[Box], kind: str, height: int, max_width: int, riser: bool) -> _Plan:
    """The layout that makes the figures biggest: one row; two rows, the back one raised a little and staggered
    between the front row's heads (a team photo); or, in a tall window, the back row raised right above the front
    one (a display riser). The back row holds the people whose faces are highest in the photo (those behind)."""
    n = len(faces)
    aspect = BUST_ASPECT if kind == BUST else STANDING_ASPECT
    base = 0.0 if kind == BUST else 0.1
    room = height * TRIMMED

    def fit(lift: float, across: float) -> int:
        return max(32, int(min(room / (1 + lift + base), max_width / (across * aspect * (1 + GAP)))))

    if n < 3:  # a duo stands side by side (one behind the other hides too much of them), busts shoulder to shoulder
        gap = DUO_GAP if kind == BUST else GAP
        return _Plan([list(range(n))], max(32, int(min(room / (1 + base), max_width / (n * aspect + gap)))), 0.0,
                     False, gap)
    best = _Plan([list(range(n))], fit(0.0, n), 0.0, False)
    front_n = (n + 1) // 2
    by_height = sorted(range(n), key=lambda i: faces[i][1] + faces[i][3] / 2)
    rows = [sorted(by_height[:n - front_n], key=lambda i: faces[i][0]),
            sorted(by_height[n - front_n:], key=lambda i: faces[i][0])]
    staggered = _Plan(rows, fit(BACK_LIFT, front_n + 0.5 * (n % 2 == 0)), BACK_LIFT, n % 2 == 0)
    # On a riser the busts of a row stand shoulder to shoulder (as a boxed set packs them), the back row above.
    snug = RISER_GAP if kind == BUST else GAP
    raised = _Plan(rows, max(32, int(min(room / (1 + MAX_LIFT + base),
                                         max_width / (front_n * aspect + (front_n - 1) * snug)))), MAX_LIFT, False,
                   snug)
    for plan in (staggered, raised) if riser else (staggered,):  # a second row only when it is clearly bigger
        if plan.unit > best.unit * 1.08:
            best = plan
    return best


def _trimmed(figure: Image.Image) -> Image.Image:
    box = figure.getbbox()
    return figure.crop(box) if box else figure


def _arrange(figures: dict[int, Image.Image], plan: _Plan, kind: str, style: FigureStyle, height: int,
             max_width: int) -> Image.Image:
    rows, unit = plan.rows, plan.unit
    gap = int(unit * plan.gap)

    def row_width(row: list[int]) -> int:
        return sum(figures[i].width for i in row) + gap * (len(row) - 1)

    widths = [row_width(r) for r in rows]
    lift = int(unit * plan.lift) if len(rows) == 2 else 0
    floor = lift + unit  # where the front row stands
    shared_base = kind == STANDING and style.base != "none"
    span = max(widths)
    if plan.stagger:
        span += (figures[rows[0][0]].width + gap) // 2
    base_w = int(span * 1.12)
    top_h, thick = max(6, int(base_w * 0.22)), max(8, int(unit * 0.05))  # the disc's top (seen from above), its edge
    canvas_w = max(span + 2 * max(gap, 0) + 8, base_w + 8 if shared_base else 0)
    canvas = Image.new("RGBA", (canvas_w, floor + (top_h // 2 + thick if shared_base else 0) + 4), (0, 0, 0, 0))
    cw = canvas.width
    if shared_base:  # the feet stand on the middle of the disc's top
        y0 = floor - int(top_h * 0.55)
        draw_base(canvas, ((cw - base_w) // 2, y0, (cw + base_w) // 2, y0 + top_h + thick), style)
    # Two rows of as many figures are staggered (half a figure each way), so the back row's faces show between
    # the front row's heads.
    stagger = (figures[rows[0][0]].width + gap) / 4 if plan.stagger else 0
    for r, row in enumerate(rows):
        back = len(rows) == 2 and r == 0
        x = (cw - widths[r]) / 2 + (stagger if r else -stagger)
        bottom = floor - lift if back else floor
        for i in row:
            f = figures[i]
            if kind == STANDING:
                contact_shadow(canvas, int(x + f.width / 2), bottom - 3, int(f.width * 0.4))
            canvas.alpha_composite(f, (int(x), max(0, bottom - f.height)))
            x += f.width + gap
    fit = min(1.0, max_width / canvas.width, height / canvas.height)
    if fit < 1.0:
        canvas = canvas.resize((max(1, int(canvas.width * fit)), max(1, int(canvas.height * fit))),
                               Image.Resampling.LANCZOS)
    return canvas


def split_people(mask: np.ndarray, faces: list[Box]) -> list[np.ndarray]:
    """The matte divided between the faces: each pixel goes to the face nearest to it (sideways distance counts
    most, so arms and shoulders follow the person below the face)."""
    h, w = mask.shape
    small = max(1, max(h, w) // 256)
    ys, xs = np.mgrid[0:h:small, 0:w:small].astype(np.float32)
    best = np.full(xs.shape, np.inf, np.float32)
    owner = np.zeros(xs.shape, np.int32)
    for i, (fx, fy, fw, fh) in enumerate(faces):
        cx, cy = fx + fw / 2, fy + fh / 2
        d = ((xs - cx) / max(fw, 1)) ** 2 + (np.maximum(0, cy - ys) / max(fh, 1)) ** 2 * 0.5 \
            + (np.maximum(0, ys - cy) / max(fh, 1)) ** 2 * 0.05
        closer = d < best
        best[closer], owner[closer] = d[closer], i
    owner = cv2.resize(owner.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return [np.where(owner == i, mask, 0.0).astype(np.float32) for i in range(len(faces))]


def toy_figure(look: Look, max_w: int, max_h: int, style: FigureStyle = DEFAULT_STYLE) -> Image.Image:
    """The person (or everyone in a group photo) as a collectible toy on its base, fitted into max_w × max_h
    (RGBA). Without a person, the photo itself becomes a framed print on a stand."""
    src = np.asarray(look.source)
    faces = list(look.subject.faces) or ([look.subject.face] if look.subject.face else [])
    if not look.sculptable or not faces:
        return photo_print(look, max_w, max_h, style)
    if len(faces) > 1:
        return render_group(src, look.subject.mask, faces, look.params.seed, height=max_h, max_width=max_w,
                            style=style)
    return render_figure(src, look.subject.mask, faces[0], look.params.seed, height=max_h, max_width=max_w,
                         style=style)


def photo_print(look: Look, max_w: int, max_h: int, style: FigureStyle) -> Image.Image:
    """A photo with nobody to sculpt, as a rounded print standing on a little foot (RGBA)."""
    ratio = look.source.width / look.source.height
    pw = min(max_w * 0.92, max_h * 0.82 * ratio)
    ph = pw / ratio
    photo = look.source.resize((max(8, int(pw)), max(8, int(ph))), Image.Resampling.LANCZOS).convert("RGBA")
    border = max(6, int(pw * 0.04))
    framed = Image.new("RGBA", (photo.width + 2 * border, photo.height + 2 * border), (250, 250, 246, 255))
    framed.alpha_composite(photo, (border, border))
    mask = Image.new("L", framed.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, framed.width - 1, framed.height - 1), border * 2, fill=255)
    framed.putalpha(mask)
    base_h = max(10, int(max_h - framed.height))
    canvas = Image.new("RGBA", (framed.width, framed.height + base_h), (0, 0, 0, 0))
    foot = Image.new("RGBA", (int(framed.width * 0.6), max(10, int(base_h * 0.6))), (0, 0, 0, 0))
    ImageDraw.Draw(foot).rounded_rectangle((0, 0, foot.width - 1, foot.height - 1), foot.height // 3,
                                           fill=(*style.base_color, 255))
    canvas.alpha_composite(foot, ((canvas.width - foot.width) // 2, framed.height - foot.height // 3))
    canvas.alpha_composite(framed, (0, 0))
    return canvas
