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
    return suite(producer, contract_dir=oracle.CONTRACT if oracle.available() else None)


def test_passes_against_the_indikera_producer_with_the_official_package(good_run):
    results, doc = good_run
    assert [r.id for r in results] == list(ORDER)
    assert all(r.passed for r in results), {r.id: r.failures for r in results if not r.passed}
    assert doc["summary"] == {**doc["summary"], "cases": 16, "passed": 16, "failed": 0, "failedCases": []}
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
    official = oracle.CONTRACT if mode == "oid" and oracle.available() else None
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
    assert {p.name for p in (tmp_path / "ok").iterdir()} == {"conformance-report.json", "conformance-report.md", "conformance-report.html"}
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
