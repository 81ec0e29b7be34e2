"""Writing the (indicator family, period) groups of an import: mask, hash, diff, queue the writes.

Masking works on a bundle, all groups of one family and calendar year (``write_bundle``), so that quarters,
months and the year are in the same relations; ``domain.disclosure`` chooses the hidden cells canonically and
the LP audit must pass, else the import is refused (``DisclosureError``) and nothing is written.

Masking looks at what will be *published* after the import, not only at the file: the stored values of the
same family and period that the import keeps (``KEEP_``, or another registry's values) take part in the
additive relations of secondary suppression. Otherwise a file that adds units next to a län total loaded
earlier could publish a unit value that, subtracted from that total, reveals a masked one.

* Kept values of this registry can be hidden too: they are rewritten as ``missing/MSK`` in this batch
  (a "changed" history row keeps the value; publication follows the batch's approval as for any change).
* Kept values of another registry are never touched: they count as published and fixed.
* Stored values are not judged against today's threshold again; only their existing masks count.
* Values published now (approved batch) that stay published are fixed, like another registry's.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, select

from ..domain.checksum import canonical_head, canonical_middle, canonical_tail, hash_text, result_values, source_text
from ..domain.indicators import Indicator
from ..domain.measurements import Missing, ReasonCode
from ..domain.organisations import Organisation
from ..domain.disclosure import protect
from ..store.repositories import load_organisations, measurement_from_row, measurement_row
from ..store.tables import batches, measurements
from .disclosure import DisclosureError, OrgFacts, cell
from .spool import CI_HIGH, CI_LOW, COHORT, COVERAGE, DEN, EXCLUSIONS, KIND, MID, NUM, ORG, POP, REASON, REFERENCE, SD, \
    STRATUM, VERSION
from .writes import MEASUREMENT_COLUMNS, Writer

_STORED = (measurements.c.id, measurements.c.indicator_id, measurements.c.organisation_id, measurements.c.stratum,
           measurements.c.content_hash, measurements.c.source_system_id, measurements.c.kind, measurements.c.numerator,
           measurements.c.denominator, measurements.c.population, measurements.c.cohort, measurements.c.reason_code, measurements.c.batch_id)


class GroupWriter:
    """Holds what every group of one import shares; :meth:`write` handles one group."""

    def __init__(self, read: Connection, plan, w: Writer, out, *, source_id: int, ids: dict[str, int],
                 members: dict[str, list[str]], by_mid: dict[str, Indicator], thresholds: dict[str, int],
                 org_ids: dict[str, int], facts: OrgFacts, stored_keys: dict[int, str],
                 replace: bool) -> None:
        self.read, self.plan, self.spool, self.w, self.out = read, plan, plan.spool, w, out
        self.source_id, self.ids, self.members, self.by_mid = source_id, ids, members, by_mid
        self.thresholds, self.org_ids, self.facts = thresholds, org_ids, facts
        self.kinds = {mid: ind.kind.value for mid, ind in by_mid.items()}
        self._approved_ids: set[int] | None = None
        self.stored_keys, self.replace = stored_keys, replace
        src = plan.source
        self.src_text = source_text(src.root, src.extension, src.name)
        self.mid_of_id = {i: mid for mid, i in ids.items()}
        self._stored_orgs: dict[int, Organisation] | None = None
        self._tails: dict[str, str] = {}  # per organisation key: chain | source

    def write_bundle(self, bundle: list[tuple]) -> None:
        """Mask the groups of one (family, calendar year) together, so that quarters, months and the year are
        in the same relations, then write each group."""
        prepared = [self._prepare(group) for group in bundle]
        hidden = self._hide([c for p in prepared for c in (*p[2], *p[4])])
        for p in prepared:
            self._emit(*p, hidden)

    def write(self, group: tuple) -> None:
        """One group alone (its own bundle)."""
        self.write_bundle([group])

    def _prepare(self, group: tuple) -> tuple:
        spool = self.spool
        family, start_ord, end_ord = group
        rows = list(spool.read(group))
        start, end = spool.date(start_ord), spool.date(end_ord)
        existing = {
            (r.indicator_id, r.organisation_id, r.stratum): r
            for r in self.read.execute(select(*_STORED).where(
                measurements.c.indicator_id.in_([self.ids[mid] for mid in self.members[family]]),
                measurements.c.period_start == start, measurements.c.period_end == end))
        }
        approved = self._approved()
        cells = []
        for t in rows:
            old = existing.get((self.ids[t[MID]], self.org_ids[t[ORG]], t[STRATUM]))
            # A value published now and re-imported unchanged stays known to every reader: fixed.
            fixed = (old is not None and old.batch_id in approved and old.source_system_id == self.source_id
                     and t[KIND] != "missing" and old.kind == t[KIND]
                     and (old.numerator, old.denominator, old.population, old.cohort) == (t[NUM], t[DEN], t[POP], t[COHORT]))
            cells.append(cell((t[MID], start_ord, end_ord, t[STRATUM] or "", t[ORG]), t[KIND], t[NUM], t[DEN], t[POP],
                              t[COHORT], t[REASON], self.thresholds[t[MID]], self.kinds[t[MID]], fixed=fixed))
        kept = self._kept(rows, existing)
        stored_cells = [self._stored_cell(r, start_ord, end_ord, approved) for r in kept]
        return group, rows, cells, kept, stored_cells, existing

    def _hide(self, cells: list) -> set:
        """The canonical hidden set of one bundle; refuses the import if some hidden value stays unprotected."""
        if not any(c.small or c.masked for c in cells):
            return set()
        decision = protect(cells, self.facts.relations(cells, self.by_mid))
        self.out.audit_lps += decision.audit.lps
        if not decision.ok:
            raise DisclosureError(decision.audit.failures)
        return decision.hidden

    def _emit(self, group, rows, cells, kept, stored_cells, existing, hidden) -> None:
        spool, w, out = self.spool, self.w, self.out
        family, start_ord, end_ord = group
        start, end = spool.date(start_ord), spool.date(end_ord)
        db_start, db_end = w.date(start_ord), w.date(end_ord)
        orgs = spool.organisations
        heads: dict[tuple, str] = {}
        tails = self._tails
        for t, c in zip(rows, cells):
            kind, rate, num, den, value, pop, cohort, reason = t[KIND:CI_LOW]
            ci_low, ci_high, sd = t[CI_LOW], t[CI_HIGH], t[SD]
            if hidden and kind != "missing" and c.key in hidden:
                if c.small:
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
            for r, c in zip(kept, stored_cells):
                if c.key in hidden and r.kind != "missing" and r.source_system_id == self.source_id:
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

    def _stored_cell(self, r, start_ord: int, end_ord: int, approved: set[int]):
        """A kept value: fixed when a reader knows it (another registry's, or published now); a stored mask
        is hidden with no known value; a value of a batch not yet approved may be re-masked."""
        mid = self.mid_of_id[r.indicator_id]
        fixed = r.source_system_id != self.source_id or r.batch_id in approved
        return cell((mid, start_ord, end_ord, r.stratum or "", self.stored_keys[r.organisation_id]), r.kind, r.numerator,
                    r.denominator, r.population, r.cohort, r.reason_code, self.thresholds[mid], self.kinds[mid],
                    fixed=fixed, judge=False)

    def _approved(self) -> set[int]:
        if self._approved_ids is None:
            self._approved_ids = set(self.read.execute(select(batches.c.id).where(batches.c.status == "approved")).scalars())
        return self._approved_ids

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
