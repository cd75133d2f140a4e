"""The Studio stays a thin facade of use cases: cohesive parts (queries, job writing, per-user locks) live in their
own modules, built by the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

STUDIO = Path(__file__).resolve().parents[1] / "core" / "studio.py"


def test_the_studio_class_is_at_most_300_lines() -> None:
    tree = ast.parse(STUDIO.read_text(encoding="utf-8"))
    studio = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Studio")
    assert studio.end_lineno - studio.lineno + 1 <= 300
