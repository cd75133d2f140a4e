"""What every look receives, and the toy-figure cut-out shared by the packaged looks."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from minime.core.domain import RenderParams
from minime.core.engines.base import ProgressCallback
from minime.core.engines.classic.paint import Color, hex_color
from minime.core.engines.classic.subject import Subject, find_faces, find_subject
from minime.core.themes import Theme

CLOSE_SIDE = 0.12  # face widths beside a close-up face that a crop keeps at least (its ears and some hair)


@dataclass
class Look:
    """The inputs of one classic render. The face and the person's matte are found only if a look asks."""

    source: Image.Image  # RGB at working size
    theme: Theme
    params: RenderParams
    progress: ProgressCallback
    notes: list[str] = field(default_factory=list)
    min_face_px: float = 0.0  # a face narrower than this (working pixels) is too small to sculpt
    name_drawn: bool = False  # set when the look typesets the name (so "bigger name" elsewhere gets a note)
    figure_people: int = 0  # set when the look shows a 3D figure: how many people it holds
    _face: tuple[int, int, int, int] | None | bool = False
    _faces: tuple[tuple[int, int, int, int], ...] | None = None
    _subject: Subject | None = None

    @property
    def faces(self) -> tuple[tuple[int, int, int, int], ...]:
        """Every face (x, y, w, h), left to right, detected on first use."""
        if self._faces is None:
            self._faces = self._subject.faces if self._subject else tuple(find_faces(np.asarray(self.source)))
        return self._faces

    @property
    def face(self) -> tuple[int, int, int, int] | None:
        """The main face box (x, y, w, h): the largest one."""
        if self._face is False:
            self._face = self._subject.face if self._subject else (
                max(self.faces, key=lambda f: f[2] * f[3]) if self.faces else None)
        return self._face  # type: ignore[return-value]

    @property
    def subject(self) -> Subject:
        """The person's matte and faces, segmented on first use."""
        if self._subject is None:
            self._subject = find_subject(np.asarray(self.source), faces=self._faces)
            self._face, self._faces = self._subject.face, self._subject.faces
        return self._subject

    @property
    def person_found(self) -> bool:
        """Whether a person is in the photo (needs only the face when the matte was not asked for)."""
        return self._subject.found if self._subject else self.face is not None

    @property
    def low_resolution(self) -> bool:
        """Whether the person's face is too small in the original photo for a cut-out to look good."""
        return self.face is not None and self.face[2] < self.min_face_px

    @property
    def sculptable(self) -> bool:
        """Whether there is a person to cut out and sculpt (found, and not too small)."""
        return self.subject.found and not self.low_resolution

    @property
    def rng(self) -> np.random.Generator:
        """A generator seeded by the request (variations differ, repeats match)."""
        return np.random.default_rng(self.params.seed)

    @property
    def palette(self) -> dict:
        """The theme palette picked by the "another background colour" refinement."""
        return self.theme.palette(self.params.palette)

    def color(self, key: str, default: str = "#808080") -> Color:
        """A palette colour by name."""
        return hex_color(self.palette.get(key, self.theme.classic.get(key, default)))

    def name(self, default: str = "") -> str:
        """The name (or caption) to typeset, exactly as given (line breaks and control characters as spaces)."""
        self.name_drawn = True
        return " ".join("".join(" " if unicodedata.category(c)[0] == "C" and c not in "\u200d\ufe0f" else c
                                for c in (self.params.name or default)).split())

    def heads(self) -> tuple[float, float, float, float] | None:
        """The box (x0, y0, x1, y1) around every face found, grown to take in hair, ears and chin."""
        faces = list(self.faces)
        if not faces:
            return None
        x0 = min(x - 0.35 * w for x, y, w, h in faces)
        x1 = max(x + 1.35 * w for x, y, w, h in faces)
        y0 = min(y - 0.7 * h for x, y, w, h in faces)
        y1 = max(y + 1.3 * h for x, y, w, h in faces)
        return max(0.0, x0), max(0.0, y0), min(float(self.source.width), x1), min(float(self.source.height), y1)

    @staticmethod
    def face_box(face: tuple[int, int, int, int], below: float = 1.9, side: float = 1.4, above: float = 0.75
                 ) -> tuple[int, int, int, int]:
        """One face's head-and-shoulders box (x0, y0, x1, y1); the margins are in face heights (widths aside)."""
        x, y, w, h = face
        return int(x - side * w), int(y - above * h), int(x + w + side * w), int(y + h + below * h)

    def people_box(self, below: float = 1.9, side: float = 1.4, above: float = 0.75) -> tuple[int, int, int, int]:
        """The head-and-shoulders box (x0, y0, x1, y1) around every face found, each face with its own margins
        (``below``, ``side``, ``above`` in face heights), in photo pixels; the whole photo when there is no face."""
        faces = list(self.faces) or ([self.face] if self.face else [])
        if not faces:
            return 0, 0, self.source.width, self.source.height
        boxes = [self.face_box(f, below, side, above) for f in faces]
        return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)

    def fits(self, size: tuple[int, int], slack: float = 0.9) -> bool:
        """Whether every head fits a crop of ``size``'s shape (within ``slack`` of it): a portrait look can be cut
        from the photo as it is. A wide group in a portrait look does not fit."""
        heads = self.heads()
        if heads is None:
            return True
        sw, sh = self.source.size
        aspect = size[0] / size[1]
        cw, ch = (sw, sw / aspect) if sw / sh < aspect else (sh * aspect, sh)
        return heads[2] - heads[0] <= cw * slack and heads[3] - heads[1] <= ch * slack

    def frame_window(self, size: tuple[int, int], band: bool = False) -> tuple[float, float, float, float]:
        """Where to cut a picture of ``size``'s shape from the photo (x0, y0, width, height in photo pixels): the
        largest such crop, placed with every face in it and their heads in its upper part. When even that cannot
        hold every face (a wide group in a square), the window is larger than the photo: the photo is shown whole
        (``band``: as a band along the picture's bottom edge, as wide as the group, the look's design above it)."""
        w, h = size
        sw, sh = self.source.size
        aspect = w / h
        cw, ch = (sw, sw / aspect) if sw / sh < aspect else (sh * aspect, sh)
        heads = self.heads()
        # The edition (seed) varies the composition: a closer or wider crop, framed further left or right.
        zoom = (1.0, 0.88, 0.78)[self.params.seed % 3]
        if heads is None or (heads[2] - heads[0] <= cw * zoom * 0.9 and heads[3] - heads[1] <= ch * zoom * 0.9):
            cw, ch = cw * zoom, ch * zoom
        lean = ((self.params.seed // 3) % 3 - 1) * 0.35
        if heads is None:
            fx, fy = self.face_center()
            return (min(max(0.0, fx * sw - cw / 2), sw - cw), min(max(0.0, fy * sh - ch / 2), sh - ch), cw, ch)
        hx0, hy0, hx1, hy1 = heads
        if len(self.faces) == 1 and not (hx1 - hx0 <= cw + 1 and hy1 - hy0 <= ch + 1):
            # One close-up face whose generous head box is a little wider than the crop (a landscape close-up in a
            # portrait look): the crop cuts into the margin beside the ears rather than showing the photo whole with
            # its edges as hard lines across the picture.
            x, y, fw, fh = self.faces[0]
            hx0, hx1 = max(0.0, x - CLOSE_SIDE * fw), min(float(sw), x + (1 + CLOSE_SIDE) * fw)
            hy0 = max(0.0, y - 0.45 * fh)
        if hx1 - hx0 <= cw + 1 and hy1 - hy0 <= ch + 1:
            slack = cw - (hx1 - hx0)
            x0 = min(max(0.0, (hx0 + hx1) / 2 - cw / 2 + lean * slack / 2), sw - cw)
            y0 = min(max(0.0, hy0 - 0.1 * ch), sh - ch)
            x0 = min(max(x0, hx1 - cw), hx0)
            return x0, min(y0, hy0), cw, ch
        if band:  # as wide as the group (with room for shoulders), the photo's full height at the bottom
            bw = min(float(sw), max(sh * aspect, (hx1 - hx0) * 1.12))
            if bw / aspect < sh:  # a picture wider than the photo: all of it, the design at its sides
                return (sw - sh * aspect) / 2, 0.0, sh * aspect, float(sh)
            x0 = min(max(0.0, (hx0 + hx1) / 2 - bw / 2), sw - bw)
            return x0, sh - bw / aspect, bw, bw / aspect
        scale = max(sw / w, sh / h)  # contain: the whole photo, centred
        return (sw - w * scale) / 2, (sh - h * scale) / 2, w * scale, h * scale

    def frame(self, size: tuple[int, int], image: np.ndarray | None = None, band: bool = False) -> np.ndarray:
        """The photo (or ``image``, an array the photo's size: a mask) cut to ``size`` around the people (see
        :meth:`frame_window`). Outside the photo, the photo's own blurred colours fill in (zero for a mask, and
        zero for a ``band``: the look draws its own design there, see :meth:`coverage`)."""
        arr = np.asarray(self.source) if image is None else image
        x0, y0, cw, ch = self.frame_window(size, band)
        sx = size[0] / cw
        m = np.array([[sx, 0, -x0 * sx], [0, sx, -y0 * sx]], np.float32)
        interp = cv2.INTER_AREA if sx < 0.7 else cv2.INTER_LINEAR if sx < 1.5 else cv2.INTER_CUBIC
        out = _scaled_window(arr, x0, y0, cw, size, interp)
        sw, sh = self.source.size
        if image is None and not band and (x0 < -0.5 or y0 < -0.5 or x0 + cw > sw + 0.5 or y0 + ch > sh + 0.5):
            # The photo's edges drawn out and softened: the picture continues in its own colours.
            small = (max(8, size[0] // 8), max(8, size[1] // 8))
            ms = m / 8
            fill = cv2.warpAffine(arr, np.array([[ms[0, 0], 0, ms[0, 2]], [0, ms[1, 1], ms[1, 2]]], np.float32),
                                  small, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
            fill = cv2.resize(cv2.GaussianBlur(fill, (0, 0), 9), size, interpolation=cv2.INTER_LINEAR)
            inside = np.zeros(size[::-1], np.uint8)
            ix0, iy0 = int(round(-x0 * sx)), int(round(-y0 * sx))
            inside[max(0, iy0):iy0 + int(round(sh * sx)), max(0, ix0):ix0 + int(round(sw * sx))] = 1
            out = np.where(inside[..., None] > 0, out, (fill * 0.8).astype(np.uint8))
        return out

    def cover_window(self, size: tuple[int, int]) -> tuple[float, float, float, float]:
        """The window (x0, y0, width, height) that ``paint.crop_cover_array(source, size, face_center())`` cuts."""
        sw, sh = self.source.size
        scale = max(size[0] / sw, size[1] / sh)
        cw, ch = min(sw, size[0] / scale), min(sh, size[1] / scale)
        fx, fy = self.face_center()
        return min(max(0.0, fx * sw - cw / 2), sw - cw), min(max(0.0, fy * sh - ch / 2), sh - ch), cw, ch

    def faces_in(self, size: tuple[int, int], window: tuple[float, float, float, float]
                 ) -> list[tuple[float, float, float, float]]:
        """Every face (x, y, w, h) where it lands in a picture of ``size`` cut from the photo at ``window``."""
        x0, y0, cw, _ = window
        s = size[0] / cw
        return [((x - x0) * s, (y - y0) * s, w * s, h * s) for x, y, w, h in self.faces]

    def coverage(self, size: tuple[int, int], band: bool = False) -> np.ndarray:
        """Where the photo lies in :meth:`frame`'s picture (float32, 1 inside, 0 where the look's design shows)."""
        x0, y0, cw, ch = self.frame_window(size, band)
        sw, sh = self.source.size
        sx = size[0] / cw
        out = np.zeros(size[::-1], np.float32)
        ix0, iy0 = int(round(-x0 * sx)), int(round(-y0 * sx))
        out[max(0, iy0):max(0, iy0 + int(round(sh * sx))), max(0, ix0):max(0, ix0 + int(round(sw * sx)))] = 1.0
        return out

    def face_center(self) -> tuple[float, float]:
        """The face centre as fractions of the source, or a portrait guess."""
        if self.face:
            x, y, w, h = self.face
            return (x + w / 2) / self.source.width, (y + h / 2) / self.source.height
        return 0.5, 0.4


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask > 0.3)
    if len(xs) < 10:
        return 0, 0, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def fit_into(img: Image.Image, max_w: int, max_h: int) -> Image.Image:
    """Scale (up or down) to fit inside max_w × max_h, keeping the aspect."""
    scale = min(max_w / img.width, max_h / img.height)
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                      Image.Resampling.LANCZOS)


def _scaled_window(arr: np.ndarray, x0: float, y0: float, cw: float, size: tuple[int, int], interp: int
                   ) -> np.ndarray:
    """The window of ``arr`` at (x0, y0), ``cw`` wide, scaled to ``size`` (zero outside ``arr``). A crop and
    ``cv2.resize`` instead of a general ``warpAffine``: the same picture (to the nearest source pixel) at a third of
    the cost for a scale and a shift."""
    sx = size[0] / cw
    sh, sw = arr.shape[:2]
    ix0, iy0 = max(0, int(round(x0))), max(0, int(round(y0)))
    ix1, iy1 = min(sw, int(round(x0 + cw))), min(sh, int(round(y0 + size[1] / sx)))
    out = np.zeros((size[1], size[0], *arr.shape[2:]), arr.dtype)
    ox0, oy0 = max(0, int(round((ix0 - x0) * sx))), max(0, int(round((iy0 - y0) * sx)))
    ox1, oy1 = min(size[0], int(round((ix1 - x0) * sx))), min(size[1], int(round((iy1 - y0) * sx)))
    if ix1 <= ix0 or iy1 <= iy0 or ox1 <= ox0 or oy1 <= oy0:
        return out
    out[oy0:oy1, ox0:ox1] = cv2.resize(np.ascontiguousarray(arr[iy0:iy1, ix0:ix1]), (ox1 - ox0, oy1 - oy0),
                                       interpolation=cv2.INTER_AREA if interp == cv2.INTER_AREA else interp)
    return out
