"""DCAT-AP-SE 3.0.1 recommended properties (issue #15): every one that applies is present on every node of its
class; the ones that do not apply are listed with the reason. Also: the publisher type is configurable and
checked, dcterms:modified follows the data (not the description), temporal is the period range."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF
from sqlalchemy import func, select

from indikera.app import create_app
from indikera.config import Settings
from indikera.opendata.dcat_terms import publisher_type_iri
from indikera.publish.visibility import PUBLIC, visible_measurements
from indikera.store.tables import batches, indicators, measurements

from .opendata_support import demo_copy

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
ORG = Namespace("https://www.w3.org/ns/org#")
AGENT, CONTACT = FOAF.Agent, VCARD.Organization

# Recommended (pref) properties of DCAT-AP-SE 3.0.1 (the profile's own bundle: cardinality pref 1) by class.
RECOMMENDED = {
    DCAT.Catalog: (DCTERMS.issued, DCTERMS.language, DCTERMS.modified, FOAF.homepage, DCTERMS.spatial, DCAT.themeTaxonomy),
    DCAT.DataService: (DCAT.endpointDescription, DCAT.contactPoint, DCAT.keyword, DCTERMS.format, DCTERMS.accessRights),
    DCAT.Dataset: (DCAT.contactPoint, DCAT.keyword, DCAT.theme, DCTERMS.issued, DCTERMS.spatial, DCTERMS.temporal,
                   DCTERMS.accessRights),
    DCAT.Distribution: (DCTERMS.description, DCTERMS.format, DCATAP.availability, DCTERMS.license),
    AGENT: (DCTERMS.description, DCTERMS.identifier),
    CONTACT: (VCARD.hasTelephone, VCARD.hasAddress),
    VCARD.Address: (VCARD["street-address"], VCARD["postal-code"], VCARD.locality, VCARD["country-name"]),
    DCTERMS.PeriodOfTime: (DCAT.startDate, DCAT.endDate),
}
# Recommended properties that do not apply, and why.
NOT_APPLICABLE = {
    (DCAT.Dataset, DCTERMS.conformsTo): "no published standard IRI exists for the VIS layout or the KIK description",
    (AGENT, ORG.classification): "the only value (dataportal.se feeFinanzing) marks fee-financed organisations; open data here is free",
}
SETTINGS = dict(base_url="https://data.demoregistret.se", publisher_name="Demoregistret", publisher_org_number="232100-0000",
                contact_email="data@demoregistret.se")


@pytest.fixture(scope="module")
def app_and_client(demo_template, tmp_path_factory) -> Iterator[tuple]:
    app = create_app(Settings(database_url=demo_copy("sqlite", demo_template, tmp_path_factory), **SETTINGS))
    with TestClient(app) as c:
        yield app, c
    app.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def graph(app_and_client) -> Graph:
    r = app_and_client[1].get("/datasets/dcat", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    return Graph().parse(data=r.content, format="turtle")


def test_every_recommended_property_that_applies_is_present(graph: Graph) -> None:
    present, total, missing = 0, 0, []
    for cls, props in RECOMMENDED.items():
        nodes = list(graph.subjects(RDF.type, cls))
        assert nodes, f"no {cls} in the catalogue"
        for p in props:
            total += 1
            lacking = [n for n in nodes if graph.value(n, p) is None]
            if lacking:
                missing.append(f"{cls.n3(graph.namespace_manager)} {p.n3(graph.namespace_manager)} ({len(lacking)} nodes)")
            else:
                present += 1
    print(f"recommended properties present: {present} of {total}; not applicable: {len(NOT_APPLICABLE)}")
    assert not missing, missing
    for (cls, p), _why in NOT_APPLICABLE.items():
        assert not any(graph.value(n, p) for n in graph.subjects(RDF.type, cls))


def test_no_blank_nodes_and_english_texts_on_every_dataset(graph: Graph) -> None:
    assert not [t for t in graph if any(isinstance(x, BNode) for x in t)]
    for ds in graph.subjects(RDF.type, DCAT.Dataset):
        for p in (DCTERMS.title, DCTERMS.description):
            langs = {o.language for o in graph.objects(ds, p)}
            assert {"sv", "en"} <= langs, (ds, p, langs)
    for dist in graph.subjects(RDF.type, DCAT.Distribution):
        assert {o.language for o in graph.objects(dist, DCTERMS.description)} >= {"sv", "en"}


def test_modified_is_when_the_data_changed_and_temporal_the_period_range(app_and_client, graph: Graph) -> None:
    """An independent audit: the newest visible value's write or its batch's approval, per indicator."""
    app = app_and_client[0]
    engine = app.state.ctx.engine
    with engine.connect() as conn:
        m = measurements.c
        q = (select(indicators.c.measure_id, func.min(m.period_start), func.max(m.period_end), func.max(m.updated_at),
                    func.max(batches.c.approved_at), func.max(m.visible_since))
             .select_from(measurements.join(batches, batches.c.id == m.batch_id).join(indicators, indicators.c.id == m.indicator_id))
             .where(visible_measurements(conn, PUBLIC)).group_by(indicators.c.measure_id))
        expected = {mid: (first, last, max(_naive_utc(t) for t in (u, a, v) if t is not None))
                    for mid, first, last, u, a, v in conn.execute(q)}
    assert expected
    for ds in graph.subjects(RDF.type, DCAT.Dataset):
        mid = str(graph.value(ds, DCTERMS.identifier))
        if mid not in expected:
            continue
        first, last, changed = expected.pop(mid)
        assert _naive_utc(graph.value(ds, DCTERMS.modified).toPython()) == changed
        period = graph.value(ds, DCTERMS.temporal)
        assert graph.value(period, DCAT.startDate).toPython() == first
        assert graph.value(period, DCAT.endDate).toPython() == last
    assert not expected  # every indicator with visible values is a dataset


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def test_publisher_type_is_the_configured_one(graph: Graph) -> None:
    (agent,) = set(graph.objects(None, DCTERMS.publisher))
    assert graph.value(agent, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/RegionalAuthority")
    s = Settings()
    assert publisher_type_iri(replace(s, dcat_publisher_type="nationalauthority")).endswith("/NationalAuthority")
    assert publisher_type_iri(replace(s, dcat_publisher_type="http://purl.org/adms/publishertype/LocalAuthority")).endswith("/LocalAuthority")
    with pytest.raises(ValueError, match="dcat_publisher_type"):
        publisher_type_iri(replace(s, dcat_publisher_type="Kommun"))
    with pytest.raises(ValueError, match="dcat_publisher_type"):
        create_app(replace(s, dcat_publisher_type="Myndighet", database_url="sqlite://"))
