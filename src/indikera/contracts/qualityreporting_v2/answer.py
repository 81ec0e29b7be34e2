"""Write a GetQualityIndicatorsResponse streaming, straight from database rows.

The answer's first element, ``measurementChecksum``, and its ``reportingPeriod`` depend on every
measurement, so the measurements are written first into a spooled file (memory-bounded: it moves to disk
past ``SPOOL_IN_MEMORY``) while checksum and period are computed from the same rows; the envelope's head
is written last. Text that varies per organisation or source system is rendered once (``Directory``),
so the per-row work is numbers and dates. Elements follow the XSD order; Responder vs core namespaces
(Venetian blind); no comments; numbers in plain decimal notation, never NaN or INF.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from tempfile import SpooledTemporaryFile

from ...config import Settings
from ...domain import oids
from ...domain.checksum import EMPTY_CHECKSUM
from ..soap import ENVELOPE_END, envelope_start, escape, server_fault
from . import CORE_NS, RESPONDER_NS
from .directory import Directory

SPOOL_IN_MEMORY = 2 * 1024 * 1024
_FLUSH_EVERY = 256
_HEAD_ROOM = 4096  # bytes reserved for the envelope head and tail when checking the size limit


_NUMBERS: dict[float, str] = {}  # counts, denominators and rounded shares repeat a lot


def number(x: float) -> str:
    """xs:double in plain decimal notation (``10``, ``0.25``, ``0.00001``), never an exponent, NaN or INF."""
    text = _NUMBERS.get(x)
    if text is not None:
        return text
    text = repr(float(x))
    if "n" in text:  # inf, nan
        raise server_fault(
            "NOT_FINITE",
            "a stored value is not a finite number and cannot be sent",
            "ett lagrat värde är inte ett ändligt tal",
        )
    if "e" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    elif "." in text and text.endswith("0"):  # from Decimal: 1E+16 → "10000000000000000"; 1e-05 → "0.00001"
        text = text.rstrip("0").rstrip(".")
    if len(_NUMBERS) > 50_000:
        _NUMBERS.clear()
    _NUMBERS[x] = text
    return text


def _ymd(value: object) -> str:
    if isinstance(value, str):  # SQLite: ISO text
        return value[0:4] + value[5:7] + value[8:10]
    assert isinstance(value, date)
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _opt(name: str, x: float | None) -> str:
    return "" if x is None else f"<qr:{name}>{number(x)}</qr:{name}>"


def _ci(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"<qr:confidenceInterval95percent><qr:low>{number(low)}</qr:low><qr:high>{number(high)}</qr:high></qr:confidenceInterval95percent>"


def measure_xml(row) -> str:
    """The one measure element of a row (exactly one per measurement, rule R10)."""
    kind = row[9]
    (rate, numerator, denominator, value, population, cohort, reason, low, high, sd, coverage, exclusions, ref) = row[10:23]
    if kind == "proportion":
        return (
            f"<qr:proportionMeasure><qr:rate>{number(rate)}</qr:rate><qr:denominator>{number(denominator)}</qr:denominator>"
            f"<qr:numerator>{number(numerator)}</qr:numerator>{_ci(low, high)}{_opt('standardDeviation', sd)}"
            f"{_opt('coverage', coverage)}{_opt('exclusions', exclusions)}{_opt('referenceIntervalRate', ref)}</qr:proportionMeasure>"
        )
    if kind == "continuous":
        return (
            f"<qr:continuousVariableMeasure>{_opt('measurePopulation', population)}<qr:value>{number(value)}</qr:value>"
            f"{_ci(low, high)}{_opt('standardDeviation', sd)}{_opt('coverage', coverage)}{_opt('exclusions', exclusions)}"
            f"{_opt('referenceIntervalValue', ref)}</qr:continuousVariableMeasure>"
        )
    if kind == "cohort":
        return (
            f"<qr:cohortMeasure><qr:cohort>{number(cohort)}</qr:cohort>{_ci(low, high)}{_opt('standardDeviation', sd)}"
            f"{_opt('coverage', coverage)}{_opt('exclusions', exclusions)}{_opt('referenceIntervalValue', ref)}</qr:cohortMeasure>"
        )
    return f"<qr:missingMeasure><qr:reasonCode>{escape(reason or 'NI')}</qr:reasonCode></qr:missingMeasure>"


@dataclass
class Summary:
    checksum: str
    start: str  # the answer's reportingPeriod
    end: str
    count: int


class _Span:
    """Checksum over content hashes in order, plus min(start)…max(end) of the measurements seen."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.start: object = None
        self.end: object = None

    def add(self, content_hash: str, start: object, end: object) -> None:
        if self.count:
            self._hash.update(b"\n")
        self._hash.update(content_hash.encode("ascii"))
        self.count += 1
        if self.start is None or start < self.start:  # type: ignore[operator]
            self.start = start
        if self.end is None or end > self.end:  # type: ignore[operator]
            self.end = end

    def summary(self, requested_start: str, requested_end: str) -> Summary:
        if not self.count:
            return Summary(EMPTY_CHECKSUM, requested_start, requested_end, 0)
        return Summary(self._hash.hexdigest(), _ymd(self.start), _ymd(self.end), self.count)


