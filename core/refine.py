"""The refinement vocabulary: free text ("a bit warmer, less grain") to parameter changes.

Synonyms, intensity ("a bit", "much") and negation ("less", "not so", "too") are understood. Colour and texture words
become post-processing adjustments that every engine applies instantly; background colour, name size, a variation or
another theme need a new render; anything else is an instruction that only an editing engine can follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from minime.core.domain import Adjustments, RenderParams
from minime.core.errors import UnknownRefinement
from minime.core.i18n import N_
from minime.core.i18n import gettext as _
from minime.core.themes import Theme, ThemeCatalog

STEP = 0.5  # one "warmer" moves the parameter this far; a parameter lives in [-2, 2]

# (phrases, parameter, direction). Longer phrases are tried first; each match consumes its text.
_VOCABULARY: list[tuple[tuple[str, ...], str, int]] = [
    (("black and white", "black & white", "b&w", "monochrome", "grayscale", "greyscale"), "saturation", -4),
    (("warmer", "warm", "warmth", "hotter", "golden", "sunnier", "sunny", "orange", "cozier", "cosier"),
     "warmth", +1),
    (("cooler", "cool", "colder", "cold", "bluer", "blue", "icy", "chilly"), "warmth", -1),
    (("brighter", "bright", "lighter", "brightness", "exposure", "sunlit"), "brightness", +1),
    (("darker", "dark", "dimmer", "dim", "moodier", "moody"), "brightness", -1),
    (("contrasty", "contrast", "punchier", "punchy", "dramatic", "bolder"), "contrast", +1),
    (("flatter", "flat"), "contrast", -1),
    (("more saturated", "saturated", "saturation", "colorful", "colourful", "more colors", "more colours",
      "more color", "more colour", "poppier", "poppy"), "saturation", +1),
    (("desaturated", "muted", "duller", "dull", "pastel", "pale", "paler"), "saturation", -1),
    (("film grain", "grainy", "grain", "noisy", "noise", "gritty", "grittier"), "grain", +1),
    (("cleaner", "clean", "smoother", "smooth"), "grain", -1),
    (("washed out", "faded", "fade", "fadeded", "vintage", "matte", "older", "old"), "fade", +1),
    (("vivid", "vivider", "rich", "richer", "fresh", "fresher", "newer"), "fade", -1),
    (("sharper", "sharp", "crisper", "crisp", "clearer", "clear", "detailed", "sharpness", "focus"),
     "sharpness", +1),
    (("softer", "soft", "blurrier", "blurry", "dreamy", "dreamier", "blur", "hazy"), "sharpness", -1),
]
_NAME_BIGGER = ("bigger name", "larger name", "name bigger", "name larger", "bigger text", "larger text",
                "bigger title", "name big")
_NAME_SMALLER = ("smaller name", "name smaller", "smaller text", "smaller title", "name small")
_PALETTE = ("another background", "different background", "new background", "background colour",
            "background color", "other background", "another colour", "another color", "new colours", "new colors",
            "different colours", "different colors", "box colour", "box color", "background")
_VARIATION = ("variation", "another version", "different version", "another one", "reroll", "re roll",
              "surprise me", "shuffle", "remix", "try again", "again")
_UNDO = ("undo", "go back", "previous one", "revert")
_NEGATORS = ("less", "not so", "not as", "not too", "not", "no", "don't", "dont", "without", "fewer",
             "reduce", "remove", "lower", "decrease")
_SOFTENERS = ("a tiny bit", "a little bit", "a little", "a bit", "a touch", "slightly", "somewhat", "bit",
              "little", "tad", "a tad")
_BOOSTERS = ("a lot", "lots", "much", "way", "very", "really", "super", "extra", "much more", "even more",
             "way more", "far", "heaps")
_FILLER = {"more", "make", "it", "please", "pls", "the", "a", "an", "colors", "colours", "color", "colour",
           "tone", "tones", "look", "image", "picture", "photo", "bit", "and", "with", "of", "some", "me",
           "can", "you", "could", "be", "is", "lot", "little", "add", "i", "want", "would", "like", "just", "so",
           "now", "this", "that", "one", "but", "than", "on", "to", "in", "give", "get", "much", "should", "feel",
           "abit", "way", "up", "down", "turn", "increase", "boost", "lighting", "light", "effect", "overall"}

UNDERSTOOD = N_("warmer / cooler, brighter / darker, more or less contrast, saturation and grain, faded / vivid, "
              "sharper / softer, another background colour, bigger / smaller name, a variation, or another theme "
              "(e.g. “make it 80s”)")


@dataclass(frozen=True)
class Refinement:
    """What a piece of text asks for."""

    adjustments: Adjustments = field(default_factory=Adjustments)
    palette_step: int = 0
    name_scale: float = 1.0
    variation: bool = False
    undo: bool = False
    theme: Theme | None = None
    instruction: str | None = None
    ignored: tuple[str, ...] = ()

    @property
    def needs_render(self) -> bool:
        """True when the engine must run again; False when post-processing the last image is enough."""
        return bool(self.palette_step or self.name_scale != 1.0 or self.variation or self.theme or self.instruction)

    def apply_to(self, params: RenderParams, current_theme_id: str, new_seed: int) -> RenderParams:
        """The parameters after this refinement (adjustments add up; a new theme resets its variant and colours)."""
        if self.theme and self.theme.id != current_theme_id:
            params = params.with_(variant=self.theme.default_variant, palette=0)
        return params.with_(
            adjustments=params.adjustments.plus(self.adjustments),
            palette=params.palette + self.palette_step,
            name_scale=max(0.5, min(2.0, params.name_scale * self.name_scale)),
            seed=new_seed if self.variation else params.seed,
            instructions=params.instructions + ((self.instruction,) if self.instruction else ()),
        )

    @property
    def is_empty(self) -> bool:
        """Nothing understood at all."""
        return not (self.needs_render or self.undo or self.adjustments.to_dict())


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(p) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(alternatives) + r")(?![\w])")


_VOCAB_PATTERNS = [(_pattern(phrases), param, sign) for phrases, param, sign in _VOCABULARY]
_NEGATOR_RE = _pattern(_NEGATORS)
_SOFTENER_RE = _pattern(_SOFTENERS)
_BOOSTER_RE = _pattern(_BOOSTERS)
_NAME_BIGGER_RE, _NAME_SMALLER_RE = _pattern(_NAME_BIGGER), _pattern(_NAME_SMALLER)
_PALETTE_RE, _VARIATION_RE, _UNDO_RE = _pattern(_PALETTE), _pattern(_VARIATION), _pattern(_UNDO)
# Words that may stand before "too" in "it's way too dark" (which asks for brighter). Matched word by word: a
# regular expression with a repeated group of overlapping alternatives backtracks exponentially ("its its its … x").
_BEFORE_TOO = frozenset({"it's", "its", "it", "is", "way", "a", "bit", "little", "much", "far"})
MAX_TEXT = 500  # characters of refinement text read; longer text is cut (every step below is linear in it)
_CLAUSE_SPLIT = re.compile(r"[,;.!?]+|\band\b|\bbut\b|\bplus\b|&|\n")


def parse_refinement(text: str, catalog: ThemeCatalog | None = None, *, accept_instructions: bool = False
                     ) -> Refinement:
    """Turn free text into a Refinement; raise UnknownRefinement listing what is understood when nothing fits.

    Args:
        text: what the user wrote.
        catalog: themes, so that "make it 80s" can switch theme.
        accept_instructions: when True (an editing engine), text outside the vocabulary becomes an instruction.
    """
    original = text.strip()[:MAX_TEXT]
    # Every kind of line break (\r, U+0085, U+2029…) ends a clause, like "\n".
    text = "\n".join(original.lower().replace("’", "'").splitlines())
    text = re.sub(r"black\s*(and|&|n)\s*white", "monochrome", text)
    deltas: dict[str, float] = {}
    palette_step, name_scale, variation, undo = 0, 1.0, False, False
    theme = catalog.find_in_text(text) if catalog else None
    leftovers: list[str] = []
    for clause in (c.strip() for c in _CLAUSE_SPLIT.split(text)):
        if not clause:
            continue
        rest = clause
        if _UNDO_RE.search(rest):
            undo, rest = True, _UNDO_RE.sub(" ", rest)
        if _NAME_BIGGER_RE.search(rest):
            name_scale, rest = name_scale * 1.2, _NAME_BIGGER_RE.sub(" ", rest)
        if _NAME_SMALLER_RE.search(rest):
            name_scale, rest = name_scale / 1.2, _NAME_SMALLER_RE.sub(" ", rest)
        if _PALETTE_RE.search(rest):
            palette_step, rest = palette_step + 1, _PALETTE_RE.sub(" ", rest)
        if _VARIATION_RE.search(rest):
            variation, rest = True, _VARIATION_RE.sub(" ", rest)
        negated = bool(_NEGATOR_RE.search(rest)) or _starts_with_too(rest)
        intensity = 0.5 if _SOFTENER_RE.search(rest) else 2.0 if _BOOSTER_RE.search(rest) else 1.0
        for pattern, param, sign in _VOCAB_PATTERNS:
            if pattern.search(rest):
                direction = -sign if negated else sign
                deltas[param] = deltas.get(param, 0.0) + direction * intensity * STEP
                rest = pattern.sub(" ", rest)
        rest = _NEGATOR_RE.sub(" ", _SOFTENER_RE.sub(" ", _BOOSTER_RE.sub(" ", rest)))
        if theme:
            rest = re.sub(r"\b(" + "|".join(re.escape(w) for w in _theme_words(theme)) + r")\b", " ", rest)
        words = [w for w in re.findall(r"[\w']+", rest) if w not in _FILLER]
        if words:
            leftovers.append(" ".join(words))
    refinement = Refinement(
        adjustments=Adjustments.from_dict(deltas),
        palette_step=palette_step,
        name_scale=name_scale,
        variation=variation,
        undo=undo,
        theme=theme,
        instruction=original if (leftovers and accept_instructions) else None,
        ignored=tuple(leftovers),
    )
    if refinement.is_empty:
        raise UnknownRefinement(_("I didn't get “{text}”. I understand {understood}. Try “a bit warmer” or “less "
                                  "grain”.").format(text=original[:80], understood=_(UNDERSTOOD)))
    return refinement


def _starts_with_too(clause: str) -> bool:
    """Whether a clause says "too …" ("too dark", "it's way too dark"), which asks for the opposite."""
    for word in clause.split():
        if word == "too":
            return True
        if word not in _BEFORE_TOO:
            return False
    return False


def _theme_words(theme: Theme) -> set[str]:
    words = {theme.command, *theme.id.split("-"), *theme.title.lower().split()}
    if theme.variant:
        words |= {theme.variant, "19" + theme.variant, theme.variant.rstrip("s")}
    words |= set(theme.aliases)
    return {w for w in words if w}

