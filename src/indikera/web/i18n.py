"""User-facing texts: Swedish first, English available (``?lang=en`` or Accept-Language)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "indikera – kvalitetsindikatorer",
        "intro": "Här publicerar registret sina kvalitetsindikatorer för Vården i siffror, 1177.se och som öppna data.",
        "indicators": "Indikatorer",
        "measurements": "Mätvärden",
        "whats_here": "Det här finns",
        "soap": "Tjänstekontraktet GetQualityIndicators v2 (RIVTA BP 2.1, SOAP)",
        "opendata": "Öppna data (JSON/CSV) och API-dokumentation",
        "dcat": "Datamängdskatalog (DCAT-AP-SE)",
        "health": "Hälsokontroll",
        "preview": "Förhandsgranska indikatorerna",
        "other_language": "In English",
    },
    "en": {
        "title": "indikera – quality indicators",
        "intro": "This registry publishes its quality indicators for Vården i siffror, 1177.se and as open data.",
        "indicators": "Indicators",
        "measurements": "Measurements",
        "whats_here": "What is here",
        "soap": "Service contract GetQualityIndicators v2 (RIVTA BP 2.1, SOAP)",
        "opendata": "Open data (JSON/CSV) and API documentation",
        "dcat": "Dataset catalogue (DCAT-AP-SE)",
        "health": "Health check",
        "preview": "Preview the indicators",
        "other_language": "På svenska",
    },
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in TEXTS:
        return asked
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()[:2]
    return "en" if first == "en" else "sv"


def translator(lang: str) -> Callable[[str], str]:
    table = TEXTS.get(lang, TEXTS["sv"])
    return lambda key: table.get(key, TEXTS["sv"].get(key, key))
