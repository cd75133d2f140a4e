"""Responsible output: provenance in every file, C2PA credentials, /verify, energy and /stats, identity, safety,
and the operator's allow and deny lists."""

from __future__ import annotations

import datetime
import io
from collections.abc import AsyncIterator
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from prometheus_client import REGISTRY

from minime.core import provenance
from minime.core.app import build_studio
from minime.core.checks import FaceIdentity
from minime.core.content_credentials import read_manifest
from minime.core.domain import Done, Failed, RenderParams, UserKey
from minime.core.engines import RenderRequest
from minime.core.engines.classic import ClassicEngine
from minime.core.errors import NotAllowed
from minime.core.settings import Settings
from minime.core.studio import Studio
from minime.core.themes import ThemeCatalog
from tests import tiny_diffusion
from tests.conftest import Recorder

CATALOG = ThemeCatalog.from_dir(Path(__file__).resolve().parent.parent / "themes")
ALICE, BOB = UserKey("test", "alice"), UserKey("test", "bob")


def jpeg(data: bytes, scale: float = 1.0, quality: int = 75) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def self_signed_chain(folder: Path) -> tuple[Path, Path]:
    """A test CA and an ES256 signing certificate it issued (what an operator's C2PA credentials look like)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "minime tests")])

    def usage(**on: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        return x509.KeyUsage(**{**flags, **on})

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("minime test CA")).issuer_name(name("minime test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("minime test signer")).issuer_name(name("minime test CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain, private = folder / "chain.pem", folder / "key.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return chain, private


@pytest.fixture()
async def signed_studio(tmp_path: Path) -> AsyncIterator[tuple[Studio, Recorder]]:
    chain, key = self_signed_chain(tmp_path)
    studio = build_studio(Settings(_env_file=None, data_dir=tmp_path / "data", c2pa_cert_chain=chain,
                                   c2pa_private_key=key))
    await studio.start()
    recorder = Recorder()
    studio.subscribe("test", recorder)
    yield studio, recorder
    await studio.stop()


async def render(studio: Studio, recorder: Recorder, user: UserKey, command: str, argument: str | None = None
                 ) -> Done:
    event = await recorder.wait_for((await studio.apply_theme(user, command, argument)).id, timeout=120)
    assert isinstance(event, Done), event
    return event


async def test_every_result_carries_provenance_and_a_valid_c2pa_manifest(
        signed_studio: tuple[Studio, Recorder], astronaut_jpeg: bytes) -> None:
    studio, recorder = signed_studio
    await studio.receive_selfie(ALICE, astronaut_jpeg)
    done = await render(studio, recorder, ALICE, "figurine", "Alice")
    image = Image.open(io.BytesIO(done.image))
    assert provenance.read_source_type(image) == "compositeSynthetic"
    assert "minime" in image.getexif()[0x010E] and image.getexif()[0x0131] == "minime"
    manifest = read_manifest(done.image)
    assert manifest is not None and manifest["validation_state"] in ("Valid", "Trusted"), manifest
    active = manifest["manifests"][manifest["active_manifest"]]
    actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["digitalSourceType"].endswith("/compositeSynthetic")
    tampered = bytearray(done.image)
    tampered[len(tampered) // 2] ^= 0xFF
    broken = read_manifest(bytes(tampered))
    assert broken is None or broken["validation_state"] == "Invalid", "a changed image no longer validates"


async def test_verify_recognises_copies_and_claims_nothing_else(studio: Studio, recorder: Recorder,
                                                                astronaut_jpeg: bytes, no_person_png: bytes) -> None:
    await studio.receive_selfie(ALICE, astronaut_jpeg)
    results = [await render(studio, recorder, ALICE, command, argument)
               for command, argument in (("figurine", "Alice"), ("retro", "70s"), ("polaroid", "Summer"))]
    for done in results:
        for copy in (jpeg(done.image), jpeg(done.image, 0.5)):
            answer = await studio.verify(ALICE, copy)
            assert answer.made_by_minime and answer.result is not None and answer.result.id == done.result.id
        strangers_view = await studio.verify(BOB, jpeg(done.image, 0.5))
        assert strangers_view.made_by_minime and strangers_view.result is None, "someone else's: no details"
    grace = io.BytesIO()
    Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).save(grace, "JPEG")
    for unrelated in (astronaut_jpeg, no_person_png, grace.getvalue()):
        answer = await studio.verify(ALICE, unrelated)
        assert not answer.made_by_minime, "the selfie itself and other photos are not claimed"
        assert answer.message().startswith("I didn't make this image")


async def test_stats_after_three_renders(studio: Studio, recorder: Recorder, astronaut_jpeg: bytes) -> None:
    assert (await studio.stats(ALICE)).images == 0
    await studio.receive_selfie(ALICE, astronaut_jpeg)
    for command, argument in (("miniature", None), ("retro", "80s"), ("popart", None)):
        await render(studio, recorder, ALICE, command, argument)
    stats = await studio.stats(ALICE)
    assert stats.images == 3 and stats.energy_wh > 0
    assert stats.gpu_wh == pytest.approx(3 * 2.9)
    text = stats.message()
    assert "Images you have with me: 3" in text and "GPU image model" in text


def test_the_identity_check_tells_the_astronauts_figurine_from_another_face(astronaut: Image.Image) -> None:
    identity = FaceIdentity()
    grace = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg"))
    engine = ClassicEngine(1024)
    for theme in ("figurine", "action-figure", "miniature", "retro-70s", "retro-80s", "retro-90s", "polaroid"):
        out = engine.render(RenderRequest(astronaut, CATALOG.get(theme), RenderParams(name="Eileen", seed=3))).image
        assert identity.distance(astronaut, out) < 0.6, f"{theme}: the classic engine keeps the face"
        assert identity.distance(grace, out) > 0.6, f"{theme}: and it is not Grace Hopper's"
    assert identity.distance(astronaut, grace) > 0.6


def _classifier(folder: Path, unsafe_bias: float) -> Path:
    """A tiny ViT image classifier with labels normal/nsfw whose head always prefers one of them."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=37, num_labels=2, id2label={0: "normal", 1: "nsfw"},
                       label2id={"normal": 0, "nsfw": 1})
    model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, unsafe_bias]))
    model.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("unsafe_bias, flagged", [(6.0, True), (-6.0, False)])
