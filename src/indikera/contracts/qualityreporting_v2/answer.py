"""Write a GetQualityIndicatorsResponse streaming, straight from database rows.

The answer's first element, ``measurementChecksum``, and its ``reportingPeriod`` depend on every
measurement, so the measurements are written first into a spooled file (memory-bounded: it moves to disk
past ``SPOOL_IN_MEMORY``) while checksum and period are computed from the same rows; the envelope's head
is written last. Text that varies per organisation or source system is rendered once (``Directory``),
so the per-row work is numbers and dates. Elements follow the XSD order; Responder vs core namespaces
(Venetian blind); no comments; numbers in plain decimal notation, never NaN or INF.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from tempfile import SpooledTemporaryFile

from ...config import Settings
from ...domain import oids
from ...domain.checksum import EMPTY_CHECKSUM, ChecksumBuilder
from ...store.named_rows import picker
from ..soap import ENVELOPE_END, envelope_start, escape, server_fault
from . import CORE_NS, RESPONDER_NS
from .directory import Directory
from .store_query import AnswerRow, ChecksumRow

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
            "ett lagrat värde är inte ett ändligt tal",
            "a stored value is not a finite number and cannot be sent",
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


_VALUED = frozenset({"proportion", "continuous", "cohort"})
# AnswerRow fields read together, by name, in one C call each (cheaper per row than one attribute at a time).
_MEASUREMENT = picker(AnswerRow, "measure_id", "version", "period_start", "period_end", "first_encounter",
                      "last_encounter", "organisation_id", "source_system_id")
_SHARED = picker(AnswerRow, "kind", "ci_low", "ci_high", "standard_deviation", "coverage", "exclusions",
                 "reference_interval")
_PROPORTION = picker(AnswerRow, "rate", "denominator", "numerator")


def measure_xml(row) -> str:
    """The one measure element of an ``AnswerRow`` (exactly one per measurement, rule R10)."""
    kind, low, high, sd, coverage, exclusions, ref = _SHARED(row)
    if kind not in _VALUED:  # "missing" (an unknown kind is never stored: the column has a CHECK)
        return f"<qr:missingMeasure><qr:reasonCode>{escape(row.reason_code or 'NI')}</qr:reasonCode></qr:missingMeasure>"
    # The optional elements every kind shares, inlined (no call for an absent value: most rows lack some).
    common = _ci(low, high)
    if sd is not None:
        common += f"<qr:standardDeviation>{number(sd)}</qr:standardDeviation>"
    if coverage is not None:
        common += f"<qr:coverage>{number(coverage)}</qr:coverage>"
    if exclusions is not None:
        common += f"<qr:exclusions>{number(exclusions)}</qr:exclusions>"
    if kind == "proportion":
        rate, denominator, numerator = _PROPORTION(row)
        return (
            f"<qr:proportionMeasure><qr:rate>{number(rate)}</qr:rate><qr:denominator>{number(denominator)}"
            f"</qr:denominator><qr:numerator>{number(numerator)}</qr:numerator>{common}"
            f"{_opt('referenceIntervalRate', ref)}</qr:proportionMeasure>"
        )
    if kind == "continuous":
        return (
            f"<qr:continuousVariableMeasure>{_opt('measurePopulation', row.population)}<qr:value>{number(row.value)}"
            f"</qr:value>{common}{_opt('referenceIntervalValue', ref)}</qr:continuousVariableMeasure>"
        )
    return (  # cohort
        f"<qr:cohortMeasure><qr:cohort>{number(row.cohort)}</qr:cohort>{common}"
        f"{_opt('referenceIntervalValue', ref)}</qr:cohortMeasure>"
    )


@dataclass
class Summary:
    checksum: str
    start: str  # the answer's reportingPeriod
    end: str
    count: int


class _Span:
    """The answer checksum (``ChecksumBuilder``) plus min(start)…max(end) of the measurements seen."""

    __slots__ = ("checksum", "start", "end", "_hash", "_start", "_end")

    def __init__(self, row_class: type) -> None:
        self.checksum = ChecksumBuilder()
        self.start: object = None
        self.end: object = None
        # itemgetters by field name (ChecksumRow and AnswerRow differ in where these fields are)
        self._hash, self._start, self._end = (itemgetter(row_class._fields.index(name))
                                              for name in ("content_hash", "period_start", "period_end"))

    def add_rows(self, rows: list) -> None:
        """A run of rows in checksum order: C-level loops, no per-row Python frame."""
        if not rows:
            return
        self.checksum.extend(map(self._hash, rows))
        low, high = min(map(self._start, rows)), max(map(self._end, rows))
        if self.start is None or low < self.start:  # type: ignore[operator]
            self.start = low
        if self.end is None or high > self.end:  # type: ignore[operator]
            self.end = high

    def summary(self, requested_start: str, requested_end: str) -> Summary:
        count = self.checksum.count
        if not count:
            return Summary(EMPTY_CHECKSUM, requested_start, requested_end, 0)
        return Summary(self.checksum.hexdigest(), _ymd(self.start), _ymd(self.end), count)


def summarise(rows: Iterable, requested_start: str, requested_end: str) -> Summary:
    """Checksum-only: rows laid out as ``ChecksumRow`` (content hash, period start, period end; named or
    plain tuples, read by field name) in checksum order → checksum and reportingPeriod."""
    span = _Span(ChecksumRow)
    rows = rows if isinstance(rows, list) else list(rows)  # read three times; checksum_rows gives a list
    span.add_rows(rows)
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
        f"svaret skulle bli större än {limit} byte; fråga efter färre indikatorer eller en kortare period",
        f"the answer would exceed {limit} bytes; ask for fewer indicators (measureId) or a shorter reportingPeriod",
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
        span = _Span(AnswerRow)
        budget = limit - _HEAD_ROOM
        written = 0
        parts: list[str] = []
        heads: dict[tuple, str] = {}  # measureId + version + measurePeriod, shared by many rows
        dates: dict[object, str] = {}
        root = escape(oids.MEASURE_ID_ROOT)
        batch: list = []  # the rows behind ``parts``: they go into the checksum when ``parts`` is flushed
        for row in rows:  # AnswerRow (store_query): fields by name, so the SELECT's order cannot drift from here
            batch.append(row)
            measure_id, version, start, end, first, last, org_id, source_id = _MEASUREMENT(row)
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
                f"</qr:performingOrganization><qr:sourceSystem>{directory.source(source_id)}</qr:sourceSystem>"
                "</qr:measurement>"
            )
            if len(parts) >= _FLUSH_EVERY:
                span.add_rows(batch)
                batch.clear()
                data = "".join(parts).encode("utf-8")
                parts.clear()
                written += len(data)
                if written > budget:
                    raise too_large(limit)
                spool.write(data)
        span.add_rows(batch)
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
