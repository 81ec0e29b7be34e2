"""A SITHS-like test PKI: root CA → function CA → function certificates with ``serialNumber=<HSA-id>``.

For development and tests only (``indikera certs test-pki DIR``). Real SITHS function certificates chain
to "SITHS e-id Root CA v2 / SITHS e-id Function CA v1" (test: "TEST SITHS e-id …"); the names here say
``indikera`` so nobody mistakes them for Inera's. Keys are EC P-256: quick to make, accepted everywhere.
Usable as a library: ``new_root()``, ``new_ca()``, ``new_function_cert()``, ``write_test_pki()``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "TEST SITHS e-id Root CA v2 (indikera)"
FUNCTION_CA_NAME = "TEST SITHS e-id Function CA v1 (indikera)"
TEST_ORG = "Testorganisation (indikera)"

# Default certificates of ``write_test_pki``: file stem → (HSA-id, common name).
DEFAULT_CERTS: dict[str, tuple[str, str]] = {
    "consumer": ("TSTNMT2321000156-B02", "Testkonsument (Vården i siffror, test)"),
    "platform": ("TSTNTJP0000000-VP01", "NTjP VP (test)"),
    "admin": ("TSTINDIKERA-ADMIN1", "indikera administratör (test)"),
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Issued:
    """A certificate with its private key (and the issuing chain above it, leaf first)."""

    cert: x509.Certificate
    key: "ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey"
    chain: list[x509.Certificate] = field(default_factory=list)  # issuers, nearest first, root excluded

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def cert_pem(self, *, with_chain: bool = False) -> bytes:
        certs = [self.cert, *(self.chain if with_chain else [])]
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, directory: Path, stem: str, *, with_chain: bool = False) -> tuple[Path, Path]:
        """Write ``<stem>.pem`` and ``<stem>.key`` (the key readable by the owner only)."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem(with_chain=with_chain))
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.key_pem())
        return cert_path, key_path


def _name(common_name: str, *, hsa_id: str | None = None, organization: str = TEST_ORG) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if hsa_id is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, key, not_before: datetime, not_after: datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(False, False, False, False, False, True, True, False, False)


def new_root(common_name: str = ROOT_NAME, *, days: int = 3650) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    now = _now()
    cert = (
        _builder(name, name, key, now - timedelta(minutes=5), now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def new_ca(issuer: Issued, common_name: str = FUNCTION_CA_NAME, *, days: int = 1825) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        _builder(_name(common_name), issuer.cert.subject, key, now - timedelta(minutes=5), now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key, [c for c in [issuer.cert, *issuer.chain] if c.subject != c.issuer])


def new_function_cert(
    issuer: Issued,
    *,
    hsa_id: str | None,
    common_name: str,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    organization: str = TEST_ORG,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 825,
    key=None,
) -> Issued:
    """A SITHS-like function certificate (client and server use). ``hsa_id`` None leaves out serialNumber.

    ``key`` lets a caller bring its own private key (e.g. RSA, as real SITHS certificates use).
    """
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = _now()
    start = not_before or now - timedelta(minutes=5)
    end = not_after or now + timedelta(days=days)
    builder = (
        _builder(_name(common_name, hsa_id=hsa_id, organization=organization), issuer.cert.subject, key, start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, True, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(cert, key, [issuer.cert, *issuer.chain])


@dataclass
class TestPKI:
    """What ``write_test_pki`` made, with the paths of every file."""

    root: Issued
    ca: Issued
    server: Issued
    certs: dict[str, Issued]
    directory: Path

    __test__ = False  # not a pytest test class

    @property
    def client_ca(self) -> Path:
        return self.directory / "client-ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    def cert_files(self, stem: str) -> tuple[str, str]:
        return str(self.directory / f"{stem}.pem"), str(self.directory / f"{stem}.key")


README = """\
Test-PKI för indikera (SITHS-lik, ENDAST för utveckling och test)
=================================================================
root-ca.pem/.key        {root}
function-ca.pem/.key    {ca}
client-ca.pem           function CA + root: ge till --client-ca (eller nginx ssl_client_certificate)
server.pem/.key         servercertifikat (serialNumber={server_hsa}) för {names}
{certs}
Starta: indikera serve --tls-cert server.pem --tls-key server.key --client-ca client-ca.pem
Anropa: curl --cacert client-ca.pem --cert consumer.pem --key consumer.key https://localhost:8443/access/whoami
"""


def write_test_pki(
    directory: str | os.PathLike[str],
    *,
    certs: dict[str, tuple[str, str]] | None = None,
    server_hsa_id: str = "SE2321000000-INDIKERA",
    server_names: Sequence[str] = ("localhost",),
    server_ips: Sequence[str] = ("127.0.0.1", "::1"),
) -> TestPKI:
    """Make root, function CA, a server certificate and one function certificate per entry of ``certs``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    wanted = DEFAULT_CERTS if certs is None else certs
    root = new_root()
    ca = new_ca(root)
    server = new_function_cert(
        ca, hsa_id=server_hsa_id, common_name=server_names[0] if server_names else "indikera", dns_names=server_names, ip_addresses=server_ips
    )
    made = {stem: new_function_cert(ca, hsa_id=hsa, common_name=cn) for stem, (hsa, cn) in wanted.items()}
    root.write(out, "root-ca")
    ca.write(out, "function-ca")
    (out / "client-ca.pem").write_bytes(ca.cert_pem() + root.cert_pem())
    server.write(out, "server", with_chain=True)
    for stem, issued in made.items():
        issued.write(out, stem, with_chain=True)
    lines = "\n".join(f"{stem + '.pem/.key':<23} {hsa}  {cn}" for stem, (hsa, cn) in wanted.items())
    (out / "README.txt").write_text(
        README.format(root=ROOT_NAME, ca=FUNCTION_CA_NAME, server_hsa=server_hsa_id, names=", ".join([*server_names, *server_ips]), certs=lines),
        encoding="utf-8",
    )
    return TestPKI(root, ca, server, made, out)


__all__ = ["DEFAULT_CERTS", "Issued", "TestPKI", "new_ca", "new_function_cert", "new_root", "write_test_pki"]
