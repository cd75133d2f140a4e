"""The person matte holds the people and nothing of the background beside them (issue 15)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from minime.core.engines.classic import subject as subject_module
from minime.core.engines.classic.subject import _near_the_sure, _segment, find_subject

PORTRAIT = Path(__file__).parent / "data" / "obama.jpg"


def _portrait_before_a_blurred_backdrop(backdrop: np.ndarray, blur: float) -> np.ndarray:
    """The head-and-shoulders portrait at the right of a wide photo whose left is a blurred busy picture (a stadium
    crowd behind a coach): the model, shown that backdrop in a square of its own, takes it for a person."""
    person = np.asarray(Image.open(PORTRAIT).convert("RGB"))
    h, w = person.shape[:2]
    wide = cv2.GaussianBlur(cv2.resize(backdrop, (1000, h)), (0, 0), blur)
    wide[:, 600:600 + w] = person
    return wide


@pytest.mark.parametrize("backdrop, blur", [(data.astronaut(), 4), (data.chelsea(), 4), (data.hubble_deep_field(), 8)])
def test_a_blurred_backdrop_beside_a_portrait_is_not_in_the_matte(backdrop: np.ndarray, blur: float) -> None:
    subject = find_subject(_portrait_before_a_blurred_backdrop(backdrop, blur))
    assert len(subject.faces) == 1
    beside = subject.mask[:, :560]  # the backdrop, clear of the portrait's own edge
    assert float(beside.mean()) < 0.02, "the blurred backdrop stuck to the person"
    person = subject.mask[:, 600:920]
    x, y, w, h = (v - o for v, o in zip(subject.face, (600, 0, 0, 0)))
    inner = person[y + h // 5:y + h - h // 5, x + w // 5:x + w - w // 5]  # the face, not its box's corners
    assert float(inner.mean()) > 0.95, "the face"
    assert float(person[330:400, 40:280].mean()) > 0.85, "the shoulders and crossed arms"


class _CloseUpOnlyModel:
    """A stand-in segmenter: red is a person; green (a blurred crowd) looks like one only when seen close up, in a
    square smaller than the whole photo."""

    def __init__(self, whole_side: int) -> None:
        self.whole_side = whole_side

    def segmenter(self):
        def run(rgb: np.ndarray) -> np.ndarray:
            person = (rgb[..., 0] > 200).astype(np.float32)
            if rgb.shape[0] < self.whole_side:
                person = np.maximum(person, (rgb[..., 1] > 200).astype(np.float32))
            return person
        return run


def test_what_only_a_close_up_square_takes_for_a_person_is_dropped_unless_a_face_is_above_it() -> None:
    photo = np.zeros((120, 360, 3), np.uint8)
    photo[20:120, 150:210, 0] = 255  # a person, face at the top
    photo[0:120, 0:100, 1] = 255  # a crowd at the left, far from the face
    photo[70:120, 210:260, 1] = 255  # crowd-coloured, but right below the face: an arm in a green sleeve
    face = (160, 20, 40, 40)
    matte = _segment(photo, _CloseUpOnlyModel(whole_side=360), [face])
    assert matte[60:120, 150:210].min() == 1.0, "the person"
    assert matte[0:120, 0:90].max() == 0.0, "the crowd only a close-up square saw"
    assert matte[90:120, 212:228].mean() > 0.9, "below a face, the face wins"


def test_a_hazy_patch_away_from_the_sure_matte_is_dropped_but_soft_edges_stay() -> None:
    matte = np.zeros((200, 300), np.float32)
    cv2.circle(matte, (80, 120), 40, 1.0, -1)  # the sure body
    ring = (cv2.circle(np.zeros_like(matte), (80, 120), 44, 1.0, -1) > 0) & (matte < 1)
    matte[ring] = 0.6  # its soft edge (hair, a blurred hand)
    matte[10:60, 200:280] = 0.6  # a hazy patch far away: a blurred crowd
    matte[150:200, 200:260] = 0.6  # hazy, but below a face: a dark suit the model is unsure of
    face = (200, 100, 50, 40)
    kept = _near_the_sure(matte, [face])
    assert np.array_equal(kept[ring], matte[ring]), "the soft edge"
    assert kept[10:60, 200:280].max() == 0.0, "the hazy patch away from anyone"
    assert kept[150:200, 210:250].min() == pytest.approx(0.6), "below the face"


def _cut_out(rgb: np.ndarray, size: tuple[int, int], crop: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A public-domain portrait's person (pixels and matte), cropped to (x0, y0, x1, y1) and scaled to ``size``."""
    x0, y0, x1, y1 = crop
    matte = find_subject(rgb).mask[y0:y1, x0:x1]
    return (cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), size, interpolation=cv2.INTER_AREA),
            cv2.resize(matte, size, interpolation=cv2.INTER_AREA))


