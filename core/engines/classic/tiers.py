"""A group photo rearranged to fill a portrait picture: everyone cut out and as large as the picture allows, in one
row, or in two (the left part of the group behind, raised, the right part in front, below the back row's faces) when
that makes the people clearly bigger, as a magazine or a poster shows a cast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from minime.core.engines.classic.look import Look

Box = tuple[float, float, float, float]
TWO_ROWS_GAIN = 1.15  # two rows only when they make the people this much larger than one row does
FADE = 120  # px: where a row's photo ends above the picture's foot, its people fade out over this height
SIDE_FADE = 48  # px: where the photo's side edge falls inside the picture, a person cut by it fades out sideways


@dataclass
class Tiers:
    rgb: np.ndarray  # uint8 H × W × 3: the people (the photo's own pixels behind them, black where there is none)
    alpha: np.ndarray  # float32 H × W: where the people are
    faces: list[Box]  # every face (x, y, w, h) where it lands in the picture


def _heads(faces: list[tuple[int, int, int, int]]) -> tuple[float, float, float, float, float]:
    """The box (x0, y0, x1, y1) around these heads (hair, ears, chin and a little shoulder on the outer sides) and
    the lowest chin (the faces' lowest edge)."""
    side = 0.3 * float(np.median([w for _, _, w, _ in faces]))
    return (min(x - 0.35 * w for x, _, w, _ in faces) - side, min(y - 0.7 * h for _, y, _, h in faces),
            max(x + 1.35 * w for x, _, w, _ in faces) + side, max(y + 1.3 * h for _, y, _, h in faces),
            max(y + h for _, y, _, h in faces))


def arrange(look: Look, size: tuple[int, int], top: int, floor: int) -> Tiers:
    """The group cut out and laid out on a picture of ``size``: the highest head starting at ``top``, every face
    above ``floor``, each row as wide as the picture allows (a little of the outer shoulders may leave it, never a
    head), the bodies down to the picture's foot."""
    w, h = size
    faces = sorted(look.faces, key=lambda f: f[0])
    one = _heads(faces)
    one_scale = min(w / (one[2] - one[0]), (floor - top) / max(1.0, one[4] - one[1]))
    rows = [faces]
    scale = one_scale
    if len(faces) >= 3:
        back, front = faces[:(len(faces) + 1) // 2], faces[(len(faces) + 1) // 2:]
        hb, hf = _heads(back), _heads(front)
        gap = 0.15 * float(np.median([f[3] for f in faces]))
        two_scale = min(w / max(hb[2] - hb[0], hf[2] - hf[0]),
                        (floor - top) / max(1.0, hb[4] - hb[1] + hf[4] - hf[1] + gap))
        if two_scale > one_scale * TWO_ROWS_GAIN:
            rows, scale = [back, front], two_scale
    parts = split_people(look.subject.mask, faces) if len(rows) == 2 else [look.subject.mask]
    rgb, alpha = np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.float32)
    placed: list[Box] = []
    row_top = float(top)
    start = 0
    for row in rows:
        mask = parts[0] if len(rows) == 1 else sum(parts[start:start + len(row)])
        start += len(row)
        hx0, hy0, hx1, _, lowest = _heads(row)
        m = np.array([[scale, 0, w / 2 - (hx0 + hx1) / 2 * scale], [0, scale, row_top - hy0 * scale]], np.float32)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        # (the photo's edge pixels drawn out beyond it: no dark edge there for a look's ink lines to trace)
        row_rgb = cv2.warpAffine(np.asarray(look.source), m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        row_alpha = np.clip(cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR) * 1.2 - 0.1, 0, 1)
        foot = int(row_top + (look.source.height - hy0) * scale)  # where the photo ends
        if foot < h:  # the people fade out above the photo's cut edge
            row_alpha *= np.clip((foot - np.arange(h, dtype=np.float32)) / FADE, 0, 1)[:, None]
        left, right = m[0, 2], m[0, 2] + look.source.width * scale  # the photo's sides, softened when inside
        if left > 0 or right < w:
            xs = np.arange(w, dtype=np.float32)
            row_alpha *= np.clip(np.minimum(xs - left, right - xs) / SIDE_FADE, 0, 1)[None, :]
        if row is rows[0]:  # the back row brings the photo behind it, where the look may show it faintly
            rgb, alpha = row_rgb, row_alpha
        else:
            rgb = cv2.blendLinear(row_rgb, rgb, row_alpha, 1 - row_alpha)
            alpha = np.maximum(alpha * (1 - row_alpha), row_alpha)
        placed += [(m[0, 0] * x + m[0, 2], m[1, 1] * y + m[1, 2], fw * scale, fh * scale) for x, y, fw, fh in row]
        row_top += (lowest - hy0) * scale + 0.15 * float(np.median([f[3] for f in faces])) * scale
    return Tiers(rgb, alpha, placed)


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
