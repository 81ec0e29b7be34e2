"""The runner's SOAP client: builds GetQualityIndicators v2 requests and records each exchange as evidence."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from ..rivta import QUALITYREPORTING_CORE_NS as CORE_NS
from ..rivta import QUALITYREPORTING_RESPONDER_NS as RESPONDER_NS
from ..rivta import REGISTRY_NS, SERVICE_CONSUMER_HEADER
from ..rivta import SOAP11_NS as SOAP_ENV

SOAP_ACTION = f"{RESPONDER_NS}:GetQualityIndicators"
KIK_ROOT = "1.2.826.0.1.3680043.9.4672.7"
NSMAP = {"soap": SOAP_ENV, "gqi": RESPONDER_NS, "qr": CORE_NS}


@dataclass(frozen=True)
class Query:
    measures: tuple[str, ...]
    start: str
    end: str
    include: bool | None  # None: element omitted (contract default true)


@dataclass
class Exchange:
    query: Query
    request: bytes
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    elapsed_ms: int = 0
    error: str | None = None  # transport failure (no HTTP answer)
    root: etree._Element | None = field(default=None, repr=False)
    parse_error: str | None = None

    @property
    def report(self) -> etree._Element | None:
        """The AggregatedQualityReport element, when the answer is a well-formed response."""
        if self.root is None:
            return None
        return self.root.find("soap:Body/gqi:GetQualityIndicatorsResponse/gqi:AggregatedQualityReport", NSMAP)

    def text(self, path: str) -> str | None:
        rep = self.report
        text = None if rep is None else rep.findtext(path, namespaces=NSMAP)
        return None if text is None else text.strip()  # pretty-printed answers are as good as compact ones

    @property
    def checksum(self) -> str | None:
        return self.text("qr:measurementChecksum")

    @property
    def measurements(self) -> list[etree._Element]:
        rep = self.report
        return [] if rep is None else rep.findall("qr:measurement", NSMAP)

    @property
    def period(self) -> tuple[str | None, str | None]:
        return self.text("qr:reportingPeriod/qr:start"), self.text("qr:reportingPeriod/qr:end")


def build_request(logical_address: str, q: Query) -> bytes:
    ids = "".join(f"<gqi:measureId><qr:root>{KIK_ROOT}</qr:root><qr:extension>{escape(m)}</qr:extension></gqi:measureId>"
                  for m in q.measures)
    include = "" if q.include is None else f"<gqi:includeMeasurements>{'true' if q.include else 'false'}</gqi:includeMeasurements>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:itr="{REGISTRY_NS}" '
        f'xmlns:gqi="{RESPONDER_NS}" xmlns:qr="{CORE_NS}"><soapenv:Header><itr:LogicalAddress>{escape(logical_address)}'
        f"</itr:LogicalAddress></soapenv:Header><soapenv:Body><gqi:GetQualityIndicators>{ids}"
        f"<gqi:reportingPeriod><qr:start>{q.start}</qr:start><qr:end>{q.end}</qr:end></gqi:reportingPeriod>{include}"
        "</gqi:GetQualityIndicators></soapenv:Body></soapenv:Envelope>"
    ).encode("utf-8")


def safe_parser() -> etree.XMLParser:
    # Comments are kept on purpose: their presence is a finding (zeep and other consumers choke on them).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False)


class Client:
    def __init__(self, url: str, logical_address: str, ssl_context: ssl.SSLContext | bool, *, timeout: float = 29.0,
                 consumer_hsa_id: str | None = None):
        self.url, self.logical_address = url, logical_address
        self.consumer_hsa_id = consumer_hsa_id
        self._http = httpx.Client(verify=ssl_context, timeout=httpx.Timeout(timeout, connect=5.0), trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, q: Query) -> Exchange:
        ex = Exchange(q, build_request(self.logical_address, q))
        headers = {"content-type": "text/xml; charset=UTF-8", "soapaction": f'"{SOAP_ACTION}"'}
        if self.consumer_hsa_id:  # as the official SoapUI suite sends it (note: without "original")
            headers[SERVICE_CONSUMER_HEADER] = self.consumer_hsa_id
        started = time.monotonic()
        try:
            resp = self._http.post(self.url, content=ex.request, headers=headers)
        except httpx.HTTPError as exc:
            ex.elapsed_ms = int((time.monotonic() - started) * 1000)
            ex.error = f"{type(exc).__name__}: {exc}"
            return ex
        ex.elapsed_ms = int((time.monotonic() - started) * 1000)
        ex.status, ex.content_type, ex.body = resp.status_code, resp.headers.get("content-type", ""), resp.content
        try:
            ex.root = etree.fromstring(ex.body, safe_parser()) if ex.body else None
            if ex.root is None:
                ex.parse_error = "tomt svar (empty answer)"
            elif ex.root.getroottree().docinfo.doctype:
                ex.parse_error = "svaret har en DOCTYPE (DTD not allowed)"
        except etree.XMLSyntaxError as exc:
            ex.parse_error = f"inte välformad XML: {exc}"
        return ex
