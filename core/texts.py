"""Words every adapter shows the same way: help, privacy, and how events read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minime.core.domain import ThemeInfo, UserKey
from minime.core.errors import ArgumentRequired, NoSelfie
from minime.core.quotas import Allowance, duration_words
from minime.core.refine import UNDERSTOOD
from minime.core.settings import Settings

if TYPE_CHECKING:
    from minime.core.outcomes import QueueStatus
    from minime.core.store.db import DayUsage


def theme_usage(theme: ThemeInfo) -> str:
    """``/figurine [name]``-style usage of a theme command."""
    if theme.argument in ("name", "caption"):
        return f"/{theme.command} [{theme.argument}]" + (f" | {theme.things}" if theme.things else "")
    if theme.variants:
        return f"/{theme.command} [{'|'.join(theme.variants)}]"
    return f"/{theme.command}"


def themes_list(themes: list[ThemeInfo]) -> list[str]:
    """One line per command (themes sharing a command, like /retro 70s|80s|90s, share a line)."""
    lines, seen = [], {}
    for theme in themes:
        if theme.command in seen:
            continue
        family = [t for t in themes if t.command == theme.command]
        if len(family) > 1:
            variants = "|".join(t.variant or t.id for t in family)
            lines.append(f"/{theme.command} [{variants}] — " + "; ".join(t.description for t in family))
        else:
            lines.append(f"{theme_usage(theme)} — {theme.description}")
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
    return (f"Heads-up: I make images with {service}'s image model, so your selfie is sent to {service} each time "
            "you ask for a picture (never otherwise). /privacy says more.")


def help_text(themes: list[ThemeInfo], settings: Settings | None = None) -> str:
    """What minime does and how to use it (and, with the settings, where photos go)."""
    notice = hosted_notice(settings) if settings is not None else None
    return "\n".join([
        "Hi! I'm minime. Send me a selfie and pick a look:",
        "",
        *themes_list(themes),
        "",
        f"Then tell me how to refine it — I understand {UNDERSTOOD}.",
        "Tap the buttons under an image, or reply to an image with text like “warmer colors”.",
        "/undo goes back one step, /themes shows every look, /privacy says what I keep, /forget deletes it all.",
        "/verify tells whether I made an image (every image I make carries an invisible mark and says it's "
        "AI-made in its metadata); /stats shows your images and the energy they took.",
        *(["", notice] if notice else []),
    ])


def privacy_text(settings: Settings) -> str:
    """What is kept, for how long, where photos go, and how to delete it."""
    kept = (f"Your selfie is stored without its metadata (no location) for {settings.selfie_ttl_hours:g} hours, "
            f"then deleted. The images I make for you are kept for {settings.result_ttl_hours / 24:g} days so you "
            "can refine and undo.")
    service = photos_go_to(settings)
    if service is None:
        return (f"{kept} Nothing is shared or used for training. /forget deletes everything of yours now (only "
                "the count of today's images stays until the day is over, so daily limits hold).")
    return (f"{kept} To draw them I use {service}'s image model: each time you ask for a picture, your selfie "
            f"(or, for a change you type, the image being changed) is sent to {service}, and only then. {service}'s "
            "terms decide what it keeps; nothing is shared with anyone else. /forget deletes everything of yours "
            "here now (not copies the provider may keep).")


def queued_text(position: int, eta_s: float) -> str:
    """A queue position for people."""
    if position <= 1:
        return "You're next — starting in a moment…"
    return f"You're number {position} in the queue (about {max(1, round(eta_s))} s)…"


def rendering_text(percent: int, waiting_for: str | None = None) -> str:
    """Render progress for people (or that a hosted model is being waited on)."""
    if waiting_for:
        return f"Waiting for the image model at {waiting_for}… (this can take a minute)"
    return f"Making your image… {percent}%"


# ---- what every chat adapter says the same way --------------------------------------------------------------------

ON_IT = "⏳ On it…"
CHECKING_SELFIE = "📥 Got it — checking your selfie…"
CHECKING_IMAGE = "🔎 Checking that image…"
BACK_ONE_STEP = "↩️ Back one step."
WHICH_LOOK = "Which look?"
REFINE_HINT = "Reply to this picture to refine it — e.g. “warmer colors”, “more grain”, “bigger name”."
FORGET_CONFIRM = "This deletes your selfie and every image I made for you. Sure?"
FORGET_YES, FORGET_NO = "Yes, delete everything", "Keep it"
FORGOTTEN = "Done: I've deleted your selfie and every image I made for you."
NOT_FORGOTTEN = "Nothing was deleted."
SORRY = "Sorry, something went wrong on my side. Please try again."
CANCELLED = "✖️ Cancelled — no image, and it doesn't count towards today's images."
CANCELLING = "Cancelling…"
SENT_PRIVATELY = "I've sent you the answer in a private message."
OPEN_PRIVATE_CHAT = "I can't message you privately yet: open a chat with me and press Start, then ask again."


def selfie_received(job_started: bool, next_step: str) -> str:
    """The answer to a stored selfie: the waiting request runs now, or what to do next (per platform)."""
    return "Got your selfie! " + ("Making the look you asked for…" if job_started else next_step)


def result_caption(title: str, name: str | None, notes: tuple[str, ...], *, bold: str = "") -> str:
    """The caption under a result: its look and name, the engine's notes, and how to refine it.

    Args:
        title: the theme's title.
        name: the name or caption on the picture, if any.
        notes: the engine's and checks' notes for this result.
        bold: the platform's bold marker ("**" on Discord), around the title.
    """
    return "\n".join([f"✨ {bold}{title}{bold}" + (f" — {name}" if name else ""), *notes, REFINE_HINT])


def failed_text(reason: str) -> str:
    """A job's failure for people."""
    return f"😕 {reason}"


