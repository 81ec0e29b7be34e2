"""Issue #16, "Defects found": one test (or property) per catalogue defect, each failing on the old code.

Stranded sub-measures, computation changes at a minor version, the all-versions export round trip,
finding paths after a format error, control characters, markup, text lengths, and findings off a terminal.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.model import Description
from indikera.domain.indicators import UnitType
from indikera.publish import control
from indikera.store import db as store_db
from indikera.store.catalog_tables import indicator_descriptions

DEMO = {s.indicator.measure_id: s.indicator for s in demo.INDICATORS}


def d(mid: str = "10001") -> Description:
    return description_for(DEMO[mid])


def text(*ds: Description) -> str:
    return jsonformat.dumps(list(ds))


def errors(findings) -> list[tuple[str, str]]:
    return [(f.code, f.field) for f in findings if f.is_error]


def cli(*args: str, input: str | None = None):
    from indikera.cli import app

    return CliRunner().invoke(app, list(args), input=input)


def major(desc: Description, n: int = 2) -> Description:
    return replace(desc, version_major=n, version_minor=0)


# ------------------------------------------------------------------ a parent's new major version


def test_a_parents_new_major_may_not_strand_a_published_sub_measure(engine):
    assert cs.import_text(engine, text(d("10001"), d("10002"), d("10003")), "anna", approve_as="bertil").ok
    with store_db.writer(engine).begin() as conn:
        control.set_level(conn, "10002", "restricted", actor="anna", reason="Avtal med VIS")
    r = cs.import_text(engine, text(major(d("10001"))), "anna")
    assert errors(r.findings) == [("SUB_MEASURE_STRANDED", "indicators[0].versionMajor")]
    refusal = next(f for f in r.findings if f.is_error)
    assert "10002" in refusal.message and "10002" in refusal.message_en
    # 10003 is unpublished: a warning names it, it does not block on its own.
    assert [(f.code, dict(f.params)["sub"]) for f in r.findings if not f.is_error and f.code.startswith("SUB_")] == [("SUB_MEASURE_BEHIND", "10003")]
    assert not r.written
    with engine.connect() as conn:
        assert cs.latest_description(conn, "10001").version == (1, 0)
    # Bringing the published sub-measure along at the new major is accepted.
    r = cs.import_text(engine, text(major(d("10001")), major(d("10002"))), "anna")
    assert r.ok and r.added == ["10001 2.0", "10002 2.0"], errors(r.findings)


# ------------------------------------------------------------------ computation changes need a major version


@pytest.mark.parametrize("change, field", [
    (lambda x: replace(x, unit_type=UnitType.MEDELVARDE), "unitType"),
    (lambda x: replace(x, unit="sekunder"), "unit"),
    (lambda x: replace(x, value_definition=x.value_definition + " Räknat från ankomst till sjukhus."), "valueDefinition"),
])
def test_a_computation_change_at_a_minor_version_is_refused(engine, change, field):
    assert cs.import_text(engine, text(d("10005")), "a").ok  # Median
    minor = replace(change(d("10005")), version_minor=1)
    r = cs.import_text(engine, text(minor), "a")
    assert errors(r.findings) == [("VERSION_COMPUTATION", f"indicators[0].{field}")]
    assert "huvudversion" in r.findings[0].message and "major version" in r.findings[0].message_en
    assert cs.import_text(engine, text(major(change(d("10005")))), "a").ok  # at 2.0 it is fine


def test_texts_change_at_a_minor_version_and_rewrapping_a_definition_is_no_change(engine):
    base = d("10001")
    assert cs.import_text(engine, text(base), "a").ok
    minor = replace(base, version_minor=1, numerator="  " + base.numerator.replace(" ", "\n", 2),
                    texts={**base.texts, "coverage": base.texts["coverage"] + " Uppdaterad för 2025."})
    assert cs.import_text(engine, text(minor), "a").ok
    changed = replace(base, version_minor=2, denominator=base.denominator + " Även överflyttade patienter.")
    assert errors(cs.validate_text(engine, text(changed))) == [("VERSION_COMPUTATION", "indicators[0].denominator")]


def test_cli_validate_exits_non_zero_on_a_computation_change_within_one_file(tmp_path, sqlite_engine):
    url = str(sqlite_engine.url)
    file = tmp_path / "k.json"
    file.write_text(text(d("10005"), replace(d("10005"), version_minor=1, unit_type=UnitType.MEDELVARDE)), encoding="utf-8")
    r = cli("catalog", "validate", str(file), "--db", url, "--json")
    assert r.exit_code == 1
    assert [(f["code"], f["field"]) for f in json.loads(r.stdout) if f["severity"] == "error"] == [("VERSION_COMPUTATION", "indicators[1].unitType")]


# ------------------------------------------------------------------ export --all-versions | import


def test_all_versions_export_imports_into_the_same_and_a_fresh_database(demo_url, tmp_path, sqlite_engine):
    later = [replace(d("10004"), version_minor=1, purpose=d("10004").purpose + " Förtydligat 2025."),
             major(d("10001")), major(d("10002")), major(d("10003"))]
    path = tmp_path / "nya.json"
    path.write_text(text(*later), encoding="utf-8")
    r = cli("catalog", "import", str(path), "--db", demo_url, "--by", "anna")
    assert r.exit_code == 0, r.output
    exported = cli("catalog", "export", "--all-versions", "--db", demo_url)
    assert exported.exit_code == 0
    versions = [(x["measureId"], x["versionMajor"], x["versionMinor"]) for x in json.loads(exported.stdout)["indicators"]]
    assert ("10004", 1, 0) in versions and ("10004", 1, 1) in versions and ("10002", 2, 0) in versions
    dump = tmp_path / "alla.json"
    dump.write_text(exported.stdout, encoding="utf-8")
    r = cli("catalog", "import", "-", "--db", demo_url, "--by", "sync", input=exported.stdout)  # export | import -
    assert r.exit_code == 0, r.output
    assert f"0 nya versioner, {len(versions)} oförändrade" in r.output
    # Restore: the same file into an empty database gives back the same catalogue, byte for byte.
    fresh = str(sqlite_engine.url)
    assert cli("catalog", "import", str(dump), "--db", fresh, "--by", "restore").exit_code == 0
    assert cli("catalog", "export", "--all-versions", "--db", fresh).stdout == exported.stdout
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(indicator_descriptions)).scalar_one() == len(versions)


# ------------------------------------------------------------------ paths after a format error

_DEMO_IDS = sorted(DEMO)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    format_errors=st.sets(st.integers(0, len(_DEMO_IDS) - 1), min_size=1, max_size=6),
    editorial=st.sets(st.integers(0, len(_DEMO_IDS) - 1), max_size=6),
    kind=st.sampled_from(["type", "unknown", "enum", "date", "not-object"]),
)
def test_every_finding_names_the_entry_it_came_from(format_errors, editorial, kind):
    items = []
    for i, mid in enumerate(_DEMO_IDS):
        item = jsonformat.to_dict(d(mid))
        if i in editorial:
            item["texts"]["coverage"] = "TODO"
        if i in format_errors:
            if kind == "type":
                item["title"] = 42
            elif kind == "unknown":
                item["titel"] = "stavfel"
            elif kind == "enum":
                item["unitType"] = "Procent"
            elif kind == "date":
                item["validFrom"] = "2024-13-01"
            else:
                item = [item]
        items.append(item)
    findings = cs.validate_text(None, json.dumps({"format": jsonformat.FORMAT, "indicators": items}, ensure_ascii=False))
    index = {mid: i for i, mid in enumerate(_DEMO_IDS)}
    for f in findings:
        if f.measure_id is not None:  # an entry that is not an object has no measure id: its own path
            assert f.field.startswith(f"indicators[{index[f.measure_id]}]"), (f.code, f.field, f.measure_id)
    placeholders = {f.field for f in findings if f.code == "TEXT_PLACEHOLDER"}
    assert placeholders == {f"indicators[{i}].texts.coverage" for i in editorial - format_errors}
    assert {f.field.split(".")[0] for f in findings if f.code.startswith("FORMAT_")} == {f"indicators[{i}]" for i in format_errors}


# ------------------------------------------------------------------ characters, markup, lengths


@pytest.mark.parametrize("field, value, code", [
    ("title", "Vård på strokeenhet\x00", "TEXT_CONTROL_CHAR"),
    ("title", "Vård på\nstrokeenhet", "TEXT_CONTROL_CHAR"),  # line feed: long texts only
    ("shortTitle", "Andel\t(%)", "TEXT_CONTROL_CHAR"),
    ("texts.coverage", "Täckningsgraden är god i de flesta regioner\x00 och jämförs med patientregistret.", "TEXT_CONTROL_CHAR"),
    ("texts.dropout", "Bortfallet är litet i alla regioner\x1b[31m och redovisas per region varje år.", "TEXT_CONTROL_CHAR"),
    ("purpose", "Att följa vården på strokeenhet över tid\x85 i hela landet.", "TEXT_CONTROL_CHAR"),
    ("texts.coverage", "Täckningsgraden är god i de flesta regioner\ud800 och jämförs med patientregistret.", "TEXT_CONTROL_CHAR"),
    ("title", "Vård på <b>strokeenhet</b>", "TEXT_MARKUP"),
    ("title", "Vård<script>alert(1)</script>", "TEXT_MARKUP"),
    ("texts.interpretation", "Skillnader mellan regioner beror delvis på case-mix </p> och ska tolkas med försiktighet.", "TEXT_MARKUP"),
    ("texts.interpretation", "Skillnader mellan regioner beror delvis på case-mix <!-- x --> och tolkas med försiktighet.", "TEXT_MARKUP"),
    ("description", "Andelen patienter med &lt;b&gt; vård på strokeenhet under vårdtiden.", "TEXT_MARKUP"),
    ("description", "Andelen patienter med &#60;script vård på strokeenhet under vårdtiden.", "TEXT_MARKUP"),
    ("description", "Andelen patienter med &#x3c;img vård på strokeenhet under vårdtiden.", "TEXT_MARKUP"),
    ("description", "Andelen patienter med &amp vård på strokeenhet under hela vårdtiden.", "TEXT_MARKUP"),
    ("sources[0]", "Riksstroke <a href=x>", "TEXT_MARKUP"),
    ("keywords[0]", "<img src=x onerror=alert(1)>", "TEXT_MARKUP"),
    ("title", "V" * 231, "TEXT_TOO_LONG"),
    ("shortTitle", "A" * 51, "TEXT_TOO_LONG"),
    ("texts.coverage", "Täckningsgraden är god i regionerna. " * 600, "TEXT_TOO_LONG"),
    ("texts.reporting", "Inrapporteringen sker månadsvis från alla sjukhus. " * 10_000, "TEXT_TOO_LONG"),  # 500 000
])
def test_characters_markup_and_length_are_refused_field_exact(field, value, code):
    item = jsonformat.to_dict(d("10001"))
    target = item
    *parents, last = field.replace("[0]", ".0").split(".")
    for p in parents:
        target = target[p]
    if last == "0":
        target[0] = value
    else:
        target[last] = value
    findings = cs.validate_text(None, json.dumps({"format": jsonformat.FORMAT, "indicators": [item]}))
    assert errors(findings) == [(code, f"indicators[0].{field}")]


@pytest.mark.parametrize("field, value", [
    ("title", "HbA1c < 52 mmol/mol hos vuxna"),
    ("shortTitle", "Andel <5 år"),
    ("title", "Q&A om blod & urin, a<=b"),
    ("title", "V" * 230),  # the limit itself: a style warning only
    ("shortTitle", "A" * 50),
    ("texts.coverage", "Täckningsgraden är god i de flesta regioner.\n\n\tJämförs årligen med patientregistret."),
    ("texts.coverage", "Täckningsgraden är god i regionerna. " * 540),  # 19 980 characters
])
def test_plain_text_within_the_limits_is_accepted(field, value):
    item = jsonformat.to_dict(d("10001"))
    if "." in field:
        item["texts"][field.split(".")[1]] = value
    else:
        item[field] = value
    assert errors(cs.validate_text(None, json.dumps({"format": jsonformat.FORMAT, "indicators": [item]}))) == []


def test_a_nul_is_refused_before_the_database_sees_it(engine):
    bad = replace(d("10001"), title="Vård på strokeenhet\x00")
    r = cs.import_text(engine, text(bad), "a")  # PostgreSQL raised psycopg DataError here
    assert errors(r.findings) == [("TEXT_CONTROL_CHAR", "indicators[0].title")] and not r.written
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(indicator_descriptions)).scalar_one() == 0


# ------------------------------------------------------------------ findings off a terminal


def test_findings_are_one_line_each_when_not_a_terminal(tmp_path):
    long_text = "Tolkningstexten innehåller <b>fetstil</b> som inte får finnas i en beskrivning av indikatorn."
    bad = replace(d("10002"), texts={**d("10002").texts, "interpretationPublic": long_text, "coverage": "TODO"})
    file = tmp_path / "k.json"
    file.write_text(text(d("10001"), bad), encoding="utf-8")
    as_json = json.loads(cli("catalog", "validate", str(file), "--json").stdout)
    r = cli("catalog", "validate", str(file))  # CliRunner: not a terminal
    assert r.exit_code == 1
    lines = [line.split("\t") for line in r.stderr.splitlines() if "\t" in line]
    assert len(lines) == len(as_json) >= 2
    for f, cols in zip(as_json, lines):
        assert cols[:3] == [f["severity"], f["code"], f["field"]]
        assert cols[3] == " ".join(f["message"].split())
    assert ["error", "TEXT_MARKUP", "indicators[1].texts.interpretationPublic"] in [c[:3] for c in lines]
    assert not any("━" in line or "│" in line for line in r.stderr.splitlines())
