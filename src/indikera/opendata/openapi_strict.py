"""Every constraint the server checks on a single parameter, stated in the OpenAPI document (issue #15:
schemathesis found the document looser than the server, e.g. ``periodFrom=00000000``).

The handlers' own checks (params.py) stay the authority; this states them for clients and generators:
valid calendar dates 1900–2099, RFC 3339 timestamps, the enums, code and id patterns, and "not blank". List
parameters are documented in their repeated form (``?x=a&x=b``), one value per item, at most ``MAX_LIST``;
the comma form (``x=a,b``) is an accepted shorthand. What a schema cannot say — an id that exists only in the
data, an opaque cursor, two parameters that exclude each other — is a 400 problem naming the parameter.
"""

from __future__ import annotations

from typing import Any

from . import descriptions as desc
from .feed import EVENT_TYPES
from .params import MAX_LIST, MAX_VALUE_LEN

# A calendar date 1900-01-01 … 2099-12-31 (YYYY-MM-DD or YYYYMMDD, as parse_date), leap days included.
_Y = r"(19|20)[0-9]{2}"
_LEAP = r"(19(0[48]|[2468][048]|[13579][26])|20(0[048]|[2468][048]|[13579][26]))"
DATE_BODY = (rf"({_Y}-?(0[13578]|1[02])-?(0[1-9]|[12][0-9]|3[01])|{_Y}-?(0[469]|11)-?(0[1-9]|[12][0-9]|30)"
             rf"|{_Y}-?02-?(0[1-9]|1[0-9]|2[0-8])|{_LEAP}-?02-?29)")
DATE_PATTERN = f"^{DATE_BODY}$"
# RFC 3339 (or a date alone: its midnight UTC); no zone means UTC (params.parse_timestamp)
TIMESTAMP_PATTERN = (rf"^({DATE_BODY}|{DATE_BODY.replace('-?', '-')}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]"
                     r"(:[0-5][0-9](\.[0-9]{1,6})?)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)$")
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"  # a character str.strip() keeps: blank values are a 400 (params.blank)
MEASURE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

_ITEM: dict[str, dict[str, Any]] = {
    "measureId": {"pattern": MEASURE_ID},
    "hsaId": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"},
    "lan": {"pattern": r"^[0-9]{2}$"},
    "kommun": {"pattern": r"^[0-9]{4}$"},
    "sjukhus": {"pattern": r"^[A-Za-z0-9._-]{1,64}$"},
    "organisationType": {"enum": list(desc.LEVELS)},
    "level": {"enum": list(desc.LEVELS)},
    "sex": {"enum": list(desc.SEXES)},
    "unitType": {"enum": list(desc.UNIT_TYPES)},
    "frequency": {"enum": list(desc.FREQUENCIES)},
    "indicatorType": {"enum": list(desc.INDICATOR_TYPES)},
    "keyword": {"pattern": rf"^[^,]*{NOT_BLANK}[^,]*$", "maxLength": MAX_VALUE_LEN},
}
_PATH_TYPE = {"/changes": {"enum": list(EVENT_TYPES)}, "/organisations": {"enum": list(desc.LEVELS)}}
_SINGLE: dict[str, dict[str, Any]] = {
    "periodFrom": {"pattern": DATE_PATTERN},
    "periodTo": {"pattern": DATE_PATTERN},
    "updatedSince": {"pattern": TIMESTAMP_PATTERN},
    "since": {"pattern": TIMESTAMP_PATTERN},
    "q": {"pattern": NOT_BLANK, "minLength": 1},
    "parentId": {"pattern": NOT_BLANK, "minLength": 1},
    "cursor": {"pattern": NOT_BLANK, "minLength": 1},
}


def _schema_of(param: dict[str, Any]) -> dict[str, Any]:
    """The parameter's own schema (FastAPI wraps optional ones in anyOf [..., null])."""
    schema = param.get("schema", {})
    for option in schema.get("anyOf", ()):
        if option.get("type") != "null":
            return option
    return schema


def tighten(schema: dict[str, Any]) -> None:
    """Add the server's constraints to every operation's parameters, in place."""
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            for param in op.get("parameters", ()):
                if param.get("in") != "query":
                    continue
                name, s = param["name"], _schema_of(param)
                if s.get("type") == "array":
                    item = _PATH_TYPE.get(path, {}) if name == "type" else _ITEM.get(name, {})
                    s.setdefault("items", {}).update({"minLength": 1, **item})
                    s["maxItems"] = MAX_LIST
                elif name in _SINGLE:
                    s.update(_SINGLE[name])
