"""The official contract package in ../shared/contract as a test oracle (never used by product code).

``assert_conformant(envelope)`` validates a response payload against the official XSD and the official
Schematron (queryBinding patched to xslt, as the contract README explains).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree, isoschematron

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO.parent / "shared" / "contract" / "qualityreporting-2.0"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_BODY = f"{{{SOAP_ENV}}}Body"
RESPONDER_XSD = CONTRACT / "schemas/interactions/GetQualityIndicatorsInteraction/GetQualityIndicatorsResponder_2.0.xsd"
WSDL = CONTRACT / "schemas/interactions/GetQualityIndicatorsInteraction/GetQualityIndicatorsInteraction_2.0_RIVTABP21.wsdl"
MOCKS = CONTRACT / "test-suite/mock-responses"


def available() -> bool:
    return RESPONDER_XSD.is_file()


@cache
def official_xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RESPONDER_XSD)))


@cache
def official_schematron() -> isoschematron.Schematron:
    sch = etree.parse(str(CONTRACT / "test-suite/constraints.sch"))
    sch.getroot().set("queryBinding", "xslt")  # every rule is XPath 1.0
    return isoschematron.Schematron(sch, store_report=True)


def payload(envelope: etree._Element) -> etree._Element:
    body = envelope.find(SOAP_BODY)
    assert body is not None and len(body), "no SOAP Body child"
    return body[0]


def assert_conformant(envelope: etree._Element | bytes) -> etree._Element:
    """Validate a whole response envelope against the official XSD and Schematron; returns it parsed."""
    if isinstance(envelope, bytes):
        envelope = etree.fromstring(envelope)
    xsd = official_xsd()
    body_child = payload(envelope)
    assert xsd.validate(body_child), f"official XSD: {xsd.error_log}"
    sch = official_schematron()
    assert sch.validate(envelope), f"official Schematron: {etree.tostring(sch.validation_report, pretty_print=True).decode()}"
    return envelope


def mock(name: str, *, start: str = "20130101", logical_address: str = "SE112233-PRODUCER-SYSTEM-HSAID",
         root: str = "1.2.826.0.1.3680043.9.4672.7", extension: str = "12345") -> bytes:
    """An official mock response with its SoapUI placeholders substituted."""
    text = (MOCKS / f"{name}.xml").read_text(encoding="utf-8")
    for key, value in {
        "reportingPeriodStartFromRequest": start,
        "logicalAddressFromRequest": logical_address,
        "measureIdRootFromRequest": root,
        "measureIdExtensionFromRequest": extension,
    }.items():
        text = text.replace("${" + key + "}", value)
    assert not re.search(r"\$\{", text), "unsubstituted placeholder"
    return text.encode("utf-8")


MOCK_NAMES = sorted(p.stem for p in MOCKS.glob("*.xml")) if MOCKS.is_dir() else []
