"""`unidentified_consumers = open | refuse` (issue #14): who gets a SOAP fault instead of open data."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from indikera.access.tls_protocol import TLSPeerProtocol
from indikera.store import db as store_db
from indikera.store.access_tables import audit_log

from .support import soap_client as sc
from .support.access import PLATFORM, SeedMeasurement, app_for, client_context, make_access_pki, seed_registry, tls_server
from .support.server import running

ORIGINAL = "x-rivta-original-serviceconsumer-hsaid"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("unidentified-pki"))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'unidentified.db'}"
    store_db.upgrade(url)
    eng = store_db.make_engine(url)
    seed_registry(eng, indicator_ids=["10001"], batch_statuses=["approved"], rules=[("10001", None, None, "open")],
                  rows=[SeedMeasurement("10001", "2023-01-01", "2023-12-31", 0, 30, 60)], agreement_rows=[])
    eng.dispose()
    return url


def _call(base: str, ctx=None, headers: dict | None = None) -> httpx.Response:
    with httpx.Client(verify=ctx if ctx is not None else True, base_url=base.replace("127.0.0.1", "localhost") if ctx else base) as client:
        return client.post(sc.PATH, content=sc.request(("10001",)), headers={**sc.HEADERS, **(headers or {})})


@pytest.mark.parametrize("policy", ["open", "refuse"])
def test_policy_over_mutual_tls(db, pki, policy):
    app, ctx = app_for(db, trusted_platform_hsa_ids=(PLATFORM,), unidentified_consumers=policy)
    try:
        with tls_server(app, pki) as base:
            no_serial = _call(base, client_context(pki, "no-serial"))
            bad_header = _call(base, client_context(pki, "platform"), {ORIGINAL: "not an hsa-id!"})
            consumer = _call(base, client_context(pki, "consumer"))
            via_platform = _call(base, client_context(pki, "platform"), {ORIGINAL: "SE2321000016-VIS1"})
        for identified in (consumer, via_platform):  # identified callers are answered in both modes
            assert len(sc.answer(identified).measurements) == 1
        if policy == "open":
            for anonymous in (no_serial, bad_header):
                assert len(sc.answer(anonymous).measurements) == 1  # open data only, as before
        else:
            code, text = sc.fault(no_serial, "Client")
            assert code == "CONSUMER_UNIDENTIFIED" and "VP002" in text and "serialNumber" in text
            code, text = sc.fault(bad_header, "Client")
            assert code == "ORIGINAL_CONSUMER_INVALID" and "VP013" in text
            with ctx.engine.connect() as conn:
                outcomes = [r.outcome for r in conn.execute(select(audit_log).where(audit_log.c.channel == "soap"))]
            assert sorted(o for o in outcomes if o != "ok") == ["fault:CONSUMER_UNIDENTIFIED", "fault:ORIGINAL_CONSUMER_INVALID"]
    finally:
        ctx.engine.dispose()


def test_refuse_over_plain_http_refuses_soap_but_not_open_data(db):
    app, ctx = app_for(db, unidentified_consumers="refuse")
    try:
        with running(app, http=TLSPeerProtocol) as base:
            assert sc.fault(_call(base), "Client")[0] == "CONSUMER_UNIDENTIFIED"
            assert httpx.get(f"{base}/api/v1/indicators").status_code == 200
    finally:
        ctx.engine.dispose()


def test_an_unknown_policy_stops_the_app_at_start(db):
    with pytest.raises(ValueError, match="unidentified_consumers"):
        app_for(db, unidentified_consumers="maybe")
