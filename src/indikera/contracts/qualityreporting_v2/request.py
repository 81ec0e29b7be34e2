"""Read a GetQualityIndicators request: schema-validate it, then turn it into a :class:`Query`.

Schema-invalid requests are technical errors (SOAP Client fault, rule R3). Requests that are valid but
cannot match anything (an unknown or foreign measureId, a date that is not in the calendar, a period
whose start is after its end) are logical errors, and the TKB (§4.3) answers those with a normal answer
without values, never a fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from ...domain import oids
from ...domain.errors import DomainError
from ...domain.periods import Period
from .. import xmlsafe
from ..soap import client_fault
from . import CORE_NS, REQUEST, RESPONDER_NS, RESPONDER_XSD

_MEASURE_ID = f"{{{RESPONDER_NS}}}measureId"
_PERIOD = f"{{{RESPONDER_NS}}}reportingPeriod"
_INCLUDE = f"{{{RESPONDER_NS}}}includeMeasurements"
_ROOT = f"{{{CORE_NS}}}root"
_EXTENSION = f"{{{CORE_NS}}}extension"
_START = f"{{{CORE_NS}}}start"
_END = f"{{{CORE_NS}}}end"


@dataclass(frozen=True)
class Query:
    requested: tuple[tuple[str, str | None], ...]  # every measureId as sent: (root, extension)
    start: str  # reportingPeriod as sent (YYYYMMDD)
    end: str
    include_measurements: bool = True

    @property
    def measure_ids(self) -> tuple[str, ...]:
        """The KIK ids that can match: root is the KIK OID and an extension is given (first occurrence order)."""
        seen: dict[str, None] = {}
        for root, ext in self.requested:
            if root == oids.MEASURE_ID_ROOT and ext:
                seen.setdefault(ext, None)
        return tuple(seen)

    @property
    def period(self) -> Period | None:
        """The requested period, or None when it is no period at all (nothing can lie inside it)."""
        try:
            return Period.parse(self.start, self.end)
        except DomainError:
            return None


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RESPONDER_XSD)))


def read(payload: etree._Element) -> Query:
    if payload.tag != REQUEST:
        raise client_fault(
            "WRONG_OPERATION",
            f"tjänsten besvarar GetQualityIndicators i namnrymden {RESPONDER_NS}",
            f"this endpoint answers GetQualityIndicators in namespace {RESPONDER_NS}; the Body holds {payload.tag!s:.160}",
        )
    error = xmlsafe.first_schema_error(schema(), payload)
    if error is not None:
        detail = error[:300]
        raise client_fault(
            "SCHEMA_INVALID",
            "anropet följer inte schemat för GetQualityIndicators 2",
            f"the request does not follow the GetQualityIndicators 2 schema: {detail}",
        )
    requested = tuple(
        (m.findtext(_ROOT) or "", m.findtext(_EXTENSION)) for m in payload.iterchildren(_MEASURE_ID)
    )
    period = payload.find(_PERIOD)
    include = payload.findtext(_INCLUDE)
    return Query(
        requested=requested,
        start=period.findtext(_START) or "",
        end=period.findtext(_END) or "",
        include_measurements=include is None or include.strip() in ("true", "1"),
    )
