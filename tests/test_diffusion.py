"""The diffusion engine on tiny random pipelines in the real architectures, loaded through `from_pretrained`.

The weights are random, so the pictures are noise; what is checked is everything around them: which pipeline a
model folder gets, the prompts and images it is called with, batching, progress, cancellation, failures, the
packaging that typesets the name, and the provenance in the delivered file.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from minime.core import provenance
from minime.core.app import build_studio
from minime.core.domain import Done, Failed, RenderParams, UserKey
from minime.core.engines import RenderRequest, create_engine
from minime.core.engines.diffusion import IDENTITY_REMINDER, DiffusionEngine, GpuOutOfMemory, ModelUnavailable
from minime.core.settings import Settings
from minime.core.themes import ThemeCatalog
from tests import tiny_diffusion
from tests.conftest import Recorder

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ThemeCatalog.from_dir(ROOT / "themes")
ARCHITECTURES = {"sd": "StableDiffusionImg2ImgPipeline", "sdxl": "StableDiffusionXLImg2ImgPipeline",
                 "kontext": "FluxKontextPipeline"}
EDIT_MODELS = {"qwen_edit": "QwenImageEditPlusPipeline", "klein": "Flux2KleinPipeline"}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny models, saved once per test session (about 15 s in all)."""
    root = tmp_path_factory.mktemp("models")
    return {kind: getattr(tiny_diffusion, f"save_{kind}")(root / kind) for kind in [*ARCHITECTURES, *EDIT_MODELS]}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Any:
    """Tiny models on a shared 2-core machine: one thread is many times faster than two fighting for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def small_qwen_vae_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Qwen-Image-Edit-Plus VAE-encodes every input image at about 1024² whatever the output size (a constant in
    diffusers); even the tiny VAE takes ~20 s for that on this CPU. In-process tests shrink that constant for speed;
    the command-line tests run the pipeline untouched."""
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus

    monkeypatch.setattr(pipeline_qwenimage_edit_plus, "VAE_IMAGE_SIZE", 128 * 128)


def diffusion_settings(tmp_path: Path, model: Path, **extra: Any) -> Settings:
    values = {"data_dir": tmp_path / "data", "engine": "diffusion", "diffusion_model": str(model),
              "diffusion_resolution": 64, "diffusion_steps": 4, "job_lease_s": 1.0, **extra}
    return Settings(_env_file=None, **values)


class CallLog:
    """Wraps a loaded diffusers pipeline: records each call's arguments, then runs the real pipeline.

    ``fail`` may raise to play a failing GPU; ``gate`` (a threading.Event), when set up, holds the first call until
    the test opens it, so that requests pile up behind a busy model as they do in production.
    """

    def __init__(self, pipe: Any, fail: Any = None) -> None:
        self._pipe, self.calls, self.fail = pipe, [], fail
        self.gate: threading.Event | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.gate is not None and len(self.calls) == 1:
            assert self.gate.wait(60)
        if self.fail:
            self.fail(kwargs)
        return self._pipe(**kwargs)


async def until(condition: Any, timeout: float = 60) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def loaded_engine(settings: Settings, fail: Any = None) -> tuple[DiffusionEngine, CallLog]:
    engine = create_engine(settings)
    assert isinstance(engine, DiffusionEngine)
    loaded = await engine.load()
    log = CallLog(loaded.pipe, fail)
    object.__setattr__(loaded, "pipe", log)
    return engine, log


