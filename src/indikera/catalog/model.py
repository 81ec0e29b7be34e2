"""The indicator description (IS IndikatorBeskrivning / KIK fields) as pure, immutable values.

A description is versioned ``major.minor``. Results (measurements) refer to the major version only;
a minor version changes texts, frequencies or levels without changing how the indicator is computed
(IS: versionsNummer). Nothing here does I/O, so the model is usable from every adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from ..domain.indicators import Frequency, Indicator, MeasureKind, Sex, UnitType
from ..domain.organisations import OrgType


class Direction(str, Enum):
    """eftersträvansvärtVärde: whether a high or a low value means good quality."""

    HIGH = "high"  # högt
    LOW = "low"  # lågt
    UNKNOWN = "unknown"  # NullFlavor UNK


class IndicatorType(str, Enum):
    """Socialstyrelsen's typ av indikator."""

    STRUKTUR = "struktur"
    PROCESS = "process"
    RESULTAT = "resultat"


class TargetLevel(str, Enum):
    """målvärdesKod."""

    MALNIVA = "målnivå"
    MATTLIG = "måttlig målnivå"
    HOG = "hög målnivå"


class RegionAssignment(str, Enum):
    """regionstillhörighetsberäkning: by the patient's home county or by the unit's location."""

    HOME = "home"
    UNIT = "unit"


# Finest first: the indicator's primary frequency (the one results are usually loaded at) is the finest
# of the frequencies it supports.
FREQUENCY_ORDER: tuple[Frequency, ...] = (
    Frequency.MONTH,
    Frequency.QUARTER,
    Frequency.HALF_YEAR,
    Frequency.ROLLING_12,
    Frequency.YEAR,
)

# The texts the catalogue's editors require of every published indicator (kvalitetsrapportera.se),
# in the order they are shown. Keys are the JSON names under ``texts``.
REQUIRED_TEXTS: tuple[tuple[str, str], ...] = (
    ("coverage", "täckningsgrad"),
    ("dropout", "bortfall"),
    ("reporting", "hur inrapporteringen gått till"),
    ("interpretation", "case-mix och tolkningsproblem"),
    ("sourcesOfError", "felkällor"),
)
OPTIONAL_TEXTS: tuple[tuple[str, str], ...] = (
    ("interpretationStaff", "tolkningstext för personal"),
    ("interpretationPublic", "tolkningstext för allmänheten"),
)
TEXT_KEYS: tuple[str, ...] = tuple(k for k, _ in REQUIRED_TEXTS + OPTIONAL_TEXTS)
# Every description field with a text people read, by JSON path: the keys of ``Description.en`` (the English
# texts; ``localize.localized`` falls back to Swedish where one is missing).
TRANSLATABLE: tuple[str, ...] = (
    "title", "shortTitle", "description", "purpose", "unit", "numerator", "denominator", "valueDefinition",
    "inclusionCriteria", "exclusionCriteria", "targetPopulation", "measurePopulation",
) + tuple(f"texts.{k}" for k in TEXT_KEYS)


@dataclass(frozen=True)
class Person:
    """An owner or author, identified by HSA-id (OID 1.2.752.129.2.1.4.1)."""

    hsa_id: str
    name: str | None = None


@dataclass(frozen=True)
class Code:
    """A coded value: a selection (urval) or a sub-category (stratum beyond sex), e.g. an ICD-10 or KVÅ code."""

    code: str
    system: str | None = None  # the code system: an OID (1.2.752.116.1.1.1) or a URI
    display: str | None = None


@dataclass(frozen=True)
class Target:
    """A målvärde: the value the result must at least reach (or at most, for 'low is good')."""

    level: TargetLevel
    organisation: str  # "riket" or the HSA-id of a huvudman/organisation
    value: float
    valid_from: date
    valid_to: date | None = None
    responsible: str | None = None  # målvärdesansvarig (HSA-id)
    unit: str | None = None  # the target's own unit where it differs from the indicator's (e.g. "%" for a rate)


