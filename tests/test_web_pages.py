"""The preview pages over real HTTP (uvicorn + httpx) on the demo registry: what the public sees and what it never sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html
from sqlalchemy import insert, select, update

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.demo import SOURCE
from indikera.domain.measurements import ConfidenceInterval, Measurement, Proportion
from indikera.domain.organisations import riket
from indikera.domain.periods import Period
from indikera.publish.visibility import PUBLIC, visible_measurements
from indikera.store.catalog_tables import indicator_descriptions, publication_rules
from indikera.store.repositories import OrganisationRepository, create_batch, ensure_source_system, insert_measurements, measurement_row, utcnow
from indikera.store.tables import batches, indicators, measurements, organisations

from .support.server import demo_server, running

OPEN_IDS = {str(i) for i in range(10001, 10015)}


@pytest.fixture(scope="module")
def base(demo_template, tmp_path_factory) -> Iterator[str]:
    """One server on a private copy of the demo registry, shared by the read-only tests of this module."""
    with demo_server(demo_template, tmp_path_factory.mktemp("web")) as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as c:
        yield c


def get(client: httpx.Client, url: str, **params) -> tuple[httpx.Response, html.HtmlElement]:
    r = client.get(url, params=params or None)
    return r, html.fromstring(r.text)


def listed_ids(doc: html.HtmlElement) -> list[str]:
    return doc.xpath("//table[@class='indicators']//tr/@data-measure-id")


def result_rows(doc: html.HtmlElement) -> list[dict[str, str]]:
    # a sorted column's header carries an arrow (▲/▼) after its name
    heads = [th.text_content().strip(" \n▲▼") for th in doc.xpath("//table[@id='results-table']/thead//th")]
    out = []
    for tr in doc.xpath("//table[@id='results-table']/tbody/tr"):
        cells = [re.sub(r"[ \t\r\n]+", " ", c.text_content()).strip() for c in tr.xpath("./th|./td")]
        out.append(dict(zip(heads, cells, strict=True)))
    return out


def all_result_rows(client: httpx.Client, url: str, **params) -> list[dict[str, str]]:
    """The table over every page (the table shows 100 rows a page: ``web/table.PAGE_SIZE``)."""
    out: list[dict[str, str]] = []
    number = 1
    while True:
        _, doc = get(client, url, **params, sida=str(number))
        out += result_rows(doc)
        if not doc.xpath("//nav[@class='pager']//a[@rel='next']"):
            return out
        number += 1


# --- the list -------------------------------------------------------------------------------------------


def test_start_page_and_health_still_work(client):
    r, doc = get(client, "/")
    assert r.status_code == 200
    assert doc.xpath("//a[starts-with(@href, '/indikatorer')]"), "the start page links to the indicator list"
    assert doc.xpath("string(//dd[@id='n-indicators'])") == "14"  # only what the public may see
    assert client.get("/health").json()["status"] == "ok"


def test_list_shows_exactly_the_open_indicators(client):
    r, doc = get(client, "/indikatorer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert set(listed_ids(doc)) == OPEN_IDS
    assert "Läkemedelsgenomgång" not in r.text and "Återinskrivning" not in r.text  # 10015 restricted, 10016 unpublished
    assert doc.xpath("string(//p[@id='shown-count'])") == "14 av 14 indikatorer"
    assert doc.get("lang") == "sv"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("HBA1C", {"10009", "10010", "10011", "10012"}),
        ("10013", {"10013"}),
        ("strokeenhet kvinnor", {"10002"}),  # every word must match
        ("  höftfraktur  ", {"10004"}),
        ("Läkemedelsgenomgång", set()),  # the restricted indicator is not found either
        ("%", set()),  # no SQL wildcard semantics
    ],
)
def test_search_filters_the_list(client, q, expected):
    r, doc = get(client, "/indikatorer", q=q)
    assert r.status_code == 200
    assert set(listed_ids(doc)) == expected
    if not expected:
        assert "Ingen publicerad indikator matchar" in doc.xpath("string(//p[@class='empty'])")


def test_search_text_is_escaped_and_kept_in_the_box(client):
    q = '"><script>alert(1)</script>'
    r, doc = get(client, "/indikatorer", q=q)
    assert r.status_code == 200
    assert "<script>" not in r.text
    assert doc.xpath("//input[@id='q']/@value") == [q]
    assert not doc.xpath("//script")


def test_trailing_slash_leads_to_the_list(client):
    r = client.get("/indikatorer/", params={"q": "stroke"})
    assert r.status_code == 308 and r.headers["location"] == "/indikatorer?q=stroke"


def test_overlong_search_is_a_clear_400_page(client):
    r, doc = get(client, "/indikatorer", q="x" * 5000)
    assert r.status_code == 400
    assert "Söktexten är för lång" in r.text and r.headers["content-type"].startswith("text/html")


# --- one indicator --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/indikatorer/10015", "/indikatorer/10016", "/indikatorer/99999", "/indikatorer/x", "/indikatorer/" + "9" * 300,
     "/indikatorer/%00", "/indikatorer/10001/extra", "/indikatorer/..%2F..%2Fetc"],
)
def test_hidden_unknown_and_malformed_ids_are_the_same_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "Sidan finns inte" in r.text
    assert "Läkemedelsgenomgång" not in r.text and "Återinskrivning" not in r.text


def test_indicator_page_shows_riket_and_lan_first_with_consistent_values(client):
    r, doc = get(client, "/indikatorer/10001", period="20250101-20251231")
    assert r.status_code == 200
    assert doc.xpath("string(//h1)") == "Vård på strokeenhet"
    rows = result_rows(doc)
    assert rows[0]["Organisation"] == "Riket" and rows[0]["Nivå"] == "Riket"
    lan = [row["Organisation"] for row in rows[1:22]]
    assert all(row["Nivå"] == "Län" for row in rows[1:22])
    assert lan[0] == "Blekinge län" and lan[-2:] == ["Örebro län", "Östergötlands län"]  # Swedish order
    assert {row["Nivå"] for row in rows[22:]} <= {"Sjukhus", "Vårdenhet"}

    # Riket's rate is its numerator/denominator, in Swedish number format, inside its CI.
    riket_row = rows[0]
    num, den = (float(x.replace("\u00a0", "").replace(" ", "")) for x in riket_row["Täljare / nämnare"].split("/"))
    assert riket_row["Värde"] == f"{num / den * 100:.1f}".replace(".", ",") + "\u00a0%"
    low, high = riket_row["95 % KI"].rstrip(" %\u00a0").split("–")
    assert float(low.replace(",", ".")) <= num / den * 100 <= float(high.replace(",", "."))


def test_masked_cells_show_a_dash_and_the_reason(client):
    r, doc = get(client, "/indikatorer/10001", period="20250101-20251231")
    rows = all_result_rows(client, "/indikatorer/10001", period="20250101-20251231")
    masked = [row for row in rows if row["Värde"].startswith("–")]
    reasons = {row["Värde"] for row in masked}
    assert "– för få fall" in reasons and "– ej rapporterat" in reasons
    for row in masked:
        assert row["95 % KI"] == "–" and row["Täljare / nämnare"] == "–"
    # the completeness summary counts what the table shows
    units = [row for row in rows if row["Nivå"] == "Vårdenhet"]
    assert doc.xpath("string(//dd[@id='c-units'])") == str(len(units))
    assert doc.xpath("string(//dd[@id='c-msk'])") == str(sum(1 for row in units if row["Värde"] == "– för få fall"))
    assert doc.xpath("string(//dd[@id='c-unk'])") == str(sum(1 for row in units if row["Värde"] == "– ej rapporterat"))


def test_table_has_every_visible_measurement_of_the_period(client, base, demo_template):
    from indikera.store.db import make_engine

    engine = make_engine(f"sqlite:///{demo_template}")
    with engine.connect() as conn:
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10005")).scalar_one()
        expected = conn.execute(
            select(organisations.c.name)
            .select_from(measurements.join(organisations, organisations.c.id == measurements.c.organisation_id))
            .where(measurements.c.indicator_id == iid, measurements.c.period_start == date(2023, 1, 1),
                   measurements.c.period_end == date(2023, 12, 31), visible_measurements(conn, PUBLIC, [iid]))
        ).scalars().all()
    engine.dispose()
    rows = all_result_rows(client, "/indikatorer/10005", period="20230101-20231231")
    names = ["Riket" if row["Nivå"] == "Riket" else row["Organisation"].split(" del av ")[0] for row in rows]
    assert sorted(names) == sorted(expected)


def test_period_choice_lists_the_available_periods_and_switches(client):
    _, doc = get(client, "/indikatorer/10001")
    options = doc.xpath("//select[@id='period']/option")
    assert len(options) == 5 + 8  # five years and eight quarters
    assert options[0].get("selected") is not None and options[0].text == "2025"  # newest, longest first
    assert "2024 kv 3" in [o.text for o in options]
    r, doc = get(client, "/indikatorer/10001", period="20240701-20240930")
    assert r.status_code == 200 and "2024 kv 3" in doc.xpath("string(//h2[@id='results'])")
    _, doc = get(client, "/indikatorer/10005")
    assert [o.text for o in doc.xpath("//select[@id='period']/option")] == ["2025", "2024", "2023", "2022", "2021"]


@pytest.mark.parametrize("period", ["abc", "2024", "20241301-20241231", "20241231-20240101", "20240101-20241231x", "1" * 5000, "' OR 1=1 --"])
def test_bad_period_is_a_400_page_with_the_expected_form(client, period):
    r = client.get("/indikatorer/10001", params={"period": period})
    assert r.status_code == 400
    assert "ÅÅÅÅMMDD-ÅÅÅÅMMDD" in r.text
    assert period[:100] not in r.text or len(period) <= 64  # the echo is cut short


def test_period_without_published_results_is_404(client):
    r = client.get("/indikatorer/10001", params={"period": "20300101-20301231"})
    assert r.status_code == 404 and "inga publicerade resultat för perioden 2030" in r.text


def test_level_filter(client):
    _, doc = get(client, "/indikatorer/10001", period="20250101-20251231", niva="lan")
    rows = result_rows(doc)
    assert len(rows) == 21 and {row["Nivå"] for row in rows} == {"Län"}
    assert {row["Jämfört med riket"] for row in rows} > {""}  # still compared with Riket, though it is filtered out
    r, doc = get(client, "/indikatorer/10001", niva="kommun")  # a level without results of its own
    assert not result_rows(doc) and doc.xpath("//select[@id='niva']/option[@selected]/@value") == ["kommun"]
    assert "Inga resultat på den valda nivån" in r.text
    r = client.get("/indikatorer/10001", params={"niva": "planet"})
    assert r.status_code == 400 and "Nivån" in r.text


def test_chart_draws_riket_and_every_lan_with_whiskers(client):
    _, doc = get(client, "/indikatorer/10001", period="20250101-20251231")
    svg = doc.xpath("//figure[@class='chart']/svg")
    assert len(svg) == 1 and svg[0].get("role") == "img"
    groups = svg[0].xpath("./g")
    assert len(groups) == 22
    assert sum(g.xpath("string(./title)").startswith("Riket: ") for g in groups) == 1  # ranked: Riket in its place
    values = []
    for g in groups:
        for dot, whisker in zip(g.xpath("./circle"), g.xpath("./path[@class='whisker']"), strict=True):
            x1, x2 = (float(v) for v in re.match(r"M([\d.]+) [\d.]+H([\d.]+)", whisker.get("d")).groups())
            assert x1 <= float(dot.get("cx")) <= x2
            values.append(float(dot.get("cx")))
    assert values == sorted(values, reverse=True)  # best first: a high value is good for 10001


def test_english_on_request_and_by_accept_language(client):
    _, doc = get(client, "/indikatorer/10001", period="20250101-20251231", lang="en")
    assert doc.get("lang") == "en"
    rows = result_rows(doc)
    assert rows[0]["Organisation"] == "Sweden" and "." in rows[0]["Value"]
    assert any(row["Value"] == "– too few cases" for row in rows)
    # the language link keeps the chosen period
    assert "period=20250101-20251231" in doc.xpath("//a[@class='lang']/@href")[0]
    r = client.get("/indikatorer", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Published indicators" in r.text
    r = client.get("/indikatorer", params={"lang": "xx"})
    assert "Publicerade indikatorer" in r.text


def test_pages_send_a_strict_content_security_policy(client):
    r = client.get("/indikatorer/10001")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=_text, period=_text, niva=_text, lang=_text)
def test_any_query_parameters_give_a_page_not_a_crash(client, q, period, niva, lang):
    for url, params in (("/indikatorer", {"q": q, "lang": lang}), ("/indikatorer/10005", {"period": period, "niva": niva, "lang": lang})):
        r = client.get(url, params=params)
        assert r.status_code in (200, 400, 404), r.text[:500]
        assert r.headers["content-type"].startswith("text/html")


# --- what the store says decides what is shown (private copies) ------------------------------------------


@pytest.fixture
def live(demo_ctx) -> Iterator[tuple[AppContext, httpx.Client]]:
    with running(create_app(ctx=demo_ctx)) as url, httpx.Client(base_url=url, timeout=10) as c:
        yield demo_ctx, c


def _indicator_id(conn, measure_id: str) -> int:
    return conn.execute(select(indicators.c.id).where(indicators.c.measure_id == measure_id)).scalar_one()


def test_unapproved_batch_never_shows_until_approved(live):
    ctx, c = live
    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    with ctx.engine.begin() as conn:
        iid = _indicator_id(conn, "10001")
        batch = create_batch(conn, registry="SE2321000000-DEMOREG", file_name="2026.csv", sha256="0" * 64, fmt="csv", actor="test")
        m = Measurement("10001", 1, period, riket(), Proportion(900, 1000), SOURCE, ci=ConfidenceInterval(0.88, 0.92))
        insert_measurements(conn, [measurement_row(m, indicator_id=iid, organisation_id=OrganisationRepository(conn).ensure(riket()),
                                                   source_system_id=ensure_source_system(conn, SOURCE), batch_id=batch)])
    _, doc = get(c, "/indikatorer/10001")
    assert "20260101-20261231" not in doc.xpath("//select[@id='period']/option/@value")
    assert c.get("/indikatorer/10001", params={"period": "20260101-20261231"}).status_code == 404

    with ctx.engine.begin() as conn:
        conn.execute(update(batches).where(batches.c.id == batch).values(status="approved", approved_by="test", approved_at=utcnow()))
    r = c.get("/indikatorer/10001", params={"period": "20260101-20261231"})
    assert r.status_code == 200
    assert result_rows(html.fromstring(r.text))[0]["Värde"] == "90,0\u00a0%"


def test_depublished_indicator_and_unpublished_period_disappear(live):
    ctx, c = live
    assert c.get("/indikatorer/10004").status_code == 200
    with ctx.engine.begin() as conn:
        conn.execute(update(publication_rules).where(publication_rules.c.indicator_id == _indicator_id(conn, "10004")).values(level="unpublished"))
        conn.execute(insert(publication_rules).values(indicator_id=_indicator_id(conn, "10005"), period_start=date(2023, 1, 1),
                                                      period_end=date(2023, 12, 31), level="unpublished", changed_by="t",
                                                      changed_at=utcnow(), reason="fel i underlaget"))
    assert c.get("/indikatorer/10004").status_code == 404
    assert "10004" not in listed_ids(html.fromstring(c.get("/indikatorer").text))
    _, doc = get(c, "/indikatorer/10005")
    assert [o.text for o in doc.xpath("//select[@id='period']/option")] == ["2025", "2024", "2022", "2021"]
    assert c.get("/indikatorer/10005", params={"period": "20230101-20231231"}).status_code == 404


def test_stored_text_is_escaped_everywhere(live):
    ctx, c = live
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with ctx.engine.begin() as conn:
        conn.execute(update(indicators).where(indicators.c.measure_id == "10005").values(title="Dörr " + evil))
        conn.execute(update(organisations).where(organisations.c.type == "Land").values(name="Riket " + evil))
        conn.execute(insert(indicator_descriptions).values(
            measure_id="10005", version_major=99, version_minor=0, created_by="t", created_at=utcnow(),
            document={"measureId": "10005", "purpose": evil, "texts": {"coverage": evil}}))
    for url in ("/indikatorer", "/indikatorer/10005", "/indikatorer/10005?lang=en"):
        r = c.get(url)
        assert r.status_code == 200
        assert "<script>" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;" in r.text
        assert not html.fromstring(r.text).xpath("//script|//img")


def test_catalogue_description_is_shown_newest_version_first(live):
    ctx, c = live
    texts = {
        "coverage": "Täckningsgraden mot patientregistret är 94 procent.",
        "dropout": "Bortfallet är 3 procent.",
        "reporting": "Enheterna rapporterar löpande via webbformulär.",
        "interpretation": "Små enheter har stor slumpvariation.",
        "sourcesOfError": "Felregistrering av ankomsttid.",
    }
    doc1 = {"measureId": "10005", "versionMajor": 9, "versionMinor": 0, "title": "Dörr till nål-tid", "purpose": "Gammalt syfte",
            "numerator": "-", "denominator": "-", "direction": "low", "texts": texts}
    doc2 = {**doc1, "versionMinor": 2, "purpose": "Kort tid till trombolys förbättrar utfallet.",
            "valueDefinition": "Median av minuter från ankomst till trombolys.", "unit": "minuter",
            "targets": [{"level": "målnivå", "organisation": "riket", "value": 30, "validFrom": "2024-01-01"}]}
    with ctx.engine.begin() as conn:
        for d in (doc2, doc1):  # inserted out of order on purpose
            conn.execute(insert(indicator_descriptions).values(measure_id="10005", version_major=d["versionMajor"],
                                                               version_minor=d["versionMinor"], document=d, created_by="t", created_at=utcnow()))
    r, doc = get(c, "/indikatorer/10005")
    assert "Kort tid till trombolys" in r.text and "Gammalt syfte" not in r.text
    assert "Lågt värde är bra" in r.text and "9.2" in r.text and "(minuter)" in r.text
    for key, text in texts.items():
        assert doc.xpath(f"string(//div[@id='text-{key}']/dd)").strip() == text
    assert [dt.text for dt in doc.xpath("//section[@aria-labelledby='quality']//dt")] == [
        "Täckningsgrad", "Bortfall", "Hur inrapporteringen gått till", "Case-mix och tolkningsproblem", "Felkällor"]
    assert not doc.xpath("//p[@id='no-description']")
    # the description is searchable
    assert listed_ids(html.fromstring(c.get("/indikatorer", params={"q": "trombolys förbättrar"}).text)) == ["10005"]


def test_indicator_without_description_says_so(live):
    ctx, c = live
    with ctx.engine.begin() as conn:
        conn.execute(indicator_descriptions.delete().where(indicator_descriptions.c.measure_id == "10008"))
    _, doc = get(c, "/indikatorer/10008")
    assert "inte lagt in någon beskrivning" in doc.xpath("string(//p[@id='no-description'])")
    rows = result_rows(doc)
    assert rows[0]["Organisation"] == "Riket" and rows[0]["Värde"] and rows[0]["95 % KI"] == "–"  # counts: no CI


def test_pages_read_the_same_on_sqlite_and_postgresql(demo_db_url):
    """The list, the period choice and the results table come out of either database the same."""
    ctx = AppContext.from_settings(Settings(database_url=demo_db_url))
    try:
        with running(create_app(ctx=ctx)) as url, httpx.Client(base_url=url, timeout=10) as c:
            _, doc = get(c, "/indikatorer")
            assert set(listed_ids(doc)) == OPEN_IDS
            _, doc = get(c, "/indikatorer/10001", period="20240401-20240630", niva="lan")
            assert len(doc.xpath("//select[@id='period']/option")) == 13
            rows = result_rows(doc)
            assert len(rows) == 21 and rows[0]["Organisation"] == "Blekinge län" and rows[0]["Värde"].endswith("%")
            assert c.get("/indikatorer/10015").status_code == 404
    finally:
        ctx.engine.dispose()


def test_open_data_links_give_the_same_results_as_the_table(client):
    """The page and the open-data API apply the same visibility rule: same organisations, same counts."""
    _, doc = get(client, "/indikatorer/10005", period="20240101-20241231")
    links = doc.xpath("//ul[@id='open-data-links']//a/@href")
    assert len(links) == 2
    for href in links:
        assert client.get(href).status_code == 200, href
    # the page's own CSV download is the table exactly (tests/test_web_results.py checks every level)
    csv_text = client.get(doc.xpath("//ul[@id='download-links']//a/@href")[0]).text
    data_lines = [line for line in csv_text.splitlines()[1:] if line.strip()]
    assert len(data_lines) == len(all_result_rows(client, "/indikatorer/10005", period="20240101-20241231"))
    assert client.get(links[0]).json()["measureId"] == "10005"


def test_demo_descriptions_fill_every_required_text(client):
    """The catalogue's stored documents (its own JSON writer) are read completely: no text shows as missing."""
    _, doc = get(client, "/indikatorer/10001")
    texts = doc.xpath("//section[@aria-labelledby='quality']//div[@class='text-item']/dd")
    assert len(texts) >= 5
    assert all(t.text_content().strip() and "Inte beskrivet" not in t.text_content() for t in texts)
    assert doc.xpath("string(//dl[@class='about'])").count("Täljare") == 1