@pytest.mark.parametrize("kind", list(ARCHITECTURES))
async def test_each_architecture_renders_a_theme_with_progress(tmp_path: Path, models: dict[str, Path],
                                                                astronaut: Image.Image, kind: str) -> None:
    engine, calls = await loaded_engine(diffusion_settings(tmp_path, models[kind]))
    try:
        assert engine._loaded.class_name == ARCHITECTURES[kind]
        fractions: list[float] = []
        output = await engine(RenderRequest(astronaut, CATALOG.get("retro-70s"), RenderParams(seed=7)),
                              progress=fractions.append)
        assert output.image.size == (1024, 1024), "delivered at the working size"
        assert output.source_type == "trainedAlgorithmicMedia"
        assert fractions == sorted(fractions) and len(fractions) >= 3 and fractions[-1] >= 0.8
        (call,) = calls.calls
        theme = CATALOG.get("retro-70s").diffusion
        if kind == "kontext":
            assert call["prompt"] == [theme["instruction"]], "instruction models get the theme as an instruction"
            assert (call["width"], call["height"]) == (64, 64) and call["max_area"] == 64 * 64
        else:
            assert call["prompt"] == [theme["prompt"]] and call["negative_prompt"] == [theme["negative_prompt"]]
            assert call["strength"] == theme["strength"]
        assert call["num_inference_steps"] == 4 and call["image"][0].size == (64, 64)
        again = await engine(RenderRequest(astronaut, CATALOG.get("retro-70s"), RenderParams(seed=7)))
        assert np.array_equal(np.asarray(again.image), np.asarray(output.image)), "same seed, same image"
    finally:
        await engine.close()


async def test_requests_that_wait_together_run_as_one_batch(tmp_path: Path, models: dict[str, Path],
                                                            astronaut: Image.Image) -> None:
    engine, calls = await loaded_engine(diffusion_settings(tmp_path, models["sd"]))
    calls.gate = threading.Event()
    try:
        pop_art, seventies = CATALOG.get("pop-art"), CATALOG.get("retro-70s")
        busy = asyncio.ensure_future(engine(RenderRequest(astronaut, pop_art, RenderParams(seed=1))))
        await until(lambda: len(calls.calls) == 1)  # the model is busy with the first request
        requests = [RenderRequest(astronaut, pop_art, RenderParams(seed=s)) for s in (2, 3, 4, 5, 6)]
        requests.append(RenderRequest(astronaut, seventies, RenderParams(seed=7)))
        waiting = asyncio.gather(*(engine(r) for r in requests))
        await until(lambda: len(engine._pending) == 6)
        calls.gate.set()
        outputs = [await busy, *await waiting]
        assert len(outputs) == 7
        assert [len(call["prompt"]) for call in calls.calls] == [1, 4, 1, 1], \
            "four pop-art together (the batch size), then the fifth, then the 70s one (other settings)"
        assert not np.array_equal(np.asarray(outputs[1].image), np.asarray(outputs[2].image)), "own seeds"
    finally:
        await engine.close()


async def test_cancelling_stops_the_pipeline_and_the_engine_keeps_serving(tmp_path: Path, models: dict[str, Path],
                                                                         astronaut: Image.Image) -> None:
    engine, calls = await loaded_engine(diffusion_settings(tmp_path, models["sd"], diffusion_steps=900))
    try:
        steps: list[float] = []
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            steps.append(fraction)
            if len(steps) == 3:
                loop.call_soon_threadsafe(started.set)

        task = asyncio.create_task(engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=1)),
                                          progress=progress))
        await asyncio.wait_for(started.wait(), 60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)
        stopped_at = len(steps)
        await asyncio.sleep(0.5)
        assert len(steps) == stopped_at < 100, "no steps after cancelling (540 were planned)"
        engine.settings = engine.settings.model_copy(update={"diffusion_steps": 4})
        output = await engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=1)))
        assert output.image.size == (1024, 1024)
    finally:
        await engine.close()


async def test_out_of_memory_splits_the_batch_then_fails_clearly(tmp_path: Path, models: dict[str, Path],
                                                                 astronaut: Image.Image) -> None:
    def no_batches(kwargs: dict[str, Any]) -> None:
        if len(kwargs["prompt"]) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    engine, calls = await loaded_engine(diffusion_settings(tmp_path, models["sd"]), fail=no_batches)
    calls.gate = threading.Event()
    try:
        theme = CATALOG.get("miniature")
        busy = asyncio.ensure_future(engine(RenderRequest(astronaut, theme, RenderParams(seed=1))))
        await until(lambda: len(calls.calls) == 1)
        waiting = asyncio.gather(*(engine(RenderRequest(astronaut, theme, RenderParams(seed=s))) for s in (2, 3, 4)))
        await until(lambda: len(engine._pending) == 3)
        calls.gate.set()
        outputs = [await busy, *await waiting]
        assert len(outputs) == 4
        assert [len(c["prompt"]) for c in calls.calls] == [1, 3, 1, 1, 1], "the batch of 3 ran one by one"

        def always(_kwargs: dict[str, Any]) -> None:
            raise torch.OutOfMemoryError("CUDA out of memory")

        calls.fail = always
        with pytest.raises(GpuOutOfMemory) as err:
            await engine(RenderRequest(astronaut, theme, RenderParams(seed=5)))
        assert "memory" in err.value.user_message
        calls.fail = None
        assert (await engine(RenderRequest(astronaut, theme, RenderParams(seed=6)))).image.size == (1024, 1024)
    finally:
        await engine.close()


