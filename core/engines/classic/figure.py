"""The person as a collectible toy: a sculpted bust on a pedestal or a standing figure on a clear acrylic base.

Everything is derived on the CPU from the photo, the person's matte and the face box: the silhouette is shaped like a
sculpt (a bust's rounded chest, no flat cuts), the head is enlarged a little for toy proportions, colours are pressed
into a few flat plastic tones (the face keeps its features), and a light model built from an inflated height field of
the silhouette and an ellipsoid head adds diffuse shading, specular highlights, a rim light and ambient occlusion.

Other looks build on :func:`render_figure` (one person); figure_set.py makes a set of them from a group photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.paint import Color, mix, soft_mask
from minime.core.engines.classic.toy_body import add_legs, body_box_bottom, complete_body, leg_length
from minime.core.memo import budget_cache

Box = tuple[int, int, int, int]  # x, y, w, h

BUST, STANDING = "bust", "standing"
PEDESTAL, ACRYLIC = "pedestal", "acrylic"


@dataclass(frozen=True)
class FigureStyle:
    """How the toy is finished: the stand's colour, the kind of base, how glossy and how flat the paint is."""

    base: str = PEDESTAL  # "pedestal" (a sculpted stand), "acrylic" (a round clear disc) or "none"
    base_color: Color = (43, 43, 58)
    gloss: float = 1.0
    tones: int = 7  # flat paint colours (the face keeps more of the photo so the person stays recognisable)
    head_scale: float | None = None  # toy proportions; None picks 1.12 for a bust, 1.3 for a standing figure
    shoulders: float = 1.75  # a bust's half width, in face widths (narrower in a group, so each figure is bigger)
    saturation: float = 1.25
    full_body: bool = False  # a head-and-shoulders photo becomes a standing figure (a toy body sculpted below it)


DEFAULT_STYLE = FigureStyle()


def figure_kind(mask: np.ndarray, face: Box | None) -> str:
    """``standing`` when the photo shows the body well below the face: full length, or cut by the photo's bottom edge
    below the hips (the toy's legs are then sculpted on); else ``bust``."""
    if face is None:
        return BUST
    below, cut_width = body_below(mask, face)
    _, _, fw, _ = face
    if cut_width is None:
        return STANDING if below > 5.2 else BUST
    # Cut by the photo: standing when the cut is low (thighs: about two face widths across), not a chest or a waist
    # with the arms beside it.
    return STANDING if below > 4.8 and cut_width < 3.0 * fw else BUST


def body_below(mask: np.ndarray, face: Box) -> tuple[float, float | None]:
    """How far the person reaches below the top of the face, in face heights, and, when the photo's bottom edge cuts
    them, how wide the cut is (pixels; None when the body ends inside the photo)."""
    rows = np.nonzero((mask > 0.5).any(axis=1))[0]
    if len(rows) == 0:
        return 0.0, None
    _, fy, _, fh = face
    below = (rows[-1] - fy) / max(1, fh)
    if rows[-1] < mask.shape[0] - 2:
        return below, None
    cols = np.nonzero(mask[-2] > 0.5)[0]
    return below, float(cols[-1] - cols[0]) if len(cols) else 0.0


def render_figure(source: np.ndarray, mask: np.ndarray, face: Box | None, seed: int, *, height: int,
                  style: FigureStyle = DEFAULT_STYLE, max_width: int | None = None, kind: str | None = None,
                  others: tuple[Box, ...] = ()) -> Image.Image:
    """One person as a toy figure on its base, ``height`` pixels tall (RGBA, transparent around it).

    Args:
        source: the photo, RGB uint8 (H×W×3).
        mask: the person's matte, float32 in [0, 1] (H×W); only the person around ``face`` is used.
        face: the person's face box (x, y, w, h) in source pixels; None sculpts the whole matte.
        seed: picks the light's direction (variations light the figure from another side).
        height: the figure's height including its base.
        style: base, colours and finish.
        max_width: the figure is scaled down to fit this width when it is wider.
        kind: ``bust`` or ``standing``; None decides from the photo (:func:`figure_kind`).
        others: the other faces of a group photo: a bust of one of them leaves the others' heads out and completes
            its chest where they (or a table) hid it.
    """
    kind = kind or figure_kind(mask, face)
    face = face or _face_guess(mask)
    if kind == BUST and others:
        crop = _member_bust_crop(source, mask, face, others, style.shoulders)
    elif kind == BUST and style.full_body:
        crop, kind = _full_body_crop(source, mask, face, style.shoulders, height), STANDING
    else:
        crop = _sculpt_crop(source, mask, face, kind, style.shoulders)
    base_frac = 0.0 if style.base == "none" else (0.2 if kind == BUST else 0.1)
    body_h = max(16, int(height * (1 - base_frac)))
    scale = body_h / crop.rgb.shape[0]
    scale = min(scale, 2048 / max(crop.rgb.shape[:2]))  # never an enormous canvas (a bad face box, a tiny crop)
    if max_width:
        scale = min(scale, max_width * 0.98 / crop.rgb.shape[1])
    body = _paint(crop, scale, seed, style, kind)
    return _on_base(body, crop.face_scaled(scale), kind, style, seed, base_frac)


