"""Diffusion engine on a GPU: engine time vs the raw pipeline call, and batched vs sequential throughput.

No weights can be downloaded, so the models are random weights in the real architectures (SDXL's UNet and VAE,
FLUX.1 Kontext's 12B transformer, Qwen-Image-Edit-2511's 20B transformer and video-style VAE, FLUX.2 klein 4B's
transformer and 32-channel VAE), saved with ``save_pretrained`` and loaded back through the engine's real
``from_pretrained`` path. Text encoders are cut short (two layers; klein's Qwen3 keeps the 27 it reads from): prompt
encoding is a sliver of the step cost and full-size random weights would only add load time. Speed does not depend on
what the weights say.

Run on a lent GPU machine: ``python bench/diffusion_gpu.py`` (every architecture at 1024², each at its own default
step count unless ``--steps``: SDXL and Kontext 20, Qwen-Image-Edit 40, klein 4; batch 4). Qwen-Image-Edit-Plus takes
one prompt per call in diffusers, so its batch gain is 1× by construction. ``--tiny`` runs the same code on the test
suite's tiny models, on the CPU, to check the script itself (with Qwen's 1024² input encoding shrunk, as the tests do).
Goals: engine ≤ 1.05× the raw call; batch of 4 ≥ 1.5× the sequential throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from minime.core.domain import RenderParams  # noqa: E402
from minime.core.engines import RenderRequest  # noqa: E402
from minime.core.engines.diffusion import DiffusionEngine, pipelines  # noqa: E402
from minime.core.settings import Settings  # noqa: E402
from minime.core.themes import ThemeCatalog  # noqa: E402
from tests import tiny_diffusion  # noqa: E402


def save_full_sdxl(folder: Path) -> Path:
    """SDXL 1.0's UNet and VAE configuration with random weights (fp16 on disk)."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    unet = UNet2DConditionModel(
        sample_size=128, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280), layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(5, 10, 20),
        transformer_layers_per_block=(1, 2, 10), cross_attention_dim=2048, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=2, sample_size=1024, scaling_factor=0.13025, force_upcast=False)
    common = dict(vocab_size=49408, intermediate_size=3072, num_hidden_layers=2, max_position_embeddings=77)
    te1 = CLIPTextModel(CLIPTextConfig(hidden_size=768, num_attention_heads=12, **common))
    te2 = CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=1280, num_attention_heads=20, projection_dim=1280,
                                                     **{**common, "intermediate_size": 5120}))
    tok = tiny_diffusion.clip_tokenizer(folder / "_tok")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=te1, text_encoder_2=te2, tokenizer=tok, tokenizer_2=tok,
                                     unet=unet, scheduler=EulerDiscreteScheduler())
    pipe.to(torch.float16).save_pretrained(folder)
    return folder


