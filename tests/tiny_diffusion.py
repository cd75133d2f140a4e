"""Tiny, randomly initialised diffusers pipelines in the real architectures, saved the way real models are saved.

They render garbage in a second on a CPU, which is all the engine's loading, batching and packaging code needs.
bench/diffusion_gpu.py --tiny runs the GPU benchmark on them to check the script on a CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

TOKENS = ["<|startoftext|>", "<|endoftext|>", "!"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]


def clip_tokenizer(folder: Path):
    """A byte-level BPE CLIP tokenizer from a generated vocab.json/merges.txt (letters, no merges)."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {tok: i for i, tok in enumerate(TOKENS)}
    for letter in TOKENS[3:]:
        vocab[letter + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def t5_tokenizer():
    """A word-level tokenizer in T5's shape (pad 0, eos 1, unk 2), built with the `tokenizers` library."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in "a the of in on person photo figure toy box make add with and glasses background".split():
        vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=512)


def _clip_text(projection: bool = False, hidden: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, hidden_size=hidden, intermediate_size=37,
                            layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, pad_token_id=1,
                            vocab_size=64, projection_dim=32, hidden_act="gelu")
    return CLIPTextModelWithProjection(config) if projection else CLIPTextModel(config)


def _vae(**extra):
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                         norm_num_groups=32, **extra)


def save_sd(folder: Path) -> Path:
    """A Stable Diffusion 1.x-shaped text-to-image pipeline (loaded back as image-to-image by the engine)."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=32)
    pipe = StableDiffusionPipeline(vae=_vae(), text_encoder=_clip_text(), tokenizer=clip_tokenizer(folder / "_tok"),
                                   unet=unet,
                                   scheduler=DDIMScheduler(clip_sample=False, steps_offset=1, set_alpha_to_one=False),
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


def save_sdxl(folder: Path) -> Path:
    """An SDXL-shaped pipeline: two text encoders, micro-conditioning on sizes."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
                                use_linear_projection=True, addition_embed_type="text_time",
                                addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
                                projection_class_embeddings_input_dim=80, cross_attention_dim=64, norm_num_groups=32)
    tokenizer = clip_tokenizer(folder / "_tok")
    pipe = StableDiffusionXLPipeline(vae=_vae(), text_encoder=_clip_text(), text_encoder_2=_clip_text(True),
                                     tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet,
                                     scheduler=EulerDiscreteScheduler(), force_zeros_for_empty_prompt=True)
    pipe.save_pretrained(folder)
    return folder


def save_kontext(folder: Path) -> Path:
    """A FLUX.1 Kontext-shaped instruction-editing pipeline (CLIP + T5 text encoders, a one-block transformer)."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1,
                                         attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, axes_dims_rope=[4, 4, 8])
    vae = AutoencoderKL(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(16, 32),
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        layers_per_block=1, latent_channels=4, norm_num_groups=16, use_quant_conv=False,
                        use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035)
    t5 = T5EncoderModel(T5Config(vocab_size=32, d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                                 decoder_start_token_id=0))
    pipe = FluxKontextPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_clip_text(),
                               tokenizer=clip_tokenizer(folder / "_tok"), text_encoder_2=t5, tokenizer_2=t5_tokenizer(),
                               transformer=transformer)
    pipe.save_pretrained(folder)
    return folder


# ---- today's open edit models: Qwen-Image-Edit-2509/2511 and FLUX.2 klein -------------------------------------------

QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                       "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
QWEN_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
              r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN_EDIT_SYSTEM = ("<|im_start|>system\nDescribe the key features of the input image (color, shape, size, texture, "
                    "objects, background), then explain how the user's text instruction should alter or modify the "
                    "image. Generate a new image that meets the user's requirements while maintaining consistency with "
                    "the original input where appropriate.<|im_end|>\n<|im_start|>user\n")
QWEN3_CHAT_TEMPLATE = (
    "{%- for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{%- endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{%- if enable_thinking is defined and not enable_thinking %}"
    "<think>\n\n</think>\n\n{%- endif %}{%- endif %}")


