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
from .dataset_stats import DatasetStats
from .dcat_terms import publisher_type_iri, telephone_iri
from .descriptions import describe
from .state import View

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
DCATAP = Namespace("http://data.europa.eu/r5r/")
THEME_HEALTH = URIRef(EU + "data-theme/HEAL")
SWEDEN = URIRef(EU + "country/SWE")
THEMES = URIRef(EU + "data-theme")
PUBLIC_ACCESS = URIRef(EU + "access-right/PUBLIC")
AVAILABLE = URIRef(EU + "planned-availability/AVAILABLE")  # served while the indicator is open
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


# (file type, media type, API path, label, Swedish and English description) of each dataset's distributions
DISTRIBUTIONS = (
    ("JSON", "application/json", "results", "JSON",
     "Godkända öppna resultat som JSON, sidindelade (cursor), med filter för period och organisation.",
     "Approved open results as JSON, paginated (cursor), with filters for period and organisation."),
    ("CSV", "text/csv", "results.csv", "CSV (VIS-format)",
     "Alla godkända öppna resultat som CSV i VIS-platta-filformatet (kan läsas in igen).",
     "Every approved open result as CSV in the VIS flat-file layout (re-importable)."),
)


def _lit(g: Graph, s: URIRef, p: URIRef, text: object, default_lang: str) -> None:
    if isinstance(text, str) and text.strip():
        g.add((s, p, Literal(text, lang=default_lang)))
    elif isinstance(text, dict):
        for lang, value in text.items():
            if isinstance(value, str) and value.strip() and re.fullmatch(r"[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*", lang):
                g.add((s, p, Literal(value, lang=lang)))


def _date(value) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _stamp(value) -> Literal:
    return Literal(value.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)


def _contact(g: Graph, contact: URIRef, settings: Settings, lang: str) -> None:
    """The contact point (a vcard:Organization): name, e-mail and, when configured, telephone and address.
    The telephone and address get IRIs under the contact's (no blank nodes)."""
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(settings.publisher_name, lang=lang)))
    g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{settings.contact_email}")))
    tel = telephone_iri(settings)
    if tel:
        phone = URIRef(f"{contact}#telephone")
        g.add((contact, VCARD.hasTelephone, phone))
        g.add((phone, VCARD.hasValue, URIRef(tel)))
    parts = ((VCARD["street-address"], settings.contact_street_address), (VCARD["postal-code"], settings.contact_postal_code),
             (VCARD.locality, settings.contact_locality), (VCARD["country-name"], settings.contact_country))
    if any(v.strip() for _, v in parts):
        address = URIRef(f"{contact}#address")
        g.add((contact, VCARD.hasAddress, address))
        g.add((address, RDF.type, VCARD.Address))
        for p, v in parts:
            if v.strip():
                g.add((address, p, Literal(v.strip())))


