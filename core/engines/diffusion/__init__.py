"""The diffusion engine: Hugging Face diffusers image-to-image and instruction editing, on a GPU when there is one.

torch and diffusers are imported on the first render, so the bots start (and run the classic engine) without them.
Requests that wait while the model is busy are run together as one batch when their settings match.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from minime.core.engines.base import ProgressCallback, RenderOutput, RenderRequest
from minime.core.engines.diffusion import pipelines
from minime.core.engines.diffusion.pipelines import Loaded, ModelUnavailable
from minime.core.engines.packaging import GENERATED, PACKAGED, Packager, is_packaged
from minime.core.errors import EngineFailed
from minime.core.i18n import N_
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.themes import Theme

log = get_logger("minime.diffusion")

IDENTITY_REMINDER = "Keep the person's face, features and identity exactly as in the photo."
"""Added to an edit model's instruction on the retry after the identity check found a different face."""


class GpuOutOfMemory(EngineFailed):
    """The accelerator ran out of memory for this render (the worker keeps serving)."""

    user_message = N_("The image model ran out of memory on that one. Please try again in a moment.")


class _Interrupted(Exception):
    """Raised inside the pipeline's step callback when every request of the batch was cancelled."""


@dataclass(eq=False)
class _Ticket:
    """One request waiting for (or in) a batch."""

    images: list[Image.Image]  # the picture to edit or transform, then a look's reference images
    prompt: str
    negative: str
    seed: int
    key: tuple  # requests with equal keys can share one pipeline call
    identity: Image.Image | None
    progress: ProgressCallback | None
    future: asyncio.Future[Image.Image]
    cancelled: bool = field(default=False)


