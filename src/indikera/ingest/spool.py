"""Validated rows parked on disk, one temporary file per (indicator family, period), so memory stays bounded.

Masking and the database diff work one family (a parent indicator and its sex sub-measures) and period at
a time; only the largest such group is ever held in memory. Rows are flat tuples (see :data:`FIELDS`):
the write path turns them into database rows without rebuilding domain objects.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from datetime import date

from ..domain.measurements import SourceSystem
from ..domain.organisations import Organisation
from ..domain.periods import Period

CHUNK = 2000  # rows per pickled chunk of one group
BUFFERED = 20_000  # rows held in memory over all groups before every buffer goes to disk

# One spooled row. Dates are ordinals; the organisation and source system are indexes into the spool's lists.
FIELDS = (
    "line", "measure_id", "version", "start", "end", "org", "source", "stratum", "kind", "rate", "numerator",
    "denominator", "value", "population", "cohort", "reason_code", "ci_low", "ci_high", "standard_deviation",
    "coverage", "exclusions", "reference_interval",
)
(LINE, MID, VERSION, START, END, ORG, SOURCE, STRATUM, KIND, RATE, NUM, DEN, VALUE, POP, COHORT, REASON, CI_LOW, CI_HIGH,
 SD, COVERAGE, EXCLUSIONS, REFERENCE) = range(len(FIELDS))


class FamilySpool:
    """Measurements as compact tuples in per-group temporary files; organisations once, by index."""

    def __init__(self) -> None:
        self._files: dict[tuple, tempfile.SpooledTemporaryFile] = {}
        self._buffers: dict[tuple, list[tuple]] = {}
        self.counts: dict[tuple, int] = {}
        self.organisations: list[Organisation] = []
        self._org_index: dict[int, int] = {}  # id(organisation) → index; organisations are shared objects
        self.sources: list[SourceSystem] = []
        self._dates: dict[int, date] = {}
        self._periods: dict[tuple[int, int], Period] = {}
        self._buffered = 0

    def _org(self, org: Organisation) -> int:
        idx = self._org_index.get(id(org))
        if idx is None:
            idx = self._org_index[id(org)] = len(self.organisations)
            self.organisations.append(org)
        return idx

    def add(self, family: tuple, line: int, row: tuple) -> None:
        """``row`` as ``rows.RowReader.read`` returns it."""
        buf = self._buffers.get(family)
        if buf is None:
            buf = self._buffers[family] = []
        mid, version, period, org, source, stratum, *values = row
        if not self.sources or self.sources[-1] is not source:
            self.sources.append(source)
        buf.append((line, mid, version, period.start.toordinal(), period.end.toordinal(), self._org(org),
                    len(self.sources) - 1, stratum, *values))
        self.counts[family] = self.counts.get(family, 0) + 1
        self._buffered += 1
        if len(buf) >= CHUNK:
            self._flush(family)
        elif self._buffered >= BUFFERED:  # many groups, each filling slowly: bound the total, not each
            for key in [k for k, b in self._buffers.items() if b]:
                self._flush(key)

    def _flush(self, family: tuple) -> None:
        buf = self._buffers.get(family)
        if not buf:
            return
        fh = self._files.get(family)
        if fh is None:
            fh = self._files[family] = tempfile.SpooledTemporaryFile(max_size=64 * 1024)  # many groups: keep each small
        pickle.dump(buf, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffered -= len(buf)
        self._buffers[family] = []

    def families(self) -> list[tuple]:
        return sorted(self.counts)

    def read(self, family: tuple) -> Iterator[tuple]:
        """The group's rows (flat tuples, :data:`FIELDS`) in file order."""
        self._flush(family)
        fh = self._files.get(family)
        if fh is None:
            return
        fh.seek(0)  # each read starts again at the family's first chunk
        while True:
            try:
                chunk = pickle.load(fh)  # our own data, written above: never untrusted input
            except EOFError:
                return
            yield from chunk

    def date(self, ordinal: int) -> date:
        d = self._dates.get(ordinal)
        if d is None:
            d = self._dates[ordinal] = date.fromordinal(ordinal)
        return d

    def period(self, start: int, end: int) -> Period:
        """A Period from spooled ordinals (one object per distinct period)."""
        p = self._periods.get((start, end))
        if p is None:
            p = self._periods[(start, end)] = Period(self.date(start), self.date(end))
        return p

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        self._buffers.clear()
