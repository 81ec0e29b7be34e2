"""The conformance runner's self-test: it must fail every broken producer, naming the right case, and pass every
correct variant.

One real HTTP server (tests/support/qr_producer.py, no database) serves all producer kinds; ``/mode/<kind>/``
selects one. Each kind breaks one rule of the TKB, the information specification, the test protocol, SOAP 1.1 or
HTTP; the table says which case must fail and words its finding must contain.
"""

from __future__ import annotations

import pytest

from indikera.conformance.cases import ORDER, Plan
from indikera.conformance.runner import run

from .support import qr_producer
from .support.server import running

PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"

BROKEN = [
    # XML, SOAP and namespaces
    ("comment", "2.1", "XML-kommentar"),
    ("pi", "2.1", "processing instructions"),
    ("doctype", "2.1", "DOCTYPE"),
    ("soap12", "2.1", "inte ett SOAP 1.1-kuvert"),
    ("responder_ns", "2.1", "saknar GetQualityIndicatorsResponse"),
    ("core_ns", "TestCase1", "XSD"),
    ("order", "2.1", "XSD"),
    ("no_organisation", "2.1", "[R8]"),
    ("wrong_system", "2.1", "[R7]"),
    # checksum rules
    ("no_checksum", "2.1", "[R1]"),
    ("empty_checksum", "2.1", "measurementChecksum är tom"),
    ("checksum_include", "2.5", "får inte bero på includeMeasurements"),
    ("checksum_constant", "2.2", "[C5]"),
    ("checksum_empty_text", "2.3", "[C4]"),
    ("checksum_empty_include", "2.3", "[C3]"),
    ("checksum_random", "TestCase1", "[C1]"),
    # period rules
    ("outside", "2.1", "[M2]"),
    ("mp_reversed", "2.1", "[M1]"),
    ("bad_date", "2.1", "[M1]"),
    ("encounters", "2.1", "[M3]"),
    ("rp_echo", "2.1", "[R4]"),
    ("rp_reversed", "2.1", "[R2]"),
    ("rp_empty_wrong", "2.6", "[R5]"),
    ("include_ignored", "2.5", "[R6]"),
    ("default_false", "2.5", "utelämnat includeMeasurements"),
    # organisation chains
    ("land_oid", "1.2", "1.2.1"),
    ("land_name", "1.2", "Riket"),
    ("ve_no_parent", "1.2", "asOrganizationPartOf"),
    ("kommun_wrong_lan", "1.2", "ligger inte i län"),
    ("lan_hsa", "1.2", "hsaId anges inte"),
    ("ve_oid", "1.2", "1.2.5"),
    ("sjh_both", "1.2", "1.2.6"),
    ("source_root", "1.2", "sourceSystem"),
    ("duplicate", "1.3", "flera gånger"),
    ("overlap", "1.3", "överlappar"),
    # measure kinds and values
    ("two_measures", "1.1", "exakt ett"),
    ("mixed_kinds", "1.1", "typ katalogen definierar"),
    ("coverage", "1.4", "coverage"),
    ("rate", "1.4", "numerator/denominator"),
    ("negative", "1.4", "negativt"),
    ("ci", "1.5", "konfidensintervall"),
    ("zero_denominator", "1.6", "INV"),
    ("reason_code", "1.6", "reasonCode"),
    ("measure_root", "1.7", "measureId/root"),
    ("unrequested", "1.7", "efterfrågades inte"),
    ("version", "1.7", "measureIdVersionNumber"),
    # faults, HTTP and time
    ("fault_invalid", "2.6", "SOAP-fel"),
    ("fault_always", "2.1", "SOAP-fel"),
    ("http_500", "2.1", "HTTP-status 500"),
    ("soap_content_type", "2.1", "Content-Type"),
    ("empty_body", "2.1", "tomt svar"),
    ("html", "2.1", "inte välformad XML"),
    ("truncated", "2.1", "inget svar"),
    pytest.param("slow", "2.1", "inget svar", marks=pytest.mark.slow, id="slow"),  # two calls wait for the timeout
]
GOOD = ["good", "good_prefixes", "good_default_ns", "good_pretty", "good_extension", "good_md5", "good_sha512",
        "good_base64", "good_plain_content_type"]


@pytest.fixture(scope="module")
def base():
    with running(qr_producer.app) as url:
        yield url


def suite(base: str, mode: str):
    # Only the slow and the truncating producer must run into the timeout; every other producer answers in milliseconds,
    # and a generous timeout keeps them from failing on a loaded runner.
    plan = Plan(qr_producer.LA, qr_producer.MEASURES, *qr_producer.PERIOD, reporting_organization=qr_producer.ORG)
    return run(f"{base}/mode/{mode}{PATH}", plan, timeout=1.0 if mode in ("slow", "truncated") else 15.0)


KINDS = {b.values[0] if hasattr(b, "values") else b[0] for b in BROKEN}


def test_at_least_thirty_kinds_of_broken_producer():
    assert len(KINDS) == len(BROKEN) >= 30


@pytest.mark.parametrize("mode", GOOD)
def test_correct_variants_pass(base, mode):
    results, doc = suite(base, mode)
    assert {r.id: r.failures for r in results if not r.passed} == {}
    assert doc["summary"]["approved"] and doc["summary"]["verdict"] == "GODKÄND"
    assert [r.id for r in results] == list(ORDER)


@pytest.mark.parametrize("mode, case, words", BROKEN, ids=lambda v: v if v in KINDS else None)
def test_broken_producer_fails_naming_the_case(base, mode, case, words):
    results, doc = suite(base, mode)
    failed = {r.id: r.failures for r in results if not r.passed}
    assert case in failed, f"{mode}: {case} passed; failed: {failed}"
    assert any(words in f for f in failed[case]), failed[case]
    assert not doc["summary"]["approved"] and doc["summary"]["verdict"] == "UNDERKÄND"


def test_issue_17_measurement_outside_the_requested_period(base):
    """Asked for 20230101–20251231, the producer answers 20221001–20230930 with a matching reportingPeriod."""
    results, doc = suite(base, "outside")
    r21 = next(r for r in results if r.id == "2.1")
    assert any("20221001–20230930" in f and "20230101–20251231" in f for f in r21.failures), r21.failures
    assert any("[R3]" in f for f in r21.failures)  # reportingPeriod 20221001–… reaches outside the question too
    assert "2.1" in doc["summary"]["failedCases"] and not doc["summary"]["approved"]


def test_a_content_rule_fails_its_own_case_and_every_case_whose_answer_shows_it(base):
    results, _ = suite(base, "land_name")
    failed = {r.id: r.failures for r in results if not r.passed}
    # the broken Riket measurement is in the answers of 2.1, 2.2, 2.5 (omitted include), 2.7 and TestCase1
    assert {"1.2", "2.1", "2.2", "2.5", "2.7", "TestCase1"} <= set(failed), failed
    assert not {"2.3", "2.4", "2.6", "TestCase2"} & set(failed), failed  # answers without measurements are clean
    assert any("svar i 2.1" in f for f in failed["1.2"]), failed["1.2"]
