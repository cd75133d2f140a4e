"""Typed errors. Each carries a message a person can read; adapters show it as it is.

``user_message`` reads in the language of the user being answered (core.i18n): a subclass's ``user_message = N_(...)``
is the English text and its catalogue key, translated each time it is read; a message given to the constructor is
translated the same way when a catalogue has it (a theme's prompt), and is used as it is otherwise (already built
from translated words, e.g. QuotaExceeded's).
"""

from __future__ import annotations

from typing import Any

from minime.core.i18n import N_, gettext, ngettext
from minime.core.i18n import gettext as _
from minime.core.quotas import duration_words


class _Translated:
    """A class's ``user_message``: its English text, read in the current user's language."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __get__(self, instance: Any, owner: type) -> str:
        given = instance.__dict__.get("_given") if instance is not None else None
        return gettext(given or self.text)


class MinimeError(Exception):
    """Base of every error a user may be told about."""

    user_message = N_("Something went wrong. Please try again.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        text = cls.__dict__.get("user_message")
        if isinstance(text, str):
            cls.user_message = _Translated(text)  # type: ignore[assignment]

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(user_message or self.user_message)
        if user_message:
            self._given = user_message

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "user_message":  # a subclass that sets its message after construction
            name = "_given"
        super().__setattr__(name, value)


class UnsupportedImage(MinimeError):
    """Not an image, or a format we do not take."""

    user_message = N_("I can't read that file as a photo. Please send a JPEG, PNG, WebP or HEIC selfie.")


class CorruptImage(UnsupportedImage):
    """Looks like an image but is broken or truncated."""

    user_message = N_("That photo seems to be damaged or cut off. Could you send it again?")


class ImageTooLarge(MinimeError):
    """Over the byte or pixel caps (also decompression bombs)."""

    user_message = N_("That photo is too large for me. Please send one under 20 MB and 40 megapixels.")


class ImageTooSmall(MinimeError):
    """Too few pixels to make anything of."""

    user_message = N_("That photo is very small. Please send a selfie of at least 64×64 pixels.")


class NoSelfie(MinimeError):
    """A theme was asked for before any selfie arrived (or it expired)."""

    user_message = N_("Send me a selfie first, and I'll run that as soon as it arrives.")


class ArgumentRequired(MinimeError):
    """A theme needs an argument (a name) that was not given."""

    user_message = N_("What name should go on it? Just type it.")


class UnknownTheme(MinimeError):
    """No theme of that name."""

    user_message = N_("I don't know that theme. Try /themes to see them all.")


class ThemeUnavailable(MinimeError):
    """A look this deployment's engine cannot make (a generative-only look on the classic engine)."""

    user_message = N_("This bot's engine can't make that look. Try /themes for the ones it can.")


class ThemeFileInvalid(MinimeError, ValueError):
    """A theme file that cannot be used; raised while the catalogue loads, so minime does not start with it."""

    def __init__(self, file_name: str, reason: str) -> None:
        super().__init__(f"theme file {file_name} is malformed: {reason}")
        self.file_name, self.reason = file_name, reason


class UnknownRefinement(MinimeError):
    """Free text the refinement vocabulary does not cover."""

    user_message = N_("I didn't get that.")


class NothingToRefine(MinimeError):
    """A refinement with no earlier result."""

    user_message = N_("There's nothing to refine yet. Send a selfie and pick a theme, e.g. /figurine YourName.")


class NothingToUndo(MinimeError):
    """Undo at the first result."""

    user_message = N_("There's nothing earlier to go back to.")


class ResultNotFound(MinimeError):
    """A result id that is unknown, expired, forgotten, or someone else's."""

    user_message = N_("I can't find that image any more. It may have expired or been deleted.")


class NotYours(ResultNotFound):
    """A picture made for someone else (a group member's): its buttons and refinements answer only its owner."""

    user_message = N_("This picture belongs to someone else — send your own selfie to make one!")


class NotAllowed(MinimeError):
    """The operator has not allowed this user."""

    user_message = N_("Sorry, this bot isn't available to you.")


class AdminOnly(NotAllowed):
    """Someone who is not in MINIME_ADMINS tried /admin; the answer says nothing about what it does."""

    user_message = N_("Sorry, that's not something I can do for you.")


class UnsafeOutput(MinimeError):
    """The generated image failed the safety check and was not sent."""

    user_message = N_("I made an image that my safety check flagged, so I didn't send it. "
                    "Please try another photo or theme.")


