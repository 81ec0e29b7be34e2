"""Admin API tokens kept in the database: made, listed and revoked with ``indikera admin token …``.

A token is 256 random bits (``ikt_`` + base64url); only its SHA-256 is stored, so a copy of the database
gives no usable token, and a hash of a high-entropy secret needs no salt or slow KDF. A presented token is
looked up by its hash and the stored hash compared in constant time. Each token has a unique name (the
audit log's actor, ``token:<name>``), an expiry and possibly a revocation; rotating is making a new token
and revoking the old one. Tokens from the ``admin_tokens`` setting keep working beside these (bootstrap).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.errors import IndikeraError
from ..store.access_tables import admin_tokens
from ..store.db import writer
from ..store.repositories import utcnow

PREFIX = "ikt_"  # recognisable in a leaked file or a secret scanner
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None

    def status(self, now: datetime | None = None) -> str:
        """active | expired | revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if _utc(self.expires_at) <= (now or utcnow()) else "active"


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts  # SQLite gives naive UTC


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create(engine: Engine, name: str, expires_at: datetime, created_by: str) -> str:
    """Store a new token named ``name``; returns the token (the only time it exists outside the caller)."""
    if not NAME.match(name):
        raise IndikeraError("TOKEN_NAME", f"ogiltigt tokennamn {name[:40]!r}: bokstäver, siffror och . _ @ -, högst 100 tecken",
                            f"invalid token name {name[:40]!r}: letters, digits and . _ @ -, at most 100 characters")
    if _utc(expires_at) <= utcnow():
        raise IndikeraError("TOKEN_EXPIRY", "utgångstiden har redan passerat", "the expiry time has already passed")
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        with writer(engine).begin() as conn:
            conn.execute(insert(admin_tokens).values(name=name, token_sha256=digest(token), created_by=created_by,
                                                     created_at=utcnow(), expires_at=_utc(expires_at)))
    except IntegrityError:
        raise IndikeraError("TOKEN_NAME_TAKEN", f"det finns redan en token med namnet {name!r}; välj ett nytt namn",
                            f"a token named {name!r} exists already; choose a new name") from None
    return token


def revoke(engine: Engine, name: str, revoked_by: str) -> bool:
    """Revoke the token named ``name``; False when there is none, or it was revoked already."""
    with writer(engine).begin() as conn:
        done = conn.execute(update(admin_tokens).where(admin_tokens.c.name == name, admin_tokens.c.revoked_at.is_(None))
                            .values(revoked_at=utcnow(), revoked_by=revoked_by))
    return done.rowcount == 1


def list_all(engine: Engine) -> list[TokenInfo]:
    cols = [c for c in admin_tokens.c if c.name != "token_sha256"]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(admin_tokens.c.name)).all()
    return [TokenInfo(**r._mapping) for r in rows]


def check(engine: Engine, presented: str) -> tuple[str | None, str]:
    """(name, "") for a valid token; (name or None, why not) otherwise. Never returns or logs the token."""
    wanted = digest(presented)
    with engine.connect() as conn:
        row = conn.execute(select(admin_tokens).where(admin_tokens.c.token_sha256 == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_sha256, wanted):
        return None, "unknown admin token"
    info = TokenInfo(**{k: v for k, v in row._mapping.items() if k != "token_sha256"})
    status = info.status()
    if status != "active":
        return info.name, f"admin token {info.name!r} is {status}"
    return info.name, ""


__all__ = ["PREFIX", "TokenInfo", "check", "create", "digest", "list_all", "revoke"]