def _ocr_name(image: Image.Image) -> list[str]:
    import cv2
    import pytesseract

    header = np.asarray(image.crop((160, 160, 820, 330))).astype(np.int32)
    ink = np.where(np.abs(header - 255).sum(axis=2) < 90, 0, 255).astype(np.uint8)
    ink = cv2.copyMakeBorder(ink, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    small = cv2.resize(ink, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    return [pytesseract.image_to_string(small, config=f"--psm {psm}").strip() for psm in (7, 8, 13)]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed (make test installs it)")
def test_cli_renders_a_figurine_from_an_unseen_model_folder_with_the_name_typeset(
        tmp_path: Path, models: dict[str, Path], astronaut: Image.Image) -> None:
    model = tmp_path / "some-model"
    shutil.copytree(models["sdxl"], model)
    selfie = tmp_path / "selfie.jpg"
    astronaut.save(selfie)
    out = tmp_path / "alice.png"
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_DIFFUSION_MODEL": str(model),
           "MINIME_DIFFUSION_RESOLUTION": "128", "MINIME_DIFFUSION_STEPS": "3"}
    done = subprocess.run([sys.executable, "-m", "minime.core.cli", "render", str(selfie), "-t", "figurine", "--name",
                           "Alice", "--engine", "diffusion", "-o", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    image = Image.open(out)
    assert image.size == (1024, 1280), "the figure is packaged in the classic toy box"
    assert provenance.read_source_type(image) == "compositeWithTrainedAlgorithmicMedia"
    assert "ALICE" in _ocr_name(image.convert("RGB"))


def test_a_broken_model_folder_gives_a_clear_error(tmp_path: Path, models: dict[str, Path]) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(models["sd"], broken)
    shutil.rmtree(broken / "unet")
    engine = create_engine(diffusion_settings(tmp_path, broken))
    with pytest.raises(ModelUnavailable) as err:
        asyncio.run(engine.load())
    assert "StableDiffusionPipeline" in str(err.value) and str(broken) in str(err.value)
    assert "isn't available" in err.value.user_message, "users get plain words, operators the detail"

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_DIFFUSION_MODEL": str(empty)}
    selfie = tmp_path / "s.png"
    Image.new("RGB", (128, 128), "white").save(selfie)
    done = subprocess.run([sys.executable, "-m", "minime.core.cli", "render", str(selfie), "-t", "popart", "--engine",
                           "diffusion", "-o", str(tmp_path / "o.png")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "no model_index.json" in done.stderr and "Traceback" not in done.stderr


def test_a_deployment_lora_is_loaded_and_changes_the_result(tmp_path: Path, models: dict[str, Path],
                                                            astronaut: Image.Image) -> None:
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig, get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(models["sd"])
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    StableDiffusionPipeline.save_lora_weights(tmp_path / "lora", unet_lora_layers=get_peft_model_state_dict(pipe.unet))
    lora_file = tmp_path / "lora" / "pytorch_lora_weights.safetensors"
    request = RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=3))

    async def render(settings: Settings) -> tuple[np.ndarray, Any]:
        engine, _calls = await loaded_engine(settings)
        try:
            return np.asarray((await engine(request)).image, np.float32), engine._loaded.pipe
        finally:
            await engine.close()

    plain, _ = asyncio.run(render(diffusion_settings(tmp_path, models["sd"])))
    styled, pipe = asyncio.run(render(diffusion_settings(tmp_path, models["sd"], diffusion_lora=str(lora_file),
                                                          diffusion_scheduler="lcm")))
    assert "deployment" in pipe.get_list_adapters()["unet"]
    assert type(pipe.scheduler).__name__ == "LCMScheduler"
    assert np.abs(plain - styled).mean() > 1.0


# ---- through the Studio: refinements, provenance ---------------------------------------------------------------------

@pytest.fixture()
async def kontext_studio(tmp_path: Path, models: dict[str, Path]) -> AsyncIterator[tuple[Any, Recorder, CallLog]]:
    studio = build_studio(diffusion_settings(tmp_path, models["kontext"]))
    await studio.start()
    loaded = await studio.engine.load()
    calls = CallLog(loaded.pipe)
    object.__setattr__(loaded, "pipe", calls)
    recorder = Recorder()
    studio.subscribe("test", recorder)
    yield studio, recorder, calls
    await studio.stop()


async def test_refinement_text_becomes_an_instruction_edit_of_the_previous_result(
        kontext_studio: tuple[Any, Recorder, CallLog], astronaut_jpeg: bytes) -> None:
    studio, recorder, calls = kontext_studio
    user = UserKey("test", "bob")
    await studio.receive_selfie(user, astronaut_jpeg)
    first = await recorder.wait_for((await studio.apply_theme(user, "popart")).id, timeout=120)
    assert isinstance(first, Done), first
    assert provenance.read_source_type(Image.open(io.BytesIO(first.image))) == "trainedAlgorithmicMedia"

    edit = await recorder.wait_for((await studio.refine(user, text="add sunglasses")).id, timeout=120)
    assert isinstance(edit, Done), edit
    assert calls.calls[-1]["prompt"] == ["add sunglasses"], "the new instruction alone, as an edit"
    base = np.asarray(Image.open(io.BytesIO(await studio.blobs.get(first.result.base_key))).resize((64, 64),
                                                                                                     Image.LANCZOS))
    assert np.abs(np.asarray(calls.calls[-1]["image"][0], np.float32) - base).mean() < 2, "edits the last result"

    before = len(calls.calls)
    warmer = await recorder.wait_for((await studio.refine(user, text="warmer colors")).id, timeout=60)
    assert isinstance(warmer, Done) and len(calls.calls) == before, "colour words stay instant post-processing"

    variation = await recorder.wait_for((await studio.refine(user, text="variation")).id, timeout=120)
    assert isinstance(variation, Done)
    prompt = calls.calls[-1]["prompt"][0]
    assert prompt.startswith(CATALOG.get("pop-art").diffusion["instruction"]) and "add sunglasses" in prompt, \
        "a re-render from the selfie keeps the earlier instructions in the prompt"


async def test_packaged_themes_fold_instructions_into_the_prompt(
        kontext_studio: tuple[Any, Recorder, CallLog], astronaut_jpeg: bytes) -> None:
    studio, recorder, calls = kontext_studio
    user = UserKey("test", "carol")
    await studio.receive_selfie(user, astronaut_jpeg)
    first = await recorder.wait_for((await studio.apply_theme(user, "figurine", "Carol")).id, timeout=120)
    assert isinstance(first, Done), first
    assert Image.open(io.BytesIO(first.image)).size == (1024, 1280)
    edit = await recorder.wait_for((await studio.refine(user, text="make the hair pink")).id, timeout=120)
    assert isinstance(edit, Done), edit
    prompt = calls.calls[-1]["prompt"][0]
    assert prompt.startswith("Turn the person in this photo into a glossy collectible")
    assert "make the hair pink" in prompt
    assert edit.result.source_type == "compositeWithTrainedAlgorithmicMedia"


async def test_a_model_that_cannot_load_fails_the_job_in_plain_words(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    missing = tmp_path / "no-such-model"
    missing.mkdir()
    (missing / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    studio = build_studio(diffusion_settings(tmp_path, missing))
    await studio.start()
    try:
        recorder = Recorder()
        studio.subscribe("test", recorder)
        user = UserKey("test", "dan")
        await studio.receive_selfie(user, astronaut_jpeg)
        failed = await recorder.wait_for((await studio.apply_theme(user, "miniature")).id, timeout=60)
        assert isinstance(failed, Failed) and "isn't available" in failed.reason
    finally:
        await studio.stop()


def test_the_bots_start_without_torch() -> None:
    code = ("import sys; import minime.core.app, minime.core.cli, minime.bots.web.server, minime.bots.telegram_bot, "
            "minime.bots.discord_bot; from minime.core.settings import Settings; "
            "minime.core.app.build_studio(Settings(_env_file=None)); "
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ---- today's open edit models: Qwen-Image-Edit-2509/2511 and FLUX.2 klein -------------------------------------------

EDIT_DEFAULTS = {"qwen_edit": (40, 4.0), "klein": (4, 1.0)}  # steps, guidance (true CFG for Qwen, none for klein)


def edit_settings(tmp_path: Path, models: dict[str, Path], kind: str, **extra: Any) -> Settings:
    values = {"data_dir": tmp_path / "data", "engine": "diffusion", "diffusion_model": str(models[kind]),
              "diffusion_resolution": 64, "job_lease_s": 1.0, **extra}
    return Settings(_env_file=None, **values)


def theme_instruction(theme_id: str, name: str = "") -> str:
    return CATALOG.get(theme_id).diffusion["instruction"].replace("{name}", name)


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
async def test_edit_models_render_every_theme_from_its_instruction_and_the_selfie(
        tmp_path: Path, models: dict[str, Path], astronaut: Image.Image, kind: str) -> None:
    assert importlib.util.find_spec("torchvision") is None, "the CPU install this runs on has no torchvision"
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, kind))
    try:
        assert engine._loaded.class_name == EDIT_MODELS[kind] and engine._loaded.follows_instructions
        selfie = astronaut.resize((512, 384))  # landscape: sizes are snapped, never squashed to a square
        await engine(RenderRequest(selfie, CATALOG.get("pop-art"), RenderParams(seed=1)))
        (call,) = calls.calls
        steps, guidance = EDIT_DEFAULTS[kind]
        assert call["num_inference_steps"] == steps, "the architecture's own default, not the SD theme's 25"
        if kind == "qwen_edit":
            assert call["true_cfg_scale"] == guidance
            assert call["negative_prompt"] == [CATALOG.get("pop-art").diffusion["negative_prompt"]]
            assert "guidance_scale" not in call
            assert 0.6 < call["width"] * call["height"] / 64**2 < 1.4, "about the configured area (64²)"
        else:
            assert call["guidance_scale"] == guidance and "negative_prompt" not in call
            assert min(call["width"], call["height"]) >= 64, "klein takes no input under 64 px a side"
        multiple = engine._loaded.multiple
        assert call["width"] % multiple == 0 and call["height"] % multiple == 0 and call["width"] > call["height"]
        assert call["image"][0].size == (call["width"], call["height"]), "the selfie, at the size rendered"

        engine.settings = engine.settings.model_copy(update={"diffusion_steps": 2, "diffusion_guidance": 1.5})
        for theme in CATALOG:
            calls.calls.clear()
            output = await engine(RenderRequest(selfie, theme, RenderParams(seed=3, name="Ada")))
            (call,) = calls.calls
            assert call["prompt"] == [theme_instruction(theme.id, "Ada")], theme.id
            assert call["num_inference_steps"] == 2, "MINIME_DIFFUSION_STEPS overrides the architecture"
            assert call.get("true_cfg_scale", call.get("guidance_scale")) == 1.5, "so does MINIME_DIFFUSION_GUIDANCE"
            assert np.abs(np.asarray(call["image"][0], np.float32)
                          - np.asarray(selfie.resize(call["image"][0].size), np.float32)).mean() < 3, "the selfie"
            packaged = theme.diffusion.get("package") == "classic"
            assert output.source_type == ("compositeWithTrainedAlgorithmicMedia" if packaged
                                          else "trainedAlgorithmicMedia"), theme.id
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
async def test_klein_batches_waiting_requests_that_edit_the_same_pictures(
        tmp_path: Path, models: dict[str, Path], astronaut: Image.Image) -> None:
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, "klein", diffusion_steps=2))
    calls.gate = threading.Event()
    try:
        other = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        busy = asyncio.ensure_future(engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=1))))
        await until(lambda: len(calls.calls) == 1)
        # One person asks for three looks while the model is busy; someone else sends another photo.
        looks = [RenderRequest(astronaut, CATALOG.get(t), RenderParams(seed=2)) for t in ("retro-70s", "retro-80s")]
        looks.append(RenderRequest(other, CATALOG.get("pop-art"), RenderParams(seed=3)))
        looks.append(RenderRequest(astronaut, CATALOG.get("miniature"), RenderParams(seed=4)))
        waiting = asyncio.gather(*(engine(r) for r in looks))
        await until(lambda: len(engine._pending) == 4)
        calls.gate.set()
        outputs = [await busy, *await waiting]
        assert len(outputs) == 5
        batches = sorted((sorted(call["prompt"]) for call in calls.calls[1:]), key=len)
        assert batches == [[theme_instruction("pop-art")], sorted(theme_instruction(t) for t in (
            "retro-70s", "retro-80s", "miniature"))], "one call for the three looks of one selfie, one for the other"
        assert all(len(call["image"]) == 1 for call in calls.calls), "klein takes the selfie once for the whole batch"
        assert not np.array_equal(np.asarray(outputs[1].image), np.asarray(outputs[2].image))
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
async def test_qwen_edit_runs_waiting_requests_one_call_each(tmp_path: Path, models: dict[str, Path],
                                                             astronaut: Image.Image) -> None:
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, "qwen_edit", diffusion_steps=2))
    calls.gate = threading.Event()
    try:
        busy = asyncio.ensure_future(engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=1))))
        await until(lambda: len(calls.calls) == 1)
        waiting = asyncio.gather(*(engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=s)))
                                   for s in (2, 3)))
        await until(lambda: len(engine._pending) == 2)
        calls.gate.set()
        outputs = [await busy, *await waiting]
        assert [len(call["prompt"]) for call in calls.calls] == [1, 1, 1], \
            "diffusers' QwenImageEditPlusPipeline takes one prompt per call: the queue drains one by one"
        assert not np.array_equal(np.asarray(outputs[1].image), np.asarray(outputs[2].image)), "own seeds"
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
async def test_cancelling_an_edit_model_render_stops_it(tmp_path: Path, models: dict[str, Path],
                                                        astronaut: Image.Image, kind: str) -> None:
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, kind, diffusion_steps=500))
    try:
        steps: list[float] = []
        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            steps.append(fraction)
            if len(steps) == 3:
                loop.call_soon_threadsafe(started.set)

        task = asyncio.create_task(engine(RenderRequest(astronaut, CATALOG.get("retro-90s"), RenderParams(seed=1)),
                                          progress=progress))
        await asyncio.wait_for(started.wait(), 60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)
        stopped_at = len(steps)
        await asyncio.sleep(0.5)
        assert len(steps) == stopped_at < 60, "no steps after cancelling (500 were planned)"
        engine.settings = engine.settings.model_copy(update={"diffusion_steps": 2})
        assert (await engine(RenderRequest(astronaut, CATALOG.get("retro-90s"), RenderParams(seed=1)))).image
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
async def test_edit_models_out_of_memory_splits_then_fails_clearly(tmp_path: Path, models: dict[str, Path],
                                                                    astronaut: Image.Image, kind: str) -> None:
    def no_batches(kwargs: dict[str, Any]) -> None:
        if len(kwargs["prompt"]) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    engine, calls = await loaded_engine(edit_settings(tmp_path, models, kind, diffusion_steps=2), fail=no_batches)
    calls.gate = threading.Event()
    try:
        theme = CATALOG.get("miniature")
        busy = asyncio.ensure_future(engine(RenderRequest(astronaut, theme, RenderParams(seed=1))))
        await until(lambda: len(calls.calls) == 1)
        waiting = asyncio.gather(*(engine(RenderRequest(astronaut, theme, RenderParams(seed=s))) for s in (2, 3, 4)))
        await until(lambda: len(engine._pending) == 3)
        calls.gate.set()
        assert len([await busy, *await waiting]) == 4
        expected = [1, 3, 1, 1, 1] if kind == "klein" else [1, 1, 1, 1]  # Qwen never batches
        assert [len(c["prompt"]) for c in calls.calls] == expected

        def always(_kwargs: dict[str, Any]) -> None:
            raise torch.OutOfMemoryError("CUDA out of memory")

        calls.fail = always
        with pytest.raises(GpuOutOfMemory) as err:
            await engine(RenderRequest(astronaut, theme, RenderParams(seed=5)))
        assert "memory" in err.value.user_message
        calls.fail = None
        assert (await engine(RenderRequest(astronaut, theme, RenderParams(seed=6)))).image.size == (1024, 1024)
    finally:
        await engine.close()


