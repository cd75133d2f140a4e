"""The first renders after a start run side by side: four figurines with emoji in their names, at once, in a fresh
process (the shared emoji font is read for the first time by all four threads), on three fresh starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIRST_RENDERS = r"""
import json, sys, threading
import numpy as np
from PIL import Image
from skimage import data
from minime.core.domain import RenderParams
from minime.core.engines.base import RenderRequest
from minime.core.engines.classic import ClassicEngine
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

theme = ThemeCatalog.from_dir(THEMES_DIR, engine="classic").get("figurine")
engine = ClassicEngine()
source = Image.fromarray(data.astronaut())
names = ["Ada 🚀", "Kim 👩‍🚀", "Zoe 🇯🇵", "Raj 🎸"]
start = threading.Barrier(len(names))
results = {}

def render(name):
    start.wait()
    try:
        image = engine.render(RenderRequest(source, theme, RenderParams(name=name, seed=1))).image
        results[name] = {"size": list(image.size), "std": float(np.asarray(image, np.float32).std())}
    except Exception as error:
        results[name] = {"error": repr(error)}

threads = [threading.Thread(target=render, args=(n,)) for n in names]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(results))
"""


@pytest.mark.parametrize("start", [1, 2, 3])
def test_four_figurines_with_emoji_names_at_once_after_a_fresh_start(start: int, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FIRST_RENDERS], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == 4
    for name, result in results.items():
        assert "error" not in result, f"{name}: {result}"
        assert min(result["size"]) >= 1000 and result["std"] > 30, f"{name}: not a finished picture"
