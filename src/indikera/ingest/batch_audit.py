"""The disclosure audit of a stored batch against what is published: for ``indikera import audit`` and for
approval. Published after approval = the values of approved batches and of this batch; values of other
batches not approved are unknown to a reader (free in the relations); stored masks are hidden cells."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, and_, select

from ..domain.disclosure import AuditResult, audit
from ..domain.disclosure.cells import cell
from ..domain.statistics import family_of, threshold_of
from ..store.repositories import load_indicators
from ..store.tables import batches, measurements, organisations
from .disclosure import OrgFacts


def audit_batch(conn: Connection, batch_id: int, default_threshold: int = 5) -> AuditResult:
    """Intervals of the masked cells in every (indicator family, calendar year) the batch wrote."""
    loaded = load_indicators(conn)
    by_mid = {mid: ind for mid, (_, ind) in loaded.items()}
    mid_of = {iid: mid for mid, (iid, _) in loaded.items()}
    members: dict[str, list[int]] = defaultdict(list)
    for mid, (iid, _) in loaded.items():
        members[family_of(mid, by_mid)].append(iid)
    touched = conn.execute(select(measurements.c.indicator_id, measurements.c.period_start)
                           .where(measurements.c.batch_id == batch_id).distinct()).all()
    bundles = sorted({(family_of(mid_of[r.indicator_id], by_mid), r.period_start.year) for r in touched})
    approved = set(conn.execute(select(batches.c.id).where(batches.c.status == "approved")).scalars())
    facts = OrgFacts()
    facts.add_stored(conn)
    keys = dict(conn.execute(select(organisations.c.id, organisations.c.key)).all())
    out = AuditResult()
    for family, year in bundles:
        rows = conn.execute(select(measurements).where(and_(
            measurements.c.indicator_id.in_(members[family]),
            measurements.c.period_start >= date(year, 1, 1), measurements.c.period_start <= date(year, 12, 31)))).all()
        cells = []
        for r in rows:
            mid = mid_of[r.indicator_id]
            key = (mid, r.period_start.toordinal(), r.period_end.toordinal(), r.stratum or "", keys[r.organisation_id])
            thr = threshold_of(mid, by_mid, default_threshold)
            kind = by_mid[mid].kind.value
            if r.batch_id == batch_id or r.batch_id in approved:
                cells.append(cell(key, r.kind, r.numerator, r.denominator, r.population, r.cohort, r.reason_code, thr,
                                  kind, fixed=True, judge=False))
            else:  # not visible to a reader: free
                cells.append(cell(key, "missing", None, None, None, None, "UNK", thr, kind))
        hidden = {c.key for c in cells if c.masked}
        if not hidden:
            continue
        by_key = {c.key: c for c in cells}
        result = audit(by_key, facts.relations(cells, by_mid), hidden)
        out.intervals.extend(result.intervals)
        out.lps += result.lps
    return out

