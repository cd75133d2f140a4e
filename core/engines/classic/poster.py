"""Posters: the hand-painted 90s Bollywood film poster with the name as the title, and the comic-book panel with a
speech bubble, halftone shadows and a sound effect."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import tiers
from minime.core.engines.classic.cutout import cel_shade, ink_lines, name_and_things, person_and_faces
from minime.core.engines.classic.faceart import face_art, inked, smoothed
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import (
    Color,
    crop_cover_array,
    display_caps,
    draw_fitted_text,
    hex_color,
    mix,
    resize,
)
from minime.core.memo import budget_cache

W, H = 1024, 1280
TAGLINES = ("A STORY OF LOVE AND DESTINY", "ONE HEART. ONE DESTINY.", "THE SUPERHIT OF THE YEAR",
            "LOVE. DRAMA. MUSIC.")
EFFECTS = ("POW!", "WOW!", "BAM!", "ZAP!")
COMIC_COLOURS = (None, ((77, 214, 255), (255, 60, 140)), ((255, 120, 190), (255, 214, 10)),
                 ((150, 235, 90), (255, 90, 40)))  # (speed-line background, sound-effect burst) per edition


SKIES = (None, ((10, 30, 80), (255, 170, 60)), ((60, 10, 20), (255, 90, 60)))  # (top, bottom) per edition


def film_poster(look: Look) -> Image.Image:
    """A painted 90s film poster: dramatic sky, the hero's face large in the sky beside them, the hero whole below,
    a golden title."""
    name, things = name_and_things(look, look.theme.package.get("default_name", "MINI ME"))
    seed = look.params.seed
    sky = SKIES[seed % len(SKIES)]
    top, bottom = sky or (hex_color(look.palette.get(k, d)) for k, d in (("sky_top", "#3a0a4a"),
                                                                          ("sky_bottom", "#ff7b2e")))
    side = 1 if seed // len(SKIES) % 2 else -1  # the edition: the big face on the left (-1) or the right
    canvas = Image.fromarray(_sky(top, bottom, side)).convert("RGBA")
    look.progress(0.2)
    if look.person_found:
        group = len(look.faces) > 1
        # The face large in the sky, painted in the sky's own colours (a poster's montage, not a copy of the hero),
        # on one side; the hero whole below on the other (a group stands as a wide row, the faces above it).
        cut, faces = person_and_faces(look, 340 if not group else 490, 310, box=look.people_box(below=0.4, side=0.5,
                                                                                                above=0.6))
        face = _sky_tinted(_painted(cut, faces), top, bottom)
        face = resize(face, (int(face.width * 1.7), int(face.height * 1.7)))
        fade = np.clip(np.linspace(1.3, 0.0, face.height, dtype=np.float32), 0, 0.92)[:, None]
        face.putalpha(Image.fromarray((np.asarray(face.getchannel("A")) * fade).astype(np.uint8)))
        fx = (W - face.width) // 2 if group else int(W / 2 + side * W * 0.22 - face.width / 2)
        canvas.alpha_composite(face, (min(max(0, fx), W - face.width), 30))
        cut, faces = person_and_faces(look, 980 if group else 700, 800 if group else 760,
                                      box=look.people_box(below=3.2, side=1.8, above=0.6), fade_bottom=False)
        hero = _painted(cut, faces)
        hx = (W - hero.width) // 2 if group else int(W / 2 - side * W * 0.12 - hero.width / 2)
        canvas.alpha_composite(hero, (min(max(0, hx), W - hero.width), 1010 - hero.height))
    else:
        scene = _painted(Image.fromarray(crop_cover_array(look.source, (860, 700))).convert("RGBA"), [])
        canvas.alpha_composite(scene, (82, 200))
    look.progress(0.6)
    d = ImageDraw.Draw(canvas)
    d.rectangle((0, 960, W, H), fill=(20, 8, 16, 255))
    gold = (255, 206, 60)
    title = display_caps(name)
    title_h = int(min(190, 150 * look.params.name_scale))
    # The title: extruded gold letters with a dark red edge, as painted on the hoardings.
    for k in range(10, 0, -2):
        draw_fitted_text(canvas, (50 + k, 900 + k, W - 50 + k, 900 + title_h + k), title, "luckiest-guy",
                         mix((150, 20, 20), (40, 0, 0), k / 10))
    draw_fitted_text(canvas, (50, 900, W - 50, 900 + title_h), title, "luckiest-guy", gold, stroke=0.05,
                     stroke_fill=(120, 20, 10))
    tagline = things[0].upper() if things else TAGLINES[seed % len(TAGLINES)]
    draw_fitted_text(canvas, (80, 1112, W - 80, 1160), tagline, "bebas-neue", (255, 240, 220))
    credits = "STARRING " + title + " · MUSIC BY THE DREAM ORCHESTRA · IN CINEMAS FRIDAY"
    draw_fitted_text(canvas, (60, 1180, W - 60, 1214), credits, "bebas-neue", (210, 180, 160))
    draw_fitted_text(canvas, (60, 1226, W - 60, 1256), "EASTMANCOLOUR · 70MM · DOLBY STEREO", "bebas-neue",
                     (160, 130, 120))
    # Worn paper and grain, in 8 bits (saturating OpenCV passes instead of float ones).
    lighter, darker = _grain(3)
    out = cv2.multiply(np.asarray(canvas.convert("RGB")), _worn(seed % 3), scale=1 / 200)
    return Image.fromarray(cv2.subtract(cv2.add(out, lighter), darker))


def _painted(art: Image.Image, faces: list[tuple[float, float, float, float]]) -> Image.Image:
    """Hand-painted: flat strokes, warm saturated skin, smooth painted faces with their features drawn in soft
    brown (faceart.py), painted highlights."""
    arr = np.asarray(art).copy()
    rgb = np.ascontiguousarray(arr[..., :3])
    drawn = face_art(rgb, faces)
    clean = smoothed(rgb, drawn)
    painted = cv2.addWeighted(cel_shade(clean, levels=8), 0.7, clean, 0.3, 0)
    if drawn.found:
        ink = drawn.lines * 0.7
        painted = cv2.blendLinear(painted, np.full_like(painted, (70, 30, 25)), 1 - ink, ink)
    arr[..., :3] = cv2.LUT(painted, _WARM)
    return Image.fromarray(arr, "RGBA")


def _sky_tinted(art: Image.Image, top: Color, bottom: Color) -> Image.Image:
    """The painting turned towards the sky's two colours (its shadows to the top colour, its lights to a pale bottom
    colour), a little of its own colour kept."""
    arr = np.asarray(art).copy()
    luma = cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    dark, light = np.array(mix(top, (0, 0, 0), 0.3), np.float32), np.array(mix(bottom, (255, 255, 255), 0.45),
                                                                           np.float32)
    tinted = dark * (1 - luma) + light * luma
    arr[..., :3] = np.clip(tinted * 0.4 + arr[..., :3].astype(np.float32) * 0.6, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


@budget_cache(maxsize=8)
def _sky(top: Color, bottom: Color, side: int = 0) -> np.ndarray:
    """The sky: a gradient and sun rays from behind the hero (``side``: -1 left of centre, 1 right)."""
    t = np.linspace(0, 1, H, dtype=np.float32)[:, None, None] ** 0.8
    arr = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    arr = np.broadcast_to(arr, (H, W, 3)).copy()
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    angle = np.arctan2(yy - H * 0.75, xx - W * (0.5 - 0.12 * side))
    rays = (np.sin(angle * 28) > 0.3).astype(np.float32) * np.clip(1 - np.abs(yy - H * 0.75) / H, 0, 1)
    arr = arr + cv2.GaussianBlur(rays, (0, 0), 3)[..., None] * 40
    return np.clip(arr, 0, 255).astype(np.uint8)


_WARM = np.clip(np.arange(256, dtype=np.float32)[:, None] * np.array([1.08, 1.0, 0.9], np.float32) + 6, 0, 255
                ).astype(np.uint8)[:, None, :]  # warm painted skin, one table per channel


@budget_cache(maxsize=3)
def _worn(variant: int) -> np.ndarray:
    """Paper that has hung outside: lighter creases and darker edges (a multiplier for three channels; 200 = 1.0)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    edge = np.clip(np.minimum.reduce([xx, yy, W - xx, H - yy]) / 60, 0, 1) * 0.18 + 0.82
    crease = 1 + 0.05 * np.exp(-((xx - W * (0.48 + 0.03 * variant)) / 3) ** 2) + 0.04 * np.exp(
        -((yy - H * 0.5) / 3) ** 2)
    return cv2.merge([np.clip(edge * crease * 200, 0, 255).astype(np.uint8)] * 3)