def save_full_kontext(folder: Path) -> Path:
    """FLUX.1 Kontext's transformer (19 double + 38 single blocks) and VAE with random weights (bf16 on disk)."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        transformer = FluxTransformer2DModel(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38,
                                             attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096,
                                             pooled_projection_dim=768, guidance_embeds=True,
                                             axes_dims_rope=[16, 56, 56]).to(torch.bfloat16)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), in_channels=3, out_channels=3, latent_channels=16,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=2, sample_size=1024, scaling_factor=0.3611, shift_factor=0.1159,
                        use_quant_conv=False, use_post_quant_conv=False)
    clip = CLIPTextModel(CLIPTextConfig(hidden_size=768, num_attention_heads=12, intermediate_size=3072,
                                        num_hidden_layers=2, vocab_size=49408, projection_dim=768))
    t5 = T5EncoderModel(T5Config(vocab_size=32128, d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=2,
                                 feed_forward_proj="gated-gelu"))
    pipe = FluxKontextPipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
                               vae=vae, text_encoder=clip, tokenizer=tiny_diffusion.clip_tokenizer(folder / "_tok"),
                               text_encoder_2=t5, tokenizer_2=tiny_diffusion.t5_tokenizer(), transformer=transformer)
    pipe.to(torch.bfloat16).save_pretrained(folder)
    return folder


def save_full_qwen_edit(folder: Path) -> Path:
    """Qwen-Image-Edit-2511's transformer (60 blocks, 20B) and VAE with random weights (bf16 on disk)."""
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPlusPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from minime.core.engines.diffusion.processors import StillImageQwen2VLProcessor

    tiny = tiny_diffusion.save_qwen_edit(folder / "_tiny")  # its tokenizer, processor and scheduler files
    tokenizer = tiny_diffusion.qwen_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tiny_diffusion.QWEN_SPECIAL_TOKENS}
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        transformer = QwenImageTransformer2DModel(
            patch_size=2, in_channels=64, out_channels=16, num_layers=60, attention_head_dim=128,
            num_attention_heads=24, joint_attention_dim=3584, guidance_embeds=False,
            axes_dims_rope=(16, 56, 56), zero_cond_t=True).to(torch.bfloat16)
    vae = AutoencoderKLQwenImage()  # the defaults are Qwen-Image's VAE
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 2, "num_attention_heads": 28,
                     "num_key_value_heads": 4, "vocab_size": len(tokenizer),
                     "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 2, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
                       "out_hidden_size": 3584},
        vocab_size=len(tokenizer), vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], vision_token_id=ids["<|vision_pad|>"],
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"])
    processor = StillImageQwen2VLProcessor(Qwen2VLImageProcessorPil(), tokenizer)
    pipe = QwenImageEditPlusPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(tiny / "scheduler"), vae=vae,
        text_encoder=Qwen2_5_VLForConditionalGeneration(config), tokenizer=tokenizer, processor=processor,
        transformer=transformer)
    pipe.to(torch.bfloat16).save_pretrained(folder)
    (folder / "model_index.json").write_text((tiny / "model_index.json").read_text())
    for name in ("processor", "tokenizer"):
        shutil.rmtree(folder / name)
        shutil.copytree(tiny / name, folder / name)
    shutil.rmtree(tiny)
    return folder


