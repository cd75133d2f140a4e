"""The magazine cover: the person as the cover star, the masthead behind their head, the name as the headline and
cover lines down the side."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from minime.core.engines.classic.cutout import name_and_things, person
from minime.core.engines.classic.look import Look
from minime.core.engines.classic.paint import display_caps, draw_fitted_text, hex_color, mix, radial_gradient

W, H = 1024, 1280
LINES = ("The interview everyone is talking about", "How I did it: my rules", "Style secrets",
         "Exclusive photos inside", "Icons of the year")


def magazine_cover(look: Look) -> Image.Image:
    """A glossy magazine cover starring the person."""
    name, things = name_and_things(look, look.theme.package.get("default_name", "MINI ME"))
    bg, masthead, ink = (hex_color(look.palette.get(k, d)) for k, d in (("bg", "#e9e2d8"), ("masthead", "#d62828"),
                                                                        ("ink", "#111111")))
    canvas = radial_gradient((W, H), mix(bg, (255, 255, 255), 0.5), mix(bg, (0, 0, 0), 0.15), center=(0.5, 0.4),
                             radius=0.9).convert("RGBA")
    title = look.theme.package.get("masthead", "MINIME")
    draw_fitted_text(canvas, (40, 20, W - 40, 250), title, "bebas-neue", masthead)
    look.progress(0.3)
    group = len(look.faces) > 1  # everyone on the cover: a group as a row, under the cover lines
    box = look.people_box(below=3.6, side=2.0, above=0.7)
    star = person(look, 1000 if group else 940, 620 if group else 1060, box=box)
    arr = np.asarray(star).copy()
    rgb = np.ascontiguousarray(arr[..., :3])
    # Glossy retouch: lifted skin, crisp contrast (one saturating 8-bit pass: 1.08 × (0.6 soft + 0.4 sharp) + 132 -
    # 1.08 × 128).
    soft = cv2.bilateralFilter(rgb, 5, 30, 7)
    arr[..., :3] = cv2.addWeighted(soft, 0.6 * 1.08, rgb, 0.4 * 1.08, 132 - 128 * 1.08)
    star = Image.fromarray(arr, "RGBA")
    top = H - star.height
    if group:  # every face stays above the headline: a group in two rows stands higher, fading out at its foot
        y0, y1 = _cut_rows(look, box)  # the rows of the photo that ``person`` cut out
        lowest = (max(y + h for _, y, _, h in look.faces) - y0) * star.height / max(1, y1 - y0)
        lift = max(0, top + int(lowest) - (H - 80 - int(min(150, 120 * look.params.name_scale))))
        if lift:
            top -= lift
            fade = np.clip((star.height - np.arange(star.height, dtype=np.float32)) / max(1, lift + 40), 0, 1)
            alpha = np.asarray(star.getchannel("A")).astype(np.float32) * fade[:, None]
            star.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    canvas.alpha_composite(star, ((W - star.width) // 2, top))
    look.progress(0.6)
    # The masthead's letters pass behind the head, as on real covers: redraw the top of the star over it.
    d = ImageDraw.Draw(canvas)
    shade = Image.new("RGBA", (W, 320), (0, 0, 0, 0))
    sh = np.zeros((320, W, 4), np.uint8)
    sh[..., 3] = np.linspace(0, 170, 320, dtype=np.float32)[:, None].astype(np.uint8)
    shade = Image.fromarray(sh, "RGBA")
    canvas.alpha_composite(shade, (0, H - 320))
    name_h = int(min(150, 120 * look.params.name_scale))
    draw_fitted_text(canvas, (50, H - 60 - name_h, W - 50, H - 60), display_caps(name), "luckiest-guy",
                     (255, 255, 255), shadow=(0, 0, 0))
    draw_fitted_text(canvas, (50, H - 56, W - 50, H - 18), "THE " + (things[0].upper() if things else "STAR")
                     + " ISSUE · EXCLUSIVE", "bebas-neue", mix(masthead, (255, 255, 255), 0.3))
    for i, line in enumerate(LINES[(look.params.seed + k) % len(LINES)] for k in range(3)):
        y = 300 + i * 120
        draw_fitted_text(canvas, (40, y, 330, y + 44), line.split(":")[0].upper(), "bebas-neue", masthead,
                         anchor="lm")
        draw_fitted_text(canvas, (40, y + 46, 330, y + 80), line, "DejaVuSans-Bold", ink, max_size=20, anchor="lm")
    d.rectangle((W - 200, 270, W - 40, 330), fill=(*masthead, 255))
    draw_fitted_text(canvas, (W - 190, 276, W - 50, 324), "SPECIAL", "bebas-neue", (255, 255, 255))
    return canvas.convert("RGB")


def _cut_rows(look: Look, box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The first and last rows of the photo in ``cutout.person``'s cut-out for ``box``: the matte's rows inside it."""
    rows = np.nonzero((look.subject.mask > 0.35).any(axis=1))[0]
    if len(rows) < 2:
        return max(0, box[1]), min(look.source.height, box[3])
    return max(int(rows[0]), box[1]), min(int(rows[-1]) + 1, box[3])
