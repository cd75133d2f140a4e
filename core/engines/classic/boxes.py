"""Packaged looks: the collectible figurine in its toy box, and the action figure in its blister pack.

The printed packaging depends only on the palette, so it is drawn once per palette and reused; each render adds the
person, the name and the per-edition details (badge, number, barcode).
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import accessories, figure
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import (
    Color,
    display_caps,
    draw_fitted_text,
    font,
    hex_color,
    mix,
    paste_shadow,
    radial_gradient,
    rounded_mask,
    soft_mask,
    vertical_gradient,
)
from minime.core.memo import budget_cache

W, H = 1024, 1280
BADGES = ("NEW!", "RARE!", "HOT!", "WOW!", "1ST ED.")
RAYS = (24, 18, 30, 36)


def _key(look: Look) -> tuple:
    """A hashable palette + package description for the caches."""
    return tuple(sorted(look.palette.items())), tuple(sorted((k, str(v)) for k, v in look.theme.package.items()))


def _colors(key: tuple) -> dict:
    return {k: hex_color(v) for k, v in key[0]}


def _backdrop(wall: Color) -> Image.Image:
    """A soft photo-studio backdrop."""
    return radial_gradient((W, H), mix(wall, (255, 255, 255), 0.35), mix(wall, (40, 40, 50), 0.35),
                           center=(0.5, 0.4), radius=0.95)


@budget_cache(maxsize=32)
def _burst(size: tuple[int, int], center: tuple[float, float], color_a: Color, color_b: Color, rays: int
           ) -> Image.Image:
    """Sun-ray stripes, the classic toy-packaging background."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = np.arctan2(yy - center[1] * h, xx - center[0] * w)
    stripes = cv2.GaussianBlur((np.sin(angle * rays) > 0).astype(np.float32), (0, 0), 0.8)[..., None]
    arr = np.array(color_a, np.float32) * (1 - stripes) + np.array(color_b, np.float32) * stripes
    d = np.sqrt((xx / w - center[0]) ** 2 + (yy / h - center[1]) ** 2)[..., None]
    return Image.fromarray((arr * (1 - 0.35 * np.clip(d * 1.4, 0, 1))).astype(np.uint8), "RGB")


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r_out: float, r_in: float, points: int, fill: Color,
          outline_color: Color | None = None, rotation: float = 0.0) -> None:
    pts = []
    for i in range(points * 2):
        r = r_out if i % 2 == 0 else r_in
        a = math.pi * i / points + rotation
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(pts, fill=fill, outline=outline_color)
    if outline_color:
        draw.line(pts + [pts[0]], fill=outline_color, width=4, joint="curve")


@budget_cache(maxsize=8)
def _plastic_glare(size: tuple[int, int], strength: float = 1.0) -> Image.Image:
    """Reflections on a clear plastic window: diagonal streaks, a top glare and a bright edge (L, to add as white)."""
    w, h = size
    glare = Image.new("L", size, 0)
    d = ImageDraw.Draw(glare)
    x = w * 0.12
    for width, alpha in ((w * 0.16, 70), (w * 0.05, 95), (w * 0.09, 45)):
        d.polygon([(x, 0), (x + width, 0), (x + width - h * 0.45, h), (x - h * 0.45, h)], fill=int(alpha * strength))
        x += width + w * 0.1
    streaks = soft_mask(np.asarray(glare), 6).astype(np.int16)
    top = (np.linspace(70, 0, h, dtype=np.float32)[:, None] * strength).astype(np.int16)
    edge = Image.new("L", size, 0)
    ImageDraw.Draw(edge).rounded_rectangle((3, 3, w - 4, h - 4), 36, outline=int(150 * strength), width=5)
    rim = cv2.GaussianBlur(np.asarray(edge), (0, 0), 2.5).astype(np.int16)
    return Image.fromarray(np.clip(streaks + top + rim, 0, 255).astype(np.uint8))


def _add_white(img: Image.Image, mask: Image.Image, xy: tuple[int, int] = (0, 0)) -> None:
    img.paste((255, 255, 255), (*xy, xy[0] + mask.width, xy[1] + mask.height), mask)


# ---- figurine -----------------------------------------------------------------------------------------------------

