"""The parts of a toy's body that the photo does not show, sculpted in the colours of the clothes it does show:
legs and shoes below a person whom the photo cuts at the thighs, and a whole body (torso, arms, hands, legs) below a
head-and-shoulders bust, for an action figure that stands."""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h

FEET_BELOW_FACE = 8.2  # a toy's feet, in face heights below the top of its face (a little shorter than life)


def leg_length(person: np.ndarray, face: Box) -> int:
    """How many pixels of legs to sculpt below a standing person whom the photo cuts (0 when the feet are in it)."""
    h = person.shape[0]
    if not (person[-2] > 0.5).any():
        return 0
    _, fy, _, fh = face
    rows = np.nonzero((person > 0.5).any(axis=1))[0]
    seen = h - min(float(rows[0]), fy - 0.6 * fh)  # a bent-over person is short: legs no longer than half of them
    return int(np.clip(fy + FEET_BELOW_FACE * fh - h, 0.5 * fh, min(3.6 * fh, 0.5 * seen)))


def add_legs(rgb: np.ndarray, alpha: np.ndarray, cut: int, face: Box) -> None:
    """Sculpted toy legs below the line where the photo cut the person (in place): two trouser legs in the colour
    of the clothes at the cut, a crease between them, and shoes; the plastic shading rounds them like the rest."""
    _, _, fw, fh = face
    band = alpha[max(0, cut - int(0.35 * fh)):cut] > 0.5
    cols = np.nonzero(alpha[cut - 1] > 0.5)[0]
    if len(cols) < 4 or not band.any():
        return
    hips_l, hips_r = float(cols[0]), float(cols[-1])
    mid = (hips_l + hips_r) / 2
    half = float(np.clip((hips_r - hips_l) / 2, 0.45 * fw, 1.05 * fw))
    cloth = np.median(rgb[max(0, cut - int(0.35 * fh)):cut][band], axis=0).astype(np.float32)
    trousers = cloth * 0.92
    shoes = np.minimum(cloth * 0.35, 40) + np.array([14, 10, 8], np.float32)
    total = alpha.shape[0] - cut
    shoe_h = int(min(0.42 * fh, total * 0.3))
    leg_h = total - shoe_h
    shape = np.zeros((total, alpha.shape[1]), np.uint8)
    gap = max(2.0, 0.06 * fw)
    crotch = int(min(leg_h * 0.3, 0.5 * fh))  # the hips continue a little below the cut before the legs part
    cv2.fillPoly(shape, [np.array([(mid - half, 0), (mid + half, 0), (mid + half * 0.97, crotch),
                                   (mid - half * 0.97, crotch)], np.float32).round().astype(np.int32)], 1)
    for side in (-1, 1):
        # Each leg tapers a little from the hip to the ankle.
        outer_top, outer_bottom = mid + side * half, mid + side * half * 0.82
        inner = mid + side * gap
        pts = np.array([(inner, 0), (outer_top, 0), (outer_bottom, leg_h), (inner + side * gap * 0.5, leg_h)],
                       np.float32)
        cv2.fillPoly(shape, [pts.round().astype(np.int32)], 1)
        toe = side * 0.18 * fw
        foot_c = ((inner + outer_bottom) / 2 + toe, leg_h + shoe_h * 0.35)
        cv2.ellipse(shape, (int(foot_c[0]), int(foot_c[1])), (int(abs(outer_bottom - inner) * 0.62 + 0.12 * fw),
                    int(shoe_h * 0.62)), 0, 0, 360, 2, -1)
    shade = np.linspace(1.0, 0.8, total, dtype=np.float32)
    legs = shape > 0
    ys, _ = np.nonzero(legs)
    colour = np.where((shape[legs] == 2)[:, None], shoes, trousers[None] * shade[ys, None])
    region = rgb[cut:]
    region[legs] = np.clip(colour, 0, 255).astype(np.uint8)
    alpha[cut:][legs] = 1.0


WAIST_BELOW_FACE, TOY_FEET_BELOW_FACE = 3.7, 6.3  # a stocky action-figure body below a bust (big head, short legs)


def body_box_bottom(face: Box) -> float:
    """Where a bust's completed body ends (its feet), in the photo's coordinates."""
    _, fy, _, fh = face
    return fy + TOY_FEET_BELOW_FACE * fh


