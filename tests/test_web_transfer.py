"""Issue #18, the smaller items, over real HTTP on the demo registry: digit grouping, ETag/304/no-cache and gzip,
/favicon.ico, a focus ring with enough contrast, Swedish catalogue text marked on English pages, results first,
and the results table's scroll box. The layout at phone widths is in test_web_responsive.py (a real browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import html
from sqlalchemy import insert, select

from indikera.app import create_app
from indikera.store.catalog_tables import publication_rules
from indikera.store.repositories import utcnow
from indikera.store.tables import indicators
from indikera.web.formatting import count

from .support.server import demo_server, running

STATIC = Path(__file__).parents[1] / "src" / "indikera" / "web" / "static"
PAGES = ["/", "/indikatorer", "/indikatorer/10001", "/indikatorer/10001?niva=lan"]


@pytest.fixture(scope="module")
def base(demo_template, tmp_path_factory) -> Iterator[str]:
    with demo_server(demo_template, tmp_path_factory.mktemp("transfer")) as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as c:
        yield c


def doc_of(client: httpx.Client, url: str) -> html.HtmlElement:
    r = client.get(url)
    assert r.status_code == 200, url
    return html.fromstring(r.text)


# --- item 10: digit grouping ----------------------------------------------------------------------------


def test_counts_are_grouped_swedish_with_a_no_break_space_english_with_a_comma():
    assert count(36924, "sv") == "36\u00a0924" and count(1234567, "sv") == "1\u00a0234\u00a0567"
    assert count(36924, "en") == "36,924" and count(999, "sv") == "999"


def test_start_page_groups_the_number_of_results(client):
    sv = doc_of(client, "/?lang=sv").xpath("string(//dd[@id='n-measurements'])")
    en = doc_of(client, "/?lang=en").xpath("string(//dd[@id='n-measurements'])")
    # the demo publishes tens of thousands of results: five digits, grouped by three
    assert re.fullmatch(r"\d{2}\u00a0\d{3}", sv), repr(sv)
    assert re.fullmatch(r"\d{2},\d{3}", en), repr(en)
    assert sv.replace("\u00a0", "") == en.replace(",", "")


def test_completeness_and_table_counts_are_grouped(client):
    doc = doc_of(client, "/indikatorer/10008?niva=riket")  # cataract operations: a count in the thousands
    values = [v.strip() for v in doc.xpath("//table[@id='results-table']//td[contains(@class,'value')]/text()")]
    assert values and all(re.fullmatch(r"\d{1,3}(\u00a0\d{3})*", v) for v in values), values
    assert any("\u00a0" in v for v in values)
    for dd in doc.xpath("//section[@class='completeness']//dd[starts-with(@id,'c-')]"):
        assert not re.search(r"\d{4}", dd.text_content()), dd.text_content()  # never four digits in a row


# --- item 9: ETag, 304, no-cache, gzip ------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_an_etag_and_answer_304_when_unchanged(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    tag = r.headers["etag"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert again.headers["cache-control"] == "no-cache"
    assert client.get(url, headers={"If-None-Match": 'W/"other", ' + tag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_etag_depends_on_language_and_query(client):
    tags = {
        client.get(url, params=params).headers["etag"]
        for url, params in [
            ("/indikatorer/10001", {"lang": "sv"}),
            ("/indikatorer/10001", {"lang": "en"}),
            ("/indikatorer/10001", {"lang": "sv", "niva": "lan"}),
            ("/indikatorer/10002", {"lang": "sv"}),
            ("/indikatorer", {"lang": "sv"}),
        ]
    }
    assert len(tags) == 5
    # the language chosen by Accept-Language is part of the key too
    sv = client.get("/indikatorer", headers={"Accept-Language": "sv"}).headers["etag"]
    en = client.get("/indikatorer", headers={"Accept-Language": "en"}).headers["etag"]
    assert sv != en and "accept-language" in client.get("/indikatorer").headers["vary"].lower()


def test_error_pages_have_no_etag(client):
    r = client.get("/indikatorer/99999")
    assert r.status_code == 404 and "etag" not in r.headers and r.headers["cache-control"] == "no-cache"


def test_a_data_change_changes_the_tag(demo_ctx):
    with running(create_app(ctx=demo_ctx)) as url, httpx.Client(base_url=url, timeout=10) as c:
        first = c.get("/indikatorer/10004")
        tag = first.headers["etag"]
        with demo_ctx.engine.begin() as conn:  # depublish one period: the page must not be served from cache
            iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10004")).scalar_one()
            conn.execute(insert(publication_rules).values(indicator_id=iid, period_start=date(2024, 1, 1), period_end=date(2024, 12, 31),
                                                          level="unpublished", changed_by="t", changed_at=utcnow(), reason="test"))
        after = c.get("/indikatorer/10004", headers={"If-None-Match": tag})
        assert after.status_code == 200 and after.headers["etag"] != tag
        assert "20240101-20241231" in first.text and "20240101-20241231" not in after.text


@pytest.mark.parametrize("url", ["/", "/indikatorer", "/indikatorer/10001"])
def test_pages_are_sent_gzipped_when_asked(client, url):
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as r:
        body = r.read()  # decoded
        wire = r.num_bytes_downloaded
    assert r.headers["content-encoding"] == "gzip" and "accept-encoding" in r.headers["vary"].lower()
    assert "content-encoding" not in plain.headers and body == plain.content
    if url == "/indikatorer/10001":
        assert wire < len(body) / 5, (wire, len(body))  # an indicator page shrinks several times


# --- item 7: favicon, focus ring, lang="sv" -------------------------------------------------------------


def test_favicon_ico_is_the_svg_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.content == (STATIC / "favicon.svg").read_bytes()


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_the_issue():
    assert round(contrast("#f2a900", "#fbfbf8"), 2) == 1.94  # the old ring, as measured in issue #18


def test_focus_ring_has_at_least_3_to_1_against_the_backgrounds():
    css = (STATIC / "site.css").read_text()
    var = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", css))
    rules = re.findall(r"([^{}]*:focus-visible[^{}]*)\{([^}]*)\}", css)
    assert rules, "no focus-visible rule"
    for selectors, body in rules:
        colour = re.search(r"outline:\s*\d+px\s+solid\s+(#[0-9a-fA-F]{6}|var\(--([a-z]+)\))", body)
        assert colour, f"{selectors.strip()}: no solid outline colour"
        ring = colour.group(1) if colour.group(1).startswith("#") else var[colour.group(2)]
        for background in (var["bg"], "#ffffff"):  # the page and the white header
            assert contrast(ring, background) >= 3, (selectors.strip(), ring, background)


def test_english_pages_mark_the_swedish_catalogue_text(client):
    # 10004 has an English title, description and purpose in the demo catalogue, its other texts only in Swedish:
    # each text is marked with the language it is really written in
    doc = doc_of(client, "/indikatorer/10004?lang=en")
    assert doc.get("lang") == "en"
    assert doc.xpath("//h1")[0].get("lang") == "en"
    about = doc.xpath("//dl[@class='about']/dd[@lang='sv']")
    assert len(about) >= 2 and "höftfraktur" in " ".join(d.text_content() for d in about).lower()
    assert doc.xpath("//dl[@class='about']/dd[@lang='en']")  # the description, in English
    texts = doc.xpath("//dl[@class='texts']//dd")
    assert texts and all(d.xpath(".//*[@lang='sv']") or d.xpath(".//*[@class='muted']") for d in texts)
    assert doc_of(client, "/indikatorer/10004?lang=sv").xpath("//h1")[0].get("lang") == "sv"
    listed = doc_of(client, "/indikatorer?lang=en").xpath("//table[@class='indicators']//th[@scope='row']/a")
    assert len(listed) == 14 and all(a.get("lang") == "sv" for a in listed)


# --- item 5: results first; the table's scroll box -----------------------------------------------------


@pytest.mark.parametrize(("lang", "about"), [("sv", "Om indikatorn"), ("en", "About the indicator")])
def test_results_come_before_the_description_which_is_one_link_away(client, lang, about):
    doc = doc_of(client, f"/indikatorer/10001?lang={lang}")
    order = [e.get("id") for e in doc.xpath("//h2[@id]")]
    assert order.index("results") < order.index("quality") < order.index("about"), order
    body = doc.xpath("//main")[0]
    elements = list(body.iter())
    link = doc.xpath("//nav[@class='jump']/a[@href='#about']")
    assert link and link[0].text_content() == about
    figure = doc.xpath("//figure[@class='chart']")[0]
    table = doc.xpath("//table[@id='results-table']")[0]
    about_h2 = doc.xpath("//h2[@id='about']")[0]
    assert elements.index(link[0]) < elements.index(figure) < elements.index(table) < elements.index(about_h2)


def test_results_table_scrolls_in_a_named_focusable_region(client):
    doc = doc_of(client, "/indikatorer/10001")
    wrap = doc.xpath("//div[@class='table-wrap']")[0]
    assert wrap.get("role") == "region" and wrap.get("tabindex") == "0"
    name = doc.xpath(f"//*[@id='{wrap.get('aria-labelledby')}']")
    assert name and "Vård på strokeenhet" in name[0].text_content()
    assert not wrap.xpath("ancestor-or-self::*/descendant::*[@id=$i]/ancestor::div[@class='table-wrap']", i=name[0].get("id"))


def test_narrow_chart_layout_keeps_everything_inside_its_340_px():
    from indikera.web import chart

    points = [chart.Point("Riket", 0.9, 0.88, 0.92, reference=True), chart.Point("Västra Götalands län", 0.5, 0.0, 1.0),
              chart.Point("Gotlands län", None)]
    c = chart.build(points, True, layout=chart.NARROW)
    assert c.width == 340 and c.layout is chart.NARROW
    assert all(0 < t.x - 20 and t.x + 20 < c.width for t in c.ticks)  # room for a centred "100 %"
    for row, previous in zip(c.rows, [None, *c.rows], strict=False):
        label_top = row.y + c.layout.label_dy - c.layout.font_size
        assert label_top > (c.top if previous is None else previous.y + 4)  # the label clears the row above
        if row.x is not None:
            assert c.plot_left <= row.x_low <= row.x <= row.x_high <= c.plot_right
    assert c.height >= c.bottom and c.rows[-1].y + 4 <= c.bottom
