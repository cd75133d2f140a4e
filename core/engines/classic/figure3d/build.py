"""From a photo to a figure: one toy per person found, each with a head shaped and textured from the face, hair in
the hair's colour and shape, a body in the clothes' colours, all standing on one base."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from minime.core.engines.classic.facemesh import face_mesh
from minime.core.engines.classic.figure3d import head as headmod
from minime.core.engines.classic.figure3d.body import FOREARM, UPPER_ARM, Outfit, body_parts
from minime.core.engines.classic.figure3d.costume import costume_for, dressed, hat_part
from minime.core.engines.classic.figure3d.head import (
    FaceFrame,
    HairStyle,
    hair_part,
    head_part,
    head_shape,
    long_hair_part,
    remap_points,
)
from minime.core.engines.classic.figure3d.options import FigureOptions
from minime.core.engines.classic.figure3d.shapes import Part, plinth
from minime.core.errors import MinimeError
from minime.core.i18n import N_

BASE_HEIGHT = 0.3
SPACING = 1.75  # between the people of a group, in face widths
SMALLEST_FACE = 0.75  # of the look's min_face_px (80 px in the original photo): below ~60 px a face cannot be sculpted
GROUP_SMALLEST_FACE = 0.5
MAX_PEOPLE = 8
OUTFITS = ((0.16, 0.25, 0.45), (0.75, 0.16, 0.18), (0.12, 0.5, 0.5), (0.85, 0.62, 0.18), (0.35, 0.22, 0.5),
           (0.2, 0.45, 0.25))
TROUSERS = ((0.16, 0.2, 0.3), (0.22, 0.22, 0.24), (0.6, 0.52, 0.4), (0.12, 0.14, 0.2))
SHOES = ((0.12, 0.12, 0.13), (0.92, 0.92, 0.9), (0.35, 0.22, 0.14))
BASES = ((0.09, 0.09, 0.1), (0.93, 0.93, 0.92), (0.55, 0.08, 0.12), (0.1, 0.2, 0.42))


class NoFigureError(MinimeError, ValueError):
    """The photo cannot give a figure: no person in it, or a face too small to sculpt."""

    user_message = N_("I couldn't find a face to sculpt in that photo. A clear selfie works best!")
    SMALL = N_("The face in that photo is too small for me to sculpt a figure from. A closer selfie (your face at "
               "least 60 pixels across) works best!")


@dataclass(frozen=True, eq=False)
class FigureModel:
    """A built figure: closed parts in one space (Y up, facing +Z, standing on y = 0) and the photo they wear."""

    parts: tuple[Part, ...]
    texture: np.ndarray  # the photo, RGB uint8
    people: int
    options: FigureOptions
    cache: dict = field(default_factory=dict, repr=False)  # the renderer's scene and occlusion, built once

    @property
    def height(self) -> float:
        """The top of the figure."""
        return float(max(p.vertices[:, 1].max() for p in self.parts))

    def part_names(self) -> list[str]:
        """The parts' names (``head``, ``hair``, ``torso``, ``shoe0``, ``base`` ...; per person, prefixed ``pN.``)."""
        return [p.name for p in self.parts]


def _median_color(pixels: np.ndarray) -> tuple[float, float, float] | None:
    if len(pixels) < 30:
        return None
    return tuple(float(c) for c in np.median(pixels, axis=0) / 255)  # type: ignore[return-value]


