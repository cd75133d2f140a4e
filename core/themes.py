"""Themes are data: one TOML file each in themes/. This module loads them and resolves chat commands to them.

A theme file's top level holds what the catalogue and the chat platforms need (id, command, title, description, the
argument, variants, aliases, which engines serve it); its tables hold what each engine needs (``[classic]`` recipe and
parameters, ``[diffusion]`` prompt and instruction, ``[package]`` texts, ``[[palettes]]``, ``[finish]``). A file that
does not follow this shape stops the start with its name and the reason (``ThemeFileInvalid``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from minime.core import buttons
from minime.core.domain import Adjustments, ThemeCommand, ThemeInfo
from minime.core.errors import ThemeFileInvalid, ThemeUnavailable, UnknownTheme
from minime.core.i18n import N_
from minime.core.i18n import gettext as _

DEFAULT_BUTTONS = ("warmer", "cooler", "more grain", "variation", buttons.UNDO, buttons.ANOTHER_THEME)
ENGINE_KINDS = ("classic", "diffusion", "hosted")
"""What a theme can name in ``engines``: the engines that render images (ray runs one of the first two)."""
GENERATIVE = ("diffusion", "hosted")
OPTION_NAMES = {"name": "name", "caption": "caption", "variant": "variant"}
OPTION_DESCRIPTIONS = {"name": N_("The name to print"), "caption": N_("The caption to write"),
                       "variant": N_("Which one")}
_COMMAND = r"^[a-z0-9_]{1,32}$"  # both Telegram's and Discord's rule for command names
RESERVED_COMMANDS = frozenset({"start", "help", "themes", "undo", "forget", "privacy", "verify", "stats", "status",
                               "admin"})


class _ThemeFile(BaseModel):
    """The shape of a theme file, validated when the catalogue loads (unknown top-level keys are typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    command: str | None = Field(None, pattern=_COMMAND)
    title: str = Field(min_length=1, max_length=60)
    description: str = Field("", max_length=256)
    command_description: str | None = Field(None, max_length=256)
    argument: Literal["name", "caption", "variant"] | None = None
    argument_prompt: str | None = None
    argument_required: bool = False
    option: str | None = Field(None, pattern=_COMMAND)
    option_description: str | None = Field(None, max_length=100)
    things: str | None = Field(None, max_length=100)
    variant: str | None = None
    variants: list[str] = []
    default_variant: str | None = None
    default_for_command: bool = False
    aliases: list[str] = []
    engines: list[Literal["classic", "diffusion", "hosted"]] | None = Field(None, min_length=1)
    buttons: list[str] | None = None
    classic: dict[str, Any] = {}
    palettes: list[dict[str, Any]] = []
    package: dict[str, Any] = {}
    finish: dict[str, float] = {}
    diffusion: dict[str, Any] = {}

    @model_validator(mode="after")
    def _consistent(self) -> _ThemeFile:
        command = self.command or self.id.replace("-", "")
        if command in RESERVED_COMMANDS:
            raise ValueError(f"its command /{command} is one of minime's own commands")
        if len(command) > 32:
            raise ValueError(f"its command /{command} is longer than 32 characters (set 'command')")
        for key in ("aliases", "default_for_command"):
            if key in self.classic:
                raise ValueError(f"'{key}' belongs at the top level of the file, not under [classic]")
        if self.buttons and (typos := buttons.unknown(tuple(self.buttons))):
            raise ValueError(f"it names unknown buttons {', '.join(map(repr, typos))}; "
                             f"known: {', '.join(buttons.BUTTONS)}")
        if self.default_variant and self.default_variant not in self.variants:
            raise ValueError(f"default_variant '{self.default_variant}' is not one of variants {self.variants}")
        if self.engines is not None:
            if "classic" in self.engines and not self.classic.get("recipe"):
                raise ValueError("engines names 'classic' but [classic] has no recipe")
            if set(self.engines) & set(GENERATIVE) and not self.diffusion.get("prompt"):
                raise ValueError("engines names a generative engine but [diffusion] has no prompt")
        elif not self.classic.get("recipe") and not self.diffusion.get("prompt"):
            raise ValueError("no engine can render it: give [classic] a recipe or [diffusion] a prompt")
        return self

    def served_by(self) -> tuple[str, ...]:
        """The engines named, or else every engine the file gives what it needs."""
        if self.engines is not None:
            return tuple(dict.fromkeys(self.engines))
        kinds = ("classic",) if self.classic.get("recipe") else ()
        return kinds + (GENERATIVE if self.diffusion.get("prompt") else ())


@dataclass(frozen=True)
class Theme:
    """One look minime can make, for every engine that serves it."""

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
    recipe: str | None  # the classic engine's recipe; None when the classic engine does not serve it
    classic: dict[str, Any]
    palettes: tuple[dict[str, Any], ...]
    package: dict[str, Any]
    finish: Adjustments
    diffusion: dict[str, Any]
    source: Path = field(compare=False)
    aliases: tuple[str, ...] = ()
    default_for_command: bool = False
    engines: tuple[str, ...] = ENGINE_KINDS
    command_description: str | None = None
    option: str | None = None
    option_description: str | None = None
    things: str | None = None  # what the list after "|" means for this look ("job and hobbies"), if it takes one

    def info(self) -> ThemeInfo:
        """The adapter-facing view, its words in the current user's language (core.i18n)."""
        return ThemeInfo(self.id, self.command, _(self.title), _(self.description), self.argument,
                         self.variants, self.buttons, variant=self.variant, default_variant=self.default_variant,
                         argument_required=self.argument_required, things=_(self.things) if self.things else None)

    def palette(self, index: int) -> dict[str, Any]:
        """The colour set for ``index`` (cycles, so "another background colour" always has a next one)."""
        return self.palettes[index % len(self.palettes)] if self.palettes else {}

    def prompt(self, name: str | None) -> str:
        """The diffusion prompt with the name filled in."""
        template = self.diffusion.get("prompt", self.title)
        return template.replace("{name}", name or "")

    def serves(self, engine: str | None) -> bool:
        """Whether ``engine`` (a kind in ENGINE_KINDS; None: any) can render this look."""
        return engine is None or engine in self.engines


def load_theme(path: Path) -> Theme:
    """Read one theme file. Raises ThemeFileInvalid naming the file and the reason when it is malformed."""
    try:
        data = _ThemeFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileInvalid(path.name, f"it is not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ThemeFileInvalid(path.name, "it is not UTF-8 text") from None
    except ValidationError as exc:
        raise ThemeFileInvalid(path.name, _reasons(exc)) from None
    classic = dict(data.classic)
    return Theme(
        id=data.id,
        command=data.command or data.id.replace("-", ""),
        title=data.title,
        description=data.description or data.title,
        argument=data.argument,
        argument_prompt=data.argument_prompt,
        argument_required=data.argument_required,
        variant=data.variant,
        variants=tuple(data.variants),
        default_variant=data.default_variant,
        buttons=tuple(data.buttons if data.buttons is not None else DEFAULT_BUTTONS),
        recipe=classic.pop("recipe", None),
        classic=classic,
        palettes=tuple(data.palettes),
        package=dict(data.package),
        finish=Adjustments.from_dict(data.finish),
        diffusion=dict(data.diffusion),
        source=path,
        aliases=tuple(a.lower() for a in data.aliases),
        default_for_command=data.default_for_command,
        engines=data.served_by(),
        command_description=data.command_description,
        option=data.option,
        option_description=data.option_description,
        things=data.things,
    )


def _reasons(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a theme key (a typo, or does it belong under [classic], [diffusion] or [package]?)"
        elif error["type"] == "missing":
            message = "is missing"
        parts.append(f"'{where}' {message}" if where else message)
    return "; ".join(parts)


class ThemeCatalog:
    """All themes found in a folder, addressable by id, by command, or by words in free text.

    ``engine`` is the kind of engine that renders (classic, diffusion or hosted): iterating, menus and commands show
    only the looks it can make; asking for another one raises ThemeUnavailable saying why.
    """

    def __init__(self, themes: Iterable[Theme], engine: str | None = None,
                 recipes: Iterable[str] | None = None) -> None:
        self.engine = engine
        ordered = sorted(themes, key=lambda t: t.source.name)
        self._all: dict[str, Theme] = {}
        for theme in ordered:
            if theme.id in self._all:
                raise ThemeFileInvalid(theme.source.name, f"its id '{theme.id}' is already used by "
                                                          f"{self._all[theme.id].source.name}")
            if recipes is not None and theme.recipe and theme.recipe not in set(recipes):
                raise ThemeFileInvalid(theme.source.name, f"the classic engine has no recipe '{theme.recipe}' "
                                                          f"(it has {', '.join(sorted(recipes))})")
            self._all[theme.id] = theme
        self._by_id = {k: t for k, t in self._all.items() if t.serves(engine)}
        self._by_command: dict[str, list[Theme]] = {}
        for theme in self._by_id.values():
            self._by_command.setdefault(theme.command, []).append(theme)
        self._elsewhere = {t.command: t for t in self._all.values() if t.command not in self._by_command}

    @classmethod
    def from_dir(cls, folder: Path, engine: str | None = None, recipes: Iterable[str] | None = None
                 ) -> ThemeCatalog:
        """Load every ``*.toml`` file of a folder (the looks ``engine`` cannot make are known but hidden)."""
        if not folder.is_dir():
            raise ThemeFileInvalid(str(folder), "the themes folder does not exist")
        return cls([load_theme(p) for p in sorted(folder.glob("*.toml"))], engine, recipes)

    def __iter__(self) -> Iterator[Theme]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def everything(self) -> list[Theme]:
        """Every theme file's look, the ones this engine cannot make included."""
        return list(self._all.values())

    def get(self, theme_id: str) -> Theme:
        """A theme by id (also one this engine cannot make: results keep their theme's title), or UnknownTheme."""
        try:
            return self._all[theme_id]
        except KeyError:
            raise UnknownTheme(f"I don't know the theme “{theme_id}”. Try /themes to see them all.") from None

    def usable(self, theme_id: str) -> Theme:
        """A theme this engine can make, by id; ThemeUnavailable (saying why) or UnknownTheme otherwise."""
        theme = self.get(theme_id)
        if not theme.serves(self.engine):
            raise ThemeUnavailable(self._why_not(theme))
        return theme

    def _why_not(self, theme: Theme) -> str:
        engines = f" {_('or')} ".join(theme.engines)  # "diffusion or hosted"
        if set(theme.engines) <= set(GENERATIVE):
            why = _("The {look} look needs an image-generation engine ({engines}), and this bot runs the {engine} "
                    "engine, so I can't make it here. Try /themes for the looks I can make.")
        else:
            why = _("The {look} look needs the {engines} engine, and this bot runs the {engine} engine, so I can't "
                    "make it here. Try /themes for the looks I can make.")
        return why.format(look=_(theme.title).lower(), engines=engines, engine=self.engine)

    def commands(self) -> list[str]:
        """Chat commands, one per command name, in catalogue order."""
        return list(self._by_command)

    def command_specs(self) -> list[ThemeCommand]:
        """One chat command per command name, with its option, choices and description (for menus and slash
        commands: every adapter derives its platform form from these), in the current user's language."""
        specs = []
        for command, family in self._by_command.items():
            first = family[0]
            default = next((t for t in family if t.default_for_command), first)
            option = next((t.option for t in family if t.option), None)
            option_description = next((t.option_description for t in family if t.option_description), None)
            described = next((t.command_description for t in family if t.command_description), None)
            if len(family) > 1:
                choices = tuple(t.variant or t.id for t in family)
                argument, required, chosen = "variant", False, default.variant or default.id
                description = described or f"{first.title.split()[0]} " + ", ".join(choices)
            else:
                choices, argument = first.variants, first.argument
                required, chosen = first.argument_required, first.default_variant
                description = described or first.description
            specs.append(ThemeCommand(
                command=command, description=_(description), argument=argument,
                option=option or OPTION_NAMES.get(argument or "", "variant"),
                option_description=_(option_description or OPTION_DESCRIPTIONS.get(argument or "", "Which one")),
                required=required, choices=choices, default=chosen, things=_(first.things) if first.things else None,
                theme_ids=tuple(t.id for t in family)))
        return specs

    def resolve(self, command_or_id: str, argument: str | None = None) -> tuple[Theme, str | None, str | None]:
        """Map ``/retro 80s`` or ``figurine`` + ``Alice`` to (theme, variant, name/caption)."""
        key = command_or_id.lstrip("/").lower().split("@")[0]
        argument = (argument or "").strip() or None
        if key in self._all and key not in self._by_command:
            theme = self.usable(key)
            return theme, self._variant_in(theme, argument), self._text_in(theme, argument)
        family = self._by_command.get(key)
        if not family:
            if key in self._elsewhere:
                raise ThemeUnavailable(self._why_not(self._elsewhere[key]))
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
            default = next((t for t in family if t.default_for_command), family[0])
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
        """A theme named in free text ("make it 80s", "as a polaroid"), if any (also one this engine cannot make:
        the Studio then says why it can't)."""
        words = text.lower().replace("-", " ")
        for theme in sorted(self._all.values(), key=lambda t: not t.serves(self.engine)):
            names = {theme.id.replace("-", " "), theme.command, theme.title.lower(), *theme.aliases}
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
