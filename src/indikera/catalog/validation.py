"""Editorial validation of indicator descriptions (the rules the catalogue's editors apply).

Errors block import and publication; warnings are about style. Thresholds are constants here and are
documented in docs/catalogue.md. Pure: what the store knows (stored versions, loaded results, stored
indicators) comes in through :class:`Context`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import DomainError
from ..domain.indicators import Frequency, Indicator, MeasureKind, check_measure_id
from .findings import Finding, error, warning
from .model import OPTIONAL_TEXTS, REQUIRED_TEXTS, Description
from .text_rules import MAX_SHORT_TITLE, MAX_TITLE, judge_characters
from .version_rules import computation_findings, is_unchanged, stranded_findings, version_findings

# --- thresholds (docs/catalogue.md, "Editorial rules") ---
MIN_TEXT_CHARS = 40  # the five required texts (coverage, dropout, reporting, interpretation, sources of error)
MIN_TEXT_WORDS = 6
MIN_PROSE_CHARS = 30  # description, purpose, numerator, denominator, value definition
MIN_PROSE_WORDS = 4
MIN_TITLE_CHARS = 5
MAX_TITLE_CHARS = 80  # warning: the title is a chart heading (an error above text_rules.MAX_TITLE)
MAX_SHORT_TITLE_CHARS = 40  # warning: the short title is an axis label (an error above text_rules.MAX_SHORT_TITLE)

_HSA_ID = re.compile(r"^SE\d{10}-[A-Za-z0-9]{1,31}$")
# Texts that say nothing, compared after lower-casing and removing punctuation.
PLACEHOLDERS = frozenset({
    "todo", "tbd", "tbc", "x", "xx", "xxx", "na", "n a", "saknas", "ej känt", "okänt", "vet ej", "finns ej",
    "ingen", "inget", "inga", "ej aktuellt", "ej tillämpligt", "fyll i", "se ovan", "se nedan", "text",
    "beskrivning", "placeholder", "platshållare", "lorem ipsum", "test", "kommer", "kommer senare",
})
# Placeholder words or phrases anywhere in a text (matched on the normalised text, padded with spaces).
_PLACEHOLDER_PARTS = (" lorem ipsum ", " todo ", " tbd ", " xxx ", " platshållare ", " placeholder ", " skriv här ",
                      " skriv text här ", " fyll i ")


@dataclass
class Context:
    """What the store knows when a description is judged."""

    stored_versions: dict[str, dict[tuple[int, int], dict[str, Any]]] = field(default_factory=dict)
    loaded_kinds: dict[str, set[str]] = field(default_factory=dict)  # measure id → kinds of stored results
    indicators: dict[str, Indicator] = field(default_factory=dict)  # stored identities (parents)
    published: set[str] = field(default_factory=set)  # measure ids with a restricted or open rule


def normalised(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def judge_text(
    value: str | None, where: str, label: str, mid: str | None, *, min_chars: int, min_words: int, required: bool = True
) -> list[Finding]:
    """Empty, placeholder or too short: the three ways a text can say nothing."""
    limits = dict(min_chars=min_chars, min_words=min_words)
    text = (value or "").strip()
    if not text:
        return [error("TEXT_EMPTY", where, mid, label=label, **limits)] if required else []
    norm = normalised(text)
    padded = f" {norm} "
    if norm in PLACEHOLDERS or not norm or any(p in padded for p in _PLACEHOLDER_PARTS) or " xxxx" in padded:
        return [error("TEXT_PLACEHOLDER", where, mid, label=label, value=text)]
    words = len(norm.split())
    if len(text) < min_chars or words < min_words:
        return [error("TEXT_TOO_SHORT", where, mid, label=label, chars=len(text), words=words, **limits)]
    return []


def _hsa(value: str | None, where: str, mid: str | None) -> list[Finding]:
    if value is None or not _HSA_ID.match(value):
        return [error("HSA_ID", where, mid, value=value)]
    return []


def validate(descriptions: list[Description], ctx: Context | None = None, *, paths: list[str] | None = None) -> list[Finding]:
    """Every finding for a set of descriptions judged together (a file, or the stored catalogue)."""
    ctx = ctx or Context()
    paths = paths or [f"indicators[{i}]" for i in range(len(descriptions))]
    in_set: dict[str, Description] = {}
    latest: dict[str, tuple[Description, str]] = {}
    file_versions: dict[str, set[tuple[int, int]]] = {}
    findings: list[Finding] = []
    seen: dict[tuple[str, tuple[int, int]], str] = {}
    for d, path in zip(descriptions, paths):
        key = (d.measure_id, d.version)
        if key in seen:
            findings.append(error("DUPLICATE_VERSION", path, d.measure_id, mid=d.measure_id, version=d.version_text, first=seen[key]))
        seen.setdefault(key, path)
        file_versions.setdefault(d.measure_id, set()).add(d.version)
        if d.measure_id not in in_set or in_set[d.measure_id].version < d.version:
            in_set[d.measure_id] = d
            latest[d.measure_id] = (d, path)
    for d, path in zip(descriptions, paths):
        stored = ctx.stored_versions.get(d.measure_id) or {}
        if is_unchanged(d, stored):
            continue  # stored already as it is: skipped on import, so not judged again
        findings.extend(validate_one(d, ctx, path, in_set, file_versions=file_versions))
    findings += computation_findings(descriptions, paths, ctx.stored_versions)
    subs: dict[str, list[str]] = {}
    for mid, ind in ctx.indicators.items():
        if ind.parent_measure_id is not None:
            subs.setdefault(ind.parent_measure_id, []).append(mid)
    findings += stranded_findings(latest, {mid: ind.version for mid, ind in ctx.indicators.items()}, subs, ctx.published)
    return findings


def validate_one(d: Description, ctx: Context, path: str = "indicator", siblings: dict[str, Description] | None = None,
                 *, file_versions: dict[str, set[tuple[int, int]]] | None = None) -> list[Finding]:
    """One description's findings; ``siblings`` are the newest descriptions of the same file by measure id,
    ``file_versions`` every version of each measure id in the file (to judge an older sub-measure version)."""
    siblings = siblings or {}
    mid = d.measure_id
    out: list[Finding] = []
    f = out.append

    def at(name: str) -> str:
        return f"{path}.{name}"

    try:
        check_measure_id(mid)
    except DomainError:
        f(error("MEASURE_ID", at("measureId"), mid, value=mid))
    if d.version_major < 1 or d.version_minor < 0:
        f(error("VERSION_NUMBER", at("versionMajor"), mid, value=d.version_text))
    out += version_findings(d, ctx.stored_versions.get(mid) or {}, at)
    out += judge_characters(d, at)

    # --- prose fields ---
    if len(d.title.strip()) < MIN_TITLE_CHARS:
        code = "TEXT_EMPTY" if not d.title.strip() else "TEXT_TOO_SHORT"
        f(error(code, at("title"), mid, label="titel", chars=len(d.title.strip()), words=len(d.title.split()), min_chars=MIN_TITLE_CHARS, min_words=1))
    elif MAX_TITLE_CHARS < len(d.title) <= MAX_TITLE:  # longer: TEXT_TOO_LONG (text_rules)
        f(warning("TITLE_LENGTH", at("title"), mid, chars=len(d.title), max_chars=MAX_TITLE_CHARS))
    if not d.short_title.strip():
        f(error("TEXT_EMPTY", at("shortTitle"), mid, label="mått (axeletikett)", min_chars=1, min_words=1))
    elif MAX_SHORT_TITLE_CHARS < len(d.short_title) <= MAX_SHORT_TITLE:
        f(warning("SHORT_TITLE_LENGTH", at("shortTitle"), mid, chars=len(d.short_title), max_chars=MAX_SHORT_TITLE_CHARS))
    prose = dict(min_chars=MIN_PROSE_CHARS, min_words=MIN_PROSE_WORDS)
    out += judge_text(d.description, at("description"), "beskrivning", mid, **prose)
    out += judge_text(d.purpose, at("purpose"), "syfte", mid, **prose)
    texts = dict(min_chars=MIN_TEXT_CHARS, min_words=MIN_TEXT_WORDS)
    for key, label in REQUIRED_TEXTS:
        out += judge_text(d.texts.get(key), at(f"texts.{key}"), label, mid, **texts)
    for key, label in OPTIONAL_TEXTS:
        out += judge_text(d.texts.get(key), at(f"texts.{key}"), label, mid, required=False, **prose)
    if not d.sources:
        f(error("EMPTY_LIST", at("sources"), mid, label="källa"))
    for i, s in enumerate(d.sources):
        if not s.strip():
            f(error("TEXT_EMPTY", at(f"sources[{i}]"), mid, label="källa", min_chars=1, min_words=1))

    # --- definitions that depend on the kind of measure ---
    kind = d.unit_type.kind
    if kind is MeasureKind.PROPORTION:
        out += judge_text(d.numerator, at("numerator"), "täljare", mid, **prose)
        out += judge_text(d.denominator, at("denominator"), "nämnare", mid, **prose)
    else:
        out += judge_text(d.value_definition, at("valueDefinition"), "mätvärdesdefinition", mid, **prose)
        if kind is MeasureKind.CONTINUOUS and d.unit_type.value != "Dagar" and not (d.unit or "").strip():
            f(warning("UNIT_MISSING", at("unit"), mid, unit_type=d.unit_type.value))
    for name, value, label in (("inclusionCriteria", d.inclusion_criteria, "inklusionskriterier"),
                               ("exclusionCriteria", d.exclusion_criteria, "exklusionskriterier")):
        out += judge_text(value, at(name), label, mid, required=False, min_chars=10, min_words=2)
    if d.measure_kind is not kind:
        f(error("UNIT_KIND", at("measureKind"), mid, unit_type=d.unit_type.value, expected=kind.value,
                field_label="measureKind", actual=d.measure_kind.value))
    loaded = ctx.loaded_kinds.get(mid, set()) - {"missing"}
    if loaded and loaded != {kind.value}:
        f(error("UNIT_KIND", at("unitType"), mid, unit_type=d.unit_type.value, expected=kind.value,
                field_label="inlästa resultat", actual=", ".join(sorted(loaded))))

    # --- lists, dates, people ---
    if not d.frequencies:
        f(error("EMPTY_LIST", at("measuringFrequencies"), mid, label="mätfrekvenser"))
    elif Frequency.YEAR not in d.frequencies:
        f(error("FREQUENCY_YEAR", at("measuringFrequencies"), mid))
    if not d.levels:
        f(error("EMPTY_LIST", at("organisationalLevels"), mid, label="resultatenhetsnivåer"))
    if d.valid_to is not None and d.valid_to < d.valid_from:
        f(error("DATE_ORDER", at("validTo"), mid, start=d.valid_from, end=d.valid_to))
    out += _hsa(d.owner.hsa_id, at("owner.hsaId"), mid)
    for name, who in (("reviewer", d.reviewer), ("reportingSystem", d.reporting_system),
                      ("reportingOrganisation", d.reporting_organisation)):
        if who is not None:
            out += _hsa(who.hsa_id, at(f"{name}.hsaId"), mid)
    for i, a in enumerate(d.authors):
        out += _hsa(a.hsa_id, at(f"authors[{i}].hsaId"), mid)
    if d.display_threshold is not None and d.display_threshold < 0:
        f(error("THRESHOLD", at("displayThreshold"), mid, value=d.display_threshold))
    out += _targets(d, at)
    out += _sub_measure(d, ctx, siblings, at, file_versions or {})
    if not d.keywords:
        f(warning("KEYWORDS_MISSING", at("keywords"), mid))
    if not d.groups:
        f(warning("GROUPS_MISSING", at("groups"), mid))
    return out


def _targets(d: Description, at) -> list[Finding]:
    out: list[Finding] = []
    rng = d.default_range()
    if rng.minimum is not None and rng.maximum is not None and rng.minimum > rng.maximum:
        out.append(error("RANGE_ORDER", at("valueRange"), d.measure_id, low=rng.minimum, high=rng.maximum))
    for i, t in enumerate(d.targets):
        low_ok = rng.minimum is None or t.value >= rng.minimum
        high_ok = rng.maximum is None or t.value <= rng.maximum
        if not (low_ok and high_ok):
            out.append(error("TARGET_RANGE", at(f"targets[{i}].value"), d.measure_id, value=t.value,
                             low="−∞" if rng.minimum is None else rng.minimum, high="∞" if rng.maximum is None else rng.maximum))
        if t.valid_to is not None and t.valid_to < t.valid_from:
            out.append(error("DATE_ORDER", at(f"targets[{i}].validTo"), d.measure_id, start=t.valid_from, end=t.valid_to))
        if t.organisation.strip().lower() != "riket":
            out += _hsa(t.organisation, at(f"targets[{i}].organisation"), d.measure_id)
        if t.responsible is not None:
            out += _hsa(t.responsible, at(f"targets[{i}].responsible"), d.measure_id)
    return out


def _sub_measure(d: Description, ctx: Context, siblings: dict[str, Description], at,
                 file_versions: dict[str, set[tuple[int, int]]]) -> list[Finding]:
    mid, parent = d.measure_id, d.parent_measure_id
    if parent is None and d.sex is None:
        return []
    if parent is None:
        return [error("SUB_MEASURE", at("parentMeasureId"), mid, detail=f"kön {d.sex.value} är angivet men huvudmått saknas")]
    if d.sex is None:
        return [error("SUB_MEASURE", at("sex"), mid, detail=f"huvudmått {parent} är angivet men kön saknas")]
    try:
        check_measure_id(parent)
    except DomainError:
        return [error("MEASURE_ID", at("parentMeasureId"), mid, value=parent)]
    if parent == mid:
        return [error("SUB_MEASURE", at("parentMeasureId"), mid, detail="delmåttet pekar på sig självt")]
    if parent in siblings:
        p_major, p_parent = siblings[parent].version_major, siblings[parent].parent_measure_id
    elif parent in ctx.indicators:
        p_major, p_parent = ctx.indicators[parent].version, ctx.indicators[parent].parent_measure_id
    else:
        return [error("SUB_MEASURE", at("parentMeasureId"), mid, detail=f"huvudmåttet {parent} finns varken i filen eller i katalogen")]
    if p_parent is not None:
        return [error("SUB_MEASURE", at("parentMeasureId"), mid, detail=f"{parent} är själv ett delmått")]

    def versions(m: str) -> set[tuple[int, int]]:
        return set(file_versions.get(m, ())) | set(ctx.stored_versions.get(m, {}))

    if any(v > d.version for v in versions(mid)) and d.version_major in {v[0] for v in versions(parent)}:
        return []  # an older version (a history being restored): its parent had that major then
    if p_major != d.version_major:
        return [error("SUB_MEASURE_VERSION", at("versionMajor"), mid, version=d.version_major, parent_version=p_major)]
    return []


__all__ = [
    "MAX_SHORT_TITLE_CHARS",
    "MAX_TITLE_CHARS",
    "MIN_PROSE_CHARS",
    "MIN_PROSE_WORDS",
    "MIN_TEXT_CHARS",
    "MIN_TEXT_WORDS",
    "MIN_TITLE_CHARS",
    "PLACEHOLDERS",
    "Context",
    "judge_text",
    "validate",
    "validate_one",
]
