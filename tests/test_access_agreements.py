"""Agreements from the command line (SQLite and PostgreSQL): add, list, end, and what they unlock."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from indikera.cli import app as cli_app
from indikera.publish.visibility import Audience, visible_indicator_ids, visible_measurements
from indikera.store import db as store_db
from indikera.store.access_tables import agreements, audit_log
from indikera.store.tables import indicators, measurements

from .support.access import SeedMeasurement, seed_registry

VIS = "SE2321000016-VIS1"
runner = CliRunner()


def _seed(url: str) -> str:
    """10001 open, 10015 restricted, 10016 unpublished: two approved yearly values each."""
    eng = store_db.make_engine(url)
    rows = [SeedMeasurement(m, f"{y}-01-01", f"{y}-12-31", 0, 20, 50) for m in ("10001", "10015", "10016") for y in (2023, 2024)]
    rules = [("10001", None, None, "open"), ("10015", None, None, "restricted"), ("10016", None, None, "unpublished")]
    seed_registry(eng, indicator_ids=["10001", "10015", "10016"], batch_statuses=["approved"], rows=rows, rules=rules, agreement_rows=[])
    eng.dispose()
    return url


@pytest.fixture
def registry_url(db_url) -> str:
    """The small registry on SQLite and on PostgreSQL."""
    return _seed(db_url)


@pytest.fixture
def registry(tmp_path) -> str:
    """The small registry on SQLite only."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    store_db.upgrade(url)
    return _seed(url)


def cli(*args: str):
    return runner.invoke(cli_app, list(args))


def _visible(url: str, hsa: str | None, measure_id: str) -> int:
    eng = store_db.make_engine(url)
    try:
        with eng.connect() as conn:
            iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == measure_id)).scalar_one()
            where = visible_measurements(conn, Audience(hsa), [iid])
            return conn.execute(select(func.count()).select_from(measurements).where(measurements.c.indicator_id == iid, where)).scalar_one()
    finally:
        eng.dispose()


def test_agreement_unlocks_a_restricted_indicator_until_it_is_ended(registry_url):
    assert _visible(registry_url, VIS, "10015") == 0
    added = cli("agreements", "add", "--db", registry_url, "-c", VIS.lower(), "-r", "CPUA-2026-001", "-i", "10015", "--note", "VIS", "--by", "anna")
    assert added.exit_code == 0, added.output
    restricted = _visible(registry_url, VIS, "10015")
    assert restricted > 0
    assert _visible(registry_url, "SE2321000016-OTHER", "10015") == 0  # another consumer: still nothing
    assert _visible(registry_url, None, "10015") == 0  # the public: nothing
    assert _visible(registry_url, VIS, "10016") == 0  # unpublished stays hidden from everyone

    listed = cli("agreements", "list", "--db", registry_url, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["consumer_hsa_id"], r["measure_id"], r["status"], r["created_by"]) for r in rows] == [(VIS, "10015", "gällande", "anna")]

    ended = cli("agreements", "end", "--db", registry_url, str(rows[0]["id"]), "--reason", "avtalet sagt upp", "--by", "anna")
    assert ended.exit_code == 0, ended.output
    assert _visible(registry_url, VIS, "10015") == 0
    assert cli("agreements", "list", "--db", registry_url, "--json").stdout.strip() == ""
    everything = [json.loads(x) for x in cli("agreements", "list", "--db", registry_url, "--all", "--json").stdout.splitlines()]
    assert everything[0]["status"] == "avslutat" and everything[0]["ended_by"] == "anna"
    again = cli("agreements", "end", "--db", registry_url, str(rows[0]["id"]))
    assert again.exit_code == 1 and "redan" in again.output

    eng = store_db.make_engine(registry_url)
    with eng.connect() as conn:
        ops = conn.execute(select(audit_log.c.operation, audit_log.c.actor, audit_log.c.detail).order_by(audit_log.c.id)).all()
    eng.dispose()
    assert [(o.operation, o.actor) for o in ops] == [("agreement.add", "anna"), ("agreement.end", "anna")]
    assert ops[1].detail == "avtalet sagt upp"


def test_all_restricted_agreement_and_validity_window(registry):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = cli("agreements", "add", "--db", registry, "-c", VIS, "-r", "R1", "--all-restricted", "--from", tomorrow)
    assert future.exit_code == 0, future.output
    assert _visible(registry, VIS, "10015") == 0  # not yet valid
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    expired = cli("agreements", "add", "--db", registry, "-c", VIS, "-r", "R0", "--all-restricted", "--from", "2020-01-01", "--to", yesterday)
    assert expired.exit_code == 0
    assert _visible(registry, VIS, "10015") == 0  # no longer valid
    today = cli("agreements", "add", "--db", registry, "-c", VIS, "-r", "R2", "--all-restricted", "--to", date.today().isoformat())
    assert today.exit_code == 0
    assert _visible(registry, VIS, "10015") > 0  # valid_to is inclusive
    eng = store_db.make_engine(registry)
    with eng.connect() as conn:
        assert VIS and visible_indicator_ids(conn, Audience(VIS)) >= {conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "10015")).scalar_one()}
    eng.dispose()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["-c", "not an hsa id!", "-r", "R", "-i", "10015"], 1, "Ogiltigt HSA-id"),
        (["-c", VIS, "-r", "R", "-i", "99999", "-i", "10015"], 1, "Okända indikatorer (KIK-id): 99999"),
        (["-c", VIS, "-r", "  ", "-i", "10015"], 1, "Avtalsreferensen"),
        (["-c", VIS, "-r", "R", "-i", "10015", "--from", "2026-05-01", "--to", "2026-04-01"], 1, "före startdatum"),
        (["-c", VIS, "-r", "R"], 2, "--all-restricted"),
        (["-c", VIS, "-r", "R", "-i", "10015", "--all-restricted"], 2, "--all-restricted"),
        (["-c", VIS, "-r", "R", "-i", "10015", "--from", "1 maj"], 2, "inget datum"),
    ],
)
def test_bad_agreement_input_is_refused_and_nothing_is_written(registry, args, code, message):
    result = cli("agreements", "add", "--db", registry, *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    eng = store_db.make_engine(registry)
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(agreements)).scalar_one() == 0
    eng.dispose()


def test_several_indicators_in_one_go_are_all_or_nothing(registry):
    ok = cli("agreements", "add", "--db", registry, "-c", VIS, "-r", "R", "-i", "10015", "-i", "10001")
    assert ok.exit_code == 0
    rows = [json.loads(x) for x in cli("agreements", "list", "--db", registry, "--json", "-c", VIS).stdout.splitlines()]
    assert sorted(r["measure_id"] for r in rows) == ["10001", "10015"]


def test_ending_an_unknown_agreement_and_an_unmigrated_database(registry, tmp_path):
    unknown = cli("agreements", "end", "--db", registry, "4711")
    assert unknown.exit_code == 1
    # rendered from the one base error: Swedish, the English in brackets, the stable code
    shown = " ".join(unknown.output.split())
    assert "Avtal 4711 finns inte. (Agreement 4711 does not exist.) AGREEMENT_NOT_FOUND" in shown
    empty = cli("agreements", "list", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert empty.exit_code == 1 and "db upgrade" in empty.output
