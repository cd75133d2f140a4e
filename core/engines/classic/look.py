"""What every look receives, and the toy-figure cut-out shared by the packaged looks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from minime.core.domain import RenderParams
from minime.core.engines.base import ProgressCallback
from minime.core.engines.classic.figure import DEFAULT_STYLE, FigureStyle, render_figure, render_group
from minime.core.engines.classic.paint import Color, hex_color
from minime.core.engines.classic.subject import Subject, find_face, find_subject
from minime.core.themes import Theme


@dataclass
class Look:
    """The inputs of one classic render. The face and the person's matte are found only if a look asks."""

    source: Image.Image  # RGB at working size
    theme: Theme
    params: RenderParams
    progress: ProgressCallback
    notes: list[str] = field(default_factory=list)
    _face: tuple[int, int, int, int] | None | bool = False
    _subject: Subject | None = None

    @property
    def face(self) -> tuple[int, int, int, int] | None:
        """The face box (x, y, w, h), detected on first use."""
        if self._face is False:
            self._face = self._subject.face if self._subject else find_face(np.asarray(self.source))
        return self._face  # type: ignore[return-value]

    @property
    def subject(self) -> Subject:
        """The person's matte and face, segmented on first use."""
        if self._subject is None:
            known = self._face is not False
            self._subject = find_subject(np.asarray(self.source), self._face if known else None, face_known=known)
            self._face = self._subject.face
        return self._subject

    @property
    def person_found(self) -> bool:
        """Whether a person is in the photo (needs only the face when the matte was not asked for)."""
        return self._subject.found if self._subject else self.face is not None

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
        """The name (or caption) to typeset, exactly as given."""
        return (self.params.name or default).strip()

    def face_center(self) -> tuple[float, float]:
        """The face centre as fractions of the source, or a portrait guess."""
        if self.face:
            x, y, w, h = self.face
            return (x + w / 2) / self.source.width, (y + h / 2) / self.source.height
        return 0.5, 0.4


def toy_figure(look: Look, max_w: int, max_h: int, style: FigureStyle = DEFAULT_STYLE) -> Image.Image:
    """The person (or everyone in a group photo) as a collectible toy on its base, fitted into max_w × max_h
    (RGBA). Without a person, the photo itself becomes a framed print on a stand."""
    src = np.asarray(look.source)
    faces = list(look.subject.faces) or ([look.subject.face] if look.subject.face else [])
    if not look.subject.found or not faces:
        return photo_print(look, max_w, max_h, style)
    if len(faces) > 1:
        return render_group(src, look.subject.mask, faces, look.params.seed, height=max_h, max_width=max_w,
                            style=style)
    return render_figure(src, look.subject.mask, faces[0], look.params.seed, height=max_h, max_width=max_w,
                         style=style)


def photo_print(look: Look, max_w: int, max_h: int, style: FigureStyle) -> Image.Image:
    """A photo with nobody to sculpt, as a rounded print standing on a little foot (RGBA)."""
    ratio = look.source.width / look.source.height
    pw = min(max_w * 0.92, max_h * 0.82 * ratio)
    ph = pw / ratio
    photo = look.source.resize((max(8, int(pw)), max(8, int(ph))), Image.Resampling.LANCZOS).convert("RGBA")
    border = max(6, int(pw * 0.04))
    framed = Image.new("RGBA", (photo.width + 2 * border, photo.height + 2 * border), (250, 250, 246, 255))
    framed.alpha_composite(photo, (border, border))
    mask = Image.new("L", framed.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, framed.width - 1, framed.height - 1), border * 2, fill=255)
    framed.putalpha(mask)
    base_h = max(10, int(max_h - framed.height))
    canvas = Image.new("RGBA", (framed.width, framed.height + base_h), (0, 0, 0, 0))
    foot = Image.new("RGBA", (int(framed.width * 0.6), max(10, int(base_h * 0.6))), (0, 0, 0, 0))
    ImageDraw.Draw(foot).rounded_rectangle((0, 0, foot.width - 1, foot.height - 1), foot.height // 3,
                                           fill=(*style.base_color, 255))
    canvas.alpha_composite(foot, ((canvas.width - foot.width) // 2, framed.height - foot.height // 3))
    canvas.alpha_composite(framed, (0, 0))
    return canvas


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
