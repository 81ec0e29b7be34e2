"""English description texts (#16 item 5) reach every channel that shows texts: open data (``lang=en``), DCAT
and the UI; where no English is written the Swedish is shown and marked as Swedish, never passed off as English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from indikera.app import create_app
from indikera.catalog.demo_descriptions import SPECS, description_for
from indikera.config import Settings

from .opendata_support import demo_copy


@pytest.fixture(scope="module")
def client(demo_template, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=demo_copy("sqlite", demo_template, tmp_path_factory),
                              base_url="https://data.example.se"))
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


def _demo_english(measure_id: str) -> dict[str, str]:
    from indikera.demo import INDICATORS

    ind = next(d.indicator for d in INDICATORS if d.indicator.measure_id == measure_id)
    return description_for(ind).en


def test_open_data_gives_english_texts_where_written_and_says_which(client: TestClient) -> None:
    en = _demo_english("10001")
    sv = client.get("/api/v1/indicators/10001").json()
    eng = client.get("/api/v1/indicators/10001?lang=en").json()
    assert sv["textLanguage"] == "sv" and set(sv["textLanguages"].values()) == {"sv"}
    assert eng["title"] == en["title"] != sv["title"]
    assert eng["description"] == en["description"]
    for path, language in eng["textLanguages"].items():
        if path.startswith("texts."):
            shown = eng["texts"][path[6:]]
        elif path in ("title", "description", "purpose", "shortTitle"):
            shown = eng[path]
        else:
            continue
        # a text marked English is the registry's English; one marked Swedish is the Swedish original
        assert (shown == en[path]) if language == "en" else (path not in en)
    assert eng["textLanguage"] in ("en", "mixed")


def test_a_text_without_english_stays_swedish_and_is_marked(client: TestClient) -> None:
    eng = client.get("/api/v1/indicators/10001?lang=en").json()
    untranslated = [p for p, lang in eng["textLanguages"].items() if lang == "sv"]
    en = _demo_english("10001")
    assert all(p not in en for p in untranslated)
    if untranslated:
        assert eng["textLanguage"] == "mixed"


def test_dcat_uses_the_registrys_english_title(client: TestClient) -> None:
    g = Graph().parse(data=client.get("/datasets/dcat").content, format="xml")
    titles = {(str(s), o.language): str(o) for s, o in g.subject_objects(DCTERMS.title) if isinstance(o, Literal)}
    ds = next(s for (s, lang) in titles if s.endswith("/datasets/indicator/10001"))
    assert titles[(ds, "en")] == _demo_english("10001")["title"]
    assert (URIRef(ds), DCTERMS.title, Literal(titles[(ds, "sv")], lang="sv")) in g


def test_ui_shows_english_texts_marked_english_and_swedish_ones_marked_swedish(client: TestClient) -> None:
    en = _demo_english("10001")
    html = client.get("/indikatorer/10001?lang=en").text
    assert f'<h1 lang="en">{en["title"]}</h1>' in html
    assert f'<dd lang="en">{en["description"]}</dd>' in html
    sv_html = client.get("/indikatorer/10001?lang=sv").text
    assert '<h1 lang="sv">' in sv_html and en["description"] not in sv_html
    assert SPECS["10001"].description in sv_html
