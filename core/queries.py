"""Read-only questions about one user's session, results and selfie, each answered only to its owner."""

from __future__ import annotations

from minime.core.domain import Result, UserKey
from minime.core.errors import NoSelfie, NotYours, ResultNotFound
from minime.core.i18n import gettext as _
from minime.core.store import BlobStore, Store


class UserQueries:
    """What a user has: their results (someone else's is NotYours), their selfie, a request waiting for a part."""

    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store, self.blobs = store, blobs

    async def result(self, user: UserKey, result_id: str | None = None) -> Result:
        """A result of this user (the current one by default); NotYours when it is someone else's (a group member's
        picture: what it is stays theirs), ResultNotFound when it is gone."""
        if result_id is None:
            result_id = (await self.store.get_session(user)).current_result_id
        result = await self.store.get_result(result_id) if result_id else None
        if result is None:
            raise ResultNotFound()
        if result.user != user:
            raise NotYours()
        return result

    async def result_image(self, user: UserKey, result_id: str | None = None) -> tuple[Result, bytes]:
        """A result of this user and its stored image bytes; anyone else's is ResultNotFound, as if it did not exist
        (the file is private)."""
        try:
            result = await self.result(user, result_id)
        except NotYours:
            raise ResultNotFound() from None
        try:
            return result, await self.blobs.get(result.image_key)
        except FileNotFoundError:
            raise ResultNotFound() from None

    async def has_selfie(self, user: UserKey) -> bool:
        """Whether a current, unexpired selfie is stored."""
        return bool((await self.store.get_session(user)).selfie_key)

    async def selfie_image(self, user: UserKey) -> bytes:
        """The user's current selfie (normalised JPEG); NoSelfie when there is none."""
        key = (await self.store.get_session(user)).selfie_key
        if not key:
            raise NoSelfie(_("Send me a selfie first."))
        return await self.blobs.get(key)

    async def waiting_for(self, user: UserKey) -> str | None:
        """What a remembered request of the user waits for: "selfie", "argument", or None (nothing waits)."""
        pending = (await self.store.get_session(user)).pending
        return pending.get("awaiting") if pending else None
