"""Typesetting names and captions in any script: per-character font fallback, shaping, colour emoji, fitting.

A line is cut into runs, each set in the first font of a fallback chain that has its characters: the look's display
face, then DejaVu Sans (Latin, Greek, Cyrillic, Hebrew, symbols), Noto Sans Arabic, Devanagari and Thai, Noto Sans
CJK (Chinese, Japanese, Korean) and Twemoji for emoji. The fonts come from pip packages pinned in pyproject.toml
(``noto-cjk-sans-otc``, ``fontpkg-noto-sans-*``) or from themes/assets/fonts (display faces, DejaVu, Twemoji).
Pillow's raqm layout shapes each run (Arabic joins, Indic clusters, right-to-left order inside a run).

Twemoji is a COLRv0 colour font (layers of plain outlines, each with a palette colour). Pillow's FreeType build here
renders no colour layers for it, so its glyphs are drawn by this module from the outlines (fontTools reads them,
OpenCV fills them anti-aliased).
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from minime.core.memo import budget_cache
from minime.core.settings import THEMES_DIR

FONTS = THEMES_DIR / "assets" / "fonts"
EMOJI = "twemoji"
Color = tuple[int, int, int]


@dataclass(frozen=True)
class FontFile:
    """One font of the fallback chain."""

    name: str
    path: Path
    index: int = 0  # the face inside a collection (.ttc)
    weight: int | None = None  # a variable font's weight axis


def _package_font(module: str, name: str, weight: int | None = 700) -> FontFile | None:
    """A font shipped by a pip package (``fontpkg-*`` put theirs under ``files/``), or None when not installed."""
    try:
        mod = __import__(module)
    except ImportError:
        return None
    folder = Path(mod.__file__).parent
    found = sorted((folder / "files").glob("*.ttf")) + sorted(folder.glob("*.tt[cf]"))
    return FontFile(name, found[0], weight=weight) if found else None


@lru_cache(maxsize=1)
def fallback_chain() -> tuple[FontFile, ...]:
    """The fonts tried after the look's own face, in order."""
    chain = [FontFile("DejaVuSans-Bold", FONTS / "DejaVuSans-Bold.ttf")]
    for module, name in (("fontpkg_noto_sans_arabic", "NotoSansArabic"),
                         ("fontpkg_noto_sans_devanagari", "NotoSansDevanagari"),
                         ("fontpkg_noto_sans_thai", "NotoSansThai")):
        found = _package_font(module, name)
        if found:
            chain.append(found)
    cjk = _package_font("noto_cjk_sans_otc", "NotoSansCJK", weight=None)
    if cjk:
        chain.append(cjk)
    return tuple(chain)


def face(font_name: str) -> FontFile:
    """A font of themes/assets/fonts by name, or one of the fallback chain."""
    for f in fallback_chain():
        if f.name == font_name:
            return f
    return FontFile(font_name, FONTS / f"{font_name}.ttf")


@lru_cache(maxsize=32)
def coverage(f: FontFile) -> frozenset[int]:
    """The code points a font has glyphs for."""
    with TTFont(str(f.path), lazy=True, fontNumber=f.index) as font:  # this call's own font: no sharing
        return frozenset(font.getBestCmap() or {})


