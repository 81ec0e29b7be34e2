"""The one base error, and the errors raised when a value would break a rule of the contract.

Every error indikera reports derives from ``IndikeraError``: a stable ``code`` (for programs and the
``type`` of an HTTP problem), its parameters, and one Swedish and one English text (for people). The texts
come from the message catalogue (``messages.MESSAGES``) by code, or are given explicitly, Swedish first, when
they name a particular value. The CLI, the HTTP APIs and the SOAP faults all render from these fields.
"""

from __future__ import annotations

from . import messages


class IndikeraError(Exception):
    """A refusal people must act on: ``code`` is stable, ``sv`` and ``en`` say what is wrong and how to fix it."""

    def __init__(self, code: str, sv: str | None = None, en: str | None = None, /, **params: object) -> None:
        if sv is None:
            sv, en = messages.render(code, params)
        self.code = code
        self.params = params
        self.sv = sv
        self.en = en if en is not None else sv
        super().__init__(f"{code}: {sv}")

    @property
    def message(self) -> str:
        """The Swedish text (the default language of every channel)."""
        return self.sv

    @property
    def message_en(self) -> str:
        return self.en

    def text(self, lang: str = "sv") -> str:
        return self.en if lang.lower().startswith("en") else self.sv

    def __str__(self) -> str:
        return f"{self.code}: {self.sv}"


class DomainError(IndikeraError, ValueError):
    """A value breaks a domain rule; ``field`` names the contract field when there is one."""

    def __init__(self, code: str, sv: str | None = None, en: str | None = None, /, *, field: str | None = None, **params: object) -> None:
        super().__init__(code, sv, en, **params)
        self.field = field

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.sv}"


__all__ = ["DomainError", "IndikeraError"]
