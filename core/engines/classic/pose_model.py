"""MediaPipe's BlazePose GHUM landmark model (full), run with LiteRT like ``person_models``: a person's shoulders,
elbows, wrists, hips, knees and ankles, for the toy figure's pose.

The person detector (``pose_detection.tflite``) is not used: the figure already knows where each person is (the
face, and the matte below it), so the region of interest is a square around the body estimated from the face, as
mediapipe's ``pose_landmark_by_roi`` graph expects it (upright, the body in its middle, a quarter of margin),
letterboxed with black like its ``ImageToTensorCalculator`` (``BORDER_ZERO``, 0..1). The model's 195 outputs are
39 landmarks × (x, y, z, visibility, presence) in the 256-pixel input, visibility and presence as logits
(mediapipe's ``TensorsToLandmarksCalculator`` with ``SIGMOID`` activations); its second output is the pose flag.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from minime.core.engines.classic.person_models import _interpreter

# BlazePose's landmark indices (the person's own left and right).
JOINTS = {"shoulder": (12, 11), "elbow": (14, 13), "wrist": (16, 15), "hip": (24, 23), "knee": (26, 25),
          "ankle": (28, 27)}
MIN_VISIBILITY = 0.6  # below this a landmark is a guess (hidden, or out of the photo)
MIN_FLAG = 0.5  # mediapipe's pose_landmark graph drops the pose below this


@dataclass(frozen=True)
class Joint:
    """A landmark in the photo's pixels (x, y), its depth (z: smaller is nearer the camera, in x's units, relative
    to the hips), the model's visibility (0..1), and whether it is to be trusted (visible, inside the photo)."""

    x: float
    y: float
    z: float
    visibility: float
    trusted: bool


@dataclass(frozen=True)
class Pose:
    """One person's body landmarks: ``joints[name] = (right, left)`` (the person's own right first)."""

    joints: dict[str, tuple[Joint, Joint]]
    score: float

    def get(self, name: str, side: int) -> Joint | None:
        """The trusted joint ``name`` of ``side`` (0 the person's right, 1 the left), or None."""
        joint = self.joints[name][side]
        return joint if joint.trusted else None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -60, 60)))


class PoseReader:
    """Reads one person's pose in an RGB photo, given a square region around their body.

    Not thread-safe (one LiteRT interpreter): use one per thread.
    """

    SIZE = 256

    def __init__(self) -> None:
        self._model = _interpreter("pose_landmark_full.tflite")
        self._input = self._model.get_input_details()[0]["index"]
        outputs = {tuple(o["shape"]): o["index"] for o in self._model.get_output_details()}
        self._landmarks = outputs[(1, 195)]
        self._flag = outputs[(1, 1)]

    def __call__(self, rgb: np.ndarray, cx: float, cy: float, size: float) -> Pose | None:
        """The pose of the person in the square of side ``size`` centred on (``cx``, ``cy``) (photo pixels), or
        None when the model sees no pose there."""
        h, w = rgb.shape[:2]
        scale = self.SIZE / size
        # The photo to the input square: an affine map (the square may reach outside the photo: black there).
        m = np.float32([[scale, 0, self.SIZE / 2 - cx * scale], [0, scale, self.SIZE / 2 - cy * scale]])
        crop = cv2.warpAffine(rgb, m, (self.SIZE, self.SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        self._model.set_tensor(self._input, (crop.astype(np.float32) / 255)[None])
        self._model.invoke()
        flag = float(self._model.get_tensor(self._flag).reshape(-1)[0])
        if flag < MIN_FLAG:
            return None
        raw = self._model.get_tensor(self._landmarks).reshape(39, 5).astype(np.float64)
        xs = (raw[:, 0] - self.SIZE / 2) / scale + cx
        ys = (raw[:, 1] - self.SIZE / 2) / scale + cy
        zs = raw[:, 2] / scale
        visible = _sigmoid(raw[:, 3]) * _sigmoid(raw[:, 4])
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        joints = {}
        for name, pair in JOINTS.items():
            joints[name] = tuple(Joint(float(xs[i]), float(ys[i]), float(zs[i]), float(visible[i]),
                                       bool(visible[i] >= MIN_VISIBILITY and inside[i])) for i in pair)
        return Pose(joints, flag)


_local = threading.local()


def read_pose(rgb: np.ndarray, cx: float, cy: float, size: float) -> Pose | None:
    """:class:`PoseReader` on this thread's reader (made once per thread)."""
    reader = getattr(_local, "reader", None)
    if reader is None:
        reader = _local.reader = PoseReader()
    return reader(rgb, cx, cy, size)
