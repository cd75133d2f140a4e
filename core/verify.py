"""/verify: did minime make this image? By its watermark (the exact result), else its fingerprint (resized copies)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from PIL import Image

from minime.core import intake, metrics, provenance, watermark
from minime.core.domain import Result, UserKey
from minime.core.i18n import gettext as _
from minime.core.logs import get_logger
from minime.core.store import BlobStore, Store
from minime.core.themes import ThemeCatalog

log = get_logger("minime.verify")


@dataclass(frozen=True)
class Verification:
    """What /verify found: whether minime made the image, how it knows, and the result if it is the user's."""

    made_by_minime: bool
    how: str | None = None  # "watermark" or "fingerprint"
    result: Result | None = None  # only when the result belongs to the asking user
    theme_title: str | None = None
    source_type: str | None = None

    def message(self) -> str:
        """The answer in words."""
        if not self.made_by_minime:
            return _("I didn't make this image: it carries no minime watermark and matches nothing I made in the "
                     "last week.")
        kind = _(provenance.description(self.source_type or "compositeSynthetic"))
        watermark = self.how == "watermark"
        if self.result is not None:
            look = _(self.theme_title).lower() if self.theme_title else _("image")
            said = (_("Yes, I made this: it's your {look} (recognised by its hidden watermark).") if watermark else
                    _("Yes, I made this: it's your {look} (recognised by its visual fingerprint)."))
            return said.format(look=look) + " " + kind
        said = (_("Yes, this image was made with minime (recognised by its hidden watermark).") if watermark else
                _("Yes, this image was made with minime (recognised by its visual fingerprint)."))
        return said + " " + kind


class Verifier:
    """Looks an image up among the stored results: first by the mark it carries, then by look-alike fingerprints.

    Args:
        store: the results and their marks and fingerprints.
        blobs: the result files (a mark is read again at a result's own size).
        catalog: the themes, for the answer's wording.
        fingerprints_booked: waits until the fingerprints of results just sent are stored.
    """

    def __init__(self, store: Store, blobs: BlobStore, catalog: ThemeCatalog,
                 fingerprints_booked: Callable[[], Awaitable[None]]) -> None:
        self.store, self.blobs, self.catalog = store, blobs, catalog
        self._fingerprints_booked = fingerprints_booked

    async def __call__(self, user: UserKey, image: Image.Image) -> Verification:
        """Whether minime made ``image`` (an opened, upright picture), asked by ``user``."""
        found, how = await self.recognise(image)
        log.info("image verified", user=str(user), answer=how or "not-ours")
        if found is None:
            return Verification(False)
        own = found if found.user == user else None
        title = self.catalog.get(found.theme_id).title if own else None  # English: message() reads it translated
        return Verification(True, how, own, title, found.source_type)

    async def recognise(self, image: Image.Image) -> tuple[Result | None, str | None]:
        """The result ``image`` is a copy of, whoever made it, and how it was recognised ("watermark" or
        "fingerprint"); (None, None) when minime did not make it."""
        mark, fp = await asyncio.gather(asyncio.to_thread(watermark.read_mark, image),
                                        asyncio.to_thread(watermark.fingerprint, image))
        await self._fingerprints_booked()  # results just sent: their fingerprints
        found, how = None, None
        for candidate in await self.store.results_with_mark(mark):
            if not candidate.fingerprint:  # its fingerprint was lost (a restart right after sending): from its file
                candidate = await self._fingerprint_stored(candidate)
            agrees = bool(candidate.fingerprint) and (
                watermark.distance(fp, candidate.fingerprint) <= watermark.MARK_CONFIRM_DISTANCE)
            if agrees:
                found, how = candidate, "watermark"
        if found is None:  # a resized copy: find look-alikes by fingerprint, then read the mark at their size
            candidates = sorted((watermark.distance(fp, c.fingerprint), c.id, c) for c in
                                await self.store.results_sharing_a_band(fp) if c.fingerprint)
            for distance, _, candidate in candidates[:5]:
                if distance > watermark.MATCH_DISTANCE or candidate.mark is None:
                    break
                if await self._mark_matches_at_size(image, candidate):
                    found, how = candidate, "fingerprint"
                    break
        metrics.VERIFICATIONS.labels(how or "not-ours").inc()
        return found, how

    async def _fingerprint_stored(self, result: Result) -> Result:
        try:
            image = intake.decode_stored(await self.blobs.get(result.image_key))
        except FileNotFoundError:
            return result
        fingerprint = await asyncio.to_thread(watermark.fingerprint, image)
        await self.store.set_fingerprint(result, fingerprint)
        return replace(result, fingerprint=fingerprint)

    async def _mark_matches_at_size(self, image: Image.Image, candidate: Result) -> bool:
        try:
            size = intake.stored_size(await self.blobs.get(candidate.image_key))
        except FileNotFoundError:
            return False
        mark = await asyncio.to_thread(watermark.read_mark, image, size)
        return watermark.mark_errors(mark, candidate.mark or 0) <= watermark.RESIZED_MARK_ERRORS
