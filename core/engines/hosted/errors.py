"""What can go wrong with a hosted image model, as typed errors a person can read.

``user_message`` is for chat users (never a key, never the provider's raw text); ``detail`` is for the operator
(the CLI prints it), and never holds the key either.
"""

from __future__ import annotations

from minime.core.errors import EngineFailed
from minime.core.i18n import N_
from minime.core.i18n import gettext as _


class HostedMisconfigured(EngineFailed):
    """The operator's settings do not work: no key, a key the provider rejects, an unknown model."""

    user_message = N_("Sorry, this bot is misconfigured right now and can't make images. "
                    "Its operator has been told; please try again later.")

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class HostedKeyRejected(HostedMisconfigured):
    """The provider said the API key is not valid (or not allowed to use the model)."""


class HostedRefused(EngineFailed):
    """The provider's safety system declined the request or the picture (not retried: it would decline again)."""

    def __init__(self, service: str) -> None:
        super().__init__(_("{service} declined to make this picture under its safety rules, so there's no image "
                           "this time. Try another photo or look.").format(service=service))


class HostedUnavailable(EngineFailed):
    """The provider stayed busy, failing or silent after every retry."""

    def __init__(self, service: str, why: str = "is busy or not answering") -> None:
        sentence = _UNAVAILABLE.get(why)
        super().__init__(_(sentence).format(service=service) if sentence else
                         f"The image model at {service} {why} right now. Please try again in a few minutes.")


_UNAVAILABLE = {  # each reason as a whole sentence, so that it can be translated
    "is busy or not answering": N_("The image model at {service} is busy or not answering right now. Please try "
                                   "again in a few minutes."),
    "took too long to answer": N_("The image model at {service} took too long to answer right now. Please try "
                                  "again in a few minutes."),
    "sent no picture": N_("The image model at {service} sent no picture right now. Please try again in a few "
                          "minutes."),
    "can't be reached": N_("The image model at {service} can't be reached right now. Please try again in a few "
                           "minutes."),
}


class HostedNoImage(EngineFailed):
    """The model answered, again and again, without a picture and without saying why (Gemini's NO_IMAGE, or only
    text): not a refusal, and nothing to pay for."""

    def __init__(self, service: str) -> None:
        super().__init__(_("The image model at {service} answered without a picture, three times in a row. Please "
                           "try again in a moment — another photo or look may work better.").format(service=service))
