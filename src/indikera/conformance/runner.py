"""Run the suite against one endpoint and produce the report document (see cases.py and report.py)."""

from __future__ import annotations

import platform as py_platform
import socket
import ssl
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .. import __version__
from . import report
from .cases import CaseResult, Plan, Runner
from .schemas import OfficialPackage, project_xsd
from .soap import Client


def ssl_context(cert: Path | None, key: Path | None, ca: Path | None, *, verify: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:  # only for a producer with a self-made certificate on the operator's own machine
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    return ctx


def describe(cert: x509.Certificate) -> dict[str, str]:
    from cryptography.x509.oid import NameOID

    serial = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return {
        "subject": cert.subject.rfc4514_string(),
        "serialNumber (HSA-id)": str(serial[0].value) if serial else "—",
        "issuer": cert.issuer.rfc4514_string(),
        "giltigt": f"{cert.not_valid_before_utc:%Y-%m-%d} – {cert.not_valid_after_utc:%Y-%m-%d}",
        "SHA-256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    }


def server_certificate(url: str, ctx: ssl.SSLContext) -> dict[str, str] | None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=parts.hostname) as tls:
                info = describe(x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)))
                info["TLS"] = f"{tls.version()} {tls.cipher()[0]}"
                return info
    except (OSError, ssl.SSLError, ValueError) as exc:
        return {"fel": f"{type(exc).__name__}: {exc}"}


def run(url: str, plan: Plan, *, cert: Path | None = None, key: Path | None = None, ca: Path | None = None,
        verify: bool = True, contract_dir: Path | None = None, timeout: float = 29.0, consumer_hsa_id: str | None = None,
        progress: Callable[[str], None] | None = None, manual: dict[str, str] | None = None) -> tuple[list[CaseResult], dict[str, Any]]:
    manual_state = report.manual_steps(manual)  # an unknown step id is an input error, before any call
    official = OfficialPackage.load(contract_dir) if contract_dir else None
    ctx = ssl_context(cert, key, ca, verify=verify) if url.startswith("https:") else False
    schemas = ["projektets regler (1.1–1.7)"]
    if project_xsd() is not None:
        schemas.insert(0, "projektets XSD")
    if official is not None:
        schemas += [f"officiell XSD ({official.xsd_path.name})"] + ([f"officiell Schematron ({official.sch_path.name})"] if official.schematron else [])
    started = datetime.now(timezone.utc)
    server = server_certificate(url, ctx) if ctx else None
    with Client(url, plan.logical_address, ctx, timeout=timeout, consumer_hsa_id=consumer_hsa_id) as client:
        results = Runner(client, plan, official, progress).run()
    meta = {
        "report": "indikera conformance: GetQualityIndicators v2 (Testprotokoll v2 1.1–1.7, 2.1–2.7, 3.1 manuellt; SoapUI TestCase1/2)",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": {
            "url": url, "logicalAddress": plan.logical_address, "measures": list(plan.measures),
            "period": f"{plan.start}–{plan.end}", "emptyPeriod": f"{plan.empty_start}–{plan.empty_end}",
            "invalidMeasure": plan.invalid_measure, "schemas": schemas,
            "contractDir": str(contract_dir) if contract_dir else None,
            "runner": f"indikera {__version__}, Python {py_platform.python_version()}, {socket.gethostname()}",
        },
        "clientCertificate": describe(x509.load_pem_x509_certificates(Path(cert).read_bytes())[0]) if cert else None,
        "serverCertificate": server,
        "manual": manual_state,
    }
    return results, report.to_dict(results, meta)
