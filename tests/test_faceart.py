"""Face art (faceart.py): the drawn faces of the flat looks. A rim of back light along the jaw (a bright crescent the
looks' colour steps would turn into a white line under a dark-skinned chin) is painted over from the skin around it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from minime.core.engines.classic.faceart import JAW, face_art, smoothed
from minime.core.engines.classic.facemesh import face_mesh
from minime.core.engines.classic.subject import find_faces

DATA = Path(__file__).resolve().parent / "data"


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def test_a_rim_of_back_light_along_a_dark_skinned_jaw_is_painted_in_the_skins_tones() -> None:
    photo = np.asarray(Image.open(DATA / "obama.jpg").convert("RGB").resize((800, 640), Image.Resampling.LANCZOS))
    face = max(find_faces(photo), key=lambda f: f[2] * f[3])
    points = face_mesh(photo, face)
    assert points is not None
    # The jaw lit from behind: a near-white line (3 px) along the face's outline from ear to ear under the chin.
    lit = photo.copy()
    jaw = np.round(points[list(JAW), :2]).astype(np.int32)
    cv2.polylines(lit, [jaw + (0, 2)], False, (235, 235, 240), 3, cv2.LINE_AA)
    rim = np.zeros(photo.shape[:2], np.uint8)
    cv2.polylines(rim, [jaw + (0, 2)], False, 255, 1)
    rim[: int(points[13, 1])] = 0  # the part under the mouth: the chin and the jaw's lower half
    rim = rim > 0
    art = face_art(lit, [face])
    out = _lightness(smoothed(lit, art))
    skin = _lightness(photo)[(art.skin > 0.9)]
    before, after = float(np.median(_lightness(lit)[rim])), float(np.median(out[rim]))
    assert before > np.median(skin) + 60  # (the test's rim is there, far lighter than the skin)
    assert after < np.median(skin) + 25, f"the rim stays {after - np.median(skin):.0f} L lighter than the skin"
    # The face itself is untouched by it: the cheeks keep their lightness.
    cheeks = art.skin > 0.9
    cheeks[int(points[13, 1]):] = False
    assert abs(float(np.median(out[cheeks])) - float(np.median(_lightness(photo)[cheeks]))) < 8



def test_a_shine_on_the_skin_is_drawn_in_the_skins_own_colour_not_grey() -> None:
    """A near-white shine on the forehead and nose, lowered to the skin's tones, takes the skin's colour: no grey
    patches on the drawn faces (a warm-lit group's faces looked like pale masks)."""
    photo = np.asarray(Image.open(DATA / "obama.jpg").convert("RGB").resize((800, 640), Image.Resampling.LANCZOS))
    face = max(find_faces(photo), key=lambda f: f[2] * f[3])
    shiny = photo.copy()
    x, y, w, h = face
    cv2.circle(shiny, (x + w // 2, y + h // 3), max(4, w // 12), (250, 248, 245), -1)  # a white shine on the brow
    shiny = cv2.GaussianBlur(shiny, (0, 0), 1.0)
    art = face_art(shiny, [face])
    out = cv2.cvtColor(smoothed(shiny, art), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB).astype(np.float32)
    spot = np.zeros(photo.shape[:2], np.uint8)
    cv2.circle(spot, (x + w // 2, y + h // 3), max(2, w // 24), 1, -1)
    skin = art.skin > 0.9
    chroma = np.hypot(out[..., 1] - 128, out[..., 2] - 128)
    own = float(np.median(np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)[skin]))
    assert float(np.median(chroma[spot > 0])) > 0.6 * own, "the shine is grey"
