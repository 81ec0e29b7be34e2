"""Editorial validation, rule by rule: a good example passes, each bad one gives exactly the expected finding."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.findings import MESSAGES, Severity
from indikera.catalog.model import Description, Person, Target, TargetLevel, ValueRange
from indikera.catalog.validation import MIN_TEXT_CHARS, Context, validate, validate_one
from indikera.domain.indicators import Frequency, Indicator, MeasureKind, Sex, UnitType

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}


def good(mid: str = "10001") -> Description:
    return description_for(DEMO[mid])


def codes(findings, severity=None) -> list[tuple[str, str]]:
    return [(f.code, f.field) for f in findings if severity is None or f.severity is severity]


def errors(d: Description, ctx: Context | None = None) -> list[tuple[str, str]]:
    return codes(validate_one(d, ctx or Context(), "i"), Severity.ERROR)


def with_text(d: Description, key: str, value: str) -> Description:
    return replace(d, texts={**d.texts, key: value})


def test_every_demo_description_is_clean():
    ds = [description_for(s.indicator) for s in demo.INDICATORS]
    assert validate(ds) == []


@pytest.mark.parametrize("key", ["coverage", "dropout", "reporting", "interpretation", "sourcesOfError"])
@pytest.mark.parametrize(
    "value, code",
    [
        ("", "TEXT_EMPTY"),
        ("   \n ", "TEXT_EMPTY"),
        ("TODO", "TEXT_PLACEHOLDER"),
        ("Saknas.", "TEXT_PLACEHOLDER"),
        ("xxx", "TEXT_PLACEHOLDER"),
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod.", "TEXT_PLACEHOLDER"),
        ("Se ovan", "TEXT_PLACEHOLDER"),
        ("Bra täckning.", "TEXT_TOO_SHORT"),
        ("Täckningsgraden är god i de flesta regioner", None),  # 44 chars, 7 words: enough
    ],
)
def test_required_texts_must_say_something(key, value, code):
    found = errors(with_text(good(), key, value))
    assert found == ([(code, f"i.texts.{key}")] if code else [])


def test_too_short_threshold_is_exact():
    base = "Täckningsgraden är god i alla regioner x"  # grow to the threshold
    text = (base + " y" * 20)[:MIN_TEXT_CHARS]
    assert len(text) == MIN_TEXT_CHARS and not errors(with_text(good(), "coverage", text))
    assert errors(with_text(good(), "coverage", text[:-1].rstrip() + "")) in ([], [("TEXT_TOO_SHORT", "i.texts.coverage")])
    assert errors(with_text(good(), "coverage", text[: MIN_TEXT_CHARS - 2])) == [("TEXT_TOO_SHORT", "i.texts.coverage")]
    # Long enough in characters but too few words says nothing either.
    assert errors(with_text(good(), "coverage", "Täckningsgradsberäkningsunderlagsdokumentation finns")) == [("TEXT_TOO_SHORT", "i.texts.coverage")]


def test_optional_texts_only_judged_when_given():
    d = good()
    assert "interpretationStaff" not in d.texts and not errors(d)
    assert errors(with_text(d, "interpretationStaff", "TBD")) == [("TEXT_PLACEHOLDER", "i.texts.interpretationStaff")]


@pytest.mark.parametrize("field, attr", [("description", "description"), ("purpose", "purpose")])
def test_description_and_purpose(field, attr):
    assert errors(replace(good(), **{attr: ""})) == [("TEXT_EMPTY", f"i.{field}")]
    assert errors(replace(good(), **{attr: "Kort."})) == [("TEXT_TOO_SHORT", f"i.{field}")]


def test_title_and_short_title():
    assert errors(replace(good(), title="")) == [("TEXT_EMPTY", "i.title")]
    assert errors(replace(good(), title="Vård")) == [("TEXT_TOO_SHORT", "i.title")]
    assert errors(replace(good(), short_title=" ")) == [("TEXT_EMPTY", "i.shortTitle")]
    long = replace(good(), title="Vård på strokeenhet " * 5, short_title="Andel av alla patienter med stroke (procent)")
    assert codes(validate_one(long, Context(), "i"), Severity.WARNING) == [("TITLE_LENGTH", "i.title"), ("SHORT_TITLE_LENGTH", "i.shortTitle")]
    assert errors(long) == []


def test_numerator_and_denominator_required_for_proportions():
    d = replace(good(), numerator=None, denominator="TODO")
    assert errors(d) == [("TEXT_EMPTY", "i.numerator"), ("TEXT_PLACEHOLDER", "i.denominator")]


def test_value_definition_required_for_values_and_counts():
    for mid in ("10005", "10008"):
        assert errors(replace(good(mid), value_definition=None)) == [("TEXT_EMPTY", "i.valueDefinition")]
    assert codes(validate_one(replace(good("10005"), unit=None), Context(), "i"), Severity.WARNING) == [("UNIT_MISSING", "i.unit")]


def test_unit_type_must_match_measure_kind():
    assert errors(replace(good(), measure_kind=MeasureKind.CONTINUOUS)) == [("UNIT_KIND", "i.measureKind")]


def test_unit_type_must_match_the_kind_of_results_loaded():
    ctx = Context(loaded_kinds={"10001": {"continuous", "missing"}})
    assert errors(good(), ctx) == [("UNIT_KIND", "i.unitType")]
    assert errors(good(), Context(loaded_kinds={"10001": {"proportion", "missing"}})) == []
    assert errors(good(), Context(loaded_kinds={"10001": {"missing"}})) == []  # only missing values: any kind fits


def test_sub_measure_needs_its_parent():
    sub = good("10002")  # parent 10001, sex K
    assert errors(sub) == [("SUB_MEASURE", "i.parentMeasureId")]  # parent neither in the set nor stored
    assert validate([good("10001"), sub]) == []  # parent in the same file
    assert errors(sub, Context(indicators={"10001": DEMO["10001"]})) == []  # parent stored
    assert errors(replace(sub, parent_measure_id=None)) == [("SUB_MEASURE", "i.parentMeasureId")]
    assert errors(replace(sub, sex=None)) == [("SUB_MEASURE", "i.sex")]
    assert errors(replace(sub, parent_measure_id="10002")) == [("SUB_MEASURE", "i.parentMeasureId")]
    grandchild = replace(good("10003"), parent_measure_id="10002")
    assert codes(validate([good("10001"), sub, grandchild]), Severity.ERROR) == [("SUB_MEASURE", "indicators[2].parentMeasureId")]
    v2 = replace(sub, version_major=2)
    assert codes(validate([good("10001"), v2]), Severity.ERROR) == [("SUB_MEASURE_VERSION", "indicators[1].versionMajor")]


def test_version_cannot_go_backwards_or_change_without_a_bump():
    d = good()
    stored = {(1, 2): jsonformat.to_dict(replace(d, version_minor=2))}
    ctx = Context(stored_versions={"10001": stored})
    assert errors(replace(d, version_minor=1), ctx) == [("VERSION_BACKWARDS", "i.versionMinor")]
    assert errors(replace(d, version_minor=2), ctx) == []  # the same version, unchanged: fine
    assert errors(replace(d, version_minor=2, purpose=d.purpose + " Ändrad."), ctx) == [("VERSION_NOT_BUMPED", "i.versionMinor")]
    assert errors(replace(d, version_minor=3, purpose=d.purpose + " Ändrad."), ctx) == []
    assert errors(replace(d, version_major=0)) == [("VERSION_NUMBER", "i.versionMajor")]


def test_targets_must_lie_in_the_value_range():
    t = Target(TargetLevel.MALNIVA, "riket", 90.0, date(2024, 1, 1))
    assert errors(replace(good(), targets=(t,))) == [("TARGET_RANGE", "i.targets[0].value")]  # a rate is 0..1
    assert errors(replace(good(), targets=(replace(t, value=0.9),))) == []
    assert errors(replace(good("10005"), targets=(replace(t, value=-1.0),))) == [("TARGET_RANGE", "i.targets[0].value")]
    narrowed = replace(good("10005"), value_range=ValueRange(0, 60), targets=(replace(t, value=90.0),))
    assert errors(narrowed) == [("TARGET_RANGE", "i.targets[0].value")]
    assert errors(replace(good(), value_range=ValueRange(1, 0), targets=())) == [("RANGE_ORDER", "i.valueRange")]
    bad_dates = replace(t, value=0.9, valid_to=date(2023, 1, 1))
    assert errors(replace(good(), targets=(bad_dates,))) == [("DATE_ORDER", "i.targets[0].validTo")]
    assert errors(replace(good(), targets=(replace(t, value=0.9, organisation="Region X"),))) == [("HSA_ID", "i.targets[0].organisation")]


def test_frequencies_levels_sources_dates_people_threshold():
    assert errors(replace(good(), frequencies=(Frequency.QUARTER,))) == [("FREQUENCY_YEAR", "i.measuringFrequencies")]
    assert errors(replace(good(), frequencies=())) == [("EMPTY_LIST", "i.measuringFrequencies")]
    assert errors(replace(good(), levels=())) == [("EMPTY_LIST", "i.organisationalLevels")]
    assert errors(replace(good(), sources=())) == [("EMPTY_LIST", "i.sources")]
    assert errors(replace(good(), sources=("Registret", " "))) == [("TEXT_EMPTY", "i.sources[1]")]
    assert errors(replace(good(), valid_to=date(2020, 1, 1))) == [("DATE_ORDER", "i.validTo")]
    assert errors(replace(good(), owner=Person("Anna"))) == [("HSA_ID", "i.owner.hsaId")]
    assert errors(replace(good(), authors=(Person("SE2321000000-A1"), Person("x")))) == [("HSA_ID", "i.authors[1].hsaId")]
    assert errors(replace(good(), display_threshold=-1)) == [("THRESHOLD", "i.displayThreshold")]
    assert errors(replace(good(), measure_id="bad id!")) == [("MEASURE_ID", "i.measureId")]


def test_style_warnings_never_block():
    d = replace(good(), keywords=(), groups=())
    found = validate_one(d, Context(), "i")
    assert codes(found, Severity.WARNING) == [("KEYWORDS_MISSING", "i.keywords"), ("GROUPS_MISSING", "i.groups")]
    assert not errors(d)


def test_every_finding_names_the_field_and_says_how_to_fix_in_both_languages():
    d = replace(good(), texts={**good().texts, "coverage": "TODO"}, numerator="", keywords=())
    for f in validate_one(d, Context(), "indicators[0]"):
        assert f.field.startswith("indicators[0].") and f.message and f.fix and f.message_en and f.fix_en
        assert "{" not in f.message + f.fix + f.message_en + f.fix_en
    assert set(MESSAGES) >= {"TEXT_EMPTY", "TEXT_PLACEHOLDER", "TEXT_TOO_SHORT", "UNIT_KIND", "SUB_MEASURE", "VERSION_BACKWARDS", "TARGET_RANGE"}


def test_duplicate_version_in_one_file():
    assert codes(validate([good(), good()]), Severity.ERROR) == [("DUPLICATE_VERSION", "indicators[1]")]


# ------------------------------------------------------------------ the file format (structure)


def doc(*items: dict) -> str:
    return json.dumps({"format": jsonformat.FORMAT, "indicators": list(items)}, ensure_ascii=False)


def item(**changes) -> dict:
    out = jsonformat.to_dict(good())
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def parse_codes(text: str | bytes) -> list[tuple[str, str]]:
    return codes(jsonformat.loads(text)[1])


def test_missing_required_fields_are_named():
    assert parse_codes(doc(item(unitType=None, owner=None))) == [("REQUIRED", "indicators[0].unitType"), ("REQUIRED", "indicators[0].owner")]
    ds, found = jsonformat.loads(doc(item(texts={"coverage": "x"})))
    assert found == [] and ds[0].texts["dropout"] == ""  # a missing text is judged by the editorial rules
    assert ("TEXT_EMPTY", "indicators[0].texts.dropout") in codes(validate(ds))


def test_structure_errors_are_field_exact():
    assert parse_codes(doc(item(colour="blå"))) == [("FORMAT_UNKNOWN_FIELD", "indicators[0].colour")]
    assert parse_codes(doc(item(versionMajor="1"))) == [("FORMAT_TYPE", "indicators[0].versionMajor")]
    assert parse_codes(doc(item(versionMajor=True))) == [("FORMAT_TYPE", "indicators[0].versionMajor")]
    assert parse_codes(doc(item(unitType="Procent"))) == [("FORMAT_VALUE", "indicators[0].unitType")]
    assert parse_codes(doc(item(validFrom="20240101"))) == [("FORMAT_DATE", "indicators[0].validFrom")]
    assert parse_codes(doc(item(validFrom="2024-02-30"))) == [("FORMAT_DATE", "indicators[0].validFrom")]
    assert parse_codes(doc(item(measuringFrequencies=["year", "weekly"]))) == [("FORMAT_VALUE", "indicators[0].measuringFrequencies[1]")]
    assert parse_codes(doc(item(targets=[{"level": "målnivå", "organisation": "riket", "value": "90%", "validFrom": "2024-01-01"}]))) == [
        ("FORMAT_TYPE", "indicators[0].targets[0].value")]
    assert parse_codes(doc(item(owner={"hsaId": "SE2321000000-A", "role": "x"}))) == [("FORMAT_UNKNOWN_FIELD", "indicators[0].owner.role")]
    assert parse_codes(doc("not an object")) == [("FORMAT_TYPE", "indicators[0]")]


def test_hostile_files_give_clear_errors():
    assert parse_codes("{") == [("FORMAT_JSON", "$")]
    assert parse_codes(b"\xff\xfe{}") == [("FORMAT_JSON", "$")]
    assert parse_codes("[]") == [("FORMAT_ROOT", "$")]
    assert parse_codes('{"format": "other", "indicators": []}') == [("FORMAT_ROOT", "$")]
    assert parse_codes("[" * 100_000 + "]" * 100_000) in ([("FORMAT_TOO_DEEP", "$")], [("FORMAT_ROOT", "$")])
    assert parse_codes(" " * (jsonformat.MAX_BYTES + 1)) == [("FORMAT_TOO_DEEP", "$")]
    dup = doc(item()).replace('"versionMinor": 0', '"versionMinor": 0, "versionMinor": 1')
    assert parse_codes(dup) == [("FORMAT_DUPLICATE_KEY", "indicators[0].versionMinor")]
    assert parse_codes(doc(item(targets=[{"level": "målnivå", "organisation": "riket", "value": 1e999, "validFrom": "2024-01-01"}]))) == [
        ("FORMAT_TYPE", "indicators[0].targets[0].value")]


def test_sub_measure_identity_maps_to_the_indicator_row():
    ind = good("10011").to_indicator()
    assert ind == Indicator("10011", 1, DEMO["10011"].title, UnitType.ANDEL, Frequency.YEAR, DEMO["10011"].levels, "10010", Sex.FEMALE)
    assert good("10001").to_indicator().frequency is Frequency.QUARTER  # the finest supported frequency
