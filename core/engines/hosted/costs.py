"""What one picture costs at each hosted model, in money and estimated energy, for /stats.

Prices are the providers' list prices in US dollars for one picture of about a megapixel at the quality minime asks
for (Gemini: 1K images; OpenAI: the default quality at 1024×1536), as published when this table was written; they
change, so an operator sets ``MINIME_HOSTED_PRICE_PER_IMAGE`` (and ``MINIME_HOSTED_WH_PER_IMAGE``) to override them.
Energy is an estimate: no provider publishes it per image; ~3 Wh for a fast image model (the figure Google reported
for a median Gemini text prompt is 0.24 Wh; image generation takes roughly ten times more), more for the "pro" ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelCost:
    """One picture's price (``currency``) and estimated energy (Wh) at a hosted model."""

    price_per_image: float
    wh_per_image: float
    currency: str = "$"


COSTS: dict[str, ModelCost] = {
    # Google Gemini ("Nano Banana" family): image output billed per token, ~1290 tokens per 1K image
    "gemini-3.1-flash-image": ModelCost(0.067, 2.9),
    "gemini-3.1-flash-lite-image": ModelCost(0.039, 1.5),
    "gemini-3-pro-image": ModelCost(0.134, 6.0),
    "gemini-2.5-flash-image": ModelCost(0.039, 2.9),
    # OpenAI GPT Image: billed per image token; a portrait at the default ("auto") quality
    "gpt-image-2": ModelCost(0.053, 3.5),
    "gpt-image-1.5": ModelCost(0.05, 3.5),
    "gpt-image-1-mini": ModelCost(0.015, 1.5),
}

DEFAULT_MODELS = {"gemini": "gemini-3.1-flash-image", "openai": "gpt-image-2"}
"""Each provider's model when MINIME_HOSTED_MODEL is unset: this year's (ids as the pinned SDKs list them)."""

FALLBACK = ModelCost(0.039, 2.9)
"""A model missing from the table (a gateway's, a newer one): Gemini 2.5 Flash Image's figures."""


def cost_of(model: str) -> ModelCost:
    """The cost of one picture at ``model`` (a dated snapshot, ``gpt-image-2-2026-04-21``, costs as its model)."""
    if model in COSTS:
        return COSTS[model]
    known = [name for name in COSTS if model.startswith(name + "-")]
    return COSTS[max(known, key=len)] if known else FALLBACK
