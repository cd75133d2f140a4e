"""Accessories for the action figure's blister: any thing a person names, drawn from a bundled icon set.

The icons are Font Awesome Free's solid set (themes/assets/icons/fa-solid-900.ttf, SIL OFL 1.1 for the font file,
icons CC BY 4.0; see the licence beside it), looked up by their names. Words people use are mapped to icon names
through a small table of synonyms, then by close spelling; a thing with no icon gets a gift box with its name printed
under it, so whatever was asked for is in the pack.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

import cv2
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from minime.core.engines.classic.paint import Color, mix
from minime.core.memo import budget_cache
from minime.core.settings import THEMES_DIR

ICON_FONT = THEMES_DIR / "assets" / "icons" / "fa-solid-900.ttf"

# Words people type -> the icon set's names.
SYNONYMS = {
    "phone": "mobile-alt", "smartphone": "mobile-alt", "mobile": "mobile-alt", "iphone": "mobile-alt",
    "mug": "mug-hot", "coffee": "mug-hot", "tea": "mug-hot", "cup": "coffee", "espresso": "coffee",
    "sunglasses": "glasses", "shades": "glasses", "specs": "glasses", "laptop": "laptop", "computer": "laptop",
    "pc": "desktop", "notebook": "book", "books": "book", "reading": "book-open", "guitar": "guitar",
    "music": "music", "headphones": "headphones", "headset": "headset", "camera": "camera-retro",
    "photo": "camera-retro", "photography": "camera-retro", "bike": "bicycle", "cycling": "bicycle",
    "running": "running", "run": "running", "jogging": "running", "football": "futbol", "soccer": "futbol",
    "basketball": "basketball-ball", "baseball": "baseball-ball", "tennis": "table-tennis",
    "gym": "dumbbell", "weights": "dumbbell", "fitness": "dumbbell", "yoga": "spa", "swimming": "swimmer",
    "swim": "swimmer", "cat": "cat", "dog": "dog", "pet": "paw", "plant": "seedling", "plants": "seedling",
    "gardening": "seedling", "pizza": "pizza-slice", "burger": "hamburger", "cake": "birthday-cake",
    "wine": "wine-glass-alt", "beer": "beer", "cocktail": "cocktail", "game": "gamepad", "gaming": "gamepad",
    "games": "gamepad", "controller": "gamepad", "code": "code", "coding": "laptop-code",
    "programming": "laptop-code", "developer": "laptop-code", "paint": "palette", "painting": "palette",
    "art": "palette", "brush": "paint-brush", "pen": "pen-fancy", "pencil": "pencil-alt", "writing": "pen-fancy",
    "doctor": "stethoscope", "nurse": "user-nurse", "stethoscope": "stethoscope", "medicine": "pills",
    "teacher": "chalkboard-teacher", "chef": "utensils", "cooking": "utensils", "food": "utensils",
    "travel": "suitcase-rolling", "suitcase": "suitcase-rolling", "plane": "plane", "flight": "plane",
    "car": "car-side", "keys": "key", "key": "key", "money": "money-bill-wave", "cash": "money-bill-wave",
    "wallet": "wallet", "watch": "clock", "clock": "clock", "hat": "hat-cowboy", "crown": "crown",
    "microphone": "microphone", "mic": "microphone", "singing": "microphone", "drum": "drum", "drums": "drum",
    "piano": "music", "skateboard": "skating", "skate": "skating", "ski": "skiing", "skiing": "skiing",
    "snowboard": "snowboarding", "hiking": "hiking", "climbing": "mountain", "mountain": "mountain",
    "fishing": "fish", "fish": "fish", "umbrella": "umbrella", "backpack": "suitcase", "bag": "shopping-bag",
    "shopping": "shopping-bag", "science": "flask", "lab": "flask", "rocket": "rocket", "space": "rocket",
    "star": "star", "heart": "heart", "love": "heart", "tools": "tools", "wrench": "wrench", "hammer": "hammer",
    "sword": "khanda", "shield": "shield-alt", "magic": "magic", "wand": "magic", "trophy": "trophy",
    "medal": "medal", "award": "award", "graduation": "graduation-cap", "student": "user-graduate",
    "briefcase": "briefcase", "office": "briefcase", "work": "briefcase", "lawyer": "balance-scale",
    "film": "film", "movies": "film", "cinema": "film", "tv": "tv", "book": "book", "bread": "bread-slice",
    "icecream": "ice-cream", "ice cream": "ice-cream", "baby": "baby", "flower": "spa", "flowers": "spa",
    "beach": "umbrella-beach", "surf": "water", "surfing": "water", "boat": "ship", "sailing": "ship",
    "bitcoin": "bitcoin", "crypto": "coins", "chess": "chess-knight", "dice": "dice", "dance": "music",
    "dancing": "music", "knitting": "mitten", "tablet": "tablet-alt", "ipad": "tablet-alt", "drone": "helicopter",
}
FALLBACK_ICON = "gift"
# A job's tool, for the caricature's props (a "nurse" is drawn as her stethoscope, not as a little nurse icon).
JOB_PROPS = {
    "nurse": "stethoscope", "doctor": "stethoscope", "vet": "stethoscope", "pharmacist": "pills",
    "teacher": "book", "professor": "graduation cap", "student": "graduation cap", "chef": "chef hat",
    "cook": "utensils", "baker": "bread", "developer": "laptop", "programmer": "laptop", "engineer": "tools",
    "mechanic": "wrench", "builder": "hammer", "carpenter": "hammer", "plumber": "wrench", "electrician": "bolt",
    "pilot": "plane", "driver": "car", "artist": "palette", "painter": "paint brush", "designer": "pen",
    "writer": "pen", "journalist": "microphone", "singer": "microphone", "musician": "guitar", "dj": "headphones",
    "photographer": "camera", "lawyer": "lawyer", "judge": "gavel", "police": "shield",
    "firefighter": "fire-extinguisher",
    "farmer": "tractor", "gardener": "seedling", "scientist": "flask", "astronaut": "rocket", "gamer": "gamepad",
    "accountant": "calculator", "banker": "coins", "barista": "coffee", "waiter": "cocktail", "coach": "whistle",
}


@lru_cache(maxsize=1)
def _icon_names() -> dict[str, int]:
    """Icon name -> code point, from the font's own glyph names."""
    names: dict[str, int] = {}
    with TTFont(str(ICON_FONT), lazy=True) as font:  # closed after reading (no file left open for the process)
        for code, glyph in (font.getBestCmap() or {}).items():
            names.setdefault(glyph, code)
    return names