async def test_flagged_diffusion_output_is_never_sent(tmp_path: Path, astronaut_jpeg: bytes,
                                                      capsys: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture, unsafe_bias: float,
                                                      flagged: bool) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", engine="diffusion",
                        diffusion_model=str(tiny_diffusion.save_sd(tmp_path / "sd")), diffusion_resolution=64,
                        diffusion_steps=2, nsfw_model=str(_classifier(tmp_path / "nsfw", unsafe_bias)))
    studio = build_studio(settings)
    await studio.start()
    try:
        recorder = Recorder()
        studio.subscribe("test", recorder)
        await studio.receive_selfie(ALICE, astronaut_jpeg)
        event = await recorder.wait_for((await studio.apply_theme(ALICE, "retro", "70s")).id, timeout=120)
        if flagged:
            assert isinstance(event, Failed) and "safety check" in event.reason
            assert await studio.store.count_results(ALICE) == 0, "nothing stored, nothing sent"
            # structlog prints (tests) or goes through logging (once configure_logging has run): look in both.
            captured = capsys.readouterr()
            lines = (captured.out + captured.err).splitlines() + [r.getMessage() for r in caplog.records]
            assert any("blocked by the safety check" in line for line in lines), "operators get a log line"
            assert all(len(line) < 2000 for line in lines), "and never the image"
            assert REGISTRY.get_sample_value("minime_blocked_outputs_total", {"check": "nsfw"}) >= 1
        else:
            assert isinstance(event, Done)
            assert provenance.read_source_type(Image.open(io.BytesIO(event.image))) == "trainedAlgorithmicMedia"
    finally:
        await studio.stop()


async def test_allow_and_deny_lists(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", allow_users=["test:alice", "test:bob"],
                        deny_users=["test:bob"])
    studio = build_studio(settings)
    await studio.start()
    try:
        assert (await studio.receive_selfie(ALICE, astronaut_jpeg)).selfie_id
        for user in (BOB, UserKey("test", "carol")):
            with pytest.raises(NotAllowed) as err:
                await studio.receive_selfie(user, astronaut_jpeg)
            assert "isn't available to you" in err.value.user_message
            with pytest.raises(NotAllowed):
                await studio.apply_theme(user, "popart")
    finally:
        await studio.stop()


def test_the_mark_is_invisible(astronaut: Image.Image) -> None:
    from minime.core import watermark

    out = ClassicEngine(1024).render(RenderRequest(astronaut, CATALOG.get("figurine"),
                                                   RenderParams(name="Eileen", seed=3))).image
    marked = watermark.embed(out, watermark.new_mark())
    a, b = np.asarray(out, np.float32), np.asarray(marked, np.float32)
    luma = lambda x: x @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
    assert np.abs(luma(a) - luma(b)).mean() < 2.0, "brightness is untouched (the mark lives in the U channel)"
    assert np.abs(a - b).mean() < 6.0


class PortraitEngine:
    """A hand-written engine that 'generates' a given portrait: someone else's face first, the selfie on a retry
    with stronger identity (or someone else's every time)."""

    name = "portrait"
    understands_instructions = False

    def __init__(self, stranger: Image.Image, recovers: bool) -> None:
        self.stranger, self.recovers, self.boosts = stranger, recovers, []

    async def __call__(self, request: RenderRequest, *, progress=None):
        from minime.core.engines import RenderOutput

        self.boosts.append(request.identity_boost)
        face = request.source if (self.recovers and request.identity_boost) else self.stranger
        return RenderOutput(face.convert("RGB").resize((512, 600)), (), "trainedAlgorithmicMedia")

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("recovers", [True, False])
async def test_a_different_face_is_rendered_again_then_delivered_with_a_note(tmp_path: Path, astronaut_jpeg: bytes,
                                                                           recovers: bool) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", watermark=False)
    engine = PortraitEngine(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")), recovers)
    studio = build_studio(settings, engine=engine)
    await studio.start()
    try:
        recorder = Recorder()
        studio.subscribe("test", recorder)
        await studio.receive_selfie(ALICE, astronaut_jpeg)
        done = await render(studio, recorder, ALICE, "miniature")
        assert engine.boosts == [0.0, 1.0], "one retry, closer to the selfie"
        note = any("may not look quite like you" in n for n in done.notes)
        assert note is not recovers
    finally:
        await studio.stop()
