"""Open indicator descriptions: the ``indicators`` row, enriched by the latest catalogue description.

A description (``indicator_descriptions``, written by the catalogue) is optional: without one the indicator
is still described from its row, and the texts are ``null``. Descriptions come typed from the catalogue's one
reader (``catalog.store.description_versions``, held by the view); the stored document is also served as is.
"""

from __future__ import annotations

import unicodedata
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from ..catalog.localize import in_language, localized, wants_english
from ..catalog.model import TEXT_KEYS, Description
from .params import iso
from .state import IndicatorRow, View

UNIT_TYPES = ("Andel", "Dagar", "Median", "Medelvärde", "Antal")
FREQUENCIES = ("year", "half-year", "quarter", "month", "rolling-12-months")
LEVELS = ("Land", "Lan", "Kommun", "Sjukhus", "Vardenhet", "Sjukvardsregion")
INDICATOR_TYPES = ("struktur", "process", "resultat")
SEXES = ("K", "M", "T")  # T: total (not a sex sub-measure), as Kolada uses it


def _strings_of(value: Any) -> list[str]:
    """Every text in a description (enums and dates as written in the document), for free-text search."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Enum):
        return [str(value.value)]
    if isinstance(value, date):
        return [value.isoformat()]
    if is_dataclass(value):
        return [s for f in fields(value) for s in _strings_of(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_of(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings_of(v)]
    return []


def _latest(view: View, ind: IndicatorRow) -> Description | None:
    stored = view.latest_description(ind.measure_id)
    return stored.description if stored else None


PERSONAL_KEYS = ("authors", "reviewer")  # names and HSA-ids of people: personal data, shown only when configured


def open_document(document: dict[str, Any] | None, show_authors: bool = False) -> dict[str, Any] | None:
    """A stored description document as open data shows it: without the authors unless configured
    (``opendata_show_authors``)."""
    if not document or show_authors:
        return document or None
    return {k: v for k, v in document.items() if k not in PERSONAL_KEYS}


def text_languages(d: Description | None, lang: str | None) -> dict[str, str]:
    """The language each shown text is really in (``en`` where English is written and asked for, else ``sv``)."""
    return {path: t["lang"] for path, t in localized(d, lang).items()} if d else {}


def describe(view: View, ind: IndicatorRow, base: str, *, show_authors: bool = False, lang: str | None = None) -> dict[str, Any]:
    latest = view.latest_description(ind.measure_id)
    d = latest.description if latest else None
    languages = text_languages(d, lang)
    if d is not None:
        d = in_language(d, lang)  # English texts where written and asked for; the Swedish elsewhere
    parent_open = ind.parent_measure_id if ind.parent_measure_id in view.by_measure else None
    subs = sorted(
        (view.indicators[i] for i in view.open_ids if view.indicators[i].parent_measure_id == ind.measure_id),
        key=lambda r: r.measure_id,
    )
    out: dict[str, Any] = {
        "measureId": ind.measure_id,
        "version": ind.version,
        "descriptionVersion": d.version_text if d else None,
        "title": d.title if d is not None and languages.get("title") == "en" else ind.title,
        "shortTitle": (d.short_title or None) if d else None,
        "description": (d.description or None) if d else None,
        "purpose": (d.purpose or None) if d else None,
        "unitType": ind.unit_type,
        "measureKind": ind.kind,
        "frequency": ind.frequency,
        "organisationalLevels": list(ind.levels),
        "indicatorType": d.indicator_type.value if d and d.indicator_type else None,
        "keywords": list(d.keywords) if d else [],
        "sex": ind.sex,
        "parentMeasureId": parent_open,
        "subMeasures": [{"measureId": s.measure_id, "sex": s.sex} for s in subs],
        "displayThreshold": ind.display_threshold,
        "texts": {name: (d.texts.get(name) or None) if d else None for name in TEXT_KEYS},
        "descriptionUpdatedAt": iso(latest.created_at) if latest else None,
        "openSince": iso(view.opened_at.get(ind.id)),
        "document": open_document(latest.document, show_authors) if latest else None,
        "textLanguage": _overall(languages, lang),
        "textLanguages": languages,
        "links": {
            "self": f"{base}/indicators/{ind.measure_id}",
            "results": f"{base}/results?measureId={ind.measure_id}",
            "resultsCsv": f"{base}/results.csv?measureId={ind.measure_id}",
        },
    }
    return out


def _overall(languages: dict[str, str], lang: str | None) -> str:
    """``en`` when every shown text is English, ``sv`` when none is (or Swedish was asked for), else ``mixed``."""
    found = set(languages.values())
    if not wants_english(lang) or found <= {"sv"}:
        return "sv"
    return "en" if found == {"en"} else "mixed"


def changed_at(view: View, ind: IndicatorRow) -> datetime | None:
    """When the public description last changed: a new description version, or the indicator being opened."""
    stamps = [s for s in (view.opened_at.get(ind.id),) if s is not None]
    latest = view.latest_description(ind.measure_id)
    if latest:
        stamps.append(latest.created_at)
    return max(stamps) if stamps else None


def _haystack(view: View, ind: IndicatorRow) -> str:
    d = _latest(view, ind)
    # The authors are left out of what search sees: a search must not find what the document hides.
    texts = [s for f in fields(d) if f.name not in PERSONAL_KEYS for s in _strings_of(getattr(d, f.name))] if d else []
    return fold("\n".join([ind.measure_id, ind.title] + texts))


def fold(text: str) -> str:
    """Text as search compares it (open-data API and UI): case-folded in NFC on both sides, so a decomposed
    "Vård" finds "Vård"."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def matches(view: View, ind: IndicatorRow, *, q: str | None, keywords: list[str], unit_types: list[str],
            frequencies: list[str], levels: list[str], indicator_types: list[str], sexes: list[str],
            updated_since: datetime | None) -> bool:
    if unit_types and ind.unit_type not in unit_types:
        return False
    d = _latest(view, ind)
    if frequencies and not set(frequencies) & ({ind.frequency} | {f.value for f in (d.frequencies if d else ())}):
        return False
    if levels and not set(levels) & set(ind.levels):
        return False
    if sexes and (ind.sex or "T") not in sexes:
        return False
    if indicator_types:
        itype = d.indicator_type.value if d and d.indicator_type else None
        if itype is None or itype.casefold() not in {t.casefold() for t in indicator_types}:
            return False
    if keywords:
        have = {k.casefold() for k in (d.keywords if d else ())}
        if not {k.casefold() for k in keywords} <= have:
            return False
    if q and not all(word in _haystack(view, ind) for word in fold(q).split()):
        return False
    if updated_since is not None:
        when = changed_at(view, ind)
        if when is None or when <= updated_since:
            return False
    return True
