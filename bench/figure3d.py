"""The 3D figure's timings on real photos: build, a 1024² still (with and without the build), a turntable and the
printable mesh. "render MB" is the peak of Python/NumPy allocations while building and rendering the still
(tracemalloc), "process MB" the whole process's peak (person models, libraries). Targets (one core): still ≤ 1.5 s
including the build, turntable ≤ 15 s, mesh ≤ 3 s, ≤ 300 MB per render. Times are this process's CPU seconds
(``time.process_time``): on a shared machine wall time measures the neighbours.

    python bench/figure3d.py            # the figure's stages, then issue 24's ratio (below)
    python bench/figure3d.py ratio      # only the ratio: a whole figurine render against a 70s look's

Issue 24's floor: a figurine costs at most 2x a retro look. ``ratio`` renders both through the classic engine
(ClassicEngine.render: the look's person analysis, the figure, the box) on each photo, alternately, and prints the
medians of 7 (CPU seconds of this process and wall seconds; pin it to one core with ``taskset -c 0``).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import matplotlib
from PIL import Image
from skimage import data as skdata

from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import LOW_RES_FACE_PX, ClassicEngine
from minime.core.engines.classic.figure3d import build, mesh_file, options_for, still, turntable
from minime.core.engines.classic.look import Look
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

CATALOG = ThemeCatalog.from_dir(THEMES_DIR, engine="classic")
ROOT = Path(__file__).resolve().parent.parent


def _photos() -> dict[str, Image.Image]:
    return {"astronaut": Image.fromarray(skdata.astronaut()),
            "hopper": Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"),
            "obama": Image.open(ROOT / "tests" / "data" / "obama.jpg")}


def _look(photo: Image.Image, theme: str) -> Look:
    scale = 1024 / max(photo.size)
    source = photo.convert("RGB").resize((round(photo.width * scale), round(photo.height * scale)))
    return Look(source, CATALOG.get(theme), RenderParams(seed=1), lambda _f: None, min_face_px=LOW_RES_FACE_PX * scale)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _render_mb(look: Look) -> float:
    """The peak of Python/NumPy allocations while building a figure and rendering its 1024² still (measured apart:
    tracing every allocation slows the timings down several times)."""
    tracemalloc.start()
    still(build(look, options_for(look.theme, look.params)), (1024, 1024))
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak


def main() -> None:
    """Print one row per photo and look."""
    _ = _look(_photos()["astronaut"], "figurine").subject  # load the person models once, outside the timings
    print("| photo | look | build s | still 1024² s | still+build s | turntable mp4 s | mesh glb s | render MB | "
          "process MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")

    for name, photo in _photos().items():
        for theme in ("figurine", "caricature", "action-figure"):
            look = _look(photo, theme)
            _ = look.subject  # segmentation is the look's, shared by every recipe
            t0 = time.process_time()
            model = build(look, options_for(look.theme, look.params))
            t1 = time.process_time()
            still(model, (1024, 1024))
            t2 = time.process_time()
            video = turntable(model, "mp4") if theme == "figurine" else None
            t3 = time.process_time()
            mesh_file(model, "glb")
            t4 = time.process_time()
            still_mb = _render_mb(look)
            tt = f"{t3 - t2:.2f}" if video else "–"
            print(f"| {name} | {theme} | {t1 - t0:.2f} | {t2 - t1:.2f} | {t2 - t0:.2f} | {tt} | {t4 - t3:.2f} | "
                  f"{still_mb:.0f} | {_rss_mb():.0f} |")


def ratio(rounds: int = 7) -> None:
    """A figurine's whole render against a 70s look's, per photo: medians of ``rounds`` (after one warm-up each)."""
    engine = ClassicEngine()
    print("| photo | retro-70s ms (CPU / wall) | figurine ms (CPU / wall) | figurine / 70s (CPU) |")
    print("|---|---:|---:|---:|")
    for name, photo in _photos().items():
        times: dict[str, tuple[list[float], list[float]]] = {"retro-70s": ([], []), "figurine": ([], [])}
        for i in range(rounds + 1):
            for theme in times:
                request = RenderRequest(photo.convert("RGB"), CATALOG.get(theme), RenderParams(name="Ada", seed=i))
                c0, w0 = time.process_time(), time.perf_counter()
                engine.render(request)
                if i:
                    times[theme][0].append(time.process_time() - c0)
                    times[theme][1].append(time.perf_counter() - w0)
        (rc, rw), (fc, fw) = ((statistics.median(c) * 1000, statistics.median(w) * 1000) for c, w in times.values())
        print(f"| {name} | {rc:.0f} / {rw:.0f} | {fc:.0f} / {fw:.0f} | {fc / rc:.1f}× |")


if __name__ == "__main__":
    if sys.argv[1:] != ["ratio"]:
        main()
    ratio()
