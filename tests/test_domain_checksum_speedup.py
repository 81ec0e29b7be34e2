"""The memoised canonical text (dates, organisation chains) equals the original, unmemoised algorithm."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indikera.domain import checksum, oids
from indikera.domain.measurements import (
    Cohort,
    ConfidenceInterval,
    Continuous,
    Measurement,
    Missing,
    Proportion,
    ReasonCode,
    SourceSystem,
)
from indikera.domain.organisations import Identifier, Organisation, OrgType, riket
from indikera.domain.periods import Period


def _reference_num(value):
    return "" if value is None else repr(float(value))


def _reference_text(m: Measurement) -> str:
    """The implementation before memoisation, verbatim."""
    def org_text(org):
        parts = []
        for node in org.chain():
            oid = node.org_id
            parts.append("/".join((node.type.value, node.name, node.hsa_id or "", oid.root if oid else "",
                                   oid.extension if oid else "")))
        return ">".join(parts)

    r = m.result
    if isinstance(r, Proportion):
        values = ("proportion", _reference_num(r.rate), _reference_num(r.numerator), _reference_num(r.denominator))
    elif isinstance(r, Continuous):
        values = ("continuous", _reference_num(r.value), _reference_num(r.population))
    elif isinstance(r, Cohort):
        values = ("cohort", _reference_num(r.count))
    else:
        values = ("missing", r.reason.value)
    fmt = lambda d: d.strftime("%Y%m%d")
    return "|".join((
        m.measure_id, str(m.version), fmt(m.period.start), fmt(m.period.end), m.stratum, *values,
        _reference_num(m.ci.low if m.ci else None), _reference_num(m.ci.high if m.ci else None),
        _reference_num(m.standard_deviation), _reference_num(m.coverage), _reference_num(m.exclusions),
        _reference_num(m.reference_interval),
        fmt(m.first_encounter) if m.first_encounter else "", fmt(m.last_encounter) if m.last_encounter else "",
        org_text(m.organisation),
        "/".join((m.source_system.root, m.source_system.extension, m.source_system.name)),
    ))


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(lambda s: s.strip())
dates = st.dates(date(1990, 1, 1), date(2040, 12, 31))
small = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))


@st.composite
def organisations(draw):
    lan = Organisation(OrgType.LAN, draw(names), org_id=Identifier(oids.LAN_ROOT, draw(st.sampled_from(["01", "12", "25"]))),
                       parent=riket())
    level = draw(st.sampled_from(["lan", "kommun", "sjukhus", "unit"]))
    if level == "lan":
        return lan
    if level == "kommun":
        return Organisation(OrgType.KOMMUN, draw(names), org_id=Identifier(oids.KOMMUN_ROOT, "0180"), parent=lan)
    hosp = Organisation(OrgType.SJUKHUS, draw(names), org_id=Identifier(oids.SJUKHUS_ROOT, "51001"), parent=lan)
    if level == "sjukhus":
        return hosp
    return Organisation(OrgType.VARDENHET, draw(names), hsa_id="SE2321000016-" + draw(st.sampled_from(["A", "B1"])),
                        parent=draw(st.sampled_from([hosp, lan])))


@st.composite
def measurements(draw):
    start = draw(dates)
    end = start + timedelta(days=draw(st.integers(0, 800)))
    kind = draw(st.sampled_from(["p", "c", "n", "m"]))
    ci = None
    if kind == "p":
        den = draw(st.integers(1, 10_000))
        result = Proportion(draw(st.integers(0, den)), den)
        if draw(st.booleans()):
            ci = ConfidenceInterval(0.0, 1.0)
    elif kind == "c":
        result = Continuous(draw(st.floats(-1e6, 1e6, allow_nan=False)), draw(st.one_of(st.none(), st.integers(1, 9999))))
    elif kind == "n":
        result = Cohort(draw(st.integers(0, 10**6)))
    else:
        result = Missing(draw(st.sampled_from(list(ReasonCode))))
    first, last = draw(st.one_of(st.none(), dates)), draw(st.one_of(st.none(), dates))
    if first and last and first > last:
        first, last = last, first
    return Measurement(
        draw(st.sampled_from(["10001", "10002"])), draw(st.integers(1, 3)), Period(start, end), draw(organisations()),
        result, SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE2321000000-XYZ", draw(names)),
        stratum=draw(st.sampled_from(["", "K", "M"])), ci=ci if kind == "p" else None,
        standard_deviation=draw(small) if kind == "c" else None, coverage=draw(st.one_of(st.none(), st.floats(0, 1))),
        exclusions=draw(st.one_of(st.none(), st.integers(0, 100))), reference_interval=draw(small),
        first_encounter=first, last_encounter=last,
    )


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(measurements())
def test_canonical_text_matches_the_unmemoised_algorithm(m):
    expected = _reference_text(m)
    assert checksum.canonical_text(m) == expected
    assert checksum.canonical_text(m) == expected  # second call: served from the caches
    assert m.organisation == Organisation(m.organisation.type, m.organisation.name, m.organisation.hsa_id,
                                          m.organisation.org_id, m.organisation.parent)  # the cache is no field
