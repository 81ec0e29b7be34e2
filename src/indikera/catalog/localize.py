"""A description in the reader's language: the English texts (``Description.en``) where they exist, else the
Swedish, and which language each field is really in, so a channel can say so (``"lang": "sv"``). Pure.

Every channel that shows description texts (open data, DCAT, the UI) reads them through here:
``in_language(d, "en")`` gives a description to render as usual; ``localized(d, "en")`` gives each text with
its language, for documents that state it per field.
"""

from __future__ import annotations

from dataclasses import replace

from .model import TRANSLATABLE, Description

_ATTRS = {  # JSON path → Description attribute (the ``texts.*`` ones live in ``Description.texts``)
    "title": "title", "shortTitle": "short_title", "description": "description", "purpose": "purpose",
    "unit": "unit", "numerator": "numerator", "denominator": "denominator", "valueDefinition": "value_definition",
    "inclusionCriteria": "inclusion_criteria", "exclusionCriteria": "exclusion_criteria",
    "targetPopulation": "target_population", "measurePopulation": "measure_population",
}


def wants_english(lang: str | None) -> bool:
    return bool(lang) and lang.lower().startswith("en")


def swedish(d: Description, path: str) -> str | None:
    if path.startswith("texts."):
        return d.texts.get(path[6:])
    return getattr(d, _ATTRS[path])


def localized(d: Description, lang: str | None) -> dict[str, dict[str, str]]:
    """Every text field the description has, as ``{path: {"text": …, "lang": "en" | "sv"}}``: English where
    asked for and written, else the Swedish (marked ``sv``)."""
    out: dict[str, dict[str, str]] = {}
    for path in TRANSLATABLE:
        english = d.en.get(path) if wants_english(lang) else None
        if english and english.strip():
            out[path] = {"text": english, "lang": "en"}
        elif (sv := swedish(d, path)) is not None and sv != "":
            out[path] = {"text": sv, "lang": "sv"}
    return out


def in_language(d: Description, lang: str | None) -> Description:
    """``d`` with its texts in ``lang`` where written (English), the Swedish elsewhere."""
    if not wants_english(lang) or not d.en:
        return d
    texts = dict(d.texts)
    values: dict[str, object] = {}
    for path, english in d.en.items():
        if not english.strip():
            continue
        if path.startswith("texts."):
            texts[path[6:]] = english
        elif path in _ATTRS:
            values[_ATTRS[path]] = english
    return replace(d, texts=texts, **values)


def missing_english(d: Description) -> list[str]:
    """The text fields the description has in Swedish but not in English (for editors)."""
    return [p for p in TRANSLATABLE if swedish(d, p) and not (d.en.get(p) or "").strip()]


__all__ = ["in_language", "localized", "missing_english", "swedish", "wants_english"]
