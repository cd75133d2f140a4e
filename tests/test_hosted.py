"""The hosted engine, driven through the real ``openai`` and ``google-genai`` SDKs against local fakes of both APIs.

Each test runs for both providers unless it is about one of them. The fakes (tests/fake_hosted.py) speak the
providers' HTTP APIs; the SDKs reach them through ``MINIME_HOSTED_BASE_URL`` exactly as they would a gateway.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minime.core import provenance, texts
from minime.core.app import build_studio
from minime.core.domain import Done, Failed, Rendering, UserKey
from minime.core.engines.hosted import KEEP_FACE, costs
from minime.core.logs import configure_logging
from minime.core.settings import Settings
from minime.core.studio import Studio
from tests.conftest import Recorder, midday_clock
from tests.fake_hosted import Failure, FakeGemini, FakeImageAPI, FakeOpenAI, dump, served
from tests.test_classic_engine import _ocr_variants

ROOT = Path(__file__).resolve().parent.parent
# What the fakes accept; it must never show up in any output. Not shaped like a real key, so the log redaction of
# sk-…/AIza… keys cannot be what hides it: a leak anywhere would show.
KEY = "minime-test-key-3f9a7c1e5b2d4a68"
PROVIDERS = ["openai", "gemini"]
ALICE = UserKey("test", "alice")


def fake_for(provider: str, key: str = KEY) -> FakeImageAPI:
    return FakeOpenAI(key) if provider == "openai" else FakeGemini(key)


def base_url(provider: str, root: str) -> str:
    """What an operator sets: OpenAI's SDK wants the /v1 prefix in its base URL, Gemini's the bare host."""
    return root + "/v1" if provider == "openai" else root


def hosted_settings(tmp_path: Path, provider: str, root: str, **more) -> Settings:
    """Minime pointed at a fake; a generous job lease (image work on a loaded CI machine can starve heart-beats)."""
    return Settings(**{"_env_file": None, "data_dir": tmp_path / "data", "job_lease_s": 30.0, "engine": "hosted",
                       "hosted_provider": provider, "hosted_api_key": KEY,
                       "hosted_base_url": base_url(provider, root), **more})


def similarity(a: Image.Image, b: Image.Image) -> float:
    """Correlation of two pictures' small grey versions (1: the same picture)."""
    x, y = (np.asarray(i.convert("L").resize((64, 64), Image.Resampling.BILINEAR), np.float64).ravel()
            for i in (a, b))
    return float(np.corrcoef(x, y)[0, 1])


def blue_share(image: Image.Image) -> float:
    """The share of strongly blue pixels (the fake model turns the astronaut's orange suit blue)."""
    r, g, b = (np.asarray(image.convert("RGB"), np.int32)[..., i] for i in range(3))
    return float(((b > r + 60) & (b > g + 20)).mean())


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class Output:
    """Everything minime writes while a test runs: its logs at DEBUG and whatever reaches stdout/stderr."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd, self.logs = capfd, io.StringIO()

    def text(self) -> str:
        return self.logs.getvalue() + "".join(self.capfd.readouterr())


@pytest.fixture()
def debug_output(capfd: pytest.CaptureFixture[str]) -> Iterator[Output]:
    """minime's logging at DEBUG into a buffer of this test; afterwards logging is as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = Output(capfd)
    configure_logging("DEBUG")
    root.handlers[0].setStream(output.logs)
    yield output
    root.handlers[:], root.level = handlers, level


@pytest.fixture(params=PROVIDERS)
async def hosted(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[FakeImageAPI, Settings]]:
    """A started fake of the provider and the settings that point minime at it."""
    fake = fake_for(request.param)
    root = await fake.start()
    yield fake, hosted_settings(tmp_path, request.param, root)
    await fake.stop()


async def running(settings: Settings) -> tuple[Studio, Recorder]:
    studio = build_studio(settings, clock=midday_clock)
    await studio.start()
    recorder = Recorder()
    studio.subscribe("test", recorder)
    return studio, recorder


async def make(studio: Studio, recorder: Recorder, selfie: bytes, command: str, argument: str | None = None,
               user: UserKey = ALICE) -> Done | Failed:
    await studio.receive_selfie(user, selfie)
    job = await studio.apply_theme(user, command, argument)
    return await recorder.wait_for(job.id, timeout=60)


# ---- the looks ------------------------------------------------------------------------------------------------------


