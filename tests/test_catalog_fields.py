"""Issue #16 item 5: the national catalogue's fields the model lacked, and English texts for every text field
(``en``, with a Swedish fallback that says so). One test per rule."""

from __future__ import annotations

import json
from dataclasses import replace

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.localize import in_language, localized, missing_english
from indikera.catalog.model import TRANSLATABLE, Code, Person
from indikera.catalog.validation import validate
from indikera.opendata.descriptions import open_document
from indikera.web import description as web_description

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}


def d(mid: str = "10001"):
    return description_for(DEMO[mid])


def errors(findings):
    return [(f.code, f.field) for f in findings if f.is_error]


def test_the_new_fields_are_in_the_file_and_back():
    x = replace(d(), target_population="Alla vuxna med akut stroke i regionen.", measure_population="Vårdtillfällen i registret.",
                reviewer=Person("SE2321000000-GRANSK", "Granskare"), sub_categories=(Code("18-64", None, "18–64 år"),))
    doc = jsonformat.to_dict(x)
    assert doc["selections"][0] == {"codeSystem": "1.2.752.116.1.1.1", "code": "I61", "display": "Intracerebral blödning"}
    assert doc["reportingSystem"]["hsaId"] == "SE2321000000-INDIKERA" and doc["regionalIndicator"] is False
    assert doc["en"]["texts"]["coverage"].startswith("Coverage") and "unitUcum" not in doc  # a rate has no unit
    assert jsonformat.to_dict(d("10005"))["unitUcum"] == "min"
    back, findings = jsonformat.loads(jsonformat.dumps([x]))
    assert findings == [] and back == [x]


def test_hostile_or_wrong_values_are_named_field_by_field():
    doc = jsonformat.document([d()])
    one = doc["indicators"][0]
    one["regionalIndicator"] = "ja"
    one["en"]["texts"]["nonsense"] = "x"
    one["selections"][0].pop("code")
    _, findings = jsonformat.parse(json.loads(json.dumps(doc)))
    assert set(errors(findings)) == {("FORMAT_TYPE", "indicators[0].regionalIndicator"),
                                     ("FORMAT_UNKNOWN_FIELD", "indicators[0].en.texts.nonsense"),
                                     ("REQUIRED", "indicators[0].selections[0].code")}
    bad = replace(d(), reporting_organisation=Person("inte-ett-hsa-id"),
                  en={**d().en, "texts.coverage": "Se <a href='x'>länk</a>", "title": "x" * 231})
    assert set(errors(validate([bad]))) == {("HSA_ID", "indicators[0].reportingOrganisation.hsaId"),
                                            ("TEXT_MARKUP", "indicators[0].en.texts.coverage"),
                                            ("TEXT_TOO_LONG", "indicators[0].en.title")}


def test_populations_selections_and_ucum_are_computation_fields(engine):
    assert cs.import_text(engine, jsonformat.dumps([d("10005")]), "a").ok
    changed = replace(d("10005"), version_minor=1, unit_ucum="s")
    assert errors(cs.validate_text(engine, jsonformat.dumps([changed]))) == [("VERSION_COMPUTATION", "indicators[0].unitUcum")]
    texts_only = replace(d("10005"), version_minor=1, en={**d("10005").en, "purpose": "Clearer."})
    assert errors(cs.validate_text(engine, jsonformat.dumps([texts_only]))) == []  # English texts are texts


def test_english_with_a_swedish_fallback_that_says_so():
    x = d("10005")  # English title and purpose, Swedish coverage
    texts = localized(x, "en")
    assert texts["title"] == {"text": x.en["title"], "lang": "en"}
    assert texts["texts.coverage"] == {"text": x.texts["coverage"], "lang": "sv"}
    assert localized(x, "sv")["title"] == {"text": x.title, "lang": "sv"}
    assert set(texts) <= set(TRANSLATABLE) and "texts.coverage" in missing_english(x)
    english = in_language(x, "en")
    assert english.title == x.en["title"] and english.texts["coverage"] == x.texts["coverage"] and in_language(x, "sv") == x
    view = web_description.read(d(), "en")
    assert view.purpose == d().en["purpose"] and view.texts[0].text == d().en["texts.coverage"]
    assert web_description.read(d()).purpose == d().purpose


def test_every_demo_description_has_english_and_the_reviewer_is_personal_data():
    for spec in demo.INDICATORS:
        x = description_for(spec.indicator)
        assert {"title", "shortTitle", "description", "purpose"} <= set(x.en), spec.indicator.measure_id
    doc = jsonformat.to_dict(replace(d(), reviewer=Person("SE2321000000-GRANSK", "Greta Granskare")))
    assert "reviewer" not in open_document(doc) and "authors" not in open_document(doc)
    assert open_document(doc, show_authors=True)["reviewer"]["name"] == "Greta Granskare"