def _save_lora(kind: str, model: Path, folder: Path, weight_name: str) -> Path:
    """A random LoRA on the transformer's attention, saved the way trainers save them (e.g. Lightning's)."""
    from diffusers import DiffusionPipeline
    from peft import LoraConfig, get_peft_model_state_dict

    from minime.core.engines.diffusion.processors import load_still_image_processor

    extra = {"processor": load_still_image_processor(str(model))} if kind == "qwen_edit" else {}
    pipe = DiffusionPipeline.from_pretrained(model, **extra)
    torch.manual_seed(1)
    pipe.transformer.add_adapter(LoraConfig(r=4, lora_alpha=64, init_lora_weights=False,
                                            target_modules="all-linear"))
    type(pipe).save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(pipe.transformer),
                                 weight_name=weight_name)
    return folder / weight_name


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
def test_a_lightning_lora_sets_its_own_step_count(tmp_path: Path, models: dict[str, Path], astronaut: Image.Image,
                                                   kind: str) -> None:
    name = {"qwen_edit": "Qwen-Image-Edit-2511-Lightning-4steps-V1.0-bf16.safetensors",
            "klein": "klein-style-lora.safetensors"}[kind]
    lora = _save_lora(kind, models[kind], tmp_path / "lora", name)
    request = RenderRequest(astronaut, CATALOG.get("retro-80s"), RenderParams(seed=3))

    async def render(settings: Settings) -> tuple[np.ndarray, Any, dict[str, Any]]:
        engine, calls = await loaded_engine(settings)
        try:
            image = np.asarray((await engine(request)).image, np.float32)
            return image, engine._loaded.pipe, calls.calls[-1]
        finally:
            await engine.close()

    steps = {"diffusion_steps": 2} if kind == "klein" else {}
    plain, _, _ = asyncio.run(render(edit_settings(tmp_path, models, kind, diffusion_steps=steps.get(
        "diffusion_steps", 4))))
    styled, pipe, call = asyncio.run(render(edit_settings(tmp_path, models, kind, diffusion_lora=str(lora), **steps)))
    assert "deployment" in pipe.get_list_adapters()["transformer"]
    assert np.abs(plain - styled).mean() > 1.0, "the LoRA changes the picture"
    if kind == "qwen_edit":
        assert call["num_inference_steps"] == 4, "the step count in the Lightning LoRA's name"
        assert call["true_cfg_scale"] == 1.0 and "negative_prompt" not in call, "Lightning runs without CFG"
        assert pipe.scheduler.config.time_shift_type == "exponential", "the schedule Lightning was distilled with"
    else:
        assert call["num_inference_steps"] == 2 and call["guidance_scale"] == 1.0


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
async def test_a_look_with_a_reference_image_passes_it_after_the_selfie(
        tmp_path: Path, models: dict[str, Path], astronaut: Image.Image, kind: str) -> None:
    themes = tmp_path / "themes"
    shutil.copytree(ROOT / "themes", themes)
    reference = Image.new("RGB", (300, 200), (230, 40, 90))
    reference.save(themes / "assets" / "box-style.png")
    look = (themes / "action-figure.toml").read_text().replace(
        "[diffusion]\n", '[diffusion]\nreference = "assets/box-style.png"\n')
    (themes / "action-figure.toml").write_text(look)
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, kind, diffusion_steps=2, themes_dir=themes))
    try:
        theme = ThemeCatalog.from_dir(themes).get("action-figure")
        await engine(RenderRequest(astronaut, theme, RenderParams(seed=1, name="Max")))
        selfie, second = calls.calls[-1]["image"]
        assert selfie.size == (calls.calls[-1]["width"], calls.calls[-1]["height"])
        assert np.asarray(second).reshape(-1, 3).mean(axis=0).round().tolist() == [230, 40, 90]
        assert abs(second.width / second.height - 1.5) < 0.2, "the reference keeps its own shape"
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
async def test_the_identity_retry_asks_an_edit_model_to_keep_the_face(tmp_path: Path, models: dict[str, Path],
                                                                      astronaut: Image.Image) -> None:
    engine, calls = await loaded_engine(edit_settings(tmp_path, models, "klein", diffusion_steps=2))
    try:
        await engine(RenderRequest(astronaut, CATALOG.get("pop-art"), RenderParams(seed=1), identity_boost=1.0))
        assert calls.calls[-1]["prompt"] == [f"{theme_instruction('pop-art')} {IDENTITY_REMINDER}"]
    finally:
        await engine.close()


