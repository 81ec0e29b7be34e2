"""The JSON results format (``indikera-results/1``, schema ``ingest/schema/results.schema.json``).

The document is parsed element by element (``json.JSONDecoder.raw_decode``) so that each row knows the line
its object starts on, and rows are handed on one at a time.

Hostile documents end in a problem with a line, never in a traceback: nesting too deep for the C decoder
(its ``RecursionError``, caught per element) is reported where it passes :data:`MAX_DEPTH` levels, a key
twice in one object (JSON allows it and keeps the last value silently; the catalogue refuses it too) names
the line of the second key, a NUL byte names its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from .problems import Fatal, Problems
from .sources import COLUMNS, EXTRA_JSON_COLUMNS, JSON_FORMAT, KEEP, REPLACE, REQUIRED, Directive, Table

_WS = re.compile(r"[ \t\n\r]*")
MAX_DEPTH = 64  # a results document needs 3 levels (document, rows, row); the SOAP side allows 64 too
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class _Pairs(dict):
    """An object that had a key more than once: ``duplicates`` names the repeated keys."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) == len(pairs):  # the common case costs one dict and one comparison
        return out
    marked = _Pairs(out)
    seen: set[str] = set()
    marked.duplicates = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    return marked


def _too_deep_at(text: str, pos: int) -> int:
    """Where the value starting at ``pos`` first nests deeper than :data:`MAX_DEPTH` (only called after the
    decoder gave up on recursion, so the scan ends early)."""
    depth = 0
    for m in _STRUCTURE.finditer(text, pos):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                break
    return pos


def _duplicate_at(text: str, start: int, end: int, key: str) -> int:
    """Position of the second ``key`` in the object text[start:end] (its start when written with escapes)."""
    hits = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:", text[start:end])]
    return start + hits[1] if len(hits) > 1 else start


def read_json(path: Path, problems: Problems, max_bytes: int) -> Table:
    """Parse the JSON document element by element so that each row knows the line it starts on."""
    size = path.stat().st_size
    if size > max_bytes:
        raise problems.fatal(None, None, "TOO_LARGE", f"JSON-filen är större än {max_bytes} byte – dela upp den",
                             f"the JSON file is larger than {max_bytes} bytes; split it")
    raw = path.read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        col = nul - (raw.rfind(b"\n", 0, nul) + 1) + 1
        raise problems.fatal(line, None, "BINARY", f"filen innehåller binära data (NUL, byte {col} på raden) – är det verkligen JSON?",
                             f"the file contains binary data (NUL, byte {col} of the line); is it really JSON?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problems.fatal(None, None, "ENCODING", "JSON måste vara UTF-8", "JSON must be UTF-8") from None
    dec = json.JSONDecoder(object_pairs_hook=_pairs)

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        return _WS.match(text, pos).end()  # type: ignore[union-attr]

    def bad(pos: int, sv: str, en: str) -> Fatal:
        return problems.fatal(line_of(pos), None, "JSON_SYNTAX", sv, en)

    def too_deep(pos: int) -> Fatal:
        return problems.fatal(line_of(_too_deep_at(text, pos)), None, "JSON_DEPTH",
                              f"JSON-strukturen är nästlad djupare än {MAX_DEPTH} nivåer",
                              f"the JSON nests deeper than {MAX_DEPTH} levels")

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
        if str(key) in meta or (key == "rows" and rows_span is not None):
            problems.add(line_of(pos), str(key), "DUPLICATE_KEY", f"fältet {key!r} förekommer två gånger",
                         f"the field {key!r} occurs twice")
        if key == "rows":
            if not text.startswith("[", pos):
                raise bad(pos, "rows måste vara en lista", "rows must be an array")
            start = pos
            depth_end = _skip_value(text, pos, dec, bad, too_deep)
            rows_span = (start, depth_end)
            pos = depth_end
        else:
            value_at = pos
            try:
                meta[str(key)], pos = dec.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise bad(exc.pos, f"ogiltig JSON: {exc.msg}", f"invalid JSON: {exc.msg}") from None
            except RecursionError:
                raise too_deep(value_at) from None
            for dup in getattr(meta[str(key)], "duplicates", ()):
                problems.add(line_of(_duplicate_at(text, value_at, pos, dup)), f"{key}.{dup}", "DUPLICATE_KEY",
                             f"fältet {dup!r} förekommer två gånger i samma objekt", f"the field {dup!r} occurs twice in one object")
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
            item_at = pos
            item, pos = dec.raw_decode(text, pos)  # already known to parse
            dups = getattr(item, "duplicates", None)
            if dups:
                for dup in dups:
                    problems.add(line_of(_duplicate_at(text, item_at, pos, dup)), allowed.get(dup.lower(), dup),
                                 "DUPLICATE_KEY", f"fältet {dup!r} förekommer två gånger i raden – vilket värde gäller?",
                                 f"the field {dup!r} occurs twice in the row: which value holds?")
                pos = skip(pos)
                if text.startswith(",", pos):
                    pos = skip(pos + 1)
                continue
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


def _skip_value(text: str, pos: int, dec: json.JSONDecoder, bad, too_deep) -> int:
    """End position of the array starting at ``pos``, checking every element parses and nests within
    :data:`MAX_DEPTH` (the rows array is the document's second level)."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        return pos + 1
    while True:
        at = pos
        try:
            _, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise bad(exc.pos, f"ogiltig JSON: {exc.msg}", f"invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise too_deep(at) from None
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", pos):
            return pos + 1
        else:
            raise bad(pos, "komma eller ] saknas", "',' or ']' expected")
