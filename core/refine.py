"""The refinement vocabulary: free text ("a bit warmer, less grain") to parameter changes.

Synonyms, intensity ("a bit", "much") and negation ("less", "not so", "too") are understood. Colour and texture words
become post-processing adjustments that every engine applies instantly; background colour, name size, a variation or
another theme need a new render; anything else is an instruction that only an editing engine can follow.

The words are data, one file per language in ``refine_words/`` (README there), merged: a reply is read whatever
language it is written in ("mais quente", "暖一点", "thoda warmer please"). English reads as it always has.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minime.core.domain import Adjustments, RenderParams
from minime.core.errors import UnknownRefinement
from minime.core.i18n import N_
from minime.core.i18n import gettext as _
from minime.core.themes import Theme, ThemeCatalog

STEP = 0.5  # one "warmer" moves the parameter this far; a parameter lives in [-2, 2]
WORDS_DIR = Path(__file__).parent / "refine_words"
"""One vocabulary file per language (``en.toml``, ``pt_BR.toml``...): see the README there for its shape."""

# What each vocabulary entry of a language file means: (parameter, direction). Tried in this order; longer phrases
# first within an entry; each match consumes its text.
MEANINGS: dict[str, tuple[str, int]] = {
    "black_and_white": ("saturation", -4),
    "warmer": ("warmth", +1), "cooler": ("warmth", -1),
    "brighter": ("brightness", +1), "darker": ("brightness", -1),
    "more_contrast": ("contrast", +1), "less_contrast": ("contrast", -1),
    "more_saturated": ("saturation", +1), "less_saturated": ("saturation", -1),
    "more_grain": ("grain", +1), "less_grain": ("grain", -1),
    "faded": ("fade", +1), "vivid": ("fade", -1),
    "sharper": ("sharpness", +1), "softer": ("sharpness", -1),
}

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


# Letters plus the combining marks that Python's \w leaves out (Devanagari matras and virama, Thai vowel and tone
# marks): a word boundary never falls inside "थोड़ा" or "อุ่น".
_WORD_CHAR = r"[\w\u0300-\u036f\u0900-\u097f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]"
_WORD_RE = re.compile(r"(?:" + _WORD_CHAR + r"|')+")
_ARABIC_MARKS = re.compile(r"[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")  # tatweel, harakat, Quranic marks
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
                                 "ک": "ك", "ی": "ي"})


def normalize(text: str) -> str:
    """The form every text and phrase is compared in: NFKC, lower case, ASCII digits, one apostrophe, and Arabic
    without tatweel or diacritics and with one alef (أ إ آ → ا, ى → ي, ة → ه), the way people type it."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text)
    if any("\u0600" <= c <= "\u06ff" for c in text):
        text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    return text


def fold(text: str) -> str:
    """Latin accents folded away (“más cálido” → “mas calido”, ё → е), one character for one, so that positions
    in the folded text are positions in the text."""
    return "".join(_fold_char(c) for c in text)


@functools.cache
def _fold_char(c: str) -> str:
    if c.isascii():
        return c
    if c in "đð":
        return "d"
    if c == "ё":
        return "е"
    base = unicodedata.normalize("NFD", c)[0]
    return base if base.isascii() and base.isalpha() else c


@dataclass(frozen=True)
class _Group:
    """Phrases compared alike: by whole words or as characters of a script written without spaces; on the folded
    text or on the text with its accents (Vietnamese: “bớt” is not “bot”); Arabic allows a clitic before a word."""

    by_words: bool
    folded: bool
    prefixes: tuple[str, ...] = ()


class _Phrases:
    """One meaning's phrases in every language, as one regular expression per group."""

    def __init__(self, phrases: dict[_Group, set[str]]) -> None:
        self.patterns = [(_compile(group, items), group.folded) for group, items in phrases.items() if items]

    def finditer(self, clause: _Clause) -> Iterator[re.Match[str]]:
        for pattern, folded in self.patterns:
            yield from pattern.finditer(clause.folded if folded else clause.plain)

    def search(self, clause: _Clause) -> bool:
        return any(True for _ in self.finditer(clause))

    def consume(self, clause: _Clause) -> bool:
        """Whether the clause says one of the phrases; every occurrence is blanked out."""
        spans = [m.span(1) for m in self.finditer(clause)]
        for start, end in spans:
            clause.blank(start, end)
        return bool(spans)


