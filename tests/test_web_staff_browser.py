"""The staff preview in a real headless Chromium: log in, see a waiting value only in the preview, refuse forged
approvals (no CSRF token, a wrong one, a form on another site), approve, and see it on the public page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from indikera.store.tables import batches

from .support.browser import browser  # noqa: F401  (fixture)
from .support.server import running
from .support.staff import PERIOD_PARAM, TOKEN, staff_server, waiting_batch

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live(demo_template, tmp_path) -> Iterator[tuple]:
    with staff_server(demo_template, tmp_path) as (ctx, url):
        yield ctx, url


def _evil_site(target: str):
    """Another origin whose page holds a form that posts to the approval (what a CSRF attack looks like)."""
    def page(_request):
        return HTMLResponse(f'<!doctype html><title>x</title><form method="post" action="{target}">'
                            '<input type="hidden" name="csrf" value="guessed"><button id="go">Vinn</button></form>')
    return Starlette(routes=[Route("/", page)])


def test_staff_preview_login_csrf_and_approval(browser, live):
    from playwright.sync_api import expect

    ctx, base = live
    batch = waiting_batch(ctx)

    def status() -> str:
        with ctx.engine.connect() as conn:
            return conn.execute(select(batches.c.status).where(batches.c.id == batch)).scalar_one()

    context = browser.new_context(locale="sv-SE", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)

    # logged out: the preview sends you to the login page
    page.goto(base + "/personal/forhandsgranska")
    expect(page).to_have_url(re.compile(r"/personal/logga-in\?lang=sv$"))
    page.get_by_label("Administratörsnyckel").fill("fel nyckel")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator("#login-failed")).to_contain_text("Inloggningen misslyckades")
    page.get_by_label("Administratörsnyckel").fill(TOKEN)
    page.get_by_role("button", name="Logga in").click()
    expect(page).to_have_url(re.compile(r"/personal/forhandsgranska\?lang=sv$"))
    expect(page.locator("#preview-banner")).to_contain_text("FÖRHANDSGRANSKNING")
    expect(page.locator(f"tr[data-batch='{batch}']")).to_be_visible()

    # the waiting value: in the preview (marked), not on the public page
    page.locator("#visible-list li[data-measure-id='10001'] a").click()
    expect(page.locator("#preview-banner")).to_be_visible()
    page.select_option("#period", value=PERIOD_PARAM)
    page.get_by_role("button", name="Visa").first.click()
    expect(page).to_have_url(re.compile(r"/personal/forhandsgranska/10001\?.*publik=allman"))
    riket = page.locator("#results-table tbody tr").first
    expect(riket.locator("td.value")).to_have_text(re.compile(r"^87,3\u00a0%"))
    expect(riket.locator(".preview-mark")).to_have_text("väntar på godkännande")
    public = context.new_page()
    public.goto(base + "/indikatorer/10001")
    assert PERIOD_PARAM not in public.locator("#period option").evaluate_all("os => os.map(o => o.value)")
    expect(public.locator("#preview-banner")).to_have_count(0)

    # forged approvals: no token, a wrong token, a form on another site; each 403 and nothing changes
    target = f"{base}/personal/godkann/{batch}"
    for form in ({}, {"csrf": "fel"}):
        r = page.request.post(target, form=form)
        assert r.status == 403 and "CSRF" in r.text()
    with running(_evil_site(target)) as evil:
        attack = context.new_page()
        attack.goto(evil + "/")
        with attack.expect_navigation():
            attack.click("#go")
        expect(attack.locator("h1")).to_have_text("Åtgärden nekades")
        attack.close()
    assert status() == "applied"

    # approve from the preview
    page.goto(base + "/personal/forhandsgranska")
    page.get_by_role("button", name=f"Godkänn batch {batch}").click()
    expect(page.locator("#approved")).to_have_text(f"Batch {batch} är godkänd.")
    expect(page.locator(f"tr[data-batch='{batch}']")).to_have_count(0)
    assert status() == "approved"
    public.goto(base + f"/indikatorer/10001?period={PERIOD_PARAM}")
    expect(public.locator("#results-table tbody tr").first.locator("td.value")).to_have_text(re.compile(r"^87,3\u00a0%"))

    # log out: the preview is closed again
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/personal/logga-in"))
    page.goto(base + "/personal/forhandsgranska")
    expect(page).to_have_url(re.compile(r"/personal/logga-in"))
    context.close()
    assert problems == []