def status_text(position: int, eta_s: float, active: bool) -> str:
    """The /status answer: a queue place, work in progress, or nothing."""
    if position:
        return queued_text(position, eta_s)
    return "Working on your image…" if active else "Nothing in progress. Send a selfie and pick a look!"


def allowance_text(allowance: Allowance) -> str:
    """Images left today, for /status ("" when nothing is limited)."""
    lines = []
    if allowance.images_left is not None:
        lines.append(f"Images left for you today: {allowance.images_left}.")
    if allowance.chat_images_left is not None:
        lines.append(f"Images left for this group today: {allowance.chat_images_left}.")
    if allowance.share_left is not None:
        lines.append(f"Your share of them: {allowance.share_left}.")
    if lines:
        lines.append(f"Quotas reset at midnight UTC (in {duration_words(allowance.resets_in_s)}).")
    return " ".join(lines)


def status_reply(status: QueueStatus, user: UserKey, chat: str | None = None) -> str:
    """/status: where the user's image stands, what is left today, and the user's id (for an admin's grant), and in
    a group the group's id too."""
    lines = [status_text(status.position, status.eta_s, status.job is not None)]
    if status.allowance is not None:
        lines.append(allowance_text(status.allowance) or "No daily limit on images.")
    lines.append(f"Your id: {user}")
    if chat:
        lines.append(f"This group's id: {chat}")
    return "\n".join(line for line in lines if line)


def admin_usage_text(usage: DayUsage, queued: int, running: int, settings: Settings) -> str:
    """/admin: today's usage at a glance."""
    def limit(n: int) -> str:
        return str(n) if n else "unlimited"

    return "\n".join([
        "Today (UTC):",
        f"Images: {usage.images} for {usage.users} user{'s' if usage.users != 1 else ''}"
        f" ({usage.chats} group chat{'s' if usage.chats != 1 else ''})",
        f"Queue: {queued} waiting, {running} rendering",
        f"Energy: {usage.energy_wh:.2f} Wh",
        f"Daily quota: {limit(settings.daily_quota)} per user, {limit(settings.chat_daily_quota)} per group",
        "/admin grant platform:id N · /admin block platform:id · /admin unblock platform:id",
    ])


def granted_text(target: UserKey, images: int, allowance: Allowance, *, chat: bool = False) -> str:
    """The answer to /admin grant (to a user, or to a group chat or channel)."""
    if chat:
        left = "" if allowance.chat_images_left is None else f" It has {allowance.chat_images_left} left today."
        return f"Granted {images} more image{'s' if images != 1 else ''} to the group {target} for today.{left}"
    left = "" if allowance.images_left is None else f" They have {allowance.images_left} left today."
    return f"Granted {images} more image{'s' if images != 1 else ''} to {target} for today.{left}"


def blocked_text(target: UserKey, done: bool) -> str:
    """The answer to /admin block."""
    return f"{target} is blocked now." if done else f"{target} was already blocked."


def unblocked_text(target: UserKey, done: bool, still_denied: bool) -> str:
    """The answer to /admin unblock."""
    text = f"{target} is unblocked." if done else f"{target} wasn't blocked."
    if still_denied:
        text += " They are still in MINIME_DENY_USERS, which only the operator's configuration can change."
    return text


def group_intro_text(bot_username: str | None) -> str:
    """What the bot says when it is added to a group."""
    at = f"@{bot_username}" if bot_username else "me"
    return ("Hi everyone, I'm minime! I turn selfies into collectible figurines, action figures and retro photos. "
            f"Send a photo with a command as its caption (e.g. /figurine Ada), or mention {at}. "
            "Everyone gets their own pictures; reply to one of mine to refine it. /help shows every look.")



NOT_YOUR_BUTTON = "These buttons are for the person who asked — send your own command to get yours!"
"""The note a group member gets for someone else's confirmation buttons."""


def group_hint(error: Exception) -> str:
    """What to add to a question asked in a group, where minime only hears replies to it (and mentions of it)."""
    if isinstance(error, NoSelfie):
        return " Reply to this message with your photo, or send it with the command as its caption."
    if isinstance(error, ArgumentRequired):
        return " Reply to this message with it."
    return ""


# ---- the figure's files (🔄 Turn, 🧊 3D file) ------------------------------------------------------------------

MAKING_TURNTABLE = "🔄 Making your figure turn… (a few seconds)"
MAKING_MESH = "🧊 Making your figure's 3D file… (a few seconds)"
FIGURE_FILE_TOO_LARGE = "Sorry, that file came out too large to send here."


def figure_caption(kind: str, title: str, height_mm: float = 100.0) -> str:
    """The caption of a figure's turntable (``kind`` "turntable") or 3D file ("mesh")."""
    if kind == "turntable":
        return f"🔄 Your {title.lower()}, turning."
    return (f"🧊 Your {title.lower()} as a 3D file ({height_mm:g} mm tall, one watertight solid): open it in any 3D "
            "viewer, or in a slicer to print it.")
