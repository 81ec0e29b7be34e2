"""The JSON results format (``indikera-results/1``, schema ``ingest/schema/results.schema.json``).

The document is parsed element by element (``json.JSONDecoder.raw_decode``) so that each row knows the line
its object starts on, and rows are handed on one at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from .problems import Fatal, Problems
from .sources import COLUMNS, EXTRA_JSON_COLUMNS, JSON_FORMAT, KEEP, REPLACE, REQUIRED, Directive, Table

_WS = re.compile(r"[ \t\n\r]*")


def read_json(path: Path, problems: Problems, max_bytes: int) -> Table:
    """Parse the JSON document element by element so that each row knows the line it starts on."""
    size = path.stat().st_size
    if size > max_bytes:
        raise problems.fatal(None, None, "TOO_LARGE", f"JSON-filen är större än {max_bytes} byte – dela upp den",
                             f"the JSON file is larger than {max_bytes} bytes; split it")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise problems.fatal(None, None, "BINARY", "filen innehåller binära data – är det verkligen JSON?",
                             "the file contains binary data; is it really JSON?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problems.fatal(None, None, "ENCODING", "JSON måste vara UTF-8", "JSON must be UTF-8") from None
    dec = json.JSONDecoder()

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        return _WS.match(text, pos).end()  # type: ignore[union-attr]

    def bad(pos: int, sv: str, en: str) -> Fatal:
        return problems.fatal(line_of(pos), None, "JSON_SYNTAX", sv, en)

    pos = skip(0)
    if not text.startswith("{", pos):
        raise bad(pos, "dokumentet måste vara ett JSON-objekt", "the document must be a JSON object")
    pos = skip(pos + 1)
    meta: dict[str, object] = {}
    rows_span: tuple[int, int] | None = None
    while not text.startswith("}", pos):
        try:
            key, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise bad(exc.pos, f"ogiltig JSON: {exc.msg}", f"invalid JSON: {exc.msg}") from None
        pos = skip(pos)
        if not text.startswith(":", pos):
            raise bad(pos, "kolon (:) saknas", "':' expected")
        pos = skip(pos + 1)
        if key == "rows":
            if not text.startswith("[", pos):
                raise bad(pos, "rows måste vara en lista", "rows must be an array")
            start = pos
            depth_end = _skip_value(text, pos, dec, bad)
            rows_span = (start, depth_end)
            pos = depth_end
        else:
            try:
                meta[str(key)], pos = dec.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise bad(exc.pos, f"ogiltig JSON: {exc.msg}", f"invalid JSON: {exc.msg}") from None
        pos = skip(pos)
        if text.startswith(",", pos):
            pos = skip(pos + 1)
        elif not text.startswith("}", pos):
            raise bad(pos, "komma eller } saknas", "',' or '}' expected")
    if skip(pos + 1) != len(text):
        raise bad(skip(pos + 1), "text efter dokumentets slut", "text after the end of the document")
    for key in meta:
        if key not in ("format", "registry", "mode", "$schema"):
            problems.add(1, key, "UNKNOWN_FIELD", f"okänt fält {key!r}", f"unknown field {key!r}")
    if meta.get("format") != JSON_FORMAT:
        problems.add(1, "format", "FORMAT", f"format måste vara {JSON_FORMAT!r}", f"format must be {JSON_FORMAT!r}")
    mode = meta.get("mode", KEEP)
    if mode not in (KEEP, REPLACE):
        problems.add(1, "mode", "DIRECTIVE", "mode måste vara keep eller replace", "mode must be keep or replace")
    reg = meta.get("registry")
    registry = None
    if not (isinstance(reg, dict) and isinstance(reg.get("hsaId"), str) and isinstance(reg.get("name"), str)
            and reg["hsaId"].strip() and reg["name"].strip() and set(reg) <= {"hsaId", "name"}):
        problems.add(1, "registry", "REGISTRY", "registry måste vara {\"hsaId\": …, \"name\": …}",
                     "registry must be {\"hsaId\": …, \"name\": …}")
    else:
        registry = (reg["hsaId"].strip(), reg["name"].strip())
    if rows_span is None:
        problems.add(1, "rows", "MISSING_COLUMN", "rows saknas", "rows is missing")
    if problems:
        raise Fatal("JSON_HEADER")
    assert rows_span is not None
    directive = Directive(str(mode), registry[0] if registry and mode == REPLACE else None, 1)
    allowed = {c.lower(): c for c in (*COLUMNS, *EXTRA_JSON_COLUMNS)}

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        pos = skip(rows_span[0] + 1)
        while not text.startswith("]", pos):
            line = line_of(pos)
            item, pos = dec.raw_decode(text, pos)  # already known to parse
            pos = skip(pos)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
            if not isinstance(item, dict):
                problems.add(line, None, "ROW_TYPE", "varje rad måste vara ett JSON-objekt", "each row must be an object")
                continue
            cells: dict[str, str] = {}
            ok = True
            for key, value in item.items():
                name = allowed.get(str(key).lower())
                if name is None:
                    problems.add(line, str(key), "UNKNOWN_COLUMN", f"okänt fält {key!r}", f"unknown field {key!r}")
                    ok = False
                    continue
                if value is None:
                    cells[name] = ""
                elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    problems.add(line, name, "TYPE", "värdet måste vara text, tal eller null",
                                 "the value must be a string, number or null")
                    ok = False
                elif isinstance(value, float):
                    cells[name] = repr(value)
                else:
                    cells[name] = str(value).strip()
            if registry:
                cells.setdefault("RegisterHSAID", registry[0])
                cells.setdefault("RegisterNamn", registry[1])
            cells.setdefault("CountryName", "Riket")
            for req in REQUIRED:
                if req not in cells:
                    problems.add(line, req, "MISSING_COLUMN", f"fältet {req} saknas", f"field {req} is missing")
                    ok = False
            if ok:
                yield line, {c: cells.get(c, "") for c in (*COLUMNS, *EXTRA_JSON_COLUMNS)}

    return Table("json", rows(), directive, registry=registry)


def _skip_value(text: str, pos: int, dec: json.JSONDecoder, bad) -> int:
    """End position of the array starting at ``pos``, checking every element parses."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        return pos + 1
    while True:
        try:
            _, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise bad(exc.pos, f"ogiltig JSON: {exc.msg}", f"invalid JSON: {exc.msg}") from None
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", pos):
            return pos + 1
        else:
            raise bad(pos, "komma eller ] saknas", "',' or ']' expected")
