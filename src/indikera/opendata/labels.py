"""Display labels of the API's codes, in Swedish (default) and English (``lang=en``, issue #15).

The codes (``Lan``, ``Andel``, ``year``, ``K``) stay the same in every language: apps filter and join on them;
the labels are for showing. The catalogue's own texts (titles, descriptions) exist in Swedish only, so with
``lang=en`` they stay Swedish and the indicator says so in ``textLanguage``.
"""

from __future__ import annotations

from typing import Any

from .problems import bad_parameter

LANGS = ("sv", "en")
_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "organisationType": {
        "Land": ("Riket", "Sweden (national)"), "Lan": ("Län/region", "County/region"), "Kommun": ("Kommun", "Municipality"),
        "Sjukhus": ("Sjukhus", "Hospital"), "Vardenhet": ("Vårdenhet", "Care unit"),
        "Sjukvardsregion": ("Sjukvårdsregion", "Healthcare region"),
    },
    "unitType": {
        "Andel": ("Andel", "Proportion"), "Dagar": ("Dagar", "Days"), "Median": ("Median", "Median"),
        "Medelvärde": ("Medelvärde", "Mean"), "Antal": ("Antal", "Count"),
    },
    "frequency": {
        "year": ("Helår", "Year"), "half-year": ("Halvår", "Half-year"), "quarter": ("Kvartal", "Quarter"),
        "month": ("Månad", "Month"), "rolling-12-months": ("Rullande 12 månader", "Rolling 12 months"),
    },
    "sex": {"K": ("Kvinnor", "Women"), "M": ("Män", "Men"), "T": ("Totalt", "Total")},
    "indicatorType": {"struktur": ("Struktur", "Structure"), "process": ("Process", "Process"), "resultat": ("Resultat", "Outcome")},
    "measureKind": {
        "proportion": ("Andel", "Proportion"), "continuous": ("Kontinuerligt värde", "Continuous value"),
        "cohort": ("Antal", "Count"), "missing": ("Saknas", "Missing"),
    },
}


def parse_lang(value: str | None) -> str:
    if value is None:
        return "sv"
    if value not in LANGS:
        raise bad_parameter("lang", "lang ska vara sv eller en.", "lang must be sv or en.")
    return value


def label(kind: str, code: str | None, lang: str) -> str | None:
    """The label of ``code``; the code itself when it has none (a new code never breaks an answer)."""
    if code is None:
        return None
    pair = _LABELS[kind].get(code)
    return (pair[1] if lang == "en" else pair[0]) if pair else code


def indicator_labels(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """``labels`` of an indicator item from ``descriptions.describe``."""
    return {
        "unitType": label("unitType", item["unitType"], lang),
        "measureKind": label("measureKind", item["measureKind"], lang),
        "frequency": label("frequency", item["frequency"], lang),
        "organisationalLevels": [label("organisationType", x, lang) for x in item["organisationalLevels"]],
        "indicatorType": label("indicatorType", item["indicatorType"], lang),
        "sex": label("sex", item["sex"] or "T", lang),
    }
