"""The playground's defences: response headers, cross-site write checks, signed session ids and sliding-window limits.

aiohttp has no CSRF, signed-cookie or rate-limit parts of its own (aiohttp-session and friends would add a session
store we do not need: the session is only an id), so these few small pieces are written here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

SECURITY_HEADERS = {
    # Everything the page uses is its own (no inline script); camera previews and picked files are blob:, and so
    # are the figure's files and the textures <model-viewer> reads out of a GLB (connect-src). The vendored
    # <model-viewer> styles its shadow DOM inline and compiles WebAssembly decoders: 'unsafe-inline' for styles
    # only, and 'wasm-unsafe-eval' (WebAssembly, not JavaScript eval) for scripts.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; media-src 'self' blob:; "
                               "connect-src 'self' blob: data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SERVER = "minime"  # instead of aiohttp's name and version
HEADER_TIMEOUT_S = 10.0
"""A connection must send a whole request's headers this soon after it opens or after its last answer (aiohttp's
``keepalive_timeout`` starts at the connection and is not reset by bytes trickling in; its default of 75 s let a
slowloris hold connections open)."""
ADDRESS_LOGIN_FACTOR = 6
"""Wrong passwords one client address may send, as a multiple of one session's: people behind one address (an
office, a carrier's NAT) each have their own session, and a client that makes a new session per guess still meets
this."""


async def add_security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer (static files and errors too) carries the headers."""
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server"] = SERVER


def cross_site(request: web.Request) -> bool:
    """Whether a browser sent this request from another site or origin (another port of the same host included,
    which SameSite cookies do not tell apart). Clients that are not browsers send neither header."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == "null" or urlsplit(origin).netloc.lower() != (request.host or "").lower()
    return False


class SessionSigner:
    """Session ids the server issued, signed with a secret kept in the data folder (so they survive restarts);
    a cookie the client made up, or one of another server, does not verify."""

    def __init__(self, data_dir: Path) -> None:
        self._key = _secret(data_dir / "web-session.key")

    def issue(self) -> str:
        """A new signed session id."""
        token = secrets.token_urlsafe(24)
        return f"{token}.{self._mac(token)}"

    def verify(self, cookie: str | None) -> bool:
        """Whether the cookie is a session id this server issued."""
        if not cookie or "." not in cookie or len(cookie) > 200:
            return False
        token, _, mac = cookie.rpartition(".")
        return hmac.compare_digest(mac, self._mac(token))

    def _mac(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:32]


def _secret(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        key = secrets.token_bytes(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key.hex())
        return key


class SlidingWindow:
    """At most ``limit`` hits per key in the last ``window_s`` seconds (keys: a client address, a session)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may hit again; 0 when it may now."""
        hits = self._prune(key, time.monotonic())
        return 0.0 if len(hits) < self.limit else max(0.1, hits[0] + self.window_s - time.monotonic())

    def hit(self, key: str) -> None:
        """Count one hit."""
        self._prune(key, time.monotonic()).append(time.monotonic())

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(self._hits) > 10_000:  # forget idle keys so the table cannot grow without bound
            for idle in [k for k, v in self._hits.items() if not v and k != key]:
                del self._hits[idle]
        return hits


class LoginThrottle:
    """Wrong passwords: ``limit`` per browser session in ``window_s`` seconds, so one person's typos lock out only
    that person, not everyone behind the same address; a request without a session of ours counts against its
    address with the same limit; and every address has a larger budget (``ADDRESS_LOGIN_FACTOR`` times) that
    sessions made up to guess on cannot get past."""

    def __init__(self, limit: int, window_s: float) -> None:
        self._sessions = SlidingWindow(limit, window_s)
        self._addresses = SlidingWindow(limit * ADDRESS_LOGIN_FACTOR, window_s)

    def retry_after(self, session: str | None, address: str) -> float:
        """Seconds until this session (None: none of ours) at ``address`` may try again; 0 when it may now."""
        own = self._sessions.retry_after(f"session:{session}" if session else f"address:{address}")
        return max(own, self._addresses.retry_after(address))

    def failed(self, session: str | None, address: str) -> None:
        """Count one wrong password."""
        self._sessions.hit(f"session:{session}" if session else f"address:{address}")
        self._addresses.hit(address)
