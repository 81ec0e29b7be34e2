"""Values keep the definition they were computed under (issue #16 item 4): after a new major version the page
marks every value of the old version, and a table, ranking chart or trend that mixes versions says so, or
draws one series per version; in Swedish and English. Plus a hypothesis audit of the trend's series split."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html
from sqlalchemy import insert, select, update

from indikera.store.catalog_tables import indicator_descriptions
from indikera.store.repositories import utcnow
from indikera.store.tables import indicators, measurements, organisations
from indikera.web import versions
from indikera.web.queries import ResultRow

from .support.server import demo_server

NEW_YEAR = ("20250101-20251231", date(2025, 1, 1), date(2025, 12, 31))
OLD_YEAR = "20230101-20231231"
KEPT_OLD = ("01", "03")  # two län whose 2025 values stay computed under version 1


@pytest.fixture(scope="module")
def client(demo_template, tmp_path_factory) -> Iterator[httpx.Client]:
    """The demo with version 2.0 of 10001: its 2025 values computed under 2 (but two län), older under 1."""
    from indikera.config import Settings
    from indikera.context import AppContext

    directory = tmp_path_factory.mktemp("versions")
    with demo_server(demo_template, directory) as url:
        ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{directory / 'demo.db'}"))
        with ctx.engine.begin() as conn:
            iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10001")).scalar_one()
            old = conn.execute(select(indicator_descriptions).where(indicator_descriptions.c.measure_id == "10001")).first()
            doc = dict(old.document if isinstance(old.document, dict) else json.loads(old.document))
            doc.update(versionMajor=2, versionMinor=0)
            conn.execute(insert(indicator_descriptions).values(
                measure_id="10001", version_major=2, version_minor=0, document=doc, created_by="t", created_at=utcnow(),
                status="published", published_at=utcnow()))
            conn.execute(update(indicators).where(indicators.c.id == iid).values(version=2))
            kept = select(organisations.c.id).where(organisations.c.type == "Lan", organisations.c.org_extension.in_(KEPT_OLD))
            m = measurements.c
            conn.execute(update(measurements).where(m.indicator_id == iid, m.period_start == NEW_YEAR[1], m.period_end == NEW_YEAR[2],
                                                    m.organisation_id.not_in(kept)).values(version=2))
        ctx.engine.dispose()
        with httpx.Client(base_url=url, timeout=20) as c:
            yield c


def page(c: httpx.Client, **params) -> html.HtmlElement:
    r = c.get("/indikatorer/10001", params=params)
    assert r.status_code == 200
    return html.fromstring(r.text)


def notes(doc: html.HtmlElement) -> list[str]:
    return [n.text_content() for n in doc.xpath("//table[@id='results-table']//span[@class='version-note']")]


def test_old_values_under_a_new_description_are_marked(client):
    doc = page(client, period=OLD_YEAR)
    assert doc.xpath("string(//dl[@class='facts'])").count("2.0")
    rows = doc.xpath("//table[@id='results-table']/tbody/tr[not(contains(@class,'masked'))]")
    assert rows and len(notes(doc)) == len(rows)  # every shown value says it is version 1
    assert set(notes(doc)) == {"beräknat enligt version 1"}
    notice = doc.xpath("string(//p[@id='version-notice'])")
    assert "version 1" in notice and "version 2" in notice
    en = page(client, period=OLD_YEAR, lang="en")
    assert set(notes(en)) == {"computed under version 1"} and "version 2" in en.xpath("string(//p[@id='version-notice'])")


def test_a_table_and_chart_that_mix_versions_say_so(client):
    doc = page(client, period=NEW_YEAR[0], niva="lan")
    assert len(notes(doc)) == len(KEPT_OLD)  # only the two län still under version 1 are marked
    assert "blandar" in doc.xpath("string(//p[@id='version-notice'])")
    assert "blandar" in doc.xpath("string(//p[@id='version-chart-notice'])")
    en = page(client, period=NEW_YEAR[0], niva="lan", lang="en")
    assert "mixes" in en.xpath("string(//p[@id='version-notice'])") and "mixes" in en.xpath("string(//p[@id='version-chart-notice'])")


def test_the_trend_draws_one_series_per_version(client):
    doc = page(client, period=NEW_YEAR[0])
    assert "egen serie" in doc.xpath("string(//p[@id='version-trend-notice'])")
    heads = [h.text_content() for h in doc.xpath("//table[@id='trend-table']/thead//th")][1:]
    assert any("version 1" in h or "v1" in h for h in heads) and any("version 2" in h or "v2" in h for h in heads)
    en = page(client, period=NEW_YEAR[0], lang="en")
    assert "series of its own" in en.xpath("string(//p[@id='version-trend-notice'])")


def test_one_version_only_is_unmarked(client):
    doc = html.fromstring(client.get("/indikatorer/10002").text)
    assert not notes(doc) and not doc.xpath("//p[contains(@class,'version-notice')]")


def _row(key: str, version: int | None, year: int) -> ResultRow:
    return ResultRow(key, "Lan", None, "", "proportion", 0.5, 1, 2, None, None, None, None, None, None, None,
                     org_key=key, period_start=date(year, 1, 1), period_end=date(year, 12, 31), version=version)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 3), st.integers(2020, 2025)), max_size=20))
def test_no_trend_series_holds_two_versions(items):
    rows = [_row(k, v, y) for k, v, y in items]
    split = versions.mixed(rows)
    series: dict[str, set[int | None]] = {}
    for r in rows:
        series.setdefault(versions.series_key(r, split), set()).add(r.version)
    assert all(len(vs) == 1 for vs in series.values())
    assert split == (len({r.version for r in rows}) > 1)
