"""Errors raised when a value would break a rule of the contract."""

from __future__ import annotations


class DomainError(ValueError):
    """A value breaks a domain rule. ``code`` is stable (for programs), ``message`` is for people."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:  # pragma: no cover - trivial
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"
