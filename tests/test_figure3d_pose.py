"""The photo's own pose on the figure: BlazePose reads a rendered figure's folded arms back (a closed loop), folded
arms' landmarks become forearms across the chest that stay out of the body, a close-up reads no pose at all (and
costs no model run), and an action figure keeps its pose unless the photo's is a clear one."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import trimesh
from PIL import Image
from skimage import data as skdata

from minime.core.engines.classic.facemesh import face_mesh
from minime.core.engines.classic.figure3d import FigureOptions, build, options_for, still
from minime.core.engines.classic.figure3d.body import Outfit, body_parts
from minime.core.engines.classic.figure3d.build import BASE_HEIGHT, FigureModel
from minime.core.engines.classic.figure3d.head import CHIN, FaceFrame
from minime.core.engines.classic.pose_model import JOINTS, Joint, Pose, read_pose
from tests.test_figure3d import _hopper, _look, _obama

FOLDED = (((0.05, -1.0, 0.3), (-0.8, 0.1, 0.6)), ((0.05, -1.0, 0.3), (-0.8, 0.1, 0.6)))
buildmod = importlib.import_module("minime.core.engines.classic.figure3d.build")  # the package's ``build`` is the
# function
COLORS = ((0.2, 0.3, 0.6), (0.2, 0.2, 0.25), (0.1, 0.1, 0.1), (0.8, 0.6, 0.5))


def _pose(**points: tuple[tuple[float, float], tuple[float, float]]) -> Pose:
    """A pose from (x, y) per joint (the person's right first), all seen, depth 0."""
    return Pose({name: tuple(Joint(float(x), float(y), 0.0, 1.0, True) for x, y in points[name])
                 for name in JOINTS}, 1.0)


# Folded arms as BlazePose reads them on a full-length photo of a man (face 100 px wide, chin at (500, 400)), the
# person's right arm on the photo's left: elbows at the sides, each wrist past the middle at the other elbow.
FOLDED_ARMS = _pose(shoulder=((400, 520), (600, 518)), elbow=((395, 690), (610, 676)), wrist=((560, 688), (440, 670)),
                    hip=((445, 745), (555, 740)), knee=((450, 910), (560, 900)), ankle=((455, 1080), (565, 1070)))
HANGING_ARMS = _pose(shoulder=((400, 520), (600, 518)), elbow=((385, 690), (615, 690)), wrist=((380, 840), (620, 840)),
                     hip=((445, 745), (555, 740)), knee=((450, 910), (560, 900)), ankle=((455, 1080), (565, 1070)))
RAISED_ARM = _pose(shoulder=((400, 520), (600, 518)), elbow=((330, 420), (615, 690)), wrist=((320, 270), (620, 840)),
                   hip=((445, 745), (555, 740)), knee=((450, 910), (560, 900)), ankle=((455, 1080), (565, 1070)))


def _figure_with(outfit: Outfit) -> FigureModel:
    """The astronaut's figure wearing ``outfit``'s body (its pose)."""
    look = _look(Image.fromarray(skdata.astronaut()))
    model = build(look, options_for(look.theme, look.params))
    body, _ = body_parts(outfit, BASE_HEIGHT)
    names = {p.name for p in body}
    return FigureModel(tuple(p for p in model.parts if p.name not in names) + tuple(body), model.texture, 1,
                       model.options)


def test_the_pose_model_reads_a_rendered_figures_folded_arms_back() -> None:
    image = still(_figure_with(Outfit(*COLORS, arm_dirs=FOLDED)), (512, 768))
    backdrop = Image.new("RGB", image.size, (200, 200, 200))
    backdrop.paste(image, mask=image.split()[-1])
    ys, xs = np.nonzero(np.asarray(image)[:, :, 3] > 0)
    pose = read_pose(np.asarray(backdrop), (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2,
                     1.25 * (ys.max() - ys.min()))
    assert pose is not None and pose.score > 0.9
    right, left = ([pose.get(name, k) for name in ("shoulder", "elbow", "wrist")] for k in (0, 1))
    assert all(j is not None for j in right + left)
    upper = right[1].y - right[0].y
    assert upper > 0.3 * (left[0].x - right[0].x)  # elbows under the shoulders
    # Forearms across the body: each wrist well inside its elbow, at about the elbow's height.
    assert right[2].x - right[1].x > 0.15 * (left[1].x - right[1].x)
    assert left[1].x - left[2].x > 0.15 * (left[1].x - right[1].x)
    assert abs(right[2].y - right[1].y) < 0.5 * upper and abs(left[2].y - left[1].y) < 0.5 * upper
    # And mapped back to the figure, both forearms point inward.
    arms, _ = buildmod._pose_to_figure(pose, (right[0].x + left[0].x) / 2, right[0].y - 0.4 * upper, 0.6 * upper)
    assert all(a is not None and a[1][0] < 0 for a in arms)


def test_folded_arms_become_forearms_across_the_chest() -> None:
    arms, legs = buildmod._pose_to_figure(FOLDED_ARMS, 500, 400, 100)
    for upper, fore in arms:
        upper, fore = np.float64(upper) / np.linalg.norm(upper), np.float64(fore) / np.linalg.norm(fore)
        assert upper[1] < -0.8  # the upper arm hangs
        assert fore[0] < -0.6 and abs(fore[1]) < 0.3  # the forearm level, inward across the body
    assert all(leg is not None and 0.03 <= leg <= 0.3 for leg in legs)
    hanging, _ = buildmod._pose_to_figure(HANGING_ARMS, 500, 400, 100)
    assert all(np.float64(f)[1] < -0.8 * np.linalg.norm(f) for _, f in hanging)
    # Another person's shoulders (a neighbour in a group) are no pose of this face's.
    assert buildmod._pose_to_figure(FOLDED_ARMS, 800, 400, 100) is None


@pytest.mark.parametrize("arm_dirs", [
    FOLDED,  # folded arms
    (((0.6, -0.8, 0.0), (-0.6, -0.8, 0.1)),) * 2,  # hands on the hips
    (((0.0, -1.0, 0.2), (-0.5, -0.2, 0.85)),) * 2,  # hands together in front
    (((0.1, -1.0, 0.0), (-0.3, -1.0, 0.2)),) * 2,  # hands in the pockets
])
def test_posed_forearms_and_hands_stay_out_of_the_body(arm_dirs) -> None:
    parts = {p.name: p for p in body_parts(Outfit(*COLORS, arm_dirs=arm_dirs), BASE_HEIGHT)[0]}
    torso = trimesh.Trimesh(parts["torso"].vertices, parts["torso"].faces)
    hips = trimesh.Trimesh(parts["hips"].vertices, parts["hips"].faces)
    assert torso.is_watertight and hips.is_watertight
    for i in (0, 1):
        verts = np.concatenate([parts[f"forearm{i}"].vertices, parts[f"hand{i}"].vertices])
        assert torso.contains(verts).mean() < 0.02 and hips.contains(verts).mean() < 0.02
    # Folded forearms lie one over the other, not through each other.
    fore = [trimesh.Trimesh(parts[f"forearm{i}"].vertices, parts[f"forearm{i}"].faces) for i in (0, 1)]
    assert fore[0].contains(parts["forearm1"].vertices).mean() < 0.02
    assert fore[1].contains(parts["forearm0"].vertices).mean() < 0.02


def test_an_action_figure_keeps_its_pose_unless_the_photos_is_a_clear_one() -> None:
    outfit = Outfit(*COLORS)
    action = FigureOptions(pose="action")
    hanging = buildmod._pose_to_figure(HANGING_ARMS, 500, 400, 100)
    assert buildmod._posed(outfit, hanging, action) is outfit
    assert buildmod._posed(outfit, hanging, FigureOptions()).arm_dirs is not None
    for clear in (FOLDED_ARMS, RAISED_ARM):
        assert buildmod._posed(outfit, buildmod._pose_to_figure(clear, 500, 400, 100), action).arm_dirs is not None
    # One arm seen, clearly raised: the other hangs rather than keeping half the action pose.
    arms, legs = buildmod._pose_to_figure(RAISED_ARM, 500, 400, 100)
    dynamic = Outfit(*COLORS, arm_raise=(1.9, 0.5), elbow=(0.5, 1.3))
    posed = buildmod._posed(dynamic, ((arms[0], None), legs), action)
    assert posed.arm_dirs[1] is None and posed.arm_raise[1] == 0.0


def _arms_of(photo: Image.Image):
    look = _look(photo)
    rgb = np.asarray(look.source)
    points = face_mesh(rgb, look.faces[0])
    return buildmod._arm_pose(rgb, look.subject.mask, points, FaceFrame.of(points).width), points


def test_a_real_photos_folded_arms_are_read() -> None:
    found, _ = _arms_of(_obama())  # the official portrait: arms folded, the photo cut at the waist
    assert found is not None
    arms, legs = found
    assert all(a is not None for a in arms) and legs == (None, None)  # no legs in the photo
    for upper, fore in arms:
        assert upper[1] < -0.8 * np.linalg.norm(upper)  # upper arms hang
        assert fore[0] < -0.5 * np.linalg.norm(fore)  # forearms across the body


def test_a_close_up_reads_no_pose_and_keeps_the_default_arms(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr("minime.core.engines.classic.pose_model.read_pose", lambda *a: calls.append(a))
    assert _arms_of(_hopper())[0] is None
    # The portrait cut just under the chest: still a close-up.
    obama = _obama()
    look = _look(obama)
    points = face_mesh(np.asarray(look.source), look.faces[0])
    chin = points[CHIN, 1] * obama.height / 1024
    width = FaceFrame.of(points).width * obama.height / 1024
    found, _ = _arms_of(obama.crop((0, 0, obama.width, int(chin + 1.8 * width))))
    assert found is None
    assert not calls  # the model never ran


def test_in_a_group_no_arm_reaches_into_a_neighbour() -> None:
    wide = Outfit(*COLORS, arm_out=(0.9, 0.8))  # the matte's stance took a table for arms held out
    assert max(buildmod._posed(wide, None, FigureOptions(), group=True).arm_out) <= buildmod.GROUP_ARM_OUT
    assert buildmod._posed(wide, None, FigureOptions()).arm_out == (0.9, 0.8)  # alone, the stance stands
    out = (((0.9, -0.4, 0.0), (1.0, 0.0, 0.0)), None)  # an arm held straight out to the side
    arms = buildmod._posed(Outfit(*COLORS), (out, (None, None)), FigureOptions(), group=True).arm_dirs
    assert arms is None or arms[0] is None
    for arm in buildmod._posed(Outfit(*COLORS), buildmod._pose_to_figure(FOLDED_ARMS, 500, 400, 100),
                               FigureOptions(), group=True).arm_dirs:
        assert arm is not None and buildmod._reach(arm) <= buildmod.GROUP_REACH
