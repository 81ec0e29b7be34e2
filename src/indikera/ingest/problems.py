"""Problems found in an imported file: where (file, line, column) and why, in Swedish and English."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import IndikeraError

SHOWN = 100  # problems listed to the user; all are counted


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # 1-based physical line (CSV, JSON) or row number (XLSX); None: the whole file
    column: str | None
    code: str  # stable, for programs and tests
    sv: str
    en: str

    def render(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        col = f" kolumn {self.column}:" if self.column else ""
        return f"{where}:{col} {self.sv} ({self.en})"


class Fatal(IndikeraError):
    """The file cannot be read further (binary data, broken header, overlong line); ``code`` is the problem's."""

    def __init__(self, code: str, sv: str | None = None, en: str | None = None) -> None:
        if sv is None:  # the particulars are in the Problems list; this says what it means for the import
            super().__init__("IMPORT_UNREADABLE")
            self.code = code
        else:
            super().__init__(code, sv, en)


class Problems:
    """Collects problems; keeps the first :data:`SHOWN` and counts the rest."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.shown: list[Problem] = []
        self.total = 0

    def add(self, line: int | None, column: str | None, code: str, sv: str, en: str) -> None:
        self.total += 1
        if len(self.shown) < SHOWN:
            self.shown.append(Problem(self.file, line, column, code, sv, en))

    def extend(self, shown: list[Problem], total: int) -> None:
        """Add another reader's problems (a later part of the same file): as if they had been added here."""
        self.shown.extend(shown[:max(0, SHOWN - len(self.shown))])
        self.total += total

    def fatal(self, line: int | None, column: str | None, code: str, sv: str, en: str) -> Fatal:
        self.add(line, column, code, sv, en)
        return Fatal(code, sv, en)

    def __bool__(self) -> bool:
        return self.total > 0

    def codes(self) -> list[str]:
        return [p.code for p in self.shown]
