"""The catalogue JSON format: round trip exact (hypothesis), and the shipped JSON Schema agrees with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.model import (
    OPTIONAL_TEXTS,
    REQUIRED_TEXTS,
    TRANSLATABLE,
    Code,
    Description,
    Direction,
    IndicatorType,
    Person,
    RegionAssignment,
    Target,
    TargetLevel,
    ValueRange,
)
from indikera.domain.indicators import Frequency, MeasureKind, Sex, UnitType
from indikera.domain.organisations import OrgType

SCHEMA_PATH = Path(jsonformat.__file__).with_name("schema") / "catalog.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
try:  # schemathesis ≥ 4 brings jsonschema_rs; older ones bring jsonschema. Both validate draft 2020-12.
    import jsonschema_rs

    VALIDATOR = jsonschema_rs.validator_for(SCHEMA)
except ImportError:  # pragma: no cover
    import jsonschema

    VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,20}\Z")
texts = st.text(max_size=60)
maybe = lambda s: st.none() | s  # noqa: E731
dates = st.dates(min_value=__import__("datetime").date(1900, 1, 1), max_value=__import__("datetime").date(2099, 12, 31))
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6).map(float)
people = st.builds(Person, hsa_id=texts, name=maybe(texts))
targets = st.builds(Target, level=st.sampled_from(TargetLevel), organisation=texts, value=numbers, valid_from=dates,
                    valid_to=maybe(dates), responsible=maybe(texts), unit=maybe(texts))
codes = st.builds(Code, code=texts, system=maybe(texts), display=maybe(texts))
english = st.dictionaries(st.sampled_from(TRANSLATABLE), texts, max_size=4)
text_maps = st.fixed_dictionaries(
    {k: texts for k, _ in REQUIRED_TEXTS}, optional={k: texts for k, _ in OPTIONAL_TEXTS}
)


def tuples(s, min_size=0):
    return st.lists(s, min_size=min_size, max_size=3).map(tuple)


descriptions = st.builds(
    Description,
    measure_id=ids,
    version_major=st.integers(1, 10**6),
    version_minor=st.integers(0, 10**6),
    title=texts, short_title=texts, description=texts, purpose=texts,
    sources=tuples(texts, 1),
    direction=st.sampled_from(Direction),
    indicator_type=st.sampled_from(IndicatorType),
    unit_type=st.sampled_from(UnitType),
    measure_kind=st.sampled_from(MeasureKind),
    frequencies=tuples(st.sampled_from(Frequency), 1),
    levels=tuples(st.sampled_from(OrgType), 1),
    owner=people,
    texts=text_maps,
    valid_from=dates,
    valid_to=maybe(dates),
    unit=maybe(texts), numerator=maybe(texts), denominator=maybe(texts), value_definition=maybe(texts),
    inclusion_criteria=maybe(texts), exclusion_criteria=maybe(texts),
    groups=tuples(texts), keywords=tuples(texts), authors=tuples(people), targets=tuples(targets),
    value_range=maybe(st.builds(ValueRange, maybe(numbers), maybe(numbers))),
    parent_measure_id=maybe(ids),
    sex=maybe(st.sampled_from(Sex)),
    display_threshold=maybe(st.integers(0, 10**9)),
    region_assignment=maybe(st.sampled_from(RegionAssignment)),
    target_population=maybe(texts), measure_population=maybe(texts), regional_indicator=maybe(st.booleans()),
    authored_at=maybe(dates), reviewer=maybe(people), selections=tuples(codes), sub_categories=tuples(codes),
    reporting_system=maybe(people), reporting_organisation=maybe(people),
    unit_ucum=maybe(st.from_regex(r"\A[!-~]{1,20}\Z")), en=english,
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(descriptions, max_size=4))
def test_round_trip_is_exact(ds):
    text = jsonformat.dumps(ds)
    back, findings = jsonformat.loads(text)
    assert findings == []
    assert back == ds  # file → model is lossless
    assert jsonformat.dumps(back) == text  # model → file is byte-identical
    assert VALIDATOR.is_valid(json.loads(text)), list(VALIDATOR.iter_errors(json.loads(text)))[:3]


@settings(max_examples=40, deadline=None)
@given(descriptions)
def test_one_description_as_stored_document(d):
    assert jsonformat.from_dict(json.loads(json.dumps(jsonformat.to_dict(d)))) == d


def test_demo_catalogue_is_valid_against_the_schema_and_canonical():
    ds = [description_for(s.indicator) for s in demo.INDICATORS]
    text = jsonformat.dumps(ds)
    assert VALIDATOR.is_valid(json.loads(text))
    assert text.endswith("\n") and "Täckningsgraden" in text  # UTF-8 as written, not \u escapes
    keys = list(json.loads(text)["indicators"][0])
    assert keys == [k for k in jsonformat.FIELDS if k in keys]  # fixed key order


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("texts"),
        lambda d: d["texts"].pop("coverage"),
        lambda d: d.update(colour="blå"),
        lambda d: d.update(unitType="Procent"),
        lambda d: d.update(versionMajor=0),
        lambda d: d.update(validFrom="2024/01/01"),
        lambda d: d.update(sex="X"),
        lambda d: d.update(displayThreshold=-1),
        lambda d: d["owner"].pop("hsaId"),
    ],
)
def test_schema_rejects_what_the_parser_rejects(mutate):
    d = jsonformat.to_dict(description_for(demo.INDICATORS[0].indicator))
    mutate(d)
    doc = {"format": jsonformat.FORMAT, "indicators": [d]}
    assert not VALIDATOR.is_valid(doc)
    ds, findings = jsonformat.parse(json.loads(json.dumps(doc)))
    from indikera.catalog.validation import validate

    assert [f for f in findings + validate(ds) if f.is_error], "the parser or the rules must reject it too"


def test_schema_is_shipped_with_the_package():
    assert SCHEMA["$defs"]["description"]["required"] == [k for k in jsonformat.FIELDS if k in jsonformat.REQUIRED_FIELDS]
    assert set(SCHEMA["$defs"]["description"]["properties"]) == set(jsonformat.FIELDS)
