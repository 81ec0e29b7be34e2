"""Writing one (indicator family, period) group of an import: mask, hash, diff, queue the writes.

Masking looks at what will be *published* after the import, not only at the file: the stored values of the
same family and period that the import keeps (``KEEP_``, or another registry's values) take part in the
additive relations of secondary suppression. Otherwise a file that adds units next to a län total loaded
earlier could publish a unit value that, subtracted from that total, reveals a masked one.

* Kept values of this registry can be hidden too: they are rewritten as ``missing/MSK`` in this batch
  (a "changed" history row keeps the value; publication follows the batch's approval as for any change).
* Kept values of another registry are never touched: they count as published and fixed.
* Stored values are not judged against today's threshold again; only their existing masks count.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, select

from ..domain.checksum import canonical_head, canonical_middle, canonical_tail, hash_text, result_values, source_text
from ..domain.indicators import Indicator
from ..domain.measurements import Missing, ReasonCode
from ..domain.organisations import Organisation
from ..domain.statistics import cell_of, hidden_cells
from ..store.repositories import load_organisations, measurement_from_row, measurement_row
from ..store.tables import measurements
from .spool import CI_HIGH, CI_LOW, COHORT, COVERAGE, DEN, EXCLUSIONS, KIND, MID, NUM, ORG, POP, REASON, REFERENCE, SD, \
    STRATUM, VERSION
from .writes import MEASUREMENT_COLUMNS, Writer

_STORED = (measurements.c.id, measurements.c.indicator_id, measurements.c.organisation_id, measurements.c.stratum,
           measurements.c.content_hash, measurements.c.source_system_id, measurements.c.kind, measurements.c.numerator,
           measurements.c.denominator, measurements.c.population, measurements.c.cohort, measurements.c.reason_code)


class GroupWriter:
    """Holds what every group of one import shares; :meth:`write` handles one group."""

    def __init__(self, read: Connection, plan, w: Writer, out, *, source_id: int, ids: dict[str, int],
                 members: dict[str, list[str]], by_mid: dict[str, Indicator], thresholds: dict[str, int],
                 org_ids: dict[str, int], parent_of: dict[str, str | None], stored_keys: dict[int, str],
                 replace: bool) -> None:
        self.read, self.plan, self.spool, self.w, self.out = read, plan, plan.spool, w, out
        self.source_id, self.ids, self.members, self.by_mid = source_id, ids, members, by_mid
        self.thresholds, self.org_ids, self.parent_of = thresholds, org_ids, parent_of
        self.stored_keys, self.replace = stored_keys, replace
        src = plan.source
        self.src_text = source_text(src.root, src.extension, src.name)
        self.mid_of_id = {i: mid for mid, i in ids.items()}
        self._stored_orgs: dict[int, Organisation] | None = None
        self._tails: dict[str, str] = {}  # per organisation key: chain | source

    def write(self, group: tuple) -> None:
        spool, w, out = self.spool, self.w, self.out
        family, start_ord, end_ord = group
        rows = list(spool.read(group))
        period = (start_ord, end_ord)
        start, end = spool.date(start_ord), spool.date(end_ord)
        existing = {
            (r.indicator_id, r.organisation_id, r.stratum): r
            for r in self.read.execute(select(*_STORED).where(
                measurements.c.indicator_id.in_([self.ids[mid] for mid in self.members[family]]),
                measurements.c.period_start == start, measurements.c.period_end == end))
        }
        cells = []
        for t in rows:
            size, small = cell_of(t[KIND], numerator=t[NUM], denominator=t[DEN], population=t[POP], count=t[COHORT],
                                  reason=t[REASON], threshold=self.thresholds[t[MID]])
            cells.append(((t[MID], period, t[STRATUM], t[ORG]), size, small,
                          t[KIND] == "missing" and t[REASON] != "MSK"))
        kept = self._kept(rows, existing)
        stored_cells = [self._stored_cell(r, period) for r in kept]
        hidden = hidden_cells(cells + stored_cells, self.by_mid, self.parent_of)
        db_start, db_end = w.date(start_ord), w.date(end_ord)
        orgs = spool.organisations
        heads: dict[tuple, str] = {}
        tails = self._tails
        for t, cell in zip(rows, cells):
            kind, rate, num, den, value, pop, cohort, reason = t[KIND:CI_LOW]
            ci_low, ci_high, sd = t[CI_LOW], t[CI_HIGH], t[SD]
            if hidden and kind != "missing" and cell[0] in hidden:
                if cell[2]:
                    out.masked_primary += 1
                else:
                    out.masked_secondary += 1
                kind, rate, num, den, value, pop, cohort, reason = "missing", None, None, None, None, None, None, "MSK"
                ci_low = ci_high = sd = None
            mid, stratum = t[MID], t[STRATUM]
            head = heads.get((mid, t[VERSION], stratum))
            if head is None:
                head = heads[(mid, t[VERSION], stratum)] = canonical_head(mid, t[VERSION], start, end, stratum)
            tail = tails.get(t[ORG])
            if tail is None:
                tail = tails[t[ORG]] = canonical_tail(orgs[t[ORG]], self.src_text)
            middle = canonical_middle(result_values(kind, rate, num, den, value, pop, cohort, reason), ci_low, ci_high, sd,
                                      t[COVERAGE], t[EXCLUSIONS], t[REFERENCE], None, None)
            digest = hash_text(f"{head}|{middle}|{tail}")  # = content_hash: canonical_text_of(...) from memoised parts
            indicator_id, org_id = self.ids[mid], self.org_ids[t[ORG]]
            row = (indicator_id, t[VERSION], db_start, db_end, org_id, stratum, kind, rate, num, den, value, pop, cohort,
                   reason, ci_low, ci_high, sd, t[COVERAGE], t[EXCLUSIONS], t[REFERENCE], None, None, self.source_id,
                   w.batch_id, digest, w.stamp)
            old = existing.pop((indicator_id, org_id, stratum), None)
            if old is None:
                w.add(row)
            elif old.content_hash == digest and old.source_system_id == self.source_id:
                out.unchanged += 1
            else:
                w.change(old.id, row)
        if hidden:
            for r, cell in zip(kept, stored_cells):
                if cell[0] in hidden and r.kind != "missing" and r.source_system_id == self.source_id:
                    self._remask(r.id)
                    out.masked_secondary += 1
        if self.replace:
            for old in existing.values():
                if old.source_system_id == self.source_id:
                    w.remove(old.id)

    def _kept(self, rows: list[tuple], existing: dict) -> list:
        """Stored values of this family and period that stay published next to the file's."""
        in_file = {(self.ids[t[MID]], self.org_ids[t[ORG]], t[STRATUM]) for t in rows}
        return [r for key, r in existing.items()
                if key not in in_file and not (self.replace and r.source_system_id == self.source_id)]

    def _stored_cell(self, r, period: tuple) -> tuple:
        mid = self.mid_of_id[r.indicator_id]
        size, _ = cell_of(r.kind, numerator=r.numerator, denominator=r.denominator, population=r.population,
                          count=r.cohort, reason=r.reason_code, threshold=self.thresholds[mid])
        fixed = (r.kind == "missing" and r.reason_code != "MSK") or r.source_system_id != self.source_id
        return ((mid, period, r.stratum, self.stored_keys[r.organisation_id]), size, r.reason_code == "MSK", fixed)

    def _remask(self, old_id: int) -> None:
        """Rewrite a kept value of this registry as missing/MSK (secondary suppression across imports)."""
        if self._stored_orgs is None:
            self._stored_orgs = load_organisations(self.read)
        r = self.read.execute(select(measurements).where(measurements.c.id == old_id)).one()
        m = measurement_from_row(r, measure_id=self.mid_of_id[r.indicator_id], organisation=self._stored_orgs[r.organisation_id],
                                 source_system=self.plan.source)
        m = replace(m, result=Missing(ReasonCode.MSK), ci=None, standard_deviation=None)
        values = measurement_row(m, indicator_id=r.indicator_id, organisation_id=r.organisation_id,
                                 source_system_id=self.source_id, batch_id=self.w.batch_id)
        values["updated_at"] = self.w.stamp
        for col in ("period_start", "period_end", "first_encounter", "last_encounter"):
            if values[col] is not None:
                values[col] = self.w.db_date(values[col])
        self.w.change(old_id, tuple(values[c] for c in MEASUREMENT_COLUMNS))