def save_full_klein(folder: Path) -> Path:
    """FLUX.2 klein 4B's transformer (5 double + 20 single blocks) and VAE with random weights (bf16 on disk)."""
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = tiny_diffusion.qwen_tokenizer()
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        transformer = Flux2Transformer2DModel(
            patch_size=1, in_channels=128, num_layers=5, num_single_layers=20, attention_head_dim=128,
            num_attention_heads=24, joint_attention_dim=7680, timestep_guidance_channels=256,
            axes_dims_rope=(32, 32, 32, 32), guidance_embeds=False).to(torch.bfloat16)
        text_encoder = Qwen3ForCausalLM(Qwen3Config(
            hidden_size=2560, intermediate_size=9728, num_hidden_layers=27, num_attention_heads=32,
            num_key_value_heads=8, head_dim=128, vocab_size=len(tokenizer), tie_word_embeddings=True,
            eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"))).to(torch.bfloat16)
    vae = AutoencoderKLFlux2()  # the defaults are FLUX.2's VAE
    pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
                              vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer,
                              is_distilled=True)
    pipe.to(torch.bfloat16).save_pretrained(folder)
    return folder


FULL = {"sdxl": save_full_sdxl, "kontext": save_full_kontext, "qwen_edit": save_full_qwen_edit,
        "klein": save_full_klein}
DEFAULT_STEPS = {"sdxl": 20, "kontext": 20, "qwen_edit": 40, "klein": 4}


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


async def measure(arch: str, folder: Path, side: int, steps: int, batch: int, repeats: int) -> dict[str, float]:
    settings = Settings(_env_file=None, engine="diffusion", diffusion_model=str(folder), diffusion_resolution=side,
                        diffusion_steps=steps, diffusion_batch_size=batch, data_dir=Path(tempfile.mkdtemp()))
    engine = DiffusionEngine(settings)
    loaded = await engine.load()
    theme = ThemeCatalog.from_dir(settings.themes_dir).get("pop-art")
    selfie = Image.new("RGB", (side, side), (180, 140, 120))
    request = RenderRequest(selfie, theme, RenderParams(seed=1))
    # The raw call: the same arguments the engine passes, built once, without the engine around it.
    size = pipelines.target_size(side, side, side, loaded.multiple, loaded.arch.min_side)
    strength = float(theme.diffusion["strength"])
    prompt = theme.diffusion["instruction" if loaded.follows_instructions else "prompt"]
    guidance = loaded.arch.guidance if loaded.arch.guidance is not None else float(theme.diffusion["guidance"])

    def raw() -> None:
        kwargs = pipelines.call_kwargs(
            loaded, images=[[selfie.resize(size)]], prompts=[prompt],
            negative_prompts=[theme.diffusion["negative_prompt"]], strength=strength, steps=steps,
            guidance=guidance, size=size, generators=[torch.Generator("cpu").manual_seed(1)],
            identity=None, callback=None)
        with torch.inference_mode():
            loaded.pipe(**kwargs)
        _sync()

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    async def timed_async(coro_fn) -> float:
        start = time.perf_counter()
        await coro_fn()
        _sync()
        return time.perf_counter() - start

    raw()  # warm-up (kernels, allocator)
    await engine(request)
    raw_s = statistics.median(timed(raw) for _ in range(repeats))
    engine_s = statistics.median([await timed_async(lambda: engine(request)) for _ in range(repeats)])

    # Several looks of one selfie at once (reference-image editors batch only requests with the same inputs).
    requests = [RenderRequest(selfie, theme, RenderParams(seed=s)) for s in range(batch)]

    async def sequential() -> None:
        for r in requests:
            await engine(r)

    async def together() -> None:
        await asyncio.gather(*(engine(r) for r in requests))

    seq_s = statistics.median([await timed_async(sequential) for _ in range(max(1, repeats // 2))])
    bat_s = statistics.median([await timed_async(together) for _ in range(max(1, repeats // 2))])
    await engine.close()
    return {"raw": raw_s, "engine": engine_s, "sequential": seq_s, "batched": bat_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=list(FULL), action="append")
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--steps", type=int, help="steps for every model (default: each one's own)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny models on the CPU (checks the script)")
    args = parser.parse_args()
    if args.tiny:
        args.side, args.steps, args.repeats = 64, args.steps or 4, 3
        torch.set_num_threads(1)  # tiny models on a shared CPU: one thread beats two that fight for the cores
        from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus

        pipeline_qwenimage_edit_plus.VAE_IMAGE_SIZE = 128 * 128  # its ~1024² input encoding takes ~20 s on a CPU
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"device: {device}; {args.side}², batch {args.batch}, median of {args.repeats}")
    print(f"{'model':<10} {'steps':>5} {'raw call s':>10} {'engine s':>9} {'ratio':>6} {'seq img/s':>9} "
          f"{'batch img/s':>11} {'gain':>5}")
    for arch in args.arch or list(FULL):
        steps = args.steps or DEFAULT_STEPS[arch]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / arch
            if args.tiny:
                getattr(tiny_diffusion, f"save_{arch}")(folder)
            else:
                FULL[arch](folder)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            f = asyncio.run(measure(arch, folder, args.side, steps, args.batch, args.repeats))
        seq_rate, bat_rate = args.batch / f["sequential"], args.batch / f["batched"]
        print(f"{arch:<10} {steps:>5} {f['raw']:>10.3f} {f['engine']:>9.3f} {f['engine'] / f['raw']:>5.2f}× "
              f"{seq_rate:>9.2f} {bat_rate:>11.2f} {bat_rate / seq_rate:>4.2f}×", flush=True)
    print("goals: engine ≤ 1.05× the raw call; batch ≥ 1.5× the sequential throughput")


if __name__ == "__main__":
    main()
