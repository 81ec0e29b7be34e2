"""Certificate tools for the connection: a key + CSR for a SITHS function certificate, and a full check.

``certs csr``   – key pair and CSR with the subject SITHS needs: serialNumber = HSA-id, CN, O, C=SE.
``certs check`` – chain against a CA bundle, expiry (warnings at 60/30/7 days), serialNumber = the configured
                  HSA-id, key matches certificate, and a TLS 1.2+ handshake with a URL using the certificate;
                  with an environment, that the bundle holds that environment's SITHS CAs and the certificate
                  was issued by its function CA (docs/connection.md, "SITHS CA chain files").
The logic is plain functions returning findings; the two commands are in ``certs_cli``, and ``cli.py`` puts
them in the ``indikera certs`` group (owned by the access area).
"""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

EXPIRY_WARNINGS = (60, 30, 7)  # days; at 7 or fewer the check fails


@dataclass(frozen=True)
class Finding:
    check: str  # chain | expiry | hsa-id | key | tls
    level: str  # ok | warning | error
    text: str

    @property
    def failed(self) -> bool:
        return self.level == "error"


# --- CSR ----------------------------------------------------------------------------------------------

def subject(hsa_id: str, common_name: str, organization: str, country: str = "SE") -> x509.Name:
    if not hsa_id.strip():
        raise ValueError("HSA-id saknas (HSA-id is required)")
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id.strip().upper()),
    ])


