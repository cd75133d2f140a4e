"""C2PA Content Credentials (c2pa-python): a signed manifest that says minime generated the image, and how.

Signed only when the operator configures a certificate chain and key (``MINIME_C2PA_CERT_CHAIN``,
``MINIME_C2PA_PRIVATE_KEY``, PEM files; ES256/P-256 by default). Without them, images carry the XMP/EXIF provenance
and the watermark only.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from minime.core import provenance
from minime.core.logs import get_logger

log = get_logger("minime.c2pa")



@dataclass(frozen=True)
class ContentCredentials:
    """Signs JPEGs with a C2PA manifest using the operator's certificate."""

    cert_chain: Path
    private_key: Path
    algorithm: str = "es256"
    timestamp_url: str | None = None

    @cached_property
    def _signer_info(self):
        import c2pa

        return c2pa.C2paSignerInfo(getattr(c2pa.C2paSigningAlg, self.algorithm.upper()),
                                   self.cert_chain.read_bytes(), self.private_key.read_bytes(),
                                   (self.timestamp_url or "").encode() or None)

    def manifest(self, source_type: str, title: str) -> dict:
        """The manifest definition: generator, digital source type, an AI-generation note."""
        # C2PA requires the first action to be "created" (or "opened" with the parent as an ingredient; the selfie
        # is personal data and is not embedded), with the digital source type saying how.
        actions = [{"action": "c2pa.created", "digitalSourceType": f"{provenance.VOCABULARY}{source_type}",
                    "softwareAgent": {"name": provenance.SOFTWARE}}]
        return {
            "claim_generator_info": [{"name": provenance.SOFTWARE, "version": "0.1"}],
            "title": title,
            "format": "image/jpeg",
            "assertions": [
                {"label": "c2pa.actions.v2", "data": {"actions": actions}},
                {"label": "stds.schema-org.CreativeWork",
                 "data": {"@context": "https://schema.org", "@type": "CreativeWork",
                          "description": provenance.description(source_type)}},
            ],
        }

    def sign_jpeg(self, data: bytes, source_type: str, title: str = "minime image") -> bytes:
        """The JPEG with the signed manifest embedded."""
        import c2pa

        signer = c2pa.Signer.from_info(self._signer_info)
        try:
            with c2pa.Builder(json.dumps(self.manifest(source_type, title))) as builder:
                out = io.BytesIO()
                builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
                return out.getvalue()
        finally:
            signer.close()


def read_manifest(data: bytes) -> dict | None:
    """The active manifest store of a JPEG as JSON (with ``validation_state``), or None when it has none."""
    import c2pa

    try:
        with c2pa.Reader("image/jpeg", io.BytesIO(data)) as reader:
            store = json.loads(reader.json())
            store["validation_state"] = reader.get_validation_state()
            return store
    except c2pa.C2paError:
        return None
