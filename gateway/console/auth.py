"""Who is asking: signed session cookies, CSRF tokens, roles and login throttling.

- The session cookie holds a random token signed with the console's secret (itsdangerous);
  the store keeps only the token's SHA-256, with the user, a CSRF token and two clocks (idle
  timeout, maximum age). HttpOnly, SameSite=Strict, Secure when configured.
- Every POST carries the session's CSRF token (a hidden form field, or the ``X-CSRF-Token``
  header for the JSON API); the login form, before any session, uses a double-submit cookie.
- Roles: viewer < operator < admin (:class:`gateway.store.operator_models.Role`); a missing
  role is 403.
- Logins are throttled: :data:`MAX_FAILURES` failures for one user name from one address (or
  five times as many from one address, any names) within :data:`WINDOW_SECONDS` refuse
  further tries (HTTP 429) until the window passes. Behind a reverse proxy on loopback the
  address is the proxy's X-Forwarded-For (uvicorn trusts it from 127.0.0.1 only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, Signer

from gateway.config.settings import ConsoleSettings
from gateway.fsutil import PRIVATE_FILE, atomic_write
from gateway.store.base import MessageStore
from gateway.store.operator_models import Role, User

COOKIE = "gateway_session"
LOGIN_COOKIE = "gateway_login"
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


_KEY_CHARACTERS = 64  # 32 random bytes, hex


def load_secret(path: Path) -> bytes:
    """The cookie-signing key, created (32 random bytes, mode 0600) on first start.

    Created atomically (a temp file, fsync, rename): a crash half-way leaves no key rather
    than an empty one every cookie would then be signed with. A key left empty or cut short
    by an older version is replaced the same way."""
    if not path.exists() or len(path.read_text().strip()) < _KEY_CHARACTERS:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, prefix=".console-secret-", mode=PRIVATE_FILE) as pending:
            pending.file.write(secrets.token_hex(_KEY_CHARACTERS // 2).encode())
    return path.read_text().strip().encode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """A signed-in user and their session's CSRF token."""

    user: User
    csrf_token: str
    token_sha256: str

    @property
    def actor(self) -> str:
        return f"console:{self.user.name}"

    def can(self, role: Role) -> bool:
        return self.user.role.allows(role)


class Sessions:
    """Signs, opens and ends session cookies against the store."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._signer = Signer(load_secret(settings.secret_file), salt="gateway-console-session")

    @property
    def max_seconds(self) -> int:
        return self.settings.max_hours * 3600

    def start(self, store: MessageStore, user: User) -> str:
        """A new session for ``user``; the cookie value to set."""
        token = secrets.token_urlsafe(32)
        store.add_session(token_hash(token), user.name, secrets.token_urlsafe(32))
        return self._signer.sign(token).decode()

    def caller(self, store: MessageStore, cookie: str | None) -> Caller | None:
        """The live session a cookie names, or None (absent, forged, expired, disabled)."""
        if not cookie:
            return None
        try:
            token = self._signer.unsign(cookie).decode()
        except BadSignature:
            return None
        session = store.touch_session(token_hash(token), idle_seconds=self.settings.idle_minutes
                                      * 60.0, max_seconds=float(self.max_seconds))
        if session is None:
            return None
        user = store.get_user(session.user_name)
        if user is None or user.disabled:
            return None
        return Caller(user, session.csrf_token, session.token_sha256)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class LoginThrottle:
    """Failed logins per key (client address, user name) in a sliding window, in memory:
    each daemon counts its own (several behind a proxy allow a few more tries in total)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until a login may be tried again for any of ``keys`` (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key, deque())
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.max_failures:
                    wait = max(wait, times[0] + self.window - now)
        return int(wait) + (1 if wait else 0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
