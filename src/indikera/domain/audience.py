"""Who asks for data: the value the visibility rule (``publish.visibility``) and the identity layer share.

It lives in the domain so that ``access`` (which decides who is calling) and ``publish`` (which decides what
that caller may see) both depend on it instead of on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Audience:
    """Who asks. ``consumer_hsa_id`` None is the anonymous public (open data, unidentified callers)."""

    consumer_hsa_id: str | None = None
    on: date = field(default_factory=date.today)

    @property
    def is_public(self) -> bool:
        return self.consumer_hsa_id is None


PUBLIC = Audience()
