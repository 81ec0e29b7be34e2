"""Measure periods: inclusive YYYYMMDD date ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .errors import DomainError

_DATE = re.compile(r"^(19|20)\d\d(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])$")


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse the contract's DateType (YYYYMMDD, years 1900–2099) into a real calendar date."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise DomainError(
            "BAD_DATE",
            f"{text!r} är inget datum på formen ÅÅÅÅMMDD",
            f"{text!r} is not a date of the form YYYYMMDD",
            field=field,
        )
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise DomainError(
            "BAD_DATE",
            f"{text!r} är inget kalenderdatum",
            f"{text!r} is not a calendar date",
            field=field,
        ) from None


def format_date(value: date) -> str:
    return value.strftime("%Y%m%d")


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive period [start, end]."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not (isinstance(self.start, date) and isinstance(self.end, date)):
            raise DomainError(
                "BAD_PERIOD",
                "en period behöver ett start- och ett slutdatum",
                "a period needs a start and an end date",
            )
        if self.start > self.end:
            raise DomainError(
                "PERIOD_ORDER",
                f"periodens start {format_date(self.start)} ligger efter dess slut {format_date(self.end)}",
                f"period start {format_date(self.start)} is after its end {format_date(self.end)}",
            )
        if not (1900 <= self.start.year <= 2099 and 1900 <= self.end.year <= 2099):
            raise DomainError(
                "BAD_PERIOD",
                "kontraktet tillåter bara åren 1900–2099",
                "the contract only allows years 1900–2099",
            )

    @classmethod
    def parse(cls, start: str, end: str) -> "Period":
        return cls(parse_date(start, field="start"), parse_date(end, field="end"))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, other: "Period") -> bool:
        """True when ``other`` lies fully inside this period (rule R1)."""
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: "Period") -> bool:
        return self.start <= other.end and other.start <= self.end

    def same_length(self, other: "Period") -> bool:
        """Same calendar length: same number of months for month-aligned periods, else same day count."""
        return period_length_key(self) == period_length_key(other)

    def __str__(self) -> str:
        return f"{format_date(self.start)}–{format_date(self.end)}"


def period_length_key(period: Period) -> tuple[str, int]:
    """A key that says how long a period is, robust to months of different lengths.

    A period that starts on the 1st and ends on a month's last day has a length in months
    (a quarter is 3, a year is 12); any other period is measured in days.
    """
    start, end = period.start, period.end
    nxt = date.fromordinal(end.toordinal() + 1)
    if start.day == 1 and nxt.day == 1:
        months = (nxt.year - start.year) * 12 + (nxt.month - start.month)
        return ("months", months)
    return ("days", period.days)
