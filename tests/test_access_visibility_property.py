"""Property: no consumer ever receives a measurement it has no right to, over SOAP or the open-data API.

Hypothesis draws indicators, publication levels (indicator-wide and narrowed to a period), batch states,
measurements and agreements (per indicator or all restricted; current, future, expired or ended). A real
server answers; callers are identified the production way (RFC 9440 ``Client-Cert`` from the trusted
proxy address, NTjP platform + original-consumer header, or nothing). What each caller gets is compared
with a model of the rule written here independently of ``publish.visibility``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from indikera.access.certs import client_cert_header
from indikera.access.pki import new_ca, new_function_cert, new_root
from indikera.access.tls_protocol import TLSPeerProtocol
from indikera.store import db as store_db
from indikera.store.access_tables import audit_log

from .support import soap_client as sc
from .support.access import SeedMeasurement, app_for, seed_registry
from .support.server import running

A, B, C = "SE2321000016-AAAA", "SE2321000016-BBBB", "SE2321000016-CCCC"
PLATFORM_HSA = "TSTNTJP0000000-VP01"
MEASURE_IDS = ["20001", "20002", "20003", "20004"]
PERIODS = [("2022-01-01", "2022-12-31"), ("2023-01-01", "2023-12-31"), ("2023-04-01", "2023-06-30"), ("2024-01-01", "2024-12-31")]
NARROW = ("2023-01-01", "2023-12-31")  # a narrowed rule covers the 2023 year and its second quarter
TODAY = date.today()
VALIDITY = {
    "current": (TODAY - timedelta(days=30), None, False),
    "until-today": (TODAY - timedelta(days=30), TODAY, False),
    "future": (TODAY + timedelta(days=1), None, False),
    "expired": (TODAY - timedelta(days=60), TODAY - timedelta(days=1), False),
    "ended": (TODAY - timedelta(days=30), None, True),
}

_root = new_root()
_ca = new_ca(_root)
CERT_HEADER = {hsa: client_cert_header(new_function_cert(_ca, hsa_id=hsa, common_name=hsa).der) for hsa in (A, B, C, PLATFORM_HSA)}

# caller name → (HTTP headers, the consumer the producer must take it to be)
CALLERS = {
    "A direct": ({"Client-Cert": CERT_HEADER[A]}, A),
    "B via NTjP": ({"Client-Cert": CERT_HEADER[PLATFORM_HSA], "x-rivta-original-serviceconsumer-hsaid": B}, B),
    "A claiming to be B": ({"Client-Cert": CERT_HEADER[A], "x-rivta-original-serviceconsumer-hsaid": B}, A),
    "C without agreements": ({"Client-Cert": CERT_HEADER[C]}, C),
    "anonymous": ({}, None),
    "anonymous claiming B": ({"x-rivta-original-serviceconsumer-hsaid": B}, None),
}

OPEN_DATA_CALLERS = ("A direct", "anonymous")
LEVELS = st.sampled_from([None, "unpublished", "restricted", "open"])


@st.composite
def registries(draw):
    n_ind = draw(st.integers(1, len(MEASURE_IDS)))
    mids = MEASURE_IDS[:n_ind]
    statuses = draw(st.lists(st.sampled_from(["approved", "applied", "depublished"]), min_size=1, max_size=3))
    statuses[0] = "approved"  # at least one batch that could be seen
    rows = []
    for mid in mids:
        for start, end in draw(st.lists(st.sampled_from(PERIODS), min_size=1, max_size=len(PERIODS), unique=True)):
            den = draw(st.integers(20, 200))
            rows.append(SeedMeasurement(mid, start, end, draw(st.integers(0, len(statuses) - 1)), draw(st.integers(0, den)), den))
    rules = []
    for mid in mids:
        wide = draw(LEVELS)
        if wide is not None:
            rules.append((mid, None, None, wide))
        narrow = draw(LEVELS)
        if narrow is not None:
            rules.append((mid, *NARROW, narrow))
    agreements = [
        {"consumer_hsa_id": consumer, "measure_id": mid, "valid_from": VALIDITY[v][0], "valid_to": VALIDITY[v][1], "ended": VALIDITY[v][2]}
        for consumer, mid, v in draw(
            st.lists(st.tuples(st.sampled_from([A, B]), st.sampled_from([None, *mids]), st.sampled_from(sorted(VALIDITY))), max_size=5)
        )
    ]
    return mids, statuses, rows, rules, agreements


def model(consumer: str | None, statuses, rows, rules, agreements) -> set[tuple[str, str, str]]:
    """What ``consumer`` may see, by the rule as the issue states it (written without publish.visibility)."""
    wide = {mid: level for mid, start, _, level in rules if start is None}
    narrow = {mid: level for mid, start, _, level in rules if start is not None}

    def agreed(mid: str) -> bool:
        return consumer is not None and any(
            a["consumer_hsa_id"] == consumer
            and a["measure_id"] in (None, mid)
            and not a["ended"]
            and a["valid_from"] <= TODAY
            and (a["valid_to"] is None or TODAY <= a["valid_to"])
            for a in agreements
        )

    seen = set()
    for r in rows:
        if statuses[r.batch] != "approved":
            continue
        inside = r.measure_id in narrow and NARROW[0] <= r.start and r.end <= NARROW[1]
        level = narrow[r.measure_id] if inside else wide.get(r.measure_id) or "unpublished"
        if level == "open" or (level == "restricted" and agreed(r.measure_id)):
            seen.add((r.measure_id, r.start, r.end))
    return seen


class Swappable:
    """One real server for the whole test; each example swaps in an app on its own database."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    work = tmp_path_factory.mktemp("visibility")
    template = work / "template.db"
    store_db.upgrade(f"sqlite:///{template}")
    front = Swappable()
    with running(front, http=TLSPeerProtocol) as url:
        yield front, url, template, work


