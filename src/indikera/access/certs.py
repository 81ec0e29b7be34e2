"""Reading the facts identity needs from an X.509 certificate: subject HSA-id, fingerprint, names.

SITHS function certificates carry the system's HSA-id in the subject ``serialNumber`` (OID 2.5.4.5),
the attribute NTjP's VP reads as the sender id. Certificates reach us already verified (by our own TLS
handshake or by a trusted proxy); this module only parses, it never decides trust.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

# HSA-ids look like SE2321000016-ABCD or TSTNMT2321000156-B02: letters, digits, dashes, upper-cased.
HSA_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")
MAX_CERT_HEADER_CHARS = 16_384  # a Client-Cert header longer than this is refused unparsed


class CertificateError(ValueError):
    """A certificate (or a header carrying one) that cannot be read."""


@dataclass(frozen=True)
class PeerCertificate:
    der: bytes
    hsa_id: str | None  # subject serialNumber, upper-cased; None when missing or not an HSA-id
    fingerprint: str  # SHA-256 of the DER, lower-case hex without separators
    subject: str  # RFC 4514 string, for logs

    @classmethod
    def from_der(cls, der: bytes) -> "PeerCertificate":
        try:
            cert = x509.load_der_x509_certificate(der)
            subject = cert.subject
            serials = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
            subject_text = subject.rfc4514_string()
        except ValueError as exc:
            raise CertificateError(f"certificate cannot be parsed: {exc}") from None
        hsa_id = normalise_hsa_id(str(serials[0].value)) if serials else None
        return cls(der=der, hsa_id=hsa_id, fingerprint=fingerprint(der), subject=subject_text)

    @classmethod
    def from_pem(cls, pem: str | bytes) -> "PeerCertificate":
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            raise CertificateError(f"certificate cannot be parsed: {exc}") from None
        from cryptography.hazmat.primitives.serialization import Encoding

        return cls.from_der(cert.public_bytes(Encoding.DER))


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """``AB:CD:…`` or ``abcd…`` → ``abcd…`` (how fingerprints are configured varies)."""
    return text.replace(":", "").replace(" ", "").strip().lower()


def normalise_hsa_id(text: str) -> str | None:
    """An upper-cased HSA-id, or None when ``text`` is not shaped like one (TAK stores them upper-case)."""
    value = text.strip().upper()
    return value if HSA_ID_RE.match(value) else None


def parse_client_cert_header(value: str) -> bytes:
    """The DER bytes of an RFC 9440 ``Client-Cert`` field: a structured-field byte sequence ``:base64:``."""
    value = value.strip()
    if len(value) > MAX_CERT_HEADER_CHARS:
        raise CertificateError("Client-Cert header is too long")
    if len(value) < 3 or value[0] != ":" or value[-1] != ":":
        raise CertificateError("Client-Cert header is not an RFC 9440 byte sequence (:base64:)")
    try:
        return base64.b64decode(value[1:-1], validate=True)
    except (binascii.Error, ValueError):
        raise CertificateError("Client-Cert header is not valid base64") from None


def client_cert_header(der: bytes) -> str:
    """The RFC 9440 ``Client-Cert`` value for a DER certificate (what a proxy sends)."""
    return ":" + base64.b64encode(der).decode("ascii") + ":"


__all__ = [
    "CertificateError",
    "HSA_ID_RE",
    "PeerCertificate",
    "client_cert_header",
    "fingerprint",
    "normalise_fingerprint",
    "normalise_hsa_id",
    "parse_client_cert_header",
]
