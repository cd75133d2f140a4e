"""Value objects of minime's domain: who asks, what they ask for, and what comes back."""

from __future__ import annotations

import enum
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


def new_id() -> str:
    """A short, URL- and callback-safe random id (12 characters)."""
    return secrets.token_urlsafe(9)


@dataclass(frozen=True, slots=True)
class UserKey:
    """A person on one platform."""

    platform: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> UserKey:
        """Inverse of ``str()``."""
        platform, _, user_id = text.partition(":")
        return cls(platform, user_id)


@dataclass(frozen=True, slots=True)
class Adjustments:
    """Post-processing parameters; 0 is neutral, each roughly in [-2, 2]. They add up over refinements."""

    warmth: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    grain: float = 0.0
    fade: float = 0.0
    sharpness: float = 0.0

    def plus(self, other: Adjustments) -> Adjustments:
        """Both sets of changes applied, clamped to the useful range."""
        return Adjustments(
            **{f.name: max(-2.0, min(2.0, getattr(self, f.name) + getattr(other, f.name))) for f in fields(self)}
        )

    def to_dict(self) -> dict[str, float]:
        """Only the non-neutral values."""
        return {k: round(v, 4) for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Adjustments:
        """Inverse of ``to_dict``; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in (data or {}).items() if k in names})


@dataclass(frozen=True, slots=True)
class RenderParams:
    """Everything that shapes a render besides the source and the theme."""

    name: str | None = None
    variant: str | None = None
    seed: int = 0
    palette: int = 0
    name_scale: float = 1.0
    instructions: tuple[str, ...] = ()
    adjustments: Adjustments = field(default_factory=Adjustments)
    things: tuple[str, ...] = ()
    """What followed a ``|`` in the command: the action figure's accessories, the caricature's job and hobbies."""

    def render_key(self) -> tuple[Any, ...]:
        """The part that changes the engine's output (adjustments are post-processing)."""
        return (self.name, self.variant, self.seed, self.palette, round(self.name_scale, 3), self.instructions,
                self.things)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "variant": self.variant,
            "seed": self.seed,
            "palette": self.palette,
            "name_scale": self.name_scale,
            "instructions": list(self.instructions),
            "adjustments": self.adjustments.to_dict(),
            "things": list(self.things),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderParams:
        """Inverse of ``to_dict``."""
        return cls(
            name=data.get("name"),
            variant=data.get("variant"),
            seed=int(data.get("seed", 0)),
            palette=int(data.get("palette", 0)),
            name_scale=float(data.get("name_scale", 1.0)),
            instructions=tuple(data.get("instructions", ())),
            adjustments=Adjustments.from_dict(data.get("adjustments")),
            things=tuple(data.get("things", ())),
        )

    def with_(self, **changes: Any) -> RenderParams:
        """A copy with some fields changed."""
        return replace(self, **changes)


class JobState(str, enum.Enum):
    """Life of a durable job."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its user called it off: nothing delivered, nothing counted


class JobKind(str, enum.Enum):
    """What a job does."""

    THEME = "theme"
    REFINE = "refine"
    FIGURE = "figure"  # a figure file (turntable, mesh): counted like a render, never queued (core/figures.py)


@dataclass(frozen=True, slots=True)
class Job:
    """A unit of rendering work, stored before it runs."""

    id: str
    user: UserKey
    kind: JobKind
    theme_id: str
    params: RenderParams
    state: JobState
    parent_result_id: str | None = None
    selfie_id: str | None = None
    reply_to: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    error: str | None = None
    result_id: str | None = None
    rerender: bool = True
    selfie_key: str | None = None  # the selfie's blob, looked up when the job was queued
    chat: str | None = None  # the group chat or server channel it was asked in (platform:id); None: a private chat


@dataclass(frozen=True, slots=True)
class Result:
    """One finished image in a user's results tree."""

    id: str
    user: UserKey
    theme_id: str
    params: RenderParams
    parent_id: str | None
    selfie_id: str | None
    image_key: str
    base_key: str
    notes: tuple[str, ...] = ()
    source_type: str = "compositeSynthetic"  # IPTC digital source type (core.provenance)
    mark: int | None = None  # the invisible watermark's id (core.watermark)
    fingerprint: str | None = None  # perceptual hash of the delivered image
    energy_wh: float = 0.0  # measured energy of the render and its post-processing


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    """What an adapter needs to show a theme."""

    id: str
    command: str
    title: str
    description: str
    argument: str | None
    variants: tuple[str, ...]
    buttons: tuple[str, ...]
    variant: str | None = None  # the variant this look is of a shared command (/retro 80s), if any
    default_variant: str | None = None
    argument_required: bool = False
    things: str | None = None  # what the list after "|" means for this look ("job and hobbies"), if it takes one


@dataclass(frozen=True, slots=True)
class ThemeCommand:
    """One chat command of the catalogue, as every platform's menu or slash command needs it."""

    command: str
    description: str
    argument: str | None  # "name", "caption", "variant" or None
    option: str  # the option's name on platforms with named options (Discord)
    option_description: str
    required: bool
    choices: tuple[str, ...]  # the values a "variant" option may take
    default: str | None
    things: str | None  # what the list after "|" means, when the command takes one
    theme_ids: tuple[str, ...]


# ---- progress events (Studio -> adapters) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queued:
    """The job waits; ``position`` 1 means next."""

    job: Job
    position: int
    eta_s: float


@dataclass(frozen=True, slots=True)
class Rendering:
    """The engine works on it; ``waiting_for`` names the hosted model's service while the engine waits on it."""

    job: Job
    percent: int
    waiting_for: str | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """The image is ready."""

    job: Job
    result: Result
    image: bytes
    buttons: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Failed:
    """The job ended without an image; ``reason`` is for people."""

    job: Job
    reason: str


@dataclass(frozen=True, slots=True)
class Cancelled(Failed):
    """The job's user called it off: no image comes and none was counted; ``reason`` says so, for people."""


Event = Queued | Rendering | Done | Failed