async def test_a_plain_look_is_the_models_picture_of_the_selfie_made_with_the_themes_instruction(
        hosted, astronaut: Image.Image, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    studio, recorder = await running(settings)
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
    assert isinstance(done, Done), done
    [sent] = fake.received
    assert sent.prompt == studio.catalog.get("pop-art").diffusion["instruction"], dump(sent)
    assert similarity(sent.image, astronaut) > 0.97, "the selfie itself went to the model"
    if isinstance(fake, FakeOpenAI):
        # this year's model; gpt-image-2 takes no input_fidelity (the SDK says to omit it) and draws any size
        assert sent.options["model"] == "gpt-image-2" and "input_fidelity" not in sent.options
        assert sent.shape == "1248x1248"  # a square selfie: a square picture, at about 1.5 MP
    else:
        assert sent.shape == "1:1" and sent.options["responseModalities"] == ["IMAGE"]
        assert fake.models_asked == ["gemini-3.1-flash-image"], "this year's model"
    image = opened(done.image)
    assert similarity(image, sent.picture) > 0.9, "what the user got is the model's picture"
    assert similarity(image, astronaut) < 0.5, "…not the selfie (the fake model mirrors it)"
    assert provenance.read_source_type(image) == "trainedAlgorithmicMedia"
    assert done.result.mark is not None, "our own invisible mark is on it too"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed (make test installs it)")
async def test_a_packaged_look_puts_the_models_figure_in_the_box_with_the_name_typeset(
        hosted, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    studio, recorder = await running(settings)
    try:
        done = await make(studio, recorder, astronaut_jpeg, "figurine", "Ada")
    finally:
        await studio.stop()
    assert isinstance(done, Done), done
    sent = fake.received[0]
    assert sent.shape in ("1024x1536", "2:3"), "a standing figure is asked for in portrait"
    assert "{name}" not in sent.prompt and "Ada" not in sent.prompt, "the model is never asked to write the name"
    image = opened(done.image)
    assert image.size == (1024, 1280)
    assert provenance.read_source_type(image) == "compositeWithTrainedAlgorithmicMedia"
    assert "ADA" in _ocr_variants(image.convert("RGB").crop((160, 160, 820, 330)), (255, 255, 255))
    window = image.convert("RGB").crop((200, 380, 820, 1000))  # the box's window (the classic figure: no blue)
    assert blue_share(window) > 0.02, "the box shows the model's figure: the fake model's astronaut wears blue"


async def test_a_typed_change_edits_the_previous_picture_colour_words_stay_instant_and_a_variation_asks_again(
        hosted, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    studio, recorder = await running(settings)
    try:
        first = await make(studio, recorder, astronaut_jpeg, "retro", "70s")
        assert isinstance(first, Done), first
        edited = await recorder.wait_for((await studio.refine(ALICE, text="give her a sunhat")).id, timeout=60)
        assert isinstance(edited, Done), edited
        assert fake.received[-1].prompt == "give her a sunhat"
        assert similarity(fake.received[-1].image, fake.received[0].picture) > 0.9, "the previous picture is edited"
        asked = len(fake.received)
        warmer = await recorder.wait_for((await studio.refine(ALICE, text="warmer")).id, timeout=60)
        assert isinstance(warmer, Done) and len(fake.received) == asked, "a colour word never asks the model"
        variation = await recorder.wait_for((await studio.refine(ALICE, action="variation")).id, timeout=60)
        assert isinstance(variation, Done) and len(fake.received) == asked + 1, "a variation asks again"
    finally:
        await studio.stop()


# ---- a real service's manners ---------------------------------------------------------------------------------------


async def test_a_429_and_a_503_are_retried_honouring_retry_after_and_the_picture_still_comes(
        hosted, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    fake.failures = [Failure(429, {"Retry-After": "2"}), Failure(503)]
    studio, recorder = await running(settings)
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
    assert isinstance(done, Done), done
    assert len(fake.attempts) == 3 and len(fake.received) == 1
    assert fake.attempts[1] - fake.attempts[0] >= 1.9, "the 429's Retry-After was waited out"


async def test_a_safety_refusal_is_a_plain_message_and_is_not_retried(
        hosted, astronaut_jpeg: bytes, debug_output: Output) -> None:
    fake, settings = hosted
    fake.refuse = True
    studio, recorder = await running(settings)
    try:
        failed = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
    assert isinstance(failed, Failed), failed
    assert "declined to make this picture" in failed.reason and "safety" in failed.reason
    assert len(fake.attempts) == 1, "a refusal is final"
    output = debug_output.text()
    assert "Traceback" not in output and KEY not in output


async def test_while_the_model_takes_its_time_the_status_says_it_is_waiting_for_it(
        hosted, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    fake.delay_s = 4.5
    studio, recorder = await running(settings)
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
    assert isinstance(done, Done), done
    waiting = [e for e in recorder.of(done.job.id) if isinstance(e, Rendering) and e.waiting_for]
    assert len(waiting) >= 2, "said at once, and again while it waits (a paced status line may skip one)"
    service = "OpenAI" if isinstance(fake, FakeOpenAI) else "Google Gemini"
    status = texts.rendering_text(waiting[-1].percent, waiting[-1].waiting_for)
    assert status.startswith(f"Waiting for the image model at {service}"), status


async def test_several_requests_run_at_once_up_to_the_configured_concurrency(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    fake = FakeGemini(KEY)
    fake.delay_s = 1.5
    root = await fake.start()
    studio, recorder = await running(hosted_settings(tmp_path, "gemini", root, hosted_concurrency=2,
                                                     identity_check=False))
    try:
        users = [UserKey("test", f"u{i}") for i in range(4)]
        jobs = []
        for user in users:
            await studio.receive_selfie(user, astronaut_jpeg)
            jobs.append(await studio.apply_theme(user, "popart"))
        ends = [await recorder.wait_for(job.id, timeout=60) for job in jobs]
    finally:
        await studio.stop()
        await fake.stop()
    assert all(isinstance(end, Done) for end in ends), ends
    assert fake.most_in_flight == 2, "two at a time: as many as allowed, no more"


async def test_the_identity_check_still_applies_a_different_face_is_asked_again_to_keep_the_persons(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    import matplotlib

    fake = FakeGemini(KEY)
    fake.draws = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")  # someone else
    root = await fake.start()
    studio, recorder = await running(hosted_settings(tmp_path, "gemini", root))
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
        await fake.stop()
    assert isinstance(done, Done), done
    assert len(fake.received) == 2, "the model was asked again"
    assert KEEP_FACE in fake.received[1].prompt and KEEP_FACE not in fake.received[0].prompt
    assert any("may not look quite like you" in note for note in done.notes), done.notes


# ---- keys -----------------------------------------------------------------------------------------------------------


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MINIME_", "OPENAI_", "GOOGLE_",
                                                                             "GEMINI_"))}
    environment.update(MINIME_DATA_DIR=str(tmp_path / "data"), MINIME_LOG_LEVEL="DEBUG", **env)
    return subprocess.run([sys.executable, "-m", "minime.core.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def selfie_file(tmp_path_factory: pytest.TempPathFactory, astronaut: Image.Image) -> Path:
    path = tmp_path_factory.mktemp("selfie") / "selfie.jpg"
    astronaut.save(path, quality=92)
    return path


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cli_renders_a_plain_and_a_packaged_look_and_never_prints_the_key(
        tmp_path: Path, provider: str, selfie_file: Path, astronaut: Image.Image) -> None:
    fake = fake_for(provider)
    with served(fake) as root:
        env = {"MINIME_HOSTED_PROVIDER": provider, "MINIME_HOSTED_API_KEY": KEY,
               "MINIME_HOSTED_BASE_URL": base_url(provider, root)}
        plain = cli(tmp_path, "render", str(selfie_file), "-t", "popart", "--engine", "hosted", "-o",
                    str(tmp_path / "popart.png"), **env)
        boxed = cli(tmp_path, "render", str(selfie_file), "-t", "action-figure", "--name", "Grace", "--engine",
                    "hosted", "-o", str(tmp_path / "grace.jpg"), **env)
    for done in (plain, boxed):
        assert done.returncode == 0, done.stderr[-3000:]
        assert KEY not in done.stdout + done.stderr, "the key never reaches a log (DEBUG logging on)"
    popart, grace = Image.open(tmp_path / "popart.png"), Image.open(tmp_path / "grace.jpg")
    assert similarity(popart, fake.received[0].picture) > 0.9 and similarity(fake.received[0].image, astronaut) > 0.97
    assert provenance.read_source_type(popart) == "trainedAlgorithmicMedia"
    assert provenance.read_source_type(grace) == "compositeWithTrainedAlgorithmicMedia"
    assert fake.received[1].prompt == fake.received[1].prompt.strip() and "action figure" in fake.received[1].prompt


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rejected_key_stops_with_one_clear_line_before_any_selfie_is_sent(
        tmp_path: Path, provider: str, selfie_file: Path) -> None:
    fake = fake_for(provider, key="the-right-key")
    with served(fake) as root:
        done = cli(tmp_path, "render", str(selfie_file), "-t", "popart", "--engine", "hosted", "-o",
                   str(tmp_path / "o.png"), MINIME_HOSTED_PROVIDER=provider, MINIME_HOSTED_API_KEY=KEY,
                   MINIME_HOSTED_BASE_URL=base_url(provider, root))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("minime:")]
    assert len(errors) == 1 and "rejected MINIME_HOSTED_API_KEY" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and KEY not in done.stdout + done.stderr
    assert fake.keys_seen and not fake.attempts, "only the key check went out, never the selfie"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_missing_key_is_a_configuration_error_and_nothing_is_sent(
        tmp_path: Path, provider: str, selfie_file: Path) -> None:
    fake = fake_for(provider)
    with served(fake) as root:
        done = cli(tmp_path, "render", str(selfie_file), "-t", "popart", "--engine", "hosted", "-o",
                   str(tmp_path / "o.png"), MINIME_HOSTED_PROVIDER=provider,
                   MINIME_HOSTED_BASE_URL=base_url(provider, root))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "minime: MINIME_ENGINE=hosted needs MINIME_HOSTED_API_KEY: the API key of your "
        f"{'OpenAI' if provider == 'openai' else 'Google Gemini'} (through 127.0.0.1) account")
    assert not fake.keys_seen and not fake.attempts, "nothing was sent"


def test_the_bots_do_not_start_with_a_rejected_key(tmp_path: Path) -> None:
    fake = FakeOpenAI("the-right-key")
    with served(fake) as root:
        started = time.monotonic()
        done = cli(tmp_path, "web", MINIME_ENGINE="hosted", MINIME_HOSTED_PROVIDER="openai",
                   MINIME_HOSTED_API_KEY=KEY, MINIME_HOSTED_BASE_URL=root + "/v1", MINIME_WEB_PORT="0")
    assert done.returncode == 2 and time.monotonic() - started < 120
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("minime: OpenAI") and "rejected MINIME_HOSTED_API_KEY (HTTP 401)" in last, done.stderr
    assert KEY not in done.stdout + done.stderr and "Traceback" not in done.stderr


async def test_a_key_revoked_while_running_tells_the_user_the_bot_is_misconfigured_never_the_key(
        tmp_path: Path, astronaut_jpeg: bytes, debug_output: Output) -> None:
    fake = FakeOpenAI(KEY)
    root = await fake.start()
    studio, recorder = await running(hosted_settings(tmp_path, "openai", root))
    try:
        assert isinstance(await make(studio, recorder, astronaut_jpeg, "popart"), Done)
        fake.key = "rotated-key"
        failed = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
        await fake.stop()
    assert isinstance(failed, Failed) and "misconfigured" in failed.reason and KEY not in failed.reason
    output = debug_output.text()
    assert "rejected MINIME_HOSTED_API_KEY" in output, "the operator's log says what is wrong"
    assert KEY not in output


# ---- privacy and cost -----------------------------------------------------------------------------------------------


async def test_privacy_start_and_the_first_selfie_say_photos_go_to_the_named_provider(
        hosted, astronaut_jpeg: bytes) -> None:
    fake, settings = hosted
    service = "OpenAI" if isinstance(fake, FakeOpenAI) else "Google Gemini"
    studio, recorder = await running(settings)
    try:
        first = await studio.receive_selfie(ALICE, astronaut_jpeg)
        again = await studio.receive_selfie(ALICE, astronaut_jpeg)
        assert not fake.attempts, "a selfie is sent only for a render"
        done = await make(studio, recorder, astronaut_jpeg, "popart")
        stats = (await studio.stats(ALICE)).message()
    finally:
        await studio.stop()
    assert first.notice and service in first.notice and service in first.with_notice("Got your selfie!")
    assert again.notice is None, "said once, not on every selfie"
    assert f"sent to {service}" in texts.privacy_text(settings)
    assert "Nothing is shared or used for training" not in texts.privacy_text(settings)
    assert service in texts.help_text(studio.themes(), settings)
    assert isinstance(done, Done)
    cost = costs.cost_of(settings.hosted_model or costs.DEFAULT_MODELS[settings.hosted_provider])
    assert f"${cost.price_per_image:.3f}" in stats and f"{cost.wh_per_image:g} Wh per image" in stats, stats


def test_without_a_hosted_engine_the_texts_say_photos_stay_here(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert texts.hosted_notice(settings) is None
    assert "Nothing is shared" in texts.privacy_text(settings)
    assert "sent to" not in texts.help_text([], settings)


# ---- this year's models, empty answers, paying only for pictures that arrive, gateways, costs ---------------------

def test_the_default_models_are_this_years_and_the_cost_table_prices_them(tmp_path: Path) -> None:
    from minime.core.engines.hosted.gemini_images import DEFAULT_MODEL as GEMINI
    from minime.core.engines.hosted.openai_images import DEFAULT_MODEL as OPENAI

    assert (GEMINI, OPENAI) == ("gemini-3.1-flash-image", "gpt-image-2")
    gemini = Settings(_env_file=None, data_dir=tmp_path, engine="hosted", hosted_provider="gemini")
    assert (gemini.hosted_price_per_image, gemini.hosted_wh_per_image) == (0.067, 2.9)
    dated = Settings(_env_file=None, data_dir=tmp_path, engine="hosted", hosted_provider="openai",
                     hosted_model="gpt-image-2-2026-04-21")
    assert dated.hosted_price_per_image == costs.COSTS["gpt-image-2"].price_per_image
    mine = Settings(_env_file=None, data_dir=tmp_path, engine="hosted", hosted_provider="openai",
                    hosted_price_per_image=0.02)
    assert mine.hosted_price_per_image == 0.02, "MINIME_HOSTED_PRICE_PER_IMAGE still overrides"


@pytest.mark.parametrize("reason", ["STOP", "NO_IMAGE"])
async def test_gemini_answers_without_a_picture_are_asked_again_twice(
        tmp_path: Path, astronaut_jpeg: bytes, reason: str) -> None:
    fake = FakeGemini(KEY)
    root = await fake.start()
    fake.empty_answers, fake.empty_reason = 2, reason
    studio, recorder = await running(hosted_settings(tmp_path, "gemini", root, daily_quota=1))
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
        await fake.stop()
    assert isinstance(done, Done), done
    assert len(fake.attempts) == 3 and len(fake.received) == 1, "two empty answers, then the picture"


async def test_a_third_empty_answer_is_told_and_the_image_goes_back_to_the_quota(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    fake = FakeGemini(KEY)
    root = await fake.start()
    fake.empty_answers = 3
    studio, recorder = await running(hosted_settings(tmp_path, "gemini", root, daily_quota=1))
    try:
        failed = await make(studio, recorder, astronaut_jpeg, "popart")
        assert isinstance(failed, Failed) and not isinstance(failed, Done), failed
        assert "without a picture" in failed.reason and "declined" not in failed.reason, failed.reason
        assert len(fake.attempts) == 3, "asked three times in all, then the user is told"
        allowance = await studio.allowance(ALICE)
        assert allowance.images_left == 1, "a failed hosted call costs the user nothing"
        done = await make(studio, recorder, astronaut_jpeg, "popart")  # so the day's one picture still comes
        assert isinstance(done, Done), done
        assert (await studio.allowance(ALICE)).images_left == 0
    finally:
        await studio.stop()
        await fake.stop()


async def test_the_openai_provider_reaches_a_compatible_gateway_on_another_path(
        tmp_path: Path, astronaut_jpeg: bytes) -> None:
    """MINIME_HOSTED_BASE_URL pointed at a gateway that serves the OpenAI Images API under its own path."""
    fake = FakeOpenAI(KEY, prefix="/gateway/openai-compatible")
    root = await fake.start()
    settings = hosted_settings(tmp_path, "openai", root, hosted_base_url=root + "/gateway/openai-compatible/v1",
                               hosted_model="gpt-image-1.5")
    studio, recorder = await running(settings)
    try:
        done = await make(studio, recorder, astronaut_jpeg, "popart")
    finally:
        await studio.stop()
        await fake.stop()
    assert isinstance(done, Done), done
    [sent] = fake.received
    assert sent.options["model"] == "gpt-image-1.5" and sent.options["input_fidelity"] == "high"
    assert sent.shape == "1024x1024", "gpt-image-1.5 draws only the standard sizes"
