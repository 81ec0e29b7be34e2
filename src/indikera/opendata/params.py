"""Parsing and checking query parameters. Every rejection is a 400 problem naming the parameter."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from .problems import bad_parameter

MAX_LIST = 200  # values of one list parameter
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000  # items per page
MAX_VALUE_LEN = 200
_ISO_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
_MEASURE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_HSA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_CODE = {"lan": re.compile(r"^\d{2}$"), "kommun": re.compile(r"^\d{4}$"), "sjukhus": re.compile(r"^[A-Za-z0-9._-]{1,64}$")}


def split_list(name: str, values: Iterable[str] | None) -> list[str]:
    """Repeated (``?x=a&x=b``) and comma-separated (``?x=a,b``) values, trimmed, duplicates dropped."""
    out: list[str] = []
    for raw in values or ():
        for part in raw.split(","):
            part = part.strip()
            if not part:
                # ``hsaId=`` from an app's empty variable must not widen the query to every unit (issue #15)
                raise blank(name)
            if len(part) > MAX_VALUE_LEN:
                raise bad_parameter(name, f"Värdet i {name} är för långt.", f"A value of {name} is too long.")
            if part not in out:
                out.append(part)
    if len(out) > MAX_LIST:
        raise bad_parameter(name, f"Högst {MAX_LIST} värden i {name}.", f"At most {MAX_LIST} values in {name}.")
    return out


def blank(name: str):
    return bad_parameter(name, f"{name} är tomt: utelämna parametern eller ange ett värde.",
                         f"{name} is empty: leave the parameter out or give a value.")


def measure_ids(values: Iterable[str] | None, name: str = "measureId") -> list[str]:
    ids = split_list(name, values)
    for v in ids:
        if not _MEASURE_ID.match(v):
            raise bad_parameter(name, f"{v[:40]!r} är inte ett giltigt indikator-id.", f"{v[:40]!r} is not a valid measure id.")
    return ids


def hsa_ids(values: Iterable[str] | None) -> list[str]:
    ids = split_list("hsaId", values)
    for v in ids:
        if not _HSA_ID.match(v):
            raise bad_parameter("hsaId", f"{v[:40]!r} är inte ett giltigt HSA-id.", f"{v[:40]!r} is not a valid HSA-id.")
    return ids


def codes(kind: str, values: Iterable[str] | None) -> list[str]:
    out = split_list(kind, values)
    for v in out:
        if not _CODE[kind].match(v):
            what = {"lan": "en länskod (två siffror)", "kommun": "en kommunkod (fyra siffror)", "sjukhus": "en sjukhuskod"}[kind]
            what_en = {"lan": "a county code (two digits)", "kommun": "a municipality code (four digits)", "sjukhus": "a hospital code"}[kind]
            raise bad_parameter(kind, f"{v[:40]!r} är inte {what}.", f"{v[:40]!r} is not {what_en}.")
    return out


def choices(name: str, values: Iterable[str] | None, allowed: Iterable[str]) -> list[str]:
    allowed = list(allowed)
    out = split_list(name, values)
    lower = {a.lower(): a for a in allowed}
    result = []
    for v in out:
        if v.lower() not in lower:
            raise bad_parameter(name, f"{v[:40]!r} är inte ett av {', '.join(allowed)}.", f"{v[:40]!r} is not one of {', '.join(allowed)}.")
        result.append(lower[v.lower()])
    return result


def parse_date(name: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` (or the contract's ``YYYYMMDD``)."""
    if value is None:
        return None
    if not value.strip():
        raise blank(name)
    m = _ISO_DATE.match(value.strip())
    if not m:
        raise bad_parameter(name, f"{name} ska vara ett datum ÅÅÅÅ-MM-DD.", f"{name} must be a date YYYY-MM-DD.")
    try:
        d = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise bad_parameter(name, f"{name}: {value[:20]!r} är inget kalenderdatum.", f"{name}: {value[:20]!r} is not a calendar date.") from None
    if not 1900 <= d.year <= 2099:
        raise bad_parameter(name, f"{name} ska ligga mellan åren 1900 och 2099.", f"{name} must lie between the years 1900 and 2099.")
    return d


def parse_timestamp(name: str, value: str | None) -> datetime | None:
    """An RFC 3339 timestamp (or a date, meaning its midnight UTC); no zone means UTC. Returned in UTC."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise blank(name)
    if len(text) > 40:
        raise bad_parameter(name, f"{name} är för långt.", f"{name} is too long.")
    try:
        if _ISO_DATE.match(text):
            d = parse_date(name, text)
            assert d is not None
            ts = datetime.combine(d, time.min, UTC)
        else:
            ts = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_parameter(name, f"{name} ska vara en tidpunkt enligt RFC 3339, t.ex. 2025-01-31T12:00:00Z.",
                            f"{name} must be an RFC 3339 timestamp, e.g. 2025-01-31T12:00:00Z.") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    if not 1900 <= ts.year <= 2200:
        raise bad_parameter(name, f"{name} ligger utanför rimliga år.", f"{name} is outside sensible years.")
    return ts.astimezone(UTC)


def filter_digest(**filters: Any) -> str:
    """A short digest of the filters a cursor was issued for: a cursor only continues the same query."""
    text = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def iso(ts: datetime | None) -> str | None:
    """A stored timestamp as RFC 3339 UTC (SQLite gives naive datetimes that are UTC)."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