FRONT = (150, 110, 830, 1180)
DEPTH, LIFT, HEADER_H = 80, 46, 230
WINDOW = (FRONT[0] + 45, FRONT[1] + HEADER_H + 28, FRONT[2] - 45, FRONT[3] - 150)


@budget_cache(maxsize=16)
def _toy_box(key: tuple) -> Image.Image:
    """The printed, empty toy box on its backdrop: everything that depends only on the palette."""
    c, package = _colors(key), dict(key[1])
    box_c, accent, ink = c.get("box", (232, 51, 109)), c.get("accent", (255, 210, 63)), c.get("ink", (29, 19, 64))
    fx0, fy0, fx1, fy1 = FRONT
    canvas = _backdrop(c.get("backdrop", (233, 228, 238)))
    box_alpha = Image.new("L", (W, H), 0)
    ImageDraw.Draw(box_alpha).polygon([(fx0, fy0), (fx0 + DEPTH, fy0 - LIFT), (fx1 + DEPTH, fy0 - LIFT),
                                       (fx1 + DEPTH, fy1 - LIFT), (fx1, fy1), (fx0, fy1)], fill=255)
    paste_shadow(canvas, box_alpha, (0, 0), blur=28, opacity=0.45, offset=(28, 26))
    draw = ImageDraw.Draw(canvas)
    draw.polygon([(fx1, fy0), (fx1 + DEPTH, fy0 - LIFT), (fx1 + DEPTH, fy1 - LIFT), (fx1, fy1)],
                 fill=mix(box_c, (0, 0, 0), 0.38))
    draw.polygon([(fx0, fy0), (fx0 + DEPTH, fy0 - LIFT), (fx1 + DEPTH, fy0 - LIFT), (fx1, fy0)],
                 fill=mix(box_c, (255, 255, 255), 0.25))
    fw, fh = fx1 - fx0, fy1 - fy0
    canvas.paste(vertical_gradient((fw, fh), mix(box_c, (255, 255, 255), 0.12), mix(box_c, (0, 0, 0), 0.22)),
                 (fx0, fy0))
    canvas.paste(vertical_gradient((fw, HEADER_H), mix(box_c, (0, 0, 0), 0.15), mix(box_c, (0, 0, 0), 0.32)),
                 (fx0, fy0))
    draw.rectangle((fx0, fy0 + HEADER_H - 10, fx1, fy0 + HEADER_H), fill=accent)
    draw_fitted_text(canvas, (fx0 + 40, fy0 + 14, fx1 - 40, fy0 + 52), package.get("series", "COLLECTOR SERIES"),
                     "bebas-neue", accent)
    # The window frame (the plastic's edge), the box's bottom band and the cardboard edge.
    wx0, wy0, wx1, wy1 = WINDOW
    draw.rounded_rectangle((wx0 - 12, wy0 - 12, wx1 + 11, wy1 + 11), 46, fill=mix(box_c, (255, 255, 255), 0.55))
    by0 = fy1 - 130
    draw_fitted_text(canvas, (fx0 + 130, by0 + 8, fx1 - 130, by0 + 70), package.get("tagline", "").upper(),
                     "bebas-neue", (255, 255, 255), shadow=mix(box_c, (0, 0, 0), 0.5))
    draw.ellipse((fx0 + 22, by0 + 12, fx0 + 112, by0 + 102), fill=accent, outline=ink, width=4)
    draw_fitted_text(canvas, (fx0 + 34, by0 + 30, fx0 + 100, by0 + 84), package.get("age", "AGES 3+"),
                     "bebas-neue", ink)
    draw.rectangle((fx0, fy0, fx1, fy1), outline=mix(box_c, (0, 0, 0), 0.45), width=2)
    sheen = Image.new("L", (W, H), 0)
    ImageDraw.Draw(sheen).polygon([(fx0, fy0), (fx0 + 200, fy0), (fx0 + 20, fy1), (fx0, fy1)], fill=26)
    _add_white(canvas, Image.fromarray(soft_mask(np.asarray(sheen), 30)))
    return canvas


