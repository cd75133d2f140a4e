"""The 90s yearbook portrait: a soft-focus studio portrait in front of the mottled laser backdrop, on the yearbook
page with the name under it, the class year and a "most likely to" line."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.cutout import EDGE_FADE, name_and_things, person_and_faces
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import Color, display_caps, draw_fitted_text, hex_color, mix, paste_shadow
from minime.core.memo import budget_cache

W, H = 1024, 1280
PHOTO = (162, 190, 862, 1000)
GROUP_PHOTO = (72, 200, 952, 980)  # a class photo: landscape, so a row of people stands in it whole
MOST_LIKELY = ("Most likely to become famous", "Most likely to run the world", "Best smile", "Class clown",
               "Most likely to win an Oscar", "Best hair")


def yearbook(look: Look) -> Image.Image:
    """A 1990s school photo on its yearbook page."""
    name, things = name_and_things(look, look.theme.package.get("default_name", "Your Name"))
    seed = look.params.seed
    # The edition: the next of the theme's backdrop-and-page colours, and another mottling of the backdrop.
    palette = look.theme.palette(look.params.palette + seed % max(1, len(look.theme.palettes))) or look.palette
    c1, c2 = (hex_color(palette.get(k, d)) for k, d in (("laser_a", "#2b4bd8"), ("laser_b", "#b04ad8")))
    group = len(look.faces) > 1 and not look.fits((PHOTO[2] - PHOTO[0], PHOTO[3] - PHOTO[1]))
    rect = GROUP_PHOTO if group else PHOTO
    pw, ph = rect[2] - rect[0], rect[3] - rect[1]
    sitter, in_cut = person_and_faces(look, int(pw * 0.95), int(ph * 0.92), fade_bottom=not group,
                                      box=look.people_box(below=2.4, side=1.6, above=0.6))
    at = None
    if not group and in_cut:  # a school portrait: head and shoulders filling the picture, not a small bust in it
        sitter, at = _portrait(sitter, in_cut, (pw, ph))
    if group:  # the class photo as tall as the row of people needs, in the middle of the space above the name
        ph = int(np.clip(sitter.height / 0.86, 0.5 * pw, ph))
        top = (GROUP_PHOTO[1] + GROUP_PHOTO[3] - ph) // 2
        rect = (GROUP_PHOTO[0], top, GROUP_PHOTO[2], top + ph)
    photo = Image.fromarray(_laser((pw, ph), c1, c2, seed // max(1, len(look.theme.palettes)) % 4)).convert("RGBA")
    look.progress(0.3)
    arr = np.asarray(sitter).astype(np.float32)
    rgb = arr[..., :3].copy()
    # Studio portrait: soft-focus glow, warm skin, lifted blacks (the Orton-style 90s softness).
    glow = cv2.GaussianBlur(rgb, (0, 0), 6)
    rgb = 255 - (255 - rgb) * (255 - glow * 0.45) / 255
    rgb = rgb * np.array([1.04, 1.0, 0.94], np.float32) + 10
    sitter = Image.fromarray(np.dstack([np.clip(rgb, 0, 255), arr[..., 3]]).round().astype(np.uint8), "RGBA")
    photo.alpha_composite(sitter, at or ((pw - sitter.width) // 2, ph - sitter.height))
    photo = photo.convert("RGB")
    vign = _photo_vignette((pw, ph))
    photo = Image.fromarray(np.clip(np.asarray(photo).astype(np.float32) * vign[..., None], 0, 255).astype(np.uint8))
    look.progress(0.6)
    page = _page(hex_color(palette.get("page", "#f3ecdc")), hex_color(palette.get("ink", "#1f2a5a")))
    canvas = page.copy()
    frame = Image.new("L", (pw + 24, ph + 24), 255)
    paste_shadow(canvas, frame, (rect[0] - 12, rect[1] - 12), blur=10, opacity=0.3, offset=(6, 8))
    ImageDraw.Draw(canvas).rectangle((rect[0] - 12, rect[1] - 12, rect[2] + 11, rect[3] + 11), fill=(255,) * 3)
    canvas.paste(photo, rect[:2])
    ink = hex_color(palette.get("ink", "#1f2a5a"))
    year = 1990 + look.params.seed % 10
    name_h = int(min(110, 84 * look.params.name_scale))
    draw_fitted_text(canvas, (120, 1030, W - 120, 1030 + name_h), display_caps(name), "bebas-neue", ink)
    quote = things[0] if things else MOST_LIKELY[look.params.seed % len(MOST_LIKELY)]
    draw_fitted_text(canvas, (160, 1150, W - 160, 1196), f"“{quote}”", "permanent-marker", mix(ink, (0, 0, 0), 0.2),
                     max_size=40)
    draw_fitted_text(canvas, (120, 60, W - 120, 150), f"CLASS OF '{year % 100:02d}", "luckiest-guy", ink,
                     max_size=90)
    return canvas


SITTER_FACE = (0.3, 0.48)  # of the picture's width: the sitter's face, at least and at most
SITTER_HEAD = 0.09  # of the picture's height: where the sitter's hair starts


def _portrait(cut: Image.Image, faces: list[tuple[float, float, float, float]], size: tuple[int, int]
              ) -> tuple[Image.Image, tuple[int, int]]:
    """The sitter scaled and placed as a school portrait is framed: the head near the top, the face a third of the
    picture's width, the shoulders down to its foot and, where the photo ends at a side, past its edge (the frame
    cuts them, not a fade). Returns the scaled cut-out (cropped to the picture) and where it goes."""
    pw, ph = size
    inside = [f for f in faces if 0 <= f[0] + f[2] / 2 <= cut.width and 0 <= f[1] + f[3] / 2 <= cut.height]
    if not inside:
        return cut, ((pw - cut.width) // 2, ph - cut.height)
    fx, fy, fw, fh = max(inside, key=lambda f: f[2] * f[3])
    alpha = np.asarray(cut.getchannel("A"))
    column = alpha[:max(1, int(fy + fh / 2)), max(0, int(fx)):max(1, int(fx + fw))] > 128
    rows = np.nonzero(column.any(axis=1))[0]
    head_top = max(float(rows.min()) if len(rows) else fy - 0.6 * fh, fy - 1.0 * fh)
    k = max(SITTER_FACE[0] * pw / fw, (ph * (1 - SITTER_HEAD)) / max(1.0, cut.height - head_top))
    inset = int(EDGE_FADE * max(alpha.shape)) + 1
    if (alpha[:, inset] > 128).mean() > 0.05 or (alpha[:, -inset] > 128).mean() > 0.05:
        k = max(k, (pw + 2 * inset * k) / cut.width)  # the photo's own edge (and its fade) outside the picture
    k = min(k, SITTER_FACE[1] * pw / fw)
    x = round(pw / 2 - (fx + fw / 2) * k)
    width = round(cut.width * k)
    x = int(np.clip(x, pw - width, 0) if width >= pw else np.clip(x, 0, pw - width))
    y = round(ph * SITTER_HEAD - head_top * k)
    # Only what the picture shows is scaled.
    x0, y0 = max(0, -x), max(0, -y)
    part = cut.crop((int(x0 / k), int(y0 / k), min(cut.width, int(np.ceil((pw - x) / k)) + 1),
                     min(cut.height, int(np.ceil((ph - y) / k)) + 1)))
    part = part.resize((max(1, round(part.width * k)), max(1, round(part.height * k))), Image.Resampling.BICUBIC)
    return part, (x + int(int(x0 / k) * k), y + int(int(y0 / k) * k))


@budget_cache(maxsize=8)
def _laser(size: tuple[int, int], a: Color, b: Color, variant: int) -> np.ndarray:
    """The 90s school-photo backdrop: mottled blue/purple clouds crossed by soft laser beams."""
    w, h = size
    rng = np.random.default_rng(7 + variant)
    noise = sum(cv2.resize(rng.normal(0, 1, (s, s)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC) / k
                for s, k in ((4, 1.0), (9, 2.0), (20, 4.0)))
    t = np.clip(0.5 + noise * 0.35, 0, 1)[..., None]
    arr = np.array(a, np.float32) * (1 - t) + np.array(b, np.float32) * t
    beams = np.zeros((h, w), np.float32)
    for _ in range(5):
        x = rng.uniform(-0.2, 1.2) * w
        cv2.line(beams, (int(x), 0), (int(x + rng.uniform(-0.6, 0.6) * w), h), 1.0, int(rng.uniform(3, 10)))
    beams = cv2.GaussianBlur(beams, (0, 0), 6)[..., None]
    arr = arr + beams * (np.array([235, 220, 255], np.float32) - arr) * 0.6
    return np.clip(arr, 0, 255).astype(np.uint8)


@budget_cache(maxsize=2)
def _photo_vignette(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((xx - w / 2) / w) ** 2 + ((yy - h * 0.45) / h) ** 2)
    return np.clip(1.08 - d * 0.6, 0.6, 1.1).astype(np.float32)


@budget_cache(maxsize=8)
def _page(paper: Color, ink: Color) -> Image.Image:
    rng = np.random.default_rng(5)
    fibre = cv2.GaussianBlur(rng.normal(0, 1, (H, W)).astype(np.float32), (0, 0), 1.0)
    arr = np.array(paper, np.float32)[None, None] * (1 + 0.02 * fibre[..., None])
    page = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(page)
    d.rectangle((40, 40, W - 41, H - 41), outline=mix(ink, paper, 0.4), width=3)
    d.rectangle((54, 54, W - 55, H - 55), outline=mix(ink, paper, 0.7), width=1)
    return page
