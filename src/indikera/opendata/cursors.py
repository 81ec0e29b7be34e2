"""Signed pagination cursors.

A cursor is ``<payload>.<signature>``: the payload (base64url JSON: ordering, last key, filter digest) and
an HMAC-SHA256 of it under the installation's secret (``settings.cursor_secret``, or one generated once and
kept in the database, so every process serving the database accepts every other's cursors). A client can
read a cursor but not forge one: without the signature check, a re-encoded key such as ``10**30`` reached
the database and answered 500. Anything not issued by us for the same filters is a 400 problem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from .problems import ProblemError, bad_parameter

SECRET_KEY = "cursor_secret"  # its row in the database's settings table
MAX_LEN = 1000
_SIG_BYTES = 16  # 128 bits of HMAC-SHA256: forging stays out of reach, cursors stay short
_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{22}")
_INT_RANGE = range(-(2**63), 2**63)  # what a BIGINT column can compare with
_MAX_TEXT = 300


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:  # one encoding per cursor: stray low bits in the last character are a different cursor
        raise ValueError("non-canonical base64")
    return raw


def _bad() -> ProblemError:
    return bad_parameter("cursor", "Ogiltig cursor: använd länken i next från föregående sida.",
                         "Invalid cursor: use the next link of the previous page.")


def _plain(value: Any) -> bool:
    """A key part we issue: a bounded string or an integer a database column can hold."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in _INT_RANGE
    return isinstance(value, str) and len(value) <= _MAX_TEXT


class Cursors:
    """Encode and check cursors with one installation secret, fetched on first use."""

    def __init__(self, secret: Callable[[], bytes]) -> None:
        self._load = secret
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def _key(self) -> bytes:
        with self._lock:
            if self._secret is None:
                self._secret = self._load()
            return self._secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key(), payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def encode(self, order: str, key: list[Any], digest: str) -> str:
        payload = json.dumps({"o": order, "k": key, "f": digest}, separators=(",", ":"), default=str).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, value: str | None, digest: str) -> tuple[str, list[Any]] | None:
        """(ordering, last key) of a cursor we signed for the same filters; None without one; else 400."""
        if value is None or value == "":
            return None
        if len(value) > MAX_LEN or not _SHAPE.fullmatch(value):
            raise _bad()
        body, _, sig = value.partition(".")
        try:
            payload, signature = _unb64(body), _unb64(sig)
        except (binascii.Error, ValueError):
            raise _bad() from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise _bad()
        try:
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError):  # pragma: no cover - only a signed payload gets here
            raise _bad() from None
        if not (isinstance(data, dict) and isinstance(data.get("o"), str) and isinstance(data.get("k"), list)
                and all(_plain(v) for v in data["k"])):
            raise _bad()
        if data.get("f") != digest:
            raise bad_parameter("cursor", "Cursorn hör till en annan fråga (andra filter).",
                                "The cursor belongs to another query (other filters).")
        return data["o"], data["k"]


__all__ = ["Cursors", "SECRET_KEY"]
