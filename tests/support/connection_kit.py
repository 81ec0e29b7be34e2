"""Test fixtures of the connection kit: a SITHS-like test PKI and mTLS servers on loopback.

Certificates carry the HSA-id in subject ``serialNumber`` as SITHS function certificates do, and
SANs for 127.0.0.1/localhost so clients can verify the server.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import asyncio
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path
    hsa_id: str | None


class SithsTestCA:
    def __init__(self, directory: Path, name: str = "TEST SITHS e-id Function CA (indikera test)"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"), x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = self.dir / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, label: str, hsa_id: str | None, *, cn: str | None = None, days: int = 365,
              not_before: dt.datetime | None = None, org: str = "Demoregistret") -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
        if hsa_id is not None:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn or label))
        start = not_before or dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        cert_path, key_path = self.dir / f"{label}.crt", self.dir / f"{label}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return Issued(cert_path, key_path, hsa_id)


def client_context(ca: SithsTestCA, who: Issued | None) -> ssl.SSLContext:
    """A client TLS context trusting ``ca`` and presenting ``who``'s certificate (httpx ``verify=``)."""
    ctx = ssl.create_default_context(cafile=str(ca.ca_file))
    if who is not None:
        ctx.load_cert_chain(str(who.cert), str(who.key))
    return ctx


def mtls_uvicorn_kwargs(server: Issued, ca: SithsTestCA) -> dict:
    """uvicorn options for HTTPS that REQUIRES a client certificate chaining to ``ca``."""
    return dict(ssl_certfile=str(server.cert), ssl_keyfile=str(server.key), ssl_ca_certs=str(ca.ca_file),
                ssl_cert_reqs=ssl.CERT_REQUIRED)


NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def envelope(logical_address: str | None = "SE2321000000-INDIKERA", measure: str = "10001", *, header: str | None = None) -> bytes:
    if header is None:
        header = "" if logical_address is None else f"<itr:LogicalAddress>{logical_address}</itr:LogicalAddress>"
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:itr="urn:riv:itintegration:registry:1" '
        f'xmlns:gqi="{NS}" xmlns:qr="urn:riv:followup:groupoutcomes:qualityreporting:2">'
        f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body><gqi:GetQualityIndicators>"
        f"<gqi:measureId><qr:root>1.2.826.0.1.3680043.9.4672.7</qr:root><qr:extension>{measure}</qr:extension></gqi:measureId>"
        "<gqi:reportingPeriod><qr:start>20210101</qr:start><qr:end>20251231</qr:end></gqi:reportingPeriod>"
        "</gqi:GetQualityIndicators></soapenv:Body></soapenv:Envelope>"
    ).encode()


CANNED = (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><r:GetQualityIndicatorsResponse xmlns:r="{NS}"/></s:Body></s:Envelope>').encode()


class Capture:
    """A producer double: records what arrives and answers a canned envelope (or sleeps, or faults)."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.delay = delay

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        self.calls.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, out = 200, CANNED
        if b"FAULT-PLEASE" in body:
            status = 500
            out = f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>producer says no</faultstring></s:Fault></s:Body></s:Envelope>'.encode()
        elif b"TEAPOT" in body:
            status, out = 418, b"I am a teapot"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/xml;charset=UTF-8")]})
        await send({"type": "http.response.body", "body": out})
