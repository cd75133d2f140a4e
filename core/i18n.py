"""Every text a user sees, in the user's language: gettext catalogues (Babel) under core/locales.

The adapter learns a user's language from the platform (Telegram's ``language_code``, Discord's locale, the browser's
Accept-Language) and hands it to core as a plain value, once per update: ``with i18n.using(code): ...`` (or
``i18n.use(code)`` where the rest of the task is that user's). Core's texts then read the language of the update
they answer through :func:`gettext` (``_``) and :func:`ngettext`; a job remembers its language (``reply_to["lang"]``,
see :func:`stamp`) so its progress, result and failure read the same way, also after a restart.

Texts defined once, at import (error messages, button labels, engine notes), are marked with :func:`N_` and stay
English there; they are translated where they are shown (``_(BUTTON.label)``), or by ``MinimeError.user_message``.
English is the fallback: a language without a catalogue, and any message a catalogue lacks, read in English.

Catalogues: ``core/locales/<locale>/LC_MESSAGES/minime.po`` and the compiled ``.mo`` beside it (both shipped). After
changing texts: ``make i18n`` (pybabel extract → update → compile; see core/locales/README.md).
"""

from __future__ import annotations

import contextlib
import functools
import re
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

DOMAIN = "minime"
LOCALES_DIR = Path(__file__).parent / "locales"
ENGLISH = "en"
LANGUAGES: tuple[str, ...] = ("en", "es", "pt_BR", "hi", "id", "th", "vi", "zh_Hans", "ar", "ru")
"""The catalogues minime ships, as Babel locale identifiers; English is the source language."""

_BY_LANGUAGE = {Locale.parse(name).language: name for name in LANGUAGES}  # "pt" → "pt_BR", "zh" → "zh_Hans"
_current: ContextVar[str] = ContextVar("minime_language", default=ENGLISH)


def negotiate(code: str | None) -> str:
    """The catalogue for a platform's language code (``pt-br`` → pt_BR, ``zh-hans``/``zh-CN`` → zh_Hans,
    ``es-419`` → es, ``iw`` → he...); English for anything unknown or missing.

    Babel parses the code (BCP 47 or POSIX form, old aliases included); one catalogue serves each language, so
    Portuguese from Portugal reads Brazilian Portuguese and Chinese of any script reads Simplified Chinese.
    """
    language = _language_of(code) if code and isinstance(code, str) else None
    return _BY_LANGUAGE.get(language or "", ENGLISH)


def from_accept_language(header: str | None) -> str:
    """The catalogue for a browser's Accept-Language header (``pt-BR,pt;q=0.9,en;q=0.8``): its most wanted
    language minime speaks, English when none (an HTTP header parser written here: aiohttp has none)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            quality = float(match.group(1)) if match else 1.0
        except ValueError:
            quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        name = negotiate(tag)
        if name != ENGLISH or _language_of(tag) == "en":  # English asked for before another language: English
            return name
    return ENGLISH


def _language_of(code: str) -> str | None:
    try:
        return Locale.parse(code.strip().replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return None


@functools.cache
def translations(name: str) -> NullTranslations:
    """The compiled catalogue of ``name`` (one of :data:`LANGUAGES`); English is the messages themselves."""
    if name == ENGLISH or name not in LANGUAGES:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [name], DOMAIN)


def language() -> str:
    """The catalogue name of the user being answered now (English outside any update)."""
    return _current.get()


def use(code: str | None) -> str:
    """Answer the rest of this task in the language of ``code`` (a platform code: ``pt-br``, ``zh-hans``...)."""
    name = negotiate(code)
    _current.set(name)
    return name


@contextlib.contextmanager
def using(code: str | None) -> Iterator[str]:
    """Answer in the language of ``code`` inside the block (the catalogue name is bound by ``as``)."""
    token = _current.set(negotiate(code))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current user's language (as it is when the catalogue has no translation)."""
    if not message:
        return message
    return translations(_current.get()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural (by the language's own plural rules) of a message about ``n`` things."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name for a no-op marker)
    """Mark a text defined at import for extraction; it is translated where it is shown."""
    return message


def translate(code: str | None, message: str) -> str:
    """``message`` in a given language (menus registered for every language at start-up)."""
    with using(code):
        return gettext(message)


def stamp(reply_to: dict[str, Any] | None) -> dict[str, Any]:
    """A job's reply address with the current language in it (``"lang"``; English, the default, is left out), so
    its events read in that language."""
    reply_to = dict(reply_to or {})
    if "lang" not in reply_to and _current.get() != ENGLISH:
        reply_to["lang"] = _current.get()
    return reply_to


class _LeftToRightMark:
    """A left-to-right mark (U+200E) in right-to-left languages, "" elsewhere: put before a ``/command`` that starts
    a line, so that Arabic text shows it as ``/figurine``, not ``figurine/``."""

    def __str__(self) -> str:
        return "\u200e" if direction() == "rtl" else ""

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


LTR_MARK = _LeftToRightMark()


def telegram_code(name: str) -> str:
    """The two-letter ISO 639-1 code Telegram's menus are set for (``setMyCommands(language_code=...)``)."""
    return Locale.parse(name).language


def direction(name: str | None = None) -> str:
    """``"rtl"`` for right-to-left languages (Arabic), else ``"ltr"``."""
    return "rtl" if Locale.parse(name or _current.get()).character_order == "right-to-left" else "ltr"


def catalogue(name: str) -> dict[str, str]:
    """Every translated message of ``name`` (msgid → msgstr): what the web page needs to translate itself."""
    found = translations(name)
    return {key: value for key, value in getattr(found, "_catalog", {}).items()
            if isinstance(key, str) and key and value}


# ---- extraction (pybabel reads these through babel.cfg) ----------------------------------------------------------

THEME_FIELDS = ("title", "description", "argument_prompt", "option_description", "things", "command_description")
"""The fields of a theme file that people read (prompts for models and the words drawn on images are not here)."""


def extract_theme(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[int, str, str,
                                                                                                    list[str]]]:
    """Babel extraction method for themes/*.toml: the texts of :data:`THEME_FIELDS` with their line numbers."""
    source = fileobj.read().decode("utf-8")
    data = tomllib.loads(source)
    lines = source.splitlines()
    for key in THEME_FIELDS:
        value = data.get(key)
        if isinstance(value, str) and value:
            lineno = next((i + 1 for i, line in enumerate(lines) if line.lstrip().startswith(f"{key} ")), 1)
            yield lineno, "gettext", value, [f"theme {data.get('id', '')}: {key}"]