@lru_cache(maxsize=48)  # a face per size: ~0.3 MB each, 2.6 MB for CJK
def pil_font(f: FontFile, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font at a pixel size (variable fonts set to their weight)."""
    font = ImageFont.truetype(str(f.path), max(6, size), index=f.index)
    if f.weight is not None:
        try:
            axes = font.get_variation_axes()
            font.set_variation_by_axes([f.weight if a.get("name", b"") in (b"Weight", "Weight") else
                                        a.get("default", a["minimum"]) for a in axes])
        except (OSError, KeyError):
            pass
    return font


# ---- runs ---------------------------------------------------------------------------------------------------------

_JOINING = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}


def _is_emoji(cp: int, nxt: int | None) -> bool:
    if cp in _emoji_cmap():
        return cp >= 0x1F000 or nxt in (0xFE0F, 0x20E3) or (0x2600 <= cp < 0x2C00)
    return False


ZWJ = 0x200D
_FLAG_LETTERS = range(0x1F1E6, 0x1F200)  # regional indicators: two of them make a flag


def _continues_emoji(cluster: str, cp: int) -> bool:
    """Whether an emoji ``cp`` belongs to the emoji ``cluster`` before it: after a zero-width joiner (👩‍🚀), or as
    the second letter of a flag (🇯🇵)."""
    if ord(cluster[-1]) == ZWJ:
        return True
    return cp in _FLAG_LETTERS and len(cluster) == 1 and ord(cluster) in _FLAG_LETTERS


def _attaches(cp: int) -> bool:
    """Marks, joiners, variation selectors and skin tones belong to the character before them."""
    return (cp in _JOINING or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F
            or unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"))


@dataclass(frozen=True)
class Run:
    """Consecutive characters set in one font (``font`` is None for emoji)."""

    text: str
    font: FontFile | None


def runs(text: str, font_name: str) -> list[Run]:
    """Cut ``text`` into runs of the first font that has each character (spaces and marks join their
    neighbours); characters no font has go to the last resort font (they show as its .notdef box)."""
    primary = face(font_name)
    chain = (primary, *[f for f in fallback_chain() if f.name != primary.name])
    out: list[list] = []
    cps = [ord(c) for c in text]
    for i, cp in enumerate(cps):
        nxt = cps[i + 1] if i + 1 < len(cps) else None
        if out and (_attaches(cp) or (chr(cp).isspace() and out[-1][1] is not None)):
            out[-1][0] += chr(cp)
            continue
        if _is_emoji(cp, nxt):
            if out and out[-1][1] is None and _continues_emoji(out[-1][0], cp):
                out[-1][0] += chr(cp)  # one emoji: each emoji run is one cluster, drawn as one glyph
                continue
            target = None
        elif chr(cp).isspace():
            target = out[-1][1] if out and out[-1][1] is not None else primary
        else:
            target = next((f for f in _preferred(cp, chain) if cp in coverage(f)),
                          chain[1] if len(chain) > 1 else primary)
        if out and out[-1][1] == target and (target is not None or _attaches(cp)):
            out[-1][0] += chr(cp)
        else:
            out.append([chr(cp), target])
    result = [Run(t, f) for t, f in out]
    if result and _rtl(text):
        result.reverse()  # a right-to-left name: its runs read from the right (raqm orders inside each run)
    return result


_SCRIPT_FONTS = (((0x0600, 0x08FF), "NotoSansArabic"), ((0xFB50, 0xFEFF), "NotoSansArabic"))


def _preferred(cp: int, chain: tuple[FontFile, ...]) -> tuple[FontFile, ...]:
    """The chain, with a script's own font first where one fits it better than the broad fallback."""
    for (lo, hi), name in _SCRIPT_FONTS:
        if lo <= cp <= hi:
            return (chain[0], *[f for f in chain if f.name == name], *chain[1:])
    return chain


def _rtl(text: str) -> bool:
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def has_all_glyphs(text: str, font_name: str) -> bool:
    """Whether every visible character of ``text`` has a real glyph in the chain (no .notdef boxes)."""
    for run in runs(text, font_name):
        if run.font is None:
            continue
        cov = coverage(run.font)
        if any(not c.isspace() and not _attaches(ord(c)) and ord(c) not in cov for c in run.text):
            return False
    return True


# ---- emoji --------------------------------------------------------------------------------------------------------

class _PolygonPen(BasePen):
    """Collects a glyph's contours as flattened polygons in font units (curves cut into short lines)."""

    def __init__(self, glyph_set) -> None:
        super().__init__(glyph_set)
        self.contours: list[list[tuple[float, float]]] = []

    def _moveTo(self, pt):
        self.contours.append([pt])

    def _lineTo(self, pt):
        self.contours[-1].append(pt)

    def _curveToOne(self, p1, p2, p3):
        p0 = self._getCurrentPoint()
        for t in np.linspace(0, 1, 9)[1:]:
            mt = 1 - t
            x = mt ** 3 * p0[0] + 3 * mt * mt * t * p1[0] + 3 * mt * t * t * p2[0] + t ** 3 * p3[0]
            y = mt ** 3 * p0[1] + 3 * mt * mt * t * p1[1] + 3 * mt * t * t * p2[1] + t ** 3 * p3[1]
            self.contours[-1].append((x, y))

    def _qCurveToOne(self, p1, p2):
        p0 = self._getCurrentPoint()
        for t in np.linspace(0, 1, 7)[1:]:
            mt = 1 - t
            x = mt * mt * p0[0] + 2 * mt * t * p1[0] + t * t * p2[0]
            y = mt * mt * p0[1] + 2 * mt * t * p1[1] + t * t * p2[1]
            self.contours[-1].append((x, y))

    def _closePath(self):
        pass


@dataclass(frozen=True)
class _Layer:
    """One colour layer of an emoji glyph: its outline (polygons in font units) and its colour."""

    polygons: tuple[np.ndarray, ...]
    rgba: tuple[int, int, int, int]


class _EmojiFont:
    """Twemoji, read once and then shared by every render thread.

    fontTools' TTFont is not thread-safe: its tables and glyphs are decompiled on first access, reading the file and
    mutating shared objects (two render threads at once raised TTLibError, and a half-loaded table could stay broken
    for the process's life). So the small tables are read eagerly here, and the glyph outlines, which are decompiled
    per glyph on demand (decompiling all of them costs ~12 MB and 0.3 s at start), are read under one lock and kept
    as plain immutable polygons.
    """

    def __init__(self, path: Path) -> None:
        self._font = TTFont(str(path), lazy=False)  # lazy=False: the whole file in memory, no shared file handle
        self._lock = threading.Lock()
        font = self._font
        self.cmap: dict[int, str] = dict(font.getBestCmap() or {})
        self.units_per_em: int = font["head"].unitsPerEm
        self.advances: dict[str, int] = {name: adv for name, (adv, _) in font["hmtx"].metrics.items()}
        self.sequences = self._read_sequences()
        self._palette = font["CPAL"].palettes[0]
        self._colr = font["COLR"].ColorLayers
        self._glyphs = font.getGlyphSet()  # reads glyf and loca now (each glyph is decompiled when first drawn)

    def _read_sequences(self) -> dict[tuple[int, ...], str]:
        """Twemoji's emoji sequences (ZWJ sequences, skin tones, flags, keycaps): the font's ligatures, keyed by
        their code points without variation selectors (people type them with and without U+FE0F)."""
        if "GSUB" not in self._font:
            return {}
        code = {name: cp for cp, name in sorted(self.cmap.items(), reverse=True)}
        out: dict[tuple[int, ...], str] = {}
        for lookup in self._font["GSUB"].table.LookupList.Lookup:
            for table in lookup.SubTable:
                for first, ligatures in getattr(table, "ligatures", {}).items():
                    for lig in ligatures:
                        names = [first, *lig.Component]
                        if all(n in code for n in names):
                            out.setdefault(_plain(tuple(code[n] for n in names)), lig.LigGlyph)
        return out

    def layers(self, name: str) -> tuple[_Layer, ...]:
        """The glyph's colour layers, bottom first (a glyph without COLR layers is one black layer)."""
        with self._lock:
            entries = [(layer.name, layer.colorID) for layer in self._colr.get(name, ())] or [(name, 0xFFFF)]
            out = []
            for layer_name, color_id in entries:
                pen = _PolygonPen(self._glyphs)
                self._glyphs[layer_name].draw(pen)
                polys = tuple(np.array(c, np.float64) for c in pen.contours if len(c) > 2)
                c = self._palette[color_id] if color_id != 0xFFFF else None
                rgba = (c.red, c.green, c.blue, c.alpha) if c else (0, 0, 0, 255)
                if polys:
                    out.append(_Layer(polys, rgba))
            return tuple(out)


_EMOJI_LOCK = threading.Lock()
_emoji: list[_EmojiFont | None] = []


def _emoji_font() -> _EmojiFont | None:
    """Twemoji, loaded once per process (under a lock: the first renders after a start run in parallel)."""
    if not _emoji:
        with _EMOJI_LOCK:
            if not _emoji:
                path = FONTS / f"{EMOJI}.ttf"
                _emoji.append(_EmojiFont(path) if path.exists() else None)
    return _emoji[0]


def _emoji_cmap() -> dict[int, str]:
    font = _emoji_font()
    return font.cmap if font else {}


def _plain(cps: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(cp for cp in cps if cp not in (0xFE0F, 0xFE0E))


def emoji_glyph(cluster: str) -> str | None:
    """The Twemoji glyph for an emoji cluster: the whole sequence when the font has it, else the longest part of it
    before a joiner that it has (👩🏽‍🦽‍➡️ → 👩🏽‍🦽 → 👩🏽), else its base emoji; None when it has none."""
    cps = _plain(tuple(ord(c) for c in cluster))
    font = _emoji_font()
    if not cps or font is None:
        return None
    cuts = [len(cps)] + [i for i in range(len(cps) - 1, 0, -1) if cps[i] == ZWJ]
    for end in cuts:
        if end == 1:
            break
        name = font.sequences.get(cps[:end])
        if name:
            return name
    return font.cmap.get(cps[0])


def emoji_image(cluster: str, size: int) -> Image.Image | None:
    """An emoji cluster (a single emoji, a ZWJ sequence, a skin tone, a flag, a keycap) as one RGBA glyph ``size``
    pixels high."""
    name = emoji_glyph(cluster)
    return _emoji_image(name, max(6, size)) if name else None


@budget_cache(maxsize=256)
def _emoji_image(name: str, size: int) -> Image.Image | None:
    font = _emoji_font()
    if font is None:
        return None
    upem = font.units_per_em
    top, bottom = upem * 0.89, -upem * 0.127  # Twemoji's glyphs lie within (448, -64) units of 512
    ss = 4  # supersampling for smooth edges
    scale = size * ss / upem
    width = max(1, int(round(font.advances[name] * size / upem)))
    canvas = np.zeros((size * ss, width * ss, 4), np.float32)
    for layer in font.layers(name):
        # Twemoji draws from y = -64 to 448 (of 512): that span, a little inset, fills the square (nothing cut).
        polys = [np.round(np.column_stack([p[:, 0] * scale, (top - p[:, 1]) * scale * upem / (top - bottom)]) * 16)
                 .astype(np.int32) for p in layer.polygons]
        mask = np.zeros((size * ss, width * ss), np.uint8)
        cv2.fillPoly(mask, polys, 255, lineType=cv2.LINE_8, shift=4)
        a = mask.astype(np.float32)[..., None] / 255.0
        rgba = np.array(layer.rgba, np.float32)
        src_a = a * rgba[3] / 255.0
        canvas[..., :3] = canvas[..., :3] * (1 - src_a) + rgba[:3] * src_a
        canvas[..., 3:] = canvas[..., 3:] * (1 - src_a) + src_a
    small = cv2.resize(canvas, (width, size), interpolation=cv2.INTER_AREA)
    rgb = np.where(small[..., 3:] > 1e-3, small[..., :3] / np.maximum(small[..., 3:], 1e-3), 0)
    out = np.dstack([np.clip(rgb, 0, 255), np.clip(small[..., 3] * 255, 0, 255)]).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


# ---- layout -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    runs: tuple[Run, ...]
    size: int

    def extent(self, stroke: int = 0) -> tuple[int, int, int]:
        """Width, ascent and descent (pixels) of the line."""
        width, asc, desc = 0, 0, 0
        for run in self.runs:
            if run.font is None:  # one emoji cluster
                width += int(self.size * 1.05)
                asc, desc = max(asc, int(self.size * 0.86)), max(desc, int(self.size * 0.14))
                continue
            f = pil_font(run.font, self.size)
            x0, y0, x1, y1 = f.getbbox(run.text, anchor="ls", stroke_width=stroke)
            width += int(round(f.getlength(run.text))) + 2 * stroke
            asc, desc = max(asc, -y0), max(desc, y1)
        return width, asc, desc


def _layout(text: str, font_name: str, size: int) -> _Line:
    return _Line(tuple(runs(text, font_name)), size)


def _fit_size(text: str, font_name: str, max_w: int, max_h: int, stroke: float) -> int:
    lo, hi = 6, max(8, int(max_h * 1.6))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        w, a, d = _layout(text, font_name, mid).extent(int(mid * stroke))
        if w <= max_w and a + d <= max_h:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _split_two(text: str) -> tuple[str, str] | None:
    """The text in two lines of similar length: at the space nearest the middle, else (CJK) at the middle."""
    words = text.split(" ")
    if len(words) > 1:
        best = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
        return " ".join(words[:best]), " ".join(words[best:])
    if len(text) >= 6 and not text.isascii():
        mid = len(text) // 2
        while mid < len(text) and _attaches(ord(text[mid])):
            mid += 1
        return text[:mid], text[mid:]
    return None


def plan(text: str, font_name: str, box: tuple[int, int, int, int], *, stroke: float = 0.0,
         max_size: int | None = None, max_lines: int = 1) -> list[_Line]:
    """The lines and size that set ``text`` as large as fits the box (two lines when that is much larger)."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    size = _fit_size(text, font_name, bw, bh, stroke)
    lines = [text]
    if max_lines >= 2 and size < bh * 0.62:
        parts = _split_two(text)
        if parts:
            gap = 0.08
            two = min(_fit_size(p, font_name, bw, int(bh / (2 + gap)), stroke) for p in parts)
            if two > size * 1.2:
                size, lines = two, list(parts)
    if max_size:
        size = min(size, max_size)
    return [_layout(t, font_name, size) for t in lines]


def draw_text(img: Image.Image, box: tuple[int, int, int, int], text: str, font_name: str, fill: Color, *,
              stroke: float = 0.0, stroke_fill: Color = (0, 0, 0), shadow: Color | None = None,
              max_size: int | None = None, anchor: str = "mm", max_lines: int = 1) -> int:
    """Draw ``text`` as large as fits inside ``box`` (x0, y0, x1, y1), centred (``anchor="lm"``: left-aligned);
    returns the size used. Every line stays inside the box."""
    text = " ".join(text.split())
    if not text:
        return 0
    lines = plan(text, font_name, box, stroke=stroke, max_size=max_size, max_lines=max_lines)
    x0, y0, x1, y1 = box
    size = lines[0].size
    stroke_w = int(round(size * stroke))
    extents = [ln.extent(stroke_w) for ln in lines]
    gap = int(size * 0.08)
    total = sum(a + d for _, a, d in extents) + gap * (len(lines) - 1)
    y = (y0 + y1) / 2 - total / 2
    draw = ImageDraw.Draw(img)
    for line, (w, a, d) in zip(lines, extents):
        x = x0 if anchor == "lm" else (x0 + x1) / 2 - w / 2
        baseline = y + a
        if shadow is not None:
            off = max(2, size // 18)
            _draw_line(img, draw, line, x + off, baseline + off, shadow, stroke_w, shadow, solid=True)
        _draw_line(img, draw, line, x, baseline, fill, stroke_w, stroke_fill)
        y += a + d + gap
    return size


def _draw_line(img: Image.Image, draw: ImageDraw.ImageDraw, line: _Line, x: float, baseline: float, fill: Color,
               stroke_w: int, stroke_fill: Color, solid: bool = False) -> None:
    x += stroke_w
    for run in line.runs:
        if run.font is None:  # one emoji cluster, one glyph
            glyph = emoji_image(run.text, line.size)
            if glyph is not None:
                if solid:  # a shadow: the emoji's shape in the shadow colour
                    shade = Image.new("RGBA", glyph.size, (*fill, 255))
                    shade.putalpha(glyph.getchannel("A"))
                    glyph = shade
                top = int(baseline - line.size * 0.86)
                if img.mode == "RGBA":
                    img.alpha_composite(glyph, (int(x), top))
                else:
                    img.paste(glyph, (int(x), top), glyph)
            x += int(line.size * 1.05)
            continue
        f = pil_font(run.font, line.size)
        draw.text((x, baseline), run.text, font=f, fill=fill, anchor="ls", stroke_width=stroke_w,
                  stroke_fill=stroke_fill)
        x += f.getlength(run.text)