def complete_body(rgb: np.ndarray, alpha: np.ndarray, face: Box, chest: int) -> None:
    """A whole toy body below a head-and-shoulders photo (in place; ``face`` and ``chest`` in the crop's pixels):
    the clothes continue down to the waist (each column in the colour it has at the chest, so a tie or a zip runs
    on), arms hang at the sides ending in hands in the face's skin tone, then a belt, legs and shoes."""
    fx, fy, fw, fh = face
    cx = fx + fw / 2
    h, w = alpha.shape
    band = slice(max(0, chest - int(0.5 * fh)), chest)
    cols = np.nonzero((alpha[band] > 0.5).mean(axis=0) > 0.5)[0]
    if len(cols) < 4:
        return
    half = float(min(cx - cols[0], cols[-1] - cx, 1.45 * fw))
    waist = int(min(h - 1, fy + WAIST_BELOW_FACE * fh))
    alpha[chest:] = 0
    # The torso: the chest's columns carried down (a little darker lower down), narrowing a bit to the waist.
    known = alpha[band] > 0.5
    overall = np.median(rgb[band][known], axis=0).astype(np.float32)
    weights = known.astype(np.float32)[..., None]
    column = (rgb[band].astype(np.float32) * weights).sum(0) / np.maximum(weights.sum(0), 1)
    # Half way to the clothes' overall colour: a tie runs on, a dark patch at the cut does not become a stripe.
    column = np.where(weights.sum(0) > 0, column * 0.5 + overall * 0.5, overall)
    column = cv2.GaussianBlur(column[None], (0, 0), max(1.0, fw * 0.04))[0]
    torso = np.zeros((h, w), np.uint8)
    cv2.fillPoly(torso, [np.array([(cx - half, chest - 2), (cx + half, chest - 2), (cx + 0.86 * half, waist),
                                   (cx - 0.86 * half, waist)], np.float32).round().astype(np.int32)], 1)
    rows = slice(chest - 2, waist)
    depth = np.clip((np.arange(chest - 2, waist, dtype=np.float32) - chest) / max(1.0, waist - chest), 0, 1)
    body = column[None] * (1 - 0.12 * depth)[:, None, None]
    inside = torso[rows] > 0
    rgb[rows][inside] = np.clip(body[inside], 0, 255).astype(np.uint8)
    alpha[rows][inside] = 1.0
    # A belt at the waist.
    belt = slice(max(0, waist - int(0.14 * fh)), waist)
    belt_inside = torso[belt] > 0
    rgb[belt][belt_inside] = np.clip(overall * 0.45, 0, 255).astype(np.uint8)
    # Arms hanging at the sides, the sleeves in the clothes' colour at the shoulders' edge, and hands.
    skin = np.median(rgb[int(fy + 0.45 * fh):int(fy + 0.8 * fh), int(fx + 0.3 * fw):int(fx + 0.7 * fw)]
                     .reshape(-1, 3), axis=0).astype(np.float32)
    arm_r = max(3, int(0.26 * fw))
    for side in (-1, 1):
        edge = int(np.clip(cx + side * (half - arm_r * 0.6), 0, w - 1))
        sleeve = column[edge] * 0.9
        x = cx + side * (half + arm_r * 0.35)
        top, bottom = chest - int(0.5 * fh), waist + int(0.35 * fh)
        arm = np.zeros((h, w), np.uint8)
        cv2.line(arm, (int(x), top), (int(x + side * 0.1 * fw), bottom), 1, 2 * arm_r)
        cv2.circle(arm, (int(x + side * 0.1 * fw), bottom), arm_r, 1, -1)
        reach = arm > 0
        reach[:chest] &= alpha[:chest] < 0.5  # the photo's own shoulder stays in front
        rgb[reach] = np.clip(sleeve, 0, 255).astype(np.uint8)
        alpha[reach] = 1.0
        hand = np.zeros((h, w), np.uint8)
        cv2.ellipse(hand, (int(x + side * 0.1 * fw), int(bottom + arm_r * 0.9)), (int(arm_r * 0.85), int(arm_r * 1.05)),
                    0, 0, 360, 1, -1)
        rgb[hand > 0] = np.clip(skin, 0, 255).astype(np.uint8)
        alpha[hand > 0] = 1.0
    add_legs(rgb, alpha, waist, face)
