"""Findings of catalogue parsing and editorial validation: what is wrong, where, and how to fix it.

Every finding names the field (a JSON path such as ``indicators[2].texts.coverage``) and carries a
Swedish message and fix (for registry staff) with English versions. ``code`` is stable for programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"  # blocks import and publication
    WARNING = "warning"  # style; shown, never blocks


# code → (Swedish message, Swedish fix, English message, English fix); {placeholders} come from ``params``.
MESSAGES: dict[str, tuple[str, str, str, str]] = {
    # --- format (the JSON file itself) ---
    "FORMAT_JSON": (
        "Filen är inte giltig JSON: {detail}",
        "Rätta JSON-syntaxen (t.ex. kommatecken, citattecken) och försök igen.",
        "The file is not valid JSON: {detail}",
        "Fix the JSON syntax (commas, quotes) and try again.",
    ),
    "FORMAT_ROOT": (
        "Filen måste vara ett objekt med \"format\": \"{format}\" och en lista \"indicators\".",
        "Lägg beskrivningarna i {{\"format\": \"{format}\", \"indicators\": [ … ]}}.",
        "The file must be an object with \"format\": \"{format}\" and a list \"indicators\".",
        "Wrap the descriptions in {{\"format\": \"{format}\", \"indicators\": [ … ]}}.",
    ),
    "FORMAT_TYPE": (
        "Fel typ: {expected} förväntades, {actual} fanns.",
        "Ange fältet som {expected}.",
        "Wrong type: expected {expected}, found {actual}.",
        "Give the field as {expected}.",
    ),
    "FORMAT_UNKNOWN_FIELD": (
        "Okänt fält.",
        "Ta bort fältet eller rätta stavningen (tillåtna: {allowed}).",
        "Unknown field.",
        "Remove the field or fix its spelling (allowed: {allowed}).",
    ),
    "FORMAT_DUPLICATE_KEY": (
        "Fältet förekommer två gånger i samma objekt.",
        "Behåll bara ett av dem.",
        "The field occurs twice in the same object.",
        "Keep only one of them.",
    ),
    "FORMAT_VALUE": (
        "Ogiltigt värde {value}; tillåtna värden: {allowed}.",
        "Välj ett av de tillåtna värdena.",
        "Invalid value {value}; allowed values: {allowed}.",
        "Choose one of the allowed values.",
    ),
    "FORMAT_DATE": (
        "{value} är inte ett datum på formen ÅÅÅÅ-MM-DD.",
        "Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2024-01-01.",
        "{value} is not a date of the form YYYY-MM-DD.",
        "Write the date as YYYY-MM-DD, e.g. 2024-01-01.",
    ),
    "FORMAT_TOO_DEEP": (
        "Filen är för djupt nästlad eller för stor.",
        "Dela upp filen; en katalogfil har högst några nivåer.",
        "The file is nested too deeply or is too large.",
        "Split the file; a catalogue file has only a few levels.",
    ),
    "DUPLICATE_VERSION": (
        "Indikatorn {mid} version {version} finns redan tidigare i filen (post {first}).",
        "Ta bort dubbletten eller ge den ett högre versionsnummer.",
        "Indicator {mid} version {version} already occurs earlier in the file (entry {first}).",
        "Remove the duplicate or give it a higher version number.",
    ),
    # --- editorial rules ---
    "REQUIRED": (
        "Obligatoriskt fält ({label}) saknas.",
        "Fyll i {label}.",
        "Required field ({label}) is missing.",
        "Fill in {label}.",
    ),
    "TEXT_EMPTY": (
        "Texten ({label}) är tom.",
        "Skriv {label}: vad läsaren behöver veta, med minst {min_chars} tecken och {min_words} ord.",
        "The text ({label}) is empty.",
        "Write the {label}: what a reader needs to know, at least {min_chars} characters and {min_words} words.",
    ),
    "TEXT_PLACEHOLDER": (
        "Texten ({label}) är en platshållare ({value}) och säger ingenting.",
        "Ersätt platshållaren med en verklig beskrivning av {label}.",
        "The text ({label}) is a placeholder ({value}) and says nothing.",
        "Replace the placeholder with a real account of the {label}.",
    ),
    "TEXT_TOO_SHORT": (
        "Texten ({label}) är för kort: {chars} tecken och {words} ord (minst {min_chars} tecken och {min_words} ord).",
        "Utveckla {label} så att en läsare kan tolka resultaten.",
        "The text ({label}) is too short: {chars} characters and {words} words (at least {min_chars} and {min_words}).",
        "Expand the {label} so that a reader can interpret the results.",
    ),
    "MEASURE_ID": (
        "{value} är inte ett giltigt KIK-id (MeasureID).",
        "Ange indikatorns id i Kvalitetsindikatorkatalogen, t.ex. 12345 eller ett UUID.",
        "{value} is not a valid KIK measure id.",
        "Give the indicator's id in the catalogue, e.g. 12345 or a UUID.",
    ),
    "VERSION_NUMBER": (
        "Versionsnumret {value} är ogiltigt (huvudversion ≥ 1, delversion ≥ 0).",
        "Ange versionMajor ≥ 1 och versionMinor ≥ 0.",
        "Version number {value} is invalid (major ≥ 1, minor ≥ 0).",
        "Give versionMajor ≥ 1 and versionMinor ≥ 0.",
    ),
    "VERSION_BACKWARDS": (
        "Version {version} är lägre än den senast lagrade versionen {stored}.",
        "Ge beskrivningen ett versionsnummer högre än {stored}.",
        "Version {version} is lower than the latest stored version {stored}.",
        "Give the description a version number above {stored}.",
    ),
    "VERSION_NOT_BUMPED": (
        "Version {version} finns redan lagrad med ett annat innehåll.",
        "Öka delversionen (texter, frekvenser, nivåer) eller huvudversionen (ändrad beräkning).",
        "Version {version} is already stored with different content.",
        "Raise the minor version (texts, frequencies, levels) or the major version (changed computation).",
    ),
    "UNIT_KIND": (
        "Enhetstypen {unit_type} ger måttypen {expected}, men {field_label} är {actual}.",
        "Välj en enhetstyp som passar resultaten (Andel → proportion, Antal → cohort, övriga → continuous).",
        "Unit type {unit_type} implies measure kind {expected}, but {field_label} is {actual}.",
        "Choose a unit type that fits the results (Andel → proportion, Antal → cohort, others → continuous).",
    ),
    "SUB_MEASURE": (
        "Delmåttet är inte kopplat till ett huvudmått: {detail}.",
        "Ange både parentMeasureId (huvudmåttets KIK-id) och sex (K eller M), och importera huvudmåttet.",
        "The sub-measure is not linked to a parent: {detail}.",
        "Give both parentMeasureId (the parent's KIK id) and sex (K or M), and import the parent.",
    ),
    "SUB_MEASURE_VERSION": (
        "Delmåttets huvudversion {version} skiljer sig från huvudmåttets {parent_version}.",
        "Ge delmåttet samma huvudversion som huvudmåttet (delmått har huvudmåttets versionsnummer).",
        "The sub-measure's major version {version} differs from its parent's {parent_version}.",
        "Give the sub-measure its parent's major version.",
    ),
    "TARGET_RANGE": (
        "Målvärdet {value} ligger utanför värdeintervallet {low}–{high}.",
        "Ange målvärdet inom intervallet (en andel anges som 0–1, t.ex. 0.9 för 90 %).",
        "Target {value} lies outside the value range {low}–{high}.",
        "Give the target within the range (a proportion as 0–1, e.g. 0.9 for 90 %).",
    ),
    "DATE_ORDER": (
        "Slutdatumet {end} ligger före startdatumet {start}.",
        "Rätta giltighetstiden så att den slutar efter att den börjar.",
        "End date {end} is before start date {start}.",
        "Fix the validity so that it ends after it starts.",
    ),
    "RANGE_ORDER": (
        "Värdeintervallets min {low} är större än max {high}.",
        "Byt plats på min och max.",
        "The value range's min {low} exceeds its max {high}.",
        "Swap min and max.",
    ),
    "FREQUENCY_YEAR": (
        "Mätfrekvensen år saknas; alla indikatorer ska kunna rapporteras per år.",
        "Lägg till \"year\" i measuringFrequencies.",
        "The yearly frequency is missing; every indicator must support yearly reporting.",
        "Add \"year\" to measuringFrequencies.",
    ),
    "HSA_ID": (
        "{value} är inte ett HSA-id.",
        "Ange ett HSA-id på formen SE2321000000-XXXX.",
        "{value} is not an HSA-id.",
        "Give an HSA-id such as SE2321000000-XXXX.",
    ),
    "THRESHOLD": (
        "Tröskelvärdet för visning {value} är ogiltigt.",
        "Ange ett heltal ≥ 0 (minsta antal observationer bakom ett visat värde), eller utelämna fältet.",
        "Display threshold {value} is invalid.",
        "Give a whole number ≥ 0 (fewest observations behind a shown value), or leave the field out.",
    ),
    "EMPTY_LIST": (
        "Listan ({label}) är tom.",
        "Ange minst ett värde för {label}.",
        "The list ({label}) is empty.",
        "Give at least one value for {label}.",
    ),
    "VERSION_COMPUTATION": (
        "Beräkningen ändras ({field_name}) från version {previous} till {version}; en ändrad beräkning kräver en ny huvudversion.",
        "Ge beskrivningen huvudversion {next_major}.0, eller behåll {field_name} som i version {previous}.",
        "The computation changes ({field_name}) from version {previous} to {version}; a changed computation needs a new major version.",
        "Give the description major version {next_major}.0, or keep {field_name} as in version {previous}.",
    ),
    "SUB_MEASURE_STRANDED": (
        "Huvudversion {version} av {mid} lämnar det publicerade delmåttet {sub} kvar på huvudversion {sub_version}.",
        "Lägg delmåttet {sub} i samma fil med huvudversion {version}, eller avpublicera det först.",
        "Major version {version} of {mid} leaves the published sub-measure {sub} behind at major version {sub_version}.",
        "Put the sub-measure {sub} in the same file at major version {version}, or de-publish it first.",
    ),
    "TEXT_CONTROL_CHAR": (
        "Texten innehåller ett otillåtet tecken ({char}) vid position {position}.",
        "Ta bort tecknet; bara radbrytning och tabb är tillåtna, och bara i längre texter.",
        "The text contains a character that is not allowed ({char}) at position {position}.",
        "Remove the character; only line feed and tab are allowed, and only in long texts.",
    ),
    "TEXT_MARKUP": (
        "Texten innehåller märkkod ({value}); beskrivningar är ren text.",
        "Skriv texten utan HTML: inga taggar (<…>) eller teckenentiteter (&…;); skriv t.ex. \"< 5\" med mellanslag.",
        "The text contains markup ({value}); descriptions are plain text.",
        "Write the text without HTML: no tags (<…>) or character references (&…;); write e.g. \"< 5\" with a space.",
    ),
    "TEXT_TOO_LONG": (
        "Texten ({label}) är {chars} tecken lång; högst {max_chars} är tillåtet.",
        "Korta texten till högst {max_chars} tecken.",
        "The text ({label}) is {chars} characters long; at most {max_chars} are allowed.",
        "Shorten the text to at most {max_chars} characters.",
    ),
    # --- warnings (style) ---
    "SUB_MEASURE_BEHIND": (
        "Huvudversion {version} av {mid} lämnar delmåttet {sub} kvar på huvudversion {sub_version}; det kan inte publiceras förrän det följer med.",
        "Lägg delmåttet {sub} i samma fil med huvudversion {version}.",
        "Major version {version} of {mid} leaves the sub-measure {sub} behind at major version {sub_version}; it cannot be published until it follows.",
        "Put the sub-measure {sub} in the same file at major version {version}.",
    ),
    "TITLE_LENGTH": (
        "Titeln är {chars} tecken lång; den visas som diagramrubrik och bör vara högst {max_chars}.",
        "Korta titeln och flytta detaljer till beskrivningen.",
        "The title is {chars} characters long; it is a chart heading and should be at most {max_chars}.",
        "Shorten the title and move details to the description.",
    ),
    "SHORT_TITLE_LENGTH": (
        "Måttet (axeletiketten) är {chars} tecken långt; bör vara högst {max_chars}.",
        "Korta axeletiketten, t.ex. \"Andel (%)\" eller \"Minuter, median\".",
        "The short title (axis label) is {chars} characters long; should be at most {max_chars}.",
        "Shorten the axis label, e.g. \"Andel (%)\" or \"Minuter, median\".",
    ),
    "KEYWORDS_MISSING": (
        "Nyckelord saknas.",
        "Lägg till några nyckelord så att indikatorn hittas vid sökning.",
        "Keywords are missing.",
        "Add a few keywords so the indicator can be found.",
    ),
    "GROUPS_MISSING": (
        "Indikatorgrupp saknas.",
        "Ange minst en grupp, t.ex. \"Diabetes\".",
        "No indicator group is given.",
        "Give at least one group, e.g. \"Diabetes\".",
    ),
    "UNIT_MISSING": (
        "Enhet för mätvärdet saknas ({unit_type}).",
        "Ange enheten, t.ex. \"minuter\" eller \"mmol/mol\".",
        "The unit of the value is missing ({unit_type}).",
        "Give the unit, e.g. \"minutes\" or \"mmol/mol\".",
    ),
}


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    field: str  # JSON path of the field, e.g. "indicators[0].texts.coverage"
    params: tuple[tuple[str, str], ...] = ()
    measure_id: str | None = None

    def _texts(self) -> tuple[str, str, str, str]:
        values = dict(self.params)
        return tuple(t.format_map(_Default(values)) for t in MESSAGES[self.code])  # type: ignore[return-value]

    @property
    def message(self) -> str:
        return self._texts()[0]

    @property
    def fix(self) -> str:
        return self._texts()[1]

    @property
    def message_en(self) -> str:
        return self._texts()[2]

    @property
    def fix_en(self) -> str:
        return self._texts()[3]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, str | None]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "field": self.field,
            "measureId": self.measure_id,
            "message": self.message,
            "fix": self.fix,
            "messageEn": self.message_en,
            "fixEn": self.fix_en,
        }

    def __str__(self) -> str:
        return f"{self.severity.value} {self.code} {self.field}: {self.message} {self.fix}"


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def finding(severity: Severity, code: str, field: str, measure_id: str | None = None, **params: object) -> Finding:
    assert code in MESSAGES, code
    return Finding(severity, code, field, tuple((k, _show(v)) for k, v in params.items()), measure_id)


def error(code: str, field: str, measure_id: str | None = None, **params: object) -> Finding:
    return finding(Severity.ERROR, code, field, measure_id, **params)


def warning(code: str, field: str, measure_id: str | None = None, **params: object) -> Finding:
    return finding(Severity.WARNING, code, field, measure_id, **params)


def _show(value: object) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)


__all__ = ["MESSAGES", "Finding", "Severity", "error", "finding", "has_errors", "warning"]
