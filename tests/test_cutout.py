"""The cut-out shared by the poster, magazine and sticker looks (cutout.py): its edge holds the person, not the
background beside them."""

from __future__ import annotations

import cv2
import numpy as np

from minime.core.engines.classic.cutout import _background_at_edge


def test_a_cut_outs_edge_that_holds_the_background_goes_transparent() -> None:
    """A matte a few pixels too generous round a person before green trees (a green fringe round the hair): the
    strip of green inside the matte's edge leaves the cut-out; the person stays whole."""
    h, w = 400, 400
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = (205, 160, 140)  # the person
    rgb[:, w // 2:] = (40, 150, 60)  # the trees behind
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    alpha = np.zeros((h, w), np.float32)
    alpha[:, : w // 2 + 6] = 1.0  # 6 px of the trees inside the matte
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.0)
    out = _background_at_edge(rgb, alpha)
    assert float(out[:, w // 2 + 2:w // 2 + 6].mean()) < 0.3, "the green strip at the edge"
    assert float(out[:, : w // 2 - 4].min()) > 0.98, "the person"
