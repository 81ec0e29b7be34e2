"""The 13 official mock scenarios, reproduced by the producer from data stored through the repositories.

Each mock's measurement is read into domain objects, stored the normal way (OrganisationRepository,
measurement_row, insert_measurements) and asked for; the answer must have the mock's structure (the
same element paths in the same order) and, where the mock's data is consistent, the same values.
Known mock defects (README "Known defects") are not copied: the checksum is ours, reportingPeriod is
the span of the values (R6), and the ProportionMeasure mock's rate 1.0 for 5/10 is stored as 0.5.
"""

from __future__ import annotations

import pytest
from lxml import etree
from starlette.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import Cohort, ConfidenceInterval, Continuous, Measurement, Missing, Proportion, SourceSystem
from indikera.domain.organisations import Identifier, Organisation, OrgType
from indikera.domain.periods import Period, parse_date
from indikera.store.db import writer
from indikera.store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
)
from indikera.store.tables import batches

from .support import oracle
from .support import soap_client as sc
from .support.soap_client import NS

pytestmark = pytest.mark.usefixtures("official_contract")  # the mocks exist only in ../shared

PRODUCER = "SE112233-PRODUCER-SYSTEM-HSAID"
SETTINGS = dict(
    reporting_system_hsa_id=PRODUCER,
    reporting_system_name="REPORTING-SYSTEM-NAME",
    reporting_organization_hsa_id="REPORTING-ORG-HSAID",
    reporting_organization_name="REPORTING-ORG-NAME",
)
MEASURE_ID = "12345"


def _f(el, path):
    value = el.findtext(path, namespaces=NS)
    return None if value is None else float(value)


def organisation(el) -> Organisation:
    parent = el.find("qr:asOrganizationPartOf", NS)
    oid = el.find("qr:organizationId", NS)
    return Organisation(
        OrgType(el.findtext("qr:organizationType", namespaces=NS)),
        el.findtext("qr:organizationName", namespaces=NS),
        hsa_id=el.findtext("qr:hsaId", namespaces=NS),
        org_id=Identifier(oid.findtext("qr:root", namespaces=NS), oid.findtext("qr:extension", namespaces=NS)) if oid is not None else None,
        parent=organisation(parent) if parent is not None else None,
    )


def measurement(el) -> tuple[Measurement, UnitType]:
    """The mock's measurement as a domain object, and the unit type its indicator needs."""
    if (p := el.find("qr:proportionMeasure", NS)) is not None:
        num, den = _f(p, "qr:numerator"), _f(p, "qr:denominator")
        result, unit, measure = Proportion(num, den), UnitType.ANDEL, p  # the mock's rate 1.0 is a known defect
    elif (c := el.find("qr:continuousVariableMeasure", NS)) is not None:
        result, unit, measure = Continuous(_f(c, "qr:value"), _f(c, "qr:measurePopulation")), UnitType.MEDIAN, c
    elif (c := el.find("qr:cohortMeasure", NS)) is not None:
        result, unit, measure = Cohort(_f(c, "qr:cohort")), UnitType.ANTAL, c
    else:
        missing = el.find("qr:missingMeasure", NS)
        result, unit, measure = Missing(missing.findtext("qr:reasonCode", namespaces=NS)), UnitType.ANDEL, missing
    ci = measure.find("qr:confidenceInterval95percent", NS)
    system = el.find("qr:sourceSystem", NS)
    first, last = el.findtext("qr:firstServiceEncounter", namespaces=NS), el.findtext("qr:lastServiceEncounter", namespaces=NS)
    m = Measurement(
        measure_id=MEASURE_ID,
        version=int(el.findtext("qr:measureIdVersionNumber", namespaces=NS)),
        period=Period.parse(el.findtext("qr:measurePeriod/qr:start", namespaces=NS), el.findtext("qr:measurePeriod/qr:end", namespaces=NS)),
        organisation=organisation(el.find("qr:performingOrganization", NS)),
        result=result,
        source_system=SourceSystem(
            system.findtext("qr:systemId/qr:root", namespaces=NS),
            system.findtext("qr:systemId/qr:extension", namespaces=NS),
            system.findtext("qr:name", namespaces=NS),
        ),
        ci=ConfidenceInterval(_f(ci, "qr:low"), _f(ci, "qr:high")) if ci is not None else None,
        standard_deviation=_f(measure, "qr:standardDeviation"),
        coverage=_f(measure, "qr:coverage"),
        exclusions=_f(measure, "qr:exclusions"),
        first_encounter=parse_date(first) if first else None,
        last_encounter=parse_date(last) if last else None,
    )
    return m, unit


