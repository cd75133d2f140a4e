"""The person cut out of the photo (RGBA), die-cut borders, and the words after "|" — shared by the trend looks."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic.look import Look


def person(look: Look, max_w: int, max_h: int, *, box: tuple[int, int, int, int] | None = None) -> Image.Image:
    """The person (RGBA, transparent around them) scaled to fit max_w × max_h; ``box`` (x0, y0, x1, y1) limits the
    crop (a head-and-shoulders crop). Without a person, the photo's centre in a soft oval."""
    return person_and_faces(look, max_w, max_h, box=box)[0]


EDGE_FADE = 0.07  # of the cut-out's size: where the crop or the photo's edge cuts the person, they fade out over this


def person_and_faces(look: Look, max_w: int, max_h: int, *, box: tuple[int, int, int, int] | None = None,
                     fade_bottom: bool = False, whole: tuple[tuple[int, int, int, int], ...] | None = None
                     ) -> tuple[Image.Image, list[tuple[float, float, float, float]]]:
    """:func:`person`, and where every face (x, y, w, h) lands in it.

    The crop never slices a head (of ``whole``: every face, unless only some are the crop's subject): ``box``
    grows to take in each head's hair whole. Where the crop (or the photo's
    own edge) still cuts through the person at a side or the top (or the bottom, with ``fade_bottom``), the person
    fades out softly towards that edge instead of ending in a hard cut line."""
    rgb = np.asarray(look.source)
    mask = look.subject.mask
    if not look.subject.found:
        h, w = mask.shape
        mask = np.zeros_like(mask)
        cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.42), int(h * 0.46)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 4)
    ys, xs = np.nonzero(mask > 0.35)
    if len(xs) < 10:
        x0, y0, x1, y1 = 0, 0, mask.shape[1], mask.shape[0]
    else:
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    if box:
        heads = (look.faces if whole is None else whole) if look.subject.found else ()
        bx0, by0, bx1, by1 = _whole_heads(mask, box, heads)
        x0, y0, x1, y1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    scale = min(max_w / max(1, x1 - x0), max_h / max(1, y1 - y0))
    size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), size, interpolation=interp)
    alpha = cv2.resize(np.ascontiguousarray(mask[y0:y1, x0:x1]), size, interpolation=cv2.INTER_LINEAR)
    alpha = np.clip(alpha * 1.2 - 0.1, 0, 1)
    alpha = _background_at_edge(crop, alpha)
    crop = _decontaminated(crop, alpha)
    fade_cut_edges(alpha, fade_bottom)
    faces = [((fx - x0) * scale, (fy - y0) * scale, fw * scale, fh * scale) for fx, fy, fw, fh in look.faces]
    return Image.fromarray(np.dstack([crop, (alpha * 255).astype(np.uint8)]), "RGBA"), faces


EDGE_BAND = 0.012  # of the cut-out's size: how far in from the matte's edge the background may still show
LIKE_BACKGROUND = 24  # RGB distance: how much closer to the background beside it than to the person an edge pixel is