# ---- framing ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Crop:
    rgb: np.ndarray  # uint8, the sculpt's frame of the photo (padded where it leaves the photo)
    alpha: np.ndarray  # float32, the sculpted silhouette in that frame
    face: tuple[float, float, float, float]  # face box in the frame

    def face_scaled(self, scale: float) -> tuple[float, float, float, float]:
        return tuple(v * scale for v in self.face)  # type: ignore[return-value]


def _face_guess(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask > 0.5)
    if len(xs) < 10:
        h, w = mask.shape
        return int(w * 0.4), int(h * 0.2), int(w * 0.2), int(h * 0.25)
    x0, x1, y0 = xs.min(), xs.max(), ys.min()
    fw = max(8, int((x1 - x0) * 0.32))
    return int((x0 + x1) / 2 - fw / 2), int(y0 + fw * 0.3), fw, int(fw * 1.2)


def _person_rows(mask: np.ndarray, face: Box) -> tuple[np.ndarray, np.ndarray, float]:
    """The matte of the person whose face this is, the rows it covers, and the top of their head (hair included)."""
    _, fy, _, fh = face
    person = _person_only(mask, face)
    rows = np.nonzero((person > 0.5).any(axis=1))[0]
    return person, rows, min(fy - 0.75 * fh, float(rows[0]) if len(rows) else fy - 0.75 * fh)


def _sculpt_crop(source: np.ndarray, mask: np.ndarray, face: Box, kind: str, shoulders: float = 1.75) -> _Crop:
    h, w = mask.shape
    fx, fy, fw, fh = face
    cx = fx + fw / 2
    person, rows, top = _person_rows(mask, face)
    if kind == STANDING:
        cols = np.nonzero((person > 0.5).any(axis=0))[0]
        x0, x1 = float(cols[0]), float(cols[-1])
        bottom = float(rows[-1]) + 2
        # Centred on the feet (or the legs where the photo cuts them), so the base is under them however the person
        # leans.
        feet = np.nonzero((person[int(max(0, bottom - 0.4 * fh)):int(bottom)] > 0.5).any(axis=0))[0]
        mid = (feet[0] + feet[-1]) / 2 if len(feet) else cx
        half = max(mid - x0, x1 - mid) + 0.1 * fw
        legs = leg_length(person, face)
        box = (mid - half, top - 0.08 * fh, mid + half, bottom + 2 + legs)
        rgb, alpha = _crop_padded(source, person, box)
        if legs:
            add_legs(rgb, alpha, int(round(h - box[1])), face)
        return _Crop(rgb, alpha, (fx - box[0], fy - box[1], fw, fh))
    last = float(rows[-1]) if len(rows) else fy + 2 * fh
    shoulder_y = fy + fh * 1.45
    chest = min(fy + fh * 3.1, last - 0.04 * fh)
    # As wide as the shoulders, but closing inside the photo (no side cut flat where the photo ends).
    band = person[int(min(h - 1, shoulder_y)):int(min(h, chest + 1))]
    cols = np.nonzero((band > 0.5).any(axis=0))[0] if band.size else np.array([])
    widest = shoulders * fw
    reach = min(cx - cols[0], cols[-1] - cx) if len(cols) else widest
    half = float(np.clip(min(widest, reach * 0.97 if reach > 0.6 * fw else widest), 0.6 * fw, widest))
    box = (cx - half - 0.05 * fw, top - 0.08 * fh, cx + half + 0.05 * fw, max(chest, fy + fh * 1.2) + 2)
    rgb, alpha = _crop_padded(source, person, box)
    ox, oy = box[0], box[1]
    # The bust's outline: everything above the shoulders, and below them a half ellipse (the rounded chest).
    ecx, ecy, ea, eb = cx, shoulder_y, half, max(0.25 * fh, chest - shoulder_y)
    inside = np.zeros(alpha.shape, np.uint8)
    top_rows = int(max(0, ecy - oy))
    inside[:top_rows, int(max(0, ecx - ea - ox)):int(max(0, ecx + ea - ox))] = 255
    cv2.ellipse(inside, (int(ecx - ox), int(ecy - oy)), (int(ea), int(eb)), 0, 0, 180, 255, -1)
    alpha = alpha * (soft_mask(inside, max(1.0, fw * 0.02)).astype(np.float32) / 255.0)
    return _Crop(rgb, alpha, (fx - ox, fy - oy, fw, fh))


