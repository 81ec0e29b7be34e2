"""The catalogue JSON format: parse (with field-exact findings) and dump (canonical, round-trip exact).

A file is ``{"format": "indikera-catalogue/1", "indicators": [ <description>, … ]}``; the schema is
``catalog/schema/catalog.schema.json`` and docs/catalogue.md explains every field. ``dump`` writes keys
in a fixed order and leaves out absent optional fields, so export → import → export is byte-identical.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from .description_parser import FIELDS, REQUIRED_FIELDS, DescriptionParser, check_keys
from .findings import Finding, error
from .model import OPTIONAL_TEXTS, REQUIRED_TEXTS, TRANSLATABLE, Code, Description, Person, Target, ValueRange

FORMAT = "indikera-catalogue/1"
SCHEMA = Path(__file__).with_name("schema") / "catalog.schema.json"  # the format's JSON Schema
MAX_BYTES = 20_000_000  # a catalogue of thousands of indicators is a few MB



class _Dup(dict):
    """Marks an object that had a key twice (JSON allows it; we do not, since one value would be lost)."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out = _Dup()
    out.duplicates = []
    for k, v in pairs:
        if k in out:
            out.duplicates.append(k)
        out[k] = v
    return out


def loads(text: str | bytes) -> tuple[list[Description], list[Finding]]:
    """Parse a catalogue file. Returns the descriptions it could build and every format finding."""
    entries, findings = loads_entries(text)
    return [d for _, d in entries], findings


def loads_entries(text: str | bytes) -> tuple[list[tuple[str, Description]], list[Finding]]:
    """As ``loads``, each description with its path in the file (``indicators[i]``): after an entry that
    could not be read, the i-th description built is no longer the file's i-th entry."""
    if len(text) > MAX_BYTES:
        return [], [error("FORMAT_TOO_DEEP", "$")]
    try:
        doc = json.loads(text, object_pairs_hook=_pairs)
    except RecursionError:
        return [], [error("FORMAT_TOO_DEEP", "$")]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [], [error("FORMAT_JSON", "$", detail=_json_error(exc))]
    return parse_entries(doc)


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (rad {exc.lineno}, kolumn {exc.colno})"
    return "filen är inte UTF-8"


def parse(doc: Any) -> tuple[list[Description], list[Finding]]:
    entries, findings = parse_entries(doc)
    return [d for _, d in entries], findings


def parse_entries(doc: Any) -> tuple[list[tuple[str, Description]], list[Finding]]:
    findings: list[Finding] = []
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("indicators"), list):
        return [], [error("FORMAT_ROOT", "$", format=FORMAT)]
    check_keys(doc, ("format", "indicators"), "$", findings, None)
    out: list[tuple[str, Description]] = []
    for i, item in enumerate(doc["indicators"]):
        path = f"indicators[{i}]"
        d = DescriptionParser(path, findings).description(item)
        if d is not None:
            out.append((path, d))
    return out, findings