def store(engine, items: list[tuple[Measurement, UnitType]]) -> None:
    with writer(engine).begin() as conn:
        orgs = OrganisationRepository(conn)
        batch = create_batch(conn, registry=PRODUCER, file_name="mock", sha256="0" * 64, fmt="test", actor="test")
        rows = []
        for m, unit in items:
            ind = upsert_indicator(conn, Indicator(m.measure_id, m.version, "Mockindikator", unit))
            rows.append(
                measurement_row(
                    m,
                    indicator_id=ind,
                    organisation_id=orgs.ensure(m.organisation),
                    source_system_id=ensure_source_system(conn, m.source_system),
                    batch_id=batch,
                )
            )
        insert_measurements(conn, rows)
        conn.execute(batches.update().values(status="approved", approved_by="test"))
        publish_open(conn)


def publish_open(conn) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from indikera.store.catalog_tables import publication_rules
    from indikera.store.tables import indicators

    for (ind,) in conn.execute(select(indicators.c.id)):
        conn.execute(
            insert(publication_rules).values(
                indicator_id=ind, level="open", changed_by="test", changed_at=datetime.now(UTC), reason="test"
            )
        )


def structure(el) -> list[str]:
    """Element paths in document order (local names), comments and whitespace ignored."""
    out = []

    def walk(node, prefix):
        for child in node:
            if not isinstance(child.tag, str):
                continue
            path = f"{prefix}/{etree.QName(child).localname}"
            out.append(path)
            walk(child, path)

    walk(el, "")
    return out


def values(el) -> dict[str, str]:
    """Leaf texts by local-name path below ``el``."""
    out = {}

    def walk(node, prefix):
        for child in node:
            if not isinstance(child.tag, str):
                continue
            path = f"{prefix}/{etree.QName(child).localname}"
            if len(child):
                walk(child, path)
            else:
                out[path] = (child.text or "").strip()

    walk(el, "")
    return out


@pytest.mark.parametrize("name", oracle.MOCK_NAMES)
def test_official_mock_is_reproduced(name, engine):
    mock = etree.fromstring(oracle.mock(name, logical_address=PRODUCER, extension=MEASURE_ID))
    mock_report = mock.find("soap:Body/gqi:GetQualityIndicatorsResponse/gqi:AggregatedQualityReport", NS)
    mock_measurements = mock_report.findall("qr:measurement", NS)
    checksum_only = not mock_measurements
    if checksum_only:  # the checksum-only scenario asks about the Land value of the first scenario
        land = etree.fromstring(oracle.mock("Response-Land", logical_address=PRODUCER, extension=MEASURE_ID))
        mock_measurements_to_store = land.findall(".//qr:measurement", NS)
    else:
        mock_measurements_to_store = mock_measurements
    store(engine, [measurement(m) for m in mock_measurements_to_store])

    ctx = AppContext(Settings(database_url=str(engine.url), accepted_logical_addresses=(PRODUCER,), **SETTINGS), engine)
    client = TestClient(create_app(ctx=ctx))
    r = sc.answer(sc.post(client, sc.request((MEASURE_ID,), "20130101", "20131231", not checksum_only, address=PRODUCER)))

    assert structure(r.report) == structure(mock_report)
    assert r.checksum != "CHECKSUM" and len(r.checksum) == 64
    for path in ("qr:reportingSystem", "qr:reportingOrganization"):
        assert values(r.report.find(path, NS)) == values(mock_report.find(path, NS))
    if checksum_only:
        full = sc.answer(sc.post(client, sc.request((MEASURE_ID,), "20130101", "20131231", True, address=PRODUCER)))
        assert r.checksum == full.checksum and r.period == full.period == ("20130301", "20130331")
        return
    assert r.period == ("20130301", "20130331")  # R6: the span of the values, not the mock's echo
    got, want = values(r.measurements[0]), values(mock_measurements[0])
    if name == "Response-ProportionMeasure-Land":
        assert want.pop("/proportionMeasure/rate") == "1.0" and got.pop("/proportionMeasure/rate") == "0.5"
    assert got == want


def test_the_package_holds_exactly_the_13_known_mocks(official_contract):
    assert sorted(p.stem for p in oracle.MOCKS.glob("*.xml")) == list(oracle.MOCK_NAMES)
