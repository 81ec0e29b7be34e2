"""The catalogue in the store (SQLite and PostgreSQL) and on the command line: import all or nothing,
versions, identity rows for result import, export round trip, and the CLI's exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import review
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.domain import oids
from indikera.domain.indicators import Indicator, UnitType
from indikera.domain.measurements import Measurement, Proportion, SourceSystem
from indikera.domain.organisations import riket
from indikera.domain.periods import Period
from indikera.store import db as store_db
from indikera.store.catalog_tables import indicator_descriptions
from indikera.store.repositories import (
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
)
from indikera.store.tables import indicators

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}


def d(mid: str = "10001"):
    return description_for(DEMO[mid])


def text(*ds) -> str:
    return jsonformat.dumps(list(ds))


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_import_creates_identity_rows_and_exports_byte_identical(engine):
    file = text(d("10001"), d("10002"), d("10003"), d("10005"))
    result = cs.import_text(engine, file, "anna")
    assert result.ok and result.added == ["10001 1.0", "10002 1.0", "10003 1.0", "10005 1.0"]
    with engine.connect() as conn:
        rows = {r.measure_id: r for r in conn.execute(select(indicators))}
        assert cs.export_text(conn) == file
        assert [v.created_by for v in cs.history(conn, "10001")] == ["anna"]
    assert rows["10002"].parent_measure_id == "10001" and rows["10002"].sex == "K"
    assert rows["10005"].unit_type == "Median" and rows["10005"].kind == "continuous"
    assert rows["10001"].frequency == "quarter"
    again = cs.import_text(engine, file, "anna")
    assert again.ok and again.added == [] and len(again.unchanged) == 4
    assert count(engine, indicator_descriptions) == 4


def test_one_bad_description_writes_nothing(engine):
    bad = replace(d("10005"), texts={**d("10005").texts, "dropout": "Saknas"})
    result = cs.import_text(engine, text(d("10001"), bad), "anna")
    assert not result.ok and not result.written
    assert [(f.code, f.field) for f in result.findings if f.is_error] == [("TEXT_PLACEHOLDER", "indicators[1].texts.dropout")]
    assert count(engine, indicator_descriptions) == 0 and count(engine, indicators) == 0


def test_versions_move_forward_only_and_major_changes_the_identity(engine):
    assert cs.import_text(engine, text(d()), "a").ok
    changed = replace(d(), version_minor=1, purpose=d().purpose + " Förtydligad.")
    not_bumped = replace(d(), purpose=d().purpose + " Förtydligad.")
    r = cs.import_text(engine, text(not_bumped), "a")
    assert [f.code for f in r.findings if f.is_error] == ["VERSION_NOT_BUMPED"]
    assert cs.import_text(engine, text(changed), "a").added == ["10001 1.1"]
    r = cs.import_text(engine, text(d()), "a")  # the unchanged 1.0 below the stored 1.1: skipped, not "backwards"
    assert r.ok and r.unchanged == ["10001 1.0"] and r.added == []
    major = replace(changed, version_major=2, version_minor=0)
    assert cs.import_text(engine, text(major), "a").ok
    r = cs.import_text(engine, text(replace(changed, version_minor=2)), "a")  # a new 1.2 below the stored 2.0
    assert [(f.code, f.field) for f in r.findings if f.is_error] == [("VERSION_BACKWARDS", "indicators[0].versionMajor")]
    with engine.connect() as conn:  # the identity row follows the published version only (issue #16: review)
        assert conn.execute(select(indicators.c.version)).scalar_one() == 1
        assert cs.latest_description(conn, "10001").version == (2, 0)
    with store_db.writer(engine).begin() as conn:
        review.approve_and_publish(conn, "10001", (2, 0), author="a", approver="b", self_approval=False)
    with engine.connect() as conn:
        assert conn.execute(select(indicators.c.version)).scalar_one() == 2
        all_versions = json.loads(cs.export_text(conn, all_versions=True))["indicators"]
    assert [(x["versionMajor"], x["versionMinor"]) for x in all_versions] == [(1, 0), (1, 1), (2, 0)]
    # Several versions in one file are stored in order.
    assert cs.import_text(engine, text(replace(major, version_minor=2), replace(major, version_minor=1)), "a").added == ["10001 2.1", "10001 2.2"]


def _load_result(engine, ind: Indicator) -> None:
    src = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE1-REG", "Registret")
    m = Measurement(ind.measure_id, 1, Period(date(2024, 1, 1), date(2024, 12, 31)), riket(), Proportion(8, 10), src)
    with store_db.writer(engine).begin() as conn:
        iid = upsert_indicator(conn, ind)
        oid = OrganisationRepository(conn).ensure(m.organisation)
        sid = ensure_source_system(conn, src)
        bid = create_batch(conn, registry="SE1", file_name="f.csv", sha256="0" * 64, fmt="csv", actor="t")
        insert_measurements(conn, [measurement_row(m, indicator_id=iid, organisation_id=oid, source_system_id=sid, batch_id=bid)])


def test_unit_type_must_fit_the_results_already_loaded(engine):
    _load_result(engine, Indicator("10001", 1, "Vård på strokeenhet", UnitType.ANDEL))
    as_median = replace(d(), unit_type=UnitType.MEDIAN, measure_kind=UnitType.MEDIAN.kind, value_definition=d("10005").value_definition, unit="min")
    r = cs.import_text(engine, text(as_median), "a")
    assert [(f.code, f.field) for f in r.findings if f.is_error] == [("UNIT_KIND", "indicators[0].unitType")]
    assert cs.import_text(engine, text(d()), "a").ok


def test_validate_text_uses_the_store(engine):
    assert cs.import_text(engine, text(d("10001")), "a").ok
    assert cs.validate_text(engine, text(d("10002"))) == []  # the parent is stored
    assert [f.code for f in cs.validate_text(None, text(d("10002")))] == ["SUB_MEASURE"]


# ------------------------------------------------------------------ CLI


def cli(*args: str):
    from indikera.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_validate_import_export(tmp_path, sqlite_engine):
    url = str(sqlite_engine.url)
    good = tmp_path / "katalog.json"
    good.write_text(text(d("10001"), d("10002")), encoding="utf-8")
    bad = tmp_path / "trasig.json"
    bad.write_text(text(replace(d("10001"), texts={**d().texts, "coverage": "TODO"})), encoding="utf-8")

    r = cli("catalog", "validate", str(bad), "--db", url, "--json")
    assert r.exit_code == 1
    found = json.loads(r.stdout)
    assert [(f["code"], f["field"]) for f in found] == [("TEXT_PLACEHOLDER", "indicators[0].texts.coverage")]
    assert found[0]["fix"] and found[0]["messageEn"]
    assert cli("catalog", "validate", str(good), "--db", url).exit_code == 0
    assert cli("catalog", "import", str(bad), "--db", url).exit_code == 1
    r = cli("catalog", "import", str(good), "--db", url, "--by", "anna")
    assert r.exit_code == 0, r.output
    r = cli("catalog", "export", "--db", url)
    assert r.exit_code == 0 and r.stdout == good.read_text(encoding="utf-8")
    out = tmp_path / "ut.json"
    assert cli("catalog", "export", "--db", url, "--measure-id", "10002", "-o", str(out)).exit_code == 0
    assert [x["measureId"] for x in json.loads(out.read_text())["indicators"]] == ["10002"]
    assert cli("catalog", "validate", "--db", url).exit_code == 0  # the stored catalogue
    assert json.loads(cli("catalog", "schema").stdout)["$defs"]["description"]["required"][0] == "measureId"
    assert cli("catalog", "import", str(tmp_path / "saknas.json"), "--db", url).exit_code == 2
    (tmp_path / "skräp.json").write_bytes(b"\x00\xff not json")
    assert cli("catalog", "import", str(tmp_path / "skräp.json"), "--db", url).exit_code == 1


def test_cli_publish_show_list_and_approve(demo_url):
    r = cli("catalog", "publish", "10016", "--level", "open", "--reason", "Täckningen utredd", "--db", demo_url, "--by", "anna")
    assert r.exit_code == 0, r.output
    r = cli("catalog", "publish", "10016", "--level", "open", "--reason", "igen", "--db", demo_url)
    assert r.exit_code == 0 and "Oförändrat" in r.output
    assert cli("catalog", "publish", "10016", "--level", "secret", "--reason", "x", "--db", demo_url).exit_code == 2
    assert cli("catalog", "publish", "10016", "--level", "open", "--reason", "", "--db", demo_url).exit_code == 1
    assert cli("catalog", "publish", "99999", "--level", "open", "--reason", "finns ej", "--db", demo_url).exit_code == 1
    assert cli("catalog", "publish", "10016", "--level", "open", "--reason", "period", "--from", "2024-01-01", "--db", demo_url).exit_code == 2
    r = cli("catalog", "publish", "10016", "--level", "unpublished", "--reason", "dölj 2024", "--from", "2024-01-01", "--to", "2024-12-31", "--db", demo_url)
    assert r.exit_code == 0, r.output
    r = cli("catalog", "depublish", "10001", "--reason", "Felaktig inrapportering", "--db", demo_url, "--by", "anna")
    assert r.exit_code == 0
    shown = json.loads(cli("catalog", "show", "10001", "--db", demo_url, "--json").stdout)
    assert shown["state"] == "depublished" and shown["description"]["texts"]["coverage"]
    assert shown["log"][0]["actor"] == "anna" and shown["log"][0]["reason"] == "Felaktig inrapportering"
    listed = {x["measureId"]: x for x in json.loads(cli("catalog", "list", "--db", demo_url, "--json").stdout)}
    assert listed["10016"]["state"] == "open" and len(listed["10016"]["rules"]) == 2
    assert listed["10015"]["state"] == "restricted" and listed["10001"]["state"] == "depublished"
    assert cli("import", "approve", "1", "--db", demo_url).exit_code == 0  # already approved: unchanged
    assert cli("import", "depublish", "1", "--db", demo_url).exit_code == 2  # --reason is required
    assert cli("import", "depublish", "1", "--reason", "Fel fil", "--db", demo_url).exit_code == 0
    assert cli("import", "approve", "999", "--db", demo_url).exit_code == 1
    log = cli("catalog", "log", "--db", demo_url).stdout
    assert "depublish-batch" in log and "Fel fil" in log
