"""The command-line contract: render, verify, themes, gallery."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def minime(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "minime.core.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_render_with_refinements(tmp_path: Path, astronaut: Image.Image) -> None:
    src = tmp_path / "astronaut.png"
    astronaut.save(src)
    out = tmp_path / "out" / "figurine.png"
    done = minime("render", str(src), "-t", "figurine", "--name", "Alice", "--refine", "warmer colors",
                  "--refine", "more grain", "-o", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (1024, 1280)
    assert "figurine" in done.stdout


def test_render_by_command_and_variant(tmp_path: Path, astronaut: Image.Image) -> None:
    src = tmp_path / "a.jpg"
    astronaut.save(src)
    out = tmp_path / "retro.png"
    done = minime("render", str(src), "-t", "retro", "--variant", "80s", "-o", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "retro-80s" in done.stdout


def test_friendly_failures(tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("shopping list: milk, eggs")
    done = minime("render", str(bad), "-t", "miniature", "-o", str(tmp_path / "x.png"), tmp_path=tmp_path)
    assert done.returncode == 2 and "can't read that file" in done.stderr
    done = minime("render", str(bad), "-t", "unicorn", "-o", str(tmp_path / "x.png"), tmp_path=tmp_path)
    assert done.returncode == 2 and "don't know" in done.stderr
    assert "Traceback" not in done.stderr


def test_themes_and_gallery(tmp_path: Path, astronaut: Image.Image) -> None:
    listing = minime("themes", tmp_path=tmp_path)
    assert listing.returncode == 0
    for command in ("/figurine", "/actionfigure", "/miniature", "/retro 70s", "/retro 80s", "/retro 90s",
                    "/polaroid", "/popart", "/deskfigure", "/anime", "/caricature", "/yearbook", "/stickers",
                    "/filmposter", "/comic", "/magazine"):
        assert command in listing.stdout
    src = tmp_path / "a.png"
    astronaut.save(src)
    sheet = tmp_path / "sheet.png"
    done = minime("gallery", str(src), "-o", str(sheet), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(sheet).width > 1000 and "16 themes" in done.stdout


def test_verify_names_the_look_of_a_render_and_refuses_a_stranger(tmp_path: Path, astronaut: Image.Image) -> None:
    import matplotlib.cbook

    src = tmp_path / "astronaut.jpg"
    astronaut.save(src)
    out = tmp_path / "polaroid.jpg"
    assert minime("render", str(src), "-t", "polaroid", "--name", "Eileen", "-o", str(out),
                  tmp_path=tmp_path).returncode == 0
    half = tmp_path / "half.jpg"
    with Image.open(out) as made:
        made.resize((made.width // 2, made.height // 2)).save(half, quality=75)

    for copy in (out, half):
        done = minime("verify", str(copy), tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("\n") == 1 and "made by minime: Polaroid" in done.stdout

    stranger = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    for photo in (stranger, src):  # someone else's photo, and the selfie the polaroid was made from
        done = minime("verify", str(photo), tmp_path=tmp_path)
        assert done.returncode == 1, done.stderr
        assert done.stdout.count("\n") == 1 and "not made by minime" in done.stdout
