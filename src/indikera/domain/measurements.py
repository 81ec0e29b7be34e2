"""Measurements (indikatorvärden) and the contract's rules for a single value (R10–R14)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import Enum

from . import oids
from .errors import DomainError
from .indicators import MeasureKind, check_measure_id
from .organisations import Organisation
from .periods import Period


class ReasonCode(str, Enum):
    MSK = "MSK"  # known but hidden: below the display threshold
    INV = "INV"  # denominator or measure population is 0
    UNK = "UNK"  # the organisation has not reported
    NI = "NI"  # other or unknown reason


# Relative tolerance for rate = numerator / denominator. Registries round rates to a few decimals;
# 0.0005 absolute accepts a rate rounded to three decimals and still catches 1.0 for 5/10.
RATE_TOLERANCE = 0.0005


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DomainError(
            "NOT_A_NUMBER",
            f"{name} måste vara ett tal, inte {value!r}",
            f"{name} must be a number, not {value!r}",
            field=name,
        )
    if not math.isfinite(value):
        raise DomainError(
            "NOT_FINITE",
            f"{name} måste vara ett ändligt tal, inte {value!r}",
            f"{name} must be a finite number, not {value!r}",
            field=name,
        )
    return float(value)


def _opt(value: float | None, name: str) -> float | None:
    return None if value is None else _finite(value, name)


# The rules for single values, as functions of plain numbers: the dataclasses below call them, and the
# importer calls them directly so that a million rows need not become a million objects first.


def check_interval(low: float, high: float) -> None:
    low, high = _finite(low, "ci_low"), _finite(high, "ci_high")
    if not 0 <= low <= high:
        raise DomainError(
            "CI",
            f"konfidensintervallet måste uppfylla 0 ≤ nedre ≤ övre, fick {low}–{high}",
            f"confidence interval must satisfy 0 ≤ low ≤ high, got {low}–{high}",
        )


def check_contains(low: float, high: float, point: float) -> None:
    if not low <= point <= high:
        raise DomainError(
            "CI_EXCLUDES_VALUE",
            f"konfidensintervallet {low}–{high} innehåller inte värdet {point}",
            f"confidence interval {low}–{high} does not contain the value {point}",
        )


def check_proportion(numerator: float, denominator: float, rate: float | None) -> float:
    """The checked rate of a proportion (numerator / denominator when not given)."""
    num, den = _finite(numerator, "numerator"), _finite(denominator, "denominator")
    if den == 0:
        raise DomainError(
            "ZERO_DENOMINATOR",
            "en nämnare som är noll är aldrig ett värde: rapportera saknat värde (INV)",
            "a zero denominator is never a value: report missing/INV",
        )
    if den < 0 or num < 0:
        raise DomainError(
            "NEGATIVE",
            "täljare och nämnare kan inte vara negativa",
            "numerator and denominator cannot be negative",
        )
    if num > den:
        raise DomainError(
            "NUM_GT_DEN",
            f"täljaren {num:g} är större än nämnaren {den:g}",
            f"numerator {num:g} is larger than denominator {den:g}",
        )
    exact = num / den
    rate = exact if rate is None else _finite(rate, "rate")
    if not 0 <= rate <= 1:
        raise DomainError(
            "RATE_RANGE",
            f"andelen {rate} ligger utanför [0, 1]",
            f"rate {rate} is outside [0, 1]",
            field="rate",
        )
    if abs(rate - exact) > RATE_TOLERANCE:
        raise DomainError("RATE_MISMATCH", f"andelen {rate} är inte täljare/nämnare = {num:g}/{den:g} = {exact:.6f}",
                          f"rate {rate} is not numerator/denominator = {num:g}/{den:g} = {exact:.6f}",
                          field="rate")
    return rate


def check_continuous(value: float, population: float | None) -> None:
    _finite(value, "value")
    pop = _opt(population, "measurePopulation")
    if pop is not None and pop <= 0:
        raise DomainError(
            "ZERO_POPULATION",
            "en population som är noll eller negativ är aldrig ett värde: rapportera saknat värde (INV)",
            "a zero or negative measure population is never a value: report missing/INV",
        )


def check_cohort(count: float) -> None:
    if _finite(count, "cohort") < 0:
        raise DomainError("NEGATIVE", "ett antal i en kohort kan inte vara negativt", "a cohort count cannot be negative")


# Plausibility limits: a number past these is an error in the file (a typo, a pasted id, an overflow),
# not a measurement, and as a float it would silently lose digits (99999999999999999999 → 1e20).
MAX_COUNT = 10**9  # numerator, denominator, measure population, cohort, exclusions: whole numbers
MAX_MAGNITUDE = 10**12  # a continuous value, its confidence limits, standard deviation, reference interval


def check_plausible(value: float, name: str, *, count: bool) -> None:
    """A count at most :data:`MAX_COUNT`, any other number at most :data:`MAX_MAGNITUDE` in size.
    (Rates and coverage have their own range, 0–1: ``check_proportion``, ``check_extras``.)"""
    limit = MAX_COUNT if count else MAX_MAGNITUDE
    if abs(value) > limit:
        what_sv, what_en = ("ett antal", "a count") if count else ("ett värde", "a value")
        raise DomainError(
            "IMPLAUSIBLE",
            f"{name} = {value:.6g} är orimligt stort: {what_sv} får vara högst {limit:.0e}",
            f"{name} = {value:.6g} is implausibly large: {what_en} may be at most {limit:.0e}",
            field=name,
        )


def check_extras(standard_deviation: float | None, coverage: float | None, exclusions: float | None,
                 reference_interval: float | None) -> None:
    _opt(standard_deviation, "standard_deviation")
    _opt(exclusions, "exclusions")
    _opt(reference_interval, "reference_interval")
    if standard_deviation is not None and standard_deviation < 0:
        raise DomainError("NEGATIVE", "standardavvikelsen kan inte vara negativ", "standard deviation cannot be negative")
    if coverage is not None and not 0 <= _finite(coverage, "coverage") <= 1:
        raise DomainError(
            "COVERAGE_RANGE",
            f"täckningsgraden {coverage} ligger utanför [0, 1]",
            f"coverage {coverage} is outside [0, 1]",
            field="coverage",
        )


@dataclass(frozen=True)
class ConfidenceInterval:
    low: float
    high: float

    def __post_init__(self) -> None:
        check_interval(self.low, self.high)


@dataclass(frozen=True)
class Proportion:
    numerator: float
    denominator: float
    rate: float | None = None  # computed from numerator/denominator when not given

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", check_proportion(self.numerator, self.denominator, self.rate))

    @property
    def point(self) -> float:
        assert self.rate is not None
        return self.rate


@dataclass(frozen=True)
class Continuous:
    value: float
    population: float | None = None

    def __post_init__(self) -> None:
        check_continuous(self.value, self.population)

    @property
    def point(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Cohort:
    count: float

    def __post_init__(self) -> None:
        check_cohort(self.count)

    @property
    def point(self) -> float:
        return float(self.count)


@dataclass(frozen=True)
class Missing:
    reason: ReasonCode

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "reason", ReasonCode(self.reason))
        except ValueError:
            raise DomainError(
                "REASON_CODE",
                f"{self.reason!r} är inte MSK, INV, UNK eller NI",
                f"{self.reason!r} is not MSK, INV, UNK or NI",
            ) from None


Result = Proportion | Continuous | Cohort | Missing


def kind_of(result: Result) -> MeasureKind | None:
    """The measure kind of a result; ``None`` for a missing value (valid for every kind)."""
    if isinstance(result, Proportion):
        return MeasureKind.PROPORTION
    if isinstance(result, Continuous):
        return MeasureKind.CONTINUOUS
    if isinstance(result, Cohort):
        return MeasureKind.COHORT
    return None


@dataclass(frozen=True)
class SourceSystem:
    root: str
    extension: str
    name: str

    def __post_init__(self) -> None:
        if self.root not in oids.SOURCE_SYSTEM_ROOTS:
            raise DomainError(
                "SOURCE_SYSTEM",
                f"sourceSystem måste ha en av rötterna {sorted(oids.SOURCE_SYSTEM_ROOTS)}",
                f"sourceSystem root must be one of {sorted(oids.SOURCE_SYSTEM_ROOTS)}",
            )
        if not self.extension or not self.name:
            raise DomainError(
                "SOURCE_SYSTEM",
                "sourceSystem behöver ett id och ett namn",
                "sourceSystem needs an id and a name",
            )


@dataclass(frozen=True)
class Measurement:
    """One value of one indicator for one organisation, period and stratum."""

    measure_id: str
    version: int
    period: Period
    organisation: Organisation
    result: Result
    source_system: SourceSystem
    stratum: str = ""
    ci: ConfidenceInterval | None = None
    standard_deviation: float | None = None
    coverage: float | None = None
    exclusions: float | None = None
    reference_interval: float | None = None
    first_encounter: date | None = None
    last_encounter: date | None = None

    def __post_init__(self) -> None:
        check_measure_id(self.measure_id)
        if not isinstance(self.version, int) or self.version < 1:
            raise DomainError(
                "VERSION",
                "measureIdVersionNumber måste vara ett positivt heltal",
                "measureIdVersionNumber must be a positive integer",
            )
        if not isinstance(self.result, (Proportion, Continuous, Cohort, Missing)):
            raise DomainError(
                "MEASURE_KIND",
                "en mätning har exakt ett slags mått",
                "a measurement has exactly one measure kind",
            )
        check_extras(self.standard_deviation, self.coverage, self.exclusions, self.reference_interval)
        if isinstance(self.result, Missing):
            if self.ci is not None or self.standard_deviation is not None:
                raise DomainError(
                    "MISSING_WITH_VALUE",
                    "ett saknat värde har inget konfidensintervall eller standardavvikelse",
                    "a missing value carries no CI or standard deviation",
                )
        elif self.ci is not None:
            check_contains(self.ci.low, self.ci.high, self.result.point)
        if self.first_encounter and self.last_encounter and self.first_encounter > self.last_encounter:
            raise DomainError(
                "ENCOUNTER_ORDER",
                "firstServiceEncounter ligger efter lastServiceEncounter",
                "firstServiceEncounter is after lastServiceEncounter",
            )

    @property
    def kind(self) -> MeasureKind | None:
        return kind_of(self.result)

    @property
    def key(self) -> tuple[str, Period, str, str]:
        """Rule R9: one value per (indicator, period, organisation, stratum)."""
        return (self.measure_id, self.period, self.organisation.key, self.stratum)
