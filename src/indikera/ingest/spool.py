"""Validated rows parked on disk, one temporary file per (indicator family, period), so memory stays bounded.

Masking and the database diff work one family (a parent indicator and its sex sub-measures) and period at
a time; only the largest such group is ever held in memory.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator

from datetime import date

from ..domain.measurements import Cohort, ConfidenceInterval, Continuous, Measurement, Missing, Proportion, ReasonCode
from ..domain.organisations import Organisation
from ..domain.periods import Period

CHUNK = 1000


def _built(cls, **values):
    """An instance of a frozen dataclass from values validated when they were spooled (skips re-checking)."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


def _encode_result(r) -> tuple:
    if isinstance(r, Proportion):
        return ("p", r.numerator, r.denominator, r.rate)
    if isinstance(r, Continuous):
        return ("c", r.value, r.population)
    if isinstance(r, Cohort):
        return ("n", r.count)
    return ("m", r.reason.value)


def _decode_result(t: tuple):
    tag = t[0]
    if tag == "p":
        return _built(Proportion, numerator=t[1], denominator=t[2], rate=t[3])
    if tag == "c":
        return _built(Continuous, value=t[1], population=t[2])
    if tag == "n":
        return _built(Cohort, count=t[1])
    return _built(Missing, reason=ReasonCode(t[1]))


class FamilySpool:
    """Measurements are stored as compact tuples; organisations once, by index."""

    def __init__(self) -> None:
        self._files: dict[tuple, tempfile.SpooledTemporaryFile] = {}
        self._buffers: dict[tuple, list[tuple]] = {}
        self.counts: dict[tuple, int] = {}
        self._orgs: list[Organisation] = []
        self._org_index: dict[int, int] = {}  # id(organisation) → index; organisations are shared objects
        self._sources: list = []
        self._periods: dict[tuple[int, int], Period] = {}

    def _org(self, org: Organisation) -> int:
        idx = self._org_index.get(id(org))
        if idx is None:
            idx = self._org_index[id(org)] = len(self._orgs)
            self._orgs.append(org)
        return idx

    def add(self, family: tuple, line: int, m: Measurement) -> None:
        buf = self._buffers.setdefault(family, [])
        if not self._sources or self._sources[-1] is not m.source_system:
            self._sources.append(m.source_system)
        ci = m.ci
        buf.append((
            line, m.measure_id, m.version, m.period.start.toordinal(), m.period.end.toordinal(), self._org(m.organisation),
            len(self._sources) - 1, m.stratum, _encode_result(m.result), ci.low if ci else None, ci.high if ci else None,
            m.standard_deviation, m.coverage, m.exclusions, m.reference_interval,
        ))
        self.counts[family] = self.counts.get(family, 0) + 1
        if len(buf) >= CHUNK:
            self._flush(family)

    def _flush(self, family: tuple) -> None:
        buf = self._buffers.get(family)
        if not buf:
            return
        fh = self._files.get(family)
        if fh is None:
            fh = self._files[family] = tempfile.SpooledTemporaryFile(max_size=64 * 1024)  # many groups: keep each small
        pickle.dump(buf, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffers[family] = []

    def families(self) -> list[tuple]:
        return sorted(self.counts)

    def read(self, family: tuple) -> Iterator[tuple[int, Measurement]]:
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
            for t in chunk:
                yield t[0], self._decode(t)

    def _decode(self, t: tuple) -> Measurement:
        period = self._periods.get((t[3], t[4]))
        if period is None:
            period = self._periods[(t[3], t[4])] = _built(Period, start=date.fromordinal(t[3]), end=date.fromordinal(t[4]))
        return _built(
            Measurement, measure_id=t[1], version=t[2], period=period, organisation=self._orgs[t[5]],
            result=_decode_result(t[8]), source_system=self._sources[t[6]], stratum=t[7],
            ci=_built(ConfidenceInterval, low=t[9], high=t[10]) if t[9] is not None else None,
            standard_deviation=t[11], coverage=t[12], exclusions=t[13], reference_interval=t[14],
            first_encounter=None, last_encounter=None,
        )

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        self._buffers.clear()
