"""Finding the person: a soft subject mask and the face box, offline.

mediapipe's selfie-segmentation and face-detection models, bundled with minime and run by LiteRT
(person_models.py); if LiteRT cannot run on a platform, OpenCV's Haar face detector seeds a GrabCut segmentation
(and the log says so). When no person is found, callers get a centred crop and
``found=False`` so they can say so.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from minime.core.engines.classic import person_models
from minime.core.logs import get_logger

log = get_logger("minime.subject")

ANALYSIS_SIDE = 384


@dataclass(frozen=True)
class Subject:
    """Where the person is in an image."""

    mask: np.ndarray  # float32 HxW in [0, 1], full image size
    face: tuple[int, int, int, int] | None  # x, y, w, h in image pixels
    found: bool
    faces: tuple[tuple[int, int, int, int], ...] = ()  # every face found, left to right (``face`` is the main one)

    def bbox(self, threshold: float = 0.5) -> tuple[int, int, int, int]:
        """Bounding box (x0, y0, x1, y1) of the mask, or the whole image."""
        h, w = self.mask.shape
        binary = (self.mask > threshold).astype(np.uint8)
        x, y, bw, bh = cv2.boundingRect(binary)
        if bw * bh == 0 or int(binary.sum()) < 50:
            return 0, 0, w, h
        return x, y, x + bw, y + bh


class _Models:
    """Lazily created, thread-confined detectors (a LiteRT interpreter is not thread-safe)."""

    def __init__(self) -> None:
        self._local = threading.local()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep the TFLite runtime's start-up chatter out of logs
        try:
            self._local.seg = person_models.SelfieSegmenter()
            self._available = True
        except Exception as exc:  # no LiteRT wheel for this platform: the OpenCV fallback still works
            log.warning("segmentation models unavailable; using the OpenCV fallback (GrabCut)",
                        reason=type(exc).__name__, detail=str(exc)[:200])
            self._available = False
        self._haar = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        self._hog = None
        self._hog_lock = threading.Lock()

    @property
    def has_models(self) -> bool:
        return self._available

    def segmenter(self) -> person_models.SelfieSegmenter | None:
        seg = getattr(self._local, "seg", None)
        if seg is None and self._available:
            seg = self._local.seg = person_models.SelfieSegmenter()
        return seg

    def face_detector(self, full_range: bool = False) -> person_models.FaceDetector | None:
        attr = "face_full" if full_range else "face_short"
        det = getattr(self._local, attr, None)
        if det is None and self._available:
            det = person_models.FaceDetector(full_range, min_score=0.5)
            setattr(self._local, attr, det)
        return det

    def haar(self):
        return self._haar

    def hog(self):
        """dlib's HOG frontal-face detector (it finds faces turned down or aside that mediapipe's short-range model
        misses in a group), or None without dlib. Built once; dlib's detector may be shared between threads."""
        with self._hog_lock:
            if self._hog is None:
                try:
                    import dlib

                    self._hog = dlib.get_frontal_face_detector()
                except ImportError:
                    self._hog = False
            return self._hog or None


_models: _Models | None = None
_models_lock = threading.Lock()


def models() -> _Models:
    """The process-wide detectors."""
    global _models
    with _models_lock:
        if _models is None:
            _models = _Models()
        return _models


