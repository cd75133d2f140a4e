"""Loading a diffusers pipeline the way the model asks for, and calling it with only the arguments it takes.

Everything here runs in the engine's worker thread; torch and diffusers are imported by the caller's first use.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minime.core.errors import EngineFailed
from minime.core.logs import get_logger

log = get_logger("minime.diffusion")

# Pipelines that follow an instruction about the image they are given ("add sunglasses"), not a description.
INSTRUCTION_PIPELINES = frozenset({"FluxKontextPipeline", "QwenImageEditPipeline", "QwenImageEditPlusPipeline"})

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

    user_message = "The image model isn't available right now. The team has been told; please try again later."

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
    follows_instructions: bool
    native_side: int  # the side length of the square area the model was trained at
    multiple: int  # width and height must be multiples of this
    call_params: frozenset[str]
    device: str
    has_ip_adapter: bool


def pipeline_class_name(model: str) -> str:
    """The pipeline class a diffusers folder (or cached hub id) declares in its model_index.json."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        index = folder / "model_index.json"
        if not index.is_file():
            raise ModelUnavailable(f"{folder} is not a diffusers model folder: it has no model_index.json")
        try:
            return json.loads(index.read_text())["_class_name"]
        except (ValueError, KeyError) as exc:
            raise ModelUnavailable(f"{index} is malformed: {exc}") from exc
    from diffusers import DiffusionPipeline

    try:
        return DiffusionPipeline.load_config(model)["_class_name"]
    except Exception as exc:  # hub errors come in many types
        raise ModelUnavailable(f"cannot find the diffusers model {model!r}: {exc}") from exc


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
    class_name = pipeline_class_name(model)
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    follows_instructions = class_name in INSTRUCTION_PIPELINES
    try:
        if follows_instructions:
            pipe = diffusers.DiffusionPipeline.from_pretrained(model, dtype=torch_dtype)
        else:
            pipe = diffusers.AutoPipelineForImage2Image.from_pretrained(model, dtype=torch_dtype)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load {class_name} from {model!r}: {type(exc).__name__}: {exc}") from exc
    if scheduler:
        _set_scheduler(pipe, scheduler)
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
    log.info("diffusion model loaded", pipeline=class_name, device=device,
             dtype=str(torch_dtype).removeprefix("torch."),
             native_side=sample * scale, loras=len(loras or {}), ip_adapter=has_ip_adapter)
    return Loaded(pipe, class_name, follows_instructions, sample * scale, multiple,
                  frozenset(inspect.signature(pipe.__call__).parameters), device, has_ip_adapter)


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


def target_size(width: int, height: int, side: int, multiple: int) -> tuple[int, int]:
    """The selfie's aspect ratio at the model's native area (side²), both sides multiples of ``multiple``."""
    scale = math.sqrt(side * side / (width * height))
    return (max(multiple, round(width * scale / multiple) * multiple),
            max(multiple, round(height * scale / multiple) * multiple))


def call_kwargs(loaded: Loaded, *, images: list[Any], prompts: list[str], negative_prompts: list[str],
                strength: float, steps: int, guidance: float, size: tuple[int, int], generators: list[Any],
                identity: list[Any] | None, callback: Any) -> dict[str, Any]:
    """The keyword arguments for one batched ``pipe(...)`` call, limited to what this pipeline accepts."""
    width, height = size
    wanted: dict[str, Any] = {
        "image": images, "prompt": prompts, "num_inference_steps": steps, "generator": generators,
        "output_type": "pil", "callback_on_step_end": callback,
    }
    if loaded.follows_instructions:
        # Kontext and Qwen edit: distilled guidance; true CFG only when a negative prompt is given.
        wanted.update(guidance_scale=guidance, height=height, width=width, max_area=width * height,
                      _auto_resize=False)
        if any(negative_prompts):
            wanted.update(negative_prompt=negative_prompts, true_cfg_scale=max(1.0, guidance))
    else:
        wanted.update(strength=strength, guidance_scale=guidance, negative_prompt=negative_prompts)
    if identity is not None and loaded.has_ip_adapter:
        wanted["ip_adapter_image"] = identity
    return {k: v for k, v in wanted.items() if k in loaded.call_params}
