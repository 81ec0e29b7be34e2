"""Issue #16 item 1: descriptions go through review. One test per rule: drafts stay out of every channel,
four eyes, rejection, release order, history (who/when/why), diff, review dates, the CLI, the admin API and
the upgrade of databases stored before review existed (migration 0009)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from indikera import demo
from indikera.app import create_app
from indikera.catalog import jsonformat, review
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.description_diff import diff, flatten
from indikera.catalog.review_states import Action, ReviewError
from indikera.config import Settings
from indikera.context import AppContext
from indikera.publish import control
from indikera.publish.states import PublishError
from indikera.store import db as store_db
from indikera.store.access_tables import audit_log
from indikera.store.catalog_tables import description_review_log, indicator_descriptions
from indikera.store.repositories import utcnow
from indikera.store.tables import indicators

from .support.server import running

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}


def d(mid: str = "10001", minor: int = 0):
    base = description_for(DEMO[mid])
    return base if minor == 0 else replace(base, version_minor=minor, purpose=f"{base.purpose} Version {minor}.")


def text(*ds) -> str:
    return jsonformat.dumps(list(ds))


def move(engine, v, action, who, **kw):
    with store_db.writer(engine).begin() as conn:
        return review.transition(conn, "10001", v, action, actor=who, **kw)


def test_an_import_is_a_draft_no_channel_shows(engine):
    assert cs.import_text(engine, text(d()), "anna", reason="Första versionen").ok
    with engine.connect() as conn:
        assert cs.latest_stored(conn) == {} and cs.description_versions(conn) == {}
        assert cs.latest_description(conn, "10001", published=True) is None
        preview = cs.description_for_preview(conn, "10001")
        assert preview.status == "draft" and preview.description.version == (1, 0)
        assert cs.latest_description(conn, "10001").version == (1, 0)  # the catalogue's working copy
        log = review.log_entries(conn, "10001")
    assert [(e["action"], e["actor"], e["reason"]) for e in log] == [("create", "anna", "Första versionen")]
    with pytest.raises(PublishError) as exc, store_db.writer(engine).begin() as conn:
        control.set_level(conn, "10001", "open", actor="anna", reason="öppna")  # a draft is no description yet
    assert exc.value.code == "NO_DESCRIPTION"


def test_the_approver_is_not_the_author_unless_the_setting_allows_it(engine):
    assert cs.import_text(engine, text(d()), "anna").ok
    move(engine, (1, 0), Action.SUBMIT, "anna")
    with pytest.raises(ReviewError) as exc:
        move(engine, (1, 0), Action.APPROVE, " ANNA ")  # case and spaces do not make another person
    assert exc.value.code == "REVIEW_SELF_APPROVAL" and exc.value.status == 409 and "catalog_self_approval" in exc.value.en
    move(engine, (1, 0), Action.APPROVE, "anna", self_approval=True)
    with pytest.raises(ReviewError) as exc:  # and the one-step path keeps the rule
        cs.import_text(engine, text(d(minor=1)), "anna", approve_as="anna")
    assert exc.value.code == "REVIEW_SELF_APPROVAL"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(indicator_descriptions)).scalar_one() == 1  # rolled back


def test_rejection_needs_a_reason_and_is_final(engine):
    assert cs.import_text(engine, text(d()), "anna").ok
    move(engine, (1, 0), Action.SUBMIT, "anna")
    with pytest.raises(ReviewError) as exc:
        move(engine, (1, 0), Action.REJECT, "bertil", reason=" ")
    assert exc.value.code == "REVIEW_REASON" and exc.value.status == 422
    move(engine, (1, 0), Action.REJECT, "bertil", reason="Täckningsgraden saknar år")
    for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH, Action.REJECT):
        with pytest.raises(ReviewError) as exc:
            move(engine, (1, 0), action, "bertil", reason="igen")
        assert exc.value.code == "REVIEW_TRANSITION"
    assert cs.import_text(engine, text(d(minor=1)), "anna").added == ["10001 1.1"]  # the fix is a new version


def test_release_supersedes_and_never_goes_back(engine):
    assert cs.import_text(engine, text(d(), d(minor=1), d(minor=2)), "anna").ok
    for minor in (0, 1, 2):
        move(engine, (1, minor), Action.SUBMIT, "anna")
        move(engine, (1, minor), Action.APPROVE, "bertil")
    with pytest.raises(ReviewError):
        move(engine, (1, 0), Action.APPROVE, "bertil")  # approved already
    move(engine, (1, 0), Action.PUBLISH, "bertil")
    move(engine, (1, 2), Action.PUBLISH, "bertil")
    with pytest.raises(ReviewError) as exc:
        move(engine, (1, 1), Action.PUBLISH, "bertil")
    assert exc.value.code == "REVIEW_OLDER"
    with engine.connect() as conn:
        statuses = {v["version"]: v["status"] for v in review.versions(conn, "10001")}
        assert statuses == {"1.0": "superseded", "1.1": "approved", "1.2": "published"}
        assert [s.description.version for s in cs.description_versions(conn)["10001"]] == [(1, 2), (1, 0)]
        assert conn.execute(select(indicators.c.title)).scalar_one() == d(minor=2).title
        log = review.log_entries(conn, "10001")
    assert ("supersede", "1.0", "bertil") in [(e["action"], e["version"], e["actor"]) for e in log]


def test_diff_field_by_field():
    a = jsonformat.to_dict(d())
    b = jsonformat.to_dict(replace(d(minor=1), texts={**d().texts, "coverage": d().texts["coverage"] + " Mer."}, keywords=()))
    changes = {c.field: c.kind for c in diff(a, b)}
    assert changes == {"purpose": "changed", "texts.coverage": "changed", **{f"keywords[{i}]": "removed" for i in range(len(d().keywords))}}
    assert diff(a, a) == [] and flatten({"x": [], "y": {"z": [1]}}) == {"x": [], "y.z[0]": 1}


def test_review_dates_and_due(engine):
    assert cs.import_text(engine, text(d(), d("10002")), "anna").ok
    today = utcnow().date()
    for mid, nxt in (("10001", today + timedelta(days=10)), ("10002", today + timedelta(days=100))):
        with store_db.writer(engine).begin() as conn:
            review.approve_and_publish(conn, mid, (1, 0), author="anna", approver="bertil", self_approval=False)
            conn.execute(indicator_descriptions.update().where(indicator_descriptions.c.measure_id == mid)
                         .values(next_review_date=nxt))
    with engine.connect() as conn:
        assert review.due(conn) == []
        assert [x.measure_id for x in review.due(conn, 30)] == ["10001"]
        assert [x.measure_id for x in review.due(conn, 200)] == ["10001", "10002"]
        assert review.due(conn, 30)[0].reviewed_by == "bertil"


def cli(*args: str):
    from indikera.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_review_flow_is_audited(tmp_path, sqlite_engine):
    url = str(sqlite_engine.url)
    f = tmp_path / "k.json"
    f.write_text(text(d()), encoding="utf-8")
    assert cli("catalog", "import", str(f), "--db", url, "--by", "anna", "--approve-as", "anna").exit_code == 1
    r = cli("catalog", "import", str(f), "--db", url, "--by", "anna", "--reason", "Ny indikator")
    assert r.exit_code == 0 and "utkast" in r.output
    assert cli("catalog", "approve", "10001", "1.0", "--db", url, "--by", "bertil").exit_code == 1  # not submitted
    assert cli("catalog", "submit", "10001", "1.0", "--db", url, "--by", "anna").exit_code == 0
    r = cli("catalog", "approve", "10001", "1.0", "--db", url, "--by", "anna")
    assert r.exit_code == 1 and "REVIEW_SELF_APPROVAL" in r.output
    assert cli("catalog", "approve", "10001", "1,0", "--db", url, "--by", "bertil").exit_code == 2
    r = cli("catalog", "approve", "10001", "1.0", "--db", url, "--by", "bertil", "--next-review", "2030-01-01", "--release")
    assert r.exit_code == 0, r.output
    f.write_text(text(d(minor=1)), encoding="utf-8")
    assert cli("catalog", "import", str(f), "--db", url, "--by", "cecilia").exit_code == 0
    r = cli("catalog", "diff", "10001", "--db", url, "--json")
    assert json.loads(r.stdout)["from"] == "1.0" and [c["field"] for c in json.loads(r.stdout)["changes"]] == ["purpose"]
    hist = json.loads(cli("catalog", "history", "10001", "--db", url, "--json").stdout)
    assert [(v["version"], v["status"], v["reviewedBy"]) for v in hist["versions"]] == [("1.1", "draft", None), ("1.0", "published", "bertil")]
    assert hist["versions"][1]["nextReviewDate"] == "2030-01-01" and hist["log"][0]["reason"] == "Ny indikator"
    due = json.loads(cli("catalog", "due", "--within", "36500d", "--db", url, "--json").stdout)
    assert [(x["measureId"], x["nextReviewDate"]) for x in due] == [("10001", "2030-01-01")]
    assert cli("catalog", "due", "--within", "snart", "--db", url).exit_code == 2
    with sqlite_engine.connect() as conn:
        ops = [(r.operation, r.outcome, r.actor) for r in conn.execute(select(audit_log).where(audit_log.c.operation.like("catalog.%")).order_by(audit_log.c.id))]
    assert ("catalog.approve", "rejected", "anna") in ops and ("catalog.release", "ok", "bertil") in ops
    assert ("catalog.import", "rejected", "anna") in ops


def test_admin_api_review(sqlite_engine):
    assert cs.import_text(sqlite_engine, text(d()), "anna", approve_as="bertil").ok
    with store_db.writer(sqlite_engine).begin() as conn:
        control.set_level(conn, "10001", "open", actor="anna", reason="Öppna data")
    ctx = AppContext.from_settings(Settings(database_url=str(sqlite_engine.url), admin_tokens=("anna:tok-anna-1234567", "bertil:tok-bertil-1234567")))
    newer = replace(description_for(DEMO["10001"]), version_minor=1, purpose=description_for(DEMO["10001"]).purpose + " Förtydligad.")
    try:
        with running(create_app(ctx=ctx)) as base:
            anna = httpx.Client(base_url=base + "/admin/api/v1", headers={"Authorization": "Bearer tok-anna-1234567"}, timeout=30)
            bertil = httpx.Client(base_url=base + "/admin/api/v1", headers={"Authorization": "Bearer tok-bertil-1234567"}, timeout=30)
            r = anna.post("/catalogue", params={"reason": "Förtydligat syfte"}, content=jsonformat.dumps([newer]))
            assert r.status_code == 200 and r.json()["added"] == ["10001 1.1"]
            assert "Förtydligad" not in httpx.get(base + "/api/v1/indicators/10001").text  # open data: still 1.0
            assert anna.get("/catalogue/10001/preview").json()["status"] == "draft"
            assert anna.get("/catalogue/10001/diff").json()["changes"][0]["field"] == "purpose"
            assert anna.post("/catalogue/10001/versions/1.1/submit").json()["after"] == "in_review"
            r = anna.post("/catalogue/10001/versions/1.1/approve", json={"release": True})
            assert r.status_code == 409 and r.json()["code"] == "REVIEW_SELF_APPROVAL" and r.headers["content-type"] == "application/problem+json"
            assert bertil.post("/catalogue/10001/versions/9.9/submit").status_code == 404
            assert bertil.post("/catalogue/10001/versions/1.1/reject", json={}).status_code == 422
            r = bertil.post("/catalogue/10001/versions/1.1/approve", json={"release": True, "nextReview": "2031-05-01"})
            assert r.status_code == 200 and r.json() == {"measureId": "10001", "version": "1.1", "before": "in_review", "after": "published"}
            assert "Förtydligad" in httpx.get(base + "/api/v1/indicators/10001").text
            log = anna.get("/catalogue/10001/versions").json()["log"]
            assert [(e["action"], e["actor"]) for e in log[-4:]] == [("submit", "token:anna"), ("approve", "token:bertil"),
                                                                     ("supersede", "token:bertil"), ("publish", "token:bertil")]
            assert {"measureId": "10001", "version": "1.1", "nextReviewDate": "2031-05-01", "reviewedBy": "token:bertil"}.items() <= \
                next(x for x in anna.get("/catalogue/due", params={"within": 36500}).json() if x["measureId"] == "10001").items()
            anna.close()
            bertil.close()
        with ctx.engine.connect() as conn:
            ops = [(r.operation, r.outcome) for r in conn.execute(select(audit_log).where(audit_log.c.channel == "admin"))]
        assert ("POST /admin/api/v1/catalogue/{measure_id}/versions/{version}/{action}", "http-409") in ops
    finally:
        ctx.engine.dispose()


def test_upgrade_keeps_what_was_published(db_url):
    """Rows stored before migration 0009 count as published: the newest per indicator, older ones superseded."""
    from sqlalchemy import text as sql

    store_db.downgrade(db_url, "0008")
    engine = store_db.make_engine(db_url)
    try:
        with engine.begin() as conn:
            for minor in (0, 1):
                conn.execute(sql("INSERT INTO indicator_descriptions (measure_id, version_major, version_minor, document, "
                                 "created_by, created_at) VALUES ('10001', 1, :minor, :doc, 'gammal', :at)"),
                             {"minor": minor, "doc": json.dumps(jsonformat.to_dict(d(minor=minor))), "at": utcnow()})
        store_db.upgrade(db_url)
        with engine.connect() as conn:
            statuses = {v["version"]: v["status"] for v in review.versions(conn, "10001")}
            assert statuses == {"1.0": "superseded", "1.1": "published"}
            assert cs.latest_stored(conn)["10001"].description.version == (1, 1)
            assert [x.measure_id for x in review.due(conn)] == ["10001"]  # never reviewed in indikera
            assert conn.execute(select(func.count()).select_from(description_review_log)).scalar_one() == 0
    finally:
        engine.dispose()
        store_db.upgrade(db_url)


def test_channels_date_a_version_by_its_publication_not_its_draft(engine):
    """A consumer polling "updated since T" must see a version drafted before T and published after it."""
    assert cs.import_text(engine, text(d()), "anna").ok
    with store_db.writer(engine).begin() as conn:
        conn.execute(indicator_descriptions.update().values(created_at=utcnow() - timedelta(days=30)))
        review.approve_and_publish(conn, "10001", (1, 0), author="anna", approver="bertil", self_approval=False)
    with engine.connect() as conn:
        shown = cs.latest_stored(conn)["10001"].created_at
        staff = cs.latest_stored(conn, include_unreviewed=True)["10001"].created_at
    assert shown > utcnow() - timedelta(hours=1) and staff < utcnow() - timedelta(days=29)