@pytest.mark.usefixtures("small_qwen_vae_input")
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
async def test_edits_go_back_through_the_edit_model_turn_after_turn(
        tmp_path: Path, models: dict[str, Path], astronaut_jpeg: bytes, kind: str) -> None:
    # identity_check off: with klein in this process dlib's face detector has crashed (SIGSEGV) on the selfie;
    # the identity check itself is covered by tests/test_responsible.py and the Kontext studio tests above.
    studio = build_studio(edit_settings(tmp_path, models, kind, diffusion_steps=2, identity_check=False))
    await studio.start()
    try:
        loaded = await studio.engine.load()
        calls = CallLog(loaded.pipe)
        object.__setattr__(loaded, "pipe", calls)
        recorder = Recorder()
        studio.subscribe("test", recorder)
        user = UserKey("test", "erin")
        await studio.receive_selfie(user, astronaut_jpeg)
        latest = await recorder.wait_for((await studio.apply_theme(user, "retro-80s")).id, timeout=120)
        assert isinstance(latest, Done), latest
        for instruction in ("add sunglasses", "make the sky purple"):
            edit = await recorder.wait_for((await studio.refine(user, text=instruction)).id, timeout=120)
            assert isinstance(edit, Done), edit
            call = calls.calls[-1]
            assert call["prompt"] == [instruction], "the new instruction alone"
            base = Image.open(io.BytesIO(await studio.blobs.get(latest.result.base_key))).convert("RGB")
            given = call["image"][0]
            assert np.abs(np.asarray(given, np.float32)
                          - np.asarray(base.resize(given.size, Image.LANCZOS), np.float32)).mean() < 2, \
                "the edit model is given the previous result, not the selfie"
            latest = edit
    finally:
        await studio.stop()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed (make test installs it)")
