"""What the characters of a description may be: plain text, printable, and of an editorial length.

Descriptions are plain text: every channel shows them as text, and open-data JSON passes them on verbatim
to apps that may not escape them, so markup is refused rather than escaped in some places and not others.
Control characters are refused because PostgreSQL cannot store NUL in JSON and no reader can show them;
line feed and tab are allowed in the long texts only. Limits follow the catalogue's editorial rules and
DHIS2 (name 230, short name 50). docs/catalogue.md ("Plain text") lists every limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .findings import Finding, error
from .model import OPTIONAL_TEXTS, REQUIRED_TEXTS, Description

MAX_TITLE = 230  # DHIS2 name
MAX_SHORT_TITLE = 50  # DHIS2 short name
MAX_LONG_TEXT = 20_000  # description, purpose, definitions, criteria, the texts
MAX_UNIT = 50
MAX_SOURCE = 500
MAX_TERM = 100  # one group or keyword
MAX_NAME = 200  # a person's name

# C0 and C1 controls, DEL, and lone surrogates (a JSON "\ud800" decodes to one; it is not UTF-8).
_CONTROL_SHORT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_LONG = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # line feed and tab allowed
# What an HTML reader would turn into something other than the characters written: a start tag, end tag,
# comment, doctype or processing instruction (``<`` then an ASCII letter, ``/``, ``!`` or ``?``), and a
# character reference (``&#60``, ``&#x3c``, ``&name;``, or a legacy name that renders without ``;``).
# ``a < 5``, ``<5``, ``<=``, ``Q&A`` and ``blod & urin`` are plain text and allowed.
MARKUP = re.compile(r"<[A-Za-z/!?]|&(?:#[0-9]|#[xX][0-9A-Fa-f]|[A-Za-z][A-Za-z0-9]*;|(?:lt|gt|amp|quot|apos|nbsp)(?![A-Za-z0-9]))")


def text_fields(d: Description) -> Iterator[tuple[str, str, str, int | None, bool]]:
    """(field path, label, value, max length or None for ids, long text?) of every string of a description."""
    yield "measureId", "KIK-id", d.measure_id, None, False
    yield "title", "titel", d.title, MAX_TITLE, False
    yield "shortTitle", "mått (axeletikett)", d.short_title, MAX_SHORT_TITLE, False
    yield "description", "beskrivning", d.description, MAX_LONG_TEXT, True
    yield "purpose", "syfte", d.purpose, MAX_LONG_TEXT, True
    for i, s in enumerate(d.sources):
        yield f"sources[{i}]", "källa", s, MAX_SOURCE, False
    for name, label, value in (("unit", "enhet", d.unit), ("numerator", "täljare", d.numerator),
                               ("denominator", "nämnare", d.denominator),
                               ("valueDefinition", "mätvärdesdefinition", d.value_definition),
                               ("inclusionCriteria", "inklusionskriterier", d.inclusion_criteria),
                               ("exclusionCriteria", "exklusionskriterier", d.exclusion_criteria)):
        if value is not None:
            yield name, label, value, MAX_UNIT if name == "unit" else MAX_LONG_TEXT, name != "unit"
    yield "owner.hsaId", "HSA-id", d.owner.hsa_id, None, False
    if d.owner.name is not None:
        yield "owner.name", "namn", d.owner.name, MAX_NAME, False
    for i, a in enumerate(d.authors):
        yield f"authors[{i}].hsaId", "HSA-id", a.hsa_id, None, False
        if a.name is not None:
            yield f"authors[{i}].name", "namn", a.name, MAX_NAME, False
    for key, values, label in (("groups", d.groups, "grupp"), ("keywords", d.keywords, "nyckelord")):
        for i, v in enumerate(values):
            yield f"{key}[{i}]", label, v, MAX_TERM, False
    for i, t in enumerate(d.targets):
        yield f"targets[{i}].organisation", "organisation", t.organisation, None, False
        if t.responsible is not None:
            yield f"targets[{i}].responsible", "målvärdesansvarig", t.responsible, None, False
    if d.parent_measure_id is not None:
        yield "parentMeasureId", "KIK-id", d.parent_measure_id, None, False
    for key, label in REQUIRED_TEXTS + OPTIONAL_TEXTS:
        if d.texts.get(key) is not None:
            yield f"texts.{key}", label, d.texts[key], MAX_LONG_TEXT, True
    yield from _catalogue_fields(d)


_LIMITS = {"title": (MAX_TITLE, False), "shortTitle": (MAX_SHORT_TITLE, False), "unit": (MAX_UNIT, False)}


def _catalogue_fields(d: Description) -> Iterator[tuple[str, str, str, int | None, bool]]:
    """The national catalogue's fields (issue #16 item 5) and the English texts: the same rules as their
    Swedish counterparts; codes and HSA-ids are ids (control characters only)."""
    for name, label, value in (("targetPopulation", "målpopulation", d.target_population),
                               ("measurePopulation", "mätpopulation", d.measure_population)):
        if value is not None:
            yield name, label, value, MAX_LONG_TEXT, True
    if d.unit_ucum is not None:
        yield "unitUcum", "UCUM-enhet", d.unit_ucum, MAX_UNIT, False
    for name, p in (("reviewer", d.reviewer), ("reportingSystem", d.reporting_system),
                    ("reportingOrganisation", d.reporting_organisation)):
        if p is not None:
            yield f"{name}.hsaId", "HSA-id", p.hsa_id, None, False
            if p.name is not None:
                yield f"{name}.name", "namn", p.name, MAX_NAME, False
    for key, codes in (("selections", d.selections), ("subCategories", d.sub_categories)):
        for i, c in enumerate(codes):
            yield f"{key}[{i}].code", "kod", c.code, None, False
            if c.system is not None:
                yield f"{key}[{i}].codeSystem", "kodverk", c.system, None, False
            if c.display is not None:
                yield f"{key}[{i}].display", "klartext", c.display, MAX_NAME, False
    for i, t in enumerate(d.targets):
        if t.unit is not None:
            yield f"targets[{i}].unit", "enhet", t.unit, MAX_UNIT, False
    for path, value in d.en.items():
        limit, long = _LIMITS.get(path, (MAX_LONG_TEXT, True))
        yield f"en.{path}", "engelsk text", value, limit, long


def judge_characters(d: Description, at: Callable[[str], str]) -> list[Finding]:
    """Control characters (then nothing more about the field), markup, and length, per field."""
    out: list[Finding] = []
    mid = d.measure_id
    for name, label, value, limit, long in text_fields(d):
        if not isinstance(value, str):
            continue
        bad = (_CONTROL_LONG if long else _CONTROL_SHORT).search(value)
        if bad:
            out.append(error("TEXT_CONTROL_CHAR", at(name), mid, char=f"U+{ord(bad.group()):04X}", position=bad.start() + 1))
            continue
        if limit is None:
            continue  # ids: their own format rules say the rest
        markup = MARKUP.search(value)
        if markup:
            out.append(error("TEXT_MARKUP", at(name), mid, value=value[markup.start():markup.start() + 12]))
        if len(value) > limit:
            out.append(error("TEXT_TOO_LONG", at(name), mid, label=label, chars=len(value), max_chars=limit))
    return out


__all__ = ["MARKUP", "MAX_LONG_TEXT", "MAX_SHORT_TITLE", "MAX_TITLE", "judge_characters", "text_fields"]
