"""Emoji sequences are drawn as the one picture they stand for, from the bundled Twemoji (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from minime.core.engines.classic.paint import draw_fitted_text
from minime.core.engines.classic.text import emoji_glyph, emoji_image, plan, runs

SEQUENCES = {
    "👩\u200d🚀": "woman astronaut (ZWJ)",
    "👍🏿": "thumbs up, dark skin tone",
    "🇯🇵": "flag of Japan",
    "1\ufe0f\u20e3": "keycap 1",
    "👨\u200d👩\u200d👧": "family (two joiners)",
    "🏳\ufe0f\u200d🌈": "rainbow flag (a variation selector inside)",
    "👩🏽\u200d🚀": "woman astronaut, medium skin tone",
}


def _drawn(text: str) -> np.ndarray:
    img = Image.new("RGB", (600, 140), (255, 255, 255))
    draw_fitted_text(img, (10, 10, 590, 130), text, "luckiest-guy", (0, 0, 0), max_size=110)
    return np.asarray(img, np.float32)


def _width(text: str) -> int:
    return plan(text, "luckiest-guy", (0, 0, 2000, 100))[0].extent()[0]


@pytest.mark.parametrize("sequence", sorted(SEQUENCES), ids=lambda s: SEQUENCES[s])
def test_an_emoji_sequence_is_one_glyph(sequence: str) -> None:
    parts = [run for run in runs(f"Ana {sequence}!", "luckiest-guy") if run.font is None]
    assert [run.text for run in parts] == [sequence], "one emoji cluster"
    glyph = emoji_glyph(sequence)
    assert glyph and glyph == emoji_glyph(sequence.replace("\ufe0f", "")), "with or without U+FE0F"
    assert glyph != emoji_glyph(sequence[0]), "the sequence's own picture, not its first emoji's"
    assert _width(f"A{sequence}B") == _width("A😀B"), "set as wide as one emoji"
    drawn = _drawn(sequence)
    assert (255 - drawn).mean() > 2, "drawn"
    ours, first = (np.asarray(emoji_image(s, 64), np.float32) for s in (sequence, sequence[0]))
    assert ours.shape != first.shape or np.abs(ours - first).mean() > 5, "not its first emoji's picture"


def test_a_sequence_the_font_lacks_falls_back_to_its_base_emoji_never_a_box() -> None:
    melting_woman = "👩\u200d🫠"  # not an emoji the font knows as a sequence
    assert emoji_glyph(melting_woman) == emoji_glyph("👩")
    assert np.array_equal(np.asarray(emoji_image(melting_woman, 64)), np.asarray(emoji_image("👩", 64)))
    # A wheelchair heading right (newer than the bundle): the longest part the font has, the woman in a wheelchair.
    assert emoji_glyph("👩\u200d🦽\u200d➡\ufe0f") == emoji_glyph("👩\u200d🦽") != emoji_glyph("👩")
    assert emoji_glyph("🇦🇦") == emoji_glyph("🇦"), "an unknown flag: its first letter, not a box"


def test_emoji_in_a_row_stay_separate() -> None:
    assert [r.text for r in runs("😀😀🇯🇵🇫🇷", "luckiest-guy")] == ["😀", "😀", "🇯🇵", "🇫🇷"]