@dataclass(frozen=True)
class ValueRange:
    """The range results can take (a rate is always within 0..1); targets must lie inside it."""

    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Description:
    measure_id: str
    version_major: int
    version_minor: int
    title: str
    short_title: str  # mått: axis label
    description: str
    purpose: str
    sources: tuple[str, ...]
    direction: Direction
    indicator_type: IndicatorType
    unit_type: UnitType
    measure_kind: MeasureKind
    frequencies: tuple[Frequency, ...]
    levels: tuple[OrgType, ...]
    owner: Person
    texts: dict[str, str]  # REQUIRED_TEXTS and OPTIONAL_TEXTS by JSON key
    valid_from: date
    valid_to: date | None = None
    unit: str | None = None  # unit of a continuous value, e.g. "minuter", "mmol/mol"
    numerator: str | None = None
    denominator: str | None = None
    value_definition: str | None = None
    inclusion_criteria: str | None = None
    exclusion_criteria: str | None = None
    groups: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[Person, ...] = ()
    targets: tuple[Target, ...] = ()
    value_range: ValueRange | None = None
    parent_measure_id: str | None = None
    sex: Sex | None = None
    display_threshold: int | None = None
    region_assignment: RegionAssignment | None = None
    # The national catalogue's fields (issue #16 item 5); docs/catalogue.md.
    target_population: str | None = None  # målpopulation
    measure_population: str | None = None  # mätpopulation
    regional_indicator: bool | None = None  # regional indikator (not national)
    authored_at: date | None = None  # when the description was written
    reviewer: Person | None = None  # granskare
    selections: tuple[Code, ...] = ()  # coded urval
    sub_categories: tuple[Code, ...] = ()  # strata beyond sex
    reporting_system: Person | None = None  # the producer system consumers address (HSA-id and name)
    reporting_organisation: Person | None = None  # the reporting organisation (HSA-id and name)
    unit_ucum: str | None = None  # the unit in UCUM (``min``, ``mmol/mol``, ``%``)
    en: dict[str, str] = field(default_factory=dict)  # English texts by JSON path (``TRANSLATABLE``)

    def __hash__(self) -> int:  # dict fields make the generated hash fail; the key identifies a version
        return hash((self.measure_id, self.version_major, self.version_minor))

    @property
    def version(self) -> tuple[int, int]:
        return (self.version_major, self.version_minor)

    @property
    def version_text(self) -> str:
        return f"{self.version_major}.{self.version_minor}"

    @property
    def primary_frequency(self) -> Frequency:
        for f in FREQUENCY_ORDER:
            if f in self.frequencies:
                return f
        return Frequency.YEAR

    def default_range(self) -> ValueRange:
        """The explicit range, or what the unit type allows (a rate 0..1, everything else ≥ 0)."""
        if self.value_range is not None:
            return self.value_range
        if self.unit_type is UnitType.ANDEL:
            return ValueRange(0.0, 1.0)
        return ValueRange(0.0, None)

    def to_indicator(self) -> Indicator:
        """The identity row results are imported against (``store.tables.indicators``)."""
        return Indicator(
            measure_id=self.measure_id,
            version=self.version_major,
            title=self.title,
            unit_type=self.unit_type,
            frequency=self.primary_frequency,
            levels=frozenset(self.levels),
            parent_measure_id=self.parent_measure_id,
            sex=self.sex,
            display_threshold=self.display_threshold,
        )


__all__ = [
    "FREQUENCY_ORDER",
    "OPTIONAL_TEXTS",
    "REQUIRED_TEXTS",
    "TEXT_KEYS",
    "TRANSLATABLE",
    "Code",
    "Description",
    "Direction",
    "IndicatorType",
    "Person",
    "RegionAssignment",
    "Target",
    "TargetLevel",
    "ValueRange",
]
