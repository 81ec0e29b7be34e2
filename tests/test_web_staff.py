"""The staff preview over real HTTP (uvicorn + httpx): login, the signed session, CSRF, approval, audit, and
hostile input (bad tokens, forged or expired cookies, cross-site POSTs)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from lxml import html
from sqlalchemy import insert, select

from indikera.store.access_tables import agreements, audit_log
from indikera.store.installation import installation_secret
from indikera.store.repositories import utcnow
from indikera.store.tables import batches, indicators
from indikera.web.staff import session as staff_session

from .support.staff import PERIOD_PARAM, TOKEN, staff_server, waiting_batch

PREVIEW = "/personal/forhandsgranska"


@pytest.fixture
def live(demo_template, tmp_path) -> Iterator[tuple]:
    with staff_server(demo_template, tmp_path) as (ctx, url):
        with httpx.Client(base_url=url, timeout=20) as c:
            yield ctx, c


def login(c: httpx.Client, token: str = TOKEN) -> httpx.Response:
    return c.post("/personal/logga-in", data={"token": token, "lang": "sv"})


def csrf_of(c: httpx.Client, url: str = PREVIEW) -> str:
    doc = html.fromstring(c.get(url).text)
    return doc.xpath("//form[starts-with(@action, '/personal/godkann/')]/input[@name='csrf']/@value")[0]


def status_of(ctx, batch: int) -> str:
    with ctx.engine.connect() as conn:
        return conn.execute(select(batches.c.status).where(batches.c.id == batch)).scalar_one()


def audit_rows(ctx) -> list:
    with ctx.engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id)).all()


def test_logged_out_is_sent_to_login_and_pages_are_private(live):
    ctx, c = live
    for url in (PREVIEW, PREVIEW + "/10001", PREVIEW + "?publik=konsument:SE2321000000-VIS"):
        r = c.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/personal/logga-in")
    r = c.get("/personal/logga-in")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, no-store" and "etag" not in r.headers
    assert html.fromstring(r.text).xpath("//meta[@name='robots']/@content") == ["noindex, nofollow"]
    assert c.get("/personal/logga-in?lang=en").text.count("Staff login") >= 1


def test_bad_token_is_refused_audited_and_never_logged(live, caplog):
    ctx, c = live
    caplog.set_level(logging.DEBUG)
    for token in ("wrong", "", TOKEN + "x", "x" * 5000, "ik_" + "a" * 40):
        r = login(c, token)
        assert r.status_code in (401, 403) and staff_session.COOKIE not in r.cookies
        assert c.get(PREVIEW).status_code == 303
    denied = [a for a in audit_rows(ctx) if a.operation == "POST /personal/logga-in" and a.outcome == "denied"]
    assert len(denied) >= 4
    everything = caplog.text + repr([tuple(a) for a in audit_rows(ctx)])
    assert "wrong" not in everything.replace("something went wrong", "") and TOKEN not in everything


def test_login_cookie_flags_and_logout(live):
    ctx, c = live
    r = login(c)
    assert r.status_code == 303 and r.headers["location"].startswith(PREVIEW)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/personal" in cookie and "Max-Age=1800" in cookie
    assert TOKEN not in cookie  # the cookie names the token, it never holds it
    r = c.get(PREVIEW)
    assert r.status_code == 200 and "etag" not in r.headers
    assert r.headers["cache-control"] == "private, no-store" and r.headers["x-robots-tag"].startswith("noindex")
    doc = html.fromstring(r.text)
    assert doc.xpath("//p[@id='preview-banner']") and "anna" in doc.xpath("string(//div[@class='staff-bar'])")
    ok = [a for a in audit_rows(ctx) if a.operation == "POST /personal/logga-in" and a.outcome == "ok"]
    assert ok and ok[-1].actor == "token:anna"
    token = doc.xpath("//form[@action='/personal/logga-ut']/input[@name='csrf']/@value")[0]
    assert c.post("/personal/logga-ut", data={"csrf": "bad"}).status_code == 403
    assert c.get(PREVIEW).status_code == 200  # a forged logout changes nothing
    r = c.post("/personal/logga-ut", data={"csrf": token})
    assert r.status_code == 303 and c.get(PREVIEW).status_code == 303


def test_forged_and_expired_cookies_are_refused(live):
    ctx, c = live
    key = installation_secret(ctx.engine, staff_session.SECRET_KEY)
    _, expired = staff_session.issue(key, "anna", "token", now=0)
    _, other_key = staff_session.issue(b"not the installation key", "anna", "token")
    _, good = staff_session.issue(key, "anna", "token")
    body, mac = good.split(".")
    tampered = staff_session._b64(staff_session._unb64(body).replace(b"anna", b"eve!")) + "." + mac
    for value in (expired, other_key, tampered, "garbage", good + "x", "a.b.c", "." * 3, "%C3%A9" * 20, "x" * 5000):
        c.cookies.clear()
        c.cookies.set(staff_session.COOKIE, value, path="/personal")
        assert c.get(PREVIEW).status_code == 303, value
    c.cookies.clear()
    c.cookies.set(staff_session.COOKIE, good, path="/personal")
    assert c.get(PREVIEW).status_code == 200


def test_preview_shows_the_waiting_value_and_approval_needs_csrf(live):
    ctx, c = live
    batch = waiting_batch(ctx)
    # the public does not see it
    assert c.get("/indikatorer/10001", params={"period": PERIOD_PARAM}).status_code == 404
    login(c)
    r = c.get(PREVIEW + "/10001", params={"period": PERIOD_PARAM, "publik": "allman"})
    assert r.status_code == 200
    doc = html.fromstring(r.text)
    riket = doc.xpath("//table[@id='results-table']/tbody/tr")[0]
    assert riket.xpath("string(td[contains(@class,'value')])").strip().startswith("87,3")
    assert riket.xpath(".//span[@class='preview-mark']")
    listed = html.fromstring(c.get(PREVIEW).text)
    assert listed.xpath(f"//tr[@data-batch='{batch}']")
    token = csrf_of(c)
    url = f"/personal/godkann/{batch}"
    refused = [{}, {"csrf": ""}, {"csrf": "x" * 43}, {"csrf": token + "a"}]
    for data in refused:
        r = c.post(url, data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    # the right token from another site, and a token-less JSON body
    assert c.post(url, data={"csrf": token}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert c.post(url, data={"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert c.post(url, json={"csrf": token}).status_code == 403
    # a token of another session is no good either
    with httpx.Client(base_url=str(c.base_url)) as other:
        login(other)
        assert other.post(url, data={"csrf": token}).status_code == 403
    assert status_of(ctx, batch) == "applied"
    assert c.get("/indikatorer/10001", params={"period": PERIOD_PARAM}).status_code == 404
    r = c.post(url, data={"csrf": token, "publik": "allman"})
    assert r.status_code == 303 and "godkand=" in r.headers["location"]
    assert status_of(ctx, batch) == "approved"
    assert c.get("/indikatorer/10001", params={"period": PERIOD_PARAM}).status_code == 200
    rows = [a for a in audit_rows(ctx) if a.operation == "POST /personal/godkann/{batch_id}"]
    assert [(a.outcome, a.actor) for a in rows] == [("ok", "token:anna")]
    assert rows[0].requested == {"batch_id": str(batch)}
    denied = [a for a in audit_rows(ctx) if a.operation.startswith("POST /personal/godkann/") and a.outcome == "denied"]
    assert len(denied) >= 7
    # approving again: already approved, nothing happens; an unknown batch is a 404 page
    assert c.post("/personal/godkann/999999", data={"csrf": token}).status_code == 404
    assert c.post("/personal/godkann/abc", data={"csrf": token}).status_code == 404


def test_hidden_indicators_and_audiences(live):
    ctx, c = live
    login(c)
    assert c.get("/indikatorer/10015").status_code == 404
    doc = html.fromstring(c.get(PREVIEW).text)
    assert {"10015", "10016"} <= set(doc.xpath("//ul[@id='hidden-list']/li/@data-measure-id"))
    assert "10015" not in doc.xpath("//ul[@id='visible-list']/li/@data-measure-id")
    r = c.get(PREVIEW + "/10015")
    assert r.status_code == 200 and "syns inte för vald publik" in r.text
    with ctx.engine.begin() as conn:
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10015")).scalar_one()
        conn.execute(insert(agreements).values(consumer_hsa_id="SE2321000000-VIS", reference="CPUA-1", indicator_id=iid,
                                               valid_from=utcnow().date(), created_by="t", created_at=utcnow()))
    doc = html.fromstring(c.get(PREVIEW, params={"publik": "konsument:se2321000000-vis"}).text)
    assert "10015" in doc.xpath("//ul[@id='visible-list']/li/@data-measure-id")
    assert "SE2321000000-VIS" in doc.xpath("string(//p[@id='preview-banner'])")
    for bad in ("alla", "konsument:", "konsument:<script>", "konsument:" + "A" * 200, "konsument:SE 1"):
        r = c.get(PREVIEW, params={"publik": bad})
        assert r.status_code == 400 and "<script>" not in r.text
    assert c.get(PREVIEW + "/99999").status_code == 404
    assert c.get(PREVIEW + "/%3Cscript%3E").status_code == 404
    # the preview changed nothing: still hidden in public, nothing approved by the preview
    assert c.get("/indikatorer/10015").status_code == 404
    assert not [a for a in audit_rows(ctx) if (a.actor or "").startswith("preview")]


def test_failed_logins_are_rate_limited(live):
    ctx, c = live
    codes = [login(c, f"wrong-{i}").status_code for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    assert login(c).status_code == 429  # even the right token waits: the address is blocked for a while
    assert re.search("För många", c.post("/personal/logga-in", data={"token": "x"}).text)


def test_cross_site_login_is_refused(live):
    ctx, c = live
    r = c.post("/personal/logga-in", data={"token": TOKEN}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and staff_session.COOKIE not in r.cookies
