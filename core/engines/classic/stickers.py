"""A sticker sheet: die-cut stickers of the person (white borders, a soft shadow each) in a few styles, with short
captions, on a pastel backing sheet."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.cutout import (
    die_cut,
    head_box,
    name_and_things,
    person,
    person_and_faces,
    rotate,
)
from minime.core.engines.classic.faceart import toon
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import (
    Color,
    display_caps,
    draw_fitted_text,
    hex_color,
    mix,
    paste_shadow,
    vertical_gradient,
)

W, H = 1024, 1024
CAPTIONS = ("HI!", "MOOD", "SLAY", "LOL", "OK!", "WOW", "YES", "BRB", "NO.", "GM!")


def sticker_sheet(look: Look) -> Image.Image:
    """Five stickers of the person and two word stickers."""
    name, things = name_and_things(look)
    bg = hex_color(look.palette.get("sheet", "#f6e7f2"))
    colors = [hex_color(look.palette.get(k, d)) for k, d in (("a", "#ff5fa2"), ("b", "#4cc9f0"), ("c", "#ffd166"),
                                                             ("d", "#7bd389"))]
    ink = hex_color(look.palette.get("ink", "#2b1d3a"))
    sheet = vertical_gradient((W, H), mix(bg, (255, 255, 255), 0.3), bg).convert("RGBA")
    rng = look.rng
    seed = look.params.seed
    start = seed % len(CAPTIONS)
    words = list(things) + [w for w in CAPTIONS[start:] + CAPTIONS[:start] if w not in things]
    if len(look.faces) > 1:
        return _group_sheet(look, sheet, words, colors, ink, name, bg)
    head = head_box(look, below=0.5, side=0.6, above=0.7)
    cut_head, head_faces = person_and_faces(look, 360, 360, box=head)
    cut_bust = person(look, 420, 470, box=head_box(look, below=2.2, side=1.5, above=0.7))
    look.progress(0.4)
    # The edition picks the arrangement, which head gets which style and the duotone's colour.
    spots = LAYOUTS[seed % len(LAYOUTS)]
    tone = colors[(seed // len(LAYOUTS)) % len(colors)]
    heads = [_toon(cut_head, head_faces), _duotone(cut_head, tone, ink), _toon(cut_head, head_faces, flip=True),
             _vivid(cut_head)]
    turn = seed // (len(LAYOUTS) * len(colors)) % len(heads)
    heads = heads[turn:] + heads[:turn]
    stickers = [(_vivid(cut_bust), words[0]), (heads[0], words[1]), (heads[1], None), (heads[2], None),
                (heads[3], words[2])]  # the last one's caption sits on top of its neighbours
    taken = np.zeros((H // 8, W // 8), np.float32)  # where stickers are already (1/8 scale)
    tags = []
    for i, ((art, word), (cx, cy)) in enumerate(zip(stickers, spots)):
        sticker = rotate(die_cut(art, 14), float(rng.uniform(-12, 12)))
        x, y = cx - sticker.width // 2, cy - sticker.height // 2
        paste_shadow(sheet, sticker.getchannel("A"), (x, y), blur=7, opacity=0.3, offset=(5, 8))
        sheet.alpha_composite(sticker, (x, y))
        _take(taken, sticker, (x, y))
        if word:
            tags.append((_word_sticker(word, colors[i % len(colors)], ink, height=84), cx, y + sticker.height,
                         sticker.width))
    # The caption tags go on last, on their sticker's lower edge, each where it covers the fewest other tags:
    # no sticker or tag hides a caption.
    tagged = np.zeros_like(taken)
    for tag, cx, bottom, width in tags:
        spots_here = [(int(cx + dx * width) - tag.width // 2, bottom - tag.height + 6) for dx in (0.2, -0.2, 0.0)]
        spots_here = [(min(max(8, x), W - tag.width - 8), min(max(8, y), H - 70 - tag.height)) for x, y in spots_here]
        x, y = min(spots_here, key=lambda s: _overlap(tagged, tag, s))
        paste_shadow(sheet, tag.getchannel("A"), (x, y), blur=5, opacity=0.3, offset=(3, 5))
        sheet.alpha_composite(tag, (x, y))
        _take(tagged, tag, (x, y))
        _take(taken, tag, (x, y))
    look.progress(0.7)
    for j in range(2):  # the word stickers go where they cover the least of the others (never a caption)
        word = _word_sticker(words[3 + j] if 3 + j < len(words) else CAPTIONS[j], colors[(j + 2) % 4], ink)
        word = rotate(word, float(rng.uniform(-15, 15)))
        x, y = _free_spot(taken, word.size)
        paste_shadow(sheet, word.getchannel("A"), (x, y), blur=6, opacity=0.3, offset=(4, 6))
        sheet.alpha_composite(word, (x, y))
        _take(taken, word, (x, y))
    return _labelled(sheet, name, ink, bg)


LAYOUTS = (  # where the five stickers go (centres): the bust, then the four heads
    ((250, 290), (760, 250), (260, 770), (800, 820), (560, 600)),
    ((774, 300), (250, 240), (770, 790), (210, 800), (470, 560)),
    ((512, 600), (190, 230), (830, 240), (180, 780), (840, 720)),
)


def _take(taken: np.ndarray, sticker: Image.Image, xy: tuple[int, int]) -> None:
    """Mark where ``sticker`` lies on the sheet (``taken`` is at 1/8 scale; in place)."""
    alpha = cv2.resize(np.asarray(sticker.getchannel("A")), (max(1, sticker.width // 8), max(1, sticker.height // 8)),
                       interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    x, y = xy[0] // 8, xy[1] // 8
    h, w = taken.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + alpha.shape[1]), min(h, y + alpha.shape[0])
    if x1 > x0 and y1 > y0:
        taken[y0:y1, x0:x1] = np.maximum(taken[y0:y1, x0:x1], alpha[y0 - y:y1 - y, x0 - x:x1 - x])


def _overlap(taken: np.ndarray, sticker: Image.Image, xy: tuple[int, int]) -> float:
    """How much of what is ``taken`` (1/8 scale) a sticker at ``xy`` would cover."""
    x, y = xy[0] // 8, xy[1] // 8
    return float(taken[max(0, y):y + sticker.height // 8, max(0, x):x + sticker.width // 8].sum())


def _free_spot(taken: np.ndarray, size: tuple[int, int]) -> tuple[int, int]:
    """The top-left corner where a sticker of ``size`` covers the least of what is ``taken`` (inside the sheet,
    above its name label)."""
    w, h = (max(1, v // 8) for v in size)
    integral = cv2.integral(taken)
    rows, cols = taken.shape
    best, spot = None, (12, 12)
    for y in range(2, max(3, rows - h - 9), 2):
        for x in range(2, max(3, cols - w - 1), 2):
            covered = integral[y + h, x + w] - integral[y, x + w] - integral[y + h, x] + integral[y, x]
            if best is None or covered < best - 1e-6:
                best, spot = covered, (x * 8, y * 8)
    return spot


def _group_sheet(look: Look, sheet: Image.Image, words: list[str], colors: list[Color], ink: Color, name: str,
                 bg: Color) -> Image.Image:
    """A group's sheet: everyone together on the big sticker at the top, then a sticker of each person's head."""
    rng = look.rng
    seed = look.params.seed
    group = person(look, 700, 300, box=look.people_box(below=2.0, side=1.2, above=0.7))
    left = seed % 2 == 1  # the edition: the group sticker to the left or right, the word sticker opposite
    _stick(sheet, _with_caption(die_cut(_vivid(group), 14), words[0], colors[0], ink),
           (W // 2 + (-60 if left else 60), 215), float(rng.uniform(-4, 4)))
    look.progress(0.4)
    faces = sorted(look.faces, key=lambda f: f[0])
    cols = min(len(faces), 3 if len(faces) <= 6 else 4)
    rows = -(-len(faces) // cols)
    top, bottom = 430, H - 70
    cell_w, cell_h = (W - 40) / cols, (bottom - top) / rows
    side = int(min(cell_w, cell_h) * 0.8)
    tone = colors[1 + seed // 2 % 3]
    styles = (_toon, lambda a, f: _vivid(a), lambda a, f: _duotone(a, tone, ink), lambda a, f: _toon(a, f, flip=True))
    turn = seed // 6 % len(styles)
    styles = styles[turn:] + styles[:turn]
    for i, face in enumerate(faces):
        cut, head_faces = person_and_faces(look, side, side, box=look.face_box(face, below=0.5, side=0.6, above=0.7),
                                           whole=(face,))
        head = _alone(cut)
        r, c = divmod(i, cols)
        in_row = min(cols, len(faces) - r * cols)  # a shorter last row is centred
        cx = int(W / 2 + (c - (in_row - 1) / 2) * cell_w + rng.uniform(-12, 12))
        cy = int(top + (r + 0.5) * cell_h + rng.uniform(-10, 10))
        sticker = die_cut(styles[i % len(styles)](head, head_faces), 12)
        if i + 1 < len(words) and i < 2:
            sticker = _with_caption(sticker, words[i + 1], colors[(i + 1) % len(colors)], ink)
        _stick(sheet, sticker, (cx, cy), float(rng.uniform(-12, 12)))
    look.progress(0.7)
    word = _word_sticker(words[3] if len(words) > 3 else CAPTIONS[0], colors[2], ink)
    _stick(sheet, word, (W - 150 if left else 150, 120), float(rng.uniform(-15, 15)), shadow=6)
    return _labelled(sheet, name, ink, bg)


def _alone(head: Image.Image) -> Image.Image:
    """A head cut from a group keeps to its own box: a soft oval trims the neighbours' shoulders in its corners."""
    w, h = head.size
    oval = np.zeros((h, w), np.uint8)
    cv2.ellipse(oval, (w // 2, h // 2), (int(w * 0.56), int(h * 0.58)), 0, 0, 360, 255, -1)
    alpha = np.minimum(np.asarray(head.getchannel("A")), cv2.GaussianBlur(oval, (0, 0), 3))
    head = head.copy()
    head.putalpha(Image.fromarray(alpha))
    return head


def _stick(sheet: Image.Image, sticker: Image.Image, center: tuple[int, int], angle: float, shadow: int = 7) -> None:
    sticker = rotate(sticker, angle)
    x = min(max(8, center[0] - sticker.width // 2), W - sticker.width - 8)
    y = min(max(8, center[1] - sticker.height // 2), H - sticker.height - 8)
    paste_shadow(sheet, sticker.getchannel("A"), (x, y), blur=shadow, opacity=0.3, offset=(5, 8))
    sheet.alpha_composite(sticker, (x, y))


def _labelled(sheet: Image.Image, name: str, ink: Color, bg: Color) -> Image.Image:
    if name:
        label = ImageDraw.Draw(sheet)
        label.rounded_rectangle((W - 400, H - 62, W - 16, H - 14), 24, fill=(255, 255, 255, 235))
        draw_fitted_text(sheet, (W - 380, H - 56, W - 36, H - 20), display_caps(name) + " · STICKER PACK",
                         "bebas-neue", mix(ink, bg, 0.2))
    return sheet.convert("RGB")


def _vivid(art: Image.Image) -> Image.Image:
    arr = np.asarray(art).copy()
    hsv = cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.35, 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * 1.06 + 8, 0, 255)
    arr[..., :3] = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return Image.fromarray(arr, "RGBA")


def _toon(art: Image.Image, faces: list[tuple[float, float, float, float]], flip: bool = False) -> Image.Image:
    """The cut-out cel-shaded and inked, its faces drawn (see faceart.py)."""
    arr = np.asarray(art).copy()
    rgb = np.ascontiguousarray(arr[..., :3])
    flat, lines = toon(rgb, faces, levels=5, person=arr[..., 3], smooth_skin=True)
    flat, lines = flat.astype(np.float32), lines[..., None]
    arr[..., :3] = np.clip(flat * (1 - 0.8 * lines) + 30 * 0.8 * lines, 0, 255).astype(np.uint8)
    out = Image.fromarray(arr, "RGBA")
    return out.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else out


def _duotone(art: Image.Image, color: Color, ink: Color) -> Image.Image:
    arr = np.asarray(art).copy()
    luma = cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    luma = np.clip((luma - 0.1) * 1.3, 0, 1)
    arr[..., :3] = (np.array(ink, np.float32) * (1 - luma) + np.array(mix(color, (255, 255, 255), 0.35),
                                                                       np.float32) * luma).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def _with_caption(sticker: Image.Image, word: str, color: Color, ink: Color) -> Image.Image:
    """The sticker with a little speech tag on its lower edge."""
    tag = _word_sticker(word, color, ink, height=84)
    out = Image.new("RGBA", (max(sticker.width, tag.width), sticker.height + tag.height // 2), (0, 0, 0, 0))
    out.alpha_composite(sticker, ((out.width - sticker.width) // 2, 0))
    out.alpha_composite(tag, ((out.width - tag.width) // 2 + sticker.width // 5, out.height - tag.height))
    return out


def _word_sticker(word: str, color: Color, ink: Color, height: int = 110) -> Image.Image:
    text = display_caps(word)[:14]
    width = int(height * (0.9 + 0.52 * len(text)))
    tag = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(tag)
    d.rounded_rectangle((0, 0, width - 1, height - 1), height // 2, fill=(255, 255, 255, 255))
    d.rounded_rectangle((8, 8, width - 9, height - 9), height // 2 - 8, fill=(*color, 255))
    draw_fitted_text(tag, (height // 3, 14, width - height // 3, height - 14), text, "luckiest-guy", (255, 255, 255),
                     stroke=0.08, stroke_fill=ink)
    return tag
