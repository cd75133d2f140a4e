"""Words every adapter shows the same way: help, privacy, and how events read.

Every text reads in the language of the user being answered (core.i18n: ``_`` and ``ngettext`` here, ``N_`` for
constants, which adapters show as ``_(texts.ON_IT)``); names and captions users typed are inserted as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minime.core import i18n
from minime.core.domain import ThemeInfo, UserKey
from minime.core.errors import ArgumentRequired, NoSelfie
from minime.core.i18n import N_, ngettext
from minime.core.i18n import gettext as _
from minime.core.quotas import Allowance, duration_words
from minime.core.refine import UNDERSTOOD
from minime.core.settings import Settings

if TYPE_CHECKING:
    from minime.core.outcomes import QueueStatus
    from minime.core.store.db import DayUsage


def theme_usage(theme: ThemeInfo) -> str:
    """``/figurine [name]``-style usage of a theme command."""
    if theme.argument in ("name", "caption"):
        argument = _("name") if theme.argument == "name" else _("caption")
        return f"{i18n.LTR_MARK}/{theme.command} [{argument}]" + (f" | {_(theme.things)}" if theme.things else "")
    if theme.variants:
        return f"{i18n.LTR_MARK}/{theme.command} [{'|'.join(theme.variants)}]"
    return f"{i18n.LTR_MARK}/{theme.command}"


def themes_list(themes: list[ThemeInfo]) -> list[str]:
    """One line per command (themes sharing a command, like /retro 70s|80s|90s, share a line)."""
    lines, seen = [], {}
    for theme in themes:
        if theme.command in seen:
            continue
        family = [t for t in themes if t.command == theme.command]
        if len(family) > 1:
            variants = "|".join(t.variant or t.id for t in family)
            lines.append(f"{i18n.LTR_MARK}/{theme.command} [{variants}] — "
                         + "; ".join(_(t.description) for t in family))
        else:
            lines.append(f"{theme_usage(theme)} — {_(theme.description)}")
        seen[theme.command] = True
    return lines


def photos_go_to(settings: Settings) -> str | None:
    """Where selfies are sent to be drawn (a hosted model's service), or None when they never leave this server."""
    if settings.engine != "hosted":
        return None
    from minime.core.engines.hosted import service_name

    return service_name(settings)


def hosted_notice(settings: Settings) -> str | None:
    """The sentence that tells people their photos go to a named provider (None when they stay here)."""
    service = photos_go_to(settings)
    if service is None:
        return None
    return _("Heads-up: I make images with {service}'s image model, so your selfie is sent to {service} each time "
             "you ask for a picture (never otherwise). /privacy says more.").format(service=service)


def help_text(themes: list[ThemeInfo], settings: Settings | None = None) -> str:
    """What minime does and how to use it (and, with the settings, where photos go)."""
    notice = hosted_notice(settings) if settings is not None else None
    return "\n".join([
        _("Hi! I'm minime. Send me a selfie and pick a look:"),
        "",
        *themes_list(themes),
        "",
        _("Then tell me how to refine it — I understand {understood}.").format(understood=_(UNDERSTOOD)),
        _("Tap the buttons under an image, or reply to an image with text like “warmer colors”."),
        _("/undo goes back one step, /themes shows every look, /privacy says what I keep, /forget deletes it all."),
        _("/verify tells whether I made an image (every image I make carries an invisible mark and says it's "
          "AI-made in its metadata); /stats shows your images and the energy they took."),
        *(["", notice] if notice else []),
    ])


def privacy_text(settings: Settings) -> str:
    """What is kept, for how long, where photos go, and how to delete it."""
    kept = _("Your selfie is stored without its metadata (no location) for {hours} hours, then deleted. The images "
             "I make for you are kept for {days} days so you can refine and undo.").format(
        hours=f"{settings.selfie_ttl_hours:g}", days=f"{settings.result_ttl_hours / 24:g}")
    service = photos_go_to(settings)
    if service is None:
        return kept + " " + _("Nothing is shared or used for training. /forget deletes everything of yours now (only "
                              "the count of today's images stays until the day is over, so daily limits hold).")
    return kept + " " + _("To draw them I use {service}'s image model: each time you ask for a picture, your selfie "
                          "(or, for a change you type, the image being changed) is sent to {service}, and only then. "
                          "{service}'s terms decide what it keeps; nothing is shared with anyone else. /forget "
                          "deletes everything of yours here now (not copies the provider may keep).").format(
        service=service)


def queued_text(position: int, eta_s: float) -> str:
    """A queue position for people."""
    if position <= 1:
        return _("You're next — starting in a moment…")
    return _("You're number {position} in the queue (about {seconds} s)…").format(position=position,
                                                                                  seconds=max(1, round(eta_s)))


def rendering_text(percent: int, waiting_for: str | None = None) -> str:
    """Render progress for people (or that a hosted model is being waited on)."""
    if waiting_for:
        return _("Waiting for the image model at {service}… (this can take a minute)").format(service=waiting_for)
    return _("Making your image… {percent}%").format(percent=percent)


# ---- what every chat adapter says the same way --------------------------------------------------------------------

# Constants are English (and their catalogue keys): show them as _(texts.ON_IT).
ON_IT = N_("⏳ On it…")
CHECKING_SELFIE = N_("📥 Got it — checking your selfie…")
CHECKING_IMAGE = N_("🔎 Checking that image…")
BACK_ONE_STEP = N_("↩️ Back one step.")
WHICH_LOOK = N_("Which look?")
REFINE_HINT = N_("Reply to this picture to refine it — e.g. “warmer colors”, “more grain”, “bigger name”.")
FORGET_CONFIRM = N_("This deletes your selfie and every image I made for you. Sure?")
FORGET_YES, FORGET_NO = N_("Yes, delete everything"), N_("Keep it")
FORGOTTEN = N_("Done: I've deleted your selfie and every image I made for you.")
NOT_FORGOTTEN = N_("Nothing was deleted.")
SORRY = N_("Sorry, something went wrong on my side. Please try again.")
CANCELLED = N_("✖️ Cancelled — no image, and it doesn't count towards today's images.")
CANCELLING = N_("Cancelling…")
SENT_PRIVATELY = N_("I've sent you the answer in a private message.")
OPEN_PRIVATE_CHAT = N_("I can't message you privately yet: open a chat with me and press Start, then ask again.")


def selfie_received(job_started: bool, next_step: str) -> str:
    """The answer to a stored selfie: the waiting request runs now, or what to do next (per platform)."""
    return _("Got your selfie!") + " " + (_("Making the look you asked for…") if job_started else _(next_step))


def result_caption(title: str, name: str | None, notes: tuple[str, ...], *, bold: str = "") -> str:
    """The caption under a result: its look and name, the engine's notes, and how to refine it.

    Args:
        title: the theme's title.
        name: the name or caption on the picture, if any.
        notes: the engine's and checks' notes for this result.
        bold: the platform's bold marker ("**" on Discord), around the title.
    """
    return "\n".join([f"✨ {bold}{_(title)}{bold}" + (f" — {name}" if name else ""), *map(_, notes), _(REFINE_HINT)])


def failed_text(reason: str) -> str:
    """A job's failure for people."""
    return f"😕 {_(reason)}"


def status_text(position: int, eta_s: float, active: bool) -> str:
    """The /status answer: a queue place, work in progress, or nothing."""
    if position:
        return queued_text(position, eta_s)
    return _("Working on your image…") if active else _("Nothing in progress. Send a selfie and pick a look!")


def allowance_text(allowance: Allowance) -> str:
    """Images left today, for /status ("" when nothing is limited)."""
    lines = []
    if allowance.images_left is not None:
        lines.append(_("Images left for you today: {count}.").format(count=allowance.images_left))
    if allowance.chat_images_left is not None:
        lines.append(_("Images left for this group today: {count}.").format(count=allowance.chat_images_left))
    if allowance.share_left is not None:
        lines.append(_("Your share of them: {count}.").format(count=allowance.share_left))
    if lines:
        lines.append(_("Quotas reset at midnight UTC (in {duration}).").format(
            duration=duration_words(allowance.resets_in_s)))
    return " ".join(lines)


def status_reply(status: QueueStatus, user: UserKey, chat: str | None = None) -> str:
    """/status: where the user's image stands, what is left today, and the user's id (for an admin's grant), and in
    a group the group's id too."""
    lines = [status_text(status.position, status.eta_s, status.job is not None)]
    if status.allowance is not None:
        lines.append(allowance_text(status.allowance) or _("No daily limit on images."))
    lines.append(_("Your id: {id}").format(id=user))
    if chat:
        lines.append(_("This group's id: {id}").format(id=chat))
    return "\n".join(line for line in lines if line)


def admin_usage_text(usage: DayUsage, queued: int, running: int, settings: Settings) -> str:
    """/admin: today's usage at a glance."""
    def limit(n: int) -> str:
        return str(n) if n else _("unlimited")

    return "\n".join([
        _("Today (UTC):"),
        _("Images: {images} for {users} ({chats})").format(
            images=usage.images,
            users=ngettext("{n} user", "{n} users", usage.users).format(n=usage.users),
            chats=ngettext("{n} group chat", "{n} group chats", usage.chats).format(n=usage.chats)),
        _("Queue: {queued} waiting, {running} rendering").format(queued=queued, running=running),
        _("Energy: {wh} Wh").format(wh=f"{usage.energy_wh:.2f}"),
        _("Daily quota: {user} per user, {group} per group").format(user=limit(settings.daily_quota),
                                                                    group=limit(settings.chat_daily_quota)),
        "/admin grant platform:id N · /admin block platform:id · /admin unblock platform:id",
    ])


def granted_text(target: UserKey, images: int, allowance: Allowance, *, chat: bool = False) -> str:
    """The answer to /admin grant (to a user, or to a group chat or channel)."""
    if chat:
        granted = ngettext("Granted {n} more image to the group {target} for today.",
                           "Granted {n} more images to the group {target} for today.", images)
        left = allowance.chat_images_left
        still = _("It has {count} left today.")
    else:
        granted = ngettext("Granted {n} more image to {target} for today.",
                           "Granted {n} more images to {target} for today.", images)
        left = allowance.images_left
        still = _("They have {count} left today.")
    granted = granted.format(n=images, target=target)
    return granted if left is None else granted + " " + still.format(count=left)


def blocked_text(target: UserKey, done: bool) -> str:
    """The answer to /admin block."""
    return (_("{target} is blocked now.") if done else _("{target} was already blocked.")).format(target=target)


def unblocked_text(target: UserKey, done: bool, still_denied: bool) -> str:
    """The answer to /admin unblock."""
    text = (_("{target} is unblocked.") if done else _("{target} wasn't blocked.")).format(target=target)
    if still_denied:
        text += " " + _("They are still in MINIME_DENY_USERS, which only the operator's configuration can change.")
    return text


def group_intro_text(bot_username: str | None) -> str:
    """What the bot says when it is added to a group."""
    if bot_username:
        how = _("Send a photo with a command as its caption (e.g. /figurine Ada), or mention {at}.").format(
            at=f"@{bot_username}")
    else:
        how = _("Send a photo with a command as its caption (e.g. /figurine Ada), or mention me.")
    return " ".join([_("Hi everyone, I'm minime! I turn selfies into collectible figurines, action figures and retro "
                       "photos."), how,
                     _("Everyone gets their own pictures; reply to one of mine to refine it. /help shows every look.")])



NOT_YOUR_BUTTON = N_("These buttons are for the person who asked — send your own command to get yours!")
"""The note a group member gets for someone else's confirmation buttons."""


def group_hint(error: Exception) -> str:
    """What to add to a question asked in a group, where minime only hears replies to it (and mentions of it)."""
    if isinstance(error, NoSelfie):
        return " " + _("Reply to this message with your photo, or send it with the command as its caption.")
    if isinstance(error, ArgumentRequired):
        return " " + _("Reply to this message with it.")
    return ""


# ---- the figure's files (🔄 Turn, 🧊 3D file) ------------------------------------------------------------------

MAKING_TURNTABLE = N_("🔄 Making your figure turn… (a few seconds)")
MAKING_MESH = N_("🧊 Making your figure's 3D file… (a few seconds)")
FIGURE_FILE_TOO_LARGE = N_("Sorry, that file came out too large to send here.")


def figure_caption(kind: str, title: str, height_mm: float = 100.0) -> str:
    """The caption of a figure's turntable (``kind`` "turntable") or 3D file ("mesh"), in the user's language."""
    if kind == "turntable":
        return _("🔄 Your {look}, turning.").format(look=_(title).lower())
    return _("🧊 Your {look} as a 3D file ({height:g} mm tall, one watertight solid): open it in any 3D viewer, or in "
             "a slicer to print it.").format(look=_(title).lower(), height=height_mm)
