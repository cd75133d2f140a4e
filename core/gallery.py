"""The contact sheet: every theme rendered from one selfie, labelled, on one image."""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from PIL import Image, ImageDraw

from minime.core.adjust import finish
from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import ClassicEngine
from minime.core.engines.classic.paint import draw_fitted_text, vertical_gradient
from minime.core.themes import Theme

TILE_W, TILE_H, LABEL_H, GAP = 360, 450, 70, 24


def render_gallery(source: Image.Image, themes: Iterable[Theme], engine: ClassicEngine, *, name: str = "Mini Me",
                   seed: int = 7, on_theme: Callable[[Theme], None] | None = None) -> Image.Image:
    """Render each theme (with ``name`` where a theme takes one) and lay them out in a labelled grid."""
    tiles: list[tuple[Theme, Image.Image]] = []
    for theme in themes:
        tiles.append((theme, _preview(source, theme, engine, name, seed)))
        if on_theme:
            on_theme(theme)
    cols = min(3, len(tiles)) or 1
    rows = math.ceil(len(tiles) / cols)
    width = cols * TILE_W + (cols + 1) * GAP
    height = 130 + rows * (TILE_H + LABEL_H + GAP) + GAP
    sheet = vertical_gradient((width, height), (28, 24, 40), (12, 10, 18))
    draw_fitted_text(sheet, (GAP * 3, 30, width - GAP * 3, 100), "minime · pick a look", "luckiest-guy",
                     (255, 255, 255), shadow=(230, 50, 120), max_size=64)
    draw = ImageDraw.Draw(sheet)
    for i, (theme, image) in enumerate(tiles):
        x = GAP + (i % cols) * (TILE_W + GAP)
        y = 130 + (i // cols) * (TILE_H + LABEL_H + GAP)
        thumb = image.copy()
        thumb.thumbnail((TILE_W, TILE_H), Image.Resampling.LANCZOS)
        draw.rounded_rectangle((x - 4, y - 4, x + TILE_W + 4, y + TILE_H + 4), 14, fill=(45, 40, 62))
        sheet.paste(thumb, (x + (TILE_W - thumb.width) // 2, y + (TILE_H - thumb.height) // 2))
        label = f"/{theme.command}" + (f" {theme.variant}" if theme.variant else "")
        draw_fitted_text(sheet, (x, y + TILE_H + 8, x + TILE_W, y + TILE_H + 44), theme.title.upper(), "bebas-neue",
                         (255, 255, 255))
        draw_fitted_text(sheet, (x, y + TILE_H + 44, x + TILE_W, y + TILE_H + 66), label, "DejaVuSansMono-Bold",
                         (255, 120, 180))
    return sheet


def _preview(source: Image.Image, theme: Theme, engine: ClassicEngine, name: str, seed: int) -> Image.Image:
    """The classic engine's picture of a theme, or a title card for a look only a generative engine makes."""
    if not theme.serves("classic"):
        card = vertical_gradient((TILE_W * 2, TILE_H * 2), (70, 52, 110), (24, 18, 40))
        w, h = card.size
        draw_fitted_text(card, (60, h // 2 - 160, w - 60, h // 2 + 20), theme.title, "luckiest-guy", (255, 255, 255),
                         shadow=(230, 50, 120))
        draw_fitted_text(card, (80, h // 2 + 60, w - 80, h // 2 + 110), "made by the " + " / ".join(theme.engines)
                         + " engine", "DejaVuSans-Bold", (255, 200, 230))
        return card
    text = name if theme.argument in ("name", "caption") else None
    output = engine.render(RenderRequest(source, theme, RenderParams(name=text, variant=theme.default_variant,
                                                                     seed=seed)))
    return finish(output.image, theme.finish, seed)


SAMPLE_PORTRAIT = "sample-portrait.jpg"


class PreviewCache:
    """Theme previews and the contact sheet rendered from the bundled sample portrait, cached on disk."""

    def __init__(self, cache_dir: Path, themes: list[Theme], engine: ClassicEngine, assets_dir: Path) -> None:
        self.cache_dir, self.themes, self.engine, self.assets_dir = cache_dir, themes, engine, assets_dir
        digest = hashlib.sha256()
        for theme in themes:
            digest.update(theme.source.read_bytes())
        self._version = digest.hexdigest()[:12]
        self._lock = threading.Lock()

    def _sample(self) -> Image.Image:
        return Image.open(self.assets_dir / SAMPLE_PORTRAIT).convert("RGB")

    def sheet(self) -> bytes:
        """The labelled contact sheet of every theme (PNG)."""
        return self._cached(f"gallery-{self._version}.png",
                            lambda: render_gallery(self._sample(), self.themes, self.engine))

    def preview(self, theme_id: str) -> bytes:
        """One theme's preview thumbnail (JPEG, 320 px wide)."""
        theme = next(t for t in self.themes if t.id == theme_id)

        def make() -> Image.Image:
            image = _preview(self._sample(), theme, self.engine, "Mini Me", 7)
            image.thumbnail((320, 400), Image.Resampling.LANCZOS)
            return image

        return self._cached(f"preview-{theme_id}-{self._version}.jpg", make)

    def _cached(self, name: str, make: Callable[[], Image.Image]) -> bytes:
        path = self.cache_dir / name
        with self._lock:
            if not path.exists():
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                image = make()
                out = io.BytesIO()
                image.save(out, "PNG" if name.endswith(".png") else "JPEG", quality=88)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(out.getvalue())
                tmp.replace(path)
            return path.read_bytes()