def _dominant(pixels: np.ndarray, darkest: bool = False) -> tuple[float, float, float] | None:
    """The main colour of some pixels (sRGB 0..1): the largest of three k-means clusters (``darkest``: the darkest
    cluster holding at least a fifth of them, as hair is darker than the light caught in it)."""
    if len(pixels) < 30:
        return None
    step = max(1, len(pixels) // 3000)
    data = np.ascontiguousarray(pixels[::step], np.float32)
    k = min(3, len(data))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(1)
    _, labels, centers = cv2.kmeans(data, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k)
    if darkest:
        big = [i for i in range(k) if counts[i] >= 0.2 * len(data)]
        best = min(big, key=lambda i: centers[i].sum())
    else:
        best = int(np.argmax(counts))
    median = np.median(data[labels.ravel() == best], axis=0)
    return tuple(float(c) for c in median / 255)  # type: ignore[return-value]


def _window(rgb: np.ndarray, mask: np.ndarray, x0: float, x1: float, y0: float, y1: float
            ) -> tuple[np.ndarray, np.ndarray, float]:
    """The pixels (and matte) of a window, and how much of the window lies inside the photo."""
    h, w = mask.shape
    ix0, ix1, iy0, iy1 = (int(np.clip(v, 0, m)) for v, m in ((x0, w), (x1, w), (y0, h), (y1, h)))
    inside = max(0, ix1 - ix0) * max(0, iy1 - iy0) / max(1.0, (x1 - x0) * (y1 - y0))
    return rgb[iy0:iy1, ix0:ix1].reshape(-1, 3), mask[iy0:iy1, ix0:ix1].reshape(-1), inside


def _skin(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    spots = []
    r = max(2, int(np.linalg.norm(points[headmod.CHEEK_L, :2] - points[headmod.CHEEK_R, :2]) * 0.03))
    for i in headmod.SKIN_SPOTS:
        x, y = int(points[i, 0]), int(points[i, 1])
        spots.append(rgb[max(0, y - r):min(h, y + r + 1), max(0, x - r):min(w, x + r + 1)].reshape(-1, 3))
    return np.median(np.concatenate(spots), axis=0).astype(np.float32) / 255


def _skin_like(pixels: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """Pixels of the skin's hue, lit brighter or darker (a bald crown's highlight is still skin)."""
    # Channel by channel (a norm along rows of three was most of the figure's build time).
    r, g, b = np.asarray(pixels, np.float32).T * np.float32(1 / 255)
    total = r + g + b + np.float32(1e-6)
    hue = skin / (skin.sum() + 1e-6)
    chroma2 = (r / total - hue[0]) ** 2 + (g / total - hue[1]) ** 2 + (b / total - hue[2]) ** 2
    ratio = total / (skin.sum() + 1e-6)
    return (chroma2 < 0.035 ** 2) & (ratio > 0.55) & (ratio < 1.8)


def _not_skin(pixels: np.ndarray, skin: np.ndarray) -> np.ndarray:
    r, g, b = np.asarray(pixels, np.float64).T / 255.0
    far = (r - skin[0]) ** 2 + (g - skin[1]) ** 2 + (b - skin[2]) ** 2 > 0.16 ** 2
    return far & ~_skin_like(pixels, skin)


# mediapipe's face oval, round from the forehead's top
# The dark hair paint's floor (sRGB max channel): a glossy near-black on one figure; lifted a little in a group, where
# the heads are small (tests/test_group_looks.py finds every face again with 0.12 too since the sculpted locks and
# the softer hair rim; 0.2 keeps a margin; the old cap needed 0.4).
DARK_HAIR, DARK_HAIR_GROUP = 0.12, 0.2
BROW_R, BROW_L = 105, 334  # mediapipe: the brows' middles
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
             149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)


def _hair_color(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, skin: np.ndarray, width: float
                ) -> tuple[float, float, float] | None:
    """The hair's lit colour (sRGB 0..1), read where the hair is: in each column over the forehead, going up from the
    face's oval past the forehead's skin, the first stretch (a tenth of the face's width) that is not skin, inside
    the person. Hair always touches the face there; a window over the head instead mixed in the backdrop that a
    soft matte keeps (a light wall greyed black hair, dark trees browned blond hair).

    The colour is the median of those pixels between the 30th and 75th brightness percentiles (the renderer adds
    its own shadows and gloss; the shade between strands would make blond hair brown)."""
    h, w = mask.shape
    oval = points[list(FACE_OVAL), :2]
    x0 = int(max(0, points[headmod.FOREHEAD, 0] - 0.3 * width))
    x1 = int(min(w, points[headmod.FOREHEAD, 0] + 0.3 * width))
    y1 = int(min(h, oval[:, 1].min() + 0.3 * width))
    if x1 - x0 < 4 or y1 < 8:
        return None
    face = np.zeros((y1, x1 - x0), np.uint8)
    cv2.fillPoly(face, [np.round(oval - (x0, 0)).astype(np.int32)], 1)
    crop = rgb[:y1, x0:x1]
    hairy = _not_skin(crop.reshape(-1, 3), skin).reshape(face.shape) & (mask[:y1, x0:x1] > 0.5) & (face == 0)
    reach = max(3, int(0.1 * width))
    # How much of the stretch above each pixel is not skin: the hair starts where most of it is (a freckle, a
    # wrinkle's shade or a redder patch of forehead is no hairline).
    runs = cv2.blur(hairy.astype(np.float32), (1, reach), anchor=(0, reach - 1), borderType=cv2.BORDER_CONSTANT)
    found = []
    for col in range(0, x1 - x0, 2):
        inside = np.nonzero(face[:, col])[0]
        if not len(inside):
            continue
        starts = np.nonzero(runs[:inside[0], col] > 0.9)[0]
        if len(starts) and inside[0] - starts[-1] < 0.35 * width:  # past at most a high forehead's skin
            start, end = max(0, starts[-1] - reach + 1), starts[-1] + 1 - reach // 3  # past the hairline's blend
            found.append(crop[start:end, col][hairy[start:end, col]])
    strands = np.concatenate(found).astype(np.float32) if found else np.zeros((0, 3), np.float32)
    if len(strands) < 30:
        return None
    # Grey or white hair between whose strands the skin shows (its median reads a skin-warmed beige): the neutral,
    # light strands, when they are a good share of them.
    light = strands.max(axis=1)
    neutral = (light > 0.45 * 255) & ((light - strands.min(axis=1)) < 0.15 * light)
    if np.median(light) > 0.4 * 255 and neutral.sum() >= max(30, 0.2 * len(strands)):
        return _median_color(strands[neutral])
    light = strands.sum(axis=1)
    # Dark hair: its lit specks and the skin between short strands grey it; take its darker half (the renderer's
    # gloss gives the highlights back).
    lo, hi = np.percentile(light, (15, 55) if np.median(light) < 0.4 * 3 * 255 else (30, 75))
    return _median_color(strands[(light >= lo) & (light <= hi)])


def _hair_paint(color: tuple[float, float, float], floor: float = DARK_HAIR) -> tuple[float, float, float]:
    """The hair's paint: its lit colour a touch darker (the photo's hair is lit and mixed with the skin between
    strands); dark hair darker (a photo's is greyed by its lit specks), black hair near-black, keeping its hue,
    lifted to ``floor`` so that the glossy paint reads as hair, not as a hole."""
    c = np.float32(color) * 0.9
    level = float(c.max())
    mean = float(c.mean())
    chroma = (level - float(c.min())) / max(level, 1e-3)
    lo = float(c.min())
    hue = 60 * (float(c[1]) - float(c[2])) / max(level - lo, 1e-3) if level == float(c[0]) else 60.0
    # Grey or white hair: a cool silver, not the skin-warmed beige it reads as. Grey lit warm is pinkish (the
    # skin's hue, under 22°) where blond hair is yellower.
    if level > 0.42 and (chroma < 0.2 or (chroma < 0.3 and hue < 22)):
        c = np.float32([0.93, 0.96, 1.0]) * min(0.92, mean * 1.2)
        return tuple(float(v) for v in c)  # type: ignore[return-value]
    # The photo's hair is greyed by the light it catches: its paint more saturated (dark brown stays brown,
    # blond stays warm).
    if level >= 0.45 or chroma > 0.4:  # a clear brown, red or blond
        c = np.clip(mean + (c - mean) * (1.25 if level < 0.45 else 1.6), 0, 1)
    else:  # black hair, its tint greyed by the light and skin between its strands: a neutral near-black
        c = mean + (c - mean) * 0.6
    if level < 0.45:  # dark hair darker still: the photo's is greyed by its lit specks and the scalp between
        hue = (float(c.max()) - float(c.min())) / max(float(c.max()), 1e-3)
        c = c * (0.55 + 0.3 * hue)  # a brown keeps more of its level than a black (brown stays brown)
        level = float(c.max())
    if level < floor:
        c = c * (floor / level) if level > 0.02 else c + (floor - level)
    return tuple(float(v) for v in np.clip(c, 0, 1))  # type: ignore[return-value]


def _hair(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, canon: np.ndarray, skin: np.ndarray,
          width: float, dark_floor: float = DARK_HAIR) -> HairStyle:
    top_x, top_y = points[headmod.FOREHEAD, :2]
    pix, matte, inside = _window(rgb, mask, top_x - 0.35 * width, top_x + 0.35 * width, top_y - 0.5 * width,
                                 top_y - 0.06 * width)
    person = matte > 0.5
    hairy = person & _not_skin(pix, skin)
    dark_default = HairStyle((0.16, 0.11, 0.08))
    if inside < 0.2:  # the photo is cut above the forehead: guess
        return dark_default
    skin_share = (_skin_like(pix, skin) & person).sum() / max(1, person.sum())
    if hairy.sum() < 0.12 * max(1, len(pix)) or (person.mean() > 0.4 and skin_share > 0.55):
        return HairStyle((0.2, 0.15, 0.1), bald=person.mean() > 0.4)
    seen = _hair_color(rgb, mask, points, skin, width) or dark_default.color
    s_rgb = np.float32(seen)
    ratio = float(s_rgb.sum() / (skin.sum() + 1e-6))
    if 0.55 < ratio < 1.3 and np.linalg.norm(s_rgb / (s_rgb.sum() + 1e-6) - skin / (skin.sum() + 1e-6)) < 0.06:
        # the skin's own hue and light: a shaded forehead taken for the hairline; the darkest big cluster of what
        # is not skin above the forehead instead
        seen = _dominant(pix[hairy], darkest=True) or seen
    color = _hair_paint(seen, dark_floor)
    h, w = mask.shape
    # The top of the hair: the highest row above the face where hair-coloured pixels of the person are.
    x0, x1 = int(max(0, top_x - 0.2 * width)), int(min(w, top_x + 0.2 * width))
    band = rgb[:int(max(1, top_y)), x0:x1].astype(np.float32) / 255
    near = (np.linalg.norm(band - np.float32(seen), axis=2) < 0.2) & (mask[:int(max(1, top_y)), x0:x1] > 0.5)
    rows = np.nonzero(near.mean(axis=1) > 0.3)[0]
    crown = float(canon[headmod.FOREHEAD, 1]) + 0.38
    top = 0.14 if not len(rows) or rows[0] <= 1 else float(
        np.clip((top_y - rows[0]) / width + canon[headmod.FOREHEAD, 1] - crown - 0.02, 0.04, 0.32))
    # Over the temples: how far the person reaches beyond the cheeks.
    row = int(np.clip((top_y + points[headmod.EYE_R, 1]) / 2, 0, h - 1))
    line = np.nonzero(mask[row] > 0.5)[0]
    side = 0.06
    if len(line):
        left = points[headmod.CHEEK_R, 0] - line[0]
        right = line[-1] - points[headmod.CHEEK_L, 0]
        side = float(np.clip(min(left, right) / width - 0.06, 0.02, 0.2))
    # The hairline: up from the forehead's top landmark, where the skin ends.
    hairline = 0.05
    x = int(np.clip(top_x, 0, w - 1))
    for k in range(1, int(0.4 * width)):
        y = int(top_y) - k
        if y < 0:
            break
        if np.linalg.norm(rgb[y, x] / 255.0 - skin) > 0.2:
            hairline = float(np.clip(k / width - 0.02, -0.02, 0.3))
            break
    return HairStyle(color, False, top, side, hairline, fringe=_fringe(rgb, mask, points, skin, seen, width),
                     seen=seen)


def _fringe(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, skin: np.ndarray,
            seen: tuple[float, float, float], width: float) -> float:
    """How much of the forehead (from its top landmark halfway down to the brows) the hair covers: a fringe."""
    h, w = mask.shape
    top_x, top_y = points[headmod.FOREHEAD, :2]
    brow_y = (points[BROW_R, 1] + points[BROW_L, 1]) / 2
    pix, matte, inside = _window(rgb, mask, top_x - 0.22 * width, top_x + 0.22 * width, top_y + 0.04 * width,
                                 top_y + 0.55 * (brow_y - top_y))
    if inside < 0.5 or len(pix) < 30:
        return 0.0
    hairy = _not_skin(pix, skin) & (np.linalg.norm(pix / 255.0 - np.float32(seen), axis=1) < 0.25)
    return float(hairy.mean())


MIN_SIDE = 0.08  # long hair shows beside each side of the face for at least this share of its height


def _hair_length(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, color: tuple[float, float, float],
                 width: float, skin: np.ndarray, clothes: tuple[float, float, float] | None = None) -> float:
    """How far below the chin the hair falls (face widths; 0: short hair), read beside the face and neck: rows
    where the person's pixels just outside the face's sides are mostly the hair's colour, without a break from the
    temples down (clothes the hair's colour further down are not hair). ``clothes``: a colour that is not hair."""
    h, w = mask.shape
    chin_y = points[headmod.CHIN, 1]
    eye_y = (points[headmod.EYE_R, 1] + points[headmod.EYE_L, 1]) / 2
    y0, y1 = int(np.clip(eye_y, 0, h)), int(np.clip(chin_y + 1.6 * width, 0, h))
    if y1 - y0 < 4:
        return 0.0
    sides = []
    ref = np.float32(color)
    reach = 0.3 if max(color) < 0.45 else 0.4  # light hair varies more, root to highlight
    for edge, direction in ((points[headmod.CHEEK_R, 0], -1), (points[headmod.CHEEK_L, 0], 1)):
        xa, xb = sorted((edge + direction * 0.04 * width, edge + direction * 0.3 * width))
        xa, xb = int(np.clip(xa, 0, w)), int(np.clip(xb, 0, w))
        if xb - xa < 3:
            continue
        band = rgb[y0:y1, xa:xb].astype(np.float32) / 255
        flat = band.reshape(-1, 3)
        near = (np.linalg.norm(flat - ref, axis=1) < reach) & _not_skin(flat * 255, skin)
        if max(color) >= 0.45:  # blond or light brown hair has the skin's hue: told from skin by its strands
            gray = band.mean(axis=2)
            k = max(3, int(0.04 * width)) | 1
            mean = cv2.blur(gray, (k, k))
            texture = np.sqrt(np.maximum(cv2.blur(gray * gray, (k, k)) - mean * mean, 0)).reshape(-1)
            near |= (np.linalg.norm(flat - ref, axis=1) < 0.45) & (texture > 0.045)
        if clothes is not None and np.linalg.norm(np.subtract(clothes, color)) > 0.15:
            near &= np.linalg.norm(flat - np.float32(clothes), axis=1) > 0.15
        sides.append((near.reshape(band.shape[:2]) & (mask[y0:y1, xa:xb] > 0.5)).mean(axis=1) > 0.35)
    if not sides:
        return 0.0
    # Long hair: hair beside most of the face on both sides (a dark backdrop or a neighbour's dark clothes beside
    # one side of a short-haired head is no hair) down to below the chin, and reaching further on either side.
    hairy_rows = np.logical_or.reduce(sides)
    start = max(0, int(chin_y) - y0)
    face_rows = slice(0, max(1, int(chin_y + 0.25 * width) - y0))
    if (hairy_rows[face_rows].mean() < 0.7 or min(side[face_rows].mean() for side in sides) < MIN_SIDE
            or start >= len(hairy_rows)):
        return 0.0
    gap = max(2, int(0.15 * width))  # the hair ends where a stretch this long has none
    misses = np.convolve(~hairy_rows[start:], np.ones(gap), "valid") >= gap
    end = int(np.argmax(misses)) if misses.any() else len(hairy_rows) - start
    if end < 0.1 * width:
        return 0.0
    return float(np.clip(end / width, 0.2, 1.6))


def _shirt(rgb: np.ndarray, mask: np.ndarray, chin_x: float, chin_y: float, width: float, skin: np.ndarray,
           jacket: tuple[float, float, float]) -> tuple[float, float, float] | None:
    """The shirt under a jacket, if the chest shows one: a lighter colour than the jacket, in a good share of the
    chest just under the chin, and closer to the middle than the jacket is."""
    h, w = mask.shape
    x0, x1 = int(max(0, chin_x - 0.5 * width)), int(min(w, chin_x + 0.5 * width))
    y0, y1 = int(max(0, chin_y + 0.1 * width)), int(min(h, chin_y + 0.9 * width))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    pix = rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
    xs = np.tile(np.arange(x0, x1, dtype=np.float32), y1 - y0)
    keep = (mask[y0:y1, x0:x1].reshape(-1) > 0.6) & _not_skin(pix, skin)
    if keep.sum() < 200:
        return None
    pix, xs = pix[keep], np.abs(xs[keep] - chin_x)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(2)
    _, labels, centers = cv2.kmeans(pix, 3, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    jacket_i = int(np.argmin(np.linalg.norm(centers / 255 - np.float32(jacket), axis=1)))
    best = None
    for i in range(3):
        share = (labels == i).mean()
        light = centers[i].sum() > centers[jacket_i].sum() + 0.25 * 255 * 3 / 3
        central = np.median(xs[labels == i]) < min(0.3 * width, np.median(xs[labels == jacket_i]))
        if i != jacket_i and share > 0.1 and light and central and (best is None or centers[i].sum() >
                                                                     centers[best].sum()):
            best = i
    return None if best is None else tuple(float(c) for c in centers[best] / 255)  # type: ignore[return-value]


def _tie(rgb: np.ndarray, mask: np.ndarray, chin_x: float, chin_y: float, width: float, skin: np.ndarray,
         jacket: tuple[float, float, float], shirt: tuple[float, float, float]) -> tuple[float, float, float] | None:
    """A tie: what lies between the shirt's two sides, row by row down the chest, when it is neither shirt nor
    jacket nor skin (the face may be turned from the body, so the tie is looked for, not assumed under the chin)."""
    h, w = mask.shape
    y0, y1 = int(np.clip(chin_y + 0.3 * width, 0, h)), int(np.clip(chin_y + 1.0 * width, 0, h))
    x0, x1 = int(np.clip(chin_x - 0.6 * width, 0, w)), int(np.clip(chin_x + 0.6 * width, 0, w))
    if y1 - y0 < 4 or x1 - x0 < 4:
        return None
    area = rgb[y0:y1, x0:x1].astype(np.float32) / 255
    is_shirt = np.linalg.norm(area - np.float32(shirt), axis=2) < 0.15
    other = ((np.linalg.norm(area - np.float32(jacket), axis=2) > 0.2) & ~is_shirt
             & _not_skin(area.reshape(-1, 3) * 255, skin).reshape(area.shape[:2]))
    picked = []
    for row in range(area.shape[0]):
        cols = np.nonzero(is_shirt[row])[0]
        if len(cols) >= 2 and cols[-1] - cols[0] > 0.08 * width:
            between = np.nonzero(other[row, cols[0]:cols[-1]])[0]
            picked.append(area[row, cols[0] + between])
    pixels = np.concatenate(picked) if picked else np.zeros((0, 3), np.float32)
    if len(pixels) < 0.02 * width * width:
        return None
    color = _dominant(pixels * 255)
    if color is None or _skin_like(np.float32([color]) * 255, skin)[0]:
        return None
    apart = min(np.linalg.norm(np.subtract(color, shirt)), np.linalg.norm(np.subtract(color, jacket)))
    return color if apart >= 0.2 else None


def _outfit(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, skin: np.ndarray, width: float,
            options: FigureOptions, hair: tuple[float, float, float] | None = None) -> Outfit:
    v = options.variation
    chin_x, chin_y = points[headmod.CHIN, :2]
    top = None
    # The chest; a close-up that ends just under the chin still shows the clothes' colour in its last rows.
    for start, enough in ((0.5, lambda keep, inside: inside > 0.12 and keep.mean() > 0.2),
                          (0.3, lambda keep, inside: keep.sum() > 0.04 * width * width),
                          (0.15, lambda keep, inside: keep.sum() > 0.04 * width * width)):
        pix, matte, inside = _window(rgb, mask, chin_x - 1.0 * width, chin_x + 1.0 * width,
                                     chin_y + start * width, chin_y + 1.8 * width)
        keep = (matte > 0.6) & _not_skin(pix, skin)
        if hair is not None:  # long hair falls over the chest's sides: not the clothes
            keep &= np.linalg.norm(pix / 255.0 - np.float32(hair), axis=1) > 0.18
            if max(hair) < 0.4:  # dark hair runs from black to its lit strands: all of it
                keep &= pix.max(axis=1) / 255.0 > 1.5 * max(hair)
        top = _dominant(pix[keep]) if enough(keep, inside) else None
        if top:
            break
    # A jacket over a shirt: the middle of the chest (under the chin) another colour than the sides.
    shirt = _shirt(rgb, mask, chin_x, chin_y, width, skin, top) if top else None
    open_collar = shirt is not None and float(np.linalg.norm(np.float32(shirt) / (sum(shirt) + 1e-6)
                                                              - skin / (skin.sum() + 1e-6))) < 0.06
    tie = _tie(rgb, mask, chin_x, chin_y, width, skin, top, shirt) if shirt and not open_collar else None
    top = top or OUTFITS[v % len(OUTFITS)]  # the photo stops at the neck: a plausible outfit
    bottom, shoes, pose = None, None, None
    h = mask.shape[0]
    below = mask[int(min(h - 1, chin_y)):, int(max(0, chin_x - width)):int(chin_x + width)] > 0.5
    rows = np.nonzero(below.any(axis=1))[0]
    if len(rows) and rows[-1] > 4.5 * width:  # the photo shows the legs: their colours
        span = rows[-1]
        pix, matte, _ = _window(rgb, mask, chin_x - 0.4 * width, chin_x + 0.4 * width, chin_y + 0.6 * span,
                                chin_y + 0.85 * span)
        bottom = _dominant(pix[matte > 0.6])
        pix, matte, _ = _window(rgb, mask, chin_x - 0.6 * width, chin_x + 0.6 * width, chin_y + 0.96 * span,
                                chin_y + span)
        shoes = _median_color(pix[matte > 0.6])
        pose = _stance(mask, chin_x, chin_y, span, width)
    if bottom is None and shirt is not None:  # a suit: the trousers match the jacket
        bottom = top
    if bottom is None:
        lum = 0.3 * top[0] + 0.6 * top[1] + 0.1 * top[2]
        bottom = TROUSERS[(v + (2 if lum < 0.25 else 0)) % len(TROUSERS)]
    shoes = shoes or SHOES[v % len(SHOES)]
    skin_t = tuple(float(c) for c in skin)
    if options.pose == "action":
        return Outfit(top, bottom, shoes, skin_t, shirt, tie, arm_out=(0.35, 0.3), arm_raise=(1.9, 0.5),
                      elbow=(0.5, 1.3), leg_out=(0.12, 0.1), stride=0.2)
    if pose is not None:  # a full-length photo: the person's own stance
        arms, legs = pose
        return Outfit(top, bottom, shoes, skin_t, shirt, tie, arm_out=arms, elbow=(0.25, 0.25), leg_out=legs)
    swing = 0.08 * ((v // 2) % 3)
    return Outfit(top, bottom, shoes, skin_t, shirt, tie, arm_out=(0.14 + swing, 0.14), elbow=(0.2 + swing, 0.3))


def _stance(mask: np.ndarray, chin_x: float, chin_y: float, span: float, width: float
            ) -> tuple[tuple[float, float], tuple[float, float]]:
    """How far a person seen full length holds each arm and leg out (radians; figure's right side first), from
    the matte: how far it reaches out at the hands' height, and where the feet stand apart."""
    h, w = mask.shape
    person = mask > 0.5
    arms = []
    rows = person[int(np.clip(chin_y + 0.3 * span, 0, h - 1)):int(np.clip(chin_y + 0.5 * span, 1, h))]
    cols = np.nonzero(rows.any(axis=0))[0] if rows.size else np.array([], int)
    for reach in ((chin_x - cols.min()) if len(cols) else 0.0, (cols.max() - chin_x) if len(cols) else 0.0):
        # Arms hanging down reach ~1.3 face widths out at the hips; an arm out reaches further along its length.
        arms.append(float(np.clip(np.arctan2(max(0.0, reach - 1.3 * width), 2.6 * width), 0.1, 1.1)))
    legs = (0.03, 0.03)
    feet = person[int(np.clip(chin_y + 0.92 * span, 0, h - 1)):int(np.clip(chin_y + 0.97 * span, 1, h)),
                  int(max(0, chin_x - 2 * width)):int(min(w, chin_x + 2 * width))]
    if feet.size:
        filled = np.nonzero(feet.mean(axis=0) > 0.5)[0]
        if len(filled) > 2:
            apart = (filled.max() - filled.min()) / 2 - 0.45 * width  # half the stance beyond the legs' own width
            angle = float(np.clip(np.arctan2(max(0.0, apart), 3.4 * width), 0.03, 0.25))
            legs = (angle, angle)
    return (arms[0], arms[1]), legs


# The photo's own pose: read only where the photo shows the body below the chest (a close-up keeps the default).
POSE_BELOW_CHIN = 2.2  # face widths of photo (and person) under the chin
UPPER_ARM_SPAN, FOREARM_SPAN = 0.8, 0.75  # a person's upper arm and forearm, in shoulder widths


def _limb_dir(a, b, length: float, outward: float) -> tuple[float, float, float]:
    """A limb's direction (outward, up, forward) from two landmarks: its length in the photo's plane, the rest
    towards or away from the camera (forward unless the landmarks' depth says clearly back)."""
    dx, dy = b.x - a.x, a.y - b.y
    flat = float(np.hypot(dx, dy))
    depth = float(np.sqrt(max(0.0, length * length - flat * flat)))
    if b.z - a.z > 0.3 * length:
        depth = -depth
    return (dx * outward, dy, depth)


def _arm_pose(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, width: float):
    """The person's own arms (``Outfit.arm_dirs``) and legs' spread from BlazePose's landmarks, or None where the
    photo doesn't show them (a close-up, an arm out of the photo or hidden)."""
    from minime.core.engines.classic.pose_model import read_pose

    h, w = mask.shape
    chin_x, chin_y = (float(v) for v in points[headmod.CHIN, :2])
    low = min(h, int(chin_y + POSE_BELOW_CHIN * width))
    column = mask[int(np.clip(chin_y, 0, h - 1)):, int(max(0, chin_x - width)):int(min(w, chin_x + width))] > 0.5
    if h - chin_y < POSE_BELOW_CHIN * width or not column.size or not column[low - int(chin_y) - 1:].any():
        return None
    # The region BlazePose expects: upright, around the whole body (from the head's top to the feet, about 10 face
    # widths), a quarter of margin.
    top, bottom = chin_y - 1.6 * width, chin_y + 8.5 * width
    pose = read_pose(rgb, chin_x, (top + bottom) / 2, 1.25 * (bottom - top))
    return None if pose is None else _pose_to_figure(pose, chin_x, chin_y, width)


def _pose_to_figure(pose, chin_x: float, chin_y: float, width: float):
    """BlazePose's landmarks of the person whose chin is at (``chin_x``, ``chin_y``) (face ``width`` px) as
    ``(arms, legs)``: per side (the person's right first) the arm's (upper arm, forearm) directions for
    ``Outfit.arm_dirs`` and the leg's spread (radians), None where not seen; None when the pose is not theirs."""
    shoulders = [pose.get("shoulder", k) for k in (0, 1)]
    if any(s is None for s in shoulders):
        return None
    mid_x = (shoulders[0].x + shoulders[1].x) / 2
    mid_y = (shoulders[0].y + shoulders[1].y) / 2
    if abs(mid_x - chin_x) > 1.0 * width or not 0 < mid_y - chin_y < 2.0 * width:
        return None  # another person's shoulders (a group's neighbour), or a misread
    span = float(np.hypot(shoulders[0].x - shoulders[1].x, shoulders[0].y - shoulders[1].y))
    span = max(span, 1.2 * width)  # a body turned from the camera shows narrow shoulders
    arms = []
    for k, outward in ((0, -1.0), (1, 1.0)):  # the person's right arm is on the photo's left
        shoulder, elbow, wrist = pose.get("shoulder", k), pose.get("elbow", k), pose.get("wrist", k)
        if elbow is None:
            arms.append(None)
            continue
        upper = _limb_dir(shoulder, elbow, UPPER_ARM_SPAN * span, outward)
        if wrist is not None:
            fore = _limb_dir(elbow, wrist, FOREARM_SPAN * span, outward)
        else:
            hip = pose.joints["hip"][k]
            if hip.visibility < 0.5 or elbow.y < shoulder.y:
                arms.append(None)
                continue
            # The wrist hidden at the hip (a hand in a pocket): the forearm down to the hip's side, a little forward.
            fore = (float((hip.x - elbow.x) * outward), float(elbow.y - hip.y), 0.3 * FOREARM_SPAN * span)
            if fore[1] > -0.2 * span:
                arms.append(None)
                continue
        arms.append((upper, fore))
    legs = []
    for k, outward in ((0, -1.0), (1, 1.0)):
        hip, ankle = pose.get("hip", k), pose.get("ankle", k)
        if hip is None or ankle is None or ankle.y <= hip.y:
            legs.append(None)
        else:
            legs.append(float(np.clip(np.arctan2((ankle.x - hip.x) * outward, ankle.y - hip.y), 0.03, 0.3)))
    if all(a is None for a in arms) and all(g is None for g in legs):
        return None
    return tuple(arms), tuple(legs)


def _clear_pose(arms) -> bool:
    """Whether an arm pose is a clear one (an arm raised, or held across the body), worth an action figure's."""
    return any(a is not None and (a[1][1] > 0.2 * np.linalg.norm(a[1]) or a[1][0] < -0.5 * np.linalg.norm(a[1])
                                  or a[0][1] > 0) for a in arms)


GROUP_ARM_OUT = 0.3  # radians: a hanging arm swung out further would reach into the neighbour (1.75 apart)
GROUP_REACH = 0.8  # in a group, how far out (face widths from the middle) a hand may reach: not into a neighbour


def _reach(arm) -> float:
    """How far from the body's middle an arm posed by ``(upper, forearm)`` directions reaches (through the hand)."""
    upper, fore = (np.float64(d) / max(np.linalg.norm(d), 1e-6) for d in arm)
    return 0.47 + UPPER_ARM * upper[0] + (FOREARM + 0.2) * fore[0]


def _posed(outfit: Outfit, found, options: FigureOptions, group: bool = False) -> Outfit:
    """The outfit in the photo's own pose where it was read (an action figure keeps its pose unless the photo's
    is a clear one; in a group an arm reaching into a neighbour keeps the default)."""
    if group and options.pose != "action":  # the matte's stance reads a neighbour or a table as an arm held out
        outfit = replace(outfit, arm_out=tuple(min(a, GROUP_ARM_OUT) for a in outfit.arm_out))
    if found is None:
        return outfit
    arms, legs = found
    if group:
        arms = tuple(a if a is not None and _reach(a) <= GROUP_REACH else None for a in arms)
    if options.pose == "action":
        if not _clear_pose(arms):
            return outfit
        # The photo's pose instead of the action pose: an arm it doesn't show hangs (not half an action pose).
        outfit = replace(outfit, arm_out=(0.14, 0.14), arm_raise=(0.0, 0.0), elbow=(0.25, 0.25))
    leg_out = tuple(g if g is not None else outfit.leg_out[i] for i, g in enumerate(legs))
    if any(a is not None for a in arms):
        return replace(outfit, arm_dirs=arms, leg_out=leg_out, stride=outfit.stride)
    return replace(outfit, leg_out=leg_out)


def _person(rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, options: FigureOptions, floor: float,
            dark_floor: float = DARK_HAIR) -> list[Part]:
    frame = FaceFrame.of(points)
    canon = frame.canonical(points)
    shape = head_shape(canon)
    skin = _skin(rgb, points)
    style = _hair(rgb, mask, points, canon, skin, frame.width, dark_floor)
    if dark_floor != DARK_HAIR:  # in a group the heads are small: hair over the forehead or down the cheeks makes a
        # small face stop reading as a face (tests/test_group_looks.py finds every face again)
        style = replace(style, side=min(style.side, 0.1), fringe=0.0)
    face = head_part(shape, frame, skin)
    # The skin everywhere else is the photo's colour where the face fades into it (no rim round the face).
    ring = (face.tex > 0.4) & (face.tex < 0.95)
    seen = remap_points(rgb.astype(np.float32), face.uv[ring, 0], face.uv[ring, 1]) / 255
    seen = seen[np.linalg.norm(seen - skin, axis=1) < 0.2]  # not the hair or eyebrows the fade passes over
    if len(seen) > 50:
        skin = np.median(seen, axis=0).astype(np.float32)
        face = Part(face.name, face.vertices, face.faces, np.broadcast_to(skin.astype(np.float32),
                    face.vertices.shape).copy(), face.material, face.uv, face.tex)
    if not style.bald:
        style = replace(style, long=_hair_length(rgb, mask, points, style.seen or style.color, frame.width, skin))
    # Long hair over the chest is no clothing (short dark hair can't be told from dark clothes by its colour).
    hair_seen = None if style.bald or (max(style.color) < 0.25 and not style.long) else (style.seen or style.color)
    outfit = _outfit(rgb, mask, points, skin, frame.width, options, hair_seen)
    costume = costume_for(options.costume)
    if costume is not None:
        outfit = dressed(outfit, costume)
    outfit = _posed(outfit, _arm_pose(rgb, mask, points, frame.width), options, group=dark_floor != DARK_HAIR)
    body, neck_top = body_parts(outfit, floor, options.body_scale)
    head = [face]
    front = headmod.front_locks_part(shape, style) if options.head_scale <= 1.2 else None  # a bobblehead's big
    # head would push them into its small body
    for extra in (hair_part(shape, style, options.variation), long_hair_part(shape, style), front,
                  hat_part(shape, costume) if costume else None):
        if extra is not None:
            head.append(extra)
    # The chin sits on the neck, the head's centre above it; the head grows from there.
    pivot = np.float32([0.0, shape.chin, shape.center[2] + 0.2])
    target = np.float32([0.0, neck_top, 0.0])
    head = [p.moved(target - pivot, options.head_scale, about=pivot) for p in head]
    return body + head


def _shifted(part: Part, name: str, dx: float) -> Part:
    """A person's part moved along the row of a group (its shirt's V along with it)."""
    extras = dict(part.extras)
    if "vee" in extras:
        cx, *rest = extras["vee"]
        extras["vee"] = (cx + dx, *rest)
    return Part(name, part.vertices + np.float32([dx, 0, 0]), part.faces, part.color, part.material, part.uv,
                part.tex, extras)


def build(look, options: FigureOptions | None = None) -> FigureModel:
    """The figure of everyone in ``look``'s photo (left to right, on one base).

    Raises:
        NoFigureError: no person in the photo, or every face is too small to sculpt.
    """
    options = options or FigureOptions()
    rgb = np.asarray(look.source.convert("RGB"))
    faces = [f for f in look.faces if f[2] >= SMALLEST_FACE * look.min_face_px]
    if not look.faces:
        raise NoFigureError()
    if not faces:
        raise NoFigureError(NoFigureError.SMALL)
    # In a group, once someone can be sculpted, nobody is left out for a smaller face (down to ~40 px).
    faces = [f for f in look.faces if f[2] >= GROUP_SMALLEST_FACE * look.min_face_px]
    mask = look.subject.mask
    people = []
    for face in sorted(faces, key=lambda f: f[0])[:MAX_PEOPLE]:
        points = face_mesh(rgb, face)
        if points is not None:
            people.append(_person(rgb, mask, points, options, BASE_HEIGHT,
                                  DARK_HAIR_GROUP if len(faces) > 1 else DARK_HAIR))
    if not people:
        raise NoFigureError()
    parts: list[Part] = []
    n = len(people)
    step = SPACING * max(options.body_scale, 0.75 * options.head_scale)  # big heads (a bobblehead set) never overlap
    for i, person in enumerate(people):
        dx = (i - (n - 1) / 2) * step
        parts += [_shifted(p, f"p{i}.{p.name}" if n > 1 else p.name, dx) for p in person]
    radius = 1.12 * max(options.body_scale, 0.85)
    verts, tris = plinth(radius + (n - 1) * step / 2, radius, BASE_HEIGHT, 0.07,
                         roundness=2.0 if n == 1 else 4.0)
    color = BASES[options.base % len(BASES)] if options.base_color is None else options.base_color
    parts.append(Part("base", verts, tris, np.broadcast_to(np.float32(color), verts.shape).astype(np.float32),
                      "base"))
    return FigureModel(tuple(parts), rgb, n, options)