def icon_for(thing: str) -> tuple[str, bool]:
    """The icon name for a thing a person typed, and whether it is a real match (False: the fallback gift)."""
    names = _icon_names()
    word = " ".join(thing.lower().split())
    for key in (word, word.rstrip("s"), word.replace(" ", "-")):
        if key in SYNONYMS and SYNONYMS[key] in names:
            return SYNONYMS[key], True
        if key in names:
            return key, True
    for part in word.replace("-", " ").split():
        if part in SYNONYMS and SYNONYMS[part] in names:
            return SYNONYMS[part], True
    close = difflib.get_close_matches(word.replace(" ", "-"), list(names), n=1, cutoff=0.82)
    if close:
        return close[0], True
    return FALLBACK_ICON, False


def prop_for(job: str) -> str:
    """The thing that stands for a job (its tool), or the job itself when it is a thing (``running``, ``guitar``)."""
    word = " ".join(job.lower().split())
    return JOB_PROPS.get(word, JOB_PROPS.get(word.rstrip("s"), word))


@lru_cache(maxsize=32)
def _icon_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(ICON_FONT), size)


def draw(item: str, size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    """An accessory as a moulded plastic piece: the icon filled in ``accent`` with an ``ink`` edge, a soft
    highlight and a drop shadow, fitted in ``size`` (RGBA)."""
    return _draw(item, tuple(size), tuple(accent), tuple(ink)).copy()


@budget_cache(maxsize=64)
def _draw(item: str, size: tuple[int, int], accent: Color, ink: Color) -> Image.Image:
    w, h = size
    name, _ = icon_for(item)
    char = chr(_icon_names()[name])
    pad = max(3, int(min(w, h) * 0.06))
    box = min(w, h) - 2 * pad
    font = _icon_font(max(8, box))
    x0, y0, x1, y1 = font.getbbox(char)
    fit = min(box / max(1, x1 - x0), box / max(1, y1 - y0))
    font = _icon_font(max(8, int(box * fit)))
    x0, y0, x1, y1 = font.getbbox(char)
    stroke = max(2, int(min(w, h) * 0.035))
    glyph = Image.new("L", size, 0)
    ImageDraw.Draw(glyph).text(((w - (x1 - x0)) / 2 - x0, (h - (y1 - y0)) / 2 - y0), char, font=font, fill=255)
    shape = np.asarray(glyph)
    edge = cv2.dilate(shape, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * stroke + 1, 2 * stroke + 1)))
    # Plastic: a vertical light ramp over the fill and a highlight on the upper-left edges.
    ramp = np.linspace(1.12, 0.82, h, dtype=np.float32)[:, None, None]
    fill = np.clip(np.array(accent, np.float32)[None, None] * ramp, 0, 255)
    shifted = np.roll(np.roll(shape, stroke, axis=0), stroke, axis=1)
    shine = np.clip(shape.astype(np.float32) - shifted, 0, 255) / 255.0
    rgb = fill * (1 - shine[..., None] * 0.0) + (255 - fill) * shine[..., None] * 0.6
    body = np.dstack([np.clip(rgb, 0, 255).astype(np.uint8), shape])
    out = Image.new("RGBA", size, (0, 0, 0, 0))
    shadow = cv2.GaussianBlur(np.roll(np.roll(edge, stroke, 0), stroke, 1), (0, 0), stroke)
    out.paste((0, 0, 0, 255), (0, 0), Image.fromarray((shadow * 0.35).astype(np.uint8)))
    out.paste((*mix(ink, (0, 0, 0), 0.2), 255), (0, 0), Image.fromarray(edge))
    out.alpha_composite(Image.fromarray(body, "RGBA"))
    return out
