"""The contract oracle for tests: the official contract package in ../shared/contract when it is there,
otherwise the project's own schemas (the ones ``?wsdl`` serves). Product code never reads ../shared.

Two kinds of test use it:

* checks that need only the schemas (``assert_conformant``, zeep clients built from ``wsdl()``) run with
  either oracle. ``SOURCE`` says which one was used ("official" or "own"); ``CHECKS`` names the checks. The
  official Schematron (constraints.sch) exists only in ../shared: without it only the XSD check runs.
* tests that need the official files themselves (the mocks, constraints.sch, comparing our schemas with the
  official ones) call ``require()`` or use the ``official_contract`` fixture: outside CI they skip with the
  one reason ``SKIP_REASON``; on CI a missing package is an error (tests/conftest.py refuses to start).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest
from lxml import etree, isoschematron

from indikera.contracts import qualityreporting_v2 as own

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO.parent / "shared" / "contract" / "qualityreporting-2.0"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_BODY = f"{{{SOAP_ENV}}}Body"
_INTERACTION = CONTRACT / "schemas/interactions/GetQualityIndicatorsInteraction"
OFFICIAL_RESPONDER_XSD = _INTERACTION / "GetQualityIndicatorsResponder_2.0.xsd"
OFFICIAL_CORE_XSD = CONTRACT / "schemas/core_components/groupoutcomes_qualityreporting_2.0.xsd"
OFFICIAL_REGISTRY_XSD = CONTRACT / "schemas/core_components/itintegration_registry_1.0.xsd"
OFFICIAL_WSDL = _INTERACTION / "GetQualityIndicatorsInteraction_2.0_RIVTABP21.wsdl"
CONSTRAINTS_SCH = CONTRACT / "test-suite/constraints.sch"
MOCKS = CONTRACT / "test-suite/mock-responses"
# The 13 mocks of the package (README of the contract); fixed here so test ids do not depend on the folder.
MOCK_NAMES = (
    "Response-CHECKSUM-ONLY", "Response-CohortMeasure-Land", "Response-ContinuousMeasure-Land",
    "Response-Kommun-Lan-Land", "Response-Lan-Land", "Response-Land", "Response-MissingMeasure-Land",
    "Response-ProportionMeasure-Land", "Response-SJH-Lan-Land", "Response-SVRG-Land",
    "Response-VE-Kommun-Lan-Land", "Response-VE-Lan-Land", "Response-VE-SJH-Lan-Land",
)
SKIP_REASON = f"official contract package not found at {CONTRACT}: see README 'The official contract package'"


def available() -> bool:
    return OFFICIAL_RESPONDER_XSD.is_file()


OFFICIAL = available()
SOURCE = "official" if OFFICIAL else "own"
CHECKS = ("official XSD", "official Schematron") if OFFICIAL and CONSTRAINTS_SCH.is_file() else (f"{SOURCE} XSD",)


def require() -> Path:
    """The official package's folder; the calling test skips (outside CI) when it is missing."""
    if not available():
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the {SKIP_REASON}", pytrace=False)
        pytest.skip(SKIP_REASON)
    return CONTRACT


@pytest.fixture
def official_contract() -> Path:
    """The official contract package (re-exported by tests/conftest.py); skips like ``require()``."""
    return require()


def contract_dir() -> Path | None:
    """What to pass as the conformance runner's ``contract_dir``: the official package, or None without it."""
    return CONTRACT if OFFICIAL else None


def responder_xsd_path() -> Path:
    """The responder schema answers are checked against: official when present, else the project's own."""
    return OFFICIAL_RESPONDER_XSD if OFFICIAL else own.RESPONDER_XSD


def wsdl() -> Path:
    """The WSDL test clients (zeep) are built from: official when present, else the project's own."""
    return OFFICIAL_WSDL if OFFICIAL else own.WSDL_FILE


@cache
def responder_xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(responder_xsd_path())))


@cache
def official_xsd() -> etree.XMLSchema:
    require()
    return etree.XMLSchema(etree.parse(str(OFFICIAL_RESPONDER_XSD)))


@cache
def schematron() -> isoschematron.Schematron | None:
    """The official Schematron, or None without the package (it has no counterpart in the project)."""
    if not (OFFICIAL and CONSTRAINTS_SCH.is_file()):
        return None
    sch = etree.parse(str(CONSTRAINTS_SCH))
    sch.getroot().set("queryBinding", "xslt")  # every rule is XPath 1.0
    return isoschematron.Schematron(sch, store_report=True)


def payload(envelope: etree._Element) -> etree._Element:
    body = envelope.find(SOAP_BODY)
    assert body is not None and len(body), "no SOAP Body child"
    return body[0]


def assert_conformant(envelope: etree._Element | bytes) -> etree._Element:
    """Validate a whole response envelope with ``CHECKS`` (XSD, and Schematron when official); returns it parsed."""
    if isinstance(envelope, bytes):
        envelope = etree.fromstring(envelope)
    xsd = responder_xsd()
    body_child = payload(envelope)
    assert xsd.validate(body_child), f"{SOURCE} XSD: {xsd.error_log}"
    sch = schematron()
    if sch is not None:
        assert sch.validate(envelope), f"official Schematron: {etree.tostring(sch.validation_report, pretty_print=True).decode()}"
    return envelope


def mock(name: str, *, start: str = "20130101", logical_address: str = "SE112233-PRODUCER-SYSTEM-HSAID",
         root: str = "1.2.826.0.1.3680043.9.4672.7", extension: str = "12345") -> bytes:
    """An official mock response with its SoapUI placeholders substituted (skips without the package)."""
    require()
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

