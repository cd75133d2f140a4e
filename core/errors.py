"""Typed errors. Each carries a message a person can read; adapters show it as it is."""

from __future__ import annotations

from minime.core.quotas import duration_words


class MinimeError(Exception):
    """Base of every error a user may be told about."""

    user_message = "Something went wrong. Please try again."

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(user_message or self.user_message)
        if user_message:
            self.user_message = user_message


class UnsupportedImage(MinimeError):
    """Not an image, or a format we do not take."""

    user_message = "I can't read that file as a photo. Please send a JPEG, PNG, WebP or HEIC selfie."


class CorruptImage(UnsupportedImage):
    """Looks like an image but is broken or truncated."""

    user_message = "That photo seems to be damaged or cut off. Could you send it again?"


class ImageTooLarge(MinimeError):
    """Over the byte or pixel caps (also decompression bombs)."""

    user_message = "That photo is too large for me. Please send one under 20 MB and 40 megapixels."


class ImageTooSmall(MinimeError):
    """Too few pixels to make anything of."""

    user_message = "That photo is very small. Please send a selfie of at least 64×64 pixels."


class NoSelfie(MinimeError):
    """A theme was asked for before any selfie arrived (or it expired)."""

    user_message = "Send me a selfie first, and I'll run that as soon as it arrives."


class ArgumentRequired(MinimeError):
    """A theme needs an argument (a name) that was not given."""

    user_message = "What name should go on it? Just type it."


class UnknownTheme(MinimeError):
    """No theme of that name."""

    user_message = "I don't know that theme. Try /themes to see them all."


class ThemeUnavailable(MinimeError):
    """A look this deployment's engine cannot make (a generative-only look on the classic engine)."""

    user_message = "This bot's engine can't make that look. Try /themes for the ones it can."


class ThemeFileInvalid(MinimeError, ValueError):
    """A theme file that cannot be used; raised while the catalogue loads, so minime does not start with it."""

    def __init__(self, file_name: str, reason: str) -> None:
        super().__init__(f"theme file {file_name} is malformed: {reason}")
        self.file_name, self.reason = file_name, reason


class UnknownRefinement(MinimeError):
    """Free text the refinement vocabulary does not cover."""

    user_message = "I didn't get that."


class NothingToRefine(MinimeError):
    """A refinement with no earlier result."""

    user_message = "There's nothing to refine yet. Send a selfie and pick a theme, e.g. /figurine YourName."


class NothingToUndo(MinimeError):
    """Undo at the first result."""

    user_message = "There's nothing earlier to go back to."


class ResultNotFound(MinimeError):
    """A result id that is unknown, expired, forgotten, or someone else's."""

    user_message = "I can't find that image any more. It may have expired or been deleted."


class NotYours(ResultNotFound):
    """A picture made for someone else (a group member's): its buttons and refinements answer only its owner."""

    user_message = "This picture belongs to someone else — send your own selfie to make one!"


class NotAllowed(MinimeError):
    """The operator has not allowed this user."""

    user_message = "Sorry, this bot isn't available to you."


class AdminOnly(NotAllowed):
    """Someone who is not in MINIME_ADMINS tried /admin; the answer says nothing about what it does."""

    user_message = "Sorry, that's not something I can do for you."


class UnsafeOutput(MinimeError):
    """The generated image failed the safety check and was not sent."""

    user_message = ("I made an image that my safety check flagged, so I didn't send it. "
                    "Please try another photo or theme.")


class Busy(MinimeError):
    """The user already has a job queued or running."""

    user_message = "I'm still working on your last image. One at a time, please!"


class QuotaExceeded(MinimeError):
    """A limit on images is reached: the short-term rate limit (``scope`` "rate"), or a daily quota of the user
    ("user") or of the group chat / server channel ("chat"). No picture is made; ``retry_after_s`` says when it
    resets."""

    user_message = "You've made a lot of images! Please take a short break and try again in a few minutes."

    def __init__(self, retry_after_s: float, *, scope: str = "rate", limit: int = 0, granted: int = 0) -> None:
        if scope == "rate":
            minutes = max(1, round(retry_after_s / 60))
            message = (f"You've made a lot of images! Please try again in about {minutes} "
                       f"minute{'s' if minutes > 1 else ''}.")
        else:
            whose = ("You've had all {n} of your images for today" if scope == "user" else
                     "This chat has had all {n} of its images for today")
            rule = "per person" if scope == "user" else "per group"
            extra = f", plus {granted} granted today" if granted else ""
            message = (whose.format(n=limit + granted) + f" (the daily limit is {limit} {rule}{extra}). "
                       "It resets at midnight UTC, "
                       f"in {duration_words(retry_after_s)}. Refinements that only change colours or grain are still "
                       "free.")
        super().__init__(message)
        self.retry_after_s, self.scope, self.limit = retry_after_s, scope, limit


class EngineFailed(MinimeError):
    """The engine crashed, timed out or refused; the reason is already human."""

    user_message = "Sorry, rendering that image failed. Please try again."


class WorkerLost(EngineFailed):
    """The machine or process rendering the job went away; the job may be run again."""

    user_message = "The machine making your image stopped before it was done, several times. Please try again."


class StorageFull(MinimeError):
    """The disk (or quota) is full: nothing could be saved."""

    user_message = "Sorry, I'm out of storage space right now, so I couldn't save that. Please try again later."


class ShareExceeded(QuotaExceeded):
    """A member had their share of a group's daily images (``MINIME_CHAT_MEMBER_SHARE``): the rest is kept for the
    group's other members."""

    def __init__(self, retry_after_s: float, *, limit: int = 0, granted: int = 0) -> None:
        super().__init__(retry_after_s, scope="member", limit=limit, granted=granted)
        self.user_message = (f"You've had your share of this group's images for today ({limit + granted}), so the "
                             "others get some too. Your share comes back at midnight UTC, in "
                             f"{duration_words(retry_after_s)} — or ask me in a private chat.")


class NothingToCancel(MinimeError):
    """/cancel or a Cancel button when the job is no longer queued or running (or there is none)."""

    user_message = "There's nothing of yours to cancel — it's already finished (or was never started)."


class NotYourJob(MinimeError):
    """A group member pressed the Cancel button of someone else's image."""

    user_message = "Only the person who asked for this image can cancel it — but you can ask for your own!"


class NoFigure(MinimeError):
    """A turntable or 3D file asked of a look without a 3D figure (a retro look), or of a photo that cannot give
    one (no face to build it from)."""

    user_message = ("This look has no 3D figure: try /figurine, /actionfigure, /deskfigure, /caricature or "
                    "/miniature, then tap 🔄 Turn or 🧊 3D file.")
