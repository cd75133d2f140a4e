"""The toy body: lofted torso and hips, tapered limbs, sculpted hands (palm, fingers, thumb), rounded shoes, a neck;
all in canonical units (one face width = 1), standing on y = ``floor``, facing +Z."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minime.core.engines.classic.figure3d.shapes import Part, ellipsoid, limb, loft


@dataclass(frozen=True)
class Outfit:
    """The colours of the clothes (sRGB 0..1) and how the body is posed."""

    top: tuple[float, float, float]
    bottom: tuple[float, float, float]
    shoes: tuple[float, float, float]
    skin: tuple[float, float, float]
    shirt: tuple[float, float, float] | None = None  # a shirt showing in a jacket's V
    tie: tuple[float, float, float] | None = None  # a tie down the shirt's middle
    sleeves: str = "long"  # "long", "short"
    arm_out: tuple[float, float] = (0.14, 0.14)  # how far each arm swings out from the body (radians): right, left
    arm_raise: tuple[float, float] = (0.0, 0.0)  # forward raise of each arm (radians)
    elbow: tuple[float, float] = (0.25, 0.25)  # elbow bend (radians)
    leg_out: tuple[float, float] = (0.03, 0.03)  # how far each leg spreads (radians)
    stride: float = 0.0  # one leg forward, the other back (radians)
    # A photo's own arm pose, overriding the angles above: per arm (right, left), the upper arm's and the forearm's
    # directions as (outward, up, forward) in that arm's side (outward: away from the body's middle; a forearm may
    # point inward, across the chest); None for an arm keeps the angles.
    arm_dirs: tuple[tuple[tuple[float, float, float], tuple[float, float, float]] | None,
                    tuple[tuple[float, float, float], tuple[float, float, float]] | None] | None = None


NECK_TOP = 0.20  # how far the neck reaches up into the head


def _smooth(profile: np.ndarray, rows: int) -> np.ndarray:
    """A loft profile resampled to ``rows`` rows along a monotone cubic (no overshoot), keeping its poles."""
    from scipy.interpolate import PchipInterpolator

    t = np.linspace(0, 1, len(profile))
    return PchipInterpolator(t, profile, axis=0)(np.linspace(0, 1, rows)).astype(np.float32)


def _part(name: str, mesh: tuple[np.ndarray, np.ndarray], color, material: str) -> Part:
    verts, faces = mesh
    return Part(name, verts, faces, np.broadcast_to(np.float32(color), verts.shape).astype(np.float32), material)


def _down(out: float, fwd: float, side: int) -> np.ndarray:
    """A unit vector pointing down, swung out to ``side`` (+1 the figure's left, -1 its right) and forward."""
    v = np.float64([side * np.sin(out), -np.cos(out), 0.0])
    c, s = np.cos(fwd), np.sin(fwd)
    return np.float32([v[0], v[1] * c, -v[1] * s])


def vee_colors(part: Part) -> np.ndarray:
    """A part's vertex colours with its shirt's V (if any) painted in."""
    if "vee" not in part.extras:
        return part.color
    cx, y0, y1, half, front, shirt, tie = part.extras["vee"]
    verts = part.vertices
    rise = np.clip((verts[:, 1] - y0) / (y1 - y0), 0, 1)
    color = part.color.copy()
    color[(verts[:, 2] > front) & (np.abs(verts[:, 0] - cx) < half * rise)] = shirt
    if tie is not None:
        color[(verts[:, 2] > front) & (np.abs(verts[:, 0] - cx) < tie_half(verts[:, 1], y0, y1))] = tie
    return color


def tie_half(y: np.ndarray, y0: float, y1: float) -> np.ndarray:
    """The tie's half width at heights ``y`` in a V from ``y0`` (its point) to ``y1`` (the collar); 0 outside."""
    t = (y - y0) / (y1 - y0)
    width = (0.058 - 0.022 * t) * (y1 - y0) / 0.7
    return np.where((t > 0.08) & (t < 1.0), width, 0.0)


def _joined(*meshes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Closed surfaces as one part's arrays (each stays closed; the printable mesh's union makes them one)."""
    verts, faces, n = [], [], 0
    for v, f in meshes:
        verts.append(v)
        faces.append(f + n)
        n += len(v)
    return np.concatenate(verts), np.concatenate(faces).astype(np.int32)


def _hand(wrist: np.ndarray, fore: np.ndarray, side: int, s: float
          ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A sculpted toy hand at the wrist, the palm turned to the body: a flat palm, four fingers side by side curling
    in a little (the middle ones longest), and a thumb forward (a mitten read as a stump at toy scale)."""
    fore = np.float64(fore) / np.linalg.norm(fore)
    s = s * 1.3  # a toy's hands are a little large for its sleeves: they must read at a hand's span
    across = np.cross(fore, np.float64([1.0, 0.0, 0.0]))  # the row of the fingers: front to back for a hanging arm
    if np.linalg.norm(across) < 1e-3:
        across = np.float64([0.0, 0.0, 1.0])
    across /= np.linalg.norm(across)
    if across[2] < 0:
        across = -across
    inward = np.cross(across, fore) * (1 if side > 0 else -1)  # towards the body, where the palm faces
    if np.dot(inward, [-side, 0.0, 0.0]) < 0:
        inward = -inward
    palm_c = np.float64(wrist) + fore * 0.075 * s
    palm = ellipsoid(palm_c, (0.06 * s, 0.1 * s, 0.095 * s), seg=20, rings=10, axis=fore, side=inward)
    meshes = [palm]
    for k, (off, length) in enumerate(((-0.062, 0.085), (-0.021, 0.105), (0.021, 0.1), (0.062, 0.08))):
        base = palm_c + fore * 0.06 * s + across * off * s - inward * 0.005 * s
        knuckle = base + fore * length * 0.55 * s
        tip = knuckle + (fore * 0.7 + inward * 0.55) * length * 0.5 * s  # the last joint curls in
        radius = (0.027 - 0.002 * abs(k - 1.5)) * s
        meshes.append(limb(base, knuckle, radius, radius * 0.95, seg=12, rings=3))
        meshes.append(limb(knuckle, tip, radius * 0.95, radius * 0.85, seg=12, rings=3))
    thumb_base = palm_c - fore * 0.03 * s + across * 0.075 * s + inward * 0.015 * s
    thumb_tip = thumb_base + (fore * 0.075 + across * 0.05 + inward * 0.03) * s
    thumb = limb(thumb_base, thumb_tip, 0.034 * s, 0.028 * s, seg=14, rings=4)
    return _joined(*meshes), thumb


UPPER_ARM, FOREARM = 0.62, 0.56
FORE_R = 0.135  # the forearm's radius at the elbow
ARM_CLEAR = 0.03  # between a posed forearm (or hand) and the chest it lies in front of


def _front(torso: np.ndarray, hips: np.ndarray, torso_y: float, hip_y: float, x: np.ndarray, y: np.ndarray
           ) -> np.ndarray:
    """How far the body's front (the torso's or the hips' loft, superellipse 2.6) reaches forward at (x, y); -inf
    beside or above the body."""
    out = np.full(np.shape(x), -np.inf)
    for prof, y0 in ((torso, torso_y), (hips, hip_y)):
        t = y - y0
        inside = (t > prof[1, 0]) & (t < prof[-2, 0])
        a = np.interp(t, prof[1:-1, 0], prof[1:-1, 1])
        b = np.interp(t, prof[1:-1, 0], prof[1:-1, 2])
        u = np.clip(np.abs(x) / np.maximum(a, 1e-6), 0, 1)
        z = b * np.clip(1 - u ** 2.6, 0, 1) ** (1 / 2.6)
        out = np.where(inside & (np.abs(x) < a), np.maximum(out, z), out)
    return out


def _posed_arm(sh: np.ndarray, dirs, side: int, s: float, front) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elbow, wrist and forearm direction of an arm posed by ``dirs`` (see :class:`Outfit`), the forearm and hand
    kept in front of the body: where they would pass into the chest or hips, the elbow swings forward (as a real arm
    does to fold across the chest) until they clear it."""
    upper = np.float64(dirs[0]) * (side, 1, 1)
    fore = np.float64(dirs[1]) * (side, 1, 1)
    upper /= max(np.linalg.norm(upper), 1e-6)
    fore /= max(np.linalg.norm(fore), 1e-6)
    t = np.linspace(0.25, 1.0, 12)[:, None]
    for _ in range(6):
        elbow = sh + upper * UPPER_ARM * s
        tip = elbow + fore * (FOREARM + 0.2) * s  # through the hand
        pts = elbow + (tip - elbow) * t
        radius = (FORE_R - 0.04 * t[:, 0]) * s
        need = _front(*front, pts[:, 0], pts[:, 1]) + radius + ARM_CLEAR * s - pts[:, 2]
        deficit = float(np.max(need, initial=0.0))
        if deficit <= 1e-3:
            break
        elbow = elbow + np.float64([0, 0, deficit])
        upper = elbow - sh
        upper /= np.linalg.norm(upper)
    elbow = sh + upper * UPPER_ARM * s
    return elbow.astype(np.float32), (elbow + fore * FOREARM * s).astype(np.float32), fore.astype(np.float32)


def _segment_gap(a0, a1, b0, b1) -> float:
    """The shortest distance between segments a0-a1 and b0-b1 (sampled: the arms are short)."""
    t = np.linspace(0, 1, 16)[:, None]
    pa, pb = a0 + (a1 - a0) * t, b0 + (b1 - b0) * t
    return float(np.min(np.linalg.norm(pa[:, None] - pb[None], axis=2)))


def body_parts(outfit: Outfit, floor: float, scale: float = 1.0) -> tuple[list[Part], float]:
    """The body's parts and the height of the neck's top (where the chin goes)."""
    s = scale
    hip_y = floor + 1.62 * s
    shoulder_y = hip_y + 1.28 * s
    parts: list[Part] = []
    # Torso: a rounded-square loft from the hips to the shoulders, narrowing at the waist, broad rounded shoulders.
    torso = np.float32([
        [-0.02, 0, 0], [0.05, 0.37, 0.22], [0.22, 0.42, 0.27], [0.55, 0.40, 0.25], [0.85, 0.46, 0.28],
        [1.06, 0.53, 0.29], [1.18, 0.56, 0.28], [1.27, 0.52, 0.25], [1.34, 0.38, 0.2], [1.38, 0.2, 0.15],
        [1.40, 0, 0]]) * s
    torso_prof = _smooth(torso, 34)
    verts, faces = loft(torso_prof, (0, hip_y - 0.02 * s, 0), (0, 1, 0), seg=64, roundness=2.6)
    color = np.broadcast_to(np.float32(outfit.top), verts.shape).copy()
    extras = {}
    if outfit.shirt is not None:
        # The shirt in the jacket's V: the front, from a point at mid-chest widening to the collar (drawn sharp by
        # the renderer, as vertex colours in the printable mesh: see vee_colors).
        extras["vee"] = (0.0, hip_y + 0.62 * s, hip_y + 1.32 * s, 0.2 * s, 0.05 * s, outfit.shirt, outfit.tie)
    parts.append(Part("torso", verts, faces, color, "cloth", extras=extras))
    hips = np.float32([[-0.25, 0, 0], [-0.2, 0.3, 0.2], [-0.05, 0.43, 0.27], [0.2, 0.44, 0.275],
                       [0.38, 0.42, 0.27], [0.42, 0, 0]]) * s
    hips_prof = _smooth(hips, 16)
    parts.append(_part("hips", loft(hips_prof, (0, hip_y, 0), (0, 1, 0), seg=48, roundness=2.6),
                       outfit.bottom, "cloth"))
    front = (torso_prof, hips_prof, hip_y - 0.02 * s, hip_y)
    # Collar ring where the neck meets the shirt.
    collar = np.float32([[-0.02, 0, 0], [0.0, 0.2, 0.17], [0.05, 0.24, 0.2], [0.1, 0.22, 0.18], [0.12, 0, 0]]) * s
    parts.append(_part("collar", loft(collar, (0, shoulder_y + 0.0 * s, 0.0), (0, 1, 0), seg=32),
                       outfit.shirt or outfit.top, "cloth"))
    neck_top = shoulder_y + 0.2 * s
    parts.append(_part("neck", limb((0, shoulder_y - 0.1 * s, -0.02 * s), (0, neck_top + NECK_TOP, -0.04 * s),
                                    0.17 * s, 0.16 * s, seg=28), outfit.skin, "skin"))
    arms = []
    for i, side in enumerate((-1, 1)):
        sh = np.float32([side * 0.47 * s, shoulder_y - 0.16 * s, 0.0])
        dirs = outfit.arm_dirs[i] if outfit.arm_dirs is not None else None
        if dirs is not None:
            arms.append((sh, *_posed_arm(sh, dirs, side, s, front)))
            continue
        up = _down(outfit.arm_out[i], outfit.arm_raise[i], side)
        elbow = sh + up * UPPER_ARM * s
        fore = _down(outfit.arm_out[i] * 0.6, outfit.arm_raise[i] + outfit.elbow[i], side)
        arms.append((sh, elbow, elbow + fore * FOREARM * s, fore))
    if outfit.arm_dirs is not None and all(d is not None for d in outfit.arm_dirs):
        # Crossed (or joined) forearms: the one held higher lies over the other, moved forward until they part.
        (sh0, e0, w0, f0), (sh1, e1, w1, f1) = arms
        gap = _segment_gap(e0, w0 + f0 * 0.2 * s, e1, w1 + f1 * 0.2 * s)
        if gap < 2 * FORE_R * s:
            k = 0 if w0[1] >= w1[1] else 1
            sh, elbow, wrist, fore = arms[k]
            push = np.float32([0, 0, 2 * FORE_R * s - gap + 0.01 * s])
            upper = elbow + push - sh
            elbow = sh + upper / np.linalg.norm(upper) * UPPER_ARM * s
            arms[k] = (sh, elbow, elbow + fore * FOREARM * s, fore)
    for i, side in enumerate((-1, 1)):
        # Arms: shoulder ball, upper arm, forearm, mitten hand.
        sh, elbow, wrist, fore = arms[i]
        sleeve = outfit.top
        parts.append(_part(f"upperarm{i}", limb(sh, elbow, 0.17 * s, 0.14 * s), sleeve, "cloth"))
        fore_color = sleeve if outfit.sleeves == "long" else outfit.skin
        parts.append(_part(f"forearm{i}", limb(elbow, wrist, 0.135 * s, 0.11 * s), fore_color,
                           "cloth" if outfit.sleeves == "long" else "skin"))
        hand, thumb = _hand(wrist, fore, side, s)
        parts.append(_part(f"hand{i}", hand, outfit.skin, "skin"))
        parts.append(_part(f"thumb{i}", thumb, outfit.skin, "skin"))
        # Legs: thigh and shin in the trousers, a rounded shoe.
        hip = np.float32([side * 0.22 * s, hip_y + 0.05 * s, 0.0])
        stride = outfit.stride * (1 if side > 0 else -1)
        knee = hip + _down(outfit.leg_out[i], stride, side) * 0.78 * s
        ankle_y = floor + 0.2 * s
        # The shin carries on the thigh's line down to the floor (a spread stance stays straight-legged).
        along = (hip[1] - ankle_y) / max(1e-6, hip[1] - knee[1])
        ankle = np.float32([hip[0] + (knee[0] - hip[0]) * along, ankle_y, knee[2]])
        parts.append(_part(f"thigh{i}", limb(hip, knee, 0.215 * s, 0.185 * s), outfit.bottom, "cloth"))
        parts.append(_part(f"shin{i}", limb(knee, ankle, 0.19 * s, 0.155 * s), outfit.bottom, "cloth"))
        shoe = np.float32([[-0.2, 0, 0], [-0.17, 0.11, 0.07], [-0.08, 0.15, 0.115], [0.1, 0.155, 0.12],
                           [0.25, 0.13, 0.1], [0.34, 0.09, 0.075], [0.38, 0, 0]]) * s
        verts, faces = loft(shoe, (ankle[0], floor + 0.12 * s, ankle[2] + 0.02 * s), (0, 0, 1), (1, 0, 0), seg=32,
                            roundness=3.0)
        # A flat sole, sunk a little into what the figure stands on: a print is then one solid with its base (a sole
        # just touching the base's top left the figure a loose body on it).
        verts[:, 1] = np.maximum(verts[:, 1] - 0.02 * s, floor - 0.02 * s)
        parts.append(_part(f"shoe{i}", (verts, faces), outfit.shoes, "shoe"))
    return parts, neck_top