def _compile(group: _Group, phrases: set[str]) -> re.Pattern[str]:
    if group.by_words:  # spaces inside a phrase match any run of spaces
        alternatives = [r"\s+".join(map(re.escape, p.split())) for p in sorted(phrases, key=len, reverse=True)]
        prefix = "(?:" + "|".join(map(re.escape, group.prefixes)) + ")?" if group.prefixes else ""
        return re.compile(r"(?<!" + _WORD_CHAR + ")" + prefix + "(" + "|".join(alternatives) + r")(?!" + _WORD_CHAR
                          + ")")
    alternatives = [r"\s*".join(map(re.escape, p.replace(" ", ""))) for p in sorted(phrases, key=len, reverse=True)]
    return re.compile("(" + "|".join(alternatives) + ")")


_GAP = "\ue000"  # what a matched phrase leaves: neither a letter nor a space, so no later phrase spans it


class _Clause:
    """A clause being read: its text and the same text folded, kept aligned while matched phrases are blanked."""

    def __init__(self, text: str) -> None:
        self.plain, self.folded = text, fold(text)

    def blank(self, start: int, end: int) -> None:
        gap = _GAP * (end - start)
        self.plain = self.plain[:start] + gap + self.plain[end:]
        self.folded = self.folded[:start] + gap + self.folded[end:]


_KINDS = ("name_bigger", "name_smaller", "name", "bigger", "smaller", "palette", "variation", "variation_alone",
          "undo", "negators", "softeners", "boosters", "filler", "conjunctions", "ignore")


@dataclass(frozen=True)
class Vocabulary:
    """Every language's refinement words, merged: a user may write in any of them, or mix them."""

    adjust: list[tuple[_Phrases, str, int]]
    kinds: dict[str, _Phrases]
    filler_words: frozenset[str]
    themes: list[tuple[_Phrases, str]]
    clause_split: re.Pattern[str]
    languages: tuple[str, ...]


@functools.cache
def vocabulary(folder: Path = WORDS_DIR) -> Vocabulary:
    """The vocabulary files of ``folder`` (one per language), read once."""
    adjust: dict[str, dict[_Group, set[str]]] = {key: {} for key in MEANINGS}
    kinds: dict[str, dict[_Group, set[str]]] = {key: {} for key in _KINDS}
    themes: dict[str, dict[_Group, set[str]]] = {}
    filler: set[str] = set()
    conjunctions: set[str] = set()
    glued: list[str] = []  # "وأقل": a clitic "and" glued to a negator starts a clause of its own
    languages = []
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        languages.append(path.stem)
        by_words = data.get("match", "words") == "words"
        group = _Group(by_words, data.get("fold_accents", True), tuple(normalize(p) for p in data.get("prefixes", ())))
        prepare = fold if group.folded else (lambda s: s)

        def add(table: dict[_Group, set[str]], phrases: list[str], _prepare: Any = prepare, _group: _Group = group
                ) -> None:
            table.setdefault(_group, set()).update(_prepare(normalize(p)) for p in phrases)

        unknown = set(data.get("adjust", {})) - set(MEANINGS)
        if unknown:
            raise ValueError(f"{path.name}: unknown adjustments {sorted(unknown)}")
        for key, phrases in data.get("adjust", {}).items():
            add(adjust[key], phrases)
        for section in ("render", "modifiers"):
            for key, phrases in data.get(section, {}).items():
                if key not in kinds:
                    raise ValueError(f"{path.name}: unknown entry {section}.{key}")
                if key == "filler" and by_words:
                    filler.update(fold(normalize(p)) for p in phrases)
                elif key == "conjunctions":
                    conjunctions.update(normalize(p) for p in phrases)
                    conjunctions.update(fold(normalize(p)) for p in phrases)
                else:
                    add(kinds[key], phrases)
        negators = [normalize(p) for p in data.get("modifiers", {}).get("negators", ())]
        if group.prefixes and negators:
            glued.append("(?:" + "|".join(map(re.escape, group.prefixes)) + ")(?=(?:" + "|".join(
                map(re.escape, sorted(negators, key=len, reverse=True))) + ")(?!" + _WORD_CHAR + "))")
        for theme_id, phrases in data.get("themes", {}).items():
            add(themes.setdefault(theme_id, {}), phrases)
    split = r"[,;.!?،؛؟。、；！？।\n]+|\band\b|\bbut\b|\bplus\b|&"
    if conjunctions:
        words = "|".join(re.escape(c) for c in sorted(conjunctions, key=len, reverse=True))
        split += r"|(?<!" + _WORD_CHAR + ")(?:" + words + r")(?!" + _WORD_CHAR + ")"
    for pattern in glued:
        split += r"|(?<!" + _WORD_CHAR + ")" + pattern
    return Vocabulary(
        adjust=[(_Phrases(adjust[key]), *MEANINGS[key]) for key in MEANINGS],
        kinds={key: _Phrases(value) for key, value in kinds.items()},
        filler_words=frozenset(filler),
        themes=[(_Phrases(value), theme_id) for theme_id, value in themes.items()],
        clause_split=re.compile(split),
        languages=tuple(languages),
    )


