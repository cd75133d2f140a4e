"""What every look receives, and the toy-figure cut-out shared by the packaged looks."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from minime.core.domain import RenderParams
from minime.core.engines.base import ProgressCallback
from minime.core.engines.classic.paint import Color, hex_color, smooth_skin
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


def toy_figure(look: Look, max_w: int, max_h: int, *, gloss: float = 1.0, saturation: float = 1.3,
               outline_px: int = 3, outline_color: Color = (25, 20, 30)) -> Image.Image:
    """The person as a glossy toy, fitted into max_w × max_h: cut out (RGBA), smoothed like moulded plastic,
    saturated, with specular highlights, a rim light and a painted outline. Without a person, a rounded crop."""
    mask = look.subject.mask
    if not look.subject.found:
        h, w = mask.shape
        mask = np.zeros_like(mask)
        cx, _ = look.face_center()
        x0, x1 = int(max(0, cx * w - 0.35 * w)), int(min(w, cx * w + 0.35 * w))
        cv2.ellipse(mask, ((x0 + x1) // 2, int(h * 0.62)), ((x1 - x0) // 2, int(h * 0.62)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 3)
    x0, y0, x1, y1 = _bbox(mask)
    pad = int(0.02 * max(mask.shape))
    x0, y0, x1 = max(0, x0 - pad), max(0, y0 - pad), min(mask.shape[1], x1 + pad)
    # Work at the size the figure is shown: the same look for a fraction of the pixels.
    scale = min((max_w - 2 * outline_px) / (x1 - x0), (max_h - 2 * outline_px) / (y1 - y0))
    w, h = max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(np.ascontiguousarray(np.asarray(look.source)[y0:y1, x0:x1]), (w, h), interpolation=interp)
    alpha = cv2.resize(np.ascontiguousarray(mask[y0:y1, x0:x1]), (w, h), interpolation=cv2.INTER_LINEAR)

    toy = smooth_skin(smooth_skin(rgb, 7), 5).astype(np.float32) / 255.0
    luma = toy @ np.array([0.299, 0.587, 0.114], np.float32)
    toy = luma[..., None] + (toy - luma[..., None]) * saturation
    toy = 0.5 + (toy - 0.5) * 1.12
    # Specular highlights where the surface already catches light, like glossy paint.
    spec = np.clip((cv2.GaussianBlur(luma, (0, 0), 2) - 0.62) / 0.3, 0, 1) ** 2 * 0.45 * gloss
    # Rim light on the upper-left edges of the silhouette, and a soft sheen (top-left light).
    inside = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    band = np.clip(1.0 - dist / max(3.0, 0.015 * max(w, h)), 0, 1) * inside
    light = _light_ramp(w, h)
    rim = cv2.GaussianBlur(band * light[0], (0, 0), 1.2) * 0.55 * gloss
    toy = toy + (spec + rim + light[1] * 0.10 * gloss)[..., None] * (1.0 - toy)
    alpha8 = (np.clip(alpha * 1.15 - 0.05, 0, 1) * 255).astype(np.uint8)
    rgba = np.dstack([(np.clip(toy, 0, 1) * 255).astype(np.uint8), alpha8])
    figure = Image.fromarray(rgba, "RGBA")
    return outline(figure, outline_px, outline_color) if outline_px else figure


@lru_cache(maxsize=16)
def _light_ramp(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    side = np.clip(1.0 - (xx / w) * 1.3 - (yy / h) * 0.5 + 0.2, 0, 1)
    sheen = np.clip(0.9 - (xx / w) * 0.7 - (yy / h) * 0.6, 0, 1)
    return side, sheen


def outline(figure: Image.Image, width: int, color: Color = (25, 20, 30)) -> Image.Image:
    """The figure with a clean outline around its silhouette (like a painted toy's edge or a sticker)."""
    pad = width + 1
    padded = Image.new("RGBA", (figure.width + 2 * pad, figure.height + 2 * pad), (0, 0, 0, 0))
    padded.paste(figure, (pad, pad))
    figure = padded
    alpha = np.asarray(figure.getchannel("A"))
    grown = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1)))
    grown = cv2.GaussianBlur(grown, (0, 0), 0.8)
    base = Image.new("RGBA", figure.size, (*color, 0))
    base.putalpha(Image.fromarray(grown))
    base.alpha_composite(figure)
    return base


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
