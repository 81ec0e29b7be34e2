"""Indicator identity: KIK measure id, major version, measure kind, unit type and sub-measures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from .errors import DomainError
from .organisations import OrgType


class MeasureKind(str, Enum):
    """Which of the contract's measure elements carries the indicator's values."""

    PROPORTION = "proportion"  # proportionMeasure: rate = numerator / denominator
    CONTINUOUS = "continuous"  # continuousVariableMeasure: value over a measure population
    COHORT = "cohort"  # cohortMeasure: a count


class UnitType(str, Enum):
    """KIK unit types; each implies one measure kind (rule R10)."""

    ANDEL = "Andel"
    DAGAR = "Dagar"
    MEDIAN = "Median"
    MEDELVARDE = "Medelvärde"
    ANTAL = "Antal"

    @property
    def kind(self) -> MeasureKind:
        if self is UnitType.ANDEL:
            return MeasureKind.PROPORTION
        if self is UnitType.ANTAL:
            return MeasureKind.COHORT
        return MeasureKind.CONTINUOUS


class Frequency(str, Enum):
    YEAR = "year"
    HALF_YEAR = "half-year"
    QUARTER = "quarter"
    MONTH = "month"
    ROLLING_12 = "rolling-12-months"


class Sex(str, Enum):
    """Sex sub-measures have their own KIK ids and point to a parent (IS: könsuppdelade delmått)."""

    FEMALE = "K"
    MALE = "M"


_MEASURE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def check_measure_id(value: str) -> str:
    """KIK ids are short numbers or UUIDs; anything else cannot be a key."""
    if not isinstance(value, str) or not _MEASURE_ID.fullmatch(value):
        raise DomainError(
            "MEASURE_ID",
            f"{value!r} är inget giltigt KIK-id (MeasureID)",
            f"{value!r} is not a valid KIK measure id",
            field="measureId",
        )
    return value


@dataclass(frozen=True)
class Indicator:
    measure_id: str
    version: int
    title: str
    unit_type: UnitType
    frequency: Frequency = Frequency.YEAR
    levels: frozenset[OrgType] = field(default_factory=lambda: frozenset(OrgType))
    parent_measure_id: str | None = None
    sex: Sex | None = None
    display_threshold: int | None = None

    def __post_init__(self) -> None:
        check_measure_id(self.measure_id)
        if not isinstance(self.version, int) or self.version < 1:
            raise DomainError(
                "VERSION",
                f"huvudversionen måste vara ett positivt heltal, inte {self.version!r}",
                f"major version must be a positive integer, not {self.version!r}",
            )
        if not self.title or not self.title.strip():
            raise DomainError("TITLE", "en indikator måste ha en titel", "an indicator needs a title")
        object.__setattr__(self, "unit_type", UnitType(self.unit_type))
        if (self.parent_measure_id is None) != (self.sex is None):
            raise DomainError(
                "SUB_MEASURE",
                "en könsuppdelad delindikator behöver både huvudindikatorns id och kön (K eller M)",
                "a sex sub-measure needs both its parent measure id and its sex (K or M)",
            )
        if self.parent_measure_id is not None:
            check_measure_id(self.parent_measure_id)
            if self.parent_measure_id == self.measure_id:
                raise DomainError(
                    "SUB_MEASURE",
                    "en delindikator kan inte vara sin egen huvudindikator",
                    "a sub-measure cannot be its own parent",
                )
        if self.display_threshold is not None and self.display_threshold < 0:
            raise DomainError("THRESHOLD", "visningsgränsen kan inte vara negativ", "display threshold cannot be negative")

    @property
    def kind(self) -> MeasureKind:
        return self.unit_type.kind
