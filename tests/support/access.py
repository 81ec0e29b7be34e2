"""Helpers for the access tests: a test PKI with the awkward certificates, TLS clients, a served app."""

from __future__ import annotations

import json
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from indikera.access.pki import Issued, TestPKI, new_ca, new_function_cert, new_root, write_test_pki
from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.server import TLSOptions, uvicorn_options

from .server import running

CONSUMER = "TSTNMT2321000156-B02"
PLATFORM = "TSTNTJP0000000-VP01"
ADMIN = "TSTINDIKERA-ADMIN1"


@dataclass
class AccessPKI:
    pki: TestPKI
    expired: tuple[str, str]
    no_serial: tuple[str, str]
    wrong_ca: tuple[str, str]
    wrong_ca_issued: Issued

    @property
    def dir(self) -> Path:
        return self.pki.directory

    def files(self, stem: str) -> tuple[str, str]:
        return self.pki.cert_files(stem)


def make_access_pki(directory: Path) -> AccessPKI:
    pki = write_test_pki(directory)
    now = datetime.now(timezone.utc)
    expired = new_function_cert(pki.ca, hsa_id="TSTEXPIRED-0001", common_name="utgånget", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    expired.write(directory, "expired", with_chain=True)
    no_serial = new_function_cert(pki.ca, hsa_id=None, common_name="utan serialNumber")
    no_serial.write(directory, "no-serial", with_chain=True)
    other_root = new_root("Some Other Root CA")
    other_ca = new_ca(other_root, "Some Other Function CA")
    stranger = new_function_cert(other_ca, hsa_id=CONSUMER, common_name="fel CA men samma HSA-id")
    stranger.write(directory, "wrong-ca", with_chain=True)
    return AccessPKI(pki, pki.cert_files("expired"), pki.cert_files("no-serial"), pki.cert_files("wrong-ca"), stranger)


def client_context(pki: AccessPKI, stem: str | None) -> ssl.SSLContext:
    """A client TLS context trusting the test root; with ``stem``, presenting that certificate."""
    ctx = ssl.create_default_context(cafile=str(pki.pki.client_ca))
    if stem is not None:
        ctx.load_cert_chain(*pki.files(stem))
    return ctx


def app_for(db_url: str, **settings) -> tuple:
    ctx = AppContext.from_settings(Settings(database_url=db_url, **settings))
    return create_app(ctx=ctx), ctx


@contextmanager
def tls_server(app, pki: AccessPKI):
    opts = uvicorn_options(TLSOptions(pki.pki.server_cert, pki.pki.server_key, pki.pki.client_ca))
    with running(app, **opts) as url:
        yield url


class Refused(Exception):
    """The server ended the TLS connection without an HTTP answer (handshake refused)."""


def raw_request(url: str, ctx: ssl.SSLContext, path: str = "/access/whoami", headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One HTTP/1.1 GET over a raw TLS socket: (status, JSON body); ``Refused`` when no answer comes.

    asyncio's TLS closes a refused connection without sending the alert, so with TLS 1.3 (where the
    client's handshake completes before the server checks its certificate) the client only sees EOF.
    """
    host, port = url.split("//", 1)[1].split(":")
    lines = [f"GET {path} HTTP/1.1", "Host: localhost", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    data = b""
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
                tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
                while chunk := tls.recv(65536):
                    data += chunk
    except (ssl.SSLError, ConnectionError) as exc:
        raise Refused(f"{type(exc).__name__}: {exc}") from exc
    if not data:
        raise Refused("connection closed without an HTTP response")
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.strip().startswith(b"{") else {"raw": body.decode("utf-8", "replace")}


# --- small registries for visibility tests ---------------------------------------------------------


@dataclass(frozen=True)
class SeedMeasurement:
    measure_id: str
    start: str  # ISO date
    end: str
    batch: int  # index into the batch statuses
    numerator: int
    denominator: int


def seed_registry(engine, *, indicator_ids: list[str], batch_statuses: list[str], rows: list[SeedMeasurement],
                  rules: list[tuple[str, str | None, str | None, str]], agreement_rows: list[dict]) -> None:
    """Write indicators, one care unit, batches, measurements, publication rules and agreements.

    ``rules``: (measure id, period start or None, period end or None, level). ``agreement_rows``: dicts with
    consumer_hsa_id, measure_id (None: all restricted), valid_from, valid_to, ended (bool).
    """
    from datetime import date as _date

    from sqlalchemy import insert

    from indikera.domain import oids
    from indikera.domain.indicators import Indicator, UnitType
    from indikera.domain.measurements import Measurement, Proportion, SourceSystem
    from indikera.domain.organisations import Organisation, OrgType, kommun, lan
    from indikera.domain.periods import Period
    from indikera.store import db as store_db
    from indikera.store.access_tables import agreements
    from indikera.store.catalog_tables import publication_rules
    from indikera.store.repositories import (
        OrganisationRepository, create_batch, ensure_source_system, insert_measurements, measurement_row, upsert_indicator, utcnow,
    )  # fmt: skip
    from indikera.store.tables import batches

    src = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
    unit = Organisation(OrgType.VARDENHET, "VC Solna", hsa_id="SE2321000000-E0001", parent=kommun("0184", "Solna", lan("01", "Stockholm")))
    now = utcnow()
    with store_db.writer(engine).begin() as conn:
        ids = {mid: upsert_indicator(conn, Indicator(mid, 1, f"Indikator {mid}", UnitType.ANDEL)) for mid in indicator_ids}
        org_id = OrganisationRepository(conn).ensure(unit)
        src_id = ensure_source_system(conn, src)
        batch_ids = []
        for i, status in enumerate(batch_statuses):
            bid = create_batch(conn, registry="SE1", file_name=f"b{i}.csv", sha256=f"{i:064x}", fmt="csv", actor="test")
            conn.execute(batches.update().where(batches.c.id == bid).values(status=status))
            batch_ids.append(bid)
        measurements_ = [
            measurement_row(
                Measurement(r.measure_id, 1, Period(_date.fromisoformat(r.start), _date.fromisoformat(r.end)), unit, Proportion(r.numerator, r.denominator), src),
                indicator_id=ids[r.measure_id], organisation_id=org_id, source_system_id=src_id, batch_id=batch_ids[r.batch],
            )
            for r in rows
        ]
        insert_measurements(conn, measurements_)
        for mid, start, end, level in rules:
            conn.execute(insert(publication_rules).values(
                indicator_id=ids[mid], period_start=start and _date.fromisoformat(start), period_end=end and _date.fromisoformat(end),
                level=level, changed_by="test", changed_at=now, reason="test"))
        for a in agreement_rows:
            conn.execute(insert(agreements).values(
                consumer_hsa_id=a["consumer_hsa_id"], reference="CPUA-T", indicator_id=None if a["measure_id"] is None else ids[a["measure_id"]],
                valid_from=a["valid_from"], valid_to=a["valid_to"], note="", created_by="test", created_at=now,
                ended_by="test" if a["ended"] else None, ended_at=now if a["ended"] else None))