def _background_at_edge(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The matte taken back where its edge holds the background (a green fringe of trees round the hair, a strip of
    wall by a shoulder): near the edge, a pixel far more like the background just outside than like the person just
    inside goes transparent. Both colours are smooth fields, worked out at a quarter size; only the band along the
    edge is looked at."""
    h, w = alpha.shape
    small = (max(1, w // 4), max(1, h // 4))
    a_small = cv2.resize(alpha, small, interpolation=cv2.INTER_AREA)
    outside = (a_small < 0.5).astype(np.uint8)
    if not outside.any() or outside.all():
        return alpha
    reach = max(1, int(EDGE_BAND * max(h, w) / 4))
    near = cv2.dilate(outside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
    near = cv2.dilate(near, np.ones((3, 3), np.uint8))  # (a quarter-size pixel's worth of slack)
    ys, xs = np.nonzero(cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST) & (alpha > 0.02))
    if not len(ys):
        return alpha
    sigma = max(2.0, max(h, w) / 200)
    rgb_small = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA).astype(np.float32)

    def field(weight: np.ndarray) -> np.ndarray:
        total = cv2.GaussianBlur(weight, (0, 0), sigma)
        colour = cv2.GaussianBlur(rgb_small * weight[..., None], (0, 0), sigma)
        return colour / np.maximum(total, 1e-3)[..., None]

    inner = cv2.erode((a_small > 0.95).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    sy, sx = np.minimum(ys // 4, small[1] - 1), np.minimum(xs // 4, small[0] - 1)
    px = rgb[ys, xs].astype(np.float32)
    to_person = np.sqrt(((px - field(inner)[sy, sx]) ** 2).sum(axis=1))
    to_background = np.sqrt(((px - field(outside.astype(np.float32))[sy, sx]) ** 2).sum(axis=1))
    away = np.zeros((h, w), np.float32)
    away[ys, xs] = np.clip((to_person - to_background - LIKE_BACKGROUND) / LIKE_BACKGROUND, 0, 1)
    away = np.clip(cv2.GaussianBlur(away, (0, 0), max(1.5, max(h, w) / 500)) * 1.5, 0, 1)
    return (alpha * (1 - away)).astype(np.float32)


def _decontaminated(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The cut-out's colours with the background taken out of its soft edge (hair against a green wall keeps no
    green fringe): where the matte is partial, the colour moves towards the person's own colour nearby (the
    average of the surely-person pixels around it). That average is a smooth field: it is worked out at a quarter
    size (premultiplied, so no background gets in) and drawn back up."""
    edge = np.clip((1 - alpha) * 1.4, 0, 1) * (alpha > 0.02)
    if not edge.any():
        return rgb
    h, w = alpha.shape
    small = (max(1, w // 4), max(1, h // 4))
    weight = (alpha ** 4).astype(np.float32)
    sigma = max(0.75, max(h, w) / 640)
    near = cv2.GaussianBlur(cv2.resize(rgb.astype(np.float32) * weight[..., None], small,
                                       interpolation=cv2.INTER_AREA), (0, 0), sigma)
    total = cv2.GaussianBlur(cv2.resize(weight, small, interpolation=cv2.INTER_AREA), (0, 0), sigma)
    own = np.clip(near / np.maximum(total, 1e-3)[..., None], 0, 255).astype(np.uint8)
    own = cv2.resize(own, (w, h), interpolation=cv2.INTER_LINEAR)
    edge = edge.astype(np.float32)
    return cv2.blendLinear(rgb, own, 1 - edge, edge)


def _whole_heads(mask: np.ndarray, box: tuple[int, int, int, int], faces) -> tuple[int, int, int, int]:
    """``box`` grown so that no head in it is cut: up to the top of each face's hair (the matte above the face),
    out to its sides."""
    x0, y0, x1, y1 = box
    h, w = mask.shape
    for fx, fy, fw, fh in faces:
        if not (x0 <= fx + fw / 2 <= x1 and y0 <= fy + fh / 2 <= y1):
            continue  # a face outside the box (a neighbour's, at its edge) stays out
        cx0, cx1 = int(max(0, fx - 0.45 * fw)), int(min(w, fx + 1.45 * fw))
        column = mask[:int(max(0, fy + fh * 0.5)), cx0:cx1] > 0.35
        rows = np.nonzero(column.any(axis=1))[0]
        top = int(rows.min()) if len(rows) else int(fy - 0.5 * fh)
        top = max(top, int(fy - 1.0 * fh))  # (no hair stands higher: above it is someone behind, not this head)
        y0 = min(y0, max(0, top - int(0.05 * fh)))
        x0, x1 = min(x0, max(0, int(fx - 0.5 * fw))), max(x1, min(w, int(fx + 1.5 * fw)))
    return x0, y0, x1, y1


def fade_cut_edges(alpha: np.ndarray, fade_bottom: bool) -> None:
    """Where the person reaches the cut-out's edge (cut by the crop or the photo), fade them out towards it (in
    place): a soft end instead of a straight cut line through an arm or a shoulder."""
    h, w = alpha.shape
    reach = max(4, int(EDGE_FADE * max(h, w)))
    touching = alpha > 0.5
    ramp = np.clip(np.arange(reach, dtype=np.float32) / reach, 0, 1) ** 0.8
    if touching[:, 0].mean() > 0.02:
        alpha[:, :reach] *= ramp[None, :]
    if touching[:, -1].mean() > 0.02:
        alpha[:, w - reach:] *= ramp[::-1][None, :]
    if touching[0].mean() > 0.02:
        alpha[:reach] *= ramp[:, None]
    if fade_bottom and touching[-1].mean() > 0.02:
        alpha[h - reach:] *= ramp[::-1][:, None]


def head_box(look: Look, below: float = 1.9, side: float = 1.4, above: float = 0.75) -> tuple[int, int, int, int]:
    """A head-and-shoulders box (x0, y0, x1, y1) around the face (the whole photo when there is none)."""
    if not look.face:
        return 0, 0, look.source.width, look.source.height
    x, y, w, h = look.face
    return (int(x - side * w), int(y - above * h), int(x + w + side * w), int(y + h + below * h))


def die_cut(figure: Image.Image, border: int, color: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """A sticker: the figure with a smooth border of ``color`` around its silhouette (RGBA)."""
    pad = border + 4
    canvas = Image.new("RGBA", (figure.width + 2 * pad, figure.height + 2 * pad), (0, 0, 0, 0))
    canvas.paste(figure, (pad, pad))
    alpha = np.asarray(canvas.getchannel("A"))
    # A round border of ``border`` px: the distance to the silhouette, thresholded (linear time, unlike a big dilate).
    distance = cv2.distanceTransform((alpha <= 100).astype(np.uint8), cv2.DIST_L2, 3)
    grown = np.clip((border + 0.5 - distance) * 255, 0, 255).astype(np.uint8)
    grown = cv2.GaussianBlur(cv2.morphologyEx(grown, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)), (0, 0), 1.2)
    base = Image.new("RGBA", canvas.size, (*color, 0))
    base.putalpha(Image.fromarray(grown))
    base.alpha_composite(canvas)
    return base


def name_and_things(look: Look, default: str = "") -> tuple[str, tuple[str, ...]]:
    """The name and the list after "|" (``/caricature Ada | nurse, running`` → ("Ada", ("nurse", "running")))."""
    things = tuple(getattr(look.params, "things", ()) or ())
    name, bar, rest = (look.params.name or "").partition("|")
    if bar and not things:
        things = tuple(t.strip() for t in rest.split(",") if t.strip())
    return (name.strip() or default), things[:4]


def cel_shade(rgb: np.ndarray, levels: int = 6, unbanded: np.ndarray | None = None) -> np.ndarray:
    """Painted-anime colour: smoothed flat regions, quantised tones, brighter and cleaner (worked at half size,
    where the brush strokes are the same and the filters cost a quarter). Where ``unbanded`` (float32 0..1, the
    picture's size) is 1 the tones stay continuous: a smooth painted skin cut into bands turns into blotches."""
    small = cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small = cv2.bilateralFilter(cv2.bilateralFilter(small, 7, 40, 7), 5, 40, 5)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    tone = (np.arange(256) / 255) ** 0.85
    lut_v = np.clip(np.round(tone * levels) / levels * 255 * 1.04 + 10, 0, 255)
    lut_s = np.clip(np.arange(256) * 1.25, 0, 255)
    banded = cv2.LUT(hsv[..., 2], lut_v.astype(np.uint8))
    if unbanded is not None:
        keep = cv2.resize(unbanded.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        even = cv2.LUT(hsv[..., 2], np.clip(tone * 255 * 1.04 + 10, 0, 255).astype(np.uint8))
        banded = cv2.blendLinear(banded, even, 1 - keep, keep)
    hsv[..., 2] = banded
    hsv[..., 1] = cv2.LUT(hsv[..., 1], lut_s.astype(np.uint8))
    flat = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return cv2.resize(flat, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)


def ink_lines(rgb: np.ndarray, thickness: float = 1.0) -> np.ndarray:
    """Ink outlines (float32 0..1 coverage) from the photo's edges, like a drawn line art (found at half size and
    drawn back up smoothly)."""
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    gray = cv2.bilateralFilter(cv2.medianBlur(gray, 5), 5, 30, 5)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 8)
    ink = 255 - edges
    # Drop specks (skin texture, noise): keep only strokes of some length.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(count, np.uint8)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= 16).astype(np.uint8) * 255
    lines = keep[labels]
    if thickness > 1:
        lines = cv2.dilate(lines, np.ones((2, 2), np.uint8))
    up = cv2.resize(lines, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    return np.clip((up - 0.3) * 2.2, 0, 1)  # thinner, crisp strokes after the upscale


def rotate(img: Image.Image, degrees: float) -> Image.Image:
    """An RGBA image rotated into a canvas that holds it (OpenCV's warp: several times faster than Pillow's)."""
    arr = np.asarray(img.convert("RGBA"))
    h, w = arr.shape[:2]
    rad = np.deg2rad(degrees)
    nw = int(abs(w * np.cos(rad)) + abs(h * np.sin(rad))) + 2
    nh = int(abs(w * np.sin(rad)) + abs(h * np.cos(rad))) + 2
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(arr, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(0, 0, 0, 0))
    return Image.fromarray(out, "RGBA")
