"""Costumes for the caricature: a job named after ``|`` (``/caricature Ada | nurse, running``) dresses the figure in
that job's colours and, for a few jobs, its hat. Best effort: an unknown job leaves the photo's own clothes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from minime.core.engines.classic.figure3d.body import Outfit, _smooth
from minime.core.engines.classic.figure3d.head import HeadShape
from minime.core.engines.classic.figure3d.shapes import Part, ellipsoid, loft

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Costume:
    """A job's clothes: top, shirt in its V (None: none), trousers, shoes, and a hat (``chef``, ``hardhat``,
    ``cap``, or None) with its colour."""

    top: RGB
    shirt: RGB | None
    bottom: RGB
    shoes: RGB
    hat: str | None = None
    hat_color: RGB = (1.0, 1.0, 1.0)


WHITE, NAVY, BLACK = (0.95, 0.95, 0.94), (0.1, 0.14, 0.3), (0.1, 0.1, 0.11)
COSTUMES: dict[str, Costume] = {
    "nurse": Costume((0.35, 0.7, 0.78), None, (0.35, 0.7, 0.78), WHITE),
    "doctor": Costume(WHITE, (0.55, 0.7, 0.9), (0.2, 0.22, 0.3), BLACK),
    "chef": Costume(WHITE, None, BLACK, BLACK, "chef", WHITE),
    "cook": Costume(WHITE, None, BLACK, BLACK, "chef", WHITE),
    "baker": Costume(WHITE, None, (0.55, 0.45, 0.35), BLACK, "chef", WHITE),
    "builder": Costume((1.0, 0.55, 0.1), None, (0.25, 0.3, 0.45), (0.4, 0.28, 0.15), "hardhat", (1.0, 0.82, 0.1)),
    "engineer": Costume((1.0, 0.55, 0.1), (0.3, 0.4, 0.6), (0.25, 0.3, 0.45), (0.4, 0.28, 0.15), "hardhat",
                        (1.0, 0.82, 0.1)),
    "police": Costume(NAVY, (0.75, 0.8, 0.9), NAVY, BLACK, "cap", NAVY),
    "pilot": Costume(NAVY, WHITE, NAVY, BLACK, "cap", NAVY),
    "firefighter": Costume((0.72, 0.55, 0.25), None, (0.72, 0.55, 0.25), BLACK, "hardhat", (0.8, 0.1, 0.08)),
    "teacher": Costume((0.55, 0.25, 0.25), WHITE, (0.3, 0.3, 0.32), (0.35, 0.22, 0.14)),
    "lawyer": Costume((0.15, 0.15, 0.18), WHITE, (0.15, 0.15, 0.18), BLACK),
    "programmer": Costume((0.2, 0.2, 0.22), None, (0.2, 0.28, 0.45), WHITE),
    "developer": Costume((0.2, 0.2, 0.22), None, (0.2, 0.28, 0.45), WHITE),
    "farmer": Costume((0.7, 0.2, 0.2), None, (0.25, 0.35, 0.6), (0.4, 0.28, 0.15)),
    "scientist": Costume(WHITE, (0.4, 0.55, 0.4), (0.25, 0.25, 0.3), BLACK),
    "artist": Costume((0.2, 0.2, 0.22), None, (0.2, 0.2, 0.22), BLACK),
    "soldier": Costume((0.33, 0.38, 0.22), None, (0.33, 0.38, 0.22), BLACK, "cap", (0.33, 0.38, 0.22)),
    "astronaut": Costume((0.95, 0.45, 0.15), None, (0.95, 0.45, 0.15), WHITE),
}


def costume_for(things: tuple[str, ...]) -> Costume | None:
    """The first job among ``things`` that has a costume (words matched loosely: "a nurse", "Nurses")."""
    for thing in things:
        for word in thing.lower().replace("-", " ").split():
            word = word.strip(".,!?")
            for key in (word, word.rstrip("s")):
                if key in COSTUMES:
                    return COSTUMES[key]
    return None


def dressed(outfit: Outfit, costume: Costume) -> Outfit:
    """The outfit in the costume's colours (the pose and skin kept)."""
    return replace(outfit, top=costume.top, shirt=costume.shirt, tie=None, bottom=costume.bottom,
                   shoes=costume.shoes)


def hat_part(shape: HeadShape, costume: Costume) -> Part | None:
    """The costume's hat on top of the head (head space: it scales and moves with the head)."""
    if costume.hat is None:
        return None
    crown = shape.crown
    cz = float(shape.center[2])
    if costume.hat == "chef":
        rows = np.float32([[0.0, 0, 0], [0.0, 0.6, 0.68], [0.4, 0.62, 0.7], [0.5, 0.76, 0.82], [0.68, 0.8, 0.86],
                           [0.8, 0.68, 0.74], [0.85, 0, 0]])
        verts, faces = loft(_smooth(rows, 24), (0.0, crown - 0.3, cz + 0.04), (0, 1, 0), seg=64)
    elif costume.hat == "hardhat":
        verts, faces = ellipsoid((0.0, crown - 0.28, cz + 0.02), (0.68, 0.6, 0.76), rings=16)
        brim_v, brim_f = ellipsoid((0.0, crown - 0.26, cz + 0.1), (0.76, 0.04, 0.88), rings=6)
        verts, faces = _join((verts, faces), (brim_v, brim_f))
    else:  # a peaked cap
        rows = np.float32([[0.0, 0, 0], [0.0, 0.62, 0.7], [0.2, 0.64, 0.72], [0.4, 0.62, 0.7], [0.55, 0.45, 0.5],
                           [0.62, 0, 0]])
        verts, faces = loft(rows, (0.0, crown - 0.26, cz + 0.02), (0, 1, 0), seg=48)
        visor_v, visor_f = ellipsoid((0.0, crown - 0.25, cz + 0.66), (0.44, 0.03, 0.24), rings=6)
        verts, faces = _join((verts, faces), (visor_v, visor_f))
    color = np.broadcast_to(np.float32(costume.hat_color), verts.shape).copy()
    return Part("hat", verts, faces, color, "shoe")


def _join(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two closed surfaces as one part's arrays (each stays closed; the union makes them one solid)."""
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1] + len(a[0])])
