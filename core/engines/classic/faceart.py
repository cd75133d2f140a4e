"""Faces drawn, not posterised: the flat looks (pop-art, comic, anime, stickers, poster) smooth the skin's texture
and highlights away (its light and shade and its own colour kept: they carry the likeness, and dark skin stays
dark) so their colour steps make a few clean tones of it, and draw the features (eyes, brows, nose, lips, glasses)
as clean lines from the face's 468 landmarks (facemesh.py), instead of quantising the photo's texture into blotches.

A look calls :func:`face_art` on the picture it stylises (with the faces where they are in that picture) and
:func:`apply` to put the drawn faces over its own flat colours and ink.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from minime.core.engines.classic.cutout import cel_shade, ink_lines
from minime.core.engines.classic.facemesh import face_mesh

# mediapipe face-mesh contours (the canonical 468-point topology).
OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
        150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
EYES = ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
        (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466))
UPPER_LIDS = ((33, 246, 161, 160, 159, 158, 157, 173, 133), (263, 466, 388, 387, 386, 385, 384, 398, 362))
BROWS = ((70, 63, 105, 66, 107, 55, 65, 52, 53, 46), (300, 293, 334, 296, 336, 285, 295, 282, 283, 276))
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
NOSE = ((98, 97, 2, 326, 327), (48, 64, 98), (278, 294, 327))
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
HIGHLIGHTS = 0.4  # how much of the skin's highlights is kept above its median lightness
MIN_FACE = 40  # px: a smaller face keeps the look's own rendering (its features would be a few pixels)


@dataclass(frozen=True)
class FaceArt:
    """The drawn faces of one picture."""

    skin: np.ndarray  # float32 H×W: 1 over the faces' skin (inside the oval, without eyes and open mouth)
    rgb: np.ndarray  # uint8 H×W×3: the smooth skin (and lips) where ``skin`` is 1, the hair's tones where ``hair`` is
    hair: np.ndarray  # float32 H×W: 1 over the hair around the faces and their beards, drawn in a few clean tones
    lines: np.ndarray  # float32 H×W: ink of the drawn features
    eyes: np.ndarray  # float32 H×W: the eyes' whites and open mouth, kept from the look's own rendering
    features: np.ndarray  # bool H×W: the areas of the eyes, brows and lips (where a look may ink the photo's dark)
    skin_lightness: tuple[float, ...]  # each drawn face's median skin lightness (Lab L, 0..255)

    @property
    def found(self) -> bool:
        return bool(self.skin_lightness)


def _meshed(rgb: np.ndarray, faces: list[tuple[float, float, float, float]], before: float,
            after: tuple[float, float]) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]]:
    """Each face of ``rgb`` big enough to draw: its crop (``before`` face sizes to the left and above, ``after`` (x, y)
    to the right and below, within the photo), the crop's pixels and its face landmarks in the crop."""
    h, w = rgb.shape[:2]
    for box in faces:
        if box[2] < MIN_FACE:
            continue
        x0, y0 = int(max(0, box[0] - box[2] * before)), int(max(0, box[1] - box[3] * before))
        x1, y1 = int(min(w, box[0] + box[2] * after[0])), int(min(h, box[1] + box[3] * after[1]))
        if x1 - x0 < MIN_FACE or y1 - y0 < MIN_FACE:
            continue
        part = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        points = face_mesh(part, (box[0] - x0, box[1] - y0, box[2], box[3]))
        if points is not None:
            yield (x0, y0, x1, y1), part, points


