"""What generative engines share: the classic packaging around a generated figure, and their provenance terms.

A model makes the figure (or the photo); for themes whose generative section says ``package = "classic"`` the classic
engine's toy box or blister card is drawn around it, so the name is typeset by minime, never drawn by the model.
"""

from __future__ import annotations

from dataclasses import replace

from PIL import Image

from minime.core.engines.base import RenderOutput, RenderRequest
from minime.core.themes import Theme

GENERATED = "trainedAlgorithmicMedia"
"""IPTC digital source type of an image made wholly by a trained model."""
PACKAGED = "compositeWithTrainedAlgorithmicMedia"
"""IPTC digital source type of a generated figure inside minime's drawn packaging."""


def is_packaged(theme: Theme) -> bool:
    """Whether the theme puts the generated image into the classic engine's packaging."""
    return theme.diffusion.get("package") == "classic"


class Packager:
    """Turns a generated image into the engine's output: packaged (name typeset) or scaled to the work size."""

    def __init__(self, work_size: int) -> None:
        self.work_size = work_size
        self._classic = None  # built on first use: most generated looks are not packaged

    def output(self, request: RenderRequest, image: Image.Image) -> RenderOutput:
        """The RenderOutput for a generated ``image`` of ``request`` (call it from a worker thread)."""
        if is_packaged(request.theme):
            from minime.core.engines.classic import ClassicEngine

            if self._classic is None:
                self._classic = ClassicEngine(self.work_size)
            return RenderOutput(self._classic.render(replace(request, source=image)).image, (), PACKAGED)
        return RenderOutput(self.to_work_size(image), (), GENERATED)

    def to_work_size(self, image: Image.Image) -> Image.Image:
        """The image with its longest side at the work size."""
        scale = self.work_size / max(image.size)
        if abs(scale - 1) < 0.01:
            return image.convert("RGB")
        return image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                           Image.Resampling.LANCZOS)
