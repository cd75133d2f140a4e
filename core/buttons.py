"""The one button registry: every button a result can carry, for every adapter.

Each entry names its id (what theme files list and the web page sends), the label people see, the refinement text it
stands for, and a short code for platforms with tight limits (Telegram's 64-byte callback data, Discord's 100-char
custom ids). Adapters derive their keyboards and views from this table; adding a button is one entry here plus the
theme files that show it. Most buttons refine the picture; the figure's buttons (``sends``) send a file made from it
instead: the turning loop or the printable mesh (core/figures.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from minime.core.i18n import N_

UNDO = "undo"  # the Studio undoes instead of refining
ANOTHER_THEME = "another theme"  # the adapter shows a theme menu instead of calling the Studio
CANCEL = "cancel"  # on the status line of a queued or running job, not under results: the Studio cancels the job
TURNTABLE, MESH = "turntable", "mesh"  # what the figure's buttons send (core/figures.py)
_CODE = re.compile(r"[a-z]{1,3}")


@dataclass(frozen=True)
class Button:
    """One refinement button.

    Attributes:
        id: the stable name theme files use (``"more grain"``).
        label: what the button shows, in English (adapters show ``i18n.gettext(label)``: the user's language).
        text: the refinement it means, as a user would type it ("" for buttons the Studio or adapter handle
            themselves: undo, another theme).
        code: a short, lowercase code for platforms with tight limits on button data.
        old_codes: codes an earlier release used, still understood on buttons sent before an upgrade.
        sends: the figure file the button sends (``TURNTABLE`` or ``MESH``) instead of refining; "" for the rest.
    """

    id: str
    label: str
    text: str
    code: str
    old_codes: tuple[str, ...] = ()
    sends: str = ""


_REGISTRY = (
    Button("warmer", N_("🔥 Warmer"), "warmer", "w"),
    Button("cooler", N_("❄️ Cooler"), "cooler", "c"),
    Button("brighter", N_("☀️ Brighter"), "brighter", "b"),
    Button("more grain", N_("🎞 More grain"), "more grain", "gp", old_codes=("g+",)),
    Button("less grain", N_("✨ Less grain"), "less grain", "gm", old_codes=("g-",)),
    Button("vivid", N_("🌈 More vivid"), "more saturated", "v"),
    Button("faded", N_("📼 Faded"), "more faded", "f"),
    Button("bigger name", N_("🔠 Bigger name"), "bigger name", "np", old_codes=("n+",)),
    Button("new colours", N_("🎨 New colours"), "another background colour", "p"),
    Button("variation", N_("🎲 Variation"), "variation", "x"),
    Button(UNDO, N_("↩️ Undo"), "undo", "u"),
    Button(ANOTHER_THEME, N_("🖼 Another theme"), "", "t"),
    Button("turn", N_("🔄 Turn"), "", "tt", sends=TURNTABLE),
    Button("3d file", N_("🧊 3D file"), "", "md", sends=MESH),
    Button(CANCEL, N_("✖️ Cancel"), "", "q"),
)

BUTTONS: dict[str, Button] = {b.id: b for b in _REGISTRY}
"""Every button by id, in the order menus show them."""

_BY_CODE: dict[str, Button] = {code: b for b in _REGISTRY for code in (b.code, *b.old_codes)}

if len(_BY_CODE) != sum(1 + len(b.old_codes) for b in _REGISTRY) or not all(
        _CODE.fullmatch(b.code) for b in _REGISTRY):
    raise RuntimeError("button codes must be unique, lowercase and at most 3 letters")


def by_code(code: str) -> Button | None:
    """The button a short code (current or from an earlier release) stands for."""
    return _BY_CODE.get(code)


def unknown(ids: Iterable[str]) -> list[str]:
    """The ids in ``ids`` that are not buttons (a theme file's typos)."""
    return [i for i in ids if i not in BUTTONS]


def known(ids: Iterable[str]) -> list[Button]:
    """The buttons for ``ids``, in the given order."""
    return [BUTTONS[i] for i in ids if i in BUTTONS]