@budget_cache(maxsize=16)
def _window_backing(key: tuple, rays: int, pattern: int) -> Image.Image:
    """The printed card inside the window (sun rays, dots or a spotlight, by edition) with a floor shadow (RGB)."""
    c = _colors(key)
    ww, wh = WINDOW[2] - WINDOW[0], WINDOW[3] - WINDOW[1]
    inner, accent = c.get("inner", (255, 233, 241)), c.get("accent", (255, 210, 63))
    if pattern == 0:
        inside = _burst((ww, wh), (0.5, 0.42), inner, mix(inner, accent, 0.35), rays).copy()
    elif pattern == 1:
        inside = radial_gradient((ww, wh), mix(inner, (255, 255, 255), 0.5), mix(inner, accent, 0.45),
                                 center=(0.5, 0.35), radius=0.9)
        d = ImageDraw.Draw(inside)
        step = 34
        for y in range(0, wh + step, step):
            for x in range((y // step % 2) * step // 2, ww + step, step):
                r = 4 + 5 * (y / wh)
                d.ellipse((x - r, y - r, x + r, y + r), fill=mix(inner, accent, 0.3))
    else:
        inside = radial_gradient((ww, wh), mix(inner, (255, 255, 255), 0.7), mix(inner, (40, 30, 60), 0.35),
                                 center=(0.5, 0.45), radius=0.8)
    # The box's floor, a little darker towards the back (the figure brings its own contact and cast shadows).
    floor = Image.new("L", (ww, wh), 0)
    ImageDraw.Draw(floor).rectangle((0, int(wh * 0.9), ww, wh), fill=40)
    inside.paste((0, 0, 0), (0, 0), Image.fromarray(soft_mask(np.asarray(floor), 18)))
    return inside


@budget_cache(maxsize=4)
def _window_rim(size: tuple[int, int]) -> Image.Image:
    rim = Image.new("L", size, 0)
    ImageDraw.Draw(rim).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), 36, outline=255, width=22)
    return Image.fromarray((soft_mask(np.asarray(rim), 14) * 0.45).astype(np.uint8))