def make_csr(hsa_id: str, common_name: str, organization: str, *, country: str = "SE", key_type: str = "rsa",
             dns_names: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(private key PEM, CSR PEM). RSA 2048 by default (what SITHS function CAs issue on); ``ec`` for P-256."""
    key = ec.generate_private_key(ec.SECP256R1()) if key_type == "ec" else rsa.generate_private_key(65537, 2048)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject(hsa_id, common_name, organization, country))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def write_private(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write a private key readable by its owner only; never overwrite one silently."""
    if path.exists() and not force:
        raise FileExistsError(f"{path} finns redan; använd --force för att skriva över (exists)")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


# --- check --------------------------------------------------------------------------------------------

def load_certs(path: Path) -> list[x509.Certificate]:
    data = Path(path).read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise ValueError(f"{path}: inget läsbart certifikat ({exc})") from None


def hsa_id_of(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else None


def check_chain(leaf: x509.Certificate, extra: list[x509.Certificate], bundle: list[x509.Certificate], now: datetime) -> Finding:
    """Walk issuer links (signatures verified) from the leaf to a certificate in the bundle."""
    pool = extra + bundle
    trusted = {c.fingerprint(hashes.SHA256()) for c in bundle}
    current, path = leaf, [leaf]
    for _ in range(10):
        if current.fingerprint(hashes.SHA256()) in trusted:
            break
        issuer = next((c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None)
        if issuer is None:
            return Finding("chain", "error", f"Kedjan når inte CA-filen: utfärdaren {current.issuer.rfc4514_string()} saknas "
                                             "eller signaturen stämmer inte. (Chain does not reach the CA bundle.)")
        path.append(issuer)
        current = issuer
    else:
        return Finding("chain", "error", "Kedjan är för lång. (Chain too long.)")
    for c in path:
        if not (c.not_valid_before_utc <= now <= c.not_valid_after_utc):
            return Finding("chain", "error", f"{c.subject.rfc4514_string()} är inte giltigt nu. (Not valid now.)")
    names = " → ".join(_cn(c) for c in path)
    return Finding("chain", "ok", f"Kedjan är giltig: {names}. (Chain verified.)")


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # InvalidSignature, mismatched or unsupported key types: all mean "not the issuer"
        return False


def _cn(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string()


def check_expiry(leaf: x509.Certificate, now: datetime) -> Finding:
    days = (leaf.not_valid_after_utc - now).days
    end = leaf.not_valid_after_utc.date().isoformat()
    if now > leaf.not_valid_after_utc:
        return Finding("expiry", "error", f"Certifikatet gick ut {end}. (Expired.)")
    if now < leaf.not_valid_before_utc:
        return Finding("expiry", "error", f"Certifikatet gäller först från {leaf.not_valid_before_utc.date()}. (Not yet valid.)")
    if days <= EXPIRY_WARNINGS[2]:
        return Finding("expiry", "error", f"Certifikatet går ut om {days} dagar ({end}); beställ ett nytt nu. (Expires in {days} days.)")
    for limit in EXPIRY_WARNINGS[:2][::-1]:  # 30, then 60
        if days <= limit:
            return Finding("expiry", "warning", f"Certifikatet går ut om {days} dagar ({end}), inom {limit} dagar. (Expires within {limit} days.)")
    return Finding("expiry", "ok", f"Giltigt till {end} ({days} dagar). (Valid for {days} days.)")


def check_hsa_id(leaf: x509.Certificate, expected: str) -> Finding:
    actual = hsa_id_of(leaf)
    if actual is None:
        return Finding("hsa-id", "error", "Subject saknar serialNumber (HSA-id); NTjP ger VP002. (No serialNumber.)")
    if actual.strip().upper() != expected.strip().upper():
        return Finding("hsa-id", "error", f"serialNumber är {actual}, förväntat {expected}. (HSA-id mismatch.)")
    return Finding("hsa-id", "ok", f"serialNumber = {actual}.")


def check_key(leaf: x509.Certificate, key_path: Path) -> Finding:
    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        return Finding("key", "error", f"Nyckeln kan inte läsas: {exc}. (Key unreadable or encrypted.)")
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    same = key.public_key().public_bytes(serialization.Encoding.DER, pub) == leaf.public_key().public_bytes(serialization.Encoding.DER, pub)
    if not same:
        return Finding("key", "error", "Nyckeln hör inte till certifikatet. (Key does not match the certificate.)")
    return Finding("key", "ok", "Nyckeln hör till certifikatet. (Key matches.)")


def check_tls(url: str, cert: Path, key: Path | None, ca_bundle: Path | None, timeout: float = 10.0) -> Finding:
    """Handshake (TLS 1.2 or newer) with ``url`` presenting the certificate; the server's chain is verified."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return Finding("tls", "error", f"{url} är ingen https-adress. (Not an https URL.)")
    ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=parts.hostname) as tls:
                version, cipher = tls.version(), tls.cipher()[0]
                peer = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
                # In TLS 1.3 the server judges our certificate after the handshake: only an answer proves it
                # was accepted. A HEAD request is harmless on any endpoint.
                path = parts.path or "/"
                tls.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nConnection: close\r\n\r\n".encode())
                tls.settimeout(timeout)
                answer = tls.recv(64)
                if not answer:
                    return Finding("tls", "error", f"{parts.hostname} stängde anslutningen utan svar: certifikatet avvisades troligen. "
                                                   "(Connection closed: certificate probably refused.)")
    except ssl.SSLError as exc:
        return Finding("tls", "error", f"TLS-handskakning med {parts.hostname}:{parts.port or 443} misslyckades: {exc.reason or exc}. (Handshake failed.)")
    except OSError as exc:
        return Finding("tls", "error", f"Ingen anslutning till {parts.hostname}:{parts.port or 443}: {exc}. (Cannot connect.)")
    return Finding("tls", "ok", f"{version}, {cipher}; servern: {peer.subject.rfc4514_string()}. (Handshake ok.)")


def check_siths(leaf: x509.Certificate, bundle: list[x509.Certificate], ca_names: tuple[str, ...]) -> list[Finding]:
    """The environment's SITHS chain: ``ca_names`` = (root CA, function CA) by common name, e.g. TEST SITHS e-id
    Root CA v2 and TEST SITHS e-id Function CA v1 in test/QA, SITHS e-id Root CA v2 and SITHS e-id Function CA v1
    in production. A certificate from the other environment's CA, or a bundle missing one of them, is an error."""
    out = []
    by_name = {_cn(c): c for c in bundle}
    missing = [n for n in ca_names if n not in by_name]
    if missing:
        out.append(Finding("siths-ca", "error", f"CA-filen saknar {', '.join(repr(n) for n in missing)}; hämta kedjan från "
                                                "Inera (docs/connection.md, SITHS CA chain files). (CA bundle lacks these CAs.)"))
    root = by_name.get(ca_names[0]) if ca_names else None
    if root is not None and root.subject != root.issuer:
        out.append(Finding("siths-ca", "error", f"{ca_names[0]!r} i CA-filen är inte självsignerat. (Not a root certificate.)"))
    issuer = leaf.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_cn = str(issuer[0].value) if issuer else leaf.issuer.rfc4514_string()
    if ca_names and issuer_cn != ca_names[-1]:
        out.append(Finding("siths-ca", "error", f"Certifikatet är utfärdat av {issuer_cn!r}, inte {ca_names[-1]!r} (fel miljö "
                                                "eller inte ett SITHS-funktionscertifikat?). (Issued by another CA.)"))
    if not out:
        out.append(Finding("siths-ca", "ok", f"CA-filen har {' → '.join(ca_names)}; certifikatet är utfärdat av "
                                             f"{ca_names[-1]}. (The environment's SITHS chain.)"))
    return out


def check(cert_path: Path, *, key_path: Path | None = None, ca_bundle: Path | None = None, hsa_id: str | None = None,
          url: str | None = None, now: datetime | None = None, ca_names: tuple[str, ...] = ()) -> list[Finding]:
    now = now or datetime.now(timezone.utc)
    certs = load_certs(cert_path)
    leaf, extra = certs[0], certs[1:]
    out = []
    if ca_bundle is not None:
        out.append(check_chain(leaf, extra, load_certs(ca_bundle), now))
        if ca_names:
            out += check_siths(leaf, load_certs(ca_bundle), tuple(ca_names))
    out.append(check_expiry(leaf, now))
    if hsa_id:
        out.append(check_hsa_id(leaf, hsa_id))
    if key_path is not None:
        out.append(check_key(leaf, key_path))
    if url:
        out.append(check_tls(url, cert_path, key_path, ca_bundle))
    return out