def face_art(rgb: np.ndarray, faces: list[tuple[float, float, float, float]], line_scale: float = 1.0,
             person: np.ndarray | None = None) -> FaceArt:
    """The faces of ``rgb`` (boxes x, y, w, h in its pixels) as smooth skin and drawn features, their dark hair and
    beards in clean tones (hair only where ``person``, the people's matte in ``rgb``'s frame (0..1 or 0..255), is:
    a dark background beside a head is no hair)."""
    h, w = rgb.shape[:2]
    skin = np.zeros((h, w), np.float32)
    hair = np.zeros((h, w), np.float32)
    flat = np.zeros((h, w, 3), np.uint8)
    lines = np.zeros((h, w), np.float32)
    holes = np.zeros((h, w), np.float32)
    features = np.zeros((h, w), bool)
    lightness = []
    for (x0, y0, x1, y1), part, points in _meshed(rgb, faces, before=0.6, after=(1.6, 1.6)):
        on = None if person is None else np.ascontiguousarray(person[y0:y1, x0:x1]) > (0.5 if person.dtype.kind == "f"
                                                                                         else 127)
        drawn = _draw_face(part, points[:, :2], line_scale, on)
        if drawn is None:
            continue
        s, f, ln, hole, light, hr = drawn
        region = (slice(y0, y1), slice(x0, x1))
        keep = np.maximum(s, hr) > np.maximum(skin[region], hair[region])
        flat[region][keep] = f[keep]
        skin[region] = np.maximum(skin[region], s)
        hair[region] = np.maximum(hair[region], hr)
        lines[region] = np.maximum(lines[region], ln)
        holes[region] = np.maximum(holes[region], hole)
        features[region] |= _fill(part.shape[:2], points[:, :2], *EYES, *BROWS, LIPS_OUTER) > 100
        lightness.append(light)
    return FaceArt(skin, flat, hair, lines, holes, features, tuple(lightness))


def smoothed(rgb: np.ndarray, art: FaceArt) -> np.ndarray:
    """``rgb`` with its faces' skin smoothed and their hair and beards in a few clean tones (the photo to stylise:
    its flat colours come out clean there, not as a camouflage of dark blotches)."""
    if not art.found:
        return rgb
    cover = np.maximum(art.skin, art.hair)
    return cv2.blendLinear(rgb, art.rgb, 1 - cover, cover)


def inked(lines: np.ndarray, art: FaceArt, strength: float = 1.0) -> np.ndarray:
    """A look's ink (float32 0..1) with the drawn features put in and its own ink (texture, wrinkles, strands of
    hair) taken off the skin and the inside of the hair (its outline stays)."""
    if not art.found:
        return lines
    keep = 1 - np.clip(art.skin * 0.6 * strength, 0, 1) * (1 - art.eyes)  # (half: the likeness is in it too)
    inner = cv2.erode(art.hair, np.ones((7, 7), np.uint8))
    keep = keep * (1 - np.clip(inner * 0.9 * strength, 0, 1))
    return np.maximum(lines * keep, art.lines * strength)


def apply(flat: np.ndarray, lines: np.ndarray, art: FaceArt) -> tuple[np.ndarray, np.ndarray]:
    """Already flat colours and ink (uint8, float32 0..1) with the smooth skin over them and the drawn features."""
    return smoothed(flat, art), inked(lines, art)


def _poly(points: np.ndarray, ids: tuple[int, ...], k: int = 4) -> np.ndarray:
    """The contour ``ids`` in fixed-point pixels (``k`` fractional bits) for OpenCV's anti-aliased drawing."""
    return np.round(points[list(ids)] * (1 << k)).astype(np.int32)


SKIN_SPAN = 120  # px: the skin's smooth tones are worked out with the face about this wide (and drawn back up)


