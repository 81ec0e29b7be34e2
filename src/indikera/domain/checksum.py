"""The measurementChecksum algorithm (documented in README.md, "Checksum").

1. Each measurement has a canonical text: its answer-relevant fields in a fixed order, numbers as
   Python ``repr`` of floats, the whole organisation chain and the source system included.
2. Its content hash is SHA-256 (hex) of that text in UTF-8; it is stored with the measurement.
3. The answer's checksum is SHA-256 (hex) over the content hashes of exactly the matching
   measurements, sorted by (measure id, period start, period end, organisation key, stratum) and
   joined with "\\n". No match gives SHA-256 of the empty string.

Because step 3 reads only stored hashes, a checksum-only answer costs an index scan, not a build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .measurements import Cohort, Continuous, Measurement, Missing, Proportion
from .organisations import Organisation
from .periods import format_date

EMPTY_CHECKSUM = hashlib.sha256(b"").hexdigest()


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


_DATES: dict = {}


def _date(value) -> str:
    """``format_date`` memoised (a file has few distinct dates; strftime is slow)."""
    text = _DATES.get(value)
    if text is None:
        if len(_DATES) > 100_000:
            _DATES.clear()
        text = _DATES[value] = format_date(value)
    return text


def _org(org: Organisation) -> str:
    # Organisations are frozen (their parents too), so the chain text is computed once per object and kept
    # in its __dict__ (not a dataclass field: equality, hashing and repr are unaffected).
    cached = org.__dict__.get("_canonical_chain")
    if cached is None:
        cached = _org_text(org)
        object.__setattr__(org, "_canonical_chain", cached)
    return cached


def _org_text(org: Organisation) -> str:
    parts = []
    for node in org.chain():
        oid = node.org_id
        parts.append(
            "/".join((node.type.value, node.name, node.hsa_id or "", oid.root if oid else "", oid.extension if oid else ""))
        )
    return ">".join(parts)


def canonical_text(m: Measurement) -> str:
    r = m.result
    if isinstance(r, Proportion):
        values = ("proportion", _num(r.rate), _num(r.numerator), _num(r.denominator))
    elif isinstance(r, Continuous):
        values = ("continuous", _num(r.value), _num(r.population))
    elif isinstance(r, Cohort):
        values = ("cohort", _num(r.count))
    else:
        assert isinstance(r, Missing)
        values = ("missing", r.reason.value)
    fields = (
        m.measure_id,
        str(m.version),
        _date(m.period.start),
        _date(m.period.end),
        m.stratum,
        *values,
        _num(m.ci.low if m.ci else None),
        _num(m.ci.high if m.ci else None),
        _num(m.standard_deviation),
        _num(m.coverage),
        _num(m.exclusions),
        _num(m.reference_interval),
        _date(m.first_encounter) if m.first_encounter else "",
        _date(m.last_encounter) if m.last_encounter else "",
        _org(m.organisation),
        "/".join((m.source_system.root, m.source_system.extension, m.source_system.name)),
    )
    return "|".join(fields)


def content_hash(m: Measurement) -> str:
    return hashlib.sha256(canonical_text(m).encode("utf-8")).hexdigest()


def combine(sorted_hashes: Iterable[str]) -> str:
    """The answer checksum from content hashes that are already in canonical order."""
    h = hashlib.sha256()
    first = True
    for item in sorted_hashes:
        if not first:
            h.update(b"\n")
        h.update(item.encode("ascii"))
        first = False
    return h.hexdigest()