def summarise(rows: Iterable[tuple[str, object, object]], requested_start: str, requested_end: str) -> Summary:
    """Checksum-only: (content hash, start, end) rows in checksum order → checksum and reportingPeriod."""
    span = _Span()
    for content_hash, start, end in rows:
        span.add(content_hash, start, end)
    return span.summary(requested_start, requested_end)


def head(settings: Settings, summary: Summary) -> bytes:
    return (
        envelope_start({"gqr": RESPONDER_NS, "qr": CORE_NS})
        + "<gqr:GetQualityIndicatorsResponse><gqr:AggregatedQualityReport>"
        + f"<qr:measurementChecksum>{summary.checksum}</qr:measurementChecksum>"
        + f"<qr:reportingPeriod><qr:start>{escape(summary.start)}</qr:start><qr:end>{escape(summary.end)}</qr:end></qr:reportingPeriod>"
        + f"<qr:reportingSystem><qr:hsaId>{escape(settings.reporting_system_hsa_id)}</qr:hsaId>"
        + f"<qr:name>{escape(settings.reporting_system_name)}</qr:name></qr:reportingSystem>"
        + f"<qr:reportingOrganization><qr:hsaId>{escape(settings.reporting_organization_hsa_id)}</qr:hsaId>"
        + f"<qr:name>{escape(settings.reporting_organization_name)}</qr:name></qr:reportingOrganization>"
    ).encode("utf-8")


TAIL = ("</gqr:AggregatedQualityReport></gqr:GetQualityIndicatorsResponse>" + ENVELOPE_END).encode("utf-8")


class Answer:
    """A finished answer: head + spooled measurements + tail, sent in chunks."""

    def __init__(self, head: bytes, body: SpooledTemporaryFile | None, summary: Summary, body_size: int = 0) -> None:
        self.head = head
        self.body = body
        self.summary = summary
        self.size = len(head) + body_size + len(TAIL)  # exact: sent as Content-Length

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        try:
            yield self.head
            if self.body is not None:
                self.body.seek(0)
                while chunk := self.body.read(size):
                    yield chunk
            yield TAIL
        finally:
            self.close()

    def bytes(self) -> bytes:
        return b"".join(self.chunks())

    def close(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None


def too_large(limit: int):
    return server_fault(
        "RESPONSE_TOO_LARGE",
        f"the answer would exceed {limit} bytes; ask for fewer indicators (measureId) or a shorter reportingPeriod",
        f"svaret skulle bli större än {limit} byte; fråga efter färre indikatorer eller en kortare period",
    )


def checksum_only(settings: Settings, summary: Summary) -> Answer:
    return Answer(head(settings, summary), None, summary)


def full(
    settings: Settings,
    rows: Iterable[tuple],
    directory: Directory,
    requested_start: str,
    requested_end: str,
    limit: int,
) -> Answer:
    """Write every row as a ``measurement``; raises RESPONSE_TOO_LARGE instead of ever truncating."""
    spool = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        span = _Span()
        budget = limit - _HEAD_ROOM
        written = 0
        parts: list[str] = []
        heads: dict[tuple, str] = {}  # measureId + version + measurePeriod, shared by many rows
        dates: dict[object, str] = {}
        root = escape(oids.MEASURE_ID_ROOT)
        for row in rows:
            content_hash, org_id, source_id, measure_id, version, start, end, first, last = row[:9]
            span.add(content_hash, start, end)
            key = (measure_id, version, start, end)
            top = heads.get(key)
            if top is None:
                s = dates.get(start) or dates.setdefault(start, _ymd(start))
                e = dates.get(end) or dates.setdefault(end, _ymd(end))
                top = heads[key] = (
                    f"<qr:measurement><qr:measureId><qr:root>{root}</qr:root><qr:extension>{escape(measure_id)}</qr:extension>"
                    f"</qr:measureId><qr:measureIdVersionNumber>{int(version)}</qr:measureIdVersionNumber>"
                    f"<qr:measurePeriod><qr:start>{s}</qr:start><qr:end>{e}</qr:end></qr:measurePeriod>"
                )
            encounters = ""
            if first is not None:
                encounters = f"<qr:firstServiceEncounter>{_ymd(first)}</qr:firstServiceEncounter>"
            if last is not None:
                encounters += f"<qr:lastServiceEncounter>{_ymd(last)}</qr:lastServiceEncounter>"
            parts.append(
                f"{top}{encounters}{measure_xml(row)}<qr:performingOrganization>{directory.organisation(org_id)}"
                f"</qr:performingOrganization><qr:sourceSystem>{directory.source(source_id)}</qr:sourceSystem></qr:measurement>"
            )
            if len(parts) >= _FLUSH_EVERY:
                data = "".join(parts).encode("utf-8")
                parts.clear()
                written += len(data)
                if written > budget:
                    raise too_large(limit)
                spool.write(data)
        if parts:
            data = "".join(parts).encode("utf-8")
            written += len(data)
            if written > budget:
                raise too_large(limit)
            spool.write(data)
        summary = span.summary(requested_start, requested_end)
        return Answer(head(settings, summary), spool, summary, written)
    except BaseException:
        spool.close()
        raise
