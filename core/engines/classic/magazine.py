"""The magazine cover: the person as the cover star, the masthead behind their head, the name as the headline and
cover lines down the side."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic import tiers
from minime.core.engines.classic.cutout import EDGE_FADE, name_and_things, person_and_faces
from minime.core.engines.classic.faceart import without_rim
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import display_caps, draw_fitted_text, hex_color, mix, radial_gradient

W, H = 1024, 1280
LINES = (("THE INTERVIEW", "Everyone is talking about it"), ("MY RULES", "How I did it, step by step"),
         ("STYLE SECRETS", "What is in the wardrobe"), ("EXCLUSIVE", "The photos nobody has seen"),
         ("ICON OF THE YEAR", "The list is out"), ("AT HOME WITH", "Coffee, plants and big plans"))
# (a cover line: its headline, then a different, smaller deck line under it)


def magazine_cover(look: Look) -> Image.Image:
    """A glossy magazine cover starring the person."""
    name, things = name_and_things(look, look.theme.package.get("default_name", "MINI ME"))
    seed = look.params.seed
    # The edition: the cover's colours (the next of the theme's sets), and the star's side and cover lines' side.
    palette = look.theme.palette(look.params.palette + seed % max(1, len(look.theme.palettes))) or look.palette
    bg, masthead, ink = (hex_color(palette.get(k, d)) for k, d in (("bg", "#e9e2d8"), ("masthead", "#d62828"),
                                                                   ("ink", "#111111")))
    lean = (1, -1)[seed // max(1, len(look.theme.palettes)) % 2]  # the star off centre: 1 to the right
    canvas = radial_gradient((W, H), mix(bg, (255, 255, 255), 0.5), mix(bg, (0, 0, 0), 0.15), center=(0.5, 0.4),
                             radius=0.9).convert("RGBA")
    title = look.theme.package.get("masthead", "MINIME")
    draw_fitted_text(canvas, (40, 20, W - 40, 250), title, "bebas-neue", masthead)
    look.progress(0.3)
    name_h = int(min(150, 120 * look.params.name_scale))
    group = len(look.faces) > 1
    if group:  # everyone on the cover, as large as the page allows: the heads under the masthead, bodies to the foot
        star, (sx, top), faces = _group_star(look, H - 80 - name_h)
    else:
        star, (sx, top), faces = _single_star(look, lean)
    full = Image.new("L", (W, H), 0)
    full.paste(star.getchannel("A"), (sx, top))
    people = cv2.resize(np.asarray(full), (W // 8, H // 8), interpolation=cv2.INTER_AREA)  # where bodies are
    canvas.alpha_composite(star, (sx, top))
    look.progress(0.6)
    d = ImageDraw.Draw(canvas)
    shade = Image.new("RGBA", (W, 320), (0, 0, 0, 0))
    sh = np.zeros((320, W, 4), np.uint8)
    sh[..., 3] = np.linspace(0, 170, 320, dtype=np.float32)[:, None].astype(np.uint8)
    shade = Image.fromarray(sh, "RGBA")
    canvas.alpha_composite(shade, (0, H - 320))
    draw_fitted_text(canvas, (50, H - 60 - name_h, W - 50, H - 60), display_caps(name), "luckiest-guy",
                     (255, 255, 255), shadow=(0, 0, 0))
    draw_fitted_text(canvas, (50, H - 56, W - 50, H - 18), "THE " + (things[0].upper() if things else "STAR")
                     + " ISSUE · EXCLUSIVE", "bebas-neue",
                     mix(masthead, (255, 255, 255), 0.3 if sum(masthead) > 240 else 0.75))  # light on the dark foot
    lines = [LINES[(seed + k) % len(LINES)] for k in range(3)]
    halo = {"stroke": 0.08, "stroke_fill": mix(bg, (255, 255, 255), 0.6)}  # legible over a body
    for (headline, deck), (x, y) in zip(lines, _line_spots(faces, people, -lean)):
        on_body = halo if group or people[y // 8:(y + 80) // 8, x // 8:(x + 290) // 8].mean() > 25 else {}
        draw_fitted_text(canvas, (x, y, x + 290, y + 44), headline, "bebas-neue", masthead, anchor="lm", **on_body)
        draw_fitted_text(canvas, (x, y + 46, x + 290, y + 80), deck, "DejaVuSans-Bold", ink, max_size=20, anchor="lm",
                         **on_body)
    bx = W - 200 if lean > 0 else 40  # the badge on the star's side, away from the cover lines
    if not _covers((bx, 250, bx + 160, 310), faces):
        d.rectangle((bx, 250, bx + 160, 310), fill=(*masthead, 255))
        draw_fitted_text(canvas, (bx + 10, 256, bx + 150, 304), "SPECIAL", "bebas-neue", (255, 255, 255))
    return canvas.convert("RGB")


HEAD_Y = 170  # where the star's hair starts: the masthead's foot passes behind the head, as on real covers
STAR_FACE = (330, 540)  # px: the star's face width on the cover, at least and at most


def _single_star(look: Look, lean: int
                 ) -> tuple[Image.Image, tuple[int, int], list[tuple[float, float, float, float]]]:
    """The star cut out and framed as a cover is: the head large under the masthead (its hair behind the
    masthead's foot), the body down to the cover's foot or fading into it, and where the photo ends at a side (a
    close-up, a bust) the body reaches past the cover's edge instead of ending in a cut line. Returns the cut-out,
    where it goes, and where each face (x, y, w, h) lands on the cover."""
    cut, in_cut = person_and_faces(look, 860, 1060, box=look.people_box(below=3.6, side=2.0, above=0.7),
                                   fade_bottom=True)
    inside = [f for f in in_cut if 0 <= f[0] + f[2] / 2 <= cut.width and 0 <= f[1] + f[3] / 2 <= cut.height]
    if not inside:  # no face (the person's whole cut-out, standing on the foot)
        star = _retouched(cut)
        return star, (min(max(0, (W - star.width) // 2 + lean * 110), W - star.width), H - star.height), []
    fx, fy, fw, fh = max(inside, key=lambda f: f[2] * f[3])
    alpha = np.asarray(cut.getchannel("A"))
    column = alpha[:max(1, int(fy + fh / 2)), max(0, int(fx)):max(1, int(fx + fw))] > 128
    rows = np.nonzero(column.any(axis=1))[0]
    head_top = max(float(rows.min()) if len(rows) else fy - 0.6 * fh, fy - 1.0 * fh)
    k = max(STAR_FACE[0] / fw, (H - HEAD_Y) / max(1.0, cut.height - head_top))
    inset = int(EDGE_FADE * max(alpha.shape)) + 1  # (where the person's fade at a cut edge ends)
    if (alpha[:, inset] > 128).mean() > 0.05 or (alpha[:, -inset] > 128).mean() > 0.05:
        k = max(k, (W + 2 * inset * k) / cut.width)  # the photo's own edge (and the fade to it) off the cover
    k = min(k, STAR_FACE[1] / fw)
    size = (max(8, round(cut.width * k)), max(8, round(cut.height * k)))
    sx = round(W / 2 + lean * 110 - (fx + fw / 2) * k)
    sx = int(np.clip(sx, W - size[0], 0) if size[0] >= W else np.clip(sx, 0, W - size[0]))
    top = round(HEAD_Y - head_top * k)
    faces = [(x * k + sx, y * k + top, w * k, h * k) for x, y, w, h in inside]
    # Only what the cover shows is retouched and scaled (a close-up's body reaches far past its foot and sides).
    x0, y0 = max(0, -sx), max(0, -top)
    x1, y1 = min(size[0], W - sx), min(size[1], H - top)
    part = cut.crop((int(x0 / k), int(y0 / k), min(cut.width, int(np.ceil(x1 / k)) + 1),
                     min(cut.height, int(np.ceil(y1 / k)) + 1)))
    arr = np.asarray(part).copy()  # (a rim of back light under the chin painted over, as a retoucher would)
    shifted = [(x - int(x0 / k), y - int(y0 / k), w, h) for x, y, w, h in inside]
    arr[..., :3] = without_rim(np.ascontiguousarray(arr[..., :3]), shifted, arr[..., 3])
    star = _retouched(Image.fromarray(arr, "RGBA"))
    if abs(k - 1) > 0.02:
        star = star.resize((max(8, round(part.width * k)), max(8, round(part.height * k))), Image.Resampling.BICUBIC)
    return star, (sx + int(int(x0 / k) * k), top + int(int(y0 / k) * k)), faces


def _retouched(star: Image.Image) -> Image.Image:
    """Glossy retouch: lifted skin, crisp contrast (one saturating 8-bit pass: 1.08 × (0.6 soft + 0.4 sharp) + 132 -
    1.08 × 128)."""
    arr = np.asarray(star).copy()
    rgb = np.ascontiguousarray(arr[..., :3])
    soft = cv2.bilateralFilter(rgb, 5, 30, 7)
    arr[..., :3] = cv2.addWeighted(soft, 0.6 * 1.08, rgb, 0.4 * 1.08, 132 - 128 * 1.08)
    return Image.fromarray(arr, "RGBA")


HEADS_TOP = 190  # where a group's highest head starts: the masthead's foot passes behind it, as on real covers


def _group_star(look: Look, headline: int
                ) -> tuple[Image.Image, tuple[int, int], list[tuple[float, float, float, float]]]:
    """The group cut out as large as the cover allows (RGBA, see ``tiers.arrange``), where it goes, and where each
    face (x, y, w, h) lands on the cover."""
    group = tiers.arrange(look, (W, H), HEADS_TOP, headline)
    star = Image.fromarray(np.dstack([group.rgb, (group.alpha * 255).astype(np.uint8)]), "RGBA")
    box = star.getchannel("A").getbbox() or (0, 0, W, H)  # retouch only where the people are
    return _retouched(star.crop(box)), box[:2], group.faces


def _covers(box: tuple[float, float, float, float], faces: list[tuple[float, float, float, float]]) -> bool:
    """Whether ``box`` (x0, y0, x1, y1) touches any face (x, y, w, h), grown to take in the hair and chin."""
    x0, y0, x1, y1 = box
    return any(x0 < x + 1.25 * w and x1 > x - 0.25 * w and y0 < y + 1.3 * h and y1 > y - 0.6 * h
               for x, y, w, h in faces)


def _line_spots(faces: list[tuple[float, float, float, float]], people: np.ndarray, side: int = -1
                ) -> list[tuple[int, int]]:
    """Where the cover lines go (each 290 × 80 px, top left): down the ``side`` (-1 left, 1 right) else the other,
    never on a face, over the background rather than a body where there is room (``people``: the people's alpha at
    1/8 scale)."""
    columns = (40, W - 330) if side < 0 else (W - 330, 40)
    spots = [(columns[0], 300 + i * 120) for i in range(3)]
    if not faces and people[300 // 8:660 // 8, columns[0] // 8:(columns[0] + 290) // 8].mean() < 60:
        return spots
    free = [(x, y) for y in range(270, H - 330, 40) for x in columns
            if not _covers((x, y, x + 290, y + 80), faces)]
    free.sort(key=lambda s: (float(people[s[1] // 8:(s[1] + 80) // 8, s[0] // 8:(s[0] + 290) // 8].mean()) // 40,
                             s[0] != columns[0]))
    chosen: list[tuple[int, int]] = []
    # A close-up leaves no room beside the heads: then the lines may cross the hair, never the face itself.
    inner = [(x + 0.1 * w, y + 0.1 * h, 0.8 * w, 0.85 * h) for x, y, w, h in faces]
    near = [(x, y) for y in range(270, H - 330, 40) for x in columns
            if (x, y) not in free and not _touches((x, y, x + 290, y + 80), inner)]
    for x, y in free + near:
        if all(abs(y - cy) >= 110 or x != cx for cx, cy in chosen):
            chosen.append((x, y))
        if len(chosen) == 3:
            break
    return sorted(chosen, key=lambda s: (s[0], s[1]))


def _touches(box: tuple[float, float, float, float], faces: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < x + w and x1 > x and y0 < y + h and y1 > y for x, y, w, h in faces)
