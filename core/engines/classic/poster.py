"""Posters: the hand-painted 90s Bollywood film poster with the name as the title, and the comic-book panel with a
speech bubble, halftone shadows and a sound effect."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import tiers
from minime.core.engines.classic.cutout import EDGE_FADE, cel_shade, ink_lines, name_and_things, person_and_faces
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


SKIES = (None, "photo", ((60, 10, 20), (255, 150, 60)))  # per edition: the palette's sky, the photo's own, a red one
HERO_FACE = 420  # px: the largest the star's face is painted (a close-up photo would make it fill the poster)
HEAD_TOP = 90  # px: where the star's hair reaches at most (a short cut-out rises to it and fades out below)
BAND = 960  # where the dark credits band starts; the people fade into it above (FADE px at least)
FADE = 150
BAND_COLOUR = (20, 8, 16)


def film_poster(look: Look) -> Image.Image:
    """A painted 90s film poster: the star large against a dramatic painted sky (light rays bursting from behind
    the head, in the photo's own colours or the theme's), lit from behind, rising out of the dark credits band under
    a golden title. A group stands together as the cast, every face whole."""
    name, things = name_and_things(look, look.theme.package.get("default_name", "MINI ME"))
    seed = look.params.seed
    top, bottom = _sky_colours(look, SKIES[seed % len(SKIES)])
    lean = (seed // len(SKIES) % 3 - 1) * 0.12  # the edition also places the star left of centre, centred or right
    look.progress(0.2)
    fade_from = BAND - FADE
    if look.person_found:
        hero, (hx, hy), centre = _star(look, lean)
        fade_from = int(np.clip(hy + hero.height * 0.75, BAND - 3 * FADE, BAND - FADE))  # a bust fades into the dark
        canvas = Image.fromarray(_sky(top, bottom, centre, seed % 5))
        _glow_behind(canvas, hero, (hx, hy), mix(bottom, (255, 255, 255), 0.6))
        canvas = canvas.convert("RGBA")
        canvas.alpha_composite(hero, (hx, hy))
    else:
        canvas = Image.fromarray(_sky(top, bottom, (0.5, 0.35), seed % 5)).convert("RGBA")
        scene = _painted(Image.fromarray(crop_cover_array(look.source, (860, 700))).convert("RGBA"), [])
        canvas.alpha_composite(scene, (82, 200))
    look.progress(0.6)
    arr = np.array(canvas.convert("RGB"))
    fade = (np.arange(BAND - fade_from, dtype=np.float32) / (BAND - fade_from)) ** 0.8
    arr[fade_from:BAND] = cv2.blendLinear(arr[fade_from:BAND], np.full_like(arr[fade_from:BAND], BAND_COLOUR),
                                          np.ascontiguousarray(np.broadcast_to(1 - fade[:, None], (len(fade), W))),
                                          np.ascontiguousarray(np.broadcast_to(fade[:, None], (len(fade), W))))
    arr[BAND:] = BAND_COLOUR
    canvas = Image.fromarray(arr).convert("RGBA")
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


def _star(look: Look, lean: float) -> tuple[Image.Image, tuple[int, int], tuple[float, float]]:
    """The painted star (or the cast) cut out, where it stands on the poster, and where the light bursts from (the
    main head's centre, as fractions of the poster)."""
    group = len(look.faces) > 1
    tall = BAND + 40 - HEAD_TOP
    box = look.people_box(below=2.2 if group else 2.0, side=1.7 if group else 2.6, above=0.6)
    if group:  # the whole cast, as large as the poster's width and height allow
        cut, faces = person_and_faces(look, W - 24, tall, fade_bottom=True, box=box)
    else:  # as tall as from HEAD_TOP into the band, the face no larger than a star's; only what the poster shows
        x0, y0, x1, y1 = box
        bx0, by0, bx1, by1 = look.subject.bbox(0.35)
        fx, _, fw, _ = look.face or look.faces[0]
        scale = min(tall / max(1, min(y1, by1) - max(y0, by0)), HERO_FACE / max(1, fw))
        middle = fx + fw / 2 - lean * W / scale
        box = (int(max(x0, middle - W / scale / 2)), y0, int(min(x1, middle + W / scale / 2)), y1)
        cut, faces = person_and_faces(look, W, round(scale * (min(y1, by1) - max(y0, by0))) + 1, fade_bottom=True,
                                      box=box)
        cut = _bust(cut, max(faces, key=lambda f: f[2] * f[3]))
    largest = HERO_FACE * (0.7 if group else 1.0)
    widest = max(f[2] for f in faces)
    if widest > largest * 1.05:  # a close-up: the face no larger than a star's on a poster
        k = largest / widest
        cut = resize(cut, (max(8, round(cut.width * k)), max(8, round(cut.height * k))))
        faces = [(x * k, y * k, w * k, h * k) for x, y, w, h in faces]
    main = max(faces, key=lambda f: f[2] * f[3])
    head_top = min(y - 0.6 * h for _, y, _, h in faces)
    # Standing on the band, the body's foot hidden in it; a short cut-out (a close-up) rises to HEAD_TOP instead and
    # fades out below (a cast, to a third of the way down: the light bursts above their heads).
    hy = int(min(BAND + 40 - cut.height, (H // 3 if group else HEAD_TOP) - head_top))
    hx = (W - cut.width) // 2 if group else int(W / 2 + lean * W - (main[0] + main[2] / 2))
    hx = int(np.clip(hx, min(0, W - cut.width), max(0, W - cut.width)))  # no gap at a side, the face in
    centre = ((hx + main[0] + main[2] / 2) / W, (hy + main[1] + main[3] * 0.45) / H)
    return _painted(cut, faces), (hx, hy), centre


def _bust(cut: Image.Image, face: tuple[float, float, float, float]) -> Image.Image:
    """Where the photo ends at a side of the body (a head-and-shoulders photo), the star's body fades away in a
    round bust below the head, as a painted star rises out of the sky, instead of a straight cut line down each
    side."""
    alpha = np.asarray(cut.getchannel("A"))
    h, w = alpha.shape
    inset = int(EDGE_FADE * max(h, w)) + 1
    if w <= 2 * inset or not ((alpha[:, inset] > 128).mean() > 0.05 or (alpha[:, -inset] > 128).mean() > 0.05):
        return cut
    fx, fy, fw, fh = face
    cx, cy = fx + fw / 2, fy + fh * 0.5
    ax = max(fw, min(cx, w - cx))  # the bust's half width: to the nearer side (no wider than the photo shows)
    ay = max(fh, h - cy) * 1.1
    q = 4  # (a smooth ramp: worked out at a quarter size and drawn up)
    yy, xx = np.mgrid[0:(h + q - 1) // q, 0:(w + q - 1) // q].astype(np.float32) * q
    r = np.sqrt(((xx - cx) / ax) ** 2 + (np.maximum(yy - cy, 0) / ay) ** 2)
    fade = np.clip((1.0 - r) / 0.3, 0, 1) ** 0.8  # (the head and everything above it stay whole)
    fade = cv2.resize((fade * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    arr = np.asarray(cut).copy()
    arr[..., 3] = cv2.multiply(arr[..., 3], fade, scale=1 / 255)
    return Image.fromarray(arr, "RGBA")


def _sky_colours(look: Look, sky: object) -> tuple[Color, Color]:
    """The sky's (top, bottom) colours: an edition's own, the palette's (None), or the photo's ("photo"): its
    strongest colour (the clothes, the place; the faces left out), deep at the top and glowing at the horizon."""
    if isinstance(sky, tuple):
        return sky
    palette = tuple(hex_color(look.palette.get(k, d)) for k, d in (("sky_top", "#3a0a4a"), ("sky_bottom", "#ff7b2e")))
    if sky is None:
        return palette  # type: ignore[return-value]
    small = np.asarray(look.source.resize((64, 64), Image.Resampling.BOX))
    weight = np.ones((64, 64), np.float32)
    sx, sy = 64 / look.source.width, 64 / look.source.height
    for x, y, w, h in look.faces:
        weight[int(y * sy):int((y + h) * sy) + 1, int(x * sx):int((x + w) * sx) + 1] = 0
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.float32)
    weight *= hsv[..., 1] / 255 * np.clip(hsv[..., 2] / 255 * 2, 0, 1)  # vivid, not dark
    if weight.sum() < 0.12 * weight.size * 0.5:  # a grey photo: the palette's sky
        return palette  # type: ignore[return-value]
    votes = np.bincount((hsv[..., 0].astype(np.int32) // 10).ravel(), weight.ravel(), minlength=18)
    hue = int(np.argmax(votes)) * 10 + 5
    deep = cv2.cvtColor(np.array([[[hue, 220, 70]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0]
    glow = cv2.cvtColor(np.array([[[(hue + 12) % 180, 170, 255]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0]
    return tuple(int(v) for v in deep), tuple(int(v) for v in glow)  # type: ignore[return-value]


def _glow_behind(canvas: Image.Image, hero: Image.Image, xy: tuple[int, int], color: Color) -> None:
    """The light behind the star: a bright halo around the silhouette (worked at a quarter size), in place."""
    alpha = np.asarray(hero.getchannel("A"))
    small = cv2.resize(alpha, (max(1, hero.width // 4), max(1, hero.height // 4)), interpolation=cv2.INTER_AREA)
    pad = 12
    small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    halo = cv2.GaussianBlur(small.astype(np.float32) / 255, (0, 0), 5) * 1.3
    halo = cv2.resize(np.clip(halo, 0, 0.85), ((small.shape[1]) * 4, small.shape[0] * 4),
                      interpolation=cv2.INTER_LINEAR)
    layer = Image.new("RGB", (halo.shape[1], halo.shape[0]), color)
    canvas.paste(layer, (xy[0] - pad * 4, xy[1] - pad * 4), Image.fromarray((halo * 255).astype(np.uint8)))


def _painted(art: Image.Image, faces: list[tuple[float, float, float, float]]) -> Image.Image:
    """Hand-painted: flat strokes, warm saturated skin, smooth painted faces with their features drawn in soft
    brown (faceart.py), painted highlights."""
    arr = np.asarray(art).copy()
    rgb = np.ascontiguousarray(arr[..., :3])
    drawn = face_art(rgb, faces, person=arr[..., 3])
    clean = smoothed(rgb, drawn)
    painted = cv2.addWeighted(cel_shade(clean, levels=8), 0.7, clean, 0.3, 0)
    if drawn.found:  # (blended where the faces are only)
        x, y, w, h = cv2.boundingRect((drawn.lines > 0).astype(np.uint8))
        ink = np.ascontiguousarray(drawn.lines[y:y + h, x:x + w]) * 0.7
        part = np.ascontiguousarray(painted[y:y + h, x:x + w])
        painted[y:y + h, x:x + w] = cv2.blendLinear(part, np.full_like(part, (70, 30, 25)), 1 - ink, ink)
    arr[..., :3] = cv2.LUT(painted, _WARM)
    return Image.fromarray(arr, "RGBA")


def _sky(top: Color, bottom: Color, centre: tuple[float, float], variant: int) -> np.ndarray:
    """The painted sky: deep at the top, glowing towards the horizon and around the star's head (``centre``, as
    fractions), light rays bursting from behind the head, brushy clouds (``variant`` moves them). Worked at a quarter
    size (it is all soft) and drawn up."""
    w, h = W // 4, H // 4
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = centre[0] * w, centre[1] * h
    r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / h
    t = np.maximum((yy / h) ** 1.2 * 0.8, np.exp(-(r / 0.35) ** 2))
    clouds = _clouds(variant, (w, h))
    t = np.clip(t + clouds * 0.25, 0, 1)[..., None]
    arr = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    angle = np.arctan2(yy - cy, xx - cx)
    rays = np.clip((np.sin(angle * 16 + variant) - 0.2) * 2.5, 0, 1) * np.clip(1.3 - r, 0, 1) * (0.6 + 0.4 * clouds)
    light = np.array(mix(bottom, (255, 255, 255), 0.5), np.float32)
    arr = arr + (light - arr) * (rays * 0.35)[..., None]
    return cv2.resize(np.clip(arr, 0, 255).astype(np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)


@budget_cache(maxsize=5)
def _clouds(variant: int, size: tuple[int, int]) -> np.ndarray:
    """Soft painted clouds: a few octaves of smoothed noise in 0..1, stretched sideways like brush strokes."""
    rng = np.random.default_rng(variant + 11)
    w, h = size
    out = np.zeros((h, w), np.float32)
    for cells, weight in ((6, 0.6), (14, 0.3), (32, 0.1)):
        noise = rng.random((cells, max(2, cells // 2)), dtype=np.float32).T
        out += cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC) * weight
    out = cv2.GaussianBlur(out, (0, 0), sigmaX=6, sigmaY=2)
    return np.clip((out - out.min()) / max(1e-6, out.max() - out.min()), 0, 1)


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
    mask8 = (look.subject.mask * 255).astype(np.uint8) if look.person_found else None
    m = (group.alpha if group else look.frame((W, H), mask8).astype(np.float32) / 255) if mask8 is not None else None
    drawn = face_art(photo, faces, line_scale=1.6, person=m)
    clean = smoothed(photo, drawn)
    flat, lines = cel_shade(clean, levels=4), inked(ink_lines(clean, thickness=2), drawn)
    look.progress(0.35)
    # (Composited in 8 bits with OpenCV's per-pixel blends, not float passes over the whole panel.)
    if m is not None:  # ink on the people only (their contours and features), not the background's texture that
        lines = lines * cv2.dilate((m > 0.3).astype(np.float32), np.ones((9, 9), np.uint8))  # speed lines replace
    luma = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    dots = (_dots() < np.clip((0.55 - luma) * 1.6, 0, 1)) & (drawn.skin < 0.3)  # drawn skin stays clean
    if len(look.faces) > 1:  # the small faces of a group keep their features: lighter ink, no dots on them
        ovals = _face_ovals(faces)
        dots &= ovals < 0.5
        lines = np.maximum(lines * (1 - 0.6 * ovals), drawn.lines)
    art = cv2.multiply(flat, cv2.merge([np.where(dots, 166, 255).astype(np.uint8)] * 3), scale=1 / 255)
    if m is not None:
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
    if main:  # the tail ends beside one speaker's mouth, reached from free space (see ``_speaker``)
        base_x, tail_to = _speaker((bx0, by0, bx1, by1), faces)
    else:
        base_x, tail_to = (bx0 + bx1) // 2, (int(fx * W), int(max(0.2, fy - 0.12) * H))
    d.polygon([(base_x - 40, by1 - 20), (base_x + 30, by1 - 20), (tail_to[0], max(by1 + 60, tail_to[1]))],
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


def _speaker(bubble: tuple[int, int, int, int], faces: list[tuple[float, float, float, float]]
             ) -> tuple[int, tuple[int, int]]:
    """Where the speech bubble's tail leaves the bubble (x on its foot) and where it ends: just beside one face's
    mouth, on the bubble's side. The speaker is the face the shortest tail reaches without crossing another head (in
    a group the largest face may sit in the middle of the crowd: a tail to it ran between the people)."""
    bx0, _, bx1, by1 = bubble
    best, choice = float("inf"), ((bx0 + bx1) // 2, (int(faces[0][0]), int(faces[0][1])))
    for i, (x, y, w, h) in enumerate(faces):
        cx = x + w / 2
        right = cx < (bx0 + bx1) / 2  # the tail comes from the bubble's side of the face
        tip = (x + w * (1.1 if right else -0.1), max(by1 + 60.0, y + h * 0.72))
        base = (min(max(tip[0], bx0 + 0.3 * (bx1 - bx0)), bx1 - 0.3 * (bx1 - bx0)), by1 - 20.0)
        crossed = 0
        for t in np.linspace(0.0, 0.92, 24):  # another head (with its hair), or the speaker's own face
            px, py = base[0] + t * (tip[0] - base[0]), base[1] + t * (tip[1] - base[1])
            crossed += sum(((px - (ox + ow / 2)) / (ow * 0.62)) ** 2 + ((py - (oy + oh * 0.4)) / (oh * 0.9)) ** 2 < 1
                           for j, (ox, oy, ow, oh) in enumerate(faces) if j != i)
            crossed += ((px - cx) / (w * 0.5)) ** 2 + ((py - (y + h * 0.45)) / (h * 0.55)) ** 2 < 1
        cost = float(np.hypot(tip[0] - base[0], tip[1] - base[1])) * (1 + crossed) - 0.5 * w
        if cost < best:
            best, choice = cost, (int(base[0]), (int(tip[0]), int(tip[1])))
    return choice


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
