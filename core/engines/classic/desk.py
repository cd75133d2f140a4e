"""The desk figurine (2025's "Nano Banana" figurine trend): the person's 1/7-scale figure on a round clear acrylic base
on a computer desk, its toy box printed with the artwork and the name beside it, and the monitor behind showing the
same figure's model in the sculpting software (the mesh in clay, from another angle), in soft product lighting.

The room, desk, monitor and props depend only on the palette and are drawn once per palette; each render adds the
screen's sculpt, the box's print, the figure on its base, and the light.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from minime.core.engines.classic import figure, figure3d
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import (
    Color,
    display_caps,
    draw_fitted_text,
    font,
    hex_color,
    mix,
    paste_shadow,
    vertical_gradient,
)
from minime.core.memo import budget_cache

W, H = 1024, 1024
HORIZON = 585  # where the desk meets the wall
SCREEN = (84, 92, 640, 410)  # the monitor's display area
BOX = (646, 250, 918, 846)  # the box's front face
BOX_DEPTH, BOX_LIFT = 64, 34
BASE_C, BASE_RX, BASE_RY, BASE_T = (372, 900), 176, 44, 16  # the acrylic disc: centre of its top, radii, thickness
FIG_H, FIG_W = 600, 400
SET_W, MAX_SET_W = 540, 720  # a group's set spreads wider on the desk (in front of the mug and the box's corner)


def _palette(look: Look) -> tuple[tuple[str, Color], ...]:
    defaults = {"wall": "#d9cbb8", "wood": "#9a6a43", "box": "#e8336d", "accent": "#ffd23f", "ink": "#2a0f3d",
                "mug": "#f2efe9"}
    return tuple((k, hex_color(look.palette.get(k, v))) for k, v in defaults.items())


def desk_figurine(look: Look) -> Image.Image:
    """The flagship: figure, acrylic base, box, sculpting screen and desk."""
    pal = dict(_palette(look))
    name = look.name(look.theme.package.get("default_name", "MINI ME"))  # drawn: "bigger name" scales it
    canvas = _room(_palette(look)).copy()
    look.progress(0.15)
    toy = figure.model(look)
    yaw, light = figure.camera(look.params.seed)
    if toy is None:  # no figure to be had: the photo as a print in a clear block on the disc, and as the box's art
        shown = figure.photo_print(look, FIG_W, int(FIG_H * 0.8), (226, 234, 242))
    else:  # the figure stands on the desk's own clear disc, not on a plinth (the monitor shows the same model)
        toy = figure.without_base(toy)
        width = FIG_W if toy.people == 1 else min(MAX_SET_W, SET_W + 60 * (toy.people - 2))
        shown = figure.shot(toy, width, FIG_H, yaw=yaw, light=light, floor_shadow=0.4)
    look.progress(0.45)
    _screen(canvas, look, toy, name)
    look.progress(0.6)
    _box(canvas, shown, name, pal, look)
    look.progress(0.7)
    _figure_on_base(canvas, shown)
    _props_front(canvas)
    look.progress(0.8)
    return _light(canvas, look.params.seed)


# ---- the room, cached per palette ----------------------------------------------------------------------------------


@budget_cache(maxsize=8)
def _room(pal: tuple[tuple[str, Color], ...]) -> Image.Image:
    c = dict(pal)
    wall = c["wall"]
    room = vertical_gradient((W, HORIZON), mix(wall, (255, 255, 255), 0.25), mix(wall, (60, 50, 40), 0.25))
    arr = np.asarray(room).astype(np.float32)
    yy, xx = np.mgrid[0:HORIZON, 0:W].astype(np.float32)
    # Daylight from a window on the right: a warm glow and the soft shape of its frame on the wall.
    glow = np.exp(-(((xx - 980) / 420) ** 2 + ((yy - 120) / 360) ** 2))[..., None]
    arr = arr + glow * (np.array([255, 236, 205], np.float32) - arr) * 0.55
    pane = np.zeros((HORIZON, W), np.float32)
    cv2.rectangle(pane, (720, 30), (1010, 330), 1.0, -1)
    cv2.rectangle(pane, (857, 30), (873, 330), 0.0, -1)
    cv2.rectangle(pane, (720, 172), (1010, 188), 0.0, -1)
    pane = cv2.GaussianBlur(pane, (0, 0), 22)[..., None]
    arr = arr + pane * (255 - arr) * 0.35
    # A blurred shelf with books far behind (depth of field).
    shelf = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(shelf)
    d.rectangle((0, 470, 300, 482), fill=mix(c["wood"], (30, 20, 10), 0.35))
    x = 14
    for i, (w, hgt) in enumerate(((26, 96), (20, 80), (32, 104), (18, 88), (28, 72), (22, 100), (36, 60))):
        tone = [(176, 58, 46), (46, 84, 140), (214, 170, 60), (60, 120, 90), (120, 60, 120), (220, 220, 210),
                (90, 70, 50)][i]
        d.rectangle((x, 470 - hgt, x + w, 470), fill=mix(tone, wall, 0.35))
        x += w + 3
    d.ellipse((226, 404, 290, 470), fill=mix((70, 120, 70), wall, 0.3))
    shelf = shelf.filter(ImageFilter.GaussianBlur(6))
    canvas = Image.new("RGB", (W, H))
    canvas.paste(shelf, (0, 0))
    canvas.paste(_desk_top(c["wood"]), (0, HORIZON))
    _monitor(canvas)
    _mug(canvas, c["mug"])
    return canvas


def _desk_top(wood: Color) -> Image.Image:
    """Oak: long grain, a few darker lines, lighter towards the viewer, a sheen where the window's light falls."""
    h = H - HORIZON
    rng = np.random.default_rng(11)
    grain = cv2.resize(rng.normal(0, 1, (h // 3, 24)).astype(np.float32), (W, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.normal(0, 1, (h, 96)).astype(np.float32), (W, h), interpolation=cv2.INTER_LINEAR)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    base = np.array(wood, np.float32)
    light = 0.72 + 0.38 * t
    arr = base * (light + 0.05 * grain + 0.025 * fine)[..., None]
    sheen = np.exp(-(((np.arange(W, dtype=np.float32) - 860) / 300) ** 2))[None, :] * (1 - t) * 0.35
    arr = arr + sheen[..., None] * (255 - arr)
    # Contact line with the wall: a soft shadow.
    arr[:14] *= np.linspace(0.55, 1.0, 14, dtype=np.float32)[:, None, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _monitor(canvas: Image.Image) -> None:
    x0, y0, x1, y1 = SCREEN
    d = ImageDraw.Draw(canvas)
    cx = (x0 + x1) // 2
    # Stand: neck and foot, then the shadow the monitor throws on the wall.
    shadow = Image.new("L", (W, H), 0)
    ImageDraw.Draw(shadow).rounded_rectangle((x0 - 10, y0 - 10, x1 + 10, y1 + 24), 14, fill=255)
    paste_shadow(canvas, shadow.crop((0, 0, W, HORIZON)), (0, 0), blur=26, opacity=0.35, offset=(-22, 18))
    d.polygon([(cx - 34, y1 + 20), (cx + 34, y1 + 20), (cx + 26, HORIZON + 46), (cx - 26, HORIZON + 46)],
              fill=(58, 60, 66))
    d.polygon([(cx - 30, y1 + 20), (cx - 8, y1 + 20), (cx - 10, HORIZON + 46), (cx - 24, HORIZON + 46)],
              fill=(88, 90, 98))
    d.ellipse((cx - 130, HORIZON + 30, cx + 130, HORIZON + 70), fill=(48, 50, 56))
    d.ellipse((cx - 124, HORIZON + 30, cx + 124, HORIZON + 60), fill=(78, 80, 88))
    d.rounded_rectangle((x0 - 14, y0 - 14, x1 + 14, y1 + 26), 12, fill=(22, 23, 27))
    d.rounded_rectangle((x0 - 14, y0 - 14, x1 + 14, y1 + 26), 12, outline=(70, 72, 80), width=2)
    d.ellipse((cx - 3, y1 + 11, cx + 3, y1 + 17), fill=(120, 200, 255))


def _mug(canvas: Image.Image, color: Color) -> None:
    """A mug of coffee at the back left of the desk."""
    x0, y0, w, h = 40, HORIZON + 40, 118, 130
    shadow = Image.new("L", (w + 80, 40), 0)
    ImageDraw.Draw(shadow).ellipse((10, 4, w + 40, 36), fill=255)
    paste_shadow(canvas, shadow, (x0 - 6, y0 + h - 18), blur=8, opacity=0.45)
    body = Image.fromarray(_cylinder((w, h), color))
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), 14, fill=255)
    ImageDraw.Draw(mask).rectangle((0, 0, w - 1, 20), fill=255)
    canvas.paste(body, (x0, y0), mask)
    d = ImageDraw.Draw(canvas)
    d.arc((x0 + w - 40, y0 + 24, x0 + w + 30, y0 + 98), -75, 75, fill=mix(color, (0, 0, 0), 0.18), width=14)
    d.ellipse((x0, y0 - 14, x0 + w, y0 + 14), fill=mix(color, (255, 255, 255), 0.3))
    d.ellipse((x0 + 7, y0 - 9, x0 + w - 7, y0 + 10), fill=(74, 44, 26))
    d.ellipse((x0 + 22, y0 - 5, x0 + 60, y0 + 3), fill=(120, 80, 50))


@budget_cache(maxsize=8)
def _cylinder(size: tuple[int, int], color: Color) -> np.ndarray:
    w, h = size
    x = np.linspace(-1, 1, w, dtype=np.float32)
    shade = 0.55 + 0.5 * np.sqrt(np.clip(1 - x ** 2, 0, 1)) + 0.35 * np.exp(-((x + 0.45) / 0.12) ** 2)
    return np.clip(np.array(color, np.float32)[None, None, :] * shade[None, :, None] * np.ones((h, 1, 1)), 0,
                   255).astype(np.uint8)


# ---- the sculpting software on the screen --------------------------------------------------------------------------


def _screen(canvas: Image.Image, look: Look, toy: figure3d.FigureModel | None, name: str) -> None:
    x0, y0, x1, y1 = SCREEN
    sw, sh = x1 - x0, y1 - y0
    ui = _ui((sw, sh))
    view = (60, 30, sw - 120, sh - 22)  # the 3D viewport inside the app
    vw, vh = view[2] - view[0], view[3] - view[1]
    screen = ui.copy()
    screen.paste(_viewport(look, toy, vw, vh), (view[0], view[1]))
    # The file's name in the title bar, in any script (the name as typed, in the user's own letters).
    # The app's title bar reads left to right (U+200E, a left-to-right mark, even for a name in Arabic or Hebrew).
    title = f"\u200e{'_'.join((name or 'figure').lower().split())[:24]}_figure_v7.ztl  —  Sculpt"
    draw_fitted_text(screen, (10, 4, sw - 80, 20), title, "DejaVuSans-Bold", (214, 216, 222), anchor="lm",
                     max_size=12)
    polys = sum(len(part.faces) for part in toy.parts) if toy is not None else 0
    draw_fitted_text(screen, (view[0] + 8, view[3] - 20, view[2] - 8, view[3] - 6),
                     f"Polys {polys / 1000:.0f}K   Subdiv 6   Symmetry X" if polys else "Reference image",
                     "DejaVuSansMono-Bold", (170, 190, 210), anchor="lm", max_size=10)
    # The screen glows a little and catches a reflection of the window.
    arr = np.asarray(screen).astype(np.float32)
    ramp = np.clip(np.linspace(0.18, -0.05, sw, dtype=np.float32)[None, :]
                   + np.linspace(0.05, -0.05, sh, dtype=np.float32)[:, None], 0, 1)[..., None]
    arr = arr + ramp * (255 - arr) * 0.5
    canvas.paste(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), (x0, y0))


@budget_cache(maxsize=2)
def _ui(size: tuple[int, int]) -> Image.Image:
    """The sculpting app's chrome: title bar, tool column, layer panel, slider rows, viewport grid."""
    sw, sh = size
    ui = Image.new("RGB", size, (36, 38, 44))
    d = ImageDraw.Draw(ui)
    d.rectangle((0, 0, sw, 22), fill=(24, 25, 30))
    for i, col in enumerate(((255, 95, 86), (255, 189, 46), (39, 201, 63))):
        d.ellipse((sw - 60 + i * 18, 6, sw - 50 + i * 18, 16), fill=col)
    tools = [(230, 120, 60), (120, 170, 240), (200, 200, 210), (140, 220, 150), (240, 200, 90), (200, 140, 230),
             (160, 160, 170), (230, 110, 120)]
    for i, col in enumerate(tools):
        y = 32 + i * 30
        d.rounded_rectangle((12, y, 44, y + 24), 5, fill=(52, 55, 63) if i else (74, 92, 130))
        d.ellipse((22, y + 6, 34, y + 18), fill=col)
    px = sw - 112
    d.rectangle((px, 22, sw, sh), fill=(30, 32, 37))
    f = font("DejaVuSans-Bold", 10)
    d.text((px + 8, 30), "SUBTOOLS", font=f, fill=(140, 150, 165))
    for i, label in enumerate(("Head", "Hair", "Body", "Hands", "Base")):
        y = 48 + i * 22
        d.rounded_rectangle((px + 6, y, sw - 6, y + 18), 4, fill=(70, 98, 150) if i == 0 else (44, 47, 55))
        d.text((px + 12, y + 3), label, font=f, fill=(230, 232, 236))
    d.text((px + 8, 168), "BRUSH", font=f, fill=(140, 150, 165))
    for i, (label, value) in enumerate((("Size", 0.45), ("Intensity", 0.7), ("Smooth", 0.3))):
        y = 186 + i * 26
        d.text((px + 8, y), label, font=f, fill=(200, 204, 212))
        d.rounded_rectangle((px + 8, y + 14, sw - 10, y + 19), 2, fill=(58, 61, 70))
        d.rounded_rectangle((px + 8, y + 14, px + 8 + int((sw - 18 - px) * value), y + 19), 2, fill=(236, 140, 60))
    return ui


def _viewport(look: Look, toy: figure3d.FigureModel | None, vw: int, vh: int) -> Image.Image:
    """The app's 3D viewport: a perspective floor grid and the same figure's model, turned to show its side, in
    sculpting clay (without a figure: the photo, as the sculptor's reference image)."""
    view = vertical_gradient((vw, vh), (74, 78, 88), (40, 42, 49))
    vd = ImageDraw.Draw(view)
    horizon = int(vh * 0.78)
    for i in range(-12, 13):
        vd.line([(vw / 2 + i * 14, horizon), (vw / 2 + i * 70, vh)], fill=(88, 92, 104), width=1)
    for j in range(6):
        y = horizon + (vh - horizon) * (j / 6) ** 1.6
        vd.line([(0, y), (vw, y)], fill=(88, 92, 104), width=1)
    view = view.convert("RGBA")
    if toy is None:
        ref = figure.framed_photo(look, int(vw * 0.6), int(vh * 0.8))
        view.alpha_composite(ref, ((vw - ref.width) // 2, (vh - ref.height) // 2))
        return view.convert("RGB")
    _, light = figure.camera(look.params.seed)
    size, angle = (int(vw * 0.8), int(vh * 0.92)), dict(yaw=-35.0, elevation=12.0)
    model = figure.trim(_clay(figure.render(toy, *size, light=light, floor_shadow=0.5, **angle),
                              figure.mesh_lines(toy, *size, **angle)))
    ox, oy = (vw - model.width) // 2 - int(vw * 0.04), int(vh * 0.96) - model.height
    view.alpha_composite(model, (ox, oy))
    # Gizmo: the move tool's arrows beside the model.
    gx0, gy0 = ox + model.width + 14, oy + model.height // 3
    vd = ImageDraw.Draw(view)
    vd.line([(gx0, gy0), (gx0 + 34, gy0)], fill=(230, 70, 70), width=2)
    vd.line([(gx0, gy0), (gx0, gy0 - 34)], fill=(90, 210, 90), width=2)
    vd.line([(gx0, gy0), (gx0 - 18, gy0 + 18)], fill=(80, 140, 255), width=2)
    return view.convert("RGB")


def _clay(render: Image.Image, lines: np.ndarray) -> Image.Image:
    """A rendered figure as unpainted sculpting clay, its light and form kept, its paint taken off, with the mesh's
    topology ``lines`` drawn over it (RGBA)."""
    arr = np.asarray(render)
    luma = cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    # The paint's own darkness (a dark suit, black hair) is taken out: a local mean of the figure's luminance (its
    # own pixels only) is the paint, what is left around it is the light on the form.
    solid = (arr[..., 3] > figure.SHADOW_ALPHA).astype(np.float32)
    sigma = max(2.0, render.width / 60)
    paint = cv2.GaussianBlur(luma * solid, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(solid, (0, 0), sigma), 1e-3)
    shade = np.clip(0.78 + 1.1 * (luma - paint) + 0.15 * (luma - 0.5), 0.15, 1.15)
    clay = np.array([204, 196, 186], np.float32)[None, None] * shade[..., None]
    wire = (lines * 0.35)[..., None]
    clay = clay * (1 - wire) + np.float32([255, 150, 40]) * wire
    floor = (arr[..., 3] < figure.SHADOW_ALPHA) & (arr[..., :3].max(axis=2) < 10)  # the floor shadow stays black
    clay[floor] = 0
    return Image.fromarray(np.dstack([np.clip(clay, 0, 255).astype(np.uint8), arr[..., 3]]), "RGBA")


# ---- the box -------------------------------------------------------------------------------------------------------


def _box(canvas: Image.Image, shown: Image.Image, name: str, c: dict[str, Color], look: Look) -> None:
    """A printed collector's box standing on the desk, turned a little, front printed with the artwork and name."""
    x0, y0, x1, y1 = BOX
    fw, fh = x1 - x0, y1 - y0
    box_c, accent, ink = c["box"], c["accent"], c["ink"]
    footprint = Image.new("L", (fw + BOX_DEPTH + 1, BOX_LIFT + 1), 0)
    ImageDraw.Draw(footprint).polygon([(0, BOX_LIFT), (fw, BOX_LIFT), (fw + BOX_DEPTH, 0), (BOX_DEPTH, 0)], fill=255)
    paste_shadow(canvas, footprint, (x0, y1 - BOX_LIFT), blur=14, opacity=0.55, offset=(-8, 6))
    paste_shadow(canvas, Image.new("L", (fw, fh), 255), (x0, y0), blur=30, opacity=0.3, offset=(-40, 10))
    d = ImageDraw.Draw(canvas)
    d.polygon([(x1, y0), (x1 + BOX_DEPTH, y0 - BOX_LIFT), (x1 + BOX_DEPTH, y1 - BOX_LIFT), (x1, y1)],
              fill=mix(box_c, (0, 0, 0), 0.3))
    d.polygon([(x0, y0), (x0 + BOX_DEPTH, y0 - BOX_LIFT), (x1 + BOX_DEPTH, y0 - BOX_LIFT), (x1, y0)],
              fill=mix(box_c, (255, 255, 255), 0.3))
    front = _box_front((fw, fh), shown, name, box_c, accent, ink, look)
    canvas.paste(front, (x0, y0))
    # The side panel's vertical name.
    side = Image.new("RGBA", (fh - 40, BOX_DEPTH - 18), (0, 0, 0, 0))
    draw_fitted_text(side, (0, 0, side.width, side.height), display_caps(name), "luckiest-guy",
                     mix(accent, (0, 0, 0), 0.1))
    side = side.rotate(90, expand=True)
    coeffs = _shear_coeffs(side.size, BOX_LIFT / BOX_DEPTH)
    sheared = side.transform((side.width, side.height + BOX_LIFT), Image.Transform.AFFINE, coeffs,
                             Image.Resampling.BICUBIC)
    canvas.paste(sheared, (x1 + 9, y0 - BOX_LIFT + 20), sheared)
    # Light falls from the window on the right: the side is lit, the front edge catches a highlight.
    d.line([(x1, y0), (x1, y1)], fill=mix(box_c, (255, 255, 255), 0.55), width=2)


def _shear_coeffs(size: tuple[int, int], slope: float) -> tuple[float, ...]:
    return (1, 0, 0, slope, 1, -slope * size[0])


def _box_front(size: tuple[int, int], shown: Image.Image, name: str, box_c: Color, accent: Color, ink: Color,
               look: Look) -> Image.Image:
    fw, fh = size
    front = vertical_gradient(size, mix(box_c, (255, 255, 255), 0.12), mix(box_c, (0, 0, 0), 0.2)).convert("RGBA")
    d = ImageDraw.Draw(front)
    # Artwork panel: a sunburst behind the figure's portrait.
    ax0, ay0, ax1, ay1 = 16, 104, fw - 16, fh - 96
    aw, ah = ax1 - ax0, ay1 - ay0
    panel = _burst_panel((aw, ah), accent, mix(box_c, (255, 255, 255), 0.45)).convert("RGBA")
    art = figure.cropped(shown)
    art.thumbnail((int(aw * 0.92), int(ah * 0.96)), Image.Resampling.LANCZOS)
    paste_shadow(panel, art.getchannel("A"), ((aw - art.width) // 2, ah - art.height), blur=8, opacity=0.35,
                 offset=(8, 0))
    panel.alpha_composite(art, ((aw - art.width) // 2, ah - art.height))
    pmask = Image.new("L", (aw, ah), 0)
    ImageDraw.Draw(pmask).rounded_rectangle((0, 0, aw - 1, ah - 1), 18, fill=255)
    front.paste(panel, (ax0, ay0), pmask)
    d.rounded_rectangle((ax0, ay0, ax1, ay1), 18, outline=(255, 255, 255), width=4)
    name_h = int(min(82, 64 * look.params.name_scale))
    draw_fitted_text(front, (14, 14 + (82 - name_h) // 2, fw - 14, 14 + (82 + name_h) // 2), display_caps(name),
                     "luckiest-guy", (255, 255, 255), stroke=0.08, stroke_fill=ink, shadow=mix(ink, (0, 0, 0), 0.3))
    series = look.theme.package.get("series", "1/7 scale collectible figure")
    draw_fitted_text(front, (20, fh - 86, fw - 20, fh - 52), display_caps(series), "bebas-neue", (255, 255, 255))
    d.rounded_rectangle((20, fh - 46, 84, fh - 18), 6, fill=accent)
    draw_fitted_text(front, (22, fh - 44, 82, fh - 20), "1/7", "luckiest-guy", ink)
    draw_fitted_text(front, (94, fh - 44, fw - 20, fh - 20),
                     look.theme.package.get("tagline", "Limited edition · No. {seed}").replace(
                         "{seed}", f"{look.params.seed % 1000:03d}").upper(), "bebas-neue", accent)
    return front.convert("RGB")


@budget_cache(maxsize=16)
def _burst_panel(size: tuple[int, int], a: Color, b: Color) -> Image.Image:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.arctan2(yy - h * 0.45, xx - w * 0.5)
    stripes = cv2.GaussianBlur((np.sin(angle * 22) > 0).astype(np.float32), (0, 0), 0.8)[..., None]
    arr = np.array(a, np.float32) * (1 - stripes * 0.35) + np.array(b, np.float32) * stripes * 0.35
    d = np.sqrt(((xx - w * 0.5) / w) ** 2 + ((yy - h * 0.45) / h) ** 2)[..., None]
    return Image.fromarray(np.clip(arr * (1.08 - 0.5 * d), 0, 255).astype(np.uint8))


# ---- the figure on its clear base ----------------------------------------------------------------------------------


def _figure_on_base(canvas: Image.Image, shown: Image.Image) -> None:
    """The figure standing in the middle of the clear disc (its own shadow on the disc comes with the shot)."""
    cx, cy = BASE_C
    left, right = figure.width_of(shown)
    rx = max(BASE_RX, int((right - left) * 0.62))  # the disc always reaches past the figure's edges
    ry, t = int(rx * BASE_RY / BASE_RX), BASE_T
    disc = Image.new("L", (2 * rx + 40, 2 * ry + t + 40), 0)
    ImageDraw.Draw(disc).ellipse((20, 20 + t, 20 + 2 * rx, 20 + 2 * ry + t), fill=255)
    paste_shadow(canvas, disc, (cx - rx - 20, cy - ry - 20), blur=16, opacity=0.45, offset=(-18, 10))
    _acrylic(canvas, (cx, cy), rx, ry, t)
    fx, fy = cx - (left + right) // 2, cy + int(ry * 0.12) - figure.feet(shown)
    rgba = canvas.convert("RGBA")
    rgba.alpha_composite(shown, (fx, fy))
    canvas.paste(rgba.convert("RGB"))
    # The disc's front rim in front of the feet, so the figure stands *on* the acrylic.
    _acrylic_front_rim(canvas, (cx, cy), rx, ry, t)


def _acrylic(canvas: Image.Image, center: tuple[int, int], rx: int, ry: int, t: int) -> None:
    """A round clear acrylic disc: the desk seen through it, a little brighter and cooler, with a bright bevel."""
    cx, cy = center
    x0, y0, x1, y1 = cx - rx - 2, cy - ry - 2, cx + rx + 3, cy + ry + t + 3
    region = np.asarray(canvas.crop((x0, y0, x1, y1))).astype(np.float32)
    h, w = region.shape[:2]
    top = np.zeros((h, w), np.uint8)
    cv2.ellipse(top, (rx + 2, ry + 2), (rx, ry), 0, 0, 360, 255, -1, cv2.LINE_AA)
    body = top.copy()
    cv2.ellipse(body, (rx + 2, ry + 2 + t), (rx, ry), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.rectangle(body, (2, ry + 2), (2 * rx + 2, ry + 2 + t), 255, -1)
    side = cv2.subtract(body, top).astype(np.float32)[..., None] / 255
    topf = top.astype(np.float32)[..., None] / 255
    # Refraction: the desk through the disc, shifted a few pixels and blurred a touch.
    seen = cv2.GaussianBlur(np.roll(region, 3, axis=0), (0, 0), 1.2)
    tint = np.array([236, 246, 255], np.float32)
    through = seen + (tint - seen) * 0.16
    out = region * (1 - topf) + through * topf
    edge_light = np.linspace(1.0, 0.5, w, dtype=np.float32)[None, :, None]
    out = out * (1 - side) + (region * 0.55 + tint * 0.45 * edge_light) * side
    canvas.paste(Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), (x0, y0))
    d = ImageDraw.Draw(canvas, "RGBA")
    d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=(255, 255, 255, 200), width=2)
    d.arc((cx - rx + 10, cy - ry + 5, cx + rx - 10, cy + ry - 5), 195, 300, fill=(255, 255, 255, 150), width=3)
    d.arc((cx - rx + 24, cy - ry + 10, cx + rx - 24, cy + ry - 10), 20, 60, fill=(255, 255, 255, 110), width=2)


def _acrylic_front_rim(canvas: Image.Image, center: tuple[int, int], rx: int, ry: int, t: int) -> None:
    cx, cy = center
    d = ImageDraw.Draw(canvas, "RGBA")
    d.arc((cx - rx, cy - ry + t, cx + rx, cy + ry + t), 0, 180, fill=(255, 255, 255, 210), width=2)
    d.arc((cx - rx, cy - ry, cx + rx, cy + ry), 10, 170, fill=(255, 255, 255, 120), width=2)
    d.arc((cx - rx + 30, cy - ry + t // 2 + 2, cx + rx - 60, cy + ry + t // 2), 60, 110, fill=(255, 255, 255, 160),
          width=3)


# ---- props in front, and the light ---------------------------------------------------------------------------------


def _props_front(canvas: Image.Image) -> None:
    """The corner of a keyboard in the foreground, out of focus."""
    layer = _keyboard()
    canvas.paste(layer, (0, H - layer.height), layer)


@lru_cache(maxsize=1)
def _keyboard() -> Image.Image:
    layer = Image.new("RGBA", (340, 90), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    top = 34  # the keyboard's top edge, 968 px down the picture
    d.rounded_rectangle((-40, top, 300, top + 140), 18, fill=(40, 42, 48, 255))
    for row in range(2):
        for col in range(9):
            x, y = -30 + col * 36 + (row % 2) * 10, top + 12 + row * 36
            d.rounded_rectangle((x, y, x + 30, y + 30), 5, fill=(62, 64, 72, 255))
    return layer.filter(ImageFilter.GaussianBlur(5))


def _light(canvas: Image.Image, seed: int) -> Image.Image:
    """Soft product light: a warm key from the window, a gentle bloom, a vignette."""
    arr = cv2.multiply(np.asarray(canvas), _key_light(seed % 3), scale=1 / 255)
    small = cv2.resize(arr, (W // 8, H // 8), interpolation=cv2.INTER_AREA)
    bloom = cv2.GaussianBlur(cv2.subtract(small, np.full_like(small, 200)), (0, 0), 3)
    arr = cv2.add(arr, cv2.resize(cv2.multiply(bloom, np.full_like(bloom, 128), scale=1 / 255), (W, H)))
    return Image.fromarray(arr)


@budget_cache(maxsize=3)
def _key_light(variant: int) -> np.ndarray:
    """The light over the scene as a per-pixel, per-channel gain (uint8, 255 = unchanged, warm tint included)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) / W
    lx = (0.85, 0.7, 0.95)[variant]
    light = 0.82 + 0.3 * np.exp(-(((xx - lx) / 0.7) ** 2 + ((yy - 0.15) / 0.9) ** 2))
    corner = np.sqrt((xx - 0.5) ** 2 + (yy - 0.5) ** 2)
    gain = light * (1 - 0.35 * np.clip(corner - 0.35, 0, 1) ** 1.5 * 2)
    tint = np.array([1.02, 1.0, 0.97], np.float32)
    return np.clip(gain[..., None] * tint * 255 / 1.06, 0, 255).astype(np.uint8)
