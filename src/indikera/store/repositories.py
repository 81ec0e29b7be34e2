"""Repositories: translate between domain objects and rows. SQLAlchemy Core, so bulk paths stay fast."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from ..domain.checksum import content_hash
from ..domain.indicators import Frequency, Indicator, Sex, UnitType
from ..domain.measurements import (
    Cohort,
    ConfidenceInterval,
    Continuous,
    Measurement,
    Missing,
    Proportion,
    ReasonCode,
    SourceSystem,
)
from ..domain.organisations import Identifier, Organisation, OrgType
from ..domain.periods import Period
from .tables import batches, indicators, measurements, organisations, source_systems


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(ts: datetime | None) -> str | None:
    """A stored timestamp as ISO 8601 UTC with its zone (``2026-03-01T12:00:00Z``): SQLite hands back naive
    datetimes that are UTC, and a time without a zone is ambiguous to whoever reads the JSON."""
    if ts is None:
        return None
    return (ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)).isoformat().replace("+00:00", "Z")


class OrganisationRepository:
    """Organisations are stored once per key, each row pointing to its parent row.

    ``preload`` reads every stored organisation in one query (an import meets thousands); otherwise each new
    key is looked up as it comes. Renamed or moved organisations are remembered in ``changed``: the content
    hash of every value below them must be refreshed."""

    def __init__(self, conn: Connection, *, preload: bool = False) -> None:
        self.conn = conn
        self._ids: dict[str, int] = {}
        self._stored: dict[str, tuple[int, str, int | None]] | None = None
        if preload:
            self._stored = {r.key: (r.id, r.name, r.parent_id) for r in conn.execute(
                select(organisations.c.key, organisations.c.id, organisations.c.name, organisations.c.parent_id))}
        self.changed: set[int] = set()

    def _find(self, key: str) -> tuple[int, str, int | None] | None:
        if self._stored is not None:
            return self._stored.get(key)
        row = self.conn.execute(
            select(organisations.c.id, organisations.c.name, organisations.c.parent_id).where(organisations.c.key == key)
        ).first()
        return tuple(row) if row is not None else None  # type: ignore[return-value]

    def ensure(self, org: Organisation) -> int:
        """The row id of ``org``, inserting it (and its parents) when new; renames update the row."""
        cached = self._ids.get(org.key)
        if cached is not None:
            return cached
        parent_id = self.ensure(org.parent) if org.parent else None
        row = self._find(org.key)
        if row is None:
            new_id = self.conn.execute(insert(organisations).values(_row(org, parent_id))).inserted_primary_key[0]
        else:
            new_id, name, stored_parent = row
            if name != org.name or stored_parent != parent_id:
                self.conn.execute(
                    update(organisations).where(organisations.c.id == new_id).values(name=org.name, parent_id=parent_id)
                )
                self.changed.add(new_id)
        self._ids[org.key] = new_id
        return new_id

    def ensure_all(self, orgs: Iterable[Organisation]) -> dict[str, int]:
        """``ensure`` for many organisations (and their parents): key → row id. New rows are inserted one
        hierarchy level at a time in multi-row statements, so a first national delivery (thousands of units)
        costs a few statements, not two per unit; renames and moves still go row by row (they are rare)."""
        levels: dict[str, tuple[int, Organisation]] = {}
        for org in orgs:
            chain = []
            o: Organisation | None = org
            while o is not None and o.key not in levels:
                chain.append(o)
                o = o.parent
            base = levels[o.key][0] + 1 if o is not None else 0
            for depth, member in enumerate(reversed(chain)):
                levels[member.key] = (base + depth, member)
        for depth in sorted({d for d, _ in levels.values()}):
            new = []
            for _, org in (v for v in levels.values() if v[0] == depth):
                if org.key in self._ids:
                    continue
                if self._find(org.key) is not None:
                    self.ensure(org)  # stored already: compares name and parent as one row
                    continue
                new.append(_row(org, self._ids[org.parent.key] if org.parent else None))
            for i in range(0, len(new), 500):
                chunk = new[i:i + 500]
                self.conn.execute(insert(organisations).values(chunk))
                by_key = {r["key"]: r for r in chunk}
                for r in self.conn.execute(select(organisations.c.key, organisations.c.id).where(organisations.c.key.in_(by_key))):
                    self._ids[r.key] = r.id
                    if self._stored is not None:
                        self._stored[r.key] = (r.id, by_key[r.key]["name"], by_key[r.key]["parent_id"])
        return {key: self._ids[key] for key in levels}


def _row(org: Organisation, parent_id: int | None) -> dict:
    """The ``organisations`` row of a new organisation."""
    oid = org.org_id
    return {"key": org.key, "type": org.type.value, "name": org.name, "hsa_id": org.hsa_id,
            "org_root": oid.root if oid else None, "org_extension": oid.extension if oid else None,
            "parent_id": parent_id}


def load_organisations(conn: Connection) -> dict[int, Organisation]:
    """Every stored organisation as a domain object with its full parent chain."""
    rows = {r.id: r for r in conn.execute(select(organisations))}
    built: dict[int, Organisation] = {}

    def build(row_id: int, depth: int = 0) -> Organisation:
        if row_id in built:
            return built[row_id]
        if depth > 10:
            raise ValueError(f"organisation {row_id} has a cyclic parent chain")
        r = rows[row_id]
        parent = build(r.parent_id, depth + 1) if r.parent_id is not None else None
        oid = Identifier(r.org_root, r.org_extension) if r.org_root else None
        built[row_id] = Organisation(OrgType(r.type), r.name, hsa_id=r.hsa_id, org_id=oid, parent=parent)
        return built[row_id]

    for row_id in rows:
        build(row_id)
    return built


def upsert_indicator(conn: Connection, ind: Indicator) -> int:
    values = dict(
        version=ind.version,
        title=ind.title,
        unit_type=ind.unit_type.value,
        kind=ind.kind.value,
        frequency=ind.frequency.value,
        levels=sorted(level.value for level in ind.levels),
        parent_measure_id=ind.parent_measure_id,
        sex=ind.sex.value if ind.sex else None,
        display_threshold=ind.display_threshold,
    )
    existing = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == ind.measure_id)).scalar()
    if existing is None:
        return conn.execute(insert(indicators).values(measure_id=ind.measure_id, **values)).inserted_primary_key[0]
    conn.execute(update(indicators).where(indicators.c.id == existing).values(**values))
    return existing


def indicator_from_row(r) -> Indicator:
    return Indicator(
        measure_id=r.measure_id,
        version=r.version,
        title=r.title,
        unit_type=UnitType(r.unit_type),
        frequency=Frequency(r.frequency),
        levels=frozenset(OrgType(x) for x in r.levels),
        parent_measure_id=r.parent_measure_id,
        sex=Sex(r.sex) if r.sex else None,
        display_threshold=r.display_threshold,
    )


def load_indicators(conn: Connection) -> dict[str, tuple[int, Indicator]]:
    return {r.measure_id: (r.id, indicator_from_row(r)) for r in conn.execute(select(indicators))}


def ensure_source_system(conn: Connection, system: SourceSystem) -> int:
    row = conn.execute(
        select(source_systems.c.id, source_systems.c.name).where(
            source_systems.c.root == system.root, source_systems.c.extension == system.extension
        )
    ).first()
    if row is None:
        return conn.execute(
            insert(source_systems).values(root=system.root, extension=system.extension, name=system.name)
        ).inserted_primary_key[0]
    if row.name != system.name:
        conn.execute(update(source_systems).where(source_systems.c.id == row.id).values(name=system.name))
    return row.id


def create_batch(conn: Connection, *, registry: str, file_name: str, sha256: str, fmt: str, actor: str) -> int:
    return conn.execute(
        insert(batches).values(
            registry_hsa_id=registry,
            file_name=file_name,
            sha256=sha256,
            format=fmt,
            created_by=actor,
            created_at=utcnow(),
            status="applied",
        )
    ).inserted_primary_key[0]


def measurement_row(m: Measurement, *, indicator_id: int, organisation_id: int, source_system_id: int, batch_id: int) -> dict:
    """The ``measurements`` row for a domain measurement (values flattened, content hash computed)."""
    r = m.result
    kind = "missing"
    rate = numerator = denominator = value = population = cohort = reason_code = None
    if isinstance(r, Proportion):
        kind, rate, numerator, denominator = "proportion", r.rate, r.numerator, r.denominator
    elif isinstance(r, Continuous):
        kind, value, population = "continuous", r.value, r.population
    elif isinstance(r, Cohort):
        kind, cohort = "cohort", r.count
    else:
        reason_code = r.reason.value
    ci = m.ci
    period = m.period
    return {
        "indicator_id": indicator_id,
        "version": m.version,
        "period_start": period.start,
        "period_end": period.end,
        "organisation_id": organisation_id,
        "stratum": m.stratum,
        "kind": kind,
        "rate": rate,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "population": population,
        "cohort": cohort,
        "reason_code": reason_code,
        "ci_low": ci.low if ci else None,
        "ci_high": ci.high if ci else None,
        "standard_deviation": m.standard_deviation,
        "coverage": m.coverage,
        "exclusions": m.exclusions,
        "reference_interval": m.reference_interval,
        "first_encounter": m.first_encounter,
        "last_encounter": m.last_encounter,
        "source_system_id": source_system_id,
        "batch_id": batch_id,
        "content_hash": content_hash(m),
        "updated_at": utcnow(),
    }


def measurement_from_row(row, *, measure_id: str, organisation: Organisation, source_system: SourceSystem) -> Measurement:
    if row.kind == "proportion":
        result = Proportion(row.numerator, row.denominator, row.rate)
    elif row.kind == "continuous":
        result = Continuous(row.value, row.population)
    elif row.kind == "cohort":
        result = Cohort(row.cohort)
    else:
        result = Missing(ReasonCode(row.reason_code))
    return Measurement(
        measure_id=measure_id,
        version=row.version,
        period=Period(row.period_start, row.period_end),
        organisation=organisation,
        result=result,
        source_system=source_system,
        stratum=row.stratum,
        ci=ConfidenceInterval(row.ci_low, row.ci_high) if row.ci_low is not None else None,
        standard_deviation=row.standard_deviation,
        coverage=row.coverage,
        exclusions=row.exclusions,
        reference_interval=row.reference_interval,
        first_encounter=row.first_encounter,
        last_encounter=row.last_encounter,
    )


def insert_measurements(conn: Connection, rows: Iterable[dict], chunk: int = 2000) -> int:
    """Bulk insert (executemany in chunks); returns the number of rows."""
    total, buf = 0, []
    for row in rows:
        buf.append(row)
        if len(buf) >= chunk:
            conn.execute(insert(measurements), buf)
            total, buf = total + len(buf), []
    if buf:
        conn.execute(insert(measurements), buf)
        total += len(buf)
    return total
