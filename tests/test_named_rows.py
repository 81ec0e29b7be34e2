"""Hot-path rows are NamedTuples built from the very column list their SELECT uses, so a reader names each
field and a change in column order cannot shift values between fields."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, true

from indikera.contracts.qualityreporting_v2 import store_query
from indikera.contracts.qualityreporting_v2.store_query import (
    ANSWER_COLUMNS,
    CHECKSUM_COLUMNS,
    AnswerRow,
    ChecksumRow,
    Selection,
)
from indikera.opendata import results
from indikera.store.named_rows import maker, picker, row_type
from indikera.store.tables import indicators, measurements


@pytest.mark.parametrize("row_class, columns", [
    (AnswerRow, ANSWER_COLUMNS), (ChecksumRow, CHECKSUM_COLUMNS), (results.ResultRow, results.COLUMNS),
])
def test_fields_are_the_selects_result_keys(row_class, columns):
    assert row_class._fields == tuple(select(*columns).selected_columns.keys())


def test_rows_carry_each_value_under_its_column_name(demo_db_url):
    engine = create_engine(demo_db_url)
    try:
        with engine.connect() as conn:
            everything = Selection((), true(), true())
            stmt = store_query._ordered(conn, ANSWER_COLUMNS, everything).limit(200)
            raw = conn.execute(stmt).all()
            assert len(raw) == 200
            named = list(map(maker(AnswerRow), raw))
            assert [n._asdict() for n in named] == [dict(r._mapping) for r in raw]
            assert {n.kind for n in named} <= {"proportion", "continuous", "cohort", "missing"}
            assert all(len(n.content_hash) == 64 for n in named)

            # The same columns in another order give a row type that still reads each value by its name.
            shuffled = tuple(reversed(ANSWER_COLUMNS))
            other = list(map(maker(row_type("Shuffled", shuffled)), conn.execute(
                store_query._ordered(conn, shuffled, everything).limit(200)).all()))
            assert [o._asdict() for o in other] == [n._asdict() for n in named]

            ids = tuple(conn.execute(select(indicators.c.id)).scalars())
        page, _ = results.page(engine, results.ResultFilter(ids), after=None, limit=50)
        assert page and all(isinstance(r, results.ResultRow) for r in page)
        with engine.connect() as conn:
            stored = {r.id: r._mapping for r in conn.execute(select(measurements).where(
                measurements.c.id.in_([r.id for r in page])))}
        for r in page:
            assert r._asdict() == {k: stored[r.id][k] for k in results.ResultRow._fields}
    finally:
        engine.dispose()


def test_answer_rows_then_checksum_rows_on_one_connection_agree(demo_db_url):
    # Streaming options are per statement: a raw-cursor read after answer_rows must not miss a prefetched row.
    engine = create_engine(demo_db_url)
    try:
        with engine.connect() as conn:
            everything = Selection((), true(), true())
            named = list(store_query.answer_rows(conn, everything, batch=7))
            plain = store_query.checksum_rows(conn, everything)
            again = list(store_query.answer_rows(conn, everything, batch=7))
        assert len(named) == len(plain) == len(again) > 7
        assert [n.content_hash for n in named] == [p[ChecksumRow._fields.index("content_hash")] for p in plain]
        assert all(isinstance(n, AnswerRow) for n in named) and again == named
    finally:
        engine.dispose()


def test_row_type_refuses_unnamed_or_duplicate_columns():
    m, i = measurements.c, indicators.c
    with pytest.raises(ValueError, match="duplicate"):
        row_type("Twice", (m.id, i.id))
    with pytest.raises(ValueError, match="plain name"):
        row_type("Unnamed", (m.rate + 1,))
    with pytest.raises(ValueError, match="ratee"):
        picker(AnswerRow, "rate", "ratee")


def test_picker_reads_fields_by_name_from_named_or_plain_rows():
    pick = picker(AnswerRow, "kind", "rate", "content_hash")
    row = AnswerRow(*(f"v-{name}" for name in AnswerRow._fields))
    assert pick(row) == pick(tuple(row)) == ("v-kind", "v-rate", "v-content_hash")
