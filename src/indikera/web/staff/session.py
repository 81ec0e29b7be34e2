"""The staff session: a server-signed cookie (no session table) and the CSRF token bound to it.

The cookie holds who logged in (the admin token's name or the certificate's HSA-id, never the token), how, a
random session id and an expiry, signed with HMAC-SHA256 under the installation secret ``staff_session_secret``
(generated once and kept in the database's ``settings`` table, like the cursor key). The CSRF token is an HMAC
of the session id under the same key: a synchronizer token that only the holder of this session's cookie can
have, checked on every POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "indikera_personal"
SECRET_KEY = "staff_session_secret"  # its row in the settings table
LIFETIME_SECONDS = 30 * 60  # short: a forgotten browser stays logged in for half an hour at most
MAX_COOKIE_CHARS = 1000


@dataclass(frozen=True)
class StaffSession:
    name: str  # the actor: token name or certificate HSA-id
    method: str  # token | certificate
    sid: str
    expires: int  # epoch seconds

    @property
    def actor(self) -> str:
        return f"{self.method}:{self.name}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: bytes, data: bytes) -> bytes:
    return hmac.new(key, purpose + b"\0" + data, hashlib.sha256).digest()


def issue(key: bytes, name: str, method: str, now: float | None = None) -> tuple[StaffSession, str]:
    """A new session and its cookie value."""
    now = time.time() if now is None else now
    session = StaffSession(name, method, secrets.token_hex(16), int(now) + LIFETIME_SECONDS)
    payload = json.dumps({"n": name, "m": method, "s": session.sid, "e": session.expires}, separators=(",", ":")).encode()
    return session, _b64(payload) + "." + _b64(_mac(key, b"session", payload))


def read(key: bytes, value: str | None, now: float | None = None) -> StaffSession | None:
    """The session of a cookie value, or None when it is missing, forged, malformed or expired."""
    if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except ValueError:
        return None
    if not hmac.compare_digest(given, _mac(key, b"session", payload)):
        return None
    try:
        data = json.loads(payload)
        session = StaffSession(str(data["n"]), str(data["m"]), str(data["s"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > (time.time() if now is None else now) else None


def csrf_token(key: bytes, session: StaffSession) -> str:
    return _b64(_mac(key, b"csrf", session.sid.encode()))


def csrf_ok(key: bytes, session: StaffSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), csrf_token(key, session).encode())


def set_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=LIFETIME_SECONDS, path="/personal", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/personal", httponly=True, samesite="strict", secure=request.url.scheme == "https")


def same_origin(request: Request) -> bool:
    """False for a POST a browser says comes from another site (Sec-Fetch-Site, Origin): a second wall beside
    SameSite=Strict and the CSRF token (it also covers the login form, which has no session yet)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        return origin == f"{request.url.scheme}://{request.url.netloc}"
    return origin != "null"


__all__ = ["COOKIE", "LIFETIME_SECONDS", "SECRET_KEY", "StaffSession", "clear_cookie", "csrf_ok", "csrf_token",
           "issue", "read", "same_origin", "set_cookie"]
