"""Period looks: 1970s film, 1980s synthwave VHS, 1990s disposable flash, and the instant polaroid."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.cutout import fade_cut_edges, rotate
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import (
    Color,
    curves,
    draw_fitted_text,
    font,
    light_leak,
    mix,
    paste_shadow,
    resize,
    rounded_mask,
    saturate,
    screen,
    soft_mask,
    vertical_gradient,
    vignette,
)
from minime.core.memo import budget_cache

SQUARE = (1024, 1024)
PORTRAIT = (1024, 1280)
LANDSCAPE = (1280, 1024)


def wide(look: Look, portrait: tuple[int, int]) -> bool:
    """Whether the photo is printed in landscape: a wide photo whose people do not all fit the portrait print (a
    group round a table, two people side by side). A print keeps the camera's own shape rather than cropping."""
    return look.source.width >= 1.15 * look.source.height and not look.fits(portrait)


def panorama(look: Look, size: tuple[int, int]) -> tuple[int, int]:
    """The print's picture size: ``size``, or as wide and shorter, in the photo's own shape (a panoramic print, no
    wider than 5:2), when even a landscape print of ``size`` could not hold everyone without filling in around the
    photo (three people side by side in a strip)."""
    w, h = size
    if look.fits(size, slack=1.0):
        return size
    return w, max(int(w * 0.4), min(h, round(w * look.source.height / look.source.width)))


