"""Languages: every message the code and theme files mark is in every catalogue, translated (no English left, no fuzzy
entry), with the same placeholders, commands, emoji and markup; the compiled catalogues match their sources; the
platforms' language codes reach the right catalogue; texts read in the user's language."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from minime.core import i18n, texts
from minime.core.buttons import BUTTONS
from minime.core.errors import MinimeError, NoSelfie, QuotaExceeded

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [name for name in i18n.LANGUAGES if name != i18n.ENGLISH]
PLACEHOLDER = re.compile(r"\{[a-z_]*(?::[^{}]*)?\}|%\([a-z_]+\)[sd]")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")
EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2190-\u21FF\u23E9-\u23FA\u2B06-\u2B07]")
SAME_IN_EVERY_LANGUAGE = {"Polaroid"}  # a name
SAME_IN = {("es", "{minutes} min"), ("es", "{hours} h {minutes} min"), ("pt_BR", "{minutes} min"),
           ("pt_BR", "{hours} h {minutes} min"), ("id", "Polaroid")}


def extracted() -> dict[str, tuple[str, ...]]:
    """What ``make i18n`` extracts from the working tree now (babel.cfg): msgid → all its forms."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


@pytest.fixture(scope="module")
def messages() -> dict[str, tuple[str, ...]]:
    return extracted()


