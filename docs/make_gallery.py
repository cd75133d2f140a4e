"""Regenerate docs/gallery.jpg: every classic look on four real photos (the astronaut, Grace Hopper, Barack Obama's
official portrait, and the three side by side as a group).

Run: ``.venv/bin/python docs/make_gallery.py`` (needs the [test] extra for scikit-image and matplotlib's photos).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib
from PIL import Image
from skimage import data

HERE = Path(__file__).resolve().parent


def photos() -> dict[str, Image.Image]:
    """scikit-image's astronaut, matplotlib's Grace Hopper, Obama's official portrait (public domain, docs/photos),
    and the three side by side."""
    astronaut = Image.fromarray(data.astronaut())
    hopper = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    obama = Image.open(HERE / "photos" / "obama.jpg").convert("RGB")
    height = 600
    people = [p.resize((round(p.width * height / p.height), height)) for p in (astronaut, hopper, obama)]
    group = Image.new("RGB", (sum(p.width for p in people), height))
    x = 0
    for person in people:
        group.paste(person, (x, 0))
        x += person.width
    return {"portrait": astronaut, "hopper": hopper, "obama": obama, "group": group}


def main() -> None:
    sheets = []
    with tempfile.TemporaryDirectory() as folder:
        for name, photo in photos().items():
            source, sheet = Path(folder) / f"{name}.jpg", Path(folder) / f"{name}-sheet.png"
            photo.save(source, quality=95)
            subprocess.run([sys.executable, "-m", "minime.core.cli", "gallery", str(source), "-o", str(sheet)],
                           check=True)
            sheets.append(Image.open(sheet).convert("RGB"))
    gap = 24
    width = sum(s.width for s in sheets) + gap * (len(sheets) - 1)
    out = Image.new("RGB", (width, max(s.height for s in sheets)), sheets[0].getpixel((2, 2)))
    x = 0
    for sheet in sheets:
        out.paste(sheet, (x, 0))
        x += sheet.width + gap
    out.thumbnail((4000, 4000))
    buffer = io.BytesIO()
    out.save(buffer, "JPEG", quality=85, optimize=True)
    (HERE / "gallery.jpg").write_bytes(buffer.getvalue())
    print(f"docs/gallery.jpg: {out.width}×{out.height}, {len(buffer.getvalue()) // 1024} KiB")


if __name__ == "__main__":
    main()
