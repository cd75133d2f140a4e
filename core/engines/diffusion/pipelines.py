"""Loading a diffusers pipeline the way the model asks for, and calling it with only the arguments it takes.

Everything here runs in the engine's worker thread; torch and diffusers are imported by the caller's first use.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minime.core.errors import EngineFailed
from minime.core.i18n import N_
from minime.core.logs import get_logger

log = get_logger("minime.diffusion")

# Pipelines that follow an instruction about the image they are given ("add sunglasses"), not a description.
INSTRUCTION_PIPELINES = frozenset({"FluxKontextPipeline", "QwenImageEditPipeline", "QwenImageEditPlusPipeline",
                                   "Flux2KleinPipeline"})

LIGHTNING_SCHEDULER = {
    "base_image_seq_len": 256, "base_shift": math.log(3), "invert_sigmas": False, "max_image_seq_len": 8192,
    "max_shift": math.log(3), "num_train_timesteps": 1000, "shift": 1.0, "shift_terminal": None,
    "stochastic_sampling": False, "time_shift_type": "exponential", "use_beta_sigmas": False,
    "use_dynamic_shifting": True, "use_exponential_sigmas": False, "use_karras_sigmas": False,
}
"""The flow-matching schedule Qwen-Image-Lightning LoRAs were distilled with (shift 3), from their model card."""


@dataclass(frozen=True)
class Architecture:
    """How minime drives one family of pipelines: its arguments, its defaults, what one call can hold."""

    name: str
    follows_instructions: bool
    steps: int | None = None
    """Steps when the operator sets none; None: the theme's (tuned for Stable Diffusion image-to-image)."""
    guidance: float | None = None
    """Guidance when the operator sets none (true CFG for Qwen); None: the theme's."""
    references: int = 1
    """Input images one call takes: the selfie (or the result being edited), then a look's reference image."""
    max_batch: int | None = None
    """The most prompts one call takes; None: ``MINIME_DIFFUSION_BATCH_SIZE``."""
    shared_inputs: bool = False
    """The prompts of one call all edit the same input images (reference-image editors)."""
    true_cfg: bool = False
    """Guidance is true classifier-free guidance with a negative prompt (``true_cfg_scale``)."""
    min_side: int = 8
    """The smallest width or height the pipeline accepts for its input images."""


IMAGE_TO_IMAGE = Architecture("image-to-image", follows_instructions=False)


def architecture(class_name: str, pipe: Any = None) -> Architecture:
    """What minime knows about the pipeline class a model folder declares."""
    if class_name == "QwenImageEditPlusPipeline":
        # Qwen-Image-Edit-2509/2511: up to three input images; diffusers runs one prompt per call.
        return Architecture("qwen-image-edit-plus", True, steps=40, guidance=4.0, references=3, max_batch=1,
                            shared_inputs=True, true_cfg=True)
    if class_name == "QwenImageEditPipeline":
        return Architecture("qwen-image-edit", True, steps=50, guidance=4.0, max_batch=1, true_cfg=True)
    if class_name == "Flux2KleinPipeline":
        # FLUX.2 klein 4B/9B are step-distilled (4 steps, no guidance); the "base" variants are not.
        distilled = bool(getattr(getattr(pipe, "config", None), "is_distilled", False))
        return Architecture("flux2-klein", True, steps=4 if distilled else 50, guidance=1.0 if distilled else 4.0,
                            references=4, shared_inputs=True, min_side=64)
    if class_name == "FluxKontextPipeline":
        return Architecture("flux-kontext", True)
    return IMAGE_TO_IMAGE


def lightning_steps(path: str | None) -> int | None:
    """The step count a few-step LoRA was distilled for, read from its name ("…-Lightning-8steps-…"), else None."""
    if not path:
        return None
    name = Path(path).name.lower()
    if not any(word in name for word in ("lightning", "turbo", "hyper", "lcm", "tcd")):
        return None
    found = re.search(r"(\d+)[-_ ]?steps?", name)
    return int(found.group(1)) if found else (8 if "lightning" in name else None)


SCHEDULERS = {
    "lcm": "LCMScheduler",
    "tcd": "TCDScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "dpm++_sde": "DPMSolverSDEScheduler",
    "ddim": "DDIMScheduler",
    "unipc": "UniPCMultistepScheduler",
}
"""Short names for ``MINIME_DIFFUSION_SCHEDULER`` and a theme's ``scheduler``: the few-step ones pair with their LoRAs
(LCM, TCD/Hyper-SD) or with "trailing" spacing (Turbo, Lightning: euler with timestep_spacing=trailing)."""


class ModelUnavailable(EngineFailed):
    """The configured model cannot be loaded; ``detail`` says why for the operator."""

    user_message = N_("The image model isn't available right now. The team has been told; please try again later.")

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Loaded:
    """A ready pipeline and what minime needs to know about it."""

    pipe: Any
    class_name: str
    arch: Architecture
    native_side: int  # the side length of the square area the model was trained at
    multiple: int  # width and height must be multiples of this
    call_params: frozenset[str]
    device: str
    has_ip_adapter: bool
    lora_steps: int | None = None  # the step count the deployment's few-step LoRA (Lightning…) was distilled for

    @property
    def follows_instructions(self) -> bool:
        """Whether the model edits by instruction (Kontext, Qwen-Image-Edit, FLUX.2 klein) or by image-to-image."""
        return self.arch.follows_instructions