def _full_body_crop(source: np.ndarray, mask: np.ndarray, face: Box, shoulders: float, height: int) -> _Crop:
    """A head-and-shoulders photo down to the chest, with a toy body sculpted below it (see toy_body.py), worked at
    about the figure's final ``height`` (the body is much taller than the photo: no need for its full resolution)."""
    h, w = mask.shape
    fx, fy, fw, fh = face
    cx = fx + fw / 2
    person, rows, top = _person_rows(mask, face)
    last = float(rows[-1]) if len(rows) else fy + 2 * fh
    shoulder_y, chest = fy + fh * 1.45, min(fy + fh * 2.4, last - 0.04 * fh)
    band = person[int(min(h - 1, shoulder_y)):int(min(h, chest + 1))]
    cols = np.nonzero((band > 0.5).any(axis=0))[0] if band.size else np.array([])
    reach = min(cx - cols[0], cols[-1] - cx) if len(cols) else shoulders * fw
    half = float(np.clip(reach * 0.97, 0.6 * fw, min(shoulders, 1.45) * fw))
    room = half + 0.75 * fw  # the arms hang beside the chest
    box = (cx - room, top - 0.08 * fh, cx + room, body_box_bottom(face) + 2)
    ox, oy = box[0], box[1]
    k = min(1.0, height * 1.1 / (box[3] - box[1]))
    rgb, alpha = _crop_scaled(source, person, box, k)
    inside = np.zeros(alpha.shape, np.uint8)
    inside[:int(max(0, (chest - oy) * k)), int(max(0, (cx - half - ox) * k)):int(max(0, (cx + half - ox) * k))] = 255
    alpha = alpha * (soft_mask(inside, max(1.0, fw * k * 0.02)).astype(np.float32) / 255.0)
    local = ((fx - ox) * k, (fy - oy) * k, fw * k, fh * k)
    complete_body(rgb, alpha, local, int((chest - oy) * k))  # type: ignore[arg-type]
    return _Crop(rgb, alpha, local)


