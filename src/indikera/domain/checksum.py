"""The measurementChecksum algorithm (documented in README.md, "Checksum").

1. Each measurement has a canonical text: its answer-relevant fields in a fixed order, numbers as
   Python ``repr`` of floats, the whole organisation chain and the source system included.
2. Its content hash is SHA-256 (hex) of that text in UTF-8; it is stored with the measurement.
3. The answer's checksum is SHA-256 (hex) over the content hashes of exactly the matching
   measurements, sorted by (measure id, period start, period end, organisation key, stratum) and
   joined with "\\n". No match gives SHA-256 of the empty string. ``ChecksumBuilder`` is the one
   implementation (the answer writer feeds it as it streams; ``combine`` is it over a finished list).

Because step 3 reads only stored hashes, a checksum-only answer costs an index scan, not a build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from itertools import islice

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


def result_values(kind: str, rate=None, numerator=None, denominator=None, value=None, population=None, cohort=None,
                  reason: str | None = None) -> tuple[str, ...]:
    """The measure-kind part of the canonical text, from flat values (as stored or imported)."""
    if kind == "proportion":
        return ("proportion", _num(rate), _num(numerator), _num(denominator))
    if kind == "continuous":
        return ("continuous", _num(value), _num(population))
    if kind == "cohort":
        return ("cohort", _num(cohort))
    return ("missing", reason or "")


def canonical_head(measure_id: str, version: int, start, end, stratum: str) -> str:
    """The leading fields of the canonical text (shared by every value of one indicator, period and stratum)."""
    return "|".join((measure_id, str(version), _date(start), _date(end), stratum))


def canonical_middle(values: tuple[str, ...], ci_low, ci_high, standard_deviation, coverage, exclusions,
                     reference_interval, first_encounter, last_encounter) -> str:
    return "|".join((
        *values,
        _num(ci_low),
        _num(ci_high),
        _num(standard_deviation),
        _num(coverage),
        _num(exclusions),
        _num(reference_interval),
        _date(first_encounter) if first_encounter else "",
        _date(last_encounter) if last_encounter else "",
    ))


def canonical_tail(organisation: Organisation, source_text: str) -> str:
    """The trailing fields (shared by every value of one organisation and source system)."""
    return _org(organisation) + "|" + source_text


def canonical_text_of(measure_id: str, version: int, start, end, stratum: str, values: tuple[str, ...],
                      ci_low, ci_high, standard_deviation, coverage, exclusions, reference_interval,
                      first_encounter, last_encounter, organisation: Organisation, source_text: str) -> str:
    """Step 1 from flat fields: head | middle | tail, the one implementation for domain objects and import
    rows alike (the importer memoises head and tail, which repeat across rows)."""
    return "|".join((
        canonical_head(measure_id, version, start, end, stratum),
        canonical_middle(values, ci_low, ci_high, standard_deviation, coverage, exclusions, reference_interval,
                         first_encounter, last_encounter),
        canonical_tail(organisation, source_text),
    ))


def source_text(root: str, extension: str, name: str) -> str:
    return "/".join((root, extension, name))


def canonical_text(m: Measurement) -> str:
    r = m.result
    if isinstance(r, Proportion):
        values = result_values("proportion", rate=r.rate, numerator=r.numerator, denominator=r.denominator)
    elif isinstance(r, Continuous):
        values = result_values("continuous", value=r.value, population=r.population)
    elif isinstance(r, Cohort):
        values = result_values("cohort", cohort=r.count)
    else:
        assert isinstance(r, Missing)
        values = result_values("missing", reason=r.reason.value)
    ci = m.ci
    s = m.source_system
    return canonical_text_of(
        m.measure_id, m.version, m.period.start, m.period.end, m.stratum, values,
        ci.low if ci else None, ci.high if ci else None, m.standard_deviation, m.coverage, m.exclusions,
        m.reference_interval, m.first_encounter, m.last_encounter, m.organisation,
        source_text(s.root, s.extension, s.name),
    )


def hash_text(text: str) -> str:
    """Step 2: the content hash of a canonical text (the importer builds the text from memoised parts)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(m: Measurement) -> str:
    return hash_text(canonical_text(m))


_CHUNK = 4096


class ChecksumBuilder:
    """Step 3, incrementally: feed content hashes in canonical order, read ``hexdigest()`` at any point.

    Equal to ``sha256("\\n".join(hashes))`` without holding the hashes, so a streamed answer of any size
    needs constant memory. Nothing added gives ``EMPTY_CHECKSUM``.
    """

    __slots__ = ("_hash", "count")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, content_hash: str) -> None:
        if self.count:
            self._hash.update(b"\n")
        self._hash.update(content_hash.encode("ascii"))
        self.count += 1

    def extend(self, content_hashes: Iterable[str]) -> "ChecksumBuilder":
        """``add`` each, in order; joined a chunk at a time (fewer, larger updates, same bytes)."""
        items = iter(content_hashes)
        while chunk := list(islice(items, _CHUNK)):
            if self.count:
                self._hash.update(b"\n")
            self._hash.update("\n".join(chunk).encode("ascii"))
            self.count += len(chunk)
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()  # hashlib digests a copy: more can be added afterwards


def combine(sorted_hashes: Iterable[str]) -> str:
    """The answer checksum from content hashes that are already in canonical order."""
    return ChecksumBuilder().extend(sorted_hashes).hexdigest()