def build(view: View, settings: Settings, base: str, stats: dict[int, DatasetStats] | None = None) -> Graph:
    """The catalogue graph; ``base``: the public base URL (origin.base_url: configured, or from the request);
    ``stats``: per open indicator, its data's period range and dates (dataset_stats)."""
    stats = stats or {}
    base = base.rstrip("/")
    api = f"{base}/api/v1"
    lang = settings.language or "sv"
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dcterms", DCTERMS), ("foaf", FOAF), ("vcard", VCARD), ("dcatap", DCATAP)):
        g.bind(prefix, ns)

    catalog = URIRef(f"{base}/datasets/catalog")
    publisher = URIRef(publisher_iri(settings))
    contact = URIRef(f"{base}/datasets/contact")
    service = URIRef(api)
    licence = URIRef(settings.licence_uri)
    language = URIRef(EU + "language/" + LANGUAGES.get(lang, "SWE"))

    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(settings.publisher_name, lang=lang)))
    g.add((publisher, DCTERMS.type, URIRef(publisher_type_iri(settings))))
    g.add((publisher, DCTERMS.identifier, Literal(settings.publisher_org_number)))
    for text, tag in ((settings.publisher_description, "sv"), (settings.publisher_description_en, "en")):
        if text.strip():
            g.add((publisher, DCTERMS.description, Literal(text.strip(), lang=tag)))

    _contact(g, contact, settings, lang)

    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCTERMS.title, Literal(f"Öppna data från {settings.publisher_name}: kvalitetsindikatorer (API)", lang="sv")))
    g.add((service, DCTERMS.title, Literal(f"Open data from {settings.publisher_name}: quality indicators (API)", lang="en")))
    g.add((service, DCTERMS.description, Literal(
        "REST-API (JSON, CSV, XLSX) med öppna kvalitetsindikatorer: beskrivningar, godkända resultat, organisationer "
        "och ett ändringsflöde. Beskrivs av OpenAPI-dokumentet.", lang="sv")))
    g.add((service, DCTERMS.description, Literal(
        "REST API (JSON, CSV, XLSX) of open quality indicators: descriptions, approved results, organisations and a "
        "change feed. Described by the OpenAPI document.", lang="en")))
    g.add((service, DCTERMS.format, URIRef(EU + "file-type/JSON")))
    g.add((service, DCTERMS.accessRights, PUBLIC_ACCESS))
    g.add((service, DCAT.keyword, Literal("kvalitetsindikatorer", lang="sv")))
    g.add((service, DCAT.keyword, Literal("quality indicators", lang="en")))
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
    g.add((catalog, DCTERMS.spatial, SWEDEN))
    g.add((catalog, DCAT.themeTaxonomy, THEMES))
    issued = [s.first_opened for s in stats.values() if s.first_opened] or [t for t in view.opened_at.values() if t]
    if issued:
        g.add((catalog, DCTERMS.issued, _stamp(min(issued))))
    g.add((catalog, DCAT.service, service))

    for ind in view.open_indicators():
        d = describe(view, ind, api, show_authors=settings.opendata_show_authors)
        mid = quote(ind.measure_id, safe="")
        ds = URIRef(f"{base}/datasets/indicator/{mid}")
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(ind.measure_id)))
        st = stats.get(ind.id, DatasetStats())
        g.add((ds, DCTERMS.title, Literal(ind.title, lang="sv")))
        # English texts from the catalogue (Description.en) where the registry wrote them; otherwise the English
        # title and description say what the dataset is from its metadata and name the Swedish title rather
        # than pretend to translate it.
        en = describe(view, ind, api, show_authors=settings.opendata_show_authors, lang="en")
        en_langs = en["textLanguages"]
        if en_langs.get("title") == "en":
            g.add((ds, DCTERMS.title, Literal(en["title"], lang="en")))
        else:
            g.add((ds, DCTERMS.title, Literal(f"Quality indicator {ind.measure_id}: {ind.title}", lang="en")))
        en_text = next((en[k] for k in ("description", "purpose") if en_langs.get(k) == "en" and en[k]), None)
        g.add((ds, DCTERMS.description, Literal(en_text or (
            f"Quality indicator {ind.measure_id} ({ind.unit_type}, {ind.frequency}) from {settings.publisher_name}: "
            f"approved open results per organisation and period. Swedish title: {ind.title}."), lang="en")))
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
        g.add((ds, DCTERMS.accessRights, PUBLIC_ACCESS))
        g.add((ds, DCAT.keyword, Literal("kvalitetsindikator", lang="sv")))
        g.add((ds, DCAT.keyword, Literal("quality indicator", lang="en")))
        first_opened = st.first_opened or view.opened_at.get(ind.id)
        if first_opened:
            g.add((ds, DCTERMS.issued, _stamp(first_opened)))
        if st.first_period and st.last_period:
            period = URIRef(f"{ds}/temporal")
            g.add((ds, DCTERMS.temporal, period))
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            g.add((period, DCAT.startDate, _date(st.first_period)))
            g.add((period, DCAT.endDate, _date(st.last_period)))
        g.add((ds, DCTERMS.language, language))
        g.add((ds, DCAT.landingPage, URIRef(f"{api}/indicators/{mid}")))
        if ind.frequency in FREQUENCIES:
            g.add((ds, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/" + FREQUENCIES[ind.frequency])))
        for kw in d["keywords"]:
            g.add((ds, DCAT.keyword, Literal(kw, lang=lang)))
        # modified: when its data last changed (a value written or approved); without values, its description
        if st.data_changed:
            g.add((ds, DCTERMS.modified, _stamp(st.data_changed)))
        elif d["descriptionUpdatedAt"]:
            g.add((ds, DCTERMS.modified, Literal(d["descriptionUpdatedAt"], datatype=XSD.dateTime)))
        if d["parentMeasureId"]:
            g.add((ds, DCTERMS.isPartOf, URIRef(f"{base}/datasets/indicator/{quote(d['parentMeasureId'], safe='')}")))
        for fmt, media, path, label, sv, en in DISTRIBUTIONS:
            path = f"{api}/{path}?measureId={mid}"
            dist = URIRef(f"{base}/datasets/indicator/{mid}/{fmt.lower()}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(f"{ind.title} ({label})", lang="sv")))
            g.add((dist, DCTERMS.description, Literal(sv, lang="sv")))
            g.add((dist, DCTERMS.description, Literal(en, lang="en")))
            g.add((dist, DCATAP.availability, AVAILABLE))
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
