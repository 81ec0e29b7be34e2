"""Swedish administrative reference data: län, kommuner and sjukvårdsregioner.

The data lives in semicolon-separated UTF-8 CSV files next to this module
(see README.md for sources and the date they reflect). Each loader reads its
file once and caches the result; the returned dicts are keyed by code.
Treat them as read-only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = [
    "Kommun",
    "Lan",
    "Sjukvardsregion",
    "kommuner",
    "lan",
    "sjukvardsregioner",
]


@dataclass(frozen=True)
class Lan:
    code: str
    name: str
    short_name: str
    region_code: str


@dataclass(frozen=True)
class Kommun:
    code: str
    name: str
    lan_code: str


@dataclass(frozen=True)
class Sjukvardsregion:
    code: str
    name: str
    lan_codes: tuple[str, ...]


def _rows(filename: str) -> list[dict[str, str]]:
    text = files(__name__).joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    return [{k: (v or "").strip() for k, v in row.items()} for row in reader]


@cache
def lan() -> dict[str, Lan]:
    """All 21 län, keyed by 2-digit länskod."""
    return {
        r["code"]: Lan(
            code=r["code"],
            name=r["name"],
            short_name=r["short_name"],
            region_code=r["region_code"],
        )
        for r in _rows("lan.csv")
    }


@cache
def kommuner() -> dict[str, Kommun]:
    """All 290 kommuner, keyed by 4-digit kommunkod."""
    return {
        r["code"]: Kommun(code=r["code"], name=r["name"], lan_code=r["lan_code"])
        for r in _rows("kommuner.csv")
    }


@cache
def sjukvardsregioner() -> dict[str, Sjukvardsregion]:
    """The six sjukvårdsregioner, keyed by local code (e.g. ``SVR-NORRA``)."""
    return {
        r["code"]: Sjukvardsregion(
            code=r["code"],
            name=r["name"],
            lan_codes=tuple(r["lan_codes"].split()),
        )
        for r in _rows("sjukvardsregioner.csv")
    }
