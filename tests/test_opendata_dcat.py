"""The DCAT-AP-SE catalogue at /datasets/dcat, parsed with rdflib and checked against the harvesting rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from indikera.app import create_app
from indikera.config import Settings

from .opendata_support import demo_copy

VCARD_EMAIL = URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")
# Mandatory properties per class (DCAT-AP-SE 3.0.1, exempel/obligatoriskt.ttl)
MANDATORY = {
    DCAT.Catalog: (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCTERMS.license, DCAT.dataset),
    DCAT.Dataset: (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCAT.distribution, DCAT.contactPoint),
    DCAT.Distribution: (DCAT.accessURL, DCAT.accessService),
    DCAT.DataService: (DCTERMS.title, DCAT.endpointURL),
}
SETTINGS = dict(base_url="https://data.demoregistret.se", publisher_name="Demoregistret", publisher_org_number="232100-0000",
                publisher_uri="http://dataportal.se/organisation/SE2321000000", contact_email="data@demoregistret.se",
                licence_uri="http://creativecommons.org/publicdomain/zero/1.0/")


@pytest.fixture(scope="module")
def client(demo_template, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=demo_copy("sqlite", demo_template, tmp_path_factory), **SETTINGS))
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


@pytest.fixture(scope="module")
def graph(client: TestClient) -> Graph:
    r = client.get("/datasets/dcat")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/rdf+xml")
    return Graph().parse(data=r.content, format="xml")


def test_every_mandatory_property_is_present(graph: Graph) -> None:
    for cls, props in MANDATORY.items():
        subjects = list(graph.subjects(RDF.type, cls))
        assert subjects, f"no {cls}"
        for s in subjects:
            for p in props:
                assert graph.value(s, p) is not None, f"{s} lacks {p}"
    for agent in graph.objects(None, DCTERMS.publisher):
        assert (agent, RDF.type, FOAF.Agent) in graph and graph.value(agent, FOAF.name) is not None
    for contact in graph.objects(None, DCAT.contactPoint):
        assert str(graph.value(contact, VCARD_EMAIL)) == "mailto:data@demoregistret.se"


def test_one_dataset_per_open_indicator_with_json_and_csv_from_the_api(graph: Graph) -> None:
    datasets = sorted(graph.subjects(RDF.type, DCAT.Dataset))
    ids = sorted(str(graph.value(d, DCTERMS.identifier)) for d in datasets)
    assert ids == [str(n) for n in range(10001, 10015)]
    catalog = graph.value(None, RDF.type, DCAT.Catalog)
    assert set(graph.objects(catalog, DCAT.dataset)) == set(datasets)
    for d in datasets:
        mid = str(graph.value(d, DCTERMS.identifier))
        urls = {str(graph.value(dist, DCAT.accessURL)) for dist in graph.objects(d, DCAT.distribution)}
        assert urls == {f"https://data.demoregistret.se/api/v1/results?measureId={mid}",
                        f"https://data.demoregistret.se/api/v1/results.csv?measureId={mid}"}
        types = {str(graph.value(dist, DCAT.mediaType)) for dist in graph.objects(d, DCAT.distribution)}
        assert types == {"http://www.iana.org/assignments/media-types/application/json",
                         "http://www.iana.org/assignments/media-types/text/csv"}
        desc = [o for o in graph.objects(d, DCTERMS.description) if isinstance(o, Literal)]
        assert desc and all(o.language for o in desc)


def test_harvesting_rules_absolute_iris_no_blank_nodes_licence_and_publisher(graph: Graph) -> None:
    for s, p, o in graph:
        for node in (s, p, o):
            assert not isinstance(node, BNode), f"blank node in {s} {p} {o}"
            if isinstance(node, URIRef):
                assert str(node).startswith(("http://", "https://", "mailto:", "tel:")), node
    licences = set(graph.objects(None, DCTERMS.license))
    assert licences == {URIRef("http://creativecommons.org/publicdomain/zero/1.0/")}
    assert set(graph.objects(None, DCTERMS.publisher)) == {URIRef("http://dataportal.se/organisation/SE2321000000")}


def test_default_licence_is_cc_by_4(demo_url: str) -> None:
    app = create_app(Settings(database_url=demo_url))
    with TestClient(app) as c:
        g = Graph().parse(data=c.get("/datasets/dcat").content, format="xml")
    app.state.ctx.engine.dispose()
    assert set(g.objects(None, DCTERMS.license)) == {URIRef("http://creativecommons.org/licenses/by/4.0/")}


@pytest.mark.parametrize("accept,fmt,media", [
    ("text/turtle", "turtle", "text/turtle"),
    ("application/ld+json", "json-ld", "application/ld+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml", "application/rdf+xml"),
    ("application/rdf+xml;q=0.5, text/turtle;q=0.9", "turtle", "text/turtle"),
    ("", "xml", "application/rdf+xml"),
])
def test_content_negotiation_gives_the_same_graph(client: TestClient, graph: Graph, accept: str, fmt: str, media: str) -> None:
    r = client.get("/datasets/dcat", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert "Accept" in r.headers["vary"]
    assert Graph().parse(data=r.content, format=fmt).isomorphic(graph)


def test_format_parameter_and_unacceptable_types(client: TestClient) -> None:
    assert client.get("/datasets/dcat?format=ttl").headers["content-type"].startswith("text/turtle")
    bad = client.get("/datasets/dcat?format=pdf")
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    r = client.get("/datasets/dcat", headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/datasets/dcat", headers={"Accept": "text/turtle;q=abc, application/rdf+xml"}).status_code == 200
