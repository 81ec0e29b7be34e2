"""The audit log: append-only in the database itself (SQLite and PostgreSQL), and `indikera audit tail|query`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from indikera.access import audit
from indikera.access.identity import Identity
from indikera.cli import app as cli_app
from indikera.store.access_tables import audit_log

runner = CliRunner()


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id)).all()


def test_audit_rows_can_be_added_but_never_changed_or_removed(engine):
    audit.record(engine, channel="soap", operation="GetQualityIndicators", outcome="ok", consumer_hsa_id="SE1-A", returned=3)
    before = _rows(engine)
    for statement in (
        update(audit_log).values(outcome="forged"),
        delete(audit_log),
        text("UPDATE audit_log SET consumer_hsa_id = 'SE1-B'"),
        text("DELETE FROM audit_log WHERE id = 1"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(statement)
    assert _rows(engine) == before
    audit.record(engine, channel="soap", operation="GetQualityIndicators", outcome="ok")
    assert len(_rows(engine)) == 2


def test_record_keeps_secrets_out_and_says_why_a_caller_was_anonymous(sqlite_engine):
    audit.record(
        sqlite_engine,
        channel="admin",
        operation="POST /x",
        outcome="denied",
        requested={"measureIds": ["1"], "token": "abc", "nested": {"Authorization": "Bearer abc", "ok": 1}},
        identity=Identity(reason="client certificate without an HSA-id in subject serialNumber"),
        detail="x" * 5000,
    )
    (row,) = _rows(sqlite_engine)
    assert row.requested == {"measureIds": ["1"], "nested": {"ok": 1}}
    assert row.consumer_hsa_id is None
    assert row.detail.endswith("…") and len(row.detail) == audit.MAX_DETAIL_CHARS
    audit.record(sqlite_engine, channel="web", operation="GET /", outcome="ok", identity=Identity(reason="no client certificate"))
    assert _rows(sqlite_engine)[-1].detail == "anonymous: no client certificate"
    audit.record(sqlite_engine, channel="soap", operation="G", outcome="ok", identity=Identity("SE1-VIS", "platform", "SE1-NTJP", "via"))
    last = _rows(sqlite_engine)[-1]
    assert (last.consumer_hsa_id, last.platform_id, last.detail) == ("SE1-VIS", "SE1-NTJP", None)


def _seed(engine) -> None:
    for i, (channel, consumer, outcome) in enumerate(
        [("soap", "SE1-A", "ok"), ("soap", "SE1-B", "fault:VP001"), ("opendata", None, "ok"), ("admin", None, "denied"), ("soap", "SE1-A", "ok")]
    ):
        audit.record(engine, channel=channel, operation=f"op{i}", outcome=outcome, consumer_hsa_id=consumer, correlation_id=f"c{i}", returned=i)


def _json(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_audit_query_filters(db_url, engine):
    _seed(engine)
    q = lambda *a: _json(runner.invoke(cli_app, ["audit", "query", "--db", db_url, "--json", *a]))  # noqa: E731
    assert [r["operation"] for r in q()] == ["op4", "op3", "op2", "op1", "op0"]  # newest first
    assert [r["operation"] for r in q("--consumer", "se1-a")] == ["op4", "op0"]
    assert [r["operation"] for r in q("--channel", "soap", "--outcome", "ok")] == ["op4", "op0"]
    assert [r["operation"] for r in q("--outcome", "denied")] == ["op3"]
    assert len(q("--since", "1h")) == 5 and q("--until", "1h") == []
    future = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    assert q("--since", future) == [] and len(q("--limit", "2")) == 2
    table = runner.invoke(cli_app, ["audit", "query", "--db", db_url, "--channel", "soap"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "SE1-B" in table.stdout and "fault:VP001" in table.stdout


def test_audit_tail_shows_the_newest_rows_oldest_first(sqlite_engine, tmp_path):
    _seed(sqlite_engine)
    url = str(sqlite_engine.url)
    rows = _json(runner.invoke(cli_app, ["audit", "tail", "--db", url, "-n", "2", "--json"]))
    assert [r["operation"] for r in rows] == ["op3", "op4"]
    assert rows[1]["correlation_id"] == "c4" and rows[1]["at"].startswith(str(datetime.now(timezone.utc).year))


@pytest.mark.parametrize("args", [["--since", "yesterday"], ["--until", "12x"], ["--limit", "0"]])
def test_audit_query_refuses_bad_arguments_with_exit_2(sqlite_engine, args):
    result = runner.invoke(cli_app, ["audit", "query", "--db", str(sqlite_engine.url), *args])
    assert result.exit_code == 2


def test_empty_audit_says_so(sqlite_engine):
    result = runner.invoke(cli_app, ["audit", "query", "--db", str(sqlite_engine.url)])
    assert result.exit_code == 0 and "Inga rader" in result.output
