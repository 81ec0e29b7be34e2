"""The producer's queries: which stored measurements match a request and may be shown to the caller.

Everything is ordered like the checksum (README "Checksum"): measure id, period start, period end,
organisation key, stratum; strings compare by code point on every backend (``COLLATE "C"`` on
PostgreSQL, SQLite's BINARY by default), so the answer's order and checksum do not depend on the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, String, and_, func, select, type_coerce

from ...publish.visibility import Audience, visible_measurements
from ...store.named_rows import maker, row_type
from ...store.tables import indicators, measurements, organisations
from .request import Query

m, i, o = measurements.c, indicators.c, organisations.c


@dataclass(frozen=True)
class Selection:
    """The indicators a query names that exist, and the WHERE clauses that pick their measurements."""

    indicator_ids: tuple[int, ...]
    matching: ColumnElement[bool]  # requested ids, period fully inside the reporting period
    visible: ColumnElement[bool]  # what the audience may see


def select_for(conn: Connection, query: Query, audience: Audience) -> Selection | None:
    """None when nothing can match (no known id, or no real period): the answer is then empty."""
    period = query.period
    wanted = query.measure_ids
    if period is None or not wanted:
        return None
    ids = tuple(conn.execute(select(i.id).where(i.measure_id.in_(wanted))).scalars())
    if not ids:
        return None
    matching = and_(m.indicator_id.in_(ids), m.period_start >= period.start, m.period_end <= period.end)
    return Selection(ids, matching, visible_measurements(conn, audience, ids))


def _ordered(conn: Connection, columns, selection: Selection):
    def text(col):
        return col.collate("C") if conn.dialect.name == "postgresql" else col

    return (
        select(*columns)
        .select_from(measurements.join(indicators, i.id == m.indicator_id).join(organisations, o.id == m.organisation_id))
        .where(selection.matching, selection.visible)
        .order_by(text(i.measure_id), m.period_start, m.period_end, text(o.key), text(m.stratum))
    )


def _raw_date(col):
    # SQLite stores dates as ISO text: reading the text skips a parse per row (the writer accepts both).
    return type_coerce(col, String)


CHECKSUM_COLUMNS = (
    m.content_hash,
    _raw_date(m.period_start).label("period_start"),
    _raw_date(m.period_end).label("period_end"),
)
ChecksumRow = row_type("ChecksumRow", CHECKSUM_COLUMNS)


def checksum_rows(conn: Connection, selection: Selection) -> list:
    """(content hash, period start, period end) of each visible matching measurement, in checksum order, as
    plain DB-API tuples laid out as ``ChecksumRow``: ``answer.summarise`` reads them by field name through
    ``ChecksumRow``'s indices, and making 3-field named tuples would cost more than summarising them."""
    stmt = _ordered(conn, CHECKSUM_COLUMNS, selection)
    result = conn.execute(stmt)
    try:  # no per-row result processing is needed for these columns
        return result.cursor.fetchall()
    finally:
        result.close()


ANSWER_COLUMNS = (
    m.content_hash,
    m.organisation_id,
    m.source_system_id,
    i.measure_id,
    m.version,
    _raw_date(m.period_start).label("period_start"),
    _raw_date(m.period_end).label("period_end"),
    _raw_date(m.first_encounter).label("first_encounter"),
    _raw_date(m.last_encounter).label("last_encounter"),
    m.kind,
    m.rate,
    m.numerator,
    m.denominator,
    m.value,
    m.population,
    m.cohort,
    m.reason_code,
    m.ci_low,
    m.ci_high,
    m.standard_deviation,
    m.coverage,
    m.exclusions,
    m.reference_interval,
)
AnswerRow = row_type("AnswerRow", ANSWER_COLUMNS)  # the writer reads fields by name, never by position


def answer_rows(conn: Connection, selection: Selection, batch: int = 1000) -> Iterator[tuple]:
    """Visible matching measurements as ``AnswerRow`` (named like ``ANSWER_COLUMNS``), streamed from the cursor."""
    stmt = _ordered(conn, ANSWER_COLUMNS, selection)
    make = maker(AnswerRow)  # no column here has a result processor: DB-API values are the final values
    if conn.dialect.name == "sqlite":
        # SQLite's cursor steps through the result lazily by itself: read it directly, skipping the
        # intermediate Row objects (that saves what building the named rows costs).
        result = conn.execute(stmt)
        try:
            while part := result.cursor.fetchmany(batch):
                yield from map(make, part)
        finally:
            result.close()
        return
    # A server-side cursor on PostgreSQL; SQLAlchemy buffers its first rows itself, so read through it.
    # Options for this statement only: Connection.execution_options() would change the connection, and a
    # later raw-cursor read on it (checksum_rows) would then miss the row SQLAlchemy prefetched.
    result = conn.execute(stmt, execution_options={"stream_results": True, "yield_per": batch})
    try:
        for part in result.partitions(batch):
            yield from map(make, part)
    finally:
        result.close()


def count_matching(conn: Connection, selection: Selection) -> int:
    """Matching measurements regardless of visibility (the audit's withheld = this − returned)."""
    return conn.execute(select(func.count()).select_from(measurements).where(selection.matching)).scalar_one()
