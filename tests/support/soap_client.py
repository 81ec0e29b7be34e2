"""Build GetQualityIndicators requests and read answers and faults in tests (SOAP 1.1 by hand, no zeep)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from lxml import etree

from indikera.access.identity import SCOPE_KEY, Identity
from indikera.contracts.qualityreporting_v2 import RESPONDER_XSD

from . import oracle

KIK = "1.2.826.0.1.3680043.9.4672.7"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
GQI_NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
CORE = "urn:riv:followup:groupoutcomes:qualityreporting:2"
NS = {"soap": SOAP, "gqi": GQI_NS, "qr": CORE}
PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"
PING_PATH = "/itintegration/monitoring/PingForConfiguration/1/rivtabp21"
ACTION = f"{GQI_NS}:GetQualityIndicators"
ADDRESS = "SE2321000000-INDIKERA"  # the default reporting system HSA-id = accepted logical address
HEADERS = {"content-type": "text/xml; charset=UTF-8", "soapaction": f'"{ACTION}"'}


def request(
    ids=("10001",),
    start: str = "20230101",
    end: str = "20231231",
    include: bool | None = None,
    *,
    address: str | None = ADDRESS,
    root: str = KIK,
) -> bytes:
    ids_xml = "".join(
        f"<gqi:measureId><qr:root>{r}</qr:root><qr:extension>{e}</qr:extension></gqi:measureId>"
        for r, e in ((i if isinstance(i, tuple) else (root, i)) for i in ids)
    )
    header = "" if address is None else f"<soapenv:Header><itr:LogicalAddress>{address}</itr:LogicalAddress></soapenv:Header>"
    inc = "" if include is None else f"<gqi:includeMeasurements>{'true' if include else 'false'}</gqi:includeMeasurements>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:itr="urn:riv:itintegration:registry:1" '
        f'xmlns:gqi="{GQI_NS}" xmlns:qr="{CORE}">{header}<soapenv:Body><gqi:GetQualityIndicators>{ids_xml}'
        f"<gqi:reportingPeriod><qr:start>{start}</qr:start><qr:end>{end}</qr:end></gqi:reportingPeriod>{inc}"
        "</gqi:GetQualityIndicators></soapenv:Body></soapenv:Envelope>"
    ).encode("utf-8")


@cache
def own_xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RESPONDER_XSD)))


@dataclass
class Report:
    """An answer that passed the oracle (official XSD + Schematron, or the own XSD without ../shared) and the own schema."""

    envelope: etree._Element

    @property
    def report(self) -> etree._Element:
        return self.envelope.find("soap:Body/gqi:GetQualityIndicatorsResponse/gqi:AggregatedQualityReport", NS)

    @property
    def checksum(self) -> str:
        return self.report.findtext("qr:measurementChecksum", namespaces=NS)

    @property
    def period(self) -> tuple[str, str]:
        p = self.report.find("qr:reportingPeriod", NS)
        return p.findtext("qr:start", namespaces=NS), p.findtext("qr:end", namespaces=NS)

    @property
    def measurements(self) -> list[etree._Element]:
        return self.report.findall("qr:measurement", NS)

    def measure_ids(self) -> set[str]:
        return {m.findtext("qr:measureId/qr:extension", namespaces=NS) for m in self.measurements}


_VALIDATED: set[bytes] = set()  # digests of answers already validated (SQLite and PostgreSQL give the same bytes)


def answer(response) -> Report:
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].lower().replace(" ", "") == "text/xml;charset=utf-8"
    body = response.content
    assert b"<!--" not in body, "the producer must emit no comments"
    digest = hashlib.sha256(body).digest()
    if digest in _VALIDATED:
        return Report(etree.fromstring(body))
    envelope = oracle.assert_conformant(body)
    if oracle.SOURCE == "official":  # else the oracle just checked the own XSD
        payload = oracle.payload(envelope)
        assert own_xsd().validate(payload), own_xsd().error_log
    _VALIDATED.add(digest)
    return Report(envelope)


def fault(response, faultcode: str = "Client") -> tuple[str, str]:
    """(error code, faultstring) of a SOAP 1.1 fault response, after checking its form."""
    assert response.status_code == 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].lower().startswith("text/xml")
    env = etree.fromstring(response.content)
    f = env.find("soap:Body/soap:Fault", NS)
    assert f is not None, response.text
    code = f.findtext("faultcode")
    string = f.findtext("faultstring")
    assert code == f"soap:{faultcode}", (code, string)
    assert "Traceback" not in string and 'File "' not in string
    return string.split(":", 1)[0], string


def post(client, body: bytes, headers: dict | None = None):
    return client.post(PATH, content=body, headers=headers if headers is not None else HEADERS)


class AsConsumer:
    """Test-only ASGI wrapper: every request comes from ``hsa_id`` (as the access middleware would decide)."""

    def __init__(self, app, hsa_id: str | None) -> None:
        self.app = app
        self.identity = Identity(consumer_hsa_id=hsa_id, channel="direct", reason="test") if hsa_id else None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.identity is not None:
            scope[SCOPE_KEY] = self.identity
        await self.app(scope, receive, send)


def text(el, path: str) -> str | None:
    return el.findtext(path, namespaces=NS)
