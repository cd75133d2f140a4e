"""What the Studio's use cases return to the adapters: plain values (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from minime.core.domain import Job, Result
from minime.core.i18n import gettext as _
from minime.core.quotas import Allowance


@dataclass(frozen=True)
class SelfieReceived:
    """A selfie was stored; ``job`` is the theme request that was waiting for it, if any."""

    selfie_id: str
    job: Job | None
    width: int
    height: int
    notice: str | None = None
    """For the user's first selfie: where photos are sent (a hosted model's provider), if anywhere."""

    def with_notice(self, reply: str) -> str:
        """The adapter's reply, followed by the notice when there is one."""
        return f"{reply}\n\n{self.notice}" if self.notice else reply


@dataclass(frozen=True)
class Undone:
    """The previous result is current again; ``image`` is its stored bytes, unchanged."""

    result: Result
    image: bytes
    buttons: tuple[str, ...]


@dataclass(frozen=True)
class Stats:
    """A user's images and what they cost."""

    images: int
    energy_wh: float
    gpu_wh: float  # the same number of images on a GPU diffusion model (estimate)
    price_per_kwh: float
    currency: str
    service: str | None = None
    """The hosted model's provider when one draws the images; then the figures below are the operator's."""
    service_price_per_image: float = 0.0
    service_wh_per_image: float = 0.0
    service_currency: str = "$"

    def message(self) -> str:
        """The /stats answer in words."""
        if not self.images:
            return _("You haven't made any images yet (or they have expired). Send a selfie to start!")
        def money(wh: float) -> str:
            cost = wh / 1000 * self.price_per_kwh
            return f"{self.currency}{cost:.2f}" if cost >= 0.01 else _("under {amount}").format(
                amount=f"{self.currency}0.01")

        images = _("Images you have with me: {count}").format(count=self.images)
        if self.service:
            price, wh = self.service_price_per_image, self.service_wh_per_image
            return "\n".join([
                images,
                _("They're drawn by {service}'s image model: about {price} and an estimated {wh} Wh per image (the "
                  "operator's figures), so about {total} and {total_wh} Wh for yours.").format(
                    service=self.service, price=f"{self.service_currency}{price:.3f}", wh=f"{wh:g}",
                    total=f"{self.service_currency}{price * self.images:.2f}", total_wh=f"{wh * self.images:.1f}"),
                _("Energy on this server on top: {wh} Wh ({cost} of electricity)").format(
                    wh=f"{self.energy_wh:.3f}", cost=money(self.energy_wh))])
        times = self.gpu_wh / self.energy_wh if self.energy_wh > 0 else 0
        gpu = _("The same on a GPU image model: about {wh} Wh ({cost})").format(wh=f"{self.gpu_wh:.1f}",
                                                                                 cost=money(self.gpu_wh))
        lines = [images,
                 _("Energy they took: {wh} Wh ({cost} of electricity)").format(wh=f"{self.energy_wh:.3f}",
                                                                               cost=money(self.energy_wh)),
                 gpu + (_(", {times}× more").format(times=f"{times:,.0f}") if times >= 1.5 else "")]
        return "\n".join(lines)


@dataclass(frozen=True)
class QueueStatus:
    """Where a user's work stands."""

    job: Job | None
    position: int
    eta_s: float
    allowance: Allowance | None = None  # images left today (of the user, and of the chat asked in)