def figurine(look: Look) -> Image.Image:
    """A glossy collectible figure in a printed toy box with a window and the name typeset large."""
    key = _key(look)
    c = _colors(key)
    accent, ink = c.get("accent", (255, 210, 63)), c.get("ink", (29, 19, 64))
    seed = look.params.seed
    canvas = _toy_box(key).copy()
    fx0, fy0, fx1, fy1 = FRONT
    name = look.name(look.theme.package.get("default_name", "MINI ME"))
    # The name band: 58..214 below the box top; "bigger/smaller name" scale the letters (two lines if that is
    # much larger, e.g. a long name).
    name_h = int(np.clip(104 * look.params.name_scale, 40, 156))
    name_box = (fx0 + 30, fy0 + 136 - name_h // 2, fx1 - 30, fy0 + 136 + name_h // 2)
    draw_fitted_text(canvas, name_box, display_caps(name), "luckiest-guy", (255, 255, 255), stroke=0.07,
                     stroke_fill=ink, shadow=mix(ink, (0, 0, 0), 0.3), max_lines=2)
    look.progress(0.4)

    # The window: backing card, the figure standing on its base (most of the window's height) with its shadow, a
    # name plaque, the inner shadow and the plastic's glare. The edition (seed) picks the backing, the camera's angle
    # and the light. A photo that cannot give a figure is printed on the card inside the window instead.
    wx0, wy0, wx1, wy1 = WINDOW
    ww, wh = wx1 - wx0, wy1 - wy0
    toy = figure.model(look)
    yaw, light = figure.camera(seed)
    if toy is None:
        inside = Image.fromarray(look.frame((ww, wh))).convert("RGBA")
    else:
        inside = _window_backing(key, RAYS[seed % len(RAYS)], (seed // 2) % 3).convert("RGBA")
        # As tall as the window allows (a collectible's box is filled by it): the camera frames the figure in 90 %
        # of the height asked, so this asks a little more than the window.
        shown = figure.shot(toy, ww, int(wh * 1.04), yaw=yaw, light=light)
        look.progress(0.7)
        # A set (as wide as the window, so less tall) stands a little above the window's middle, not at its foot.
        fig_x, fig_y = (ww - shown.width) // 2, min(int(wh * 0.975) - shown.height, int((wh - shown.height) * 0.62))
        paste_shadow(inside, shown.getchannel("A"), (fig_x, fig_y), blur=24, opacity=0.12, offset=(0, -6))
        inside.alpha_composite(shown, (fig_x, fig_y))
        left, right = figure.width_of(shown)
        # The name plate on the plinth's front face (its lowest few percent of the shot).
        plate_y = fig_y + figure.feet(shown) - int(0.028 * shown.height)
        _label_plate(inside, (ww // 2, min(wh - 22, plate_y)), int(min(right - left, ww * 0.6)), name, accent, ink)
    inner = inside.convert("RGB")
    inner.paste((0, 0, 0), (0, 0), _window_rim((ww, wh)))
    _add_white(inner, _plastic_glare((ww, wh)))
    canvas.paste(inner, (wx0, wy0), rounded_mask((ww, wh), 36))

    # Per-edition print: number, barcode and the starburst badge.
    by0 = fy1 - 130
    edition = look.theme.package.get("edition", "No. {seed}").replace("{seed}", f"{seed % 1000:03d}")
    draw_fitted_text(canvas, (fx0 + 130, by0 + 74, fx1 - 130, by0 + 108), edition.upper(), "bebas-neue", accent)
    _barcode(canvas, (fx1 - 110, by0 + 20, fx1 - 22, by0 + 100), look.rng)
    badge = look.theme.package.get("badge", "NEW!") if seed % len(BADGES) == 0 else BADGES[seed % len(BADGES)]
    bx, by = fx1 - 70, wy0 + 10
    _star(ImageDraw.Draw(canvas), bx, by, 74, 56, 16, accent, ink, rotation=(seed % 7) * 0.05)
    badge_layer = Image.new("RGBA", (120, 70), (0, 0, 0, 0))
    draw_fitted_text(badge_layer, (4, 4, 116, 66), badge, "luckiest-guy", ink)
    badge_layer = badge_layer.rotate(14, expand=True, resample=Image.Resampling.BICUBIC)
    canvas.paste(badge_layer, (int(bx - badge_layer.width / 2), int(by - badge_layer.height / 2)), badge_layer)
    return canvas


def _label_plate(img: Image.Image, center: tuple[int, int], stand_w: int, name: str, accent: Color,
                 ink: Color) -> None:
    """A small name plaque on the front of the stand."""
    pw, ph = int(stand_w * 0.5), max(22, int(stand_w * 0.075))
    plate = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle((0, 0, pw - 1, ph - 1), ph // 3, fill=(*accent, 255),
                                            outline=(*ink, 255), width=2)
    draw_fitted_text(plate, (8, 3, pw - 8, ph - 3), display_caps(name), "bebas-neue", ink)
    img.alpha_composite(plate, (center[0] - pw // 2, center[1] - ph // 2))


def _barcode(img: Image.Image, box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(img)
    draw.rectangle(box, fill=(255, 255, 255))
    x = x0 + 6
    while x < x1 - 8:
        width = int(rng.integers(1, 4))
        draw.rectangle((x, y0 + 6, x + width - 1, y1 - 18), fill=(10, 10, 10))
        x += width + int(rng.integers(1, 4))
    draw.text(((x0 + x1) / 2, y1 - 9), "".join(str(int(d)) for d in rng.integers(0, 10, 10)),
              font=font("DejaVuSansMono-Bold", 11), fill=(10, 10, 10), anchor="mm")


# ---- action figure ------------------------------------------------------------------------------------------------

CARD = (92, 40, 932, 1236)
CW, CH = CARD[2] - CARD[0], CARD[3] - CARD[1]
HOLE = (CW // 2 - 70, 34, CW // 2 + 70, 74)
BLISTER = (40, 350, CW - 40, CH - 120)
FIG_W = int((BLISTER[2] - BLISTER[0]) * 0.64)
# A set of figures gets a wider window (the accessory column narrower) so it can stand as tall as one figure does.
SET_FIG_W = {2: int((BLISTER[2] - BLISTER[0]) * 0.75), 3: int((BLISTER[2] - BLISTER[0]) * 0.75)}


def _figure_width(people: int) -> int:
    """The width of the blister's figure window for ``people`` figures."""
    return SET_FIG_W.get(min(people, 3), FIG_W)


@lru_cache(maxsize=16)
def _card_mask() -> Image.Image:
    mask = rounded_mask((CW, CH), 34)
    d = ImageDraw.Draw(mask)
    d.rounded_rectangle(HOLE, 20, fill=0)  # the euro hang hole cut through the card
    d.ellipse((CW // 2 - 20, 30, CW // 2 + 20, 70), fill=0)
    return mask


@budget_cache(maxsize=16)
def _blister_card(key: tuple, items: tuple[str, ...], fig_w: int = FIG_W) -> tuple[Image.Image, Image.Image]:
    """The printed card with its empty blister and accessories, and the backdrop behind it with its shadow."""
    c, package = _colors(key), dict(key[1])
    card_c, accent, ink = c.get("card", (30, 94, 255)), c.get("accent", (255, 204, 0)), c.get("ink", (12, 16, 51))
    backdrop = _backdrop(c.get("backdrop", (230, 230, 236)))
    paste_shadow(backdrop, _card_mask(), CARD[:2], blur=24, opacity=0.5, offset=(22, 24))
    card = _burst((CW, CH), (0.5, 0.55), card_c, mix(card_c, (255, 255, 255), 0.18), 30).copy()
    d = ImageDraw.Draw(card)
    for i in range(6):  # speed stripes
        y = CH - 60 - i * 18
        d.polygon([(0, y), (CW, y - 120), (CW, y - 110), (0, y + 10)], fill=mix(card_c, accent, 0.25 + i * 0.05))
    d.rounded_rectangle((26, 96, CW - 26, 276), 26, fill=mix(card_c, (0, 0, 0), 0.35))
    ribbon = (CW // 2 - 250, 262, CW // 2 + 250, 318)
    d.polygon([(ribbon[0] - 30, ribbon[1]), (ribbon[2] + 30, ribbon[1]), (ribbon[2] + 10, ribbon[3]),
               (ribbon[0] - 10, ribbon[3])], fill=accent)
    draw_fitted_text(card, (ribbon[0], ribbon[1] + 6, ribbon[2], ribbon[3] - 4),
                     package.get("subtitle", "Action Figure").upper(), "bebas-neue", ink)
    # The blister's moulded tray: a recess for the figure and one slot per accessory.
    bx0, by0, bx1, by1 = BLISTER
    bw, bh = bx1 - bx0, by1 - by0
    tray = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    recess = Image.new("L", (bw, bh), 0)
    ImageDraw.Draw(recess).rounded_rectangle((12, 12, fig_w - 4, bh - 12), 40, fill=90)
    tray.paste((0, 0, 0, 255), (0, 0), Image.fromarray(soft_mask(np.asarray(recess), 10)))
    slot_x0, slot_w = fig_w + 14, bw - fig_w - 30
    slot_h = (bh - 40 - 20 * (len(items) - 1)) // max(1, len(items))
    for i, item in enumerate(items):
        sy = 20 + i * (slot_h + 20)
        slot = rounded_mask((slot_w, slot_h), 28)
        tray.paste((*mix(card_c, (255, 255, 255), 0.7), 255), (slot_x0, sy), slot)
        ring = Image.new("L", (slot_w, slot_h), 0)
        ImageDraw.Draw(ring).rounded_rectangle((0, 0, slot_w - 1, slot_h - 1), 28, outline=200, width=14)
        shade = np.minimum(soft_mask(np.asarray(ring), 8) * 0.5, np.asarray(slot)).astype(np.uint8)
        tray.paste((0, 0, 0, 255), (slot_x0, sy), Image.fromarray(shade))
        label_h = max(22, int(slot_h * 0.2))
        drawing = accessories.draw(item, (int(slot_w * 0.72), int((slot_h - label_h) * 0.82)), accent, ink)
        tray.alpha_composite(drawing, (slot_x0 + (slot_w - drawing.width) // 2,
                                       sy + (slot_h - label_h - drawing.height) // 2 + 4))
        draw_fitted_text(tray, (slot_x0 + 14, sy + slot_h - label_h - 8, slot_x0 + slot_w - 14, sy + slot_h - 8),
                         display_caps(item), "bebas-neue", ink)
    card_rgba = card.convert("RGBA")
    paste_shadow(card_rgba, rounded_mask((bw, bh), 48), (bx0, by0), blur=16, opacity=0.45, offset=(10, 14))
    card_rgba.alpha_composite(tray, (bx0, by0))
    # Footer: line, age badge and small print.
    foot_y = CH - 104
    draw_fitted_text(card_rgba, (60, foot_y + 4, CW - 300, foot_y + 52),
                     package.get("footer", "Accessories included").upper(), "bebas-neue", (255, 255, 255),
                     shadow=(0, 0, 0))
    d = ImageDraw.Draw(card_rgba)
    d.rounded_rectangle((CW - 250, foot_y + 4, CW - 50, foot_y + 58), 12, fill=(*accent, 255), outline=(*ink, 255),
                        width=3)
    draw_fitted_text(card_rgba, (CW - 240, foot_y + 12, CW - 60, foot_y + 52), package.get("age", "AGES 4+"),
                     "bebas-neue", ink)
    draw_fitted_text(card_rgba, (60, foot_y + 58, CW - 60, foot_y + 86), package.get("warning", ""), "bebas-neue",
                     mix(card_c, (255, 255, 255), 0.7))
    return card_rgba, backdrop


MAX_ACCESSORIES = 4


def _default_accessories(look: Look) -> list[str]:
    """Three of the theme's accessories, a different pick and order per edition (seed)."""
    pool = list(look.theme.package.get("accessories", ["phone", "mug", "sunglasses"]))
    look.rng.shuffle(pool)
    return pool[:3]


def action_figure(look: Look) -> Image.Image:
    """An action figure on a printed card in a clear blister, with a hang tab and accessory slots."""
    key = _key(look)
    c = _colors(key)
    card_c, accent, ink = c.get("card", (30, 94, 255)), c.get("accent", (255, 204, 0)), c.get("ink", (12, 16, 51))
    items = list(look.params.things[:MAX_ACCESSORIES]) or _default_accessories(look)
    fig_w = _figure_width(len(look.subject.faces))
    card_template, backdrop = _blister_card(key, tuple(items), fig_w)
    card = card_template.copy()
    name = look.name(look.theme.package.get("default_name", "MINI ME"))
    name_h = int(np.clip(110 * look.params.name_scale, 40, 166))
    draw_fitted_text(card, (50, 186 - name_h // 2, CW - 50, 186 + name_h // 2), display_caps(name), "luckiest-guy",
                     accent, stroke=0.07, stroke_fill=ink, shadow=(0, 0, 0), max_lines=2)
    look.progress(0.4)
    bx0, by0, bx1, by1 = BLISTER
    bw, bh = bx1 - bx0, by1 - by0
    # The figure in an action pose in its tray (the edition picks the accessories, the camera's angle and the
    # light); a photo that cannot give a figure is shown as a print in the tray.
    toy = figure.model(look, pose="action")
    yaw, light = figure.camera(look.params.seed)
    if toy is None:  # no figure to be had: the photo printed on the card in the figure's tray
        pw, ph = fig_w - 40, bh - 40
        shown = Image.fromarray(look.frame((pw, ph))).convert("RGBA")
        shown.putalpha(rounded_mask((pw, ph), 32))
    else:
        shown = figure.shot(toy, fig_w - 24, int(bh * 1.02), yaw=yaw, light=light)  # fills the tray
    look.progress(0.7)
    fx, fy = (fig_w - shown.width) // 2 + 6 + bx0, int(bh * 0.975) - shown.height + by0
    paste_shadow(card, shown.getchannel("A"), (fx, fy), blur=14, opacity=0.3, offset=(0, -4))
    card.alpha_composite(shown, (fx, fy))
    glare = np.minimum(np.asarray(_plastic_glare((bw, bh), 1.15)), np.asarray(rounded_mask((bw, bh), 48)))
    # Shot the way a product photographer would: the reflections fall mostly beside the figure, not across its face.
    behind = Image.new("L", (bw, bh), 0)
    behind.paste(shown.getchannel("A"), (fx - bx0, fy - by0))
    small = cv2.resize(np.asarray(behind), (bw // 4, bh // 4), interpolation=cv2.INTER_AREA)
    behind = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (bw, bh), interpolation=cv2.INTER_LINEAR)
    glare = (glare * (1 - 0.65 / 255 * behind.astype(np.float32))).astype(np.uint8)
    card.paste((255, 255, 255, 255), (bx0, by0), Image.fromarray(glare))
    canvas = backdrop.copy()
    canvas.paste(card.convert("RGB"), CARD[:2], _card_mask())
    ImageDraw.Draw(canvas).rounded_rectangle((CARD[0] + HOLE[0], CARD[1] + HOLE[1], CARD[0] + HOLE[2],
                                              CARD[1] + HOLE[3]), 20, outline=mix(card_c, (0, 0, 0), 0.5), width=3)
    return canvas
