"""Testprotokoll v2 (cases 1.1–1.7 and 2.1–2.7) against the producer on the demo registry, SQLite and PostgreSQL.

Every answer is validated against the official XSD + Schematron and the project's own schema
(``soap_client.answer``). Case numbers and expectations are those of docs/Testprotokoll.md.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.demo import INDICATORS
from indikera.domain.checksum import EMPTY_CHECKSUM
from indikera.store.tables import indicators

from .support import soap_client as sc
from .support.soap_client import NS

ALL_IDS = tuple(spec.indicator.measure_id for spec in INDICATORS)
OPEN_IDS = tuple(spec.indicator.measure_id for spec in INDICATORS if spec.level == "open")
SEVERAL = ("10005", "10008")  # yearly: 2 × 362 values for one year
REVIEWED = ("10001", "10005", "10008", "10015", "10016")
EMPTY_PERIOD = ("19990101", "19991231")  # valid dates, before any demo value

_REPORTS: dict[str, sc.Report] = {}


@pytest.fixture
def client(demo_db_url):
    ctx = AppContext.from_settings(Settings(database_url=demo_db_url))
    client = TestClient(create_app(ctx=ctx))
    client.dialect = ctx.engine.dialect.name
    client.ctx = ctx
    yield client
    ctx.engine.dispose()


def ask(client, *args, **kwargs) -> sc.Report:
    return sc.answer(sc.post(client, sc.request(*args, **kwargs)))


def full_year_report(client) -> sc.Report:
    """One indicator of each kind plus the restricted and the unpublished one, 2024 (year and quarters)."""
    if client.dialect not in _REPORTS:
        _REPORTS[client.dialect] = ask(client, REVIEWED, "20240101", "20241231")
    return _REPORTS[client.dialect]


def text(el, path: str) -> str | None:
    return el.findtext(path, namespaces=NS)


def num(el, path: str) -> float | None:
    value = text(el, path)
    return None if value is None else float(value)


MEASURES = ("proportionMeasure", "continuousVariableMeasure", "cohortMeasure", "missingMeasure")


# ---------------------------------------------------------------- 1.x: content of the answer


def test_1_1_exactly_one_measure_element_per_measurement(client):
    report = full_year_report(client)
    assert len(report.measurements) == 362 * 7
    kinds = Counter()
    for m in report.measurements:
        present = [k for k in MEASURES if m.find(f"qr:{k}", NS) is not None]
        assert len(present) == 1, present
        kinds[present[0]] += 1
    assert all(kinds[k] for k in MEASURES), kinds  # the demo exercises every kind


def _chain(org) -> list:
    out = []
    while org is not None:
        out.append(org)
        org = org.find("qr:asOrganizationPartOf", NS)
    return out


def test_1_2_performing_organisation_filled_in_per_level(client):
    seen = set()
    for m in full_year_report(client).measurements:
        chain = _chain(m.find("qr:performingOrganization", NS))
        types = [text(o, "qr:organizationType") for o in chain]
        seen.add(tuple(types))
        for org, kind in zip(chain, types):
            parent = org.find("qr:asOrganizationPartOf", NS)
            root, ext = text(org, "qr:organizationId/qr:root"), text(org, "qr:organizationId/qr:extension")
            if kind == "Land":  # 1.2.1
                assert (text(org, "qr:organizationName"), root, ext) == ("Riket", "1.2.752.129.2.2.1.19", "SE")
                assert parent is None
            elif kind == "Lan":  # 1.2.2
                assert root == "1.2.752.129.2.2.1.18" and len(ext) == 2 and text(parent, "qr:organizationType") == "Land"
            elif kind == "Kommun":  # 1.2.3
                assert root == "1.2.752.129.2.2.1.17" and len(ext) == 4 and text(parent, "qr:organizationType") == "Lan"
            elif kind == "Sjukhus":  # 1.2.4 and 1.2.6: HSA-id when there is one, else sjukhuskod, never both
                has_hsa = text(org, "qr:hsaId") is not None
                assert has_hsa != (root is not None)
                assert root in (None, "1.2.826.0.1.3680043.9.4672.5")
                assert text(parent, "qr:organizationType") == "Lan"
            else:  # 1.2.5
                assert kind == "Vardenhet" and text(org, "qr:hsaId") and root is None
                assert text(parent, "qr:organizationType") in ("Lan", "Kommun", "Sjukhus")
            assert text(org, "qr:organizationName")
    assert seen >= {
        ("Land",),
        ("Lan", "Land"),
        ("Sjukhus", "Lan", "Land"),
        ("Vardenhet", "Lan", "Land"),
        ("Vardenhet", "Kommun", "Lan", "Land"),
        ("Vardenhet", "Sjukhus", "Lan", "Land"),
    }


def _org_identity(m) -> str:
    org = m.find("qr:performingOrganization", NS)
    return text(org, "qr:hsaId") or f"{text(org, 'qr:organizationId/qr:root')}:{text(org, 'qr:organizationId/qr:extension')}"


def test_1_3_an_organisation_once_per_measure_period_and_indicator(client):
    keys = Counter(
        (text(m, "qr:measureId/qr:extension"), text(m, "qr:measurePeriod/qr:start"), text(m, "qr:measurePeriod/qr:end"), _org_identity(m))
        for m in full_year_report(client).measurements
    )
    assert keys and max(keys.values()) == 1


def test_1_4_coverage_between_0_and_1(client):
    values = [float(c.text) for c in full_year_report(client).report.iterfind(".//qr:coverage", NS)]
    assert values and all(0 <= v <= 1 for v in values)


def test_1_5_confidence_interval_brackets_the_value(client):
    checked = 0
    for m in full_year_report(client).measurements:
        for kind, point in (("proportionMeasure", "qr:rate"), ("continuousVariableMeasure", "qr:value"), ("cohortMeasure", "qr:cohort")):
            measure = m.find(f"qr:{kind}", NS)
            if measure is None or measure.find("qr:confidenceInterval95percent", NS) is None:
                continue
            low, high = num(measure, "qr:confidenceInterval95percent/qr:low"), num(measure, "qr:confidenceInterval95percent/qr:high")
            assert 0 <= low <= num(measure, point) <= high
            checked += 1
    assert checked > 500


def test_1_6_missing_measure_below_threshold_zero_or_unknown(client):
    reasons = Counter()
    for m in full_year_report(client).measurements:
        p = m.find("qr:proportionMeasure", NS)
        c = m.find("qr:continuousVariableMeasure", NS)
        if p is not None:
            assert num(p, "qr:denominator") >= 5  # default display threshold; never 0
        if c is not None and c.find("qr:measurePopulation", NS) is not None:
            assert num(c, "qr:measurePopulation") >= 5
        missing = m.find("qr:missingMeasure", NS)
        if missing is not None:
            reasons[text(missing, "qr:reasonCode")] += 1
    assert set(reasons) <= {"MSK", "INV", "UNK", "NI"} and reasons["MSK"] and reasons["UNK"]


def test_1_7_measure_ids_are_catalogue_indicators(client):
    with client.ctx.engine.connect() as conn:
        catalogue = set(conn.execute(select(indicators.c.measure_id)).scalars())
    report = full_year_report(client)
    assert {text(m, "qr:measureId/qr:root") for m in report.measurements} == {sc.KIK}
    assert report.measure_ids() <= catalogue
    assert report.measure_ids() == set(REVIEWED) & set(OPEN_IDS)  # restricted and unpublished stay out for the public


# ---------------------------------------------------------------- 2.x: call parameters


def test_2_1_one_valid_id_with_values(client):
    r = ask(client, ("10005",), "20221215", "20240101", True)
    assert len(r.checksum) == 64 and r.checksum != EMPTY_CHECKSUM
    assert r.measure_ids() == {"10005"} and len(r.measurements) == 362
    starts = [text(m, "qr:measurePeriod/qr:start") for m in r.measurements]
    ends = [text(m, "qr:measurePeriod/qr:end") for m in r.measurements]
    assert r.period == (min(starts), max(ends)) == ("20230101", "20231231")
    assert text(r.report, "qr:reportingSystem/qr:hsaId") == "SE2321000000-INDIKERA"
    assert text(r.report, "qr:reportingOrganization/qr:hsaId") == "SE2321000000-REGISTER"


def test_2_2_several_valid_ids(client):
    r = ask(client, SEVERAL, "20230101", "20231231", True)
    assert r.measure_ids() == set(SEVERAL)
    assert r.period == ("20230101", "20231231")
    checksum_only = ask(client, SEVERAL, "20230101", "20231231", False)
    assert checksum_only.checksum == r.checksum  # = case 2.5


def test_2_2_reporting_period_is_the_span_of_the_values(client):
    r = ask(client, ("10001",), "20240315", "20241015", True)  # only Q2 and Q3 2024 lie inside
    assert len(r.measurements) == 2 * 362
    assert r.period == ("20240401", "20240930")


def test_2_3_several_ids_period_without_values(client):
    r = ask(client, SEVERAL, *EMPTY_PERIOD, True)
    assert r.checksum == EMPTY_CHECKSUM and not r.measurements
    assert r.period == EMPTY_PERIOD
    assert text(r.report, "qr:reportingSystem/qr:hsaId") == "SE2321000000-INDIKERA"


def test_2_4_several_ids_period_without_values_checksum_only(client):
    r = ask(client, SEVERAL, *EMPTY_PERIOD, False)
    assert r.checksum == ask(client, SEVERAL, *EMPTY_PERIOD, True).checksum == EMPTY_CHECKSUM
    assert not r.measurements and r.period == EMPTY_PERIOD


def test_2_5_same_query_without_measurements(client):
    full = ask(client, SEVERAL, "20230101", "20231231", None)  # omitted: the default is true
    assert full.measurements
    r = ask(client, SEVERAL, "20230101", "20231231", False)
    assert not r.measurements
    assert r.checksum == full.checksum
    assert r.period == full.period == ("20230101", "20231231")


def test_2_6_one_invalid_id(client):
    for ids in (("99999",), ((("1.2.3.4", "10001")),), (("", "10001"),)):
        r = ask(client, ids, "20230101", "20231231", None)
        assert r.checksum == EMPTY_CHECKSUM and not r.measurements
        assert r.period == ("20230101", "20231231")


def test_2_7_valid_ids_plus_one_invalid_give_the_same_answer(client):
    valid = ask(client, SEVERAL, "20230101", "20231231", None)
    mixed = ask(client, SEVERAL + ("no-such-indicator",), "20230101", "20231231", None)
    assert mixed.checksum == valid.checksum and mixed.period == valid.period
    assert len(mixed.measurements) == len(valid.measurements)
