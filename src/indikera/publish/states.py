"""The publication state machines, pure: which changes are allowed and what they lead to.

Indicator: unpublished → restricted → open (in any order, each with a reason; publishing needs a
description without errors), and de-publish takes a published indicator to "de-published" (level
unpublished, every period rule included). Batch: applied → approved → depublished, and a de-published
batch can be approved again. A change to the state it already has is "unchanged", not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..domain.errors import IndikeraError
from .visibility import Level

MIN_REASON_CHARS = 3
INHERITED = "inherited"  # a period without its own rule follows the indicator-wide level


class IndicatorState(str, Enum):
    UNPUBLISHED = "unpublished"
    RESTRICTED = "restricted"
    OPEN = "open"
    DEPUBLISHED = "depublished"  # level unpublished, reached by de-publication

    @property
    def level(self) -> Level:
        return Level.UNPUBLISHED if self is IndicatorState.DEPUBLISHED else Level(self.value)


class BatchState(str, Enum):
    APPLIED = "applied"
    APPROVED = "approved"
    DEPUBLISHED = "depublished"


class PublishError(IndikeraError):
    """A publication change that is refused; its texts come from the message catalogue (``domain.messages``).

    ``details`` carries the catalogue findings that stopped a publication (shown by the CLI, and as the
    ``findings`` member of the admin API's problem).
    """

    def __init__(self, code: str, *, details: list | None = None, **params: object) -> None:
        super().__init__(code, **params)
        self.details = details or []


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise PublishError("REASON", n=MIN_REASON_CHARS)
    return text


@dataclass(frozen=True)
class Transition:
    before: str
    after: str
    action: str  # publish | unpublish | depublish | approve | depublish-batch

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_level(current: IndicatorState, target: Level, *, description_errors: int | None, key: str = "") -> Transition:
    """Publish at ``target``. ``description_errors`` None means there is no description at all."""
    after = IndicatorState(target.value)
    if target is not Level.UNPUBLISHED and (description_errors is None or description_errors > 0):
        raise PublishError("NO_DESCRIPTION" if description_errors is None else "DESCRIPTION_ERRORS", key=key, n=description_errors or 0)
    if current is IndicatorState.DEPUBLISHED and after is IndicatorState.UNPUBLISHED:
        after = current  # already out of every channel
    return Transition(current.value, after.value, "unpublish" if target is Level.UNPUBLISHED else "publish")


def depublish(current: IndicatorState) -> Transition:
    if current in (IndicatorState.UNPUBLISHED, IndicatorState.DEPUBLISHED):
        return Transition(current.value, current.value, "depublish")
    return Transition(current.value, IndicatorState.DEPUBLISHED.value, "depublish")


def approve(current: BatchState) -> Transition:
    return Transition(current.value, BatchState.APPROVED.value, "approve")


def depublish_batch(current: BatchState) -> Transition:
    return Transition(current.value, BatchState.DEPUBLISHED.value, "depublish-batch")


__all__ = [
    "MIN_REASON_CHARS",
    "BatchState",
    "IndicatorState",
    "PublishError",
    "Transition",
    "approve",
    "check_reason",
    "depublish",
    "depublish_batch",
    "set_level",
]
