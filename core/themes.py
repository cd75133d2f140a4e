"""Themes are data: one TOML file each in themes/. This module loads them and resolves chat commands to them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minime.core import buttons
from minime.core.domain import Adjustments, ThemeInfo
from minime.core.errors import UnknownTheme

DEFAULT_BUTTONS = ("warmer", "cooler", "more grain", "variation", buttons.UNDO, buttons.ANOTHER_THEME)


@dataclass(frozen=True)
class Theme:
    """One look minime can make, for every engine."""

    id: str
    command: str
    title: str
    description: str
    argument: str | None  # "name", "caption", "variant" or None
    argument_prompt: str | None
    argument_required: bool
    variant: str | None  # the variant this file is, for commands shared by several files (/retro 80s)
    variants: tuple[str, ...]  # variants a command argument may pick inside this file (/popart grid)
    default_variant: str | None
    buttons: tuple[str, ...]
    recipe: str
    classic: dict[str, Any]
    palettes: tuple[dict[str, Any], ...]
    package: dict[str, Any]
    finish: Adjustments
    diffusion: dict[str, Any]
    source: Path = field(compare=False)

    def info(self) -> ThemeInfo:
        """The adapter-facing view."""
        return ThemeInfo(self.id, self.command, self.title, self.description, self.argument,
                         self.variants, self.buttons)

    def palette(self, index: int) -> dict[str, Any]:
        """The colour set for ``index`` (cycles, so "another background colour" always has a next one)."""
        return self.palettes[index % len(self.palettes)] if self.palettes else {}

    def prompt(self, name: str | None) -> str:
        """The diffusion prompt with the name filled in."""
        template = self.diffusion.get("prompt", self.title)
        return template.replace("{name}", name or "")


def load_theme(path: Path) -> Theme:
    """Read one theme file. Raises ValueError with the file name when it is malformed or names an unknown button."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        theme_id = data["id"]
        button_ids = tuple(data.get("buttons", DEFAULT_BUTTONS))
        if typos := buttons.unknown(button_ids):
            raise ValueError(f"theme file {path.name} names unknown buttons {', '.join(map(repr, typos))}; "
                             f"known: {', '.join(buttons.BUTTONS)}")
        classic = dict(data.get("classic", {}))
        return Theme(
            id=theme_id,
            command=data.get("command", theme_id.replace("-", "")),
            title=data["title"],
            description=data.get("description", ""),
            argument=data.get("argument"),
            argument_prompt=data.get("argument_prompt"),
            argument_required=bool(data.get("argument_required", False)),
            variant=data.get("variant"),
            variants=tuple(data.get("variants", ())),
            default_variant=data.get("default_variant"),
            buttons=button_ids,
            recipe=classic.pop("recipe"),
            classic=classic,
            palettes=tuple(data.get("palettes", ())),
            package=dict(data.get("package", {})),
            finish=Adjustments.from_dict(data.get("finish")),
            diffusion=dict(data.get("diffusion", {})),
            source=path,
        )
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"theme file {path.name} is malformed: {exc}") from exc


class ThemeCatalog:
    """All themes found in a folder, addressable by id, by command, or by words in free text."""

    def __init__(self, themes: list[Theme]) -> None:
        self._by_id = {t.id: t for t in sorted(themes, key=lambda t: t.source.name)}
        self._by_command: dict[str, list[Theme]] = {}
        for theme in self._by_id.values():
            self._by_command.setdefault(theme.command, []).append(theme)

    @classmethod
    def from_dir(cls, folder: Path) -> ThemeCatalog:
        """Load every ``*.toml`` file of a folder."""
        return cls([load_theme(p) for p in sorted(folder.glob("*.toml"))])

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, theme_id: str) -> Theme:
        """A theme by id, or UnknownTheme."""
        try:
            return self._by_id[theme_id]
        except KeyError:
            raise UnknownTheme(f"I don't know the theme “{theme_id}”. Try /themes to see them all.") from None

    def commands(self) -> list[str]:
        """Chat commands, one per command name, in catalogue order."""
        return list(self._by_command)

    def resolve(self, command_or_id: str, argument: str | None = None) -> tuple[Theme, str | None, str | None]:
        """Map ``/retro 80s`` or ``figurine`` + ``Alice`` to (theme, variant, name/caption)."""
        key = command_or_id.lstrip("/").lower().split("@")[0]
        argument = (argument or "").strip() or None
        if key in self._by_id and key not in self._by_command:
            theme = self._by_id[key]
            return theme, self._variant_in(theme, argument), self._text_in(theme, argument)
        family = self._by_command.get(key)
        if not family:
            raise UnknownTheme(f"I don't know /{key}. Try /themes to see them all.")
        if len(family) > 1:
            wanted = (argument or "").lower().replace(" ", "")
            for theme in family:
                if theme.variant and wanted in (theme.variant.lower(), theme.variant.lower().rstrip("s"),
                                                "19" + theme.variant.lower()):
                    return theme, None, None
            if argument:
                options = ", ".join(t.variant for t in family if t.variant)
                raise UnknownTheme(f"/{key} comes in {options}. Try e.g. /{key} {family[0].variant}.")
            default = next((t for t in family if t.classic.get("default_for_command")), family[0])
            return default, None, None
        theme = family[0]
        return theme, self._variant_in(theme, argument), self._text_in(theme, argument)

    @staticmethod
    def _variant_in(theme: Theme, argument: str | None) -> str | None:
        if theme.variants and argument and argument.lower() in theme.variants:
            return argument.lower()
        return theme.default_variant

    @staticmethod
    def _text_in(theme: Theme, argument: str | None) -> str | None:
        if theme.variants and argument and argument.lower() in theme.variants:
            return None
        return argument if theme.argument in ("name", "caption") else None

    def find_in_text(self, text: str) -> Theme | None:
        """A theme named in free text ("make it 80s", "as a polaroid"), if any."""
        words = text.lower().replace("-", " ")
        for theme in self._by_id.values():
            names = {theme.id.replace("-", " "), theme.command, theme.title.lower()}
            names.update(theme.classic.get("aliases", ()))
            if theme.variant:
                names.update({theme.variant, "19" + theme.variant, theme.variant.rstrip("s")})
            if any(_has_phrase(words, n) for n in names if n):
                return theme
        return None


MAX_THINGS, MAX_THING_CHARS = 6, 40


def split_things(argument: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Split ``"Ada | coffee, laptop, guitar"`` into the argument and the list of things after the ``|``.

    The list is separated by commas (or further bars), trimmed, de-duplicated, at most six things of 40 characters.
    """
    if not argument or "|" not in argument:
        return argument, ()
    head, _, tail = argument.partition("|")
    things: list[str] = []
    for part in tail.replace("|", ",").replace("\n", ",").split(","):
        thing = " ".join(part.split())[:MAX_THING_CHARS]
        if thing and thing.lower() not in (t.lower() for t in things):
            things.append(thing)
    return head.strip() or None, tuple(things[:MAX_THINGS])


def _has_phrase(text: str, phrase: str) -> bool:
    padded = f" {''.join(c if c.isalnum() else ' ' for c in text)} "
    return f" {phrase} " in padded
