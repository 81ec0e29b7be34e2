"""The preview UI in a real headless Chromium (Debian package ``chromium``) on the demo registry.

Without Chromium (or the playwright package) these tests skip with the reason; on CI (``CI`` set) they fail
(``support.browser``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from .support.browser import browser  # noqa: F401  (fixture)
from .support.server import demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def base(demo_template, tmp_path_factory) -> Iterator[str]:
    with demo_server(demo_template, tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="sv-SE", viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(5000)
    problems: list[str] = []
    # A 404 page itself is expected in some tests; its "failed to load" console line is the document's.
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and r.request.resource_type != "document" else None)
    # A request the browser cancels because the test navigated on (the icon of the page left) is no fault; a
    # missing resource answers 4xx above, a refused one fails with another reason.
    pg.on("requestfailed", lambda r: problems.append(f"failed {r.url}: {r.failure}") if r.failure != "net::ERR_ABORTED" else None)
    yield pg
    context.close()
    # No CSP violation, missing stylesheet/icon or script error on any page the test visited.
    assert problems == []


def test_from_the_start_page_to_an_indicators_results(page, base):
    from playwright.sync_api import expect

    page.goto(base + "/")
    page.get_by_role("link", name="Förhandsgranska indikatorerna").click()
    expect(page).to_have_url(re.compile(r"/indikatorer\?lang=sv$"))
    page.get_by_role("link", name="Vård på strokeenhet", exact=True).click()
    expect(page.locator("h1")).to_have_text("Vård på strokeenhet")

    table = page.locator("#results-table")
    riket = table.locator("tbody tr").first
    expect(riket.locator("th")).to_have_text("Riket")
    expect(riket.locator("td.value")).to_have_text(re.compile(r"^\d{2},\d\u00a0%$"))
    expect(riket.locator("td.ci")).to_have_text(re.compile(r"^\d{2},\d–\d{2},\d\u00a0%$"))
    expect(table.locator("tbody tr").nth(1).locator("td").nth(1)).to_have_text("Län")  # after the HSA-id/code
    expect(table.locator(".reason[data-reason=MSK]").first).to_have_text("för få fall")
    expect(page.locator("figure.chart svg g.row")).to_have_count(22)
    # the stylesheet loaded under the page's Content-Security-Policy
    assert page.locator("button").first.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 95, 168)"


def test_period_choice_and_language_switch(page, base):
    from playwright.sync_api import expect

    page.goto(base + "/indikatorer/10001")
    page.select_option("#period", label="2024 kv 3")
    page.select_option("#niva", label="Län")
    page.get_by_role("button", name="Visa", exact=True).click()  # the trend has its own "Visa utvecklingen"
    expect(page.locator("h2#results")).to_have_text("Resultat, 2024 kv 3")
    expect(page.locator("#results-table tbody tr")).to_have_count(21)
    page.get_by_role("link", name="In English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h2#results")).to_have_text("Results, 2024 Q3")
    expect(page.locator("#results-table thead th").nth(3)).to_have_text("Value")
    expect(page.locator("#niva")).to_have_value("lan")  # the choices survive the language switch
    expect(page.locator("#results-table tbody tr").first.locator("td").nth(1)).to_have_text("County")
    expect(page.locator("dl.texts dt").first).to_have_text("Coverage")


def test_search_filters_the_list(page, base):
    from playwright.sync_api import expect

    page.goto(base + "/indikatorer")
    rows = page.locator("table.indicators tbody tr")
    expect(rows).to_have_count(14)
    page.get_by_label("Sök bland indikatorerna").fill("hba1c män")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a")).to_have_text("HbA1c under 52 mmol/mol vid typ 1-diabetes, män")
    page.get_by_role("link", name="Visa alla").click()
    expect(rows).to_have_count(14)


def test_restricted_and_unpublished_indicators_are_neither_listed_nor_reachable(page, base):
    from playwright.sync_api import expect

    page.goto(base + "/indikatorer")
    ids = page.locator("table.indicators tbody tr").evaluate_all("rows => rows.map(r => r.dataset.measureId)")
    assert "10015" not in ids and "10016" not in ids and len(ids) == 14
    for mid in ("10015", "10016"):
        response = page.goto(f"{base}/indikatorer/{mid}")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Sidan finns inte")


def test_pages_pass_the_axe_accessibility_checks(page, base):
    """WCAG 2.1 A/AA and axe best practice on the list and an indicator page (län level, to stay quick)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI requires axe-playwright-python (test extra)", pytrace=False)
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[test]')")
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
    for path in ("/indikatorer", "/indikatorer/10001?niva=lan&lang=en"):
        page.goto(base + path)
        result = Axe().run(page, options=options)
        assert result.response["passes"], "axe did not run"
        assert result.violations_count == 0, f"{path}: {result.generate_report()}"
