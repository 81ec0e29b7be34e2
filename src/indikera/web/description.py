"""Read a stored catalogue description document into what the indicator page shows.

The document is the catalogue's JSON for one indicator version (``catalog``; texts under ``texts`` keyed
``coverage``, ``dropout``, ``reporting``, ``interpretation``, ``sourcesOfError``). Reading is tolerant:
a missing or odd field shows as "not described" rather than failing the page, because the page must still
show results for an indicator whose description is incomplete or absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The four texts the catalogue requires, then the sources of error: (JSON key, i18n label key).
REQUIRED_TEXTS: tuple[tuple[str, str], ...] = (
    ("coverage", "text_coverage"),
    ("dropout", "text_dropout"),
    ("reporting", "text_reporting"),
    ("interpretation", "text_interpretation"),
    ("sourcesOfError", "text_sources_of_error"),
)
OPTIONAL_TEXTS: tuple[tuple[str, str], ...] = (("interpretationPublic", "text_interpretation_public"),)

_DIRECTIONS = {"high": "direction_high", "högt": "direction_high", "low": "direction_low", "lågt": "direction_low"}


@dataclass(frozen=True)
class TextItem:
    key: str
    label_key: str
    text: str | None  # None: the description does not say


@dataclass(frozen=True)
class TargetItem:
    level: str
    organisation: str
    value: float


@dataclass(frozen=True)
class DescriptionView:
    present: bool  # False: no catalogue description stored; the page falls back to the indicator row
    version: str | None = None
    description: str | None = None
    purpose: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    value_definition: str | None = None
    inclusion: str | None = None
    exclusion: str | None = None
    unit: str | None = None
    direction_key: str | None = None
    indicator_type: str | None = None
    sources: tuple[str, ...] = ()
    texts: tuple[TextItem, ...] = field(default_factory=tuple)
    targets: tuple[TargetItem, ...] = ()


def _text(doc: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, dict):  # a language map {"sv": ..., "en": ...}
            value = value.get("sv") or next((v for v in value.values() if isinstance(v, str)), None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _known(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v.strip())
    return ()


def _targets(value: Any) -> tuple[TargetItem, ...]:
    out = []
    for t in value if isinstance(value, list) else []:
        if isinstance(t, dict) and isinstance(t.get("value"), (int, float)) and not isinstance(t.get("value"), bool):
            out.append(TargetItem(str(t.get("level") or ""), str(t.get("organisation") or "riket"), float(t["value"])))
    return tuple(out)


def read(document: dict[str, Any] | None) -> DescriptionView:
    if not document:
        return DescriptionView(present=False, texts=tuple(TextItem(k, label, None) for k, label in REQUIRED_TEXTS))
    texts_doc = document.get("texts") if isinstance(document.get("texts"), dict) else {}
    texts = [TextItem(k, label, _text(texts_doc, k) or _text(document, k)) for k, label in REQUIRED_TEXTS]
    texts += [TextItem(k, label, t) for k, label in OPTIONAL_TEXTS if (t := _text(texts_doc, k) or _text(document, k))]
    direction = document.get("direction")
    version = document.get("_version")
    if version is None and "versionMajor" in document:
        version = f"{document.get('versionMajor')}.{document.get('versionMinor', 0)}"
    return DescriptionView(
        present=True,
        version=version,
        description=_text(document, "description"),
        purpose=_text(document, "purpose"),
        numerator=_text(document, "numerator"),
        denominator=_text(document, "denominator"),
        value_definition=_text(document, "valueDefinition", "value_definition"),
        inclusion=_text(document, "inclusionCriteria"),
        exclusion=_text(document, "exclusionCriteria"),
        unit=_text(document, "unit"),
        direction_key=_DIRECTIONS.get(direction) if isinstance(direction, str) else None,
        indicator_type=_known(_text(document, "indicatorType", "indicator_type"), ("struktur", "process", "resultat")),
        sources=_strings(document.get("sources")),
        texts=tuple(texts),
        targets=_targets(document.get("targets")),
    )