def _someone_behind(blur: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A big sharp head-and-shoulders portrait (Obama) in front of a blurred backdrop with a smaller person behind
    his shoulder at the bottom left (the astronaut), blurred by ``blur`` as a lens blurs a crowd behind the person in
    focus. Returns the photo and each person's own matte in it (front, behind)."""
    h, w = 440, 560
    scene = cv2.GaussianBlur(cv2.resize(data.coffee(), (w, h)), (0, 0), 10)
    other, other_matte = _cut_out(data.astronaut(), (190, 200), (90, 10, 430, 370))
    if blur:
        other, other_matte = cv2.GaussianBlur(other, (0, 0), blur), cv2.GaussianBlur(other_matte, (0, 0), blur)
    behind = np.zeros((h, w), np.float32)
    behind[h - 150:, 0:190] = other_matte[:150]
    scene[h - 150:, 0:190] = (other[:150] * other_matte[:150, :, None]
                              + scene[h - 150:, 0:190] * (1 - other_matte[:150, :, None])).astype(np.uint8)
    portrait = np.asarray(Image.open(PORTRAIT).convert("RGB"))
    person, person_matte = _cut_out(portrait, (400, 440), (10, 15, 310, 345))
    front = np.zeros((h, w), np.float32)
    front[:, 140:540] = person_matte
    scene[:, 140:540] = (person * person_matte[..., None] + scene[:, 140:540] * (1 - person_matte[..., None])
                         ).astype(np.uint8)
    return scene, front, behind


class _TakesEveryoneModel:
    """The real detectors with a stand-in segmenter that, like the model on a blurred crowd behind a person, takes
    everyone in the photo for the person (it is given the whole photo: the test photo is not wide)."""

    def __init__(self, real, people: np.ndarray) -> None:
        self._real, self._people = real, people

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def segmenter(self):
        def run(rgb: np.ndarray) -> np.ndarray:
            assert abs(rgb.shape[1] / rgb.shape[0] - self._people.shape[1] / self._people.shape[0]) < 0.02
            return cv2.resize(self._people, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
        return run


@pytest.mark.parametrize("blur", [0, 4])
def test_a_blurred_person_behind_leaves_the_matte_a_sharp_one_stays(blur: float, monkeypatch) -> None:
    photo, front, behind = _someone_behind(blur)
    stand_in = _TakesEveryoneModel(subject_module.models(), np.maximum(front, behind))
    monkeypatch.setattr(subject_module, "models", lambda: stand_in)
    matte = find_subject(photo)
    assert len(matte.faces) == (1 if blur else 2), "a blurred face far smaller is not one of the people, a sharp one is"
    only_behind = (behind > 0.5) & (front < 0.05)
    assert only_behind.sum() > 5000
    assert float(matte.mask[front > 0.9].mean()) > 0.93, "the person in front"
    kept = float(matte.mask[only_behind].mean())
    if blur:
        assert kept < 0.1, "the blurred person behind"
    else:  # in focus: one of the people
        assert kept > 0.7, "the second person, in focus"


def test_a_blurred_neighbour_cut_by_the_photos_side_leaves_the_matte() -> None:
    """A thin blurred sliver of someone beside the person, cut by the photo's side (a neighbour at a podium: their
    cheek and shoulder down to the person's own shoulder): too small to count as a crowd behind, but along the
    photo's edge and out of focus it is someone else."""
    h, w = 440, 560
    scene = cv2.GaussianBlur(cv2.resize(data.coffee(), (w, h)), (0, 0), 10)
    other, _ = _cut_out(data.astronaut(), (190, 200), (90, 10, 430, 370))
    strip = cv2.GaussianBlur(cv2.resize(np.ascontiguousarray(other[:, 20:36]), (16, h - 10)), (0, 0), 4)
    behind = np.zeros((h, w), np.float32)
    behind[10:, w - 16:] = 1  # (the model is sure of them as of the person)
    scene[10:, w - 16:] = strip
    portrait = np.asarray(Image.open(PORTRAIT).convert("RGB"))
    person, person_matte = _cut_out(portrait, (400, 440), (10, 15, 310, 345))
    front = np.zeros((h, w), np.float32)
    front[:, 160:560] = person_matte
    scene[:, 160:560] = (person * person_matte[..., None] + scene[:, 160:560] * (1 - person_matte[..., None])
                         ).astype(np.uint8)
    stand_in = _TakesEveryoneModel(subject_module.models(), np.maximum(front, behind))
    real = subject_module.models
    subject_module.models = lambda: stand_in
    try:
        matte = find_subject(scene)
    finally:
        subject_module.models = real
    only_behind = (behind > 0.5) & (front < 0.05)
    assert only_behind.sum() > 800
    assert float(matte.mask[front > 0.9].mean()) > 0.93, "the person"
    beside_head = only_behind.copy()
    beside_head[220:] = False
    assert float(matte.mask[beside_head].mean()) < 0.1, "the blurred neighbour's sliver beside the head"
    assert float(matte.mask[only_behind].mean()) < 0.5, "the blurred neighbour's sliver, down to the shoulder"
