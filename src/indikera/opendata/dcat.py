"""The DCAT-AP-SE catalogue of the open indicators, harvestable by dataportal.se.

Harvesting rules followed (``catalogue-and-open-data.md`` §8): RDF/XML by default from ``/datasets/dcat``;
absolute IRIs; no blank nodes for catalogue, dataset, distribution, publisher or contact point; an exact
licence URI; a publisher URI (``http://dataportal.se/organisation/SE<orgnr>`` when none is configured).
One dataset per open indicator, with a JSON and a CSV distribution served by the API (a DataService).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from ..config import Settings
from .descriptions import describe
from .state import View

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
PUBLISHER_TYPE = URIRef("http://purl.org/adms/publishertype/NationalAuthority")
THEME_HEALTH = URIRef(EU + "data-theme/HEAL")
SWEDEN = URIRef(EU + "country/SWE")
LANGUAGES = {"sv": "SWE", "en": "ENG"}
FREQUENCIES = {"year": "ANNUAL", "half-year": "ANNUAL_2", "quarter": "QUARTERLY", "month": "MONTHLY",
               "rolling-12-months": "MONTHLY"}

# media type → rdflib format; the first is the default (the harvester asks for RDF/XML)
FORMATS = {
    "application/rdf+xml": "xml",
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
}
FORMAT_ALIASES = {"rdf": "application/rdf+xml", "xml": "application/rdf+xml", "rdfxml": "application/rdf+xml",
                  "ttl": "text/turtle", "turtle": "text/turtle", "jsonld": "application/ld+json", "json-ld": "application/ld+json"}


def publisher_iri(settings: Settings) -> str:
    if settings.publisher_uri:
        return settings.publisher_uri
    digits = re.sub(r"\D", "", settings.publisher_org_number)
    return f"http://dataportal.se/organisation/SE{digits}"


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with for an Accept header (RDF/XML for none or a wildcard); None: 406."""
    if not accept or not accept.strip():
        return "application/rdf+xml"
    offers: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")[:50]):
        fields = [f.strip() for f in part.split(";")]
        media, q = fields[0].lower(), 1.0
        for p in fields[1:]:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            offers.append((-q, i, media))
    for _, _, media in sorted(offers):
        if media in FORMATS:
            return media
        if media in ("*/*", "application/*", "application/xml", "text/xml"):
            return "application/rdf+xml"
        if media == "text/*":
            return "text/turtle"
        if media in ("application/json",):
            return "application/ld+json"
    return None


def _lit(g: Graph, s: URIRef, p: URIRef, text: object, default_lang: str) -> None:
    if isinstance(text, str) and text.strip():
        g.add((s, p, Literal(text, lang=default_lang)))
    elif isinstance(text, dict):
        for lang, value in text.items():
            if isinstance(value, str) and value.strip() and re.fullmatch(r"[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*", lang):
                g.add((s, p, Literal(value, lang=lang)))