@pytest.mark.parametrize("look", ["popart", "figurine"])
@pytest.mark.parametrize("kind", list(EDIT_MODELS))
def test_cli_renders_plain_and_packaged_looks_from_an_edit_model_folder(
        tmp_path: Path, models: dict[str, Path], astronaut: Image.Image, kind: str, look: str) -> None:
    model = tmp_path / "some-edit-model"
    shutil.copytree(models[kind], model)
    selfie = tmp_path / "selfie.jpg"
    astronaut.save(selfie)
    out = tmp_path / f"{look}.png"
    env = {**os.environ, "MINIME_DATA_DIR": str(tmp_path / "data"), "MINIME_DIFFUSION_MODEL": str(model),
           "MINIME_DIFFUSION_RESOLUTION": "64", "MINIME_DIFFUSION_STEPS": "2", "OMP_NUM_THREADS": "1"}
    name = ["--name", "Alice"] if look == "figurine" else []
    done = subprocess.run([sys.executable, "-m", "minime.core.cli", "render", str(selfie), "-t", look, *name,
                           "--engine", "diffusion", "-o", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=290)
    assert done.returncode == 0, done.stderr
    image = Image.open(out)
    if look == "popart":
        assert image.size == (1024, 1024) and provenance.read_source_type(image) == "trainedAlgorithmicMedia"
    else:
        assert image.size == (1024, 1280), "the figure is packaged in the classic toy box"
        assert provenance.read_source_type(image) == "compositeWithTrainedAlgorithmicMedia"
        assert "ALICE" in _ocr_name(image.convert("RGB"))