class Busy(MinimeError):
    """The user already has a job queued or running."""

    user_message = N_("I'm still working on your last image. One at a time, please!")


class QuotaExceeded(MinimeError):
    """A limit on images is reached: the short-term rate limit (``scope`` "rate"), or a daily quota of the user
    ("user") or of the group chat / server channel ("chat"). No picture is made; ``retry_after_s`` says when it
    resets."""

    user_message = N_("You've made a lot of images! Please take a short break and try again in a few minutes.")

    def __init__(self, retry_after_s: float, *, scope: str = "rate", limit: int = 0, granted: int = 0) -> None:
        if scope == "rate":
            minutes = max(1, round(retry_after_s / 60))
            message = ngettext("You've made a lot of images! Please try again in about {n} minute.",
                               "You've made a lot of images! Please try again in about {n} minutes.",
                               minutes).format(n=minutes)
        else:
            total = limit + granted
            if scope == "user":
                whose = ngettext("You've had all {n} of your images for today.",
                                 "You've had all {n} of your images for today.", total)
                rule = (ngettext("The daily limit is {n} image per person, plus {granted} granted today.",
                                 "The daily limit is {n} images per person, plus {granted} granted today.", limit)
                        if granted else ngettext("The daily limit is {n} image per person.",
                                                 "The daily limit is {n} images per person.", limit))
            else:
                whose = ngettext("This chat has had all {n} of its images for today.",
                                 "This chat has had all {n} of its images for today.", total)
                rule = (ngettext("The daily limit is {n} image per group, plus {granted} granted today.",
                                 "The daily limit is {n} images per group, plus {granted} granted today.", limit)
                        if granted else ngettext("The daily limit is {n} image per group.",
                                                 "The daily limit is {n} images per group.", limit))
            parts = [whose.format(n=total), rule.format(n=limit, granted=granted)]
            parts.append(_("It resets at midnight UTC, in {duration}. Refinements that only change colours or grain "
                           "are still free.").format(duration=duration_words(retry_after_s)))
            message = " ".join(parts)
        super().__init__(message)
        self.retry_after_s, self.scope, self.limit = retry_after_s, scope, limit


class EngineFailed(MinimeError):
    """The engine crashed, timed out or refused; the reason is already human."""

    user_message = N_("Sorry, rendering that image failed. Please try again.")


class WorkerLost(EngineFailed):
    """The machine or process rendering the job went away; the job may be run again."""

    user_message = N_("The machine making your image stopped before it was done, several times. Please try again.")


class StorageFull(MinimeError):
    """The disk (or quota) is full: nothing could be saved."""

    user_message = N_("Sorry, I'm out of storage space right now, so I couldn't save that. Please try again later.")


class ShareExceeded(QuotaExceeded):
    """A member had their share of a group's daily images (``MINIME_CHAT_MEMBER_SHARE``): the rest is kept for the
    group's other members."""

    def __init__(self, retry_after_s: float, *, limit: int = 0, granted: int = 0) -> None:
        super().__init__(retry_after_s, scope="member", limit=limit, granted=granted)
        self.user_message = _("You've had your share of this group's images for today ({count}), so the others get "
                              "some too. Your share comes back at midnight UTC, in {duration} — or ask me in a "
                              "private chat.").format(count=limit + granted, duration=duration_words(retry_after_s))


class NothingToCancel(MinimeError):
    """/cancel or a Cancel button when the job is no longer queued or running (or there is none)."""

    user_message = N_("There's nothing of yours to cancel — it's already finished (or was never started).")


class NotYourJob(MinimeError):
    """A group member pressed the Cancel button of someone else's image."""

    user_message = N_("Only the person who asked for this image can cancel it — but you can ask for your own!")


class FigureBusy(Busy):
    """A figure file (turntable, mesh) of the user is being made: one at a time per user."""

    user_message = N_("🔄 Your figure's file is already on its way — it comes in a few seconds. One at a time, "
                      "please!")


class FigureTooLarge(MinimeError):
    """A figure file is larger than the platform takes, even made smaller."""

    user_message = N_("Sorry, that file came out too large to send here.")


class NoFigure(MinimeError):
    """A turntable or 3D file asked of a look without a 3D figure (a retro look), or of a photo that cannot give
    one (no face to build it from)."""

    user_message = N_("This look has no 3D figure: try /figurine, /actionfigure, /deskfigure, /caricature or "
                      "/miniature, then tap 🔄 Turn or 🧊 3D file.")


MinimeError.user_message = _Translated(MinimeError.__dict__["user_message"])  # type: ignore[assignment]