class DiffusionEngine:
    """Renders themes with a diffusers pipeline loaded once from ``MINIME_DIFFUSION_MODEL``."""

    name = "diffusion"
    understands_instructions = True  # edited by instruction models, folded into the prompt by the others

    def __init__(self, settings: Settings) -> None:
        if not settings.diffusion_model:
            raise ValueError("MINIME_ENGINE=diffusion needs MINIME_DIFFUSION_MODEL: a diffusers folder or a hub id")
        self.settings = settings
        self.model = settings.diffusion_model
        self._loaded: Loaded | None = None
        self._load_lock = asyncio.Lock()
        self._pending: list[_Ticket] = []
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._pipe_lock = threading.Lock()  # one pipeline call at a time, also across event loops (the CLI)
        self._packager = Packager(settings.work_size)

    # ---- public ----------------------------------------------------------------------------------------------------

    async def load(self) -> Loaded:
        """Load the model (once); later calls return the loaded pipeline."""
        async with self._load_lock:
            if self._loaded is None:
                self._loaded = await asyncio.to_thread(self._load_sync)
            return self._loaded

    async def __call__(self, request: RenderRequest, *, progress: ProgressCallback | None = None) -> RenderOutput:
        """Render one request: queue it for the next batch, then package the result if the theme says so."""
        loaded = await self.load()
        report = progress or (lambda _fraction: None)
        report(0.05)
        future: asyncio.Future[Image.Image] = asyncio.get_running_loop().create_future()
        ticket = await asyncio.to_thread(self._ticket, request, loaded, report, future)
        self._pending.append(ticket)
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="minime-diffusion-batches")
        try:
            image = await ticket.future
        except asyncio.CancelledError:
            ticket.cancelled = True  # the pipeline stops at its next step unless others share the batch
            raise
        report(0.8)
        return await asyncio.to_thread(self._packager.output, request, image)

    async def close(self) -> None:
        """Stop the batch worker and free the model (and the GPU memory it holds)."""
        if self._worker:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for ticket in self._pending:
            ticket.future.cancel()
        self._pending.clear()
        if self._loaded is not None:
            self._loaded = None
            await asyncio.to_thread(_free_accelerator_memory)

    # ---- loading and requests ----------------------------------------------------------------------------------------

    def _load_sync(self) -> Loaded:
        s = self.settings
        return pipelines.load(
            self.model, device=s.diffusion_device, dtype=s.diffusion_dtype, cpu_offload=s.diffusion_cpu_offload,
            attention_slicing=s.diffusion_attention_slicing, scheduler=s.diffusion_scheduler, loras=self._loras(),
            ip_adapter=s.diffusion_ip_adapter, ip_adapter_subfolder=s.diffusion_ip_adapter_subfolder,
            ip_adapter_weight_name=s.diffusion_ip_adapter_weight_name,
            ip_adapter_image_encoder=s.diffusion_ip_adapter_image_encoder)

    def _loras(self) -> dict[str, str]:
        """The deployment's LoRA and every theme's, by adapter name (themes name theirs relative to themes/)."""
        from minime.core.themes import ThemeCatalog

        loras = {"deployment": self.settings.diffusion_lora} if self.settings.diffusion_lora else {}
        for theme in ThemeCatalog.from_dir(self.settings.themes_dir):
            if theme.diffusion.get("lora"):
                loras[_lora_name(theme)] = str(self.settings.themes_dir / theme.diffusion["lora"])
        return loras

    def _ticket(self, request: RenderRequest, loaded: Loaded, report: ProgressCallback,
                future: asyncio.Future[Image.Image]) -> _Ticket:
        """Decide what to render: an edit of the previous image, or the selfie with the theme's prompt."""
        theme, params, arch = request.theme, request.params, loaded.arch
        packaged = is_packaged(theme)
        references: list[Image.Image] = []
        if request.instruction and request.previous is not None and loaded.follows_instructions and not packaged:
            image, prompt = request.previous, request.instruction  # multi-turn: edit the last result
            strength = 1.0
        else:
            image = request.source
            key = "instruction" if loaded.follows_instructions else "prompt"
            prompt = theme.diffusion.get(key, theme.diffusion.get("prompt", theme.title))
            prompt = prompt.replace("{name}", params.name or "").replace(" , ", " ").replace(",,", ",")
            if params.instructions:
                prompt = f"{prompt}. {'. '.join(params.instructions)}"
            if arch.references > 1 and theme.diffusion.get("reference"):
                references = [self._reference(theme)]
            strength = float(theme.diffusion.get("strength", 0.6)) if not loaded.follows_instructions else 1.0
            strength = max(0.2, strength - 0.15 * request.identity_boost)  # closer to the selfie on a retry
        if request.identity_boost and loaded.follows_instructions:
            prompt = f"{prompt} {IDENTITY_REMINDER}"
        size = pipelines.target_size(image.width, image.height,
                                     self.settings.diffusion_resolution or loaded.native_side, loaded.multiple,
                                     arch.min_side)
        inputs = [image.convert("RGB").resize(size, Image.Resampling.LANCZOS)]
        inputs += [_fit(reference, size, arch.min_side, loaded.multiple) for reference in references]
        steps, guidance = self._steps_and_guidance(loaded, theme)
        if not loaded.follows_instructions:  # image-to-image runs steps × strength of them: at least one
            steps = max(steps, math.ceil(1 / strength))
        identity_scale = float(theme.diffusion.get("identity_scale", self.settings.diffusion_identity_scale))
        identity_scale += 0.3 * request.identity_boost
        identity = _face_crop(request.source) if loaded.has_ip_adapter else None
        lora = _lora_name(theme) if theme.diffusion.get("lora") else None
        same_inputs = _digest(inputs) if arch.shared_inputs else None  # their calls take one set of input images
        key = (size, round(strength, 3), steps, round(guidance, 3), identity_scale if identity else None, lora,
               float(theme.diffusion.get("lora_scale", 1.0)), same_inputs)
        return _Ticket(inputs, prompt, theme.diffusion.get("negative_prompt", ""), params.seed, key, identity, report,
                       future)

    def _steps_and_guidance(self, loaded: Loaded, theme: Theme) -> tuple[int, float]:
        """The operator's settings, else a few-step LoRA's, else the architecture's defaults, else the theme's."""
        s, arch = self.settings, loaded.arch
        steps = s.diffusion_steps or loaded.lora_steps or arch.steps or int(theme.diffusion.get("steps", 30))
        if s.diffusion_guidance is not None:
            guidance = float(s.diffusion_guidance)
        elif loaded.lora_steps and arch.guidance is not None:
            guidance = 1.0  # few-step LoRAs are distilled without classifier-free guidance
        elif arch.guidance is not None:
            guidance = arch.guidance
        else:
            guidance = float(theme.diffusion.get("guidance", 7.0))
        return int(steps), guidance

    def _reference(self, theme: Theme) -> Image.Image:
        """A look's reference image (``reference`` in its [diffusion] table, relative to the themes folder)."""
        path = self.settings.themes_dir / theme.diffusion["reference"]
        with Image.open(path) as reference:
            return reference.convert("RGB")

    # ---- batching --------------------------------------------------------------------------------------------------

    async def _work(self) -> None:
        """Take the oldest waiting request and everything waiting that can share its call; run; repeat."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                self._pending = [t for t in self._pending if not t.future.done()]
                if not self._pending:
                    break
                first = self._pending[0]
                limit = self.settings.diffusion_batch_size
                if self._loaded is not None and self._loaded.arch.max_batch:
                    limit = min(limit, self._loaded.arch.max_batch)
                batch = [t for t in self._pending if t.key == first.key][:limit]
                self._pending = [t for t in self._pending if t not in batch]
                try:
                    images = await asyncio.to_thread(self._run, batch)
                except BaseException as exc:
                    for ticket in batch:
                        if not ticket.future.done():
                            ticket.future.set_exception(exc if isinstance(exc, Exception) else EngineFailed())
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for ticket, image in zip(batch, images, strict=True):
                    if not ticket.future.done():
                        ticket.future.set_result(image)

    def _run(self, batch: list[_Ticket]) -> list[Image.Image]:
        """One pipeline call for the batch; on out-of-memory, the requests one by one; then a clear failure."""
        try:
            return self._call(batch)
        except _Interrupted:
            raise EngineFailed(N_("That render was cancelled.")) from None
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
            _free_accelerator_memory()
            log.warning("out of accelerator memory", batch=len(batch))
            if len(batch) == 1:
                raise GpuOutOfMemory() from None
            return [self._run([ticket])[0] for ticket in batch]

    def _call(self, batch: list[_Ticket]) -> list[Image.Image]:
        import torch

        loaded = self._loaded
        if loaded is None:
            raise ModelUnavailable("the model was closed")
        size, strength, steps, guidance, identity_scale, lora, lora_scale, _inputs = batch[0].key
        # Image-to-image runs only the last `strength` share of the schedule.
        effective = max(1, int(steps * strength)) if not loaded.follows_instructions else steps

        def on_step_end(pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if all(ticket.cancelled for ticket in batch):
                raise _Interrupted()
            total = getattr(pipe, "num_timesteps", None) or effective
            for ticket in batch:
                if ticket.progress:
                    ticket.progress(0.1 + 0.7 * min(1.0, (step + 1) / total))
            return tensors

        kwargs = pipelines.call_kwargs(
            loaded, images=[t.images for t in batch], prompts=[t.prompt for t in batch],
            negative_prompts=[t.negative for t in batch], strength=strength, steps=steps, guidance=guidance,
            size=size, generators=[torch.Generator("cpu").manual_seed(t.seed) for t in batch],
            identity=[t.identity for t in batch] if identity_scale is not None else None, callback=on_step_end)
        with self._pipe_lock, torch.inference_mode():
            if identity_scale is not None:
                loaded.pipe.set_ip_adapter_scale(identity_scale)
            self._activate_loras(loaded, lora, lora_scale)
            return list(loaded.pipe(**kwargs).images)

    def _activate_loras(self, loaded: Loaded, theme_lora: str | None, theme_scale: float) -> None:
        names, weights = [], []
        if self.settings.diffusion_lora:
            names.append("deployment")
            weights.append(self.settings.diffusion_lora_scale)
        if theme_lora:
            names.append(theme_lora)
            weights.append(theme_scale)
        if hasattr(loaded.pipe, "get_list_adapters") and any(loaded.pipe.get_list_adapters().values()):
            if names:
                loaded.pipe.set_adapters(names, adapter_weights=weights)
            else:
                loaded.pipe.disable_lora()


def _fit(image: Image.Image, size: tuple[int, int], min_side: int, multiple: int) -> Image.Image:
    """A reference image at about the rendered area, its own aspect ratio kept."""
    side = round(math.sqrt(size[0] * size[1]))
    return image.resize(pipelines.target_size(image.width, image.height, side, multiple, min_side),
                        Image.Resampling.LANCZOS)


def _digest(images: list[Image.Image]) -> str:
    """A fingerprint of input images' pixels: requests whose inputs match can share one call."""
    digest = hashlib.blake2b(digest_size=16)
    for image in images:
        digest.update(repr(image.size).encode())
        digest.update(image.tobytes())
    return digest.hexdigest()


def _lora_name(theme: Theme) -> str:
    return f"theme-{theme.id}"


def _face_crop(source: Image.Image) -> Image.Image:
    """The face with some margin (what IP-Adapter face models expect), or the whole selfie."""
    import numpy as np

    from minime.core.engines.classic.subject import find_face

    face = find_face(np.asarray(source.convert("RGB")))
    if not face:
        return source.convert("RGB")
    x, y, w, h = face
    margin = 0.45
    box = (max(0, int(x - w * margin)), max(0, int(y - h * margin * 1.3)),
           min(source.width, int(x + w * (1 + margin))), min(source.height, int(y + h * (1 + margin))))
    return source.convert("RGB").crop(box)


def _is_out_of_memory(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _free_accelerator_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


__all__ = ["GENERATED", "PACKAGED", "DiffusionEngine", "GpuOutOfMemory", "ModelUnavailable"]