# ------------------------------------------------------------------ dump


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def to_dict(d: Description) -> dict[str, Any]:
    """One description as the file's JSON object (canonical key order, absent optionals left out)."""
    raw: dict[str, Any] = {
        "measureId": d.measure_id,
        "versionMajor": d.version_major,
        "versionMinor": d.version_minor,
        "title": d.title,
        "shortTitle": d.short_title,
        "description": d.description,
        "purpose": d.purpose,
        "sources": list(d.sources),
        "direction": d.direction.value,
        "indicatorType": d.indicator_type.value,
        "unitType": d.unit_type.value,
        "measureKind": d.measure_kind.value,
        "unit": d.unit,
        "numerator": d.numerator,
        "denominator": d.denominator,
        "valueDefinition": d.value_definition,
        "inclusionCriteria": d.inclusion_criteria,
        "exclusionCriteria": d.exclusion_criteria,
        "measuringFrequencies": [f.value for f in d.frequencies],
        "organisationalLevels": [lv.value for lv in d.levels],
        "validFrom": d.valid_from.isoformat(),
        "validTo": d.valid_to.isoformat() if d.valid_to else None,
        "owner": _person(d.owner),
        "authors": [_person(a) for a in d.authors] or None,
        "groups": list(d.groups) or None,
        "keywords": list(d.keywords) or None,
        "targets": [_target(t) for t in d.targets] or None,
        "valueRange": _range(d.value_range),
        "parentMeasureId": d.parent_measure_id,
        "sex": d.sex.value if d.sex else None,
        "displayThreshold": d.display_threshold,
        "regionAssignment": d.region_assignment.value if d.region_assignment else None,
        "texts": {k: d.texts[k] for k, _ in REQUIRED_TEXTS + OPTIONAL_TEXTS if k in d.texts},
        "unitUcum": d.unit_ucum,
        "targetPopulation": d.target_population,
        "measurePopulation": d.measure_population,
        "authoredAt": d.authored_at.isoformat() if d.authored_at else None,
        "reviewer": _person(d.reviewer) if d.reviewer else None,
        "reportingSystem": _person(d.reporting_system) if d.reporting_system else None,
        "reportingOrganisation": _person(d.reporting_organisation) if d.reporting_organisation else None,
        "regionalIndicator": d.regional_indicator,
        "selections": [_code(c) for c in d.selections] or None,
        "subCategories": [_code(c) for c in d.sub_categories] or None,
        "en": _english(d.en),
    }
    return {k: raw[k] for k in FIELDS if raw[k] is not None}


def _person(p: Person) -> dict[str, Any]:
    return {"hsaId": p.hsa_id, **({"name": p.name} if p.name is not None else {})}


def _code(c: Code) -> dict[str, Any]:
    return {**({"codeSystem": c.system} if c.system is not None else {}), "code": c.code,
            **({"display": c.display} if c.display is not None else {})}


def _english(en: dict[str, str]) -> dict[str, Any] | None:
    out: dict[str, Any] = {k: en[k] for k in TRANSLATABLE if k in en and not k.startswith("texts.")}
    texts = {k[6:]: en[k] for k in TRANSLATABLE if k in en and k.startswith("texts.")}
    if texts:
        out["texts"] = texts
    return out or None


def _target(t: Target) -> dict[str, Any]:
    out: dict[str, Any] = {"level": t.level.value, "organisation": t.organisation, "value": _num(t.value), "validFrom": t.valid_from.isoformat()}
    if t.unit is not None:
        out["unit"] = t.unit
    if t.valid_to is not None:
        out["validTo"] = t.valid_to.isoformat()
    if t.responsible is not None:
        out["responsible"] = t.responsible
    return out


def _range(r: ValueRange | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {k: _num(v) for k, v in (("min", r.minimum), ("max", r.maximum)) if v is not None}


def document(descriptions: list[Description]) -> dict[str, Any]:
    return {"format": FORMAT, "indicators": [to_dict(d) for d in descriptions]}


def dumps(descriptions: list[Description]) -> str:
    """The canonical file text: UTF-8 JSON, two-space indent, Swedish letters as they are, final newline."""
    return json.dumps(document(descriptions), ensure_ascii=False, indent=2) + "\n"


def from_stored(obj: Any, measure_id: str, version: tuple[int, int]) -> tuple[Description, bool]:
    """A stored document as the model, and whether it is complete (valid in the file format). It is read
    leniently: a document written by hand or before validation existed still shows what it says (a field
    that cannot be read is left empty or None). The identity comes from the row, as the store keys it."""
    parser = DescriptionParser("$", [], lenient=True)
    d = parser.description(obj if isinstance(obj, dict) else {})
    assert d is not None
    return replace(d, measure_id=measure_id, version_major=version[0], version_minor=version[1]), parser.ok


def from_dict(obj: dict[str, Any]) -> Description:
    """One stored description document back to the model (stored documents were validated on import)."""
    ds, findings = parse({"format": FORMAT, "indicators": [obj]})
    if findings or not ds:
        raise ValueError("stored description is not valid: " + "; ".join(str(f) for f in findings))
    return ds[0]


__all__ = ["FIELDS", "FORMAT", "REQUIRED_FIELDS", "MAX_BYTES", "document", "dumps", "from_dict", "from_stored", "loads", "loads_entries", "parse", "parse_entries", "to_dict"]