@budget_cache(maxsize=2)
def _grain(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Film grain (σ 10 levels) as what it adds and what it takes away, for three channels."""
    grain = np.random.default_rng(seed).normal(0, 10, (H, W)).astype(np.float32)
    return (cv2.merge([np.clip(grain, 0, 255).astype(np.uint8)] * 3),
            cv2.merge([np.clip(-grain, 0, 255).astype(np.uint8)] * 3))


# ---- comic-book panel ----------------------------------------------------------------------------------------------


def comic_panel(look: Look) -> Image.Image:
    """A comic-book panel: inked and flat-coloured, halftone dots in the shadows, speed lines, a speech bubble."""
    name, things = name_and_things(look)
    seed = look.params.seed
    # The edition picks the panel's colours (the theme's own first).
    accent, burst = ((hex_color(look.palette.get("accent", "#ffd60a")), hex_color(look.palette.get("burst", "#ff3b30")))
                     if seed % len(COMIC_COLOURS) == 0 else COMIC_COLOURS[seed % len(COMIC_COLOURS)])
    # A group too wide for the portrait panel is cut out and rearranged to fill it (see ``tiers``), the bubble above.
    group = tiers.arrange(look, (W, H), 300, H - 50) if look.person_found and not look.fits((W, H)) else None
    # (``frame``: the edition also picks a closer or wider shot, framed further left or right.)
    photo = group.rgb if group else look.frame((W, H))
    faces = group.faces if group else look.faces_in((W, H), look.frame_window((W, H)))
    drawn = face_art(photo, faces, line_scale=1.6)
    clean = smoothed(photo, drawn)
    flat, lines = cel_shade(clean, levels=4), inked(ink_lines(clean, thickness=2), drawn)
    look.progress(0.35)
    # (Composited in 8 bits with OpenCV's per-pixel blends, not float passes over the whole panel.)
    if group:  # ink on the people only, not along the cut photo's edges
        lines = lines * cv2.dilate((group.alpha > 0.3).astype(np.float32), np.ones((9, 9), np.uint8))
    luma = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    dots = (_dots() < np.clip((0.55 - luma) * 1.6, 0, 1)) & (drawn.skin < 0.3)  # drawn skin stays clean
    if len(look.faces) > 1:  # the small faces of a group keep their features: lighter ink, no dots on them
        ovals = _face_ovals(faces)
        dots &= ovals < 0.5
        lines = np.maximum(lines * (1 - 0.6 * ovals), drawn.lines)
    art = cv2.multiply(flat, cv2.merge([np.where(dots, 166, 255).astype(np.uint8)] * 3), scale=1 / 255)
    if look.person_found:
        mask8 = (look.subject.mask * 255).astype(np.uint8)
        m = group.alpha if group else look.frame((W, H), mask8).astype(np.float32) / 255
        art = cv2.blendLinear(_speed_lines(accent), art, 1 - m, m)
        outline = np.clip(cv2.dilate(m, np.ones((9, 9), np.uint8)) - m, 0, 1)
        lines = np.maximum(lines, outline)
    ink = 0.9 * lines.astype(np.float32)
    art = cv2.blendLinear(art, np.full_like(art, 15), 1 - ink, ink)
    canvas = Image.fromarray(art).convert("RGBA")
    look.progress(0.65)
    d = ImageDraw.Draw(canvas)
    # Caption box and speech bubble.
    # The caption box in the top corner, or at the foot when a head reaches up there.
    cy = 40 if not _covered((40, 40, 500, 120), faces) else H - 150
    d.rectangle((40, cy, 500, cy + 80), fill=(255, 236, 150, 255), outline=(15, 15, 15, 255), width=5)
    draw_fitted_text(canvas, (56, cy + 10, 484, cy + 70), (things[0] if things else "MEANWHILE…").upper(), "bebas-neue",
                     (15, 15, 15))
    speech = (f"HI, I'M {display_caps(name)}!" if name else "THIS IS MY ORIGIN STORY!")[:40]
    main = max(faces, key=lambda f: f[2] * f[3]) if faces else None
    fx, fy = look.face_center()
    centre = main[0] + main[2] / 2 if main else fx * W
    # The bubble opposite the face, else a smaller one in a corner: never over a head.
    wide = [(520, 60, 984, 260), (40, 150, 504, 350)]
    bubbles = (wide[::-1] if centre > W * 0.55 else wide) + [(664, 50, 984, 226), (40, 140, 360, 316)]
    bx0, by0, bx1, by1 = min(bubbles, key=lambda b: _covered(b, faces))
    if main:  # the tail ends beside the speaker's cheek, on the bubble's side, where the face is in the panel
        x, y, w, h = main
        tail_to = (int(x - 0.35 * w if (bx0 + bx1) / 2 < centre else x + 1.35 * w), int(max(by1 + 40, y + h * 0.6)))
    else:
        tail_to = (int(fx * W), int(max(0.2, fy - 0.12) * H))
    d.polygon([((bx0 + bx1) // 2 - 40, by1 - 20), ((bx0 + bx1) // 2 + 30, by1 - 20),
               (tail_to[0] + (1 if tail_to[0] > bx1 else -1) * 0, max(by1 + 60, tail_to[1]))],
              fill=(255, 255, 255, 255), outline=(15, 15, 15, 255))
    d.ellipse((bx0, by0, bx1, by1), fill=(255, 255, 255, 255), outline=(15, 15, 15, 255), width=6)
    draw_fitted_text(canvas, (bx0 + 60, by0 + 40, bx1 - 60, by1 - 40), speech, "luckiest-guy", (15, 15, 15))
    effect = EFFECTS[seed // len(COMIC_COLOURS) % len(EFFECTS)]
    spot = _clear_spot(faces + ([] if cy == 40 else [(40.0, cy + 20.0, 460.0, 40.0)]))  # (not over the caption)
    if len(faces) <= 1 or not _covered((spot[0] - 175, spot[1] - 140, spot[0] + 175, spot[1] + 140), faces):
        _boom(canvas, spot, effect, burst, accent)  # a group filling the panel may leave no room: no effect then
    border = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    ImageDraw.Draw(border).rectangle((0, 0, W - 1, H - 1), outline=(15, 15, 15, 255), width=22)
    ImageDraw.Draw(border).rectangle((22, 22, W - 23, H - 23), outline=(255, 255, 255, 255), width=6)
    canvas.alpha_composite(border)
    return canvas.convert("RGB")


def _face_ovals(faces: list[tuple[float, float, float, float]]) -> np.ndarray:
    """A soft oval over each face (float32, 1 on the face)."""
    out = np.zeros((H, W), np.float32)
    for x, y, w, h in faces:
        cv2.ellipse(out, (int(x + w / 2), int(y + h * 0.5)), (int(w * 0.5), int(h * 0.62)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(out, (0, 0), 4)


BOOM_SPOTS = ((W - 200, H - 190), (200, H - 190), (W - 210, 440), (210, 470))  # corners first, then the sides


def _clear_spot(faces: list[tuple[float, float, float, float]]) -> tuple[int, int]:
    """Where the sound effect covers the least of any face (the first free one of BOOM_SPOTS)."""
    return min(BOOM_SPOTS, key=lambda c: _covered((c[0] - 175, c[1] - 140, c[0] + 175, c[1] + 140), faces))


def _covered(rect: tuple[int, int, int, int], faces: list[tuple[float, float, float, float]]) -> float:
    """How much of the heads (each face with its hair and chin) ``rect`` (x0, y0, x1, y1) covers, in pixels."""
    x0, y0, x1, y1 = rect
    return sum(max(0.0, min(x1, x + w * 1.3) - max(x0, x - w * 0.3))
               * max(0.0, min(y1, y + h * 1.3) - max(y0, y - h * 0.6)) for x, y, w, h in faces)


@budget_cache(maxsize=1)
def _dots() -> np.ndarray:
    """A Ben-Day dot threshold screen (rotated 15°), values in 0..1."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    a = np.deg2rad(15)
    u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
    period = 9.0
    du, dv = (u % period) / period - 0.5, (v % period) / period - 0.5
    return (np.sqrt(du ** 2 + dv ** 2) / 0.7).astype(np.float32)


@budget_cache(maxsize=8)
def _speed_lines(color: Color) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    angle = np.arctan2(yy - H * 0.4, xx - W * 0.5)
    rng = np.random.default_rng(2)
    jitter = rng.uniform(0.2, 1.0, 180)
    idx = ((angle + np.pi) / (2 * np.pi) * 180).astype(np.int32) % 180
    r = np.sqrt((xx - W * 0.5) ** 2 + (yy - H * 0.4) ** 2) / W
    streak = (r > jitter[idx] * 0.5).astype(np.float32) * (idx % 2)
    base = np.array(color, np.float32)
    return np.clip(base * (1 - 0.25 * streak[..., None]) + 255 * 0.12 * streak[..., None], 0, 255).astype(np.uint8)


def _boom(canvas: Image.Image, center: tuple[int, int], text: str, color: Color, fill: Color) -> None:
    cx, cy = center
    pts = []
    for i in range(28):
        r = 170 if i % 2 == 0 else 110
        a = math.pi * i / 14
        pts.append((cx + r * math.cos(a), cy + r * 0.8 * math.sin(a)))
    d = ImageDraw.Draw(canvas)
    d.polygon(pts, fill=(*color, 255), outline=(15, 15, 15, 255))
    d.line(pts + [pts[0]], fill=(15, 15, 15, 255), width=6)
    layer = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    draw_fitted_text(layer, (10, 10, 290, 140), text, "luckiest-guy", fill, stroke=0.08, stroke_fill=(15, 15, 15))
    layer = layer.rotate(-12, expand=True, resample=Image.Resampling.BICUBIC)
    canvas.alpha_composite(layer, (cx - layer.width // 2, cy - layer.height // 2))