# Words that may stand before "too" in "it's way too dark" (which asks for brighter). Matched word by word: a
# regular expression with a repeated group of overlapping alternatives backtracks exponentially ("its its its … x").
_BEFORE_TOO = frozenset({"it's", "its", "it", "is", "way", "a", "bit", "little", "much", "far"})
MAX_TEXT = 500  # characters of refinement text read; longer text is cut (every step below is linear in it)


def parse_refinement(text: str, catalog: ThemeCatalog | None = None, *, accept_instructions: bool = False
                     ) -> Refinement:
    """Turn free text into a Refinement; raise UnknownRefinement listing what is understood when nothing fits.

    Text in any language minime speaks is understood, mixed too ("thoda warmer please"): see WORDS_DIR.

    Args:
        text: what the user wrote.
        catalog: themes, so that "make it 80s" can switch theme.
        accept_instructions: when True (an editing engine), text outside the vocabulary becomes an instruction.
    """
    words = vocabulary()
    kinds = words.kinds
    original = text.strip()[:MAX_TEXT]
    # Every kind of line break (\r, U+0085, U+2029…) ends a clause, like "\n".
    text = "\n".join(normalize(original).splitlines())
    text = re.sub(r"black\s*(and|&|n)\s*white", "monochrome", text)
    text = _one_word(text, words.adjust[0][0], "monochrome")  # "preto e branco", "أبيض و أسود": not two clauses
    deltas: dict[str, float] = {}
    palette_step, name_scale, variation, undo = 0, 1.0, False, False
    theme = catalog.find_in_text(text) if catalog else None
    leftovers: list[str] = []
    for part in (c.strip() for c in words.clause_split.split(text)):
        if not part:
            continue
        clause = _Clause(part)
        kinds["ignore"].consume(clause)
        understood = False
        if kinds["undo"].consume(clause):
            undo = understood = True
        if kinds["name_bigger"].consume(clause):
            name_scale, understood = name_scale * 1.2, True
        if kinds["name_smaller"].consume(clause):
            name_scale, understood = name_scale / 1.2, True
        if kinds["name"].search(clause):  # "nome maior", "名字大一点", "увеличь имя": a name word and a size word
            if kinds["bigger"].consume(clause):
                name_scale, understood = name_scale * 1.2, kinds["name"].consume(clause)
            elif kinds["smaller"].consume(clause):
                name_scale, understood = name_scale / 1.2, kinds["name"].consume(clause)
        if kinds["palette"].consume(clause):
            palette_step, understood = palette_step + 1, True
        again = kinds["variation_alone"].consume(clause)  # "de novo", "lagi", "ещё раз": see below
        if kinds["variation"].consume(clause):
            variation = understood = True
        negated = kinds["negators"].search(clause) or _starts_with_too(clause.plain.replace(_GAP, " "))
        intensity = 0.5 if kinds["softeners"].search(clause) else 2.0 if kinds["boosters"].search(clause) else 1.0
        for phrases, param, sign in words.adjust:
            if phrases.consume(clause):
                direction = -sign if negated else sign
                deltas[param] = deltas.get(param, 0.0) + direction * intensity * STEP
                understood = True
        for kind in ("boosters", "softeners", "negators"):
            kinds[kind].consume(clause)
        for phrases, theme_id in words.themes:
            if phrases.consume(clause) and catalog and not theme and theme_id in {t.id for t in catalog.everything()}:
                theme = catalog.get(theme_id)
        understood = understood or theme is not None
        if theme:
            for match in re.finditer(r"\b(" + "|".join(re.escape(w) for w in _theme_words(theme)) + r")\b",
                                     clause.plain):
                clause.blank(*match.span())
        # "lagi", "de novo", "ещё раз" alone ask for another one; after "warmer" they mean "even warmer".
        if again and not understood:
            variation = True
        kinds["filler"].consume(clause)  # particles of scripts without spaces (ขึ้น, 一点...)
        rest = [w for w in _WORD_RE.findall(clause.plain) if fold(w) not in words.filler_words]
        if rest:
            leftovers.append(" ".join(rest))
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


def _one_word(text: str, phrases: _Phrases, word: str) -> str:
    """``text`` with every one of ``phrases`` replaced by ``word``."""
    spans = [m.span(1) for m in phrases.finditer(_Clause(text))]
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} {word} {text[end:]}"
    return text


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

