"""Certificate revocation lists for direct mutual TLS (``serve --crl``), checked and reloaded as nginx's ``ssl_crl``.

The CRLs (PEM, one file, several lists allowed) go into the server context's certificate store, and
OpenSSL refuses a revoked client certificate in the handshake (``VERIFY_CRL_CHECK_LEAF``: the issuing CA's
list is required, as in nginx). The file is re-read when it changes, looked at no more than once every
``CHECK_EVERY`` seconds from the TLS ClientHello callback, so a new list applies to the next handshake
without a restart. OpenSSL keeps every list it was given and uses the newest (``lastUpdate``) per issuer,
so a re-issued list (a revocation added or lifted) replaces the old one. A list that cannot be read on
reload is logged and the previous one stays in force (like a failed ``nginx -s reload``).
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509

log = logging.getLogger("indikera.access")

CHECK_EVERY = 1.0  # seconds between looks at the file (a stat), at most
_BEGIN = b"-----BEGIN X509 CRL-----"


class CRLError(ValueError):
    """A CRL file that cannot be used (message Swedish first, then English)."""


def read_crls(path: Path) -> list[x509.CertificateRevocationList]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CRLError(f"Kan inte läsa spärrlistan {path}: {exc}. (Cannot read the CRL file.)") from None
    blocks = [_BEGIN + part for part in data.split(_BEGIN)[1:]]
    if not blocks:
        raise CRLError(f"{path} innehåller ingen spärrlista i PEM-format. (No PEM CRL in the file.)")
    try:
        return [x509.load_pem_x509_crl(block) for block in blocks]
    except ValueError as exc:
        raise CRLError(f"Spärrlistan {path} kan inte tolkas: {exc}. (The CRL cannot be parsed.)") from None


class CRLFile:
    """One CRL file in one server ``SSLContext``: loaded now, reloaded when it changes."""

    def __init__(self, path: Path, context: ssl.SSLContext) -> None:
        self.path = Path(path)
        self.context = context
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the loaded file
        self._looked = 0.0

    def load(self) -> None:
        """Load the file into the context (raises ``CRLError``) and require CRLs for client certificates."""
        stamp = self._stat()
        crls = read_crls(self.path)
        try:
            self.context.load_verify_locations(cafile=str(self.path))
        except (OSError, ssl.SSLError) as exc:
            raise CRLError(f"Spärrlistan {self.path} kan inte läsas in: {exc}. (OpenSSL cannot load the CRL.)") from None
        self.context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        self._stamp = stamp
        now = datetime.now(timezone.utc)
        for crl in crls:
            if crl.next_update_utc is not None and crl.next_update_utc < now:
                log.warning("CRL from %s in %s expired %s: every certificate it covers is refused until it is renewed",
                            crl.issuer.rfc4514_string(), self.path, crl.next_update_utc.isoformat())

    def attach(self) -> None:
        """Look for a changed file at each TLS ClientHello (at most every ``CHECK_EVERY`` seconds)."""
        self.context.sni_callback = lambda _ssl_object, _server_name, _context: self.reload_if_changed()

    def reload_if_changed(self) -> None:
        now = time.monotonic()
        if now - self._looked < CHECK_EVERY:
            return
        self._looked = now
        try:
            if self._stat() == self._stamp:
                return
            self.load()
            log.info("CRL %s reloaded", self.path)
        except CRLError as exc:
            log.error("CRL %s not reloaded, the previous lists stay in force: %s", self.path, exc)
        except Exception:  # an exception here would fail the handshake of whoever happened to connect
            log.exception("CRL %s not reloaded, the previous lists stay in force", self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size


__all__ = ["CHECK_EVERY", "CRLError", "CRLFile", "read_crls"]
