"""Checksum-only answers from the summary cache: one look-up when nothing changed, exact after any write."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event, insert, select, text, update

from indikera.store.access_tables import agreements
from indikera.store.catalog_tables import publication_rules
from indikera.store.db import writer
from indikera.store.repositories import utcnow
from indikera.store.tables import data_version, indicators, organisations

from .support import soap_client as sc
from .test_contracts_checksum import stored  # noqa: F401  (fixture)


def _statements(engine, action):
    seen: list[str] = []
    listener = lambda conn, cursor, stmt, params, context, many: seen.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return result, [s for s in seen if "audit_log" not in s]


def test_unchanged_data_answers_from_one_look_up(stored):  # noqa: F811
    client, _, engine = stored
    ask = lambda: sc.answer(sc.post(client, sc.request(("20", "100"), "20230101", "20231231", False)))  # noqa: E731
    first = ask()
    second, statements = _statements(engine, ask)
    assert second.checksum == first.checksum and second.period == first.period
    # The answer is one primary-key look-up; what follows is the audit's withheld count, after the answer.
    queries = [s for s in statements if s != "BEGIN"]
    assert "data_version" in queries[0]
    assert not any("content_hash" in s for s in queries), "a cached checksum must not read stored hashes"


def test_full_answer_primes_the_checksum(stored):  # noqa: F811
    client, _, engine = stored
    full = sc.answer(sc.post(client, sc.request(("20",), "20230101", "20231231", True)))
    only, statements = _statements(engine, lambda: sc.answer(sc.post(client, sc.request(("20",), "20230101", "20231231", False))))
    assert only.checksum == full.checksum
    assert not any("content_hash" in s and "FROM measurements" in s for s in statements)


def test_every_kind_of_write_invalidates(stored):  # noqa: F811
    """Renames, publication and agreements change answers too: the triggers see them all."""
    client, _, engine = stored

    def checksum(consumer=None):
        c = client if consumer is None else client.__class__(sc.AsConsumer(client.app, consumer))
        return sc.answer(sc.post(c, sc.request(("20",), "20230101", "20231231", False))).checksum

    def version():
        with engine.connect() as conn:
            return conn.execute(select(data_version.c.version)).scalar_one()

    base, v0 = checksum(), version()
    with writer(engine).begin() as conn:  # unpublish: nothing visible any more
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == "20")).scalar_one()
        conn.execute(update(publication_rules).where(publication_rules.c.indicator_id == iid).values(level="restricted"))
    hidden = checksum()
    assert version() > v0 and hidden != base
    assert checksum("SE2321000000-VIS9") == hidden  # no agreement yet
    with writer(engine).begin() as conn:
        conn.execute(insert(agreements).values(consumer_hsa_id="SE2321000000-VIS9", reference="CPUA-9", indicator_id=None,
                                               valid_from=date(2020, 1, 1), created_by="t", created_at=utcnow()))
    assert checksum("SE2321000000-VIS9") == base
    with writer(engine).begin() as conn:  # raw SQL, no application code: still seen
        conn.execute(text("UPDATE organisations SET name = 'Nytt namn' WHERE type = 'Land'"))
    assert version() > v0 + 1
    with engine.connect() as conn:
        assert conn.execute(select(organisations.c.name).where(organisations.c.type == "Land")).scalar_one() == "Nytt namn"