def catalogue(name: str):
    with open(i18n.LOCALES_DIR / name / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as po:
        return read_po(po, locale=name)


def _letters(text: str) -> bool:
    """Whether a text has words of its own (not only placeholders, commands, numbers and emoji)."""
    return bool(re.search(r"[^\W\d_]", COMMAND.sub("", PLACEHOLDER.sub("", text))))


def test_every_language_has_a_catalogue_and_its_compiled_form() -> None:
    assert set(i18n.LANGUAGES) == {"en", "es", "pt_BR", "hi", "id", "th", "vi", "zh_Hans", "ar", "ru"}
    for name in TRANSLATED:
        assert (i18n.LOCALES_DIR / name / "LC_MESSAGES" / "minime.po").is_file(), name
        assert (i18n.LOCALES_DIR / name / "LC_MESSAGES" / "minime.mo").is_file(), name


def test_the_code_marks_its_texts(messages: dict[str, tuple[str, ...]]) -> None:
    """The extraction finds each kind of text: errors, buttons, engine notes, theme files, adapters, the web page."""
    for expected in (NoSelfie.__dict__["user_message"].text, BUTTONS["warmer"].label, texts.ON_IT,
                     "Collectible figurine", "You as a glossy collectible figure in a toy box, with your name on it.",
                     "Every look, with a preview", "⬇️ Download",
                     "I couldn't find a person in that photo, so I used the whole picture. A clear selfie works best!"):
        assert expected in messages, expected
    errors = [cls for cls in _subclasses(MinimeError) if isinstance(cls.__dict__.get("user_message"), object)
              and hasattr(cls.__dict__.get("user_message"), "text")]
    assert len(errors) > 15
    for cls in errors:
        assert cls.__dict__["user_message"].text in messages, f"{cls.__name__}.user_message is not marked N_()"
    for button in BUTTONS.values():
        assert button.label in messages, f"button {button.id}'s label is not marked N_()"


def _subclasses(cls: type) -> list[type]:
    """Every subclass, after importing every core module (errors are defined all over core)."""
    import minime.core

    for module in pkgutil.walk_packages(minime.core.__path__, "minime.core."):
        if ".migrations" not in module.name:
            try:
                importlib.import_module(module.name)
            except ImportError:  # an optional extra that is not installed (its errors are checked where it is)
                pass
    found, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


@pytest.mark.parametrize("name", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(name: str,
                                                                messages: dict[str, tuple[str, ...]]) -> None:
    po = catalogue(name)
    problems = []
    for msgid, forms in messages.items():
        entry = po.get(forms[0] if len(forms) == 1 else forms)
        if entry is None or entry.id != (forms[0] if len(forms) == 1 else forms):
            problems.append(f"missing: {msgid!r}")
            continue
        strings = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        if entry.fuzzy or not all(strings) or len(strings) != (1 if len(forms) == 1 else po.num_plurals):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        for string in strings:
            if (string in forms and _letters(string) and msgid not in SAME_IN_EVERY_LANGUAGE
                    and (name, msgid) not in SAME_IN):
                problems.append(f"still English: {msgid!r}")
            for pattern, what in ((PLACEHOLDER, "placeholders"), (COMMAND, "commands"), (EMOJI, "emoji")):
                mirrored = string.replace("←", "→") if po.locale.character_order == "right-to-left" else string
                if sorted(set(pattern.findall(mirrored))) != sorted(set(pattern.findall(forms[-1]))):
                    problems.append(f"{what} differ: {msgid!r} → {string!r}")
            if string.count("`") != msgid.count("`") or string.count("\n") != msgid.count("\n"):
                problems.append(f"markup or lines differ: {msgid!r} → {string!r}")
    assert not problems, f"{name}: {len(problems)} problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("name", TRANSLATED)
def test_compiled_catalogues_match_their_sources(name: str) -> None:
    """The .mo shipped beside each .po is compiled from it (`make i18n` was run after the last edit)."""
    compiled = i18n.translations(name)
    for entry in catalogue(name):
        if not entry.id:
            continue
        if isinstance(entry.id, str):
            assert compiled.gettext(entry.id) == entry.string, (name, entry.id)
        else:
            assert compiled.ngettext(entry.id[0], entry.id[1], 1) in entry.string, (name, entry.id)


@pytest.mark.parametrize(("code", "expected"), [
    ("es", "es"), ("es-419", "es"), ("es-ES", "es"), ("pt-br", "pt_BR"), ("pt-BR", "pt_BR"), ("pt", "pt_BR"),
    ("hi", "hi"), ("id", "id"), ("in", "id"), ("th", "th"), ("vi", "vi"), ("zh-hans", "zh_Hans"),
    ("zh-CN", "zh_Hans"), ("zh", "zh_Hans"), ("ar", "ar"), ("ar-EG", "ar"), ("ru", "ru"), ("en", "en"),
    ("en-US", "en"), ("fr", "en"), ("xx", "en"), ("", "en"), (None, "en"), ("not a language!", "en"),
])
def test_platform_language_codes_pick_their_catalogue(code: str | None, expected: str) -> None:
    assert i18n.negotiate(code) == expected


def test_the_browsers_first_language_minime_speaks_wins() -> None:
    assert i18n.from_accept_language("fr-FR,fr;q=0.9,pt-BR;q=0.8,en;q=0.5") == "pt_BR"
    assert i18n.from_accept_language("en-US,en;q=0.9,es;q=0.8") == "en"
    assert i18n.from_accept_language("es;q=0.2,th;q=0.9") == "th"
    assert i18n.from_accept_language("zh-CN,zh;q=0.9") == "zh_Hans"
    assert i18n.from_accept_language("de, *;q=0.5") == "en"
    assert i18n.from_accept_language(None) == "en"


def test_texts_errors_and_buttons_read_in_the_users_language_and_names_stay_as_typed() -> None:
    with i18n.using("es"):
        assert texts.queued_text(3, 12.0) == "Estás en el puesto 3 de la cola (unos 12 s)…"
        assert i18n.gettext(BUTTONS["warmer"].label) == "🔥 Más cálido"
        assert NoSelfie().user_message.startswith("Envíame primero un selfie")
        caption = texts.result_caption("Collectible figurine", "Ada Lovelace", ())
        assert caption.startswith("✨ Figura de colección — Ada Lovelace")
        refused = QuotaExceeded(3600.0, scope="user", limit=3)
        assert "3" in refused.user_message and "medianoche" in refused.user_message
    assert NoSelfie().user_message.startswith("Send me a selfie first"), "English outside the user's update"
    assert i18n.direction("ar") == "rtl" and i18n.direction("es") == "ltr"
    with i18n.using("ar"):
        assert texts.queued_text(1, 0) == "دورك التالي — سأبدأ بعد لحظة…"
    with i18n.using("ru"):
        refused = QuotaExceeded(3600.0, scope="user", limit=5)
        assert "5 изображений на человека" in refused.user_message, "Russian plural forms"
    assert i18n.translate("xx", texts.ON_IT) == texts.ON_IT