def _draw_face(part: np.ndarray, pts: np.ndarray, line_scale: float, person: np.ndarray | None):
    """One face drawn in the crop ``part``: (skin, flat skin and hair colours, feature ink, eye/mouth holes, skin L,
    hair); hair only where ``person`` (bool, the crop's size) is, if given."""
    h, w = part.shape[:2]
    span = float(np.ptp(pts[list(OVAL), 0]))
    if span < MIN_FACE * 0.6:
        return None
    k = min(1.0, SKIN_SPAN / span)
    small = cv2.resize(part, (max(8, round(w * k)), max(8, round(h * k))), interpolation=cv2.INTER_AREA) \
        if k < 1 else part
    if person is not None and k < 1:
        person = cv2.resize(person.astype(np.uint8), small.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
    tones_out = _skin_tones(small, pts * k, span * k, person)
    if tones_out is None:
        return None
    skin, flat, holes, median, hair = tones_out
    if k < 1:
        skin = cv2.resize(skin, (w, h), interpolation=cv2.INTER_LINEAR)
        flat = cv2.resize(flat, (w, h), interpolation=cv2.INTER_LINEAR)
        holes = cv2.resize(holes, (w, h), interpolation=cv2.INTER_LINEAR)
        hair = cv2.resize(hair, (w, h), interpolation=cv2.INTER_LINEAR)
    return skin, flat, _features(part, pts, span, median, line_scale, hair), holes, float(median[0]), hair


def _fill(shape: tuple[int, int], pts: np.ndarray, *contours: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    for ids in contours:
        cv2.fillPoly(out, [_poly(pts, ids)], 255, cv2.LINE_AA, shift=4)
    return out


def _skin_tones(part: np.ndarray, pts: np.ndarray, span: float, person: np.ndarray | None):
    """The skin of one face (at a working size): its area, its smooth tones, the eyes and mouth left open, and the
    median skin colour (Lab)."""
    h, w = part.shape[:2]
    shape = (h, w)
    oval = _fill(shape, pts, OVAL)
    eyes = _fill(shape, pts, *EYES)
    mouth = _fill(shape, pts, LIPS_INNER)
    lips = _fill(shape, pts, LIPS_OUTER)
    brows = _fill(shape, pts, *BROWS)
    lab = cv2.cvtColor(part, cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks = (cv2.erode(oval, np.ones((3, 3), np.uint8)) > 128) & (eyes < 60) & (lips < 60) & (brows < 60)
    if cheeks.sum() < 30:
        return None
    median = np.median(lab[cheeks], axis=0)
    # The skin's texture (pores, stubble, wrinkles) smoothed away and its highlights softened, its light and shade
    # kept (they carry the face's likeness): the look's own colour steps then make clean tones of it, the same
    # way they do the rest of the picture, without white blotches on a shiny forehead.
    light = cv2.bilateralFilter(np.ascontiguousarray(lab[..., 0]).astype(np.uint8), 5, 20, 5).astype(np.float32)
    ab = cv2.GaussianBlur(lab[..., 1:], (0, 0), max(0.5, span / 100))
    # A highlight is the light's colour, not the skin's (a shine is near white): lowered to the skin's tones, it
    # takes the skin's own colour too, or it would turn into a grey patch.
    shine = np.clip((light - median[0]) / 30, 0, 1)[..., None]
    ab = ab + (median[1:] - ab) * shine
    light = np.where(light > median[0], median[0] + (light - median[0]) * HIGHLIGHTS, light)
    flat_lab = np.dstack([np.clip(light, 0, 255), ab]).astype(np.float32)
    lip_lab = np.array([max(0.0, median[0] - 18), median[1] + 14, median[2] + 4], np.float32)
    lip_w = (lips.astype(np.float32) / 255 * (1 - mouth.astype(np.float32) / 255))[..., None] * 0.5
    flat_lab = flat_lab * (1 - lip_w) + lip_lab * lip_w
    flat = cv2.cvtColor(np.clip(flat_lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    # A rim of back light along the jaw and cheeks (a bright crescent the look's colour steps turn into a white line
    # under the chin, starkest on dark skin): painted over from the skin and neck around it.
    rim = _rim(lab[..., 0], oval, pts, span, float(median[0]), person)
    if rim is not None:
        flat = cv2.inpaint(flat, rim, max(2.0, span / 30), cv2.INPAINT_TELEA)
    holes = np.maximum(eyes, mouth).astype(np.float32) / 255
    # The skin goes on past the oval where the photo is skin-coloured (forehead under the hair, ears, neck): the
    # same smooth tones there, so no seam shows where the drawn face ends.
    # (Hair of the skin's colour, blonde or grey, is textured where skin is smooth: it stays out.)
    around = cv2.distanceTransform((oval < 128).astype(np.uint8), cv2.DIST_L2, 3) < span * 0.25
    blurred_ab = cv2.GaussianBlur(lab[..., 1:], (0, 0), max(1.0, span / 40))
    texture = cv2.GaussianBlur(np.abs(cv2.Laplacian(lab[..., 0], cv2.CV_32F)), (0, 0), max(1.0, span / 40))
    smooth = texture < max(4.0, 1.6 * float(np.median(texture[cheeks])))
    like = around & smooth & (np.hypot(*(blurred_ab - median[1:]).transpose(2, 0, 1)) < 9) \
        & (np.abs(light - median[0]) < 40)
    area = np.maximum(oval, like.astype(np.uint8) * 255)
    if rim is not None:
        area = np.maximum(area, cv2.dilate(rim, np.ones((3, 3), np.uint8)))
    area = area.astype(np.float32) / 255
    skin = np.clip(cv2.GaussianBlur(area, (0, 0), max(0.8, span / 60)) * 1.3 - 0.15, 0, 1) * (1 - holes)
    hair, hair_rgb = _hair(part, lab, pts, span, oval, lips, texture, cheeks, person)
    skin = skin * (1 - hair)
    flat = np.where(hair[..., None] > 0, hair_rgb, flat)
    return skin.astype(np.float32), flat, holes * (oval > 0), median, hair


RIM = 20  # Lab L: how much lighter than the skin's median a rim of back light along the face's edge is
RIM_IN, RIM_OUT = 0.07, 0.12  # face widths: how far inside and outside (under the mouth) the face's outline it lies


def _rim(light: np.ndarray, oval: np.ndarray, pts: np.ndarray, span: float, skin_l: float,
         person: np.ndarray | None) -> np.ndarray | None:
    """A rim of back light along the face's edge from the eyes down (jaw, cheeks, under the chin): the pixels far
    lighter than the skin in a thin band either side of the face's outline, on the person (uint8 255), or None."""
    inner = cv2.distanceTransform((oval > 128).astype(np.uint8), cv2.DIST_L2, 3)
    outer = cv2.distanceTransform((oval <= 128).astype(np.uint8), cv2.DIST_L2, 3)
    band = (inner < span * RIM_IN) & (inner > 0)
    below = (outer < span * RIM_OUT) & (inner == 0)  # outside: only under the mouth (the jaw and chin over the neck;
    below[:int(pts[13, 1])] = False  # beside the cheeks are the ears and the background)
    band |= below
    band[:max(0, int((pts[33, 1] + pts[263, 1]) / 2))] = False  # (above the eyes: the hairline's own light)
    if person is not None:
        band &= person
    bright = (band & (light > skin_l + RIM)).astype(np.uint8) * 255
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    if cv2.countNonZero(bright) < 6:
        return None
    return cv2.dilate(bright, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))) & (band * 255).astype(np.uint8)


HAIR_TONES = (55,)  # percentiles of the hair's lightness where its tones change (shadow, light)
HAIR_CONTRAST = 26  # Lab L: the most its light tone is lighter than its shadow
BEARD, GREY_BEARD = 0.85, 0.3  # the share of the chin a beard darkens (or, grey, roughens)
HAIR_COLOURS = 20  # Lab a/b distance from the hair's median colour within which a pixel may be hair
DARK_HAIR = 25  # Lab L: how much darker than the skin most of the hair (3 in 4 of its pixels) must be to be drawn
DARKEST_HAIR = 45  # Lab L (0..255): the darkest tone drawn for hair (black hair is a deep tone, not a hole)


def _hair(part: np.ndarray, lab: np.ndarray, pts: np.ndarray, span: float, oval: np.ndarray, lips: np.ndarray,
          texture: np.ndarray, cheeks: np.ndarray, person: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The hair around one face and its beard (at the working size): where it is (float32 0..1) and its colours in
    three clean tones (uint8 RGB): its shadow, its middle and its light, each in the hair's own colour, as shapes
    smoothed out of its strands. Hair is what is darker than the skin or textured and greyer than it, around the
    head (outside the face's oval) and on the lower face and below the chin (a beard)."""
    h, w = part.shape[:2]
    centre = pts[list(OVAL)].mean(axis=0)
    top, chin = float(pts[10, 1]), float(pts[152, 1])
    face_h = max(1.0, chin - top)
    mouth_y = float(pts[13, 1])
    head = np.zeros((h, w), np.uint8)  # around the head, outside the face; below the mouth only beside the neck
    cv2.ellipse(head, (int(centre[0]), int(centre[1] - 0.12 * face_h)), (int(span * 0.8), int(face_h * 0.95)), 0, 0,
                360, 255, -1)
    head[oval > 128] = 0
    head[int(mouth_y):, max(0, int(centre[0] - span * 0.4)):max(0, int(centre[0] + span * 0.4))] = 0
    lower = np.zeros((h, w), np.uint8)  # the lower face and below the chin: moustache and beard
    cv2.ellipse(lower, (int(centre[0]), int(mouth_y)), (int(span * 0.52), int(face_h * 0.75)), 0, 0, 360, 255, -1)
    lower[:int(pts[2, 1] - 0.04 * face_h)] = 0  # from the nose's tip down (where the beard ends on the cheeks is
    lower[lips > 100] = 0  # where the skin shows)
    head[lower > 0] = 0
    upper = cheeks.copy()
    upper[int(pts[2, 1]):] = False  # the skin above the nose's tip (a beard pulls the cheeks' median down)
    skin_lab = np.median(lab[upper if upper.sum() > 30 else cheeks], axis=0)
    light = lab[..., 0]
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    skin_chroma = float(np.hypot(skin_lab[1] - 128, skin_lab[2] - 128))
    skin_texture = float(np.median(texture[cheeks]))
    dark, grey = light < skin_lab[0] - 18, chroma < 0.6 * skin_chroma
    rough = texture > 1.6 * skin_texture
    # Hair has strands: smooth dark areas beside the head are the blurred background.
    found = (head > 0) & ((dark & (texture > 0.8 * skin_texture)) | (rough & grey))
    # A beard darkens (or greys) the whole chin; the shadow under a chin, stubble or a dimple only part of it.
    chin_zone = oval > 128
    chin_zone[:int(pts[17, 1] + 0.02 * face_h)] = False
    chin_zone[lips > 100] = False
    chin = max(1, int(chin_zone.sum()))
    bearded = bool((chin_zone & (light < skin_lab[0] - 25)).sum() > BEARD * chin
                   or (chin_zone & grey & (texture > 1.3 * skin_texture)).sum() > GREY_BEARD * chin)
    if bearded:
        found |= (lower > 0) & (dark | (rough & grey))
    if person is not None:
        found &= person
    if found.sum() >= 0.01 * span * span:  # one colour of hair: a collar or a shirt beside it is not hair
        ab = np.median(lab[found][:, 1:], axis=0)
        found &= np.hypot(lab[..., 1] - ab[0], lab[..., 2] - ab[1]) < HAIR_COLOURS
    # Only dark hair is drawn (it is what a look's darkest colour step breaks into black blotches); fair, grey and
    # white hair keep the look's own rendering.
    if found.sum() < 0.01 * span * span or np.percentile(light[found], 75) > skin_lab[0] - DARK_HAIR:
        return np.zeros((h, w), np.float32), np.zeros((h, w, 3), np.uint8)
    # Hair in shadow (too dark to show its strands) right next to the hair found is hair too (not a lighter
    # background); in a beard, its dark gaps.
    shade = ((light < np.median(light[found]) + 8) & ((head > 0) | ((lower > 0) & bearded))).astype(np.uint8)
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, int(span / 14) | 1),) * 2)
    found = found.astype(np.uint8)
    for _ in range(2):
        found = np.maximum(found, cv2.dilate(found, reach) & shade)
    found = cv2.morphologyEx(found, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    found = cv2.morphologyEx(found, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # Its tones: the hair's own lightness smoothed into masses (only hair counts: no lighter rim where it meets the
    # skin or the background), split at the hair's own percentiles, each tone's shape smoothed, in its own colour.
    inside = cv2.erode(found, np.ones((3, 3), np.uint8)).astype(np.float32)  # (its edge is mixed with what is beside)
    if inside.sum() < 10:
        inside = found.astype(np.float32)
    sigma = max(1.0, span / 30)
    level = cv2.GaussianBlur(light * inside, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(inside, (0, 0), sigma), 1e-3)
    values = level[found > 0]
    cuts = np.percentile(values, HAIR_TONES)
    tone = np.digitize(level, cuts).astype(np.uint8)
    tones = len(HAIR_TONES) + 1
    votes = np.stack([cv2.GaussianBlur(((tone == t) & (found > 0)).astype(np.float32), (0, 0), max(1.0, span / 40))
                      for t in range(tones)])
    tone = np.argmax(votes, axis=0)
    colours = np.zeros((tones, 3), np.float32)
    whole = np.median(lab[found > 0], axis=0)
    for t in range(tones):  # each tone its own lightness, in the hair's colour
        members = (tone == t) & (found > 0)
        colours[t] = (np.median(lab[members], axis=0) if members.sum() > 3 else whole) * (1, 0.4, 0.4) \
            + whole * (0, 0.6, 0.6)
    colours[:, 0] = np.maximum(colours[:, 0], DARKEST_HAIR + np.arange(tones) * 16)
    colours[1:, 0] = np.minimum(colours[1:, 0], colours[0, 0] + HAIR_CONTRAST)  # one head of hair, lit and in shade
    hair_rgb = cv2.cvtColor(np.clip(colours, 0, 255).astype(np.uint8)[None], cv2.COLOR_LAB2RGB)[0][tone]
    area = cv2.GaussianBlur(found.astype(np.float32), (0, 0), max(0.7, span / 90))
    return np.clip(area * 1.2 - 0.1, 0, 1).astype(np.float32), hair_rgb.astype(np.uint8)


def _features(part: np.ndarray, pts: np.ndarray, span: float, median: np.ndarray, line_scale: float,
              hair: np.ndarray) -> np.ndarray:
    """The eyes, brows, nose, lips, jaw (not across a beard: ``hair``) and glasses of one face as ink (float32
    0..1), at the crop's full size."""
    h, w = part.shape[:2]
    # Only the box of the face's features is looked at: the rest of the crop gets no ink.
    x0, y0 = (max(0, int(v)) for v in pts[:, :2].min(axis=0) - 4)
    x1, y1 = int(min(w, pts[:, 0].max() + 5)), int(min(h, pts[:, 1].max() + 5))
    box_pts = pts - (x0, y0)
    sub = part[y0:y1, x0:x1]
    shape = sub.shape[:2]
    t = max(1, round(span / 110 * line_scale))
    eyes = _fill(shape, box_pts, *EYES)
    brows = _fill(shape, box_pts, *BROWS)
    gray = cv2.cvtColor(sub, cv2.COLOR_RGB2GRAY)
    # Brows: filled shapes, as dark as the brow hair is against the skin.
    brow_l = gray[brows > 128]
    brow_dark = float(np.clip((median[0] - np.percentile(brow_l, 30)) / 60, 0.35, 0.9)) if brow_l.size else 0.6
    ink = (brows.astype(np.float32) * brow_dark * 0.5).astype(np.uint8)  # (over the photo's own brows)
    for lid in UPPER_LIDS:
        cv2.polylines(ink, [_poly(box_pts, lid)], False, 255, t + 1, cv2.LINE_AA, shift=4)
    cv2.polylines(ink, [_poly(box_pts, e) for e in EYES], True, 200, t, cv2.LINE_AA, shift=4)
    if (eyes > 128).sum() > 8:  # irises: the dark of each eye, where the person looks
        cut = np.percentile(gray[eyes > 128], 40)
        iris = ((gray < cut) & (eyes > 128)).astype(np.uint8) * 255
        iris = cv2.GaussianBlur(cv2.morphologyEx(iris, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)), (0, 0),
                                max(0.8, span / 160))
        ink = np.maximum(ink, (np.minimum(iris, eyes).astype(np.float32) * 0.95).astype(np.uint8))
    cv2.polylines(ink, [_poly(box_pts, n) for n in NOSE], False, 150, t, cv2.LINE_AA, shift=4)
    open_mouth = cv2.contourArea(box_pts[list(LIPS_INNER)].astype(np.float32)) > 30
    cv2.polylines(ink, [_poly(box_pts, LIPS_INNER)], True, 230, t + int(open_mouth), cv2.LINE_AA, shift=4)
    cv2.polylines(ink, [_poly(box_pts, LIPS_OUTER)], True, 90, t, cv2.LINE_AA, shift=4)
    jaw = np.zeros_like(ink)
    cv2.polylines(jaw, [_poly(box_pts, JAW)], False, 110, t, cv2.LINE_AA, shift=4)
    ink = np.maximum(ink, (jaw * (1 - hair[y0:y1, x0:x1])).astype(np.uint8))
    band = (int(box_pts[list(BROWS[0] + BROWS[1]), 1].min() - span * 0.08), int(box_pts[2, 1]))
    ink = np.maximum(ink, _glasses(gray, _fill(shape, box_pts, OVAL), eyes, brows, span, band))
    out = np.zeros((h, w), np.float32)
    out[y0:y1, x0:x1] = ink.astype(np.float32) / 255
    return out


def _glasses(gray: np.ndarray, oval: np.ndarray, eyes: np.ndarray, brows: np.ndarray, span: float,
             band: tuple[int, int]) -> np.ndarray:
    """Glasses: long, strong edges in the band of the eyes (``band``: rows from above the brows to under the nose)
    away from the drawn features. The face's texture (pores, wrinkles) is short or weak and stays out."""
    h = gray.shape[0]
    top, bottom = max(0, band[0]), min(h, band[1])
    edges = np.zeros(gray.shape[:2], np.uint8)
    if bottom - top < 4:
        return edges
    edges[top:bottom] = cv2.Canny(cv2.GaussianBlur(gray[top:bottom], (0, 0), max(0.8, span / 200)), 80, 180)
    near = cv2.dilate(oval, np.ones((9, 9), np.uint8)) > 0
    drawn = cv2.dilate(np.maximum(eyes, brows), np.ones((3, 3), np.uint8)) > 128
    edges[~near | drawn] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(edges, connectivity=8)
    long_ = np.zeros(count, np.uint8)
    reach = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    long_[1:] = (reach >= span * 0.25).astype(np.uint8) * 255
    lines = long_[labels]
    if span > 160:
        lines = cv2.dilate(lines, np.ones((2, 2), np.uint8))
    return cv2.GaussianBlur(lines, (0, 0), 0.6)


def toon(rgb: np.ndarray, faces: list[tuple[float, float, float, float]], levels: int = 5, thickness: float = 1.0,
         person: np.ndarray | None = None, smooth_skin: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A picture's cel-shaded flat colours (uint8) and ink (float32 0..1), the faces' skin smooth and their
    features drawn, their dark hair in clean tones (on ``person``, see :func:`face_art`). ``smooth_skin``: the drawn
    skin keeps its painted shading instead of being cut into tone bands (a sticker's close-up face, where the bands'
    jagged edges read as blotches)."""
    art = face_art(rgb, faces, line_scale=thickness, person=person)
    clean = smoothed(rgb, art)
    unbanded = cv2.GaussianBlur(art.skin, (0, 0), 2) if smooth_skin and art.found else None
    return cel_shade(clean, levels=levels, unbanded=unbanded), inked(ink_lines(clean, thickness=thickness), art)


def without_rim(rgb: np.ndarray, faces: list[tuple[float, float, float, float]],
                person: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` with the rim of back light along each face's jaw and chin painted over from the skin and neck around
    it (see :func:`_rim`), and nothing else changed: for a photographic look (a magazine cover) whose retouch would
    otherwise keep a bright crescent under a dark-skinned chin."""
    out = rgb
    for (x0, y0, x1, y1), part, points in _meshed(rgb, faces, before=0.3, after=(1.3, 1.5)):
        pts = points[:, :2]
        span = float(np.ptp(pts[list(OVAL), 0]))
        if span < MIN_FACE * 0.6:
            continue
        oval = _fill(part.shape[:2], pts, OVAL)
        light = cv2.cvtColor(part, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        cheeks = (cv2.erode(oval, np.ones((3, 3), np.uint8)) > 128) & (_fill(part.shape[:2], pts, *EYES, LIPS_OUTER,
                                                                               *BROWS) < 60)
        if cheeks.sum() < 30:
            continue
        on = None if person is None else np.ascontiguousarray(person[y0:y1, x0:x1]) > (
            0.5 if person.dtype.kind == "f" else 127)
        rim = _rim(light, oval, pts, span, float(np.median(light[cheeks])), on)
        if rim is None:
            continue
        if out is rgb:
            out = rgb.copy()
        out[y0:y1, x0:x1] = cv2.inpaint(part, rim, max(2.0, span / 30), cv2.INPAINT_TELEA)
    return out
