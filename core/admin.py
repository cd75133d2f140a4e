"""The /admin command of MINIME_ADMINS: today's usage, grants of extra images, blocks. Parsed here, run by Studio."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from minime.core.domain import UserKey
from minime.core.errors import MinimeError
from minime.core.i18n import N_
from minime.core.i18n import gettext as _

MAX_GRANT = 10_000
_TARGET = re.compile(r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9_.-]{1,96}$")

ADMIN_HELP = N_("Admin commands:\n"
              "/admin — today's usage\n"
              "/admin grant platform:id N — N more images for that user today\n"
              "/admin block platform:id — stop someone using the bot\n"
              "/admin unblock platform:id — let them back in\n"
              "(Anyone's id is in their /status.)")


class AdminSyntax(MinimeError):
    """An admin typed an /admin command we cannot read (only admins ever see this)."""

    user_message = ADMIN_HELP


@dataclass(frozen=True, slots=True)
class AdminCommand:
    """What an admin asked for."""

    action: Literal["usage", "grant", "block", "unblock"]
    target: UserKey | None = None
    images: int = 0


def parse_admin(text: str | None) -> AdminCommand:
    """``""`` → usage; ``grant telegram:42 3``; ``block discord:7``; ``unblock web:ab12``."""
    words = (text or "").split()
    if not words or words[0].lower() in ("usage", "stats", "today"):
        return AdminCommand("usage")
    action, rest = words[0].lower(), words[1:]
    if action not in ("grant", "block", "unblock") or not rest or not _TARGET.match(rest[0]):
        raise AdminSyntax()
    target = UserKey.parse(rest[0])
    if action == "grant":
        if len(rest) != 2 or not rest[1].isdigit() or not 0 < int(rest[1]) <= MAX_GRANT:
            raise AdminSyntax(_("How many images? e.g. /admin grant {target} 3 (1 to {most}).").format(
                target=target, most=MAX_GRANT))
        return AdminCommand("grant", target, int(rest[1]))
    if len(rest) != 1:
        raise AdminSyntax()
    return AdminCommand(action, target)  # type: ignore[arg-type]
