"""One row of a VIS flat file (or the JSON format) → a checked flat row (:data:`Row`), or problems.

Every check names the line and column. Value rules are the domain's (``measurements.check_*``), called on
plain numbers: a million rows need not become a million objects first. Organisation codes are checked against the shipped reference
data (län, kommuner); chains must be those the contract allows (R15–R16).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..domain import oids
from ..domain.errors import DomainError
from ..domain.indicators import Indicator, MeasureKind
from ..domain.measurements import (
    RATE_TOLERANCE,
    ReasonCode,
    SourceSystem,
    check_cohort,
    check_contains,
    check_continuous,
    check_extras,
    check_interval,
    check_plausible,
    check_proportion,
)
from ..domain.organisations import Organisation
from ..domain.periods import Period, parse_date
from ..domain.statistics import wilson_interval
from .org_columns import HSA_ID as _HSA
from .org_columns import OrganisationColumns
from .problems import Problems

_VALUE_COLUMNS = ("Rate", "Numerator", "Denominator", "Value", "Measurepopulation", "Cohort")
_HIDDEN_WITH_REASON = ("Rate", "Value", "ConfidenceIntervalLower", "ConfidenceIntervalHigher", "Standarddeviation",
                       "Numerator", "Cohort")
_BAD_NUMBERS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"}


class RowError(Exception):
    """Raised inside a row check to stop checking that row (the problem is already recorded)."""


@dataclass
class RowContext:
    problems: Problems
    indicators: dict[str, Indicator]
    decimal_comma: bool = False


class RowReader(OrganisationColumns):
    """Turns rows into measurements; remembers organisations and the registry to check consistency."""

    def __init__(self, ctx: RowContext) -> None:
        self.ctx = ctx
        self.p = ctx.problems
        self._start_organisations()
        self.registry: tuple[str, str, int] | None = None  # (hsa-id, name, first line)
        self.source: SourceSystem | None = None
        self._line = 0
        self._date_cache: dict[str, object] = {}
        self._periods: dict[tuple, Period] = {}
        self._wilson_cache: dict[tuple[float, float], tuple[float, float]] = {}
        self._checked_indicators: dict[tuple, Indicator] = {}

    def start_as_after(self, registry: tuple[str, str, int]) -> None:
        """Continue as a reader that has already met the file's registry on an earlier line: how a worker
        validating the second half of a file starts (``ingest.parallel``)."""
        self.registry = registry
        self.source = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, registry[0], registry[1])

    @property
    def seen_organisations(self) -> dict[str, tuple[Organisation, int]]:
        """Every organisation met so far, by key: (organisation, first line)."""
        return self._orgs

    # -- helpers ---------------------------------------------------------------------------------------
    def err(self, column: str | None, code: str, sv: str, en: str) -> RowError:
        self.p.add(self._line, column, code, sv, en)
        return RowError(code)

    def number(self, cells: dict[str, str], col: str, *, integer: bool = False, minimum: float | None = 0) -> float | None:
        text = cells.get(col)
        if not text:
            return None
        if len(text) < 10 and text.isdigit() and text.isascii():  # the common case, a plain count: whole, finite,
            return float(text)  # ≥ 0 and below every plausibility limit (check_plausible) with at most 9 digits
        return self._number(text, col, integer, minimum)

    def _number(self, text: str, col: str, integer: bool, minimum: float | None) -> float:
        t = text.replace("\u00a0", "").replace(" ", "")
        if self.ctx.decimal_comma or "." not in t:
            t = t.replace(",", ".") if t.count(",") == 1 else t
        # "nan", "inf", "infinity" (any case, any sign: _BAD_NUMBERS) all parse and fail isfinite below,
        # with the same message, so they need no separate test here.
        try:
            value = float(t)
        except ValueError:
            raise self.err(col, "NOT_A_NUMBER", f"{text!r} är inget tal", f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise self.err(col, "NOT_A_NUMBER", f"{text!r} är inget ändligt tal", f"{text!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise self.err(col, "NEGATIVE", f"{text} får inte vara negativt", f"{text} must not be negative")
        if integer and not value.is_integer():
            raise self.err(col, "NOT_INTEGER", f"{text} måste vara ett heltal (ett antal)", f"{text} must be a whole number")
        try:
            check_plausible(value, col, count=integer)
        except DomainError as exc:
            raise self.err(col, exc.code, exc.sv, exc.en) from None
        return value

    # -- the row ---------------------------------------------------------------------------------------
    def read(self, line: int, cells: dict[str, str]) -> Row | None:
        self._line = line
        try:
            return self._read(cells)
        except RowError:
            return None
        except DomainError as exc:  # a value rule of the domain (measurements.check_*)
            self.err(_column_of(exc), exc.code, exc.sv, exc.en)  # the domain says it in both languages
            return None

    def _read(self, c: dict[str, str]) -> Row:
        ind = self._indicator(c)
        period = self._period(c)
        source = self._registry(c)
        org = self._organisation(c)
        if ind.levels and org.type not in ind.levels:
            allowed = ", ".join(sorted(t.value for t in ind.levels))
            raise self.err(None, "LEVEL", f"indikatorn {ind.measure_id} redovisas inte på nivån {org.type.value} (tillåtet: {allowed})",
                           f"indicator {ind.measure_id} is not reported at level {org.type.value} (allowed: {allowed})")
        values = self._result(c, ind)
        get = c.get
        coverage = self.number(c, "Coverage") if get("Coverage") else None
        if coverage is not None and coverage > 1:
            raise self.err("Coverage", "COVERAGE_RANGE", f"täckningsgraden {coverage:g} ska anges som andel 0–1, inte procent",
                           f"coverage {coverage:g} must be a fraction 0–1, not a percentage")
        ref_rate = self.number(c, "ReferenceIntervalRate", minimum=None) if get("ReferenceIntervalRate") else None
        ref_value = self.number(c, "ReferenceIntervalValue", minimum=None) if get("ReferenceIntervalValue") else None
        if ref_rate is not None and ref_value is not None:
            raise self.err("ReferenceIntervalValue", "REFERENCE", "ange ReferenceIntervalRate eller ReferenceIntervalValue, inte båda",
                           "give ReferenceIntervalRate or ReferenceIntervalValue, not both")
        reference = ref_rate if ref_rate is not None else ref_value
        exclusions = self.number(c, "Exclusions", integer=True) if get("Exclusions") else None
        sd = values[10]
        if sd is not None or coverage is not None or exclusions is not None or reference is not None:
            check_extras(sd, coverage, exclusions, reference)
        return (ind.measure_id, ind.version, period, org, source, get("Stratum", ""), *values, coverage, exclusions, reference)

    def _indicator(self, c: dict[str, str]) -> Indicator:
        mid = c.get("MeasureID", "")
        known = self._checked_indicators.get((mid, c.get("Version")))
        if known is not None:  # this indicator and version text passed the checks below already
            return known
        if not mid:
            raise self.err("MeasureID", "MISSING_VALUE", "MeasureID saknas", "MeasureID is empty")
        ind = self.ctx.indicators.get(mid)
        if ind is None:
            raise self.err("MeasureID", "UNKNOWN_INDICATOR", f"indikatorn {mid} finns inte i katalogen",
                           f"indicator {mid} is not in the catalogue")
        text = c.get("Version", "")
        major = text.split(".", 1)[0].split(",", 1)[0]
        if not major.isdigit():
            raise self.err("Version", "VERSION", f"versionen {text!r} är inget versionsnummer", f"version {text!r} is not a version number")
        if int(major) != ind.version:
            raise self.err("Version", "VERSION", f"indikatorn {mid} har huvudversion {ind.version}, inte {text}",
                           f"indicator {mid} has major version {ind.version}, not {text}")
        self._checked_indicators[(mid, text)] = ind
        return ind

    def _date(self, c: dict[str, str], col: str):
        text = c.get(col, "")
        cached = self._date_cache.get(text)
        if cached is not None:
            return cached
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text = text.replace("-", "")
        try:
            value = parse_date(text, field=col)
        except DomainError:
            raise self.err(col, "BAD_DATE", f"{text!r} är inget datum på formen ÅÅÅÅMMDD",
                           f"{text!r} is not a date of the form YYYYMMDD") from None
        if len(self._date_cache) < 10_000:
            self._date_cache[c.get(col, "")] = value
        return value

    def _period(self, c: dict[str, str]) -> Period:
        start, end = self._date(c, "PeriodReportedStartDate"), self._date(c, "PeriodReportedEndDate")
        period = self._periods.get((start, end))
        if period is not None:
            return period
        if start > end:
            raise self.err("PeriodReportedEndDate", "PERIOD_ORDER", "periodens slutdatum ligger före startdatum",
                           "the period ends before it starts")
        period = Period(start, end)
        if len(self._periods) < 10_000:
            self._periods[(start, end)] = period
        return period

    def _registry(self, c: dict[str, str]) -> SourceSystem:
        hsa, name = c.get("RegisterHSAID", ""), c.get("RegisterNamn", "")
        if self.registry is not None and hsa == self.registry[0] and (not name or name == self.registry[1]):
            return self.source  # the file's registry, already checked
        if not _HSA.match(hsa):
            raise self.err("RegisterHSAID", "REGISTER", f"{hsa!r} är inget HSA-id", f"{hsa!r} is not an HSA-id")
        if self.registry is None:
            if not name:
                raise self.err("RegisterNamn", "MISSING_VALUE", "RegisterNamn saknas", "RegisterNamn is empty")
            self.registry = (hsa, name, self._line)
            self.source = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, hsa, name)
        elif hsa != self.registry[0] or (name and name != self.registry[1]):
            raise self.err("RegisterHSAID", "REGISTER", f"en fil får bara innehålla ett register; rad {self.registry[2]} anger {self.registry[0]}",
                           f"a file holds one registry only; line {self.registry[2]} names {self.registry[0]}")
        assert self.source is not None
        return self.source

    def _result(self, c: dict[str, str], ind: Indicator) -> tuple:
        """(kind, rate, numerator, denominator, value, population, cohort, reason code, ci low, ci high, sd)."""
        get = c.get
        reason = get("ReasonCode", "").upper()
        has_value = any(map(get, _VALUE_COLUMNS))
        ci_low = self.number(c, "ConfidenceIntervalLower") if get("ConfidenceIntervalLower") else None
        ci_high = self.number(c, "ConfidenceIntervalHigher") if get("ConfidenceIntervalHigher") else None
        sd = self.number(c, "Standarddeviation") if get("Standarddeviation") else None
        if reason:
            try:
                code = ReasonCode(reason)
            except ValueError:
                raise self.err("ReasonCode", "REASON_CODE", f"{reason!r} är ingen orsakskod (MSK, INV, UNK, NI)",
                               f"{reason!r} is not a reason code (MSK, INV, UNK, NI)") from None
            for col in _HIDDEN_WITH_REASON:
                if get(col):
                    raise self.err(col, "MISSING_WITH_VALUE", f"en rad med ReasonCode {reason} får inte ha {col}",
                                   f"a row with ReasonCode {reason} must not carry {col}")
            for col in ("Denominator", "Measurepopulation"):
                v = self.number(c, col)
                if v is not None and not (code is ReasonCode.INV and v == 0):
                    raise self.err(col, "MISSING_WITH_VALUE", f"en rad med ReasonCode {reason} får inte ha {col}",
                                   f"a row with ReasonCode {reason} must not carry {col}")
            return ("missing", None, None, None, None, None, None, code.value, None, None, None)
        if not has_value:  # the organisation is listed but has no data (rule R12: UNK)
            if ci_low is not None or ci_high is not None or sd is not None:
                raise self.err("ConfidenceIntervalLower", "MISSING_WITH_VALUE", "konfidensintervall utan värde",
                               "a confidence interval without a value")
            return ("missing", None, None, None, None, None, None, ReasonCode.UNK.value, None, None, None)
        kind = ind.kind
        for col in _WRONG_COLUMNS[kind]:
            if get(col):
                raise self.err(col, "MEASURE_KIND", f"indikatorn {ind.measure_id} är av typen {ind.unit_type.value}; {col} hör inte dit",
                               f"indicator {ind.measure_id} is {ind.unit_type.value}; {col} does not belong")
        if (ci_low is None) != (ci_high is None):
            raise self.err("ConfidenceIntervalHigher", "CI", "ange både undre och övre konfidensgräns",
                           "give both confidence limits")
        if ci_low is not None:
            if ci_low > ci_high:
                raise self.err("ConfidenceIntervalLower", "CI", "undre konfidensgräns är större än den övre",
                               "the lower confidence limit is above the upper")
            check_interval(ci_low, ci_high)
        if kind is MeasureKind.PROPORTION:
            num = self.number(c, "Numerator", integer=True)
            den = self.number(c, "Denominator", integer=True)
            rate = self.number(c, "Rate") if get("Rate") else None
            if num is None or den is None:
                col = "Numerator" if num is None else "Denominator"
                raise self.err(col, "RATE_NEEDS_COUNTS", "en andel (Rate) kräver både Numerator och Denominator",
                               "a rate needs both Numerator and Denominator")
            if den == 0:
                raise self.err("Denominator", "ZERO_DENOMINATOR", "nämnaren är 0 – rapportera ReasonCode INV i stället",
                               "the denominator is 0: report ReasonCode INV instead")
            if num > den:
                raise self.err("Numerator", "NUM_GT_DEN", f"täljaren {num:g} är större än nämnaren {den:g}",
                               f"numerator {num:g} exceeds denominator {den:g}")
            if rate is not None and abs(rate - num / den) > RATE_TOLERANCE:
                raise self.err("Rate", "RATE_MISMATCH",
                               f"Rate {rate:g} ≠ Numerator/Denominator = {num:g}/{den:g} = {num / den:.4f} (tolerans ±{RATE_TOLERANCE})",
                               f"Rate {rate:g} is not {num:g}/{den:g} = {num / den:.4f} (tolerance ±{RATE_TOLERANCE})")
            rate = check_proportion(num, den, rate)
            if ci_low is None:
                ci_low, ci_high = self._wilson(num, den)
            else:
                check_contains(ci_low, ci_high, rate)
            return ("proportion", rate, num, den, None, None, None, None, ci_low, ci_high, sd)
        if kind is MeasureKind.CONTINUOUS:
            value = self.number(c, "Value", minimum=None)
            if value is None:
                raise self.err("Value", "MISSING_VALUE", "Value saknas", "Value is empty")
            pop = self.number(c, "Measurepopulation", integer=True)
            if pop == 0:
                raise self.err("Measurepopulation", "ZERO_POPULATION", "mätpopulationen är 0 – rapportera ReasonCode INV i stället",
                               "the measure population is 0: report ReasonCode INV instead")
            check_continuous(value, pop)
            if ci_low is not None:
                check_contains(ci_low, ci_high, value)
            return ("continuous", None, None, None, value, pop, None, None, ci_low, ci_high, sd)
        count = self.number(c, "Cohort", integer=True)
        if count is None:  # VIS "ready" files put counts in Value
            count = self.number(c, "Value", integer=True)
        if count is None:
            raise self.err("Cohort", "MISSING_VALUE", "Cohort saknas", "Cohort is empty")
        check_cohort(count)
        if ci_low is not None:
            check_contains(ci_low, ci_high, count)
        return ("cohort", None, None, None, None, None, count, None, ci_low, ci_high, sd)

    def _wilson(self, num: float, den: float) -> tuple[float, float]:
        """Wilson interval, memoised: a file repeats the same (numerator, denominator) pairs often."""
        key = (num, den)
        ci = self._wilson_cache.get(key)
        if ci is None:
            ci = wilson_interval(num, den)
            if len(self._wilson_cache) < 100_000:
                self._wilson_cache[key] = ci
        return ci


_WRONG_COLUMNS = {
    MeasureKind.PROPORTION: ("Value", "Measurepopulation", "Cohort"),
    MeasureKind.CONTINUOUS: ("Rate", "Numerator", "Denominator", "Cohort"),
    MeasureKind.COHORT: ("Rate", "Numerator", "Denominator", "Measurepopulation"),
}

# A checked row: measure id, version, Period, Organisation, SourceSystem, stratum, then the values of
# ``_result`` and coverage, exclusions, reference interval.
Row = tuple


_FIELD_COLUMNS = {
    "rate": "Rate", "numerator": "Numerator", "denominator": "Denominator", "coverage": "Coverage",
    "measurePopulation": "Measurepopulation", "value": "Value", "cohort": "Cohort",
}


def _column_of(exc: DomainError) -> str | None:
    if exc.code.startswith("CI"):
        return "ConfidenceIntervalLower"
    return _FIELD_COLUMNS.get(exc.field or "")

