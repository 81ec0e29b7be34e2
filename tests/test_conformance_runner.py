"""The conformance runner against real producers over real HTTPS with a client certificate.

It passes against the indikera producer and fails — naming the case — against a deliberately broken producer:
a small test double that wraps the real producer and breaks one thing in its answers (a checksum that depends
on includeMeasurements, an XML comment, a wrong measureId OID).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from indikera.cli import app as cli_app
from indikera.conformance.cases import ORDER, Plan
from indikera.conformance.runner import run

from .support import oracle
from .support.connection_kit import SithsTestCA, mtls_uvicorn_kwargs
from .support.server import running

pytestmark = pytest.mark.slow  # a test PKI, real HTTPS producers and whole suite runs

LA = "SE2321000000-INDIKERA"
PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"
MEASURES = ("10005", "10008")
PERIOD = ("20240101", "20241231")


class Breaking:
    """ASGI wrapper: ``/broken/<mode>/…`` is served by the real producer, then its answer is broken."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        m = re.match(r"^/broken/([a-z]+)(/.*)$", scope.get("path", "")) if scope["type"] == "http" else None
        if m is None:
            return await self.app(scope, receive, send)
        mode, scope = m.group(1), {**scope, "path": m.group(2), "raw_path": m.group(2).encode()}
        request = b""
        while True:
            msg = await receive()
            request += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        start, chunks, replayed = {}, [], False

        async def replay():
            nonlocal replayed
            if replayed:  # a real client stays connected while the answer streams
                await asyncio.Event().wait()
            replayed = True
            return {"type": "http.request", "body": request, "more_body": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        body = self.breaks(mode, request, b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def breaks(mode: str, request: bytes, body: bytes) -> bytes:
        if mode == "checksum" and b"includeMeasurements>false<" in request:
            # the checksum must not depend on includeMeasurements; here it does
            return re.sub(rb"(measurementChecksum>)[0-9a-f]+(<)", rb"\g<1>0badc0ffee\g<2>", body)
        if mode == "comment":
            return re.sub(rb"(<[^>]*AggregatedQualityReport>)", rb"\1<!--You may enter ANY elements at this point-->", body, count=1)
        if mode == "oid":
            return re.sub(rb"(measureId><([a-z0-9]+:)?root>)1\.2\.826\.0\.1\.3680043\.9\.4672\.7<", rb"\g<1>1.2.826.0.1.3680043.9.4672.8<", body)
        return body


@pytest.fixture(scope="module")
def producer(tmp_path_factory, demo_template):
    from indikera.app import create_app
    from indikera.config import Settings
    from indikera.context import AppContext

    tmp = tmp_path_factory.mktemp("conformance")
    shutil.copy(demo_template, tmp / "demo.db")
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{tmp / 'demo.db'}"))
    ca = SithsTestCA(tmp / "pki")
    server = ca.issue("producer", LA, cn="localhost")
    consumer = ca.issue("consumer", "TSTNMT2321000156-B02", cn="Testkonsument")
    with running(Breaking(create_app(ctx=ctx)), **mtls_uvicorn_kwargs(server, ca)) as base:
        yield {"base": base, "ca": ca, "consumer": consumer, "tmp": tmp}
    ctx.engine.dispose()


def suite(producer, path: str = PATH, **kw):
    c = producer["consumer"]
    return run(producer["base"] + path, Plan(LA, MEASURES, *PERIOD), cert=c.cert, key=c.key, ca=producer["ca"].ca_file, **kw)


@pytest.fixture(scope="module")
def good_run(producer):
    return suite(producer, contract_dir=oracle.contract_dir())  # the official package when ../shared is there


def test_passes_against_the_indikera_producer(good_run):
    results, doc = good_run
    assert [r.id for r in results] == list(ORDER)
    assert all(r.passed for r in results), {r.id: r.failures for r in results if not r.passed}
    assert doc["summary"] == {**doc["summary"], "cases": 16, "passed": 16, "failed": 0, "failedCases": []}
    assert doc["environment"]["schemas"][0] == "projektets XSD"


def test_the_official_package_takes_part_in_the_passing_run(good_run, official_contract):
    _, doc = good_run
    assert doc["environment"]["contractDir"] == str(official_contract)
    assert any("officiell Schematron" in s for s in doc["environment"]["schemas"])


def test_report_holds_evidence_environment_and_certificates(good_run, tmp_path):
    from indikera.conformance.report import write

    _, doc = good_run
    paths = write(doc, tmp_path)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    case = next(c for c in data["cases"] if c["id"] == "2.5")
    assert len(case["evidence"]) == 2  # includeMeasurements=false, and omitted
    ev = case["evidence"][0]
    assert "<gqi:includeMeasurements>false</gqi:includeMeasurements>" in ev["request"]
    assert ev["status"] == 200 and ev["elapsedMs"] >= 0 and "measurementChecksum" in ev["answerExcerpt"]
    assert data["clientCertificate"]["serialNumber (HSA-id)"] == "TSTNMT2321000156-B02"
    assert data["serverCertificate"]["serialNumber (HSA-id)"] == LA and data["serverCertificate"]["TLS"].startswith("TLSv1.")
    assert data["environment"]["logicalAddress"] == LA
    md = paths["md"].read_text(encoding="utf-8")
    assert "GODKÄND" in md and "| 2.7 |" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "&lt;gqi:GetQualityIndicators&gt;" in html  # evidence escaped


@pytest.mark.parametrize("mode, case, words", [
    ("checksum", "2.5", "får inte bero på includeMeasurements"),
    ("comment", "TestCase1", "XML-kommentar"),
    ("oid", "1.7", "measureId/root"),
])
def test_fails_naming_the_case_against_a_broken_producer(producer, mode, case, words):
    official = oracle.contract_dir() if mode == "oid" else None
    results, doc = suite(producer, f"/broken/{mode}{PATH}", contract_dir=official)
    failed = {r.id: r.failures for r in results if not r.passed}
    assert case in failed, failed
    assert any(words in f for f in failed[case]), failed[case]
    assert doc["summary"]["failed"] == len(failed) > 0
    assert set(doc["summary"]["failedCases"]) == set(failed)
    if official is not None:  # the official constraints.sch names the wrong OID too
        assert any(f.startswith("constraints.sch:") for f in failed["TestCase1"]), failed["TestCase1"]


def test_cli_exit_codes_and_report_files(producer, tmp_path):
    c, ca = producer["consumer"], producer["ca"]
    common = ["--logical-address", LA, "--measure", MEASURES[0], "--start", PERIOD[0], "--end", PERIOD[1],
              "--cert", str(c.cert), "--key", str(c.key), "--ca", str(ca.ca_file)]
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["conformance", "run", producer["base"] + PATH, *common, "--out", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert {p.name for p in (tmp_path / "ok").iterdir()} == {"conformance-report.json", "conformance-report.md", "conformance-report.html",
                                                              "conformance-junit.xml"}
    assert "Manuella steg kvar: 3.1" in ok.output
    bad = runner.invoke(cli_app, ["conformance", "run", producer["base"] + "/broken/checksum" + PATH, *common, "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 1
    assert "2.5" in bad.output and "Underkända testfall" in bad.output
    assert json.loads((tmp_path / "bad" / "conformance-report.json").read_text())["summary"]["failed"] >= 1


def test_cli_rejects_bad_input(producer, tmp_path):
    runner = CliRunner()
    bad_date = runner.invoke(cli_app, ["conformance", "run", producer["base"] + PATH, "--logical-address", LA,
                                       "--measure", "1", "--start", "2024-13-01", "--out", str(tmp_path)])
    assert bad_date.exit_code == 2 and "ÅÅÅÅMMDD" in bad_date.output
    no_dir = runner.invoke(cli_app, ["conformance", "run", producer["base"] + PATH, "--logical-address", LA, "--measure", "1",
                                     "--contract-dir", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert no_dir.exit_code == 2


def test_without_client_certificate_every_case_fails_with_the_transport_error(producer):
    results, _ = run(producer["base"] + PATH, Plan(LA, MEASURES[:1], *PERIOD), ca=producer["ca"].ca_file)
    assert not any(r.passed for r in results)
    assert "inget svar" in results[7].failures[0]  # 2.1


def test_junit_xml_and_manual_steps(producer, tmp_path):
    from lxml import etree

    c, ca = producer["consumer"], producer["ca"]
    common = ["--logical-address", LA, "--measure", MEASURES[0], "--start", PERIOD[0], "--end", PERIOD[1],
              "--cert", str(c.cert), "--key", str(c.key), "--ca", str(ca.ca_file)]
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["conformance", "run", producer["base"] + PATH, *common, "--out", str(tmp_path / "ok"),
                                 "--junit", str(tmp_path / "ci" / "junit.xml"), "--manual", "3.1=Inera ärende INC-4711"])
    assert ok.exit_code == 0, ok.output
    suite = etree.parse(str(tmp_path / "ci" / "junit.xml")).getroot()
    cases = {tc.get("name").split()[0]: tc for tc in suite.iter("testcase")}
    assert set(ORDER) | {"3.1", "1.7-katalog", "E2E"} == set(cases)
    assert suite.get("failures") == "0" and suite.get("tests") == str(len(cases))
    assert cases["3.1"].find("skipped") is None and "INC-4711" in cases["3.1"].findtext("system-out")
    assert cases["E2E"].find("skipped") is not None
    doc = json.loads((tmp_path / "ok" / "conformance-report.json").read_text(encoding="utf-8"))
    step = next(m for m in doc["manualSteps"] if m["id"] == "3.1")
    assert step["done"] and step["note"] == "Inera ärende INC-4711"
    md = (tmp_path / "ok" / "conformance-report.md").read_text(encoding="utf-8")
    assert "| 3.1 |" in md and "genomfört: Inera ärende INC-4711" in md

    bad = runner.invoke(cli_app, ["conformance", "run", producer["base"] + "/broken/checksum" + PATH, *common,
                                  "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 1
    suite = etree.parse(str(tmp_path / "bad" / "conformance-junit.xml")).getroot()
    failing = [tc.get("name").split()[0] for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert "2.5" in failing and suite.get("failures") == str(len(failing))
    unknown = runner.invoke(cli_app, ["conformance", "run", producer["base"] + PATH, *common, "--out", str(tmp_path / "x"),
                                      "--manual", "9.9=något"])
    assert unknown.exit_code == 2 and "okänt manuellt steg" in unknown.output


def test_never_approved_unless_every_automatable_case_ran_and_passed(good_run):
    from indikera.conformance.report import markdown, to_dict

    results, doc = good_run
    assert doc["summary"]["approved"] and doc["summary"]["manualPending"] == ["3.1", "1.7-katalog", "E2E"]
    partial = to_dict([r for r in results if r.id != "2.7"], {"environment": {}, "started": "", "finished": ""})
    assert partial["summary"]["failed"] == 0 and not partial["summary"]["approved"]
    assert partial["summary"]["verdict"] == "UNDERKÄND"
    empty = to_dict([], {"environment": {}, "started": "", "finished": ""})
    assert not empty["summary"]["approved"]
    assert "GODKÄND" not in markdown({**empty, "environment": {}, "clientCertificate": None, "serverCertificate": None}).replace("UNDERKÄND", "")
