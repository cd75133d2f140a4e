"""Qwen-Image-Edit's vision-language processor without its video half, so a CPU install needs no torchvision.

transformers 5's ``Qwen2VLProcessor`` insists on a video processor, and that one imports torchvision, which does not
exist for the CPU torch build minime runs on (PyPI's wheel breaks ``import torchvision`` and diffusers with it). The
edit pipelines only ever give it text and still images, so minime builds the processor from the model folder's image
processor (transformers' PIL implementation of Qwen2-VL's) and tokenizer, and hands it to ``from_pretrained``.
"""

from __future__ import annotations

from typing import Any

from transformers import ProcessorMixin
from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor

QWEN_VL_PROCESSORS = frozenset({"Qwen2VLProcessor", "Qwen2_5_VLProcessor"})
"""The processor classes Qwen-Image(-Edit) folders name in model_index.json."""


class StillImageQwen2VLProcessor(Qwen2VLProcessor):
    """``Qwen2VLProcessor`` for text and still images: the same tokens and image handling, no video processor."""

    def __init__(self, image_processor: Any = None, tokenizer: Any = None, chat_template: str | None = None,
                 **kwargs: Any) -> None:
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = (getattr(tokenizer, "image_token_id", None)
                               or tokenizer.convert_tokens_to_ids(self.image_token))
        self.video_token_id = (getattr(tokenizer, "video_token_id", None)
                               or tokenizer.convert_tokens_to_ids(self.video_token))
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template, **kwargs)


def load_still_image_processor(model: str, subfolder: str = "processor") -> StillImageQwen2VLProcessor:
    """The processor saved in ``model``'s ``subfolder`` (a local folder or a cached hub id), images and text only."""
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    image_processor = Qwen2VLImageProcessorPil.from_pretrained(model, subfolder=subfolder)
    tokenizer = AutoTokenizer.from_pretrained(model, subfolder=subfolder)
    return StillImageQwen2VLProcessor(image_processor, tokenizer)
