"""Reading one description object of the catalogue JSON format, with field-exact findings.

``DescriptionParser`` turns a decoded JSON object into ``catalog.model.Description`` and records a finding
(code and JSON path) for every field it cannot read; ``jsonformat`` is the file-level API around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

from ..domain.indicators import Frequency, MeasureKind, Sex, UnitType
from ..domain.organisations import OrgType
from .findings import Finding, error
from .model import (
    OPTIONAL_TEXTS,
    REQUIRED_TEXTS,
    TEXT_KEYS,
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


_DATE = re.compile(r"^(19|20)\d\d-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])$")

# Field order of one description in the file (also the order ``dump`` writes).
FIELDS: tuple[str, ...] = (
    "measureId", "versionMajor", "versionMinor", "title", "shortTitle", "description", "purpose", "sources",
    "direction", "indicatorType", "unitType", "measureKind", "unit", "unitUcum", "numerator", "denominator",
    "valueDefinition", "inclusionCriteria", "exclusionCriteria", "targetPopulation", "measurePopulation",
    "measuringFrequencies", "organisationalLevels", "validFrom", "validTo", "authoredAt", "owner", "authors",
    "reviewer", "reportingSystem", "reportingOrganisation", "regionalIndicator", "groups", "keywords",
    "selections", "subCategories", "targets", "valueRange", "parentMeasureId", "sex", "displayThreshold",
    "regionAssignment", "texts", "en",
)
REQUIRED_FIELDS: dict[str, str] = {
    "measureId": "KIK-id",
    "versionMajor": "huvudversion",
    "versionMinor": "delversion",
    "title": "titel",
    "shortTitle": "mått (axeletikett)",
    "description": "beskrivning",
    "purpose": "syfte",
    "sources": "källa",
    "direction": "eftersträvansvärt värde",
    "indicatorType": "typ av indikator",
    "unitType": "enhetstyp",
    "measureKind": "måttyp",
    "measuringFrequencies": "mätfrekvenser",
    "organisationalLevels": "resultatenhetsnivåer",
    "validFrom": "giltig från",
    "owner": "ägare",
    "texts": "texter",
}
TEXT_FIELDS = ("title", "shortTitle", "description", "purpose")  # missing → "" and judged by validation


def check_keys(obj: dict, allowed: tuple[str, ...], path: str, findings: list[Finding], mid: str | None) -> None:
    for k in getattr(obj, "duplicates", []):
        findings.append(error("FORMAT_DUPLICATE_KEY", f"{path}.{k}", mid))
    for k in obj:
        if k not in allowed:
            findings.append(error("FORMAT_UNKNOWN_FIELD", f"{path}.{k}", mid, allowed=", ".join(allowed)))


_TYPE_NAMES = {str: "text", int: "heltal", float: "tal", list: "lista", dict: "objekt", bool: "sant/falskt"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class DescriptionParser:
    """Parses one description, collecting findings instead of stopping at the first problem."""

    def __init__(self, path: str, findings: list[Finding], *, lenient: bool = False) -> None:
        self.path = path
        self.findings = findings
        self.mid: str | None = None
        self.ok = True
        self.lenient = lenient  # build a description from whatever is readable (``from_stored``)

    def fail(self, code: str, field: str, **params: object) -> None:
        self.ok = False
        self.findings.append(error(code, f"{self.path}.{field}" if field else self.path, self.mid, **params))

    def description(self, obj: Any) -> Description | None:
        if not isinstance(obj, dict):
            self.fail("FORMAT_TYPE", "", expected="objekt", actual=_type_name(obj))
            return None
        mid = obj.get("measureId")
        self.mid = mid if isinstance(mid, str) else None
        check_keys(obj, FIELDS, self.path, self.findings, self.mid)
        for key, label in REQUIRED_FIELDS.items():
            if obj.get(key) is None and key not in TEXT_FIELDS:
                self.fail("REQUIRED", key, label=label)
        if any(f.code in ("FORMAT_UNKNOWN_FIELD", "FORMAT_DUPLICATE_KEY") and f.field.startswith(self.path + ".") for f in self.findings):
            self.ok = False
        g = obj.get
        values = dict(
            measure_id=self.string(g("measureId"), "measureId"),
            version_major=self.integer(g("versionMajor"), "versionMajor"),
            version_minor=self.integer(g("versionMinor"), "versionMinor"),
            title=self.string(g("title", ""), "title"),
            short_title=self.string(g("shortTitle", ""), "shortTitle"),
            description=self.string(g("description", ""), "description"),
            purpose=self.string(g("purpose", ""), "purpose"),
            sources=self.strings(g("sources"), "sources"),
            direction=self.enum(Direction, g("direction"), "direction"),
            indicator_type=self.enum(IndicatorType, g("indicatorType"), "indicatorType"),
            unit_type=self.enum(UnitType, g("unitType"), "unitType"),
            measure_kind=self.enum(MeasureKind, g("measureKind"), "measureKind"),
            unit=self.string(g("unit"), "unit"),
            numerator=self.string(g("numerator"), "numerator"),
            denominator=self.string(g("denominator"), "denominator"),
            value_definition=self.string(g("valueDefinition"), "valueDefinition"),
            inclusion_criteria=self.string(g("inclusionCriteria"), "inclusionCriteria"),
            exclusion_criteria=self.string(g("exclusionCriteria"), "exclusionCriteria"),
            frequencies=self.enums(Frequency, g("measuringFrequencies"), "measuringFrequencies"),
            levels=self.enums(OrgType, g("organisationalLevels"), "organisationalLevels"),
            valid_from=self.date(g("validFrom"), "validFrom"),
            valid_to=self.date(g("validTo"), "validTo"),
            owner=self.person(g("owner"), "owner"),
            authors=self.items(g("authors"), "authors", self.person),
            groups=self.strings(g("groups"), "groups") or (),
            keywords=self.strings(g("keywords"), "keywords") or (),
            targets=self.items(g("targets"), "targets", self.target),
            value_range=self.value_range(g("valueRange"), "valueRange"),
            parent_measure_id=self.string(g("parentMeasureId"), "parentMeasureId"),
            sex=self.enum(Sex, g("sex"), "sex"),
            display_threshold=self.integer(g("displayThreshold"), "displayThreshold"),
            region_assignment=self.enum(RegionAssignment, g("regionAssignment"), "regionAssignment"),
            texts=self.texts(g("texts"), "texts"),
            target_population=self.string(g("targetPopulation"), "targetPopulation"),
            measure_population=self.string(g("measurePopulation"), "measurePopulation"),
            regional_indicator=self.boolean(g("regionalIndicator"), "regionalIndicator"),
            authored_at=self.date(g("authoredAt"), "authoredAt"),
            reviewer=self.person(g("reviewer"), "reviewer"),
            selections=self.items(g("selections"), "selections", self.code),
            sub_categories=self.items(g("subCategories"), "subCategories", self.code),
            reporting_system=self.person(g("reportingSystem"), "reportingSystem"),
            reporting_organisation=self.person(g("reportingOrganisation"), "reportingOrganisation"),
            unit_ucum=self.string(g("unitUcum"), "unitUcum"),
            en=self.english(g("en"), "en"),
        )
        if self.lenient:
            for key in ("title", "short_title", "description", "purpose"):
                values[key] = values[key] or ""
            for key in ("sources", "frequencies", "levels"):
                values[key] = tuple(v for v in values[key] or () if v is not None)
            values["authors"] = tuple(a for a in values["authors"] if a is not None)
            values["targets"] = tuple(t for t in values["targets"] if t is not None and t.value is not None)
            values["texts"] = {k: v for k, v in values["texts"].items() if v is not None}
            values["en"] = {k: v for k, v in values["en"].items() if isinstance(v, str)}
            for key in ("selections", "sub_categories"):
                values[key] = tuple(c for c in values[key] if c is not None and isinstance(c.code, str))
            return Description(**values)
        if not self.ok:
            return None
        return Description(**values)

    # --- typed readers: None stays None (absence is judged by REQUIRED above or by validation) ---
    def string(self, value: Any, field: str) -> Any:
        if value is None or isinstance(value, str):
            return value
        self.fail("FORMAT_TYPE", field, expected="text", actual=_type_name(value))
        return None

    def integer(self, value: Any, field: str) -> Any:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.fail("FORMAT_TYPE", field, expected="heltal", actual=_type_name(value))
        return None

    def boolean(self, value: Any, field: str) -> Any:
        if value is None or isinstance(value, bool):
            return value
        self.fail("FORMAT_TYPE", field, expected="sant/falskt", actual=_type_name(value))
        return None

    def number(self, value: Any, field: str) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value or value in (float("inf"), float("-inf")):
                self.fail("FORMAT_TYPE", field, expected="ändligt tal", actual=str(value))
                return None
            return float(value)
        if value is not None:
            self.fail("FORMAT_TYPE", field, expected="tal", actual=_type_name(value))
        return None

    def enum(self, cls: type[Enum], value: Any, field: str) -> Any:
        if value is None:
            return None
        try:
            return cls(value)
        except (ValueError, TypeError):
            self.fail("FORMAT_VALUE", field, value=json.dumps(value, ensure_ascii=False)[:40],
                      allowed=", ".join(str(m.value) for m in cls))
            return None

    def date(self, value: Any, field: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, str) and _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail("FORMAT_DATE", field, value=json.dumps(value, ensure_ascii=False)[:40])
        return None

    def listed(self, value: Any, field: str) -> list | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail("FORMAT_TYPE", field, expected="lista", actual=_type_name(value))
            return None
        return value

    def strings(self, value: Any, field: str) -> tuple[str, ...] | None:
        items = self.listed(value, field)
        if items is None:
            return None
        return tuple(self.string(v, f"{field}[{i}]") for i, v in enumerate(items))

    def enums(self, cls: type[Enum], value: Any, field: str) -> tuple | None:
        items = self.listed(value, field)
        if items is None:
            return None
        return tuple(self.enum(cls, v, f"{field}[{i}]") for i, v in enumerate(items))

    def items(self, value: Any, field: str, read: Callable[[Any, str], Any]) -> tuple:
        items = self.listed(value, field)
        return () if items is None else tuple(read(v, f"{field}[{i}]") for i, v in enumerate(items))

    def obj(self, value: Any, field: str, allowed: tuple[str, ...]) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail("FORMAT_TYPE", field, expected="objekt", actual=_type_name(value))
            return None
        before = len(self.findings)
        check_keys(value, allowed, f"{self.path}.{field}", self.findings, self.mid)
        if len(self.findings) > before:
            self.ok = False
        return value

    def person(self, value: Any, field: str) -> Person | None:
        o = self.obj(value, field, ("hsaId", "name"))
        if o is None:
            return None
        if o.get("hsaId") is None:
            self.fail("REQUIRED", f"{field}.hsaId", label="HSA-id")
        return Person(self.string(o.get("hsaId"), f"{field}.hsaId"), self.string(o.get("name"), f"{field}.name"))

    def target(self, value: Any, field: str) -> Target | None:
        o = self.obj(value, field, ("level", "organisation", "value", "unit", "validFrom", "validTo", "responsible"))
        if o is None:
            return None
        for key, label in (("level", "målvärdeskod"), ("organisation", "organisation"), ("value", "målvärde"), ("validFrom", "giltig från")):
            if o.get(key) is None:
                self.fail("REQUIRED", f"{field}.{key}", label=label)
        return Target(
            self.enum(TargetLevel, o.get("level"), f"{field}.level"),
            self.string(o.get("organisation"), f"{field}.organisation"),
            self.number(o.get("value"), f"{field}.value"),
            self.date(o.get("validFrom"), f"{field}.validFrom"),
            self.date(o.get("validTo"), f"{field}.validTo"),
            self.string(o.get("responsible"), f"{field}.responsible"),
            self.string(o.get("unit"), f"{field}.unit"),
        )

    def code(self, value: Any, field: str) -> Code | None:
        o = self.obj(value, field, ("codeSystem", "code", "display"))
        if o is None:
            return None
        if o.get("code") is None:
            self.fail("REQUIRED", f"{field}.code", label="kod")
        return Code(self.string(o.get("code"), f"{field}.code"), self.string(o.get("codeSystem"), f"{field}.codeSystem"),
                    self.string(o.get("display"), f"{field}.display"))

    def english(self, value: Any, field: str) -> dict[str, str]:
        """``en``: the English texts, under the same names as the Swedish ones (``texts`` nested)."""
        top = tuple(k for k in TRANSLATABLE if not k.startswith("texts.")) + ("texts",)
        o = self.obj(value, field, top) or {}
        out: dict[str, str] = {}
        for key in top[:-1]:
            if o.get(key) is not None:
                out[key] = self.string(o.get(key), f"{field}.{key}")
        texts = self.obj(o.get("texts"), f"{field}.texts", TEXT_KEYS) or {}
        for key in TEXT_KEYS:
            if texts.get(key) is not None:
                out[f"texts.{key}"] = self.string(texts.get(key), f"{field}.texts.{key}")
        return out

    def value_range(self, value: Any, field: str) -> ValueRange | None:
        o = self.obj(value, field, ("min", "max"))
        if o is None:
            return None
        return ValueRange(self.number(o.get("min"), f"{field}.min"), self.number(o.get("max"), f"{field}.max"))

    def texts(self, value: Any, field: str) -> dict[str, str]:
        keys = tuple(k for k, _ in REQUIRED_TEXTS + OPTIONAL_TEXTS)
        o = self.obj(value, field, keys) or {}
        out: dict[str, str] = {}
        for key, _ in REQUIRED_TEXTS:
            out[key] = self.string(o.get(key), f"{field}.{key}") or ""  # missing → "" → TEXT_EMPTY
        for key, _ in OPTIONAL_TEXTS:
            if o.get(key) is not None:
                out[key] = self.string(o.get(key), f"{field}.{key}")
        return out