def build(view: View, settings: Settings, base: str) -> Graph:
    """The catalogue graph; ``base``: the public base URL (origin.base_url: configured, or from the request)."""
    base = base.rstrip("/")
    api = f"{base}/api/v1"
    lang = settings.language or "sv"
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dcterms", DCTERMS), ("foaf", FOAF), ("vcard", VCARD)):
        g.bind(prefix, ns)

    catalog = URIRef(f"{base}/datasets/catalog")
    publisher = URIRef(publisher_iri(settings))
    contact = URIRef(f"{base}/datasets/contact")
    service = URIRef(api)
    licence = URIRef(settings.licence_uri)
    language = URIRef(EU + "language/" + LANGUAGES.get(lang, "SWE"))

    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(settings.publisher_name, lang=lang)))
    g.add((publisher, DCTERMS.type, PUBLISHER_TYPE))
    g.add((publisher, DCTERMS.identifier, Literal(settings.publisher_org_number)))

    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(settings.publisher_name, lang=lang)))
    g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{settings.contact_email}")))

    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCTERMS.title, Literal(f"Öppna data från {settings.publisher_name}: kvalitetsindikatorer (API)", lang="sv")))
    g.add((service, DCAT.endpointURL, URIRef(f"{api}/")))
    g.add((service, DCAT.endpointDescription, URIRef(f"{api}/openapi.json")))
    g.add((service, DCTERMS.publisher, publisher))
    g.add((service, DCTERMS.license, licence))
    g.add((service, DCAT.contactPoint, contact))

    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal(f"Kvalitetsindikatorer från {settings.publisher_name}", lang="sv")))
    g.add((catalog, DCTERMS.title, Literal(f"Quality indicators from {settings.publisher_name}", lang="en")))
    g.add((catalog, DCTERMS.description, Literal(
        "Öppna kvalitetsindikatorer: beskrivningar och godkända resultat per region, sjukhus och vårdenhet, "
        "som JSON och CSV.", lang="sv")))
    g.add((catalog, DCTERMS.description, Literal(
        "Open quality indicators: descriptions and approved results per county, hospital and care unit, "
        "as JSON and CSV.", lang="en")))
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, DCTERMS.license, licence))
    g.add((catalog, DCTERMS.language, language))
    g.add((catalog, FOAF.homepage, URIRef(f"{base}/")))
    g.add((catalog, DCTERMS.modified, Literal(view.state.last_modified.isoformat(), datatype=XSD.dateTime)))
    g.add((catalog, DCAT.service, service))

    for ind in view.open_indicators():
        d = describe(view, ind, api, show_authors=settings.opendata_show_authors)
        mid = quote(ind.measure_id, safe="")
        ds = URIRef(f"{base}/datasets/indicator/{mid}")
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(ind.measure_id)))
        g.add((ds, DCTERMS.title, Literal(ind.title, lang="sv")))
        described = bool(d["description"] or d["purpose"])
        _lit(g, ds, DCTERMS.description, d["description"] or d["purpose"], lang)
        if not described:
            g.add((ds, DCTERMS.description, Literal(
                f"Kvalitetsindikatorn {ind.measure_id} ({ind.unit_type}): godkända, öppna resultat per "
                f"organisation och period från {settings.publisher_name}.", lang="sv")))
        g.add((ds, DCTERMS.publisher, publisher))
        g.add((ds, DCAT.contactPoint, contact))
        g.add((ds, DCAT.theme, THEME_HEALTH))
        g.add((ds, DCTERMS.spatial, SWEDEN))
        g.add((ds, DCTERMS.language, language))
        g.add((ds, DCAT.landingPage, URIRef(f"{api}/indicators/{mid}")))
        if ind.frequency in FREQUENCIES:
            g.add((ds, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/" + FREQUENCIES[ind.frequency])))
        for kw in d["keywords"]:
            g.add((ds, DCAT.keyword, Literal(kw, lang=lang)))
        if d["descriptionUpdatedAt"]:
            g.add((ds, DCTERMS.modified, Literal(d["descriptionUpdatedAt"], datatype=XSD.dateTime)))
        if d["parentMeasureId"]:
            g.add((ds, DCTERMS.isPartOf, URIRef(f"{base}/datasets/indicator/{quote(d['parentMeasureId'], safe='')}")))
        for fmt, media, path, label in (
            ("JSON", "application/json", f"{api}/results?measureId={mid}", "JSON"),
            ("CSV", "text/csv", f"{api}/results.csv?measureId={mid}", "CSV (VIS-format)"),
        ):
            dist = URIRef(f"{base}/datasets/indicator/{mid}/{fmt.lower()}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f"{ind.title} ({label})", lang="sv")))
            g.add((dist, DCAT.accessURL, URIRef(path)))
            g.add((dist, DCAT.downloadURL, URIRef(path)))
            g.add((dist, DCAT.accessService, service))
            g.add((dist, DCAT.mediaType, URIRef(IANA + media)))
            g.add((dist, DCTERMS.format, URIRef(EU + "file-type/" + fmt)))
            g.add((dist, DCTERMS.license, licence))
    return g


def serialize(graph: Graph, media_type: str) -> bytes:
    data = graph.serialize(format=FORMATS[media_type], encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")