NS = {**sc.NS, "sc_gqi": sc.GQI_NS}


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def soap_keys(client: httpx.Client, headers: dict, mids: list[str]) -> set[tuple[str, str, str]]:
    response = client.post(sc.PATH, content=sc.request(tuple(MEASURE_IDS), "20220101", "20241231"), headers={**sc.HEADERS, **headers})
    # Conformance of answers is the contract tests' job (tests/test_contracts_*); here only who gets what.
    assert response.status_code == 200, response.text[:1000]
    report = etree.fromstring(response.content).find("soap:Body/sc_gqi:GetQualityIndicatorsResponse/sc_gqi:AggregatedQualityReport", NS)
    keys = set()
    for m in report.findall("qr:measurement", sc.NS):
        period = m.find("qr:measurePeriod", sc.NS)
        keys.add((m.findtext("qr:measureId/qr:extension", namespaces=sc.NS), _iso(period.findtext("qr:start", namespaces=sc.NS)), _iso(period.findtext("qr:end", namespaces=sc.NS))))
    return keys


def open_data_keys(client: httpx.Client, headers: dict) -> set[tuple[str, str, str]]:
    response = client.get("/api/v1/results", params={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body.get("nextCursor") is None
    return {(i["measureId"], i["periodStart"], i["periodEnd"]) for i in body["items"]}


_counter = itertools.count()


def _soap_audit_row(engine, index: int):
    """The ``index``-th SOAP audit row; the producer writes it just after sending the answer."""
    deadline = time.monotonic() + 5
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(audit_log).where(audit_log.c.channel == "soap").order_by(audit_log.c.id)).all()
        if len(rows) > index or time.monotonic() > deadline:
            assert len(rows) > index, "no audit row for the SOAP call"
            return rows[index]
        time.sleep(0.01)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get('INDIKERA_PROPERTY_EXAMPLES', '15')), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(registry=registries())
def test_no_caller_receives_a_measurement_it_has_no_right_to(served, registry):
    front, url, template, work = served
    mids, statuses, rows, rules, agreements = registry
    db_path: Path = work / f"example-{next(_counter)}.db"
    shutil.copy(template, db_path)
    app, ctx = app_for(f"sqlite:///{db_path}", trusted_proxies=("127.0.0.1",), trusted_platform_hsa_ids=(PLATFORM_HSA,))
    try:
        seed_registry(ctx.engine, indicator_ids=mids, batch_statuses=statuses, rows=rows, rules=rules, agreement_rows=agreements)
        front.app = app
        public = model(None, statuses, rows, rules, agreements)
        audited = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            for name, (headers, consumer) in CALLERS.items():
                allowed = model(consumer, statuses, rows, rules, agreements)
                got = soap_keys(client, headers, mids)
                assert got <= allowed, f"{name} got {sorted(got - allowed)} over SOAP without the right to"
                assert got == allowed, f"{name} over SOAP: missing {sorted(allowed - got)}"
                last = _soap_audit_row(ctx.engine, audited)
                audited += 1
                assert (last.consumer_hsa_id, last.returned) == (consumer, len(got)), name
                if name in OPEN_DATA_CALLERS:  # open data ignores identity; two callers show it
                    opened = open_data_keys(client, headers)
                    assert opened <= public, f"{name} got {sorted(opened - public)} as open data"
    finally:
        ctx.engine.dispose()  # the file stays: a late audit write must not meet a deleted database