def model_index(model: str) -> dict[str, Any]:
    """The model_index.json of a diffusers folder (or cached hub id): its pipeline class and components."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        index = folder / "model_index.json"
        if not index.is_file():
            raise ModelUnavailable(f"{folder} is not a diffusers model folder: it has no model_index.json")
        try:
            config = json.loads(index.read_text())
            config["_class_name"]
            return config
        except (ValueError, KeyError) as exc:
            raise ModelUnavailable(f"{index} is malformed: {exc}") from exc
    from diffusers import DiffusionPipeline

    try:
        return dict(DiffusionPipeline.load_config(model))
    except Exception as exc:  # hub errors come in many types
        raise ModelUnavailable(f"cannot find the diffusers model {model!r}: {exc}") from exc


def pipeline_class_name(model: str) -> str:
    """The pipeline class a diffusers folder (or cached hub id) declares in its model_index.json."""
    return model_index(model)["_class_name"]


def pick_device(requested: str) -> str:
    """``auto`` means CUDA when a GPU is visible, then Apple's MPS, else the CPU."""
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str) -> Any:
    """Half precision on accelerators (bfloat16 where the GPU has it), float32 on the CPU."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def load(model: str, *, device: str = "auto", dtype: str = "auto", cpu_offload: bool = False,
         attention_slicing: bool = False, scheduler: str | None = None, loras: dict[str, str] | None = None,
         ip_adapter: str | None = None, ip_adapter_subfolder: str = "", ip_adapter_weight_name: str | None = None,
         ip_adapter_image_encoder: str | None = None) -> Loaded:
    """Load ``model`` once with the pipeline class it declares, placed and tuned as configured.

    Raises:
        ModelUnavailable: the folder or id is not a loadable diffusers model (the detail says why).
    """
    import diffusers
    import transformers

    for library in (diffusers, transformers):  # their progress bars and chatter are not the operator's logs
        library.utils.logging.set_verbosity_error()
        library.utils.logging.disable_progress_bar()
    index = model_index(model)
    class_name = index["_class_name"]
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    try:
        if class_name in INSTRUCTION_PIPELINES:
            pipe = diffusers.DiffusionPipeline.from_pretrained(model, dtype=torch_dtype,
                                                               **_components_built_here(model, index))
        else:
            pipe = diffusers.AutoPipelineForImage2Image.from_pretrained(model, dtype=torch_dtype)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load {class_name} from {model!r}: {type(exc).__name__}: {exc}") from exc
    arch = architecture(class_name, pipe)
    lora_steps = lightning_steps((loras or {}).get("deployment"))
    if scheduler:
        _set_scheduler(pipe, scheduler)
    elif lora_steps and arch.true_cfg and "time_shift_type" in pipe.scheduler.config:
        pipe.scheduler = type(pipe.scheduler).from_config(LIGHTNING_SCHEDULER)  # Qwen-Image-Lightning's schedule
    for adapter_name, path in (loras or {}).items():
        _load_lora(pipe, path, adapter_name)
    has_ip_adapter = False
    if ip_adapter:
        _load_ip_adapter(pipe, ip_adapter, ip_adapter_subfolder, ip_adapter_weight_name, ip_adapter_image_encoder)
        has_ip_adapter = True
    if cpu_offload and device.startswith("cuda"):
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    if attention_slicing and hasattr(pipe, "enable_attention_slicing"):
        pipe.enable_attention_slicing()
    pipe.set_progress_bar_config(disable=True)
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    sample = _sample_size(pipe)
    multiple = scale * (2 if class_name.startswith(("Flux", "QwenImage")) else 8)  # packed latents / UNet depth
    class_name = type(pipe).__name__  # what it runs as: StableDiffusionPipeline loads as …Img2ImgPipeline
    log.info("diffusion model loaded", pipeline=class_name, architecture=arch.name, device=device,
             dtype=str(torch_dtype).removeprefix("torch."), native_side=sample * scale, loras=len(loras or {}),
             lora_steps=lora_steps, ip_adapter=has_ip_adapter)
    return Loaded(pipe, class_name, arch, sample * scale, multiple,
                  frozenset(inspect.signature(pipe.__call__).parameters), device, has_ip_adapter, lora_steps)


def _components_built_here(model: str, index: dict[str, Any]) -> dict[str, Any]:
    """Components minime builds itself instead of letting ``from_pretrained`` load them (see processors.py)."""
    from minime.core.engines.diffusion.processors import QWEN_VL_PROCESSORS, load_still_image_processor

    declared = index.get("processor")
    if isinstance(declared, list | tuple) and len(declared) == 2 and declared[1] in QWEN_VL_PROCESSORS:
        return {"processor": load_still_image_processor(model)}
    return {}


def _sample_size(pipe: Any) -> int:
    """Latent side the denoiser was trained at (SD 1.5: 64, SDXL: 128, FLUX: 128)."""
    default = getattr(pipe, "default_sample_size", None)
    if default:
        return int(default)
    for part in ("unet", "transformer"):
        config = getattr(getattr(pipe, part, None), "config", None)
        size = getattr(config, "sample_size", None) if config is not None else None
        if isinstance(size, int):
            return size
        if isinstance(size, list | tuple) and size:
            return int(size[0])
    return 64


def _set_scheduler(pipe: Any, name: str) -> None:
    import diffusers

    spacing = None
    if name.endswith(":trailing"):
        name, spacing = name.removesuffix(":trailing"), "trailing"
    class_name = SCHEDULERS.get(name, name)
    cls = getattr(diffusers, class_name, None)
    if cls is None:
        raise ModelUnavailable(f"unknown scheduler {name!r}; use one of {', '.join(SCHEDULERS)}")
    extra = {"timestep_spacing": spacing} if spacing else {}
    pipe.scheduler = cls.from_config(pipe.scheduler.config, **extra)


def _load_lora(pipe: Any, path: str, adapter_name: str) -> None:
    if not hasattr(pipe, "load_lora_weights"):
        raise ModelUnavailable(f"{type(pipe).__name__} does not take LoRAs")
    source = Path(path).expanduser()
    try:
        if source.is_file():
            pipe.load_lora_weights(str(source.parent), weight_name=source.name, adapter_name=adapter_name)
        else:
            pipe.load_lora_weights(path, adapter_name=adapter_name)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load the LoRA {path!r}: {type(exc).__name__}: {exc}") from exc


def _load_ip_adapter(pipe: Any, path: str, subfolder: str, weight_name: str | None, image_encoder: str | None) -> None:
    if not hasattr(pipe, "load_ip_adapter"):
        raise ModelUnavailable(f"{type(pipe).__name__} does not take an IP-Adapter")
    kwargs: dict[str, Any] = {"subfolder": subfolder, "weight_name": weight_name or "ip-adapter.safetensors"}
    if image_encoder:
        kwargs["image_encoder_folder"] = image_encoder
    try:
        pipe.load_ip_adapter(path, **kwargs)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load the IP-Adapter {path!r}: {type(exc).__name__}: {exc}") from exc


def target_size(width: int, height: int, side: int, multiple: int, min_side: int = 0) -> tuple[int, int]:
    """The selfie's aspect ratio at the model's native area (side²), both sides multiples of ``multiple`` and at
    least ``min_side`` (FLUX.2 refuses input images under 64 px)."""
    scale = math.sqrt(side * side / (width * height))
    scale = max(scale, min_side / min(width, height))
    floor = max(multiple, math.ceil(min_side / multiple) * multiple)
    return (max(floor, round(width * scale / multiple) * multiple),
            max(floor, round(height * scale / multiple) * multiple))


def call_kwargs(loaded: Loaded, *, images: list[list[Any]], prompts: list[str], negative_prompts: list[str],
                strength: float, steps: int, guidance: float, size: tuple[int, int], generators: list[Any],
                identity: list[Any] | None, callback: Any) -> dict[str, Any]:
    """The keyword arguments for one batched ``pipe(...)`` call, limited to what this pipeline accepts.

    ``images`` holds each request's input images: the picture to edit, then any reference images. Image-to-image and
    Kontext take one picture per request; the reference-image editors (Qwen-Image-Edit-Plus, FLUX.2 klein) take the
    list once for the whole call, which is why the engine batches only requests with the same inputs for them.
    """
    width, height = size
    arch = loaded.arch
    wanted: dict[str, Any] = {
        "prompt": prompts, "num_inference_steps": steps, "generator": generators, "output_type": "pil",
        "callback_on_step_end": callback, "height": height, "width": width,
    }
    if arch.shared_inputs:
        wanted["image"] = images[0]
    else:
        wanted["image"] = [inputs[0] for inputs in images]
    if arch.true_cfg:
        # Qwen-Image-Edit: true classifier-free guidance against a negative prompt (" " when the theme has none);
        # at 1.0 (Lightning LoRAs) there is no negative pass at all.
        wanted["true_cfg_scale"] = guidance
        if guidance > 1.0:
            wanted["negative_prompt"] = [negative or " " for negative in negative_prompts]
    elif arch.name == "flux2-klein":
        wanted["guidance_scale"] = guidance  # ignored by the distilled models; CFG for the base ones
    elif arch.follows_instructions:
        # Kontext: distilled guidance; it ignores height/width unless max_area comes too.
        wanted.update(guidance_scale=guidance, max_area=width * height, _auto_resize=False)
        if any(negative_prompts):
            wanted.update(negative_prompt=negative_prompts, true_cfg_scale=max(1.0, guidance))
    else:
        del wanted["height"], wanted["width"]  # image-to-image keeps the input's size
        wanted.update(strength=strength, guidance_scale=guidance, negative_prompt=negative_prompts)
    if identity is not None and loaded.has_ip_adapter:
        wanted["ip_adapter_image"] = identity
    return {k: v for k, v in wanted.items() if k in loaded.call_params}