def _crop_scaled(rgb: np.ndarray, mask: np.ndarray, box: tuple[float, float, float, float], k: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_crop_padded`, scaled by ``k`` (≤ 1): only the part inside the photo is resized."""
    if k >= 1.0:
        return _crop_padded(rgb, mask, box)
    h, w = mask.shape
    x0, y0, x1, y1 = box
    out_w, out_h = max(8, round((x1 - x0) * k)), max(8, round((y1 - y0) * k))
    out_rgb = np.zeros((out_h, out_w, 3), np.uint8)
    out_a = np.zeros((out_h, out_w), np.float32)
    sx0, sy0, sx1, sy1 = (int(round(v)) for v in (max(0, x0), max(0, y0), min(w, x1), min(h, y1)))
    if sx1 > sx0 and sy1 > sy0:
        dx0, dy0 = round((sx0 - x0) * k), round((sy0 - y0) * k)
        dw = min(out_w - dx0, max(1, round((sx1 - sx0) * k)))
        dh = min(out_h - dy0, max(1, round((sy1 - sy0) * k)))
        out_rgb[dy0:dy0 + dh, dx0:dx0 + dw] = cv2.resize(rgb[sy0:sy1, sx0:sx1], (dw, dh),
                                                         interpolation=cv2.INTER_AREA)
        out_a[dy0:dy0 + dh, dx0:dx0 + dw] = cv2.resize(mask[sy0:sy1, sx0:sx1], (dw, dh),
                                                       interpolation=cv2.INTER_AREA)
    return out_rgb, out_a


def _member_bust_crop(source: np.ndarray, part: np.ndarray, face: Box, others: tuple[Box, ...],
                      shoulders: float) -> _Crop:
    """One person of a group as a bust: the head and neck from their part of the matte (the other people's heads cut
    away), and below the shoulders a whole rounded chest sculpted in the colours of their own clothes, so someone
    sitting behind another person, or behind a table, still becomes a complete bust."""
    h, w = part.shape
    fx, fy, fw, fh = face
    cx = fx + fw / 2
    own = part.copy()
    for ox_, oy_, ow, oh in others:  # another person's head is never part of this bust
        cv2.ellipse(own, (int(ox_ + ow / 2), int(oy_ + oh * 0.45)), (int(ow * 0.62), int(oh * 0.78)), 0, 0, 360,
                    0.0, -1)
    own = _person_only(own, face)
    shoulder_y, chest = fy + fh * 1.3, fy + fh * 2.5
    half = shoulders * fw
    head = own[int(max(0, fy - fh)):int(max(1, shoulder_y))]
    rows = np.nonzero((head[:, int(max(0, cx - fw)):int(min(w, cx + fw))] > 0.5).any(axis=1))[0]
    top = min(fy - 0.7 * fh, fy - fh + float(rows[0]) if len(rows) else fy - 0.7 * fh)
    box = (cx - half - 0.05 * fw, top - 0.06 * fh, cx + half + 0.05 * fw, chest + 2)
    rgb, alpha = _crop_padded(source, own, box)
    ox, oy = box[0], box[1]
    ch_, cw_ = alpha.shape
    sy = int(shoulder_y - oy)
    # Above the shoulders: the photo's head and neck (within the head's reach, no neighbour's hand beside it).
    head_zone = np.zeros((ch_, cw_), np.uint8)
    cv2.ellipse(head_zone, (int(cx - ox), int(fy + fh * 0.45 - oy)), (int(fw * 0.8), int(fh * 1.1)), 0, 0, 360,
                255, -1)
    cv2.rectangle(head_zone, (int(cx - ox - 0.45 * fw), int(fy + 0.6 * fh - oy)), (int(cx - ox + 0.45 * fw), sy),
                  255, -1)
    photo_alpha = alpha
    alpha = alpha * (soft_mask(head_zone, max(1.0, fw * 0.02)).astype(np.float32) / 255.0)
    # Below: the rounded shoulders and a chest narrowing a little to a rounded bottom (a sculpted bust), whole.
    torso = np.zeros((ch_, cw_), np.uint8)
    bx, r = cx - ox, 0.32 * fh
    low = chest - oy - r
    cv2.ellipse(torso, (int(bx), sy), (int(half), int(0.5 * fh)), 0, 180, 360, 255, -1)
    cv2.fillPoly(torso, [np.array([(bx - half, sy), (bx + half, sy), (bx + 0.88 * half, low), (bx - 0.88 * half, low)],
                                  np.float32).round().astype(np.int32)], 255)
    cv2.ellipse(torso, (int(bx), int(low)), (int(0.88 * half), int(r)), 0, 0, 180, 255, -1)
    cv2.rectangle(torso, (int(bx - 0.4 * fw), int(fy + 0.75 * fh - oy)), (int(bx + 0.4 * fw), sy), 255, -1)
    torso_f = soft_mask(torso, max(1.0, fw * 0.02)).astype(np.float32) / 255.0
    # The photo's own clothes are kept in the chest's middle; its sides (where a neighbour's arm or the table
    # reaches in) are painted on from them.
    core = np.zeros((ch_, cw_), np.uint8)
    cv2.ellipse(core, (int(bx), int((sy + low) / 2)), (int(0.8 * half), int((low - sy) / 2 + 0.5 * fh)), 0, 0, 360,
                1, -1)
    known = (photo_alpha > 0.5) & (torso > 0) & ((core > 0) | (np.arange(ch_)[:, None] < sy))
    clothes = (torso > 0) & ~known
    if clothes.any():
        rgb = _fill_from(rgb, known & (np.arange(ch_)[:, None] > fy + 1.1 * fh - oy), clothes, fw)
    alpha = np.maximum(alpha, torso_f)
    return _Crop(rgb, alpha, (fx - ox, fy - oy, fw, fh))


def _fill_from(rgb: np.ndarray, known: np.ndarray, holes: np.ndarray, fw: float) -> np.ndarray:
    """``holes`` painted with the colours of ``known`` pixels nearby (a normalized blur; the median of them where
    none is near): someone's shirt continued where a table or another person hid it."""
    if known.sum() < 20:
        return rgb
    sigma = max(2.0, fw * 0.5)
    k = known.astype(np.float32)
    small = max(1, int(fw // 24))
    size = (max(4, rgb.shape[1] // small), max(4, rgb.shape[0] // small))
    num = cv2.GaussianBlur(cv2.resize(rgb.astype(np.float32) * k[..., None], size, interpolation=cv2.INTER_AREA),
                           (0, 0), sigma / small)
    den = cv2.GaussianBlur(cv2.resize(k, size, interpolation=cv2.INTER_AREA), (0, 0), sigma / small)[..., None]
    median = np.median(rgb[known], axis=0).astype(np.float32)
    fill = np.where(den > 0.02, num / np.maximum(den, 1e-3), median)
    fill = cv2.resize(fill, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = rgb.copy()
    out[holes] = np.clip(fill[holes], 0, 255).astype(np.uint8)
    return out


def _person_only(mask: np.ndarray, face: Box) -> np.ndarray:
    """The matte's part that belongs to the person at ``face``: the face region is always in (where the matte and
    the face disagree, the face wins) and blobs not joined to it (a chair, someone else's arm) are dropped.
    The blobs are found on a quarter-size copy (the same answer, far faster)."""
    fx, fy, fw, fh = face
    h, w = mask.shape
    k = 4
    small = cv2.resize(mask, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    head = np.zeros(small.shape, np.uint8)
    cv2.ellipse(head, (int((fx + fw / 2) / k), int((fy + fh * 0.5) / k)), (max(1, int(fw * 0.5 / k)),
                max(1, int(fh * 0.62 / k))), 0, 0, 360, 1, -1)
    binary = ((small > 0.5) | (head > 0)).astype(np.uint8)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    keep_small = head.astype(np.float32)
    if count > 2:
        keep = labels[int(np.clip((fy + fh / 2) / k, 0, small.shape[0] - 1)),
                      int(np.clip((fx + fw / 2) / k, 0, small.shape[1] - 1))]
        if keep:
            keep_small = np.maximum(keep_small, cv2.dilate((labels == keep).astype(np.uint8), np.ones((3, 3),
                                                                                                     np.uint8)))
        else:
            keep_small = np.maximum(keep_small, (binary > 0).astype(np.float32))
    else:
        keep_small = np.maximum(keep_small, (binary > 0).astype(np.float32))
    keep_full = cv2.resize(keep_small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    head_full = cv2.resize(cv2.GaussianBlur(head.astype(np.float32), (0, 0), 1.0), (w, h),
                           interpolation=cv2.INTER_LINEAR)
    return np.maximum(mask * (keep_full > 0.01), head_full).astype(np.float32)


def _crop_padded(rgb: np.ndarray, mask: np.ndarray, box: tuple[float, float, float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    out_rgb = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    out_a = np.zeros((y1 - y0, x1 - x0), np.float32)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if sx1 > sx0 and sy1 > sy0:
        out_rgb[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        out_a[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = mask[sy0:sy1, sx0:sx1]
    return out_rgb, out_a


# ---- the plastic --------------------------------------------------------------------------------------------------

def _paint(crop: _Crop, scale: float, seed: int, style: FigureStyle, kind: str) -> Image.Image:
    ch, cw = crop.alpha.shape
    w, h = max(8, round(cw * scale)), max(8, round(ch * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(crop.rgb, (w, h), interpolation=interp)
    alpha = cv2.resize(crop.alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    fx, fy, fw, fh = crop.face_scaled(scale)
    head_c = (fx + fw / 2, fy + fh * 0.45)
    head_r = (fw * 0.62, fh * 0.78)
    s = style.head_scale or (1.12 if kind == BUST else 1.4)
    if s != 1.0:
        map_x, map_y = _bulge(w, h, head_c, max(fw, fh) * (1.25 if kind == BUST else 1.6), s)
        rgb = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
        head_r = (head_r[0] * s, head_r[1] * s)
    # A clean, hard silhouette: no halo of the old background, a hint of anti-aliasing.
    hard = np.clip((alpha - 0.5) * 6 + 0.5, 0, 1)
    hard = cv2.GaussianBlur(hard, (0, 0), 0.7)
    solid = (hard > 0.5).astype(np.uint8)
    rgb = _decontaminate(rgb, solid, max(2, int(min(w, h) * 0.01)))
    face_w = _ellipse_weight(w, h, head_c, (head_r[0] * 0.95, head_r[1] * 0.95))
    albedo = _flat_tones(rgb, solid, face_w, style.tones, style.saturation)
    shaded = _light(albedo, hard, solid, head_c, head_r, seed, style.gloss, face_w)
    seam = _seam(hard)
    shaded = shaded * (1 - seam[..., None] * 0.55)
    out = np.dstack([(np.clip(shaded, 0, 1) * 255).astype(np.uint8), (hard * 255).astype(np.uint8)])
    return Image.fromarray(out, "RGBA")


@budget_cache(maxsize=8)
def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return xx, yy


def _bulge(w: int, h: int, center: tuple[float, float], radius: float, s: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """A smooth magnifier (``s`` at the centre, 1 at ``radius``): the toy's bigger head, without seams."""
    xx, yy = _grid(w, h)
    dx, dy = xx - center[0], yy - center[1]
    r = np.sqrt(dx * dx + dy * dy) / max(radius, 1.0)
    shrink = np.where(r < 1, 1 - (1 - 1 / s) * (1 - np.minimum(r, 1)) ** 2, 1.0).astype(np.float32)
    return (center[0] + dx * shrink).astype(np.float32), (center[1] + dy * shrink).astype(np.float32)


def _decontaminate(rgb: np.ndarray, solid: np.ndarray, band: int) -> np.ndarray:
    """Replace the colours at the silhouette's edge (where the old background bleeds in) by the person's own
    colours from just inside it (normalized convolution)."""
    inner = cv2.erode(solid, np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(np.float32)
    if inner.sum() < 50:
        return rgb
    # Blur on a quarter-size copy: the fill is smooth anyway.
    h, w = solid.shape
    sw, sh = max(4, w // 4), max(4, h // 4)
    sigma = max(1.0, band * 1.5 / 4)
    num = cv2.GaussianBlur(cv2.resize(rgb.astype(np.float32) * inner[..., None], (sw, sh),
                                      interpolation=cv2.INTER_AREA), (0, 0), sigma)
    den = cv2.GaussianBlur(cv2.resize(inner, (sw, sh), interpolation=cv2.INTER_AREA), (0, 0), sigma)[..., None]
    fill = cv2.resize(num / np.maximum(den, 1e-3), (w, h), interpolation=cv2.INTER_LINEAR)
    edge = (solid.astype(np.float32) - inner)[..., None]
    return np.where(edge > 0, fill, rgb.astype(np.float32)).clip(0, 255).astype(np.uint8)


def _ellipse_weight(w: int, h: int, c: tuple[float, float], r: tuple[float, float]) -> np.ndarray:
    xx, yy = _grid(w, h)
    d = ((xx - c[0]) / max(r[0], 1)) ** 2 + ((yy - c[1]) / max(r[1], 1)) ** 2
    return np.clip((1.15 - d) / 0.35, 0, 1).astype(np.float32)


def _flat_tones(rgb: np.ndarray, solid: np.ndarray, face_w: np.ndarray, tones: int, saturation: float
                ) -> np.ndarray:
    """Few flat paint colours (k-means in Lab over the figure), with the face keeping the photo's detail."""
    smooth = cv2.bilateralFilter(rgb, 7, 45, 5)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32)
    pts = lab[solid > 0]
    if len(pts) < tones * 4:
        return smooth.astype(np.float32) / 255.0
    step = max(1, len(pts) // 3000)
    sample = np.ascontiguousarray(pts[::step])
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(7)
    _, _, centers = cv2.kmeans(sample, tones, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    flat_lab = _nearest(lab, centers)
    # Keep lightness a little (folds and features read), flatten colour fully outside the face.
    keep_l = 0.35 + 0.55 * face_w
    flat_lab[..., 0] = flat_lab[..., 0] * (1 - keep_l) + lab[..., 0] * keep_l
    keep_ab = (0.15 + 0.75 * face_w)[..., None]
    flat_lab[..., 1:] = flat_lab[..., 1:] * (1 - keep_ab) + lab[..., 1:] * keep_ab
    flat = cv2.cvtColor(np.clip(flat_lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32) / 255.0
    luma = flat @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(luma[..., None] + (flat - luma[..., None]) * saturation, 0, 1)


def _nearest(lab: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each pixel's nearest centre, through a 32³ lookup table of Lab (far faster than per-pixel distances)."""
    grid = (np.arange(32, dtype=np.float32) * 8 + 4)
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    d = -2.0 * cube @ centers.T + (centers * centers).sum(1)[None, :]
    table = centers[np.argmin(d, axis=1)].astype(np.float32)
    idx = (lab.astype(np.uint8) >> 3).astype(np.int32)
    return table[(idx[..., 0] << 10) | (idx[..., 1] << 5) | idx[..., 2]]


def _light(albedo: np.ndarray, hard: np.ndarray, solid: np.ndarray, head_c: tuple[float, float],
           head_r: tuple[float, float], seed: int, gloss: float, face_w: np.ndarray) -> np.ndarray:
    """Plastic shading: an inflated height field of the silhouette plus an ellipsoid head give normals; a key light
    (its side set by the seed), a specular highlight, a rim light and ambient occlusion shade the paint."""
    h, w = hard.shape
    scale = max(1.0, max(h, w) / 300)  # the light is smooth: compute it on a smaller grid
    sw, sh = max(8, round(w / scale)), max(8, round(h / scale))
    small = cv2.resize(solid, (sw, sh), interpolation=cv2.INTER_AREA)
    dist = cv2.distanceTransform((small > 0).astype(np.uint8), cv2.DIST_L2, 5)
    reach = max(4.0, float(np.percentile(dist[dist > 0], 90)) if (dist > 0).any() else 4.0)
    body = np.sqrt(np.clip(dist / reach, 0, 1))
    xx, yy = _grid(sw, sh)
    cx, cy, rx, ry = head_c[0] / scale, head_c[1] / scale, head_r[0] / scale, head_r[1] / scale
    q = 1 - ((xx - cx) / max(rx, 1)) ** 2 - ((yy - cy) / max(ry, 1)) ** 2
    head = np.sqrt(np.clip(q, 0, 1)) * 1.1
    height = cv2.GaussianBlur(np.maximum(body * 0.8, head) * (small > 0), (0, 0), 1.5)
    gy, gx = np.gradient(height * max(sw, sh) * 0.09)
    nz = 1.0 / np.sqrt(gx * gx + gy * gy + 1.0)
    nx, ny = -gx * nz, -gy * nz
    side = -1.0 if seed % 2 == 0 else 1.0
    light = np.array([0.55 * side, -0.6, 0.6], np.float32)
    light /= np.linalg.norm(light)
    ndl = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    half = light + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    ndh = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0, 1)
    spec = ndh ** 60 * 0.75 * gloss + ndh ** 12 * 0.12 * gloss
    rim = np.clip(1 - nz, 0, 1) ** 2.2 * np.clip(-(nx * light[0]) + 0.3, 0, 1) * 0.55 * gloss
    ao = 0.72 + 0.28 * np.clip(cv2.GaussianBlur((small > 0).astype(np.float32), (0, 0), max(2.0, sw * 0.03)) * 1.6
                               - 0.3, 0, 1)
    shade = (0.58 + 0.55 * ndl) * ao
    maps = cv2.resize(np.dstack([shade, spec, rim]).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = albedo * maps[..., :1]
    # The face is painted satin: a softer highlight there keeps the features (and the likeness) readable.
    spec_full = maps[..., 1:2] * (1 - 0.6 * face_w[..., None])
    out = out + spec_full * (1 - out) + maps[..., 2:3] * np.array([0.85, 0.92, 1.0], np.float32)
    return out


def _seam(hard: np.ndarray) -> np.ndarray:
    """A thin darker line just inside the silhouette, like the edge of a painted moulding (not a sticker rim)."""
    inside = (hard > 0.5).astype(np.uint8)
    thin = cv2.erode(inside, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur((inside - thin).astype(np.float32), (0, 0), 0.8)


# ---- bases --------------------------------------------------------------------------------------------------------

def _on_base(body: Image.Image, face: tuple[float, float, float, float], kind: str, style: FigureStyle, seed: int,
             base_frac: float) -> Image.Image:
    bw, bh = body.size
    if style.base == "none" or base_frac == 0:
        return body
    alpha = np.asarray(body.getchannel("A"))
    rows = np.nonzero((alpha > 128).any(axis=1))[0]
    bottom = int(rows[-1]) if len(rows) else bh - 1
    cols = np.nonzero(alpha[max(0, bottom - max(3, bh // 40)):bottom + 1].max(axis=0) > 128)[0]
    foot_w = (int(cols[-1] - cols[0]) if len(cols) else bw // 2)
    total_h = int(round(bh / (1 - base_frac)))
    base_h = total_h - bh
    if kind == BUST:
        disc_w = int(max(foot_w * 0.95, face[2] * 1.9))
    else:
        disc_w = int(max(foot_w * 1.5, face[2] * 2.4, bw * 0.55))
    width = max(bw, disc_w + 8)
    canvas = Image.new("RGBA", (width, bottom + 1 + base_h + 4), (0, 0, 0, 0))
    bx = (width - bw) // 2
    cx = width // 2
    top = bottom + 1
    if kind == BUST:
        # A short stem under the chest, then a round plinth: the bust's rounded bottom sits on the stem.
        stem_w = int(max(disc_w * 0.5, foot_w * 0.55))
        _draw_stem(canvas, cx, top - int(base_h * 0.45), stem_w, int(base_h * 0.7), style.base_color)
        draw_base(canvas, (cx - disc_w // 2, top + int(base_h * 0.12), cx + disc_w // 2, top + base_h), style)
        canvas.alpha_composite(body, (bx, 0))
    else:
        draw_base(canvas, (cx - disc_w // 2, top - int(base_h * 0.55), cx + disc_w // 2, top + base_h - 6),
                   style)
        contact_shadow(canvas, cx, top - int(base_h * 0.05), int(foot_w * 0.7))
        canvas.alpha_composite(body, (bx, 0))
    return canvas


def contact_shadow(canvas: Image.Image, cx: int, cy: int, half_w: int) -> None:
    half_w = max(6, half_w)
    half_h = max(3, half_w // 5)
    layer = np.zeros((canvas.height, canvas.width), np.uint8)
    cv2.ellipse(layer, (cx, cy), (half_w, half_h), 0, 0, 360, 150, -1)
    shade = soft_mask(layer, max(2.0, half_h * 0.8))
    dark = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    dark.putalpha(Image.fromarray(shade))
    canvas.alpha_composite(dark)


def _draw_stem(canvas: Image.Image, cx: int, y0: int, w: int, h: int, color: Color) -> None:
    stem = Image.new("RGBA", (w, max(2, h)), (0, 0, 0, 0))
    ramp = _cylinder_ramp(w, color)
    arr = np.ascontiguousarray(np.broadcast_to(ramp[None], (max(2, h), w, 4)))
    stem = Image.fromarray(arr, "RGBA")
    mask = Image.new("L", stem.size, 0)
    inset = int(w * 0.08)
    ImageDraw.Draw(mask).polygon([(inset, 0), (w - inset, 0), (w - 1, stem.height - 1), (0, stem.height - 1)],
                                 fill=255)
    stem.putalpha(mask)
    canvas.alpha_composite(stem, (cx - w // 2, y0))


def _cylinder_ramp(w: int, color: Color) -> np.ndarray:
    """One row of a lit cylinder: darker at the sides, a bright band of light left of centre."""
    t = np.linspace(-1, 1, max(2, w), dtype=np.float32)
    shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - t * t, 0, 1))
    band = np.exp(-((t + 0.35) / 0.12) ** 2) * 0.55
    rgb = np.array(color, np.float32)[None] * shade[:, None]
    rgb = rgb + (255 - rgb) * band[:, None]
    return np.dstack([np.clip(rgb, 0, 255).astype(np.uint8)[None], np.full((1, len(t), 1), 255, np.uint8)])[0]


def draw_base(canvas: Image.Image, box: tuple[int, int, int, int], style: FigureStyle) -> None:
    """A round base seen slightly from above: a glossy plinth in the stand colour or a clear acrylic disc."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w < 8 or h < 6:
        return
    top_h = max(6, int(w * 0.22))
    thick = max(4, h - top_h)
    layer = Image.new("RGBA", (w, top_h + thick), (0, 0, 0, 0))
    clear = style.base == ACRYLIC
    c = (200, 214, 230) if clear else style.base_color
    side = Image.fromarray(np.ascontiguousarray(np.broadcast_to(_cylinder_ramp(w, c)[None],
                                                                (thick + top_h // 2, w, 4))), "RGBA")
    side_mask = Image.new("L", side.size, 0)
    opacity = 110 if clear else 255
    ImageDraw.Draw(side_mask).rectangle((0, 0, w, thick), fill=opacity)
    ImageDraw.Draw(side_mask).ellipse((0, thick - top_h // 2, w - 1, thick + top_h // 2 - 1), fill=opacity)
    side.putalpha(side_mask)
    layer.alpha_composite(side, (0, top_h // 2))
    d = ImageDraw.Draw(layer)
    if clear:  # a round clear acrylic disc: see-through top, bright polished edges
        d.ellipse((0, 0, w - 1, top_h - 1), fill=(235, 245, 255, 80), outline=(255, 255, 255, 230), width=3)
        d.arc((w * 0.06, top_h * 0.12, w * 0.94, top_h * 0.9), 195, 300, fill=(255, 255, 255, 230), width=3)
        d.arc((0, thick, w - 1, thick + top_h - 1), 10, 170, fill=(255, 255, 255, 210), width=2)
    else:
        d.ellipse((0, 0, w - 1, top_h - 1), fill=(*mix(c, (255, 255, 255), 0.22), 255))
        d.ellipse((w * 0.1, top_h * 0.14, w * 0.9, top_h * 0.84), fill=(*mix(c, (255, 255, 255), 0.1), 255))
        d.arc((w * 0.04, top_h * 0.06, w * 0.96, top_h * 0.94), 195, 320, fill=(255, 255, 255, 150), width=3)
    canvas.alpha_composite(layer, (x0, y0))