def _analysis_copy(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, ANALYSIS_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return small, scale


def find_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The most confident face (x, y, w, h) in image pixels, or None."""
    small, scale = _analysis_copy(rgb)
    face = _detect_face(small, models())
    return tuple(int(v / scale) for v in face) if face else None


FACE_SIDE = 768
DETECT_SIDE = 320


def find_faces(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Every face (x, y, w, h) in image pixels, left to right.

    The detector sees a square of the picture at a time, so a wide group photo is scanned in overlapping squares
    (and a large square one in quarters as well): small faces in a row of people are found too.
    """
    m = models()
    h, w = rgb.shape[:2]
    scale = min(1.0, FACE_SIDE / max(h, w))
    img = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale < 1 else rgb
    ih, iw = img.shape[:2]
    found: list[tuple[float, float, float, float, float]] = []
    if not m.has_models:
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        for x, y, fw, fh in m.haar().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)):
            found.append((float(x), float(y), float(fw), float(fh), 1.0))
    else:
        side = max(iw, ih)
        windows = [(0, 0, side)]  # the whole picture, padded to a square
        short = min(iw, ih)
        if side > 1.3 * short:  # a strip of squares along the long side, half overlapping
            steps = int(np.ceil((side - short) / (short / 2))) + 1
            for i in range(steps):
                off = int(round(i * (side - short) / max(1, steps - 1)))
                windows.append((off, 0, short) if iw > ih else (0, off, short))
        elif short >= 400:  # a 3×3 grid of overlapping squares for small faces in a big photo
            q = int(short * 0.6)
            windows += [(x, y, q) for x in (0, (iw - q) // 2, iw - q) for y in (0, (ih - q) // 2, ih - q)]
        found += _detect_in(img, windows[0], m, (False, True), 0.5)
        # No face, small ones, or several across a wide picture (a group, where one large box can hide that the
        # others are small): look closer.
        if not found or max(f[2] for f in found) < 0.2 * side or (len(found) > 1 and side > 1.3 * short):
            for window in windows[1:]:
                found += _detect_in(img, window, m, (True,), 0.65)  # found in a part only: needs more confidence
    faces = _suppress(found)
    if len(faces) >= 2:  # a group: a second detector finds the people looking down or aside
        faces = _suppress(found + _hog_faces(rgb, faces, scale, m))
    faces = sorted((tuple(int(round(v / scale)) for v in f) for f in faces), key=lambda f: f[0])  # type: ignore
    return _in_focus(rgb, faces)  # type: ignore[arg-type]


def _in_focus(rgb: np.ndarray, faces: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The faces without the people behind: a face far smaller than the largest one and out of focus (a blurred
    crowd behind the person) is not one of the people in the photo."""
    if len(faces) < 2:
        return faces
    focus = _focus(rgb)
    blur = [focus.face_blur(f) for f in faces]
    known = [b for b in blur if b is not None]
    if not known:
        return faces
    limit = _blurry(min(known))
    widest = max(f[2] for f in faces)
    return [f for f, b in zip(faces, blur) if not (f[2] < BEHIND_FACE * widest and b is not None and b > limit)]


HOG_FACE_PX = 90  # dlib's HOG window is 80 px: the group's faces are brought to about this size
HOG_MIN_SCORE = 0.4  # below this dlib also takes badges and patterns for faces
HOG_WEIGHT = 0.45  # under mediapipe's scores: where both see a face, mediapipe's box (hair to chin) is kept


def _hog_faces(rgb: np.ndarray, faces: list[tuple[float, float, float, float]], scale: float,
               m: _Models) -> list[tuple[float, float, float, float, float]]:
    """dlib HOG's faces (in the ``scale``d frame of ``faces``) of about the size of the group's faces already found.

    Run only on a group photo, at the size where its faces are about HOG_FACE_PX wide (a few tens of ms)."""
    hog = m.hog()
    if hog is None:
        return []
    typical = float(np.median([f[2] for f in faces])) / scale  # in the photo's pixels
    h, w = rgb.shape[:2]
    zoom = min(HOG_FACE_PX / typical, 1024 / max(h, w), 1.6)
    if typical * zoom < 0.85 * HOG_FACE_PX:  # too small for the HOG window at a size worth its cost
        return []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if abs(zoom - 1) > 0.05:
        gray = cv2.resize(gray, (round(w * zoom), round(h * zoom)),
                          interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
    boxes, scores, _ = hog.run(gray, 0, HOG_MIN_SCORE)
    k = scale / zoom
    out = []
    for r, score in zip(boxes, scores):
        side = r.width() / zoom
        if 0.45 * typical <= side <= 2.2 * typical:  # a face of the group, not a pattern in the background
            out.append((r.left() * k, r.top() * k, r.width() * k, r.height() * k, HOG_WEIGHT * min(1.0, score)))
    return out


def _detect_in(img: np.ndarray, window: tuple[int, int, int], m: _Models, ranges: tuple[bool, ...],
               min_score: float) -> list[tuple[float, float, float, float, float]]:
    x0, y0, side = window
    tile = np.zeros((side, side, 3), np.uint8)
    part = img[y0:y0 + side, x0:x0 + side]
    tile[:part.shape[0], :part.shape[1]] = part
    tile = cv2.resize(tile, (DETECT_SIDE, DETECT_SIDE), interpolation=cv2.INTER_AREA)
    boxes = []
    for full_range in ranges:
        for face in m.face_detector(full_range)(tile):
            if face.score >= min_score:
                boxes.append((x0 + face.xmin * side, y0 + face.ymin * side, face.width * side, face.height * side,
                              face.score))
    return boxes


def _suppress(boxes: list[tuple[float, float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Non-maximum suppression: one box per face (the most confident one)."""
    kept: list[tuple[float, float, float, float, float]] = []
    for box in sorted(boxes, key=lambda b: -b[4]):
        if box[2] < 4 or box[3] < 4:
            continue
        if all(_overlap(box, k) < 0.3 for k in kept):
            kept.append(box)
    return [k[:4] for k in kept]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / max(1e-6, min(a[2] * a[3], b[2] * b[3]))


def find_subject(rgb: np.ndarray, faces: tuple[tuple[int, int, int, int], ...] | None = None) -> Subject:
    """Segment the people and find their faces in an RGB uint8 image (pass ``faces`` if they are already known)."""
    h, w = rgb.shape[:2]
    small, scale = _analysis_copy(rgb)
    m = models()
    faces_full = list(faces) if faces is not None else find_faces(rgb)
    faces_small = [tuple(int(v * scale) for v in f) for f in faces_full]
    if faces_full:  # the main face: the largest one
        face_small = tuple(int(v * scale) for v in max(faces_full, key=lambda f: f[2] * f[3]))
    else:
        face_small = _detect_face(small, m)
    if m.has_models:
        mask_small = _segment(small, m, faces_small)
        # A sharper, cleaner matte: contrast-stretch the model's soft probabilities.
        mask_small = _near_the_sure(np.clip((mask_small - 0.25) / 0.5, 0.0, 1.0), faces_small)
    else:
        mask_small = _grabcut(small, face_small)
    # A person is a detected face that the matte covers; a matte without a face (a mug, a pet) is not trusted.
    found = (face_small is not None and float((mask_small > 0.5).mean()) > 0.03
             and _covers(mask_small, face_small))
    found = found or any(_covers(mask_small, f) for f in faces_small)
    if faces_small:
        mask_small = _without_people_behind(small, mask_small, faces_small, _focus(small))
    mask_small = _refine_edges(small, _with_faces(_largest_blob(mask_small, faces_small), faces_small))
    mask = cv2.resize(mask_small, (w, h), interpolation=cv2.INTER_LINEAR)
    if m.has_models and faces_full:
        _closer_look(rgb, mask, mask_small, scale, faces_full, m)
    face_full = tuple(int(v / scale) for v in face_small) if face_small else None
    return Subject(mask, face_full, found, tuple(faces_full))


SLIVER = 0.03  # of a face's area (squared width): the least a blurred neighbour's sliver along the photo's side covers
BEHIND_FACE = 0.5  # a face narrower than this share of the largest one, and out of focus, is someone behind
BLUR_RATIO, BLUR_MARGIN = 2.0, 1.0  # out of focus: this many times blurrier than the sharpest face, and by this many
# pixels (the edges' blur σ, at the analysis size)


def _blurry(face_blur: float) -> float:
    """The edge blur (σ, px) beyond which something is out of focus, beside faces of ``face_blur``."""
    return max(BLUR_RATIO * face_blur, face_blur + BLUR_MARGIN)


@dataclass(frozen=True)
class _Focus:
    """How blurred the photo's edges are: the defocus estimate of Zhuo and Sim ("Defocus map estimation from a
    single image", 2011): an edge blurred again by a known Gaussian loses gradient in proportion to how sharp it
    was. OpenCV has no defocus estimator; it is a few filters."""

    blur: np.ndarray  # float32: each edge pixel's blur σ (px at this map's size), 0 off the edges
    edges: np.ndarray  # float32: 1 on the edges
    scale: float  # this map's size / the photo's

    def face_blur(self, face: tuple[int, int, int, int]) -> float | None:
        """The median blur of the edges inside a face (eyes, brows, mouth), or None when it has too few."""
        x, y, w, h = (int(round(v * self.scale)) for v in face)
        inner = (slice(max(0, y + h // 5), max(0, y + h - h // 5)), slice(max(0, x + w // 5), max(0, x + w - w // 5)))
        on = self.edges[inner] > 0
        return float(np.median(self.blur[inner][on])) if int(on.sum()) >= 20 else None

    def regional(self, size: tuple[int, int], sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """The blur spread from the edges over the regions between them (at ``size``, w × h): the blur and how much
        edge it rests on (0 where no edge is near)."""
        weight = cv2.GaussianBlur(cv2.resize(self.edges, size, interpolation=cv2.INTER_AREA), (0, 0), sigma)
        total = cv2.GaussianBlur(cv2.resize(self.blur, size, interpolation=cv2.INTER_AREA), (0, 0), sigma)
        return total / np.maximum(weight, 1e-6), weight


FOCUS_SIDE = 512
REBLUR = 1.0  # σ of the second blur


def _focus(rgb: np.ndarray) -> _Focus:
    """The photo's edge blur map (at up to FOCUS_SIDE px)."""
    h, w = rgb.shape[:2]
    k = min(1.0, FOCUS_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA) \
        if k < 1 else rgb
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    level = gray.astype(np.float32) / 255
    sharp, soft = _gradient(level), _gradient(cv2.GaussianBlur(level, (0, 0), REBLUR))
    ratio = sharp / np.maximum(soft, 1e-6)
    sigma = np.clip(REBLUR / np.sqrt(np.maximum(ratio * ratio - 1, 1e-3)), 0, 6)
    edges = (cv2.Canny(cv2.GaussianBlur(gray, (0, 0), 0.8), 10, 30) > 0).astype(np.float32)
    return _Focus((sigma * edges).astype(np.float32), edges, k)


def _gradient(level: np.ndarray) -> np.ndarray:
    return cv2.magnitude(cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3))


def _without_people_behind(small: np.ndarray, mask: np.ndarray, faces: list[tuple[int, int, int, int]],
                           focus: _Focus) -> np.ndarray:
    """The matte without the people behind the found ones: the segmentation model takes a blurred crowd behind a
    person for more of them. Out-of-focus parts of the matte away from every face's head and body are seeds of
    "someone behind", the heads, the bodies right below them and the sharp parts (an arm, what they hold) seeds of
    "the people"; a watershed over the photo's colours draws the line between the two (along the shoulder in front
    of a blurred head) and what fell to the people behind leaves the matte."""
    h, w = mask.shape
    blurs = [b for b in map(focus.face_blur, faces) if b is not None]  # (``focus`` is of ``small``)
    if not blurs:
        return mask
    sharpest = min(blurs)
    median_w = float(np.median([f[2] for f in faces]))
    blur, weight = focus.regional((w, h), max(1.5, 0.1 * median_w))
    known = weight > 0.05
    inside = mask > 0.5
    behind = inside & known & (blur > _blurry(sharpest))
    sharp = inside & known & (blur < (sharpest + _blurry(sharpest)) / 2)
    own, body = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    for x, y, fw, fh in faces:
        cx = int(x + fw / 2)
        cv2.ellipse(own, (cx, int(y + fh * 0.45)), (max(1, int(fw * 0.45)), max(1, int(fh * 0.6))), 0, 0, 360, 1, -1)
        cv2.rectangle(own, (int(x + fw * 0.3), int(y + fh)), (int(x + fw * 0.7), h), 1, -1)
        cv2.ellipse(body, (cx, int(y + fh * 0.4)), (max(1, int(fw * 0.8)), max(1, int(fh * 1.05))), 0, 0, 360, 1, -1)
        chin = int(y + fh)
        shoulders = np.array([[cx - fw * 0.5, chin], [cx + fw * 0.5, chin], [cx + fw * 1.25, chin + fh * 0.7],
                              [cx + fw * 1.4, h], [cx - fw * 1.4, h], [cx - fw * 1.25, chin + fh * 0.7]], np.int32)
        cv2.fillPoly(body, [shoulders], 1)
    # Someone behind is a large blurred area, not a few specks of a dark suit's noise.
    side = max(3, int(0.12 * median_w)) | 1
    behind_raw = behind
    seeds = ((behind & (body == 0)) * 255).astype(np.uint8)
    behind = cv2.morphologyEx(seeds, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(behind, connectivity=8)
    large = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 0.2 * median_w ** 2) + 1
    # A neighbour cut by the photo's side shows as a thin blurred sliver along it (a shoulder, a cheek): smaller,
    # but as surely someone else.
    # (Beside the shoulders too: the person's own shoulders there are as sharp as their face.)
    thin = cv2.morphologyEx(((behind_raw & (own == 0)) * 255).astype(np.uint8), cv2.MORPH_OPEN,
                            np.ones((3, 3), np.uint8))
    count, slivers, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    at_side = (stats[1:, cv2.CC_STAT_LEFT] == 0) | (stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] >= w)
    edge = np.flatnonzero(at_side & (stats[1:, cv2.CC_STAT_AREA] >= SLIVER * median_w ** 2)) + 1
    if not len(large) and not len(edge):
        return mask
    behind = np.isin(labels, large) | np.isin(slivers, edge)
    markers = np.zeros((h, w), np.int32)
    markers[behind] = 2
    markers[(sharp | (own > 0)) & inside] = 1
    cv2.watershed(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), markers)
    others = cv2.GaussianBlur((markers == 2).astype(np.float32), (0, 0), 1.0)
    return (mask * (1 - others)).astype(np.float32)


CLOSER_AREA = 0.4  # people covering less of the photo than this are segmented again, closer


def _closer_look(rgb: np.ndarray, mask: np.ndarray, mask_small: np.ndarray, scale: float,
                 faces: list[tuple[int, int, int, int]], m: _Models) -> None:
    """Small people (a street scene, full bodies far away) get a coarse matte: the model sees them a few pixels wide
    and takes the bus behind them for a person. Segment the part of the photo that holds them again, closer, and
    write that sharper matte into ``mask`` (in place)."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask_small > 0.5)
    if len(xs) < 20:
        return
    x0, x1, y0, y1 = xs.min() / scale, (xs.max() + 1) / scale, ys.min() / scale, (ys.max() + 1) / scale
    for fx, fy, fw, fh in faces:  # every head in, with its hair
        x0, x1, y0, y1 = min(x0, fx - fw), max(x1, fx + 2 * fw), min(y0, fy - fh), max(y1, fy + 2 * fh)
    pad = 0.08 * max(x1 - x0, y1 - y0)
    x0, y0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    x1, y1 = int(min(w, x1 + pad)), int(min(h, y1 + pad))
    if (x1 - x0) * (y1 - y0) > CLOSER_AREA * w * h or min(x1 - x0, y1 - y0) < 16:
        return
    part, part_scale = _analysis_copy(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    local = [(int((fx - x0) * part_scale), int((fy - y0) * part_scale), int(fw * part_scale), int(fh * part_scale))
             for fx, fy, fw, fh in faces]
    closer = _near_the_sure(np.clip((_segment(part, m, local) - 0.25) / 0.5, 0.0, 1.0), local)
    closer = _refine_edges(part, _with_faces(_largest_blob(closer, local), local))
    mask[y0:y1, x0:x1] = cv2.resize(closer, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)


UNSURE_REACH = 6  # analysis pixels: how far a soft edge (hair, a blurred hand) may reach out of the sure matte


def _near_the_sure(mask: np.ndarray, faces: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Only the sure part of the (contrast-stretched) matte, the soft edge around it and what is right below a face
    (a dark suit the model is unsure of is still the body). The model gives a blurred crowd or a poster a middling
    probability: a hazy patch of it, away from anyone, is not a person."""
    sure = (mask >= 0.99).astype(np.uint8)
    side = 2 * UNSURE_REACH + 1
    near = cv2.dilate(sure, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))) > 0
    near |= _below_faces(faces, mask.shape, widening=0.15, soft=False) > 0.5
    return np.where(near, mask, 0.0).astype(np.float32)


def _with_faces(mask: np.ndarray, faces: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Where the matte and a face disagree, the face wins: every face's oval is in the matte. A face the matte
    already holds only gets its middle filled: the detector's box of a turned head reaches past the cheek, and
    its whole oval would paste a patch of the background beside the face."""
    if not faces:
        return mask
    heads = np.zeros_like(mask)
    for x, y, fw, fh in faces:
        if fw < 2 or fh < 2:
            continue
        box = mask[max(0, y):y + fh, max(0, x):x + fw]
        held = box.size > 0 and float((box > 0.5).mean()) > 0.6
        axes = (fw * 0.3, fh * 0.4) if held else (fw * 0.48, fh * 0.6)
        centre = (int(x + fw / 2), int(y + fh * (0.55 if held else 0.5)))
        cv2.ellipse(heads, centre, (max(1, int(axes[0])), max(1, int(axes[1]))), 0, 0, 360, 1.0, -1)
    heads = cv2.GaussianBlur(heads, (0, 0), 1.0)
    return np.maximum(mask, heads).astype(np.float32)


def _segment(small: np.ndarray, m: _Models, faces: list[tuple[int, int, int, int]] = ()) -> np.ndarray:
    """The person probability map. The model sees a square: a wide (or tall) photo is segmented in half-overlapping
    squares along its long side, so the people in a group photo are not squeezed out of it.

    A square that shows only the edge of a person and a lot of a blurred crowd takes the crowd for a person too (a
    stadium behind two men). A second look at the whole photo at once, where the people are in their place, settles
    it: outside the people below their faces, a pixel stays only if the whole view agrees it is a person."""
    h, w = small.shape[:2]
    short, long_ = min(h, w), max(h, w)
    if long_ <= 1.4 * short:
        return m.segmenter()(small)
    out = np.zeros((h, w), np.float32)
    steps = int(np.ceil((long_ - short) / (short / 2))) + 1
    for i in range(steps):
        off = int(round(i * (long_ - short) / max(1, steps - 1)))
        window = (slice(None), slice(off, off + short)) if w > h else (slice(off, off + short), slice(None))
        part = m.segmenter()(np.ascontiguousarray(small[window]))
        out[window] = np.maximum(out[window], part)
    agree = np.clip((_whole_view(small, m) - 0.15) / 0.35, 0.0, 1.0)  # the whole view is coarser: half sure is enough
    return np.minimum(out, np.maximum(agree, _below_faces(faces, (h, w)))).astype(np.float32)


def _whole_view(small: np.ndarray, m: _Models) -> np.ndarray:
    """The person probability of the whole photo seen at once, mirrored out to a square (black bars would be seen as
    a frame; a mirrored edge continues the scene)."""
    h, w = small.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    square = cv2.copyMakeBorder(small, top, side - h - top, left, side - w - left, cv2.BORDER_REFLECT)
    return m.segmenter()(square)[top:top + h, left:left + w]


def _below_faces(faces: list[tuple[int, int, int, int]], shape: tuple[int, int], widening: float = 0.6,
                 soft: bool = True) -> np.ndarray:
    """0..1 map (soft-edged if ``soft``) of where each face's own body may be: from the hair down, widening below
    the chin (a leaning back or an arm reaches out), never the sky beside the head."""
    h, w = shape
    env = np.zeros((h, w), np.float32)
    ys, xs = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]
    for x, y, fw, fh in faces:
        if fw < 2 or fh < 2:
            continue
        top = max(0, int(np.ceil(y - 0.6 * fh)))
        below = np.maximum(0.0, (ys[top:] - (y + fh)) / fh)
        reach = fw * np.minimum(2.0, 1.0 + widening * below)
        np.maximum(env[top:], (np.abs(xs - (x + fw / 2)) <= reach).astype(np.float32), out=env[top:])
    return cv2.GaussianBlur(env, (0, 0), 3.0) if soft and faces else env


def _covers(mask: np.ndarray, face: tuple[int, int, int, int]) -> bool:
    x, y, w, h = face
    return float(mask[y:y + h, x:x + w].mean()) > 0.4 if w > 0 and h > 0 else False


def _detect_face(small: np.ndarray, m: _Models) -> tuple[int, int, int, int] | None:
    h, w = small.shape[:2]
    for full_range in (False, True) if m.has_models else ():
        faces = m.face_detector(full_range)(small)  # short range first: selfies are close-ups
        if faces:
            best = faces[0]
            x, y = max(0, int(best.xmin * w)), max(0, int(best.ymin * h))
            return x, y, min(w - x, int(best.width * w)), min(h - y, int(best.height * h))
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    faces = m.haar().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    if len(faces):
        x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3])
        return int(x), int(y), int(fw), int(fh)
    return None


def _grabcut(small: np.ndarray, face: tuple[int, int, int, int] | None) -> np.ndarray:
    h, w = small.shape[:2]
    if face is None:
        rect = (int(w * 0.15), int(h * 0.08), int(w * 0.7), int(h * 0.92) - 1)
    else:
        x, y, fw, fh = face
        x0, x1 = max(1, x - int(fw * 1.6)), min(w - 2, x + fw + int(fw * 1.6))
        y0 = max(1, y - int(fh * 0.6))
        rect = (x0, y0, x1 - x0, h - 1 - y0)
    gc_mask = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), gc_mask, rect, bgd, fgd, 3, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return np.zeros((h, w), np.float32)
    fg = np.where((gc_mask == cv2.GC_FGD) | (gc_mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    return cv2.GaussianBlur(fg, (0, 0), 1.5)


def _largest_blob(mask: np.ndarray, faces: list[tuple[int, int, int, int]] = ()) -> np.ndarray:
    """The biggest part of the matte, large parts beside it, and every part that holds a face (a group)."""
    binary = (mask > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 2:
        return mask
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[keep, cv2.CC_STAT_AREA]
    h, w = mask.shape
    with_face = {int(labels[min(h - 1, y + fh // 2), min(w - 1, x + fw // 2)]) for x, y, fw, fh in faces}
    allowed = np.isin(labels, [i for i in range(1, count)
                               if i == keep or i in with_face or stats[i, cv2.CC_STAT_AREA] > 0.15 * area])
    region = cv2.dilate(allowed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return np.where(region, mask, 0.0).astype(np.float32)


def _refine_edges(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Snap the upscaled matte to image edges with a guided-filter-like smoothing, then feather lightly."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, int(max(mask.shape) / 256))
    eps = 1e-3
    mean_i = cv2.boxFilter(gray, -1, (radius, radius))
    mean_p = cv2.boxFilter(mask, -1, (radius, radius))
    cov_ip = cv2.boxFilter(gray * mask, -1, (radius, radius)) - mean_i * mean_p
    var_i = cv2.boxFilter(gray * gray, -1, (radius, radius)) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    refined = cv2.boxFilter(a, -1, (radius, radius)) * gray + cv2.boxFilter(b, -1, (radius, radius))
    return np.clip(refined, 0.0, 1.0).astype(np.float32)