def seventies(look: Look) -> Image.Image:
    """Warm, faded 1970s film print: amber cast, lifted browns, soft highlights, light leaks, rounded print (a
    landscape print for a wide group)."""
    landscape = wide(look, (944, 1180))
    window = panorama(look, (1200, 860)) if landscape else (944, 1180)
    photo = look.frame(window)
    arr = curves(photo, {"r": [(0, 0.10), (0.5, 0.58), (1, 0.97)], "g": [(0, 0.07), (0.5, 0.50), (1, 0.92)],
                         "b": [(0, 0.10), (0.5, 0.38), (1, 0.74)]})
    arr = saturate(arr, 0.82)
    look.progress(0.5)
    arr = screen(arr, light_leak(window, look.params.seed, [(255, 120, 30), (255, 60, 40), (255, 200, 90)], 0.75))
    img = Image.fromarray(vignette(arr, 0.45), "RGB")
    # A 70s print: cream border with rounded corners, a little yellowed (the wider bottom edge carries the stamp).
    page = (LANDSCAPE[0], window[1] + 150) if landscape else PORTRAIT
    paper = vertical_gradient(page, (246, 236, 212), (232, 218, 186))
    paper.paste(img, (40, 40), rounded_mask(img.size, 34))
    stamp = look.name() or look.theme.package.get("stamp", "")
    if stamp:
        stamp_h = int(np.clip(42 * look.params.name_scale, 22, 56))
        mid = (40 + window[1] + page[1]) // 2
        draw_fitted_text(paper, (60, mid - stamp_h // 2, page[0] - 60, mid + stamp_h // 2), stamp, "bebas-neue",
                         (150, 110, 70), anchor="lm")
    return paper


def eighties(look: Look) -> Image.Image:
    """1980s synthwave: the person cut out over a neon sunset and grid, with VHS scanlines and colour bleed."""
    w, h = SQUARE
    palette = look.palette
    name_on_top = False  # the name at the bottom over a scene without a person, above the people's heads
    scene = _synthwave(tuple(sorted(palette.items())), look.params.seed % 4).copy()
    look.progress(0.4)
    if look.subject.found:
        x0, y0, x1, y1 = look.subject.bbox(0.3)
        pad = int(0.05 * (x1 - x0))
        x0, x1 = max(0, x0 - pad), min(look.source.width, x1 + pad)
        # The edition (seed) sets how big the person stands in the scene and how far off centre. The name goes
        # above their heads, under PLAY (at the bottom it would cover the body they stand on).
        room = NAME_TOP + _name_tall(look) + 16 if look.params.name else int(h * 0.14)
        scale = min(w * 0.95 / (x1 - x0), (h - room) / (y1 - y0))
        if len(look.faces) <= 1:
            scale *= (1.0, 0.84, 0.7)[look.params.seed % 3]
        pw, ph = max(1, int((x1 - x0) * scale)), max(1, int((y1 - y0) * scale))
        person = resize(look.source.crop((x0, y0, x1, y1)), (pw, ph))
        soft = cv2.resize(look.subject.mask[y0:y1, x0:x1], (pw, ph), interpolation=cv2.INTER_LINEAR)
        fade_cut_edges(soft, fade_bottom=False)  # where the photo ends at a side, the person fades into the scene
        alpha = (np.clip(soft, 0, 1) * 255).astype(np.uint8)
        person = curves(person, {"r": [(0, 0.05), (1, 0.95)], "g": [(0, 0.0), (1, 0.92)],
                                 "b": [(0, 0.12), (1, 0.9)]})
        # Neon rim light: magenta from the left, cyan from the right.
        edge = cv2.GaussianBlur(cv2.subtract(alpha, cv2.erode(alpha, np.ones((9, 9), np.uint8))), (0, 0), 3)
        rim = cv2.multiply(_rim_colours(pw, ph), cv2.merge([edge] * 3), scale=1.4 / 255)
        person = Image.fromarray(cv2.add(np.asarray(person), rim), "RGB")
        glow = (soft_mask(alpha, 18).astype(np.float32) * 0.55).astype(np.uint8)
        lean = ((look.params.seed // 3) % 3 - 1) * 0.8
        px, py = int((w - pw) / 2 * (1 + lean)), h - ph
        scene.paste(look.color("glow", "#ff3cc8"), (px, py), Image.fromarray(glow))
        scene.paste(person, (px, py), Image.fromarray(alpha))
        name_on_top = True
    else:
        photo = curves(look.frame((w, h)),
                       {"r": [(0, 0.1), (1, 1)], "g": [(0, 0.0), (1, 0.9)], "b": [(0, 0.25), (1, 1)]})
        scene = Image.blend(scene, Image.fromarray(photo), 0.75)
    look.progress(0.7)
    return _vhs(scene, look, name_on_top=name_on_top)


@budget_cache(maxsize=16)
def _synthwave(palette_items: tuple, star_seed: int) -> Image.Image:
    palette = dict(palette_items)
    color = lambda key, default: _hex(palette.get(key, default))  # noqa: E731
    w, h = SQUARE
    horizon = int(h * 0.62)
    scene = Image.new("RGB", SQUARE)
    scene.paste(vertical_gradient((w, horizon), color("sky_top", "#14022e"), color("sky_bottom", "#ff4f8b")), (0, 0))
    rng = np.random.default_rng(star_seed)
    d = ImageDraw.Draw(scene)
    for _ in range(70):  # stars
        sx, sy, r = rng.uniform(0, w), rng.uniform(0, horizon * 0.55), rng.uniform(0.6, 1.8)
        d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(255, 230, 255))
    # The striped sun with its glow.
    sun_r = int(w * 0.25)
    sun = vertical_gradient((2 * sun_r, 2 * sun_r), color("sun_top", "#ffe45c"), color("sun_bottom", "#ff2a8a"))
    sun_mask = Image.new("L", sun.size, 0)
    sd = ImageDraw.Draw(sun_mask)
    sd.ellipse((0, 0, 2 * sun_r - 1, 2 * sun_r - 1), fill=255)
    for i in range(7):
        y = int(sun_r * (1.0 + 0.12 * i))
        sd.rectangle((0, y, 2 * sun_r, y + int(3 + i * 2.2)), fill=0)
    sun_y = horizon - int(sun_r * 1.45)
    pad = 90  # room for the glow to fade out
    glow = np.zeros((2 * sun_r + 2 * pad, 2 * sun_r + 2 * pad), np.uint8)
    glow[pad:pad + 2 * sun_r, pad:pad + 2 * sun_r] = np.asarray(sun_mask)
    scene.paste((255, 80, 160), (w // 2 - sun_r - pad, sun_y - pad), Image.fromarray(soft_mask(glow, 30)))
    scene.paste(sun, (w // 2 - sun_r, sun_y), sun_mask)
    # Floor with a perspective grid.
    scene.paste(vertical_gradient((w, h - horizon), (25, 0, 45), (60, 0, 80)), (0, horizon))
    grid = Image.new("L", SQUARE, 0)
    gd = ImageDraw.Draw(grid)
    for i in range(-14, 15):
        gd.line((w / 2 + i * 18, horizon, w / 2 + i * w * 0.16, h), fill=255, width=3)
    for j in range(1, 14):
        t = (j / 13) ** 2.2
        y = horizon + t * (h - horizon)
        gd.line((0, y, w, y), fill=255, width=max(1, int(1 + 3 * t)))
    grid_color = color("grid", "#ff3df2")
    scene.paste(grid_color, (0, 0), Image.fromarray(soft_mask(np.asarray(grid), 5)))
    scene.paste(mix(grid_color, (255, 255, 255), 0.5), (0, 0), grid)
    d.line((0, horizon, w, horizon), fill=(255, 200, 255), width=3)
    return scene


@budget_cache(maxsize=8)
def _rim_colours(w: int, h: int) -> np.ndarray:
    ramp = np.linspace(0, 1, w, dtype=np.float32)[:, None]
    row = np.array([255, 50, 200], np.float32) * (1 - ramp) + np.array([30, 230, 255], np.float32) * ramp
    return np.ascontiguousarray(np.broadcast_to(row.astype(np.uint8)[None], (h, w, 3)))


def _hex(value: str) -> Color:
    from minime.core.engines.classic.paint import hex_color

    return hex_color(value)


@budget_cache(maxsize=4)
def _scanlines(w: int, h: int) -> np.ndarray:
    rows = np.full((h, 1, 1), 255, np.uint8)
    rows[::3] = 209  # every third line darker, as on a CRT
    return np.ascontiguousarray(np.broadcast_to(rows, (h, w, 3)))


NAME_TOP = 100  # px: where the name goes when it is above the people (under PLAY)


def _name_tall(look: Look) -> int:
    """The VHS name's height (px), as the "bigger name" refinement sets it."""
    return int(np.clip(90 * look.params.name_scale, 40, 200))


def _vhs(img: Image.Image, look: Look, name_on_top: bool = False) -> Image.Image:
    """VHS tape: horizontal colour bleed, chroma shift, scanlines, a tracking band and the on-screen display. The name
    goes at the bottom, or under PLAY above the people (``name_on_top``: not over the body they stand on)."""
    src = np.asarray(img)
    h, w = src.shape[:2]
    shift = max(2, w // 220)
    arr = np.empty_like(src)
    arr[..., 1] = src[..., 1]
    arr[:, shift:, 0], arr[:, :shift, 0] = src[:, :-shift, 0], src[:, :1, 0]
    arr[:, :-shift, 2], arr[:, -shift:, 2] = src[:, shift:, 2], src[:, -1:, 2]
    arr = cv2.blur(arr, (3, 1))
    arr = cv2.multiply(arr, _scanlines(w, h), scale=1 / 255)
    band = int(look.rng.uniform(0.75, 0.92) * h)
    arr[band:band + 6] = np.roll(arr[band:band + 6], 12, axis=1)
    out = Image.fromarray(arr, "RGB")
    d = ImageDraw.Draw(out)
    osd = font("DejaVuSansMono-Bold", 36)
    white, outline = (240, 240, 240), (20, 20, 60)
    d.text((42, 40), "PLAY ▶", font=osd, fill=white, stroke_width=2, stroke_fill=outline)
    stamp = look.name()
    if stamp:
        tall = _name_tall(look)
        top = NAME_TOP if name_on_top else h - 100 - tall
        draw_fitted_text(out, (42, top, w - 42, top + tall), stamp.upper(), "monoton", (255, 240, 255),
                         shadow=(255, 40, 180), max_size=int(96 * look.params.name_scale), max_lines=2)
    seed = look.params.seed
    taped = dt.date(1983 + seed % 7, 1 + seed % 12, 1 + seed % 28)
    d.text((42, h - 78), f"SP  0:{seed % 60:02d}:{(seed // 60) % 60:02d}", font=osd, fill=white, stroke_width=2,
           stroke_fill=outline)
    d.text((w - 42, h - 78), taped.strftime("%b %d %Y").upper(), font=osd, fill=white, stroke_width=2,
           stroke_fill=outline, anchor="ra")
    return out


@budget_cache(maxsize=8)
def _flash(w: int, h: int, aim: int = 1) -> np.ndarray:
    """A disposable camera's flash: hot centre (left, middle or right of centre by ``aim``), fast fall-off (a
    multiplier; 200 means 1.0)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((xx / w - 0.38 - 0.12 * aim) * 1.2) ** 2 + (yy / h - 0.38) ** 2)
    factor = (np.clip(1.25 - d * 1.1, 0.35, 1.25) * 200).astype(np.uint8)
    return cv2.merge([factor] * 3)


def nineties(look: Look) -> Image.Image:
    """A 1990s disposable-camera flash snapshot: hot centre, dark falloff, punchy colour, orange date stamp (a 6×4
    print held sideways for a wide group)."""
    w, h = panorama(look, (1280, 854)) if wide(look, PORTRAIT) else PORTRAIT
    photo = look.frame((w, h))
    img = Image.fromarray(cv2.multiply(photo, _flash(w, h, look.params.seed % 3), scale=1 / 200), "RGB")
    img = curves(img, {"all": [(0, 0), (0.25, 0.18), (0.75, 0.86), (1, 1)],
                       "g": [(0, 0.03), (1, 0.98)], "b": [(0, 0.06), (1, 0.92)]})
    img = saturate(img, 1.18)
    look.progress(0.6)
    img = vignette(img, 0.35)
    seed = look.params.seed
    date = dt.date(1990 + seed % 10, 1 + seed % 12, 1 + seed % 28)
    stamp = f"'{date:%y} {date.month:2d} {date.day:2d}"
    region = (w - 460, h - 150, w, h)
    layer = Image.new("RGB", (region[2] - region[0], region[3] - region[1]), (0, 0, 0))
    ImageDraw.Draw(layer).text((layer.width - 60, layer.height - 70), stamp, font=font("DejaVuSansMono-Bold", 54),
                               fill=(255, 140, 40), anchor="rs")
    glow = Image.fromarray(cv2.GaussianBlur(np.asarray(layer), (0, 0), 6))
    img.paste(screen(screen(img.crop(region), glow), layer), region[:2])
    caption = look.name()
    if caption:
        # Left of the date stamp, never over it; two lines for a long caption.
        cap_h = int(np.clip(70 * look.params.name_scale, 34, 150))
        draw_fitted_text(img, (50, h - 50 - cap_h, w - 480, h - 50), caption, "permanent-marker", (255, 255, 255),
                         stroke=0.04, stroke_fill=(40, 40, 40), anchor="lm", max_lines=2,
                         max_size=int(60 * look.params.name_scale))
    return img


@budget_cache(maxsize=8)
def _table(top: Color, bottom: Color, size: tuple[int, int] = PORTRAIT) -> Image.Image:
    table = np.asarray(vertical_gradient(size, top, bottom), np.float32)
    noise = np.random.default_rng(3).normal(0, 1, (size[1], size[0] // 4)).astype(np.float32)
    grain = cv2.GaussianBlur(cv2.resize(noise, size, interpolation=cv2.INTER_LINEAR), (0, 0), sigmaX=8, sigmaY=1)
    return Image.fromarray(np.clip(table * (1 + 0.06 * grain[..., None]), 0, 255).astype(np.uint8), "RGB")


# The square instant print, and the wide one (instax wide: a 99 × 62 mm picture on 108 × 86 mm film) for a group.
SQUARE_PRINT = {"film": (840, 1010), "photo": (760, 760), "at": (40, 40), "table": PORTRAIT}
WIDE_PRINT = {"film": (1080, 860), "photo": (990, 620), "at": (45, 58), "table": LANDSCAPE}


def polaroid(look: Look) -> Image.Image:
    """An instant photo: soft cyan-shadowed colour in a white frame, a handwritten caption, on a table."""
    kind = WIDE_PRINT if wide(look, (760, 760)) else SQUARE_PRINT
    (fw, fh), (pw, ph), (px0, py0) = kind["film"], kind["photo"], kind["at"]
    if kind is WIDE_PRINT:  # a panoramic strip: the same film, cut shorter
        pw, short = panorama(look, (pw, ph))
        fh, ph = fh - (ph - short), short
    photo = Image.fromarray(look.frame((pw, ph)))
    img = curves(photo, {"r": [(0, 0.08), (0.5, 0.55), (1, 0.96)], "g": [(0, 0.1), (0.5, 0.52), (1, 0.95)],
                         "b": [(0, 0.16), (0.5, 0.5), (1, 0.86)]})
    img = vignette(saturate(img, 0.88), 0.25)
    look.progress(0.5)
    frame = Image.new("RGB", (fw, fh), (250, 249, 244))
    frame.paste(img, (px0, py0))
    ImageDraw.Draw(frame).rectangle((px0, py0, px0 + pw - 1, py0 + ph - 1), outline=(225, 222, 214), width=2)
    caption = look.name(look.theme.package.get("default_caption", ""))
    if caption:
        draw_fitted_text(frame, (px0 + 20, py0 + ph + 22, fw - px0 - 20, fh - 38), caption, "permanent-marker",
                         (30, 40, 90), max_size=int(86 * look.params.name_scale), max_lines=2)
    # On a table, slightly rotated, with a soft shadow.
    size = kind["table"]
    table = _table(look.color("table_top", "#c9a27e"), look.color("table_bottom", "#8a6446"), size).copy()
    rng = look.rng
    angle = float(rng.uniform(-4.5, -1.5) if look.params.seed % 2 else rng.uniform(1.5, 4.5))
    rotated = rotate(frame, angle)
    px, py = (size[0] - rotated.width) // 2, (size[1] - rotated.height) // 2
    paste_shadow(table, rotated.getchannel("A"), (px, py), blur=18, opacity=0.5, offset=(14, 20))
    table.paste(rotated, (px, py), rotated)
    return table

