"""The preview UI at a desktop (1 400 px) and phone (390 and 320 px) width in headless Chromium (issue #18, item 7):
no horizontal overflow (WCAG 1.4.10), readable chart text, a visible table name, a focus ring with enough contrast,
and axe WCAG 2.1 AA (and best practice) clean on the start page, the list and an indicator page in Swedish and
English.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from . import test_web_browser as shared
from .test_web_transfer import contrast

# The browser module's fixtures: one Chromium and one demo server per module.
browser, base = shared.browser, shared.base

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["/?lang=sv", "/indikatorer?lang=sv", "/indikatorer/10001?lang=sv", "/?lang=en", "/indikatorer?lang=en", "/indikatorer/10001?lang=en"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@contextmanager
def viewport(browser, width: int) -> Iterator:
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10000)
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        yield pg
    finally:
        context.close()
    assert problems == []  # every page, stylesheet and icon loaded


def _hex(css_colour: str) -> str:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


# The smallest chart text as drawn: its font size times the SVG's scale, on the chart that is displayed.
CHART_TEXT = """() => {
  const shown = [...document.querySelectorAll('figure svg')].filter(s => s.getBoundingClientRect().width > 0);
  return shown.map(s => {
    const k = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
    return {figure: s.parentElement.className, min: Math.min(...[...s.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * k))};
  });
}"""


@pytest.mark.parametrize("width", [390, 320])
def test_no_horizontal_overflow_on_a_phone(browser, base, width):
    with viewport(browser, width) as pg:
        for path in PAGES:
            pg.goto(base + path)
            scroll, inner = pg.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert scroll <= inner, f"{path} at {width} px: {scroll} px wide"
            if "/indikatorer/" in path:
                # the table's name is outside its scroll box and wholly on screen
                box = pg.locator("#results-caption").bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner
                # the table itself scrolls inside its box, which the keyboard can reach
                assert pg.evaluate("(() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth > w.clientWidth })()")


@pytest.mark.parametrize(("width", "figure"), [(1400, "chart"), (390, "chart-narrow")])
def test_chart_text_is_at_least_11_px_as_drawn(browser, base, width, figure):
    with viewport(browser, width) as pg:
        pg.goto(base + "/indikatorer/10001")
        shown = pg.evaluate(CHART_TEXT)
        # exactly one of the two layouts of each chart is displayed: the ranking, and the trend per year and quarter
        trend = "trend-" + figure
        assert [s["figure"] for s in shown] == [figure, trend, trend]
        assert all(s["min"] >= 11 for s in shown), shown
        assert pg.locator(f"figure.{figure} svg g.row").count() == 22


def test_keyboard_focus_ring_has_3_to_1_and_reaches_the_table(browser, base):
    with viewport(browser, 1400) as pg:
        pg.goto(base + "/indikatorer/10001")
        page_bg = _hex(pg.evaluate("getComputedStyle(document.body).backgroundColor"))
        seen = []
        for _ in range(40):
            pg.keyboard.press("Tab")
            info = pg.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
              return {cls: e.className, tag: e.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor}; }""")
            seen.append(info["tag"] + "." + info["cls"])
            assert info["style"] == "solid" and info["width"] >= 2, info
            assert contrast(_hex(info["colour"]), page_bg) >= 3, info
            if info["cls"] == "table-wrap":
                break
        else:
            pytest.fail(f"the table's scroll box is not reachable by Tab: {seen}")


@pytest.mark.parametrize("width", [1400, 390])
def test_axe_wcag21_aa_clean_at_desktop_and_phone_width(browser, base, width):
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI requires axe-playwright-python (test extra)", pytrace=False)
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[test]')")
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    with viewport(browser, width) as pg:
        for path in PAGES:
            pg.goto(base + path)
            result = Axe().run(pg, options=options)
            assert result.response["passes"], "axe did not run"
            assert result.violations_count == 0, f"{path} at {width} px: {result.generate_report()}"
