"""Open indicator descriptions: the ``indicators`` row, enriched by the latest catalogue description.

A description document (``indicator_descriptions``, written by the catalogue) is optional: without one the
indicator is still described from its row, and the four texts are ``null``. The texts are looked up under the
catalogue's names and a few tolerated spellings, so a document written by hand or by an older export works.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .params import iso
from .state import IndicatorRow, View

# The four texts the catalogue's editors require, and the keys a document may carry them under.
TEXT_KEYS: dict[str, tuple[str, ...]] = {
    "coverage": ("coverage", "coverage_text", "tackningsgrad", "täckningsgrad"),
    "dropout": ("dropout", "dropout_text", "bortfall"),
    "reporting": ("reporting", "reporting_text", "inrapportering", "hur_inrapporteringen_gatt_till"),
    "interpretation": ("interpretation", "interpretation_text", "case_mix", "tolkningsproblem", "tolkning"),
    "sourcesOfError": ("sourcesOfError", "sources_of_error", "felkallor", "felkällor"),
    "interpretationStaff": ("interpretationStaff",),
    "interpretationPublic": ("interpretationPublic",),
}
OTHER_KEYS: dict[str, tuple[str, ...]] = {
    "shortTitle": ("short_title", "shortTitle", "matt", "mått", "axis_label"),
    "description": ("description", "beskrivning"),
    "purpose": ("purpose", "syfte"),
    "indicatorType": ("indicator_type", "indicatorType", "typ_av_indikator"),
    "keywords": ("keywords", "nyckelord"),
    "groups": ("groups", "grupper"),
    "direction": ("direction", "desired_direction", "onskvart_varde"),
    "numerator": ("numerator", "numerator_definition", "taljare"),
    "denominator": ("denominator", "denominator_definition", "namnare"),
}
UNIT_TYPES = ("Andel", "Dagar", "Median", "Medelvärde", "Antal")
FREQUENCIES = ("year", "half-year", "quarter", "month", "rolling-12-months")
LEVELS = ("Land", "Lan", "Kommun", "Sjukhus", "Vardenhet", "Sjukvardsregion")
INDICATOR_TYPES = ("struktur", "process", "resultat")
SEXES = ("K", "M", "T")  # T: total (not a sex sub-measure), as Kolada uses it


def _lookup(doc: dict[str, Any], keys: Iterable[str]) -> Any:
    places = [doc] + [v for k, v in doc.items() if k in ("texts", "texter", "text") and isinstance(v, dict)]
    for place in places:
        for k in keys:
            value = place.get(k)
            if value not in (None, "", [], {}):
                return value
    return None


def _text(value: Any) -> str | dict[str, str] | None:
    """A text is a string, or a {language: string} mapping; anything else is not shown."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return value
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v.get("name") or v.get("code") or "") for v in value
                if isinstance(v, (str, dict))]
    return []


def describe(view: View, ind: IndicatorRow, base: str) -> dict[str, Any]:
    latest = view.latest_description(ind.measure_id)
    doc = latest.document if latest else {}
    parent_open = ind.parent_measure_id if ind.parent_measure_id in view.by_measure else None
    subs = sorted(
        (view.indicators[i] for i in view.open_ids if view.indicators[i].parent_measure_id == ind.measure_id),
        key=lambda r: r.measure_id,
    )
    itype = _lookup(doc, OTHER_KEYS["indicatorType"])
    out: dict[str, Any] = {
        "measureId": ind.measure_id,
        "version": ind.version,
        "descriptionVersion": f"{latest.major}.{latest.minor}" if latest else None,
        "title": ind.title,
        "shortTitle": _text(_lookup(doc, OTHER_KEYS["shortTitle"])),
        "description": _text(_lookup(doc, OTHER_KEYS["description"])),
        "purpose": _text(_lookup(doc, OTHER_KEYS["purpose"])),
        "unitType": ind.unit_type,
        "measureKind": ind.kind,
        "frequency": ind.frequency,
        "organisationalLevels": list(ind.levels),
        "indicatorType": itype if isinstance(itype, str) else None,
        "keywords": _strings(_lookup(doc, OTHER_KEYS["keywords"])),
        "sex": ind.sex,
        "parentMeasureId": parent_open,
        "subMeasures": [{"measureId": s.measure_id, "sex": s.sex} for s in subs],
        "displayThreshold": ind.display_threshold,
        "texts": {name: _text(_lookup(doc, keys)) for name, keys in TEXT_KEYS.items()},
        "descriptionUpdatedAt": iso(latest.created_at) if latest else None,
        "openSince": iso(view.opened_at.get(ind.id)),
        "document": doc or None,
        "links": {
            "self": f"{base}/indicators/{ind.measure_id}",
            "results": f"{base}/results?measureId={ind.measure_id}",
            "resultsCsv": f"{base}/results.csv?measureId={ind.measure_id}",
        },
    }
    return out


def changed_at(view: View, ind: IndicatorRow) -> datetime | None:
    """When the public description last changed: a new description version, or the indicator being opened."""
    stamps = [s for s in (view.opened_at.get(ind.id),) if s is not None]
    latest = view.latest_description(ind.measure_id)
    if latest:
        stamps.append(latest.created_at)
    return max(stamps) if stamps else None


def _haystack(view: View, ind: IndicatorRow) -> str:
    parts = [ind.measure_id, ind.title]
    latest = view.latest_description(ind.measure_id)
    if latest:
        stack: list[Any] = [latest.document]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return "\n".join(parts).casefold()


def matches(view: View, ind: IndicatorRow, *, q: str | None, keywords: list[str], unit_types: list[str],
            frequencies: list[str], levels: list[str], indicator_types: list[str], sexes: list[str],
            updated_since: datetime | None) -> bool:
    if unit_types and ind.unit_type not in unit_types:
        return False
    latest = view.latest_description(ind.measure_id)
    doc = latest.document if latest else {}
    if frequencies and not set(frequencies) & ({ind.frequency} | set(_strings(doc.get("measuringFrequencies")))):
        return False
    if levels and not set(levels) & set(ind.levels):
        return False
    if sexes and (ind.sex or "T") not in sexes:
        return False
    if indicator_types:
        itype = _lookup(doc, OTHER_KEYS["indicatorType"])
        if not isinstance(itype, str) or itype.casefold() not in {t.casefold() for t in indicator_types}:
            return False
    if keywords:
        have = {k.casefold() for k in _strings(_lookup(doc, OTHER_KEYS["keywords"]))}
        if not {k.casefold() for k in keywords} <= have:
            return False
    if q and not all(word in _haystack(view, ind) for word in q.casefold().split()):
        return False
    if updated_since is not None:
        when = changed_at(view, ind)
        if when is None or when <= updated_since:
            return False
    return True