def qwen_tokenizer():
    """A byte-level BPE tokenizer in Qwen2's shape (its split pattern and special tokens), trained on the few texts
    the edit pipelines wrap prompts in, so that Qwen-Image-Edit's system prompt is exactly 64 tokens as in the real
    vocabulary (the pipeline drops the first 64 hidden states)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=QWEN_SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([QWEN_EDIT_SYSTEM] * 3 + ["Picture 1: Picture 2: <think>\n\n</think>\n\n"], trainer)
    assert len(tok.encode(QWEN_EDIT_SYSTEM).ids) == 64
    return Qwen2Tokenizer(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
                          model_max_length=32768, chat_template=QWEN3_CHAT_TEMPLATE)


def save_qwen_edit(folder: Path) -> Path:
    """A Qwen-Image-Edit-2509/2511-shaped pipeline (QwenImageEditPlusPipeline), saved as the hub's folders are.

    The text encoder is a tiny Qwen2.5-VL; its processor folder carries a video processor config as the real one does
    (transformers would need torchvision for it; minime loads only the image half).
    """
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPlusPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from minime.core.engines.diffusion.processors import StillImageQwen2VLProcessor

    tokenizer = qwen_tokenizer()
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL_TOKENS}
    torch.manual_seed(0)
    transformer = QwenImageTransformer2DModel(patch_size=2, in_channels=16, out_channels=4, num_layers=2,
                                              attention_head_dim=16, num_attention_heads=3, joint_attention_dim=16,
                                              guidance_embeds=False, axes_dims_rope=(8, 4, 4))
    vae = AutoencoderKLQwenImage(base_dim=4, z_dim=4, dim_mult=[1, 1, 2, 2], num_res_blocks=1,
                                 temperal_downsample=[False, True, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    text = {"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 2, "rope_theta": 1000000.0, "vocab_size": len(tokenizer),
            "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"]}
    config = Qwen2_5_VLConfig(
        text_config=text, hidden_size=16, vocab_size=len(tokenizer),
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        vision_token_id=ids["<|vision_pad|>"], image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"])
    processor = StillImageQwen2VLProcessor(Qwen2VLImageProcessorPil(), tokenizer)
    pipe = QwenImageEditPlusPipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
                                     vae=vae, text_encoder=Qwen2_5_VLForConditionalGeneration(config),
                                     tokenizer=tokenizer, processor=processor, transformer=transformer)
    assert pipe.prompt_template_encode.startswith(QWEN_EDIT_SYSTEM)
    pipe.save_pretrained(folder)
    # As on the hub: the processor is transformers' Qwen2VLProcessor, with its image and video halves' configs.
    index = json.loads((folder / "model_index.json").read_text())
    index["processor"] = ["transformers", "Qwen2VLProcessor"]
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    image_config = json.loads((folder / "processor" / "processor_config.json").read_text())["image_processor"]
    image_config.update(image_processor_type="Qwen2VLImageProcessor", processor_class="Qwen2VLProcessor")
    (folder / "processor" / "preprocessor_config.json").write_text(json.dumps(image_config, indent=2))
    video_config = {**image_config, "video_processor_type": "Qwen2VLVideoProcessor"}
    del video_config["image_processor_type"]
    (folder / "processor" / "video_preprocessor_config.json").write_text(json.dumps(video_config, indent=2))
    (folder / "processor" / "processor_config.json").unlink()
    return folder


def save_klein(folder: Path, distilled: bool = True) -> Path:
    """A FLUX.2 klein-shaped pipeline (Flux2KleinPipeline): a Qwen3 text encoder with the 27 layers klein reads
    hidden states from (9, 18, 27), a FLUX.2 transformer and VAE, distilled (4 steps, no guidance) by default."""
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    tokenizer = qwen_tokenizer()
    torch.manual_seed(0)
    transformer = Flux2Transformer2DModel(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1,
                                          attention_head_dim=16, num_attention_heads=2, joint_attention_dim=3 * 16,
                                          timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4],
                                          guidance_embeds=False)
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        intermediate_size=16, hidden_size=16, num_hidden_layers=27, num_attention_heads=2, num_key_value_heads=2,
        head_dim=8, vocab_size=len(tokenizer), max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>")))
    vae = AutoencoderKLFlux2(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4, 8, 8),
                             down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                             layers_per_block=1, latent_channels=4, norm_num_groups=4, use_quant_conv=False,
                             use_post_quant_conv=False)
    pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True), vae=vae,
                              text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer,
                              is_distilled=distilled)
    pipe.save_pretrained(folder)
    return folder
