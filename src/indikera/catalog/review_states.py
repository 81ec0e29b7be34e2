"""The description review state machine, pure: which transitions are allowed and who may make them.

A description version is written as a *draft*; its author (or anyone) submits it for review (*in_review*);
another person approves it (*approved*) or rejects it (*rejected*, final: a fix comes as a new version);
an approved version is published (*published*), which makes the previously published version of the same
indicator *superseded*. Only published (and superseded, as history) versions reach any channel. The approver
must differ from the author unless the registry allows self-approval (setting ``catalog_self_approval``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..domain.errors import IndikeraError

MIN_REASON_CHARS = 3


class Status(str, Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"


# What the channels (open data, DCAT, SOAP-side reads, the UI) may show: the current published version and,
# as history, the ones it superseded. Everything else is visible only to staff (preview, CLI, admin API).
SHOWN: tuple[Status, ...] = (Status.PUBLISHED, Status.SUPERSEDED)


class Action(str, Enum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"


_MOVES: dict[Action, tuple[tuple[Status, ...], Status]] = {
    Action.SUBMIT: ((Status.DRAFT,), Status.IN_REVIEW),
    Action.APPROVE: ((Status.IN_REVIEW,), Status.APPROVED),
    Action.REJECT: ((Status.DRAFT, Status.IN_REVIEW, Status.APPROVED), Status.REJECTED),
    Action.PUBLISH: ((Status.APPROVED,), Status.PUBLISHED),
}


class ReviewError(IndikeraError):
    """A review transition that is refused (wrong state, approver is the author, no reason)."""

    _STATUS = {"REVIEW_NOT_FOUND": 404, "REVIEW_REASON": 422, "REVIEW_VERSION": 422}

    @property
    def status(self) -> int:  # the HTTP status the admin API answers with (problem+json)
        return self._STATUS.get(self.code, 409)


@dataclass(frozen=True)
class Move:
    before: Status
    after: Status
    action: Action


def move(current: Status, action: Action, *, key: str) -> Move:
    allowed, after = _MOVES[action]
    if current not in allowed:
        raise ReviewError(
            "REVIEW_TRANSITION",
            f"{key}: '{action.value}' går inte i status {current.value} (tillåtet från: {', '.join(s.value for s in allowed)}).",
            f"{key}: '{action.value}' is not possible in status {current.value} (allowed from: {', '.join(s.value for s in allowed)}).",
        )
    return Move(current, after, action)


def check_approver(author: str, approver: str, *, self_approval: bool, key: str) -> None:
    """The four-eyes rule: the approver is another person than the author (unless the setting relaxes it)."""
    if not self_approval and approver.strip().casefold() == author.strip().casefold():
        raise ReviewError(
            "REVIEW_SELF_APPROVAL",
            f"{key}: {approver} skrev versionen och kan inte själv godkänna den; en annan person måste granska "
            "(inställningen catalog_self_approval tillåter det i ett enmansregister).",
            f"{key}: {approver} wrote this version and cannot approve it; another person must review it "
            "(the setting catalog_self_approval allows it for a one-person registry).",
        )


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise ReviewError("REVIEW_REASON", f"Ange ett skäl (minst {MIN_REASON_CHARS} tecken).",
                          f"Give a reason (at least {MIN_REASON_CHARS} characters).")
    return text


__all__ = ["SHOWN", "Action", "Move", "ReviewError", "Status", "check_approver", "check_reason", "move"]
